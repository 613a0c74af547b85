// SPDX-License-Identifier: GPL-2.0-or-later
/* hold-mem MIB: map MIB MiB of anonymous memory, lock it (mlock: neither
 * reclaim nor the kernel's demotion may take it away) and hold it until
 * killed.  Run under numactl --membind=NODE it shrinks NODE's free memory to
 * what a benchmark grants, so kernel tiering modes that have no per-guest
 * quota face the same DRAM budget as vmtierd.  Prints "held N MiB" once
 * all of it is resident. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long mib;
	char *end, *p;

	if (argc != 2 || (mib = strtoul(argv[1], &end, 10)) == 0 || *end) {
		fprintf(stderr, "usage: hold-mem MIB\n");
		return 64;
	}
	p = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mlock(p, mib << 20) != 0) {
		fprintf(stderr, "hold-mem: %lu MiB: %s\n", mib, strerror(errno));
		return 1;
	}
	for (unsigned long i = 0; i < mib << 20; i += 4096)
		p[i] = 1;
	printf("held %lu MiB\n", mib);
	fflush(stdout);
	for (;;)
		pause();
}
