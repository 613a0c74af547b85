/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* Kernel list syntax ("0-3,8,10-11") for CPUs and NUMA nodes. */

/* Ids are below 8192: Linux's largest NR_CPUS (x86-64 MAXSMP) and 8 times
 * its MAX_NUMNODES (1024).  The longest list of such ids, every other one,
 * is about 20,000 characters; longer text is refused before parsing. */
#define VMT_NODESET_MAX 8192
#define VMT_NODESET_MAX_TEXT 32768

/* Sorted, duplicate-free ids, in time linear in TEXT; NULL with an error
 * naming the bad text. */
GArray *vmt_nodeset_parse(const char *text, GError **error);
/* Canonical kernel syntax; "" for an empty set. */
char *vmt_nodeset_format(const GArray *ids);
gboolean vmt_nodeset_contains(const GArray *ids, int id);
/* Whether A and B share an id. */
gboolean vmt_nodeset_overlaps(const GArray *a, const GArray *b);
/* Sort IDS and drop duplicates, in place. */
void vmt_nodeset_normalize(GArray *ids);
