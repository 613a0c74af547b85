/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by host-damon.c (the fvaddr scanner) and host-damos.c (the paddr
 * offload mode): one claimed kdamond, kdamond 0, with one context. */

#include "host-damon.h"

#define VMT_DAMON_ADMIN "/sys/kernel/mm/damon/admin"
#define VMT_DAMON_KD VMT_DAMON_ADMIN "/kdamonds/0"
#define VMT_DAMON_CTX VMT_DAMON_KD "/contexts/0"

struct VmtDamon {
	char *marker;
	GArray *targets;	/* scanner: one Target (host-damon.c) per guest */
	guint max_accesses;	/* aggr_us / sample_us */
	/* offload mode (host-damos.c) */
	guint damos_guests;	/* guests of the last vmt_host_damos_start; 0: none */
	guint cold_aggrs;	/* min age of a cold region, in aggregation intervals */
};

gboolean vmt_host_damon_write(const char *path, const char *value, GError **error);
G_GNUC_PRINTF(3, 4)
gboolean vmt_host_damon_writef(const char *path, GError **error, const char *fmt, ...);
/* Turn kdamond 0 off if it is on. */
gboolean vmt_host_damon_turn_off(GError **error);
/* Turn kdamond 0 on and name its thread in D's marker (claim's ownership
 * check tells our kdamond from one someone started after us by it). */
gboolean vmt_host_damon_turn_on(VmtDamon *d, GError **error);
