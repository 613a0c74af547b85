// SPDX-License-Identifier: GPL-2.0-or-later
/* page-nodes PID START LENGTH: count the 4 KiB pages of [START, START+LENGTH)
 * in PID's address space per NUMA node, with move_pages(2) and nodes=NULL
 * (a query; nothing moves).  Prints "node0=N node2=M absent=K" on stdout. */
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4096
#define MAXNODE 64

int main(int argc, char **argv)
{
	unsigned long start, len, npages;
	unsigned long counts[MAXNODE] = { 0 }, absent = 0, other = 0;
	static void *pages[BATCH];
	static int status[BATCH];
	char *end;
	long pid;

	if (argc != 4) {
		fprintf(stderr, "usage: page-nodes PID START LENGTH\n");
		return 64;
	}
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "page-nodes: bad pid '%s'\n", argv[1]);
		return 64;
	}
	start = strtoul(argv[2], &end, 0);
	if (*end || start % 4096) {
		fprintf(stderr, "page-nodes: bad start '%s'\n", argv[2]);
		return 64;
	}
	len = strtoul(argv[3], &end, 0);
	if (*end || len == 0 || len % 4096) {
		fprintf(stderr, "page-nodes: bad length '%s'\n", argv[3]);
		return 64;
	}
	npages = len / 4096;
	for (unsigned long done = 0; done < npages;) {
		unsigned long n = npages - done < BATCH ? npages - done : BATCH;

		for (unsigned long i = 0; i < n; i++)
			pages[i] = (void *)(start + (done + i) * 4096);
		if (move_pages((int)pid, n, pages, NULL, status, 0) < 0) {
			fprintf(stderr, "page-nodes: move_pages(pid %ld): %s\n", pid, strerror(errno));
			return 1;
		}
		for (unsigned long i = 0; i < n; i++) {
			if (status[i] >= 0 && status[i] < MAXNODE)
				counts[status[i]]++;
			else if (status[i] == -ENOENT || status[i] == -EFAULT)
				absent++;
			else
				other++;
		}
		done += n;
	}
	for (int i = 0; i < MAXNODE; i++)
		if (counts[i])
			printf("node%d=%lu ", i, counts[i]);
	printf("absent=%lu", absent);
	if (other)
		printf(" error=%lu", other);
	printf("\n");
	return 0;
}
