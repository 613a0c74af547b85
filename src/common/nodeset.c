// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "nodeset.h"

#include <errno.h>

#define VMT_NODESET_MAX 65536	/* above any real CPU or node id */

static gint int_cmp(gconstpointer a, gconstpointer b)
{
	return *(const int *)a - *(const int *)b;
}

static gboolean parse_id(const char *s, char **end, int *out)
{
	guint64 v;

	if (!g_ascii_isdigit(*s))
		return FALSE;
	errno = 0;
	v = g_ascii_strtoull(s, end, 10);
	if (errno || v >= VMT_NODESET_MAX)
		return FALSE;
	*out = (int)v;
	return TRUE;
}

void vmt_nodeset_normalize(GArray *ids)
{
	g_array_sort(ids, int_cmp);
	for (guint i = 1; i < ids->len;) {
		if (g_array_index(ids, int, i) == g_array_index(ids, int, i - 1))
			g_array_remove_index(ids, i);
		else
			i++;
	}
}

GArray *vmt_nodeset_parse(const char *text, GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int));
	g_autofree char *copy = g_strstrip(g_strdup(text));
	g_auto(GStrv) parts = NULL;

	if (!*copy)
		return g_steal_pointer(&ids);
	parts = g_strsplit(copy, ",", -1);
	for (char **p = parts; *p; p++) {
		char *end;
		int lo, hi;

		if (!parse_id(*p, &end, &lo))
			goto bad;
		hi = lo;
		if (*end == '-' && !parse_id(end + 1, &end, &hi))
			goto bad;
		if (*end || hi < lo)
			goto bad;
		for (int i = lo; i <= hi; i++)
			g_array_append_val(ids, i);
	}
	vmt_nodeset_normalize(ids);
	return g_steal_pointer(&ids);
bad:
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "bad node or CPU list '%s'", text);
	return NULL;
}

char *vmt_nodeset_format(const GArray *ids)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < ids->len;) {
		int lo = g_array_index(ids, int, i), hi = lo;

		while (i + 1 < ids->len && g_array_index(ids, int, i + 1) == hi + 1)
			hi = g_array_index(ids, int, ++i);
		i++;
		g_string_append_printf(s, "%s%d", s->len ? "," : "", lo);
		if (hi > lo)
			g_string_append_printf(s, "-%d", hi);
	}
	return g_string_free(s, FALSE);
}

gboolean vmt_nodeset_contains(const GArray *ids, int id)
{
	for (guint i = 0; i < ids->len; i++)
		if (g_array_index(ids, int, i) == id)
			return TRUE;
	return FALSE;
}
