// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: QEMU's answers for the guest memory map, as vmtierd turns
 * them into the ranges its scanners walk.  The input is the replies cut
 * by 0x1e bytes: query-memdev's return (JSON), `info mtree -f`, `info
 * numa`, then one gpa2hva reply per backend with guest-physical ranges.
 * Whatever QEMU says, ranges that pass vmt_ranges_check must number their
 * chunks consistently (what sizes the per-chunk arrays). */
#include "access.h"
#include "qmp-memmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* chunks looked at per input: enough to cross ranges, not 2^27 of them */
#define PROBES 64u

static void check_chunks(const GArray *ranges, guint n)
{
	guint64 start, len;

	if (n > VMT_RANGES_MAX_CHUNKS || n != vmt_ranges_n_chunks(ranges) ||
	    vmt_ranges_chunk(ranges, n, &start, &len))
		abort();
	for (guint k = 0; k < MIN(n, PROBES); k++) {
		/* the first chunks, the last ones and some between */
		guint i = k < PROBES / 2 ? k : n - 1 - (guint)((guint64)(k - PROBES / 2) * n / PROBES);

		if (!vmt_ranges_chunk(ranges, i, &start, &len) || len == 0 || len > VMT_CHUNK_SIZE ||
		    vmt_ranges_find(ranges, start) != (gint64)i ||
		    vmt_ranges_find(ranges, start + len - 1) != (gint64)i)
			abort();
	}
}

static void to_ranges(GPtrArray *rams)
{
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	g_autoptr(GError) error = NULL;
	guint n = 0;

	for (guint i = 0; i < rams->len; i++) {
		const VmtGuestRam *r = rams->pdata[i];
		VmtRange range = { r->hva, r->size };

		if (r->hva && r->guest_node >= 0)
			g_array_append_val(ranges, range);
	}
	if (vmt_ranges_check(ranges, &n, &error))
		check_chunks(ranges, n);
	else if (!error || !error->message || !*error->message)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);	/* up to a NUL, as QMP strings are */
	g_auto(GStrv) parts = g_strsplit(text, "\x1e", -1);
	guint n_parts = g_strv_length(parts), next = 3;
	g_autoptr(GPtrArray) rams = NULL;
	g_autoptr(GError) error = NULL;
	json_object *md;

	if (n_parts < 3)
		return 0;
	md = json_tokener_parse(parts[0]);
	rams = md ? vmt_qmp_memmap_from_memdevs(md, &error) : NULL;
	json_object_put(md);
	if (!rams || !vmt_qmp_memmap_add_mtree(rams, parts[1], &error) ||
	    !vmt_qmp_memmap_add_numa(rams, parts[2], &error))
		return 0;
	/* as vmt_qmp_memmap_query: the first range's HVA, minus its offset */
	for (guint i = 0; i < rams->len; i++) {
		VmtGuestRam *r = rams->pdata[i];
		guint64 hva;

		if (!r->ranges->len)
			continue;
		if (next >= n_parts || !vmt_qmp_memmap_parse_gpa2hva(parts[next++], &hva, &error))
			return 0;
		r->hva = hva - g_array_index(r->ranges, VmtGuestRange, 0).offset;
	}
	json_object_put(vmt_qmp_memmap_to_json(rams));
	to_ranges(rams);
	return 0;
}
