// SPDX-License-Identifier: GPL-2.0-or-later
/* Scanner over the seed kernel's /proc/PID/idle_pages (see idle-pages.c). */
#include <gio/gio.h>

#include "host-deadline.h"
#include "host-pagemap.h"
#include "host-scan.h"
#include "idle-pages.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

/* A read of COUNT bytes scans COUNT * 8 pages from the file position, and
 * the kernel refuses fewer than 19 bytes (EPT_IDLE_BUF_MIN). */
#define VA_PER_BYTE (8u * 4096u)
#define READ_MIN 19u
#define READ_MAX (64u * 1024u)

static gboolean scan_range(int fd, const char *path, int pid, const VmtRange *r,
			   const GArray *ranges, guint8 *buf, guint32 *acc, guint32 *seen,
			   GError **error)
{
	guint64 va = r->start, end = r->start + r->len;

	if (lseek(fd, (off_t)va, SEEK_SET) == (off_t)-1) {
		vmt_host_pagemap_io_error(error, path, pid, "seeking in", errno);
		return FALSE;
	}
	/* Each read asks for no more than the rest of the range, so the walk
	 * (which clears accessed bits) stays out of memory that is not ours.
	 * The kernel leaves the file position after the last page it reported,
	 * where the next read carries on. */
	while (va < end) {
		gsize want = (gsize)CLAMP((end - va + VA_PER_BYTE - 1) / VA_PER_BYTE, READ_MIN, READ_MAX);
		ssize_t got;
		guint64 next;

		if (!vmt_host_deadline_check(error))
			return FALSE;
		got = read(fd, buf, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			vmt_host_pagemap_io_error(error, path, pid, "reading", errno);
			return FALSE;
		}
		if (got == 0)
			break;
		if (!vmt_idle_pages_decode(buf, (gsize)got, va, ranges, acc, seen, &next, error)) {
			g_prefix_error(error, "pid %d, read from 0x%" PRIx64 ": ", pid, va);
			return FALSE;
		}
		if (next <= va)
			break;
		va = next;
	}
	return TRUE;
}

gboolean vmt_host_idlepages_collect(int pid, const GArray *ranges, guint16 *freq,
				    gboolean *valid, GError **error)
{
	guint n = 0;
	g_autofree char *path = g_strdup_printf("/proc/%d/idle_pages", pid);
	g_autofree guint32 *acc = NULL, *seen = NULL;
	g_autofree guint8 *buf = NULL;
	int fd;
	gboolean ok;

	if (!vmt_ranges_check(ranges, &n, error))
		return FALSE;
	acc = g_new0(guint32, MAX(n, 1));
	seen = g_new0(guint32, MAX(n, 1));
	buf = g_malloc(READ_MAX);
	fd = vmt_host_pagemap_open(path, O_RDONLY, pid,
				   "the kernel lacks the seed RFC's /proc/PID/idle_pages "
				   "(\"PMEM NUMA node and hotness accounting/migration\", patch 17)",
				   error);
	ok = fd >= 0;

	for (guint k = 0; ok && k < ranges->len; k++)
		ok = scan_range(fd, path, pid, &g_array_index(ranges, VmtRange, k), ranges, buf,
				acc, seen, error);
	if (fd >= 0)
		close(fd);	/* the kernel flushes the TLB on close */
	if (!ok)
		return FALSE;
	for (guint c = 0; c < n; c++)
		freq[c] = vmt_host_pagemap_permille(acc[c], seen[c]);
	*valid = TRUE;
	return TRUE;
}
