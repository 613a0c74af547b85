// SPDX-License-Identifier: GPL-2.0-or-later
/* tlb-flusher PERIOD_US: wake every PERIOD_US microseconds until killed
 * (SIGTERM), doing nothing else.  Pinned to the CPU a nested guest's vCPU
 * thread runs on, every wake-up is a switch to another mm and back: two CR3
 * writes, each a full flush of the test host's TCG software TLB (no PCID
 * under TCG).  That models a hardware TLB whose entries turn over (4 KiB
 * pages, a working set far above its reach) in a test host whose software
 * TLB otherwise holds a 128 MiB hot set for good.  On SIGTERM it prints
 * "tlb-flusher: wakes=N seconds=S per_s=R", what it achieved. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	unsigned long us, wakes = 0;
	struct timespec period;
	char *end;
	double t0;

	if (argc != 2 || (us = strtoul(argv[1], &end, 10)) == 0 || *end || us > 1000000) {
		fprintf(stderr, "tlb-flusher: bad period '%s' (microseconds, 1..1000000)\n",
			argc > 1 ? argv[1] : "");
		return 64;
	}
	period.tv_sec = 0;
	period.tv_nsec = (long)us * 1000;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	t0 = now_s();
	while (!stop) {
		if (nanosleep(&period, NULL) == 0)
			wakes++;
		else if (errno != EINTR)
			break;
	}
	printf("tlb-flusher: wakes=%lu seconds=%.1f per_s=%.0f\n", wakes, now_s() - t0,
	       (double)wakes / (now_s() - t0));
	return 0;
}
