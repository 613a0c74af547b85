// SPDX-License-Identifier: GPL-2.0-or-later
/* soft-dirty scanner (Documentation/admin-guide/mm/soft-dirty.rst). */
#include <gio/gio.h>

#include "host-pagemap.h"
#include "host-scan.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* A page counts as written when it is present and soft-dirty.  Absent
 * entries are left out of the numerator: a VMA created since the last
 * clear_refs marks even its holes soft-dirty (VM_SOFTDIRTY).  The
 * denominator is every page of the chunk, present or not, so a chunk with
 * few pages never looks as busy as a full one. */
static gboolean count_written(guint chunk, guint64 va, const guint64 *entries, guint n,
			      gpointer data, GError **error)
{
	guint16 *freq = data;
	guint written = 0;

	for (guint i = 0; i < n; i++)
		if ((entries[i] & (VMT_PM_PRESENT | VMT_PM_SOFT_DIRTY)) ==
		    (VMT_PM_PRESENT | VMT_PM_SOFT_DIRTY))
			written++;
	freq[chunk] = vmt_host_pagemap_permille(written, n);
	return TRUE;
}

static gboolean clear_soft_dirty(int pid, GError **error)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/clear_refs", pid);
	int fd = vmt_host_pagemap_open(path, O_WRONLY, pid, "the kernel lacks CONFIG_PROC_PAGE_MONITOR",
				       error);
	ssize_t n;

	if (fd < 0)
		return FALSE;
	do
		n = write(fd, "4", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		int e = n < 0 ? errno : EIO;
		close(fd);
		vmt_host_pagemap_io_error(error, path, pid, "writing 4 to", e);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

gboolean vmt_host_softdirty_collect(int pid, const GArray *ranges, guint16 *freq,
				    gboolean *valid, GError **error)
{
	if (!vmt_host_pagemap_walk(pid, ranges, count_written, freq, error) ||
	    !clear_soft_dirty(pid, error))
		return FALSE;
	*valid = TRUE;
	return TRUE;
}
