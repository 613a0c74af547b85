// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *sysfs_root;

void vmt_sysfs_set_root(const char *root)
{
	g_free(sysfs_root);
	sysfs_root = g_strdup(root);
}

const char *vmt_sysfs_root(void)
{
	if (!sysfs_root) {
		const char *env = g_getenv("VMTIER_HOST_ROOT");
		sysfs_root = g_strdup(env && *env ? env : "/");
	}
	return sysfs_root;
}

char *vmt_sysfs_path(const char *path)
{
	return g_build_filename(vmt_sysfs_root(), path, NULL);
}

gboolean vmt_sysfs_exists(const char *path)
{
	g_autofree char *p = vmt_sysfs_path(path);

	return g_file_test(p, G_FILE_TEST_EXISTS);
}

char *vmt_sysfs_read(const char *path, GError **error)
{
	g_autofree char *p = vmt_sysfs_path(path);
	char *text = NULL;

	if (!g_file_get_contents(p, &text, NULL, error))
		return NULL;
	return g_strchomp(text);
}

gboolean vmt_sysfs_read_u64(const char *path, guint64 *out, GError **error)
{
	g_autofree char *s = vmt_sysfs_read(path, error);
	char *end;

	if (!s)
		return FALSE;
	errno = 0;
	*out = g_ascii_strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: not a number: '%s'", path, s);
		return FALSE;
	}
	return TRUE;
}

gboolean vmt_sysfs_read_int(const char *path, int *out, GError **error)
{
	g_autofree char *s = vmt_sysfs_read(path, error);
	char *end;
	gint64 v;

	if (!s)
		return FALSE;
	errno = 0;
	v = g_ascii_strtoll(s, &end, 10);
	if (errno || end == s || *end || v < G_MININT || v > G_MAXINT) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: not an integer: '%s'", path, s);
		return FALSE;
	}
	*out = (int)v;
	return TRUE;
}

char *vmt_sysfs_link_name(const char *path)
{
	g_autofree char *p = vmt_sysfs_path(path);
	g_autofree char *target = g_file_read_link(p, NULL);

	return target ? g_path_get_basename(target) : NULL;
}

char *vmt_sysfs_resolve(const char *path)
{
	g_autofree char *p = vmt_sysfs_path(path);
	g_autofree char *real = realpath(p, NULL);
	const char *root = vmt_sysfs_root();
	g_autofree char *real_root = realpath(root, NULL);
	gsize n;

	if (!real || !real_root)
		return NULL;
	n = strlen(real_root);
	if (strcmp(real_root, "/") == 0)
		return g_steal_pointer(&real);
	if (strncmp(real, real_root, n) != 0 || (real[n] && real[n] != '/'))
		return NULL;
	return g_strdup(real[n] ? real + n : "/");
}

static gint natural_cmp(gconstpointer a, gconstpointer b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	while (*x && *y) {
		if (g_ascii_isdigit(*x) && g_ascii_isdigit(*y)) {
			guint64 u = g_ascii_strtoull(x, (char **)&x, 10);
			guint64 v = g_ascii_strtoull(y, (char **)&y, 10);
			if (u != v)
				return u < v ? -1 : 1;
		} else if (*x != *y) {
			return (guchar)*x - (guchar)*y;
		} else {
			x++, y++;
		}
	}
	return (guchar)*x - (guchar)*y;
}

GPtrArray *vmt_sysfs_list(const char *dir, const char *prefix)
{
	g_autofree char *p = vmt_sysfs_path(dir);
	g_autoptr(GDir) d = g_dir_open(p, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	if (!d)
		return names;
	while ((name = g_dir_read_name(d)))
		if (g_str_has_prefix(name, prefix))
			g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, natural_cmp);
	return names;
}

gboolean vmt_sysfs_write(const char *path, const char *value, GError **error)
{
	g_autofree char *p = vmt_sysfs_path(path);
	/* O_TRUNC: nothing to sysfs, and a captured tree in tests holds
	 * what was written last, as sysfs would */
	int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	gsize len = strlen(value);
	ssize_t n;

	if (fd < 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
			    "cannot open %s: %s", p, g_strerror(e));
		return FALSE;
	}
	n = write(fd, value, len);
	if (n != (ssize_t)len) {
		int e = n < 0 ? errno : EIO;
		close(fd);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
			    "writing '%s' to %s: %s", value, p, g_strerror(e));
		return FALSE;
	}
	close(fd);
	return TRUE;
}
