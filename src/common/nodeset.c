// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "nodeset.h"

#include <errno.h>
#include <string.h>

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
	guint n = 0;

	g_array_sort(ids, int_cmp);
	for (guint i = 0; i < ids->len; i++)
		if (n == 0 || g_array_index(ids, int, i) != g_array_index(ids, int, n - 1))
			g_array_index(ids, int, n++) = g_array_index(ids, int, i);
	g_array_set_size(ids, n);
}

GArray *vmt_nodeset_parse(const char *text, GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int));
	g_autofree char *copy = NULL;
	g_autofree guint8 *seen = NULL;	/* by id: linear however ranges overlap */
	g_auto(GStrv) parts = NULL;

	if (strlen(text) > VMT_NODESET_MAX_TEXT) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "node or CPU list of %zu characters (at most %d)", strlen(text),
			    VMT_NODESET_MAX_TEXT);
		return NULL;
	}
	copy = g_strstrip(g_strdup(text));
	if (!*copy)
		return g_steal_pointer(&ids);
	seen = g_new0(guint8, VMT_NODESET_MAX);
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
		memset(seen + lo, 1, (gsize)(hi - lo + 1));
	}
	for (int i = 0; i < VMT_NODESET_MAX; i++)
		if (seen[i])
			g_array_append_val(ids, i);
	return g_steal_pointer(&ids);
bad:
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "bad node or CPU list '%.64s%s' (ids 0-%d)", text, strlen(text) > 64 ? "..." : "",
		    VMT_NODESET_MAX - 1);
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

gboolean vmt_nodeset_overlaps(const GArray *a, const GArray *b)
{
	for (guint i = 0; i < a->len; i++)
		if (vmt_nodeset_contains(b, g_array_index(a, int, i)))
			return TRUE;
	return FALSE;
}
