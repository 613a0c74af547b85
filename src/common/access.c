// SPDX-License-Identifier: GPL-2.0-or-later
/* Chunk numbering over a guest's RAM ranges (see access.h). */
#include "access.h"

static guint range_chunks(const VmtRange *r)
{
	return (guint)((r->len + VMT_CHUNK_SIZE - 1) >> VMT_CHUNK_SHIFT);
}

guint vmt_ranges_n_chunks(const GArray *ranges)
{
	guint n = 0;

	for (guint i = 0; i < ranges->len; i++)
		n += range_chunks(&g_array_index(ranges, VmtRange, i));
	return n;
}

gboolean vmt_ranges_chunk(const GArray *ranges, guint i, guint64 *start, guint64 *len)
{
	for (guint k = 0; k < ranges->len; k++) {
		const VmtRange *r = &g_array_index(ranges, VmtRange, k);
		guint n = range_chunks(r);

		if (i < n) {
			guint64 off = (guint64)i << VMT_CHUNK_SHIFT;

			*start = r->start + off;
			*len = MIN(VMT_CHUNK_SIZE, r->len - off);
			return TRUE;
		}
		i -= n;
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
		base += range_chunks(r);
	}
	return -1;
}
