/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "access.h"

/* What the bitmap scanners (host-scan.h) share: /proc/PID/pagemap entries
 * per chunk, and one error convention for the files they open (host layer,
 * under the sysfs root). */

/* pagemap entry bits, Documentation/admin-guide/mm/pagemap.rst */
#define VMT_PM_PFN_MASK ((G_GUINT64_CONSTANT(1) << 55) - 1)	/* 0 without CAP_SYS_ADMIN */
#define VMT_PM_SOFT_DIRTY (G_GUINT64_CONSTANT(1) << 55)
#define VMT_PM_EXCLUSIVE (G_GUINT64_CONSTANT(1) << 56)	/* PM_MMAP_EXCLUSIVE */
#define VMT_PM_FILE (G_GUINT64_CONSTANT(1) << 61)	/* file page or shared anon */
#define VMT_PM_SWAP (G_GUINT64_CONSTANT(1) << 62)
#define VMT_PM_PRESENT (G_GUINT64_CONSTANT(1) << 63)

/* open(2) of PATH ("/proc/...", "/sys/...") under the sysfs root.  With PID
 * > 0, PATH belongs to that process: when /proc/PID is gone the error is
 * VMT_ERROR_GUEST_GONE naming the pid.  A missing file is
 * G_IO_ERROR_NOT_SUPPORTED saying MISSING (the kernel feature it needs); no
 * access is G_IO_ERROR_PERMISSION_DENIED naming the file. */
int vmt_host_pagemap_open(const char *path, int flags, int pid, const char *missing,
			  GError **error);

/* The error for a failed OP ("reading", "writing") of PATH with errno E:
 * ESRCH (PID exited meanwhile) is VMT_ERROR_GUEST_GONE naming the pid. */
void vmt_host_pagemap_io_error(GError **error, const char *path, int pid, const char *op, int e);

/* pread/pwrite of exactly LEN bytes at OFF; *DONE (may be NULL) gets what
 * was transferred before end of file.  FALSE with ERROR on an I/O error. */
gboolean vmt_host_pagemap_pread(int fd, void *buf, gsize len, guint64 off, gsize *done,
				const char *path, int pid, GError **error);
gboolean vmt_host_pagemap_pwrite(int fd, const void *buf, gsize len, guint64 off,
				 const char *path, int pid, GError **error);

/* Called once per chunk with its pagemap entries, one per 4 KiB page from
 * VA (a short last chunk has fewer). */
typedef gboolean (*VmtPagemapFunc)(guint chunk, guint64 va, const guint64 *entries, guint n,
				   gpointer data, GError **error);

/* Reads PID's pagemap for RANGES in batches of chunks and calls FUNC for
 * every chunk in order. */
gboolean vmt_host_pagemap_walk(int pid, const GArray *ranges, VmtPagemapFunc func,
			       gpointer data, GError **error);

/* PART of WHOLE in VMT_ACCESS_MAX units, rounded down; 0 when WHOLE is 0. */
guint16 vmt_host_pagemap_permille(guint64 part, guint64 whole);
