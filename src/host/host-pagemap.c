// SPDX-License-Identifier: GPL-2.0-or-later
/* pagemap reading and file errors shared by the bitmap scanners. */
#include <gio/gio.h>

#include "host-deadline.h"
#include "error.h"
#include "host-pagemap.h"
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#define PAGE_SHIFT 12
/* 64 chunks: 32768 entries, 256 KiB per pread */
#define BATCH_CHUNKS 64u

static gboolean pid_exists(int pid)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d", pid);

	return vmt_sysfs_exists(dir);
}

static void set_gone(GError **error, int pid)
{
	g_set_error(error, VMT_ERROR, VMT_ERROR_GUEST_GONE, "process %d not found (exited?)", pid);
}

int vmt_host_pagemap_open(const char *path, int flags, int pid, const char *missing,
			  GError **error)
{
	g_autofree char *p = vmt_sysfs_path(path);
	int fd = open(p, flags | O_CLOEXEC);
	int e = errno;

	if (fd >= 0)
		return fd;
	if (pid > 0 && (e == ENOENT || e == ESRCH) && !pid_exists(pid))
		set_gone(error, pid);
	else if (e == ESRCH)
		set_gone(error, pid);
	else if (e == ENOENT)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s does not exist: %s",
			    p, missing);
	else if (e == EACCES || e == EPERM)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
			    "%s: permission denied (run as root)", p);
	else
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot open %s: %s", p,
			    g_strerror(e));
	return -1;
}

void vmt_host_pagemap_io_error(GError **error, const char *path, int pid, const char *op, int e)
{
	g_autofree char *p = vmt_sysfs_path(path);

	if (e == ESRCH && pid > 0)
		set_gone(error, pid);
	else if (e == EACCES || e == EPERM)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
			    "%s %s: permission denied (run as root)", op, p);
	else
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s %s: %s", op, p,
			    g_strerror(e));
}

gboolean vmt_host_pagemap_pread(int fd, void *buf, gsize len, guint64 off, gsize *done,
				const char *path, int pid, GError **error)
{
	gsize got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vmt_host_pagemap_io_error(error, path, pid, "reading", errno);
			return FALSE;
		}
		if (n == 0)
			break;
		got += (gsize)n;
	}
	if (done)
		*done = got;
	return TRUE;
}

gboolean vmt_host_pagemap_pwrite(int fd, const void *buf, gsize len, guint64 off,
				 const char *path, int pid, GError **error)
{
	gsize put = 0;

	while (put < len) {
		ssize_t n = pwrite(fd, (const char *)buf + put, len - put, (off_t)(off + put));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vmt_host_pagemap_io_error(error, path, pid, "writing", n < 0 ? errno : EIO);
			return FALSE;
		}
		put += (gsize)n;
	}
	return TRUE;
}

static guint pages_of(guint64 len)
{
	return (guint)((len + (1u << PAGE_SHIFT) - 1) >> PAGE_SHIFT);
}

/* Chunks [C0, C1) of range R, whose first chunk is number BASE. */
static gboolean walk_batch(int fd, const char *path, int pid, const VmtRange *r, guint base,
			   guint c0, guint c1, guint64 *entries, VmtPagemapFunc func,
			   gpointer data, GError **error)
{
	guint64 lo = r->start + ((guint64)c0 << VMT_CHUNK_SHIFT);
	guint64 hi = MIN(r->start + ((guint64)c1 << VMT_CHUNK_SHIFT), r->start + r->len);
	gsize want = (gsize)pages_of(hi - lo) * sizeof(guint64), got;

	if (!vmt_host_deadline_check(error))
		return FALSE;
	if (!vmt_host_pagemap_pread(fd, entries, want, (lo >> PAGE_SHIFT) * sizeof(guint64), &got,
				    path, pid, error))
		return FALSE;
	/* the kernel's pagemap is only short when the process lost its mm */
	if (got < want) {
		g_autofree char *p = vmt_sysfs_path(path);

		if (!pid_exists(pid))
			set_gone(error, pid);
		else
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "%s: no entry for 0x%" PRIx64 " (short read)", p,
				    lo + ((guint64)(got / sizeof(guint64)) << PAGE_SHIFT));
		return FALSE;
	}
	for (guint c = c0; c < c1; c++) {
		guint64 va = r->start + ((guint64)c << VMT_CHUNK_SHIFT);
		guint n = pages_of(MIN(VMT_CHUNK_SIZE, r->start + r->len - va));

		if (!func(base + c, va, entries + ((va - lo) >> PAGE_SHIFT), n, data, error))
			return FALSE;
	}
	return TRUE;
}

gboolean vmt_host_pagemap_walk(int pid, const GArray *ranges, VmtPagemapFunc func,
			       gpointer data, GError **error)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/pagemap", pid);
	g_autofree guint64 *entries = NULL;
	int fd;
	gboolean ok;
	guint base = 0;

	/* chunk numbers stay below the count callers size their arrays by */
	if (!vmt_ranges_check(ranges, NULL, error))
		return FALSE;
	entries = g_new(guint64, BATCH_CHUNKS * VMT_CHUNK_PAGES);
	fd = vmt_host_pagemap_open(path, O_RDONLY, pid, "the kernel lacks CONFIG_PROC_PAGE_MONITOR",
				   error);
	ok = fd >= 0;
	for (guint k = 0; ok && k < ranges->len; k++) {
		const VmtRange *r = &g_array_index(ranges, VmtRange, k);
		guint n = (guint)vmt_range_n_chunks(r);

		for (guint c = 0; ok && c < n; c += BATCH_CHUNKS)
			ok = walk_batch(fd, path, pid, r, base, c, MIN(n, c + BATCH_CHUNKS), entries,
					func, data, error);
		base += n;
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

guint16 vmt_host_pagemap_permille(guint64 part, guint64 whole)
{
	return whole ? (guint16)(MIN(part, whole) * VMT_ACCESS_MAX / whole) : 0;
}
