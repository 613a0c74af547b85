/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* Access to /sys and /proc under a settable root, so unit tests can point
 * the host layer at trees captured from real hosts (tests/fixtures/host).
 * The root defaults to $VMTIER_HOST_ROOT, else "/".  Only host-layer files
 * (host*.c) use this. */
void vmt_sysfs_set_root(const char *root);
const char *vmt_sysfs_root(void);

/* Absolute path of PATH ("/sys/...") under the root; caller frees. */
char *vmt_sysfs_path(const char *path);
gboolean vmt_sysfs_exists(const char *path);
/* File contents with trailing whitespace removed. */
char *vmt_sysfs_read(const char *path, GError **error);
gboolean vmt_sysfs_read_u64(const char *path, guint64 *out, GError **error);
gboolean vmt_sysfs_read_int(const char *path, int *out, GError **error);
/* Last component of a symlink's target ("kmem" for .../drivers/kmem). */
char *vmt_sysfs_link_name(const char *path);
/* Target of a symlink resolved against the root, as a root-relative path. */
char *vmt_sysfs_resolve(const char *path);
/* Entry names in DIR starting with PREFIX, sorted naturally (node2 < node10). */
GPtrArray *vmt_sysfs_list(const char *dir, const char *prefix);
gboolean vmt_sysfs_write(const char *path, const char *value, GError **error);
