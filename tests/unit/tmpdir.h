/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

/* A test's scratch directory, removed at the end: tests put plain files
 * there (SQLite stores with their -wal and -shm, configuration files), no
 * subdirectories. */
static inline char *test_tmpdir_new(const char *tmpl)
{
	char *dir = g_dir_make_tmp(tmpl, NULL);

	g_assert_nonnull(dir);
	return dir;
}

static inline void test_tmpdir_remove(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_remove(path);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
	g_free(dir);
}
