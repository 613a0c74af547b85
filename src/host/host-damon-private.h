/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by host-damon.c (the fvaddr scanner: kdamond 0) and host-damos.c
 * (the paddr offload mode: one kdamond per guest): claimed kdamonds with
 * one context each. */

#include "host-damon.h"

#define VMT_DAMON_ADMIN "/sys/kernel/mm/damon/admin"
#define VMT_DAMON_KDS VMT_DAMON_ADMIN "/kdamonds"
#define VMT_DAMON_KD VMT_DAMON_KDS "/0"
#define VMT_DAMON_CTX VMT_DAMON_KD "/contexts/0"

struct VmtDamon {
	char *marker;
	guint nr;		/* kdamonds vmtierd set up */
	guint leftover;		/* ours still running at claim (a crashed vmtierd's) */
	GArray *targets;	/* scanner: one Target (host-damon.c) per guest */
	guint max_accesses;	/* aggr_us / sample_us */
	guint last_regions;	/* tried regions the last collect read */
	guint last_tries;	/* updates it asked for */
	guint64 last_update_us;	/* how long they took */
	/* offload mode (host-damos.c) */
	guint damos_guests;	/* guests of the last vmt_host_damos_start; 0: none */
	guint cold_aggrs;	/* min age of a cold region, in aggregation intervals */
	guint aggr_us;		/* the aggregation interval of the last start */
};

gboolean vmt_host_damon_write(const char *path, const char *value, GError **error);
G_GNUC_PRINTF(3, 4)
gboolean vmt_host_damon_writef(const char *path, GError **error, const char *fmt, ...);
/* TARGET's (a ".../targets/N" directory) regions: RANGES (VmtRange), in
 * the order given. */
gboolean vmt_host_damon_write_regions(const char *target, const GArray *ranges, GError **error);
/* Turn every kdamond off that is on, when they are still what vmtierd
 * left (G_IO_ERROR_BUSY when someone else took DAMON over: then nothing is
 * touched), and forget D's targets and offloaded guests. */
gboolean vmt_host_damon_turn_off(VmtDamon *d, GError **error);
/* N kdamonds (all off), the marker kept current. */
gboolean vmt_host_damon_set_nr(VmtDamon *d, guint n, GError **error);
/* Turn kdamond I on and name the threads of all running ones in D's marker
 * (claim's ownership check tells our kdamonds from ones someone started
 * after us by them). */
gboolean vmt_host_damon_turn_on(VmtDamon *d, guint i, GError **error);
