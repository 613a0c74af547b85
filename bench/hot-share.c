// SPDX-License-Identifier: GPL-2.0-or-later
/* hot-share [-n DRAM_NODES] PID uniform|zipf QUOTA_BYTES START LENGTH [START LENGTH]...
 *
 * The share of a tests/guest hot set's accesses that DRAM serves right now,
 * from ground truth: where each 4 KiB page of the hot range [START,
 * START+LENGTH) of PID is (move_pages(2) with nodes=NULL, a query), weighted
 * by how often the guest touches it.  uniform (also shift, over the current
 * window): every page alike.  zipf: the guest draws page floor(u^3 * N) for
 * uniform u, so page i gets ((i+1)/N)^(1/3) - (i/N)^(1/3) of the accesses.
 * The oracle puts the QUOTA_BYTES heaviest pages in DRAM: min(1, Q/N) for
 * uniform, (min(Q,N)/N)^(1/3) for zipf.  Further ranges (the guest's whole
 * RAM) only count the pages on DRAM: the guest's DRAM use.  DRAM_NODES
 * defaults to 0,1.  One process does it all: under nested TCG each process
 * start costs about 100 ms, and the benchmark samples every second.
 * Prints "share=S oracle=O fast_pages=F pages=N absent=A dram_pages=D
 * map=M", M a character per 2 MiB of the hot range from its start (the
 * hottest end for zipf): D mostly on DRAM, . mostly not, - not present. */
#include <errno.h>
#include <math.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ul
#define BATCH 4096ul
#define MAXNODE 64
#define CHUNK_PAGES 512ul

static int dram[MAXNODE];
/* per 2 MiB chunk of the hot range: pages present, pages on DRAM */
static unsigned *chunk_present, *chunk_dram;

static int usage(const char *why, const char *val)
{
	fprintf(stderr, "hot-share: %s '%s'\nusage: hot-share [-n DRAM_NODES] PID uniform|zipf "
		"QUOTA_BYTES START LENGTH [START LENGTH]...\n", why, val);
	return 64;
}

/* share of accesses that fall on pages [0, K) of N */
static double cdf(int zipf, unsigned long k, unsigned long n)
{
	return zipf ? cbrt((double)k / (double)n) : (double)k / (double)n;
}

/* Pages of [START, START+N pages) on DRAM, with their access weight added
 * to *SHARE when SHARE is not NULL; *ABSENT counts pages not present. */
static int query(long pid, unsigned long start, unsigned long n, int zipf, double *share,
		 unsigned long *fast, unsigned long *absent)
{
	static void *pages[BATCH];
	static int status[BATCH];

	for (unsigned long done = 0; done < n;) {
		unsigned long k = n - done < BATCH ? n - done : BATCH;

		for (unsigned long i = 0; i < k; i++)
			pages[i] = (void *)(start + (done + i) * PAGE);
		if (move_pages((int)pid, k, pages, NULL, status, 0) < 0) {
			fprintf(stderr, "hot-share: move_pages(pid %ld): %s\n", pid, strerror(errno));
			return -1;
		}
		for (unsigned long i = 0, p = done; i < k; i++, p++) {
			if (status[i] < 0) {
				(*absent)++;
				continue;
			}
			if (share)
				chunk_present[p / CHUNK_PAGES]++;
			if (status[i] < MAXNODE && dram[status[i]]) {
				(*fast)++;
				if (share) {
					*share += cdf(zipf, p + 1, n) - cdf(zipf, p, n);
					chunk_dram[p / CHUNK_PAGES]++;
				}
			}
		}
		done += k;
	}
	return 0;
}

static int range(const char *s, const char *l, unsigned long *start, unsigned long *len)
{
	char *end;

	*start = strtoul(s, &end, 0);
	if (*end || *start % PAGE)
		return usage("bad start", s);
	*len = strtoul(l, &end, 0);
	if (*end || *len == 0 || *len % PAGE)
		return usage("bad length", l);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long start, len, n, chunks, quota, fast = 0, absent = 0, dram_pages = 0, ignored = 0;
	char dram_nodes[] = "0,1", *nodes = dram_nodes, *end, *tok;
	double share = 0;
	int zipf, rc;
	long pid;

	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		nodes = argv[2];
		argc -= 2, argv += 2;
	}
	for (tok = strtok(nodes, ","); tok; tok = strtok(NULL, ",")) {
		long node = strtol(tok, &end, 10);

		if (*end || node < 0 || node >= MAXNODE)
			return usage("bad node", tok);
		dram[node] = 1;
	}
	if (argc < 6 || argc % 2)
		return usage("wrong number of arguments", argc > 1 ? argv[1] : "");
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0)
		return usage("bad pid", argv[1]);
	if (strcmp(argv[2], "uniform") != 0 && strcmp(argv[2], "zipf") != 0)
		return usage("unknown pattern", argv[2]);
	zipf = strcmp(argv[2], "zipf") == 0;
	quota = strtoul(argv[3], &end, 0);
	if (*end)
		return usage("bad quota", argv[3]);
	if ((rc = range(argv[4], argv[5], &start, &len)))
		return rc;
	n = len / PAGE;
	chunks = (n + CHUNK_PAGES - 1) / CHUNK_PAGES;
	chunk_present = calloc(chunks, sizeof(*chunk_present));
	chunk_dram = calloc(chunks, sizeof(*chunk_dram));
	if (!chunk_present || !chunk_dram || query(pid, start, n, zipf, &share, &fast, &absent))
		return 1;
	for (int a = 6; a < argc; a += 2) {
		unsigned long s, l;

		if ((rc = range(argv[a], argv[a + 1], &s, &l)) || query(pid, s, l / PAGE, 0, NULL, &dram_pages, &ignored))
			return rc ? rc : 1;
	}
	printf("share=%.4f oracle=%.4f fast_pages=%lu pages=%lu absent=%lu dram_pages=%lu map=", share,
	       cdf(zipf, quota / PAGE < n ? quota / PAGE : n, n), fast, n, absent, dram_pages);
	for (unsigned long c = 0; c < chunks; c++)
		putchar(!chunk_present[c] ? '-' : chunk_dram[c] * 2 > chunk_present[c] ? 'D' : '.');
	putchar('\n');
	free(chunk_present);
	free(chunk_dram);
	return 0;
}
