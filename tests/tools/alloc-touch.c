// SPDX-License-Identifier: GPL-2.0-or-later
/* alloc-touch MIB: map MIB MiB of anonymous memory and write every page,
 * under whatever memory policy the caller set (numactl).  Prints
 * "touched N MiB" and exits 0 when all of it was faulted in; being
 * OOM-killed is the failure the spill test looks for. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	unsigned long mib, i;
	char *end, *p;

	if (argc != 2 || (mib = strtoul(argv[1], &end, 10)) == 0 || *end) {
		fprintf(stderr, "usage: alloc-touch MIB\n");
		return 64;
	}
	p = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("alloc-touch: mmap");
		return 1;
	}
	for (i = 0; i < mib << 20; i += 4096)
		p[i] = 1;
	printf("touched %lu MiB\n", mib);
	return 0;
}
