/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

/* A test's scratch directory, removed at the end with whatever it holds
 * (SQLite stores with their -wal and -shm, configuration files, captured
 * host trees); symbolic links are removed, not followed. */
static inline char *test_tmpdir_new(const char *tmpl)
{
	char *dir = g_dir_make_tmp(tmpl, NULL);

	g_assert_nonnull(dir);
	return dir;
}

static inline void test_tree_remove(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			test_tree_remove(p);
		else
			g_unlink(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(path);
}

static inline void test_tmpdir_remove(char *dir)
{
	test_tree_remove(dir);
	g_free(dir);
}
