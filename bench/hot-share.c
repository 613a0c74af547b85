// SPDX-License-Identifier: GPL-2.0-or-later
/* hot-share [-n DRAM_NODES] PID PATTERN QUOTA_BYTES START LENGTH [START LENGTH]...
 *
 * The share of a tests/guest hot set's accesses that DRAM serves right now,
 * from ground truth: where each 4 KiB page of the hot range [START,
 * START+LENGTH) of PID is (move_pages(2) with nodes=NULL, a query), weighted
 * by the share of the guest's accesses that page gets (tests/guest/guest.c
 * documents each pattern's exact distribution):
 *   uniform (also shift, over the current window): every page alike;
 *   zipf, zipfK (K 1..8, zipf = zipf3): the guest draws page floor(u^K * N)
 *     for uniform u, so page i gets ((i+1)/N)^(1/K) - (i/N)^(1/K);
 *   two:LEN1:OFF2:RATIO: pattern=two with its first range the first LEN1
 *     bytes and its second from byte OFF2 to LENGTH, each page of the first
 *     RATIO times as hot as each of the second; the gap between is cold.
 * The oracle puts the QUOTA_BYTES heaviest pages in DRAM (the best any
 * placement of that many bytes can do).  Further ranges (the guest's whole
 * RAM) only count the pages on DRAM: the guest's DRAM use.  DRAM_NODES
 * defaults to 0,1.  One process does it all: under nested TCG each process
 * start costs about 100 ms, and the benchmark samples every second.
 * Prints "share=S oracle=O fast_pages=F pages=N absent=A dram_pages=D
 * hot_pages=H hot_fast=HF map=M" (H: pages the guest touches at all, HF
 * those on DRAM), M a character per 2 MiB of the hot range from its start
 * (the hottest end for zipf): D mostly on DRAM, . mostly not, - not present. */
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
	fprintf(stderr, "hot-share: %s '%s'\nusage: hot-share [-n DRAM_NODES] PID "
		"uniform|zipf[K]|two:LEN1:OFF2:RATIO QUOTA_BYTES START LENGTH [START LENGTH]...\n",
		why, val);
	return 64;
}

/* Each page's share of the accesses, for N pages of PATTERN: NULL and a
 * message if PATTERN is not one of the above (or does not fit N pages). */
static double *weights(const char *pattern, unsigned long n)
{
	double *w = calloc(n, sizeof(*w));
	unsigned long k, len1, off2, ratio;
	char *end;

	if (!w)
		return NULL;
	if (strcmp(pattern, "uniform") == 0) {
		for (unsigned long i = 0; i < n; i++)
			w[i] = 1.0 / (double)n;
		return w;
	}
	if (strncmp(pattern, "zipf", 4) == 0) {
		k = pattern[4] ? strtoul(pattern + 4, &end, 10) : 3;
		if (pattern[4] && (*end || k < 1 || k > 8))
			goto bad;
		for (unsigned long i = 0; i < n; i++)
			w[i] = pow((double)(i + 1) / (double)n, 1.0 / (double)k) -
			       pow((double)i / (double)n, 1.0 / (double)k);
		return w;
	}
	if (strncmp(pattern, "two:", 4) == 0) {
		len1 = strtoul(pattern + 4, &end, 0) / PAGE;
		if (*end != ':')
			goto bad;
		off2 = strtoul(end + 1, &end, 0) / PAGE;
		if (*end != ':')
			goto bad;
		ratio = strtoul(end + 1, &end, 10);
		if (*end || len1 == 0 || len1 > off2 || off2 >= n || ratio < 1)
			goto bad;
		for (unsigned long i = 0; i < n; i++)
			w[i] = i < len1 ? (double)ratio : i >= off2 ? 1.0 : 0.0;
		for (unsigned long i = 0; i < n; i++)
			w[i] /= (double)(ratio * len1 + (n - off2));
		return w;
	}
bad:
	free(w);
	usage("unknown pattern, or it does not fit the range", pattern);
	return NULL;
}

static int heavier_first(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The oracle: the share of the Q heaviest of N pages */
static double oracle(const double *w, unsigned long n, unsigned long q)
{
	double *s = malloc(n * sizeof(*s)), sum = 0;

	if (!s)
		return -1;
	memcpy(s, w, n * sizeof(*s));
	qsort(s, n, sizeof(*s), heavier_first);
	for (unsigned long i = 0; i < q && i < n; i++)
		sum += s[i];
	free(s);
	return sum;
}

/* Pages of [START, START+N pages) on DRAM, with their access weight W[i]
 * added to *SHARE when W is not NULL; *ABSENT counts pages not present. */
static unsigned long hot_pages, hot_fast;
static int query(long pid, unsigned long start, unsigned long n, const double *w, double *share,
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
			if (w)
				chunk_present[p / CHUNK_PAGES]++;
			if (status[i] < MAXNODE && dram[status[i]]) {
				(*fast)++;
				if (w) {
					*share += w[p];
					chunk_dram[p / CHUNK_PAGES]++;
					hot_fast += w[p] > 0;
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
	double share = 0, *w;
	int rc;
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
	quota = strtoul(argv[3], &end, 0);
	if (*end)
		return usage("bad quota", argv[3]);
	if ((rc = range(argv[4], argv[5], &start, &len)))
		return rc;
	n = len / PAGE;
	chunks = (n + CHUNK_PAGES - 1) / CHUNK_PAGES;
	chunk_present = calloc(chunks, sizeof(*chunk_present));
	chunk_dram = calloc(chunks, sizeof(*chunk_dram));
	if (!(w = weights(argv[2], n)))
		return 64;
	for (unsigned long i = 0; i < n; i++)
		hot_pages += w[i] > 0;
	if (!chunk_present || !chunk_dram || query(pid, start, n, w, &share, &fast, &absent))
		return 1;
	for (int a = 6; a < argc; a += 2) {
		unsigned long s, l;

		if ((rc = range(argv[a], argv[a + 1], &s, &l)) || query(pid, s, l / PAGE, NULL, NULL, &dram_pages, &ignored))
			return rc ? rc : 1;
	}
	printf("share=%.4f oracle=%.4f fast_pages=%lu pages=%lu absent=%lu dram_pages=%lu "
	       "hot_pages=%lu hot_fast=%lu map=", share, oracle(w, n, quota / PAGE), fast, n, absent,
	       dram_pages, hot_pages, hot_fast);
	for (unsigned long c = 0; c < chunks; c++)
		putchar(!chunk_present[c] ? '-' : chunk_dram[c] * 2 > chunk_present[c] ? 'D' : '.');
	putchar('\n');
	free(chunk_present);
	free(chunk_dram);
	free(w);
	return 0;
}
