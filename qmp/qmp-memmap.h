/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "qmp-client.h"

/* The guest RAM map of one QEMU: for each memory backend, its guest NUMA
 * node, guest-physical ranges, and host virtual address in QEMU.  Built from
 * query-memdev, `info mtree -f`, `info numa` and `gpa2hva` (QEMU 7.2 has no
 * HVA column in `info ramblock`).  Inconsistent answers are errors. */

typedef struct {
	guint64 gpa, size;
	guint64 offset;		/* where the range starts inside the backend */
} VmtGuestRange;

typedef struct {
	char *memdev;		/* backend id */
	int guest_node;		/* -1: not a NUMA node's boot RAM */
	guint64 size;
	char *policy;		/* QEMU's: default, bind, preferred, interleave */
	GArray *host_nodes;	/* int */
	GArray *ranges;		/* VmtGuestRange, by gpa */
	guint64 hva;		/* address of backend offset 0 in QEMU, 0 if unmapped */
} VmtGuestRam;

void vmt_guest_ram_free(VmtGuestRam *r);

/* Pure parsers, one per source (unit-tested on recorded replies). */
GPtrArray *vmt_qmp_memmap_from_memdevs(json_object *query_memdev, GError **error);
gboolean vmt_qmp_memmap_add_mtree(GPtrArray *rams, const char *mtree_f, GError **error);
gboolean vmt_qmp_memmap_add_numa(GPtrArray *rams, const char *info_numa, GError **error);
gboolean vmt_qmp_memmap_parse_gpa2hva(const char *text, guint64 *hva, GError **error);

/* All of the above over a connected client (synchronous). */
GPtrArray *vmt_qmp_memmap_query(VmtQmpClient *c, guint timeout_ms, GError **error);

/* Stable JSON: [{"memdev", "guest_node", "size_bytes", "policy",
 * "host_nodes", "hva", "ranges": [{"gpa", "size_bytes", "offset"}]}]. */
json_object *vmt_qmp_memmap_to_json(GPtrArray *rams);
