/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* Kernel list syntax ("0-3,8,10-11") for CPUs and NUMA nodes. */

/* Sorted, duplicate-free ids; NULL with an error naming the bad text. */
GArray *vmt_nodeset_parse(const char *text, GError **error);
/* Canonical kernel syntax; "" for an empty set. */
char *vmt_nodeset_format(const GArray *ids);
gboolean vmt_nodeset_contains(const GArray *ids, int id);
/* Sort IDS and drop duplicates, in place. */
void vmt_nodeset_normalize(GArray *ids);
