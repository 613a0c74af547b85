// SPDX-License-Identifier: GPL-2.0-or-later
/* Chunk numbering over a guest's RAM ranges (see access.h). */
#include <gio/gio.h>

#include "access.h"

#include <inttypes.h>

guint64 vmt_range_n_chunks(const VmtRange *r)
{
	/* not (len + size - 1) >> shift: that wraps for a len near 2^64 */
	return (r->len >> VMT_CHUNK_SHIFT) + ((r->len & (VMT_CHUNK_SIZE - 1)) != 0);
}

static gint by_start(gconstpointer a, gconstpointer b)
{
	const VmtRange *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

gboolean vmt_ranges_check(const GArray *ranges, guint *n_chunks, GError **error)
{
	g_autoptr(GArray) sorted = NULL;
	guint64 n = 0;

	if (ranges->len > VMT_RANGES_MAX) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%u RAM ranges (at most %u)", ranges->len, VMT_RANGES_MAX);
		return FALSE;
	}
	for (guint k = 0; k < ranges->len; k++) {
		const VmtRange *r = &g_array_index(ranges, VmtRange, k);

		if (r->len == 0 || r->start + r->len < r->start) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "RAM range 0x%" PRIx64 "+0x%" PRIx64 " is empty or wraps around",
				    r->start, r->len);
			return FALSE;
		}
		/* each term is below 2^43 and there are at most 64: no wrap */
		n += vmt_range_n_chunks(r);
		if (n > VMT_RANGES_MAX_CHUNKS) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "RAM ranges of over %" G_GUINT64_FORMAT " chunks (%" G_GUINT64_FORMAT
				    " TiB)", VMT_RANGES_MAX_CHUNKS,
				    (VMT_RANGES_MAX_CHUNKS << VMT_CHUNK_SHIFT) >> 40);
			return FALSE;
		}
	}
	sorted = g_array_copy((GArray *)ranges);
	g_array_sort(sorted, by_start);
	for (guint k = 1; k < sorted->len; k++) {
		const VmtRange *a = &g_array_index(sorted, VmtRange, k - 1);
		const VmtRange *b = &g_array_index(sorted, VmtRange, k);

		if (a->start + a->len > b->start) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "RAM ranges 0x%" PRIx64 "+0x%" PRIx64 " and 0x%" PRIx64 "+0x%" PRIx64
				    " overlap", a->start, a->len, b->start, b->len);
			return FALSE;
		}
	}
	if (n_chunks)
		*n_chunks = (guint)n;
	return TRUE;
}

guint vmt_ranges_n_chunks(const GArray *ranges)
{
	guint n = 0;

	return vmt_ranges_check(ranges, &n, NULL) ? n : 0;
}

gboolean vmt_ranges_chunk(const GArray *ranges, guint i, guint64 *start, guint64 *len)
{
	for (guint k = 0; k < ranges->len; k++) {
		const VmtRange *r = &g_array_index(ranges, VmtRange, k);
		guint64 n = vmt_range_n_chunks(r);

		if (i < n) {
			guint64 off = (guint64)i << VMT_CHUNK_SHIFT;

			*start = r->start + off;
			*len = MIN(VMT_CHUNK_SIZE, r->len - off);
			return TRUE;
		}
		i -= (guint)n;
	}
	return FALSE;
}

gint64 vmt_ranges_find(const GArray *ranges, guint64 addr)
{
	gint64 base = 0;

	for (guint k = 0; k < ranges->len; k++) {
		const VmtRange *r = &g_array_index(ranges, VmtRange, k);

		if (addr >= r->start && addr - r->start < r->len)
			return base + (gint64)((addr - r->start) >> VMT_CHUNK_SHIFT);
		base += (gint64)vmt_range_n_chunks(r);
	}
	return -1;
}
