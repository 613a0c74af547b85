/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "access.h"

/* DAMON (sysfs) as a page-access scanner for several processes at once.
 *
 * One kdamond, one context with operations "fvaddr" (fixed virtual address
 * ranges: plain "vaddr" would replace our ranges with the process's three
 * biggest mappings), one target per guest whose regions are the guest's
 * chunks (access.h; several chunks per region for guests over
 * VMT_DAMON_MAX_REGIONS chunks), and per target a "stat" scheme matching
 * every region with a damon_target filter, so that scheme I's tried regions
 * are target I's.  min/max nr_regions pin the regions so DAMON does not
 * split or merge them.  On KVM, DAMON's young-bit checks reach the EPT/NPT
 * accessed bits through the MMU notifier.
 *
 * vmtier never touches a kdamond it did not create: claiming fails with
 * G_IO_ERROR_BUSY when DAMON sysfs has kdamonds unless the marker file says
 * they are ours (from a previous run of the daemon, e.g. after kill -9: the
 * same number of kdamonds, every running one a thread vmtierd started).
 * Every later restart, collect and release checks that again, and fails
 * with G_IO_ERROR_BUSY, touching nothing, once someone else has turned
 * ours off and set up their own. */

#define VMT_DAMON_MAX_REGIONS 4096

typedef struct {
	int pid;
	const GArray *ranges;	/* VmtRange */
} VmtDamonTarget;

typedef struct VmtDamon VmtDamon;

/* OPS: "fvaddr" for scanning (below), "paddr" for the offload mode
 * (host-damos.h). */
VmtDamon *vmt_host_damon_claim(const char *marker_path, const char *ops, GError **error);
/* Turn the kdamond off, remove it and the marker (only the marker when
 * someone else took DAMON over). */
void vmt_host_damon_release(VmtDamon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtDamon, vmt_host_damon_release)

/* (Re)configure for TARGETS and turn monitoring on (off first if running).
 * N 0: just turn off. */
gboolean vmt_host_damon_start(VmtDamon *d, const VmtDamonTarget *targets, guint n,
			      guint sample_us, guint aggr_us, GError **error);
/* Blocks for one aggregation (as long as the kdamond takes for it) and at
 * most VMT_DAMON_UPDATE_TRIES * 2 aggregation intervals (run it off the
 * main loop).  FREQS[i] (N_CHUNKS[i] entries) gets target I's per-chunk
 * frequency (access.h) over the last aggregation interval.  The N guests
 * must be the targets of the last start, in order, or it fails. */
gboolean vmt_host_damon_collect(VmtDamon *d, guint16 *const *freqs, const guint *n_chunks, guint n,
				GError **error);
/* Updates a collect asks for at most while DAMON's end empty (its own
 * timeout of two aggregation intervals, before an aggregation ended): a
 * kdamond whose aggregation takes up to about 2 * 4 intervals of the
 * clock is still read. */
#define VMT_DAMON_UPDATE_TRIES 4
/* What the last collect saw: how many regions DAMON returned (0: no
 * aggregation ended in its TRIES updates), and how long they took. */
void vmt_host_damon_last_update(VmtDamon *d, guint *regions, guint *tries, guint64 *us);
gboolean vmt_host_damon_running(VmtDamon *d);
/* How many kdamonds an earlier vmtierd left running (killed, crashed) the
 * claim found and turned off before anything else. */
guint vmt_host_damon_leftover(VmtDamon *d);
