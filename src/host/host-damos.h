/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host-damon.h"

/* The kernel offload mode (vmtierd.conf offload=damos): DAMOS migrate_hot
 * and migrate_cold (Linux 6.11+) move the guests' pages, vmtierd steers
 * them.  On 6.12 these actions exist only for physical-address monitoring,
 * so pages are told apart per guest by memory cgroup:
 *
 * Kdamonds claimed with ops "paddr" (host-damon.h: same ownership rules
 * and marker), one per guest: a DAMOS action resets the age of every
 * region it tries, memcg-filtered or not, so guests sharing a context
 * would starve each other's cold scheme.  Kdamond I has one context, one
 * target whose regions are the physical ranges of the DRAM and slow nodes
 * of all the guests, and two schemes (numbered 2I and 2I+1 below):
 *   2I    migrate_hot to the guest's DRAM node: regions accessed at least
 *         once in the last aggregation interval, of the guest's memcg, not
 *         already on a DRAM node (address filters);
 *   2I+1  migrate_cold to the guest's slow node: regions idle for at least
 *         COLD_AGGRS aggregation intervals, of the guest's memcg, not
 *         already on a slow node, with no byte limit.
 * The promotion quota is bytes per window, set by vmt_host_damos_steer
 * from the guest's DRAM use against its quota (the per-memcg quota goals that would let the kernel do this alone came
 * after 6.12).  A DRAM use over the quota (a hot set bigger than it, a
 * lowered quota) is vmtierd's to demote (down to a margin below the quota,
 * so the kernel has room to promote): on 6.12 a quota is charged with
 * the size of every region a scheme tries, other memcgs' pages and free
 * memory included (the memcg filter works page by page, below the quota),
 * and the coldest regions tried first are free memory, so a demotion quota
 * would never reach the guest.  For promotion it bounds the physical memory
 * tried per window, so at most that much moves: vmt_host_damos_stats says
 * what did.  A committed quota takes effect when its charge window renews
 * (its reset interval), so steer renews it at once and then makes the
 * charge window one that never renews by itself: when vmtierd dies (kill -9, a crash), DAMOS promotes
 * at most what is left of the window's budget and then nothing (DRAM use
 * stays within the quota), and demotes cold pages as before.  A clean exit
 * turns the kdamonds off (vmt_host_damon_release), and so does the next
 * claim when it finds them left by an earlier vmtierd. */

/* the smallest quota a scheme ever has: 0 would mean no limit */
#define VMT_DAMOS_MIN_QUOTA 4096

typedef struct {
	const char *memcg;	/* cgroup v2 path the guest's memory is charged
				 * to, as vmt_host_proc_memcg gives it */
	int dram_node, slow_node;
} VmtDamosGuest;

typedef struct {
	guint64 promote_bytes;	/* this window; 0: promote nothing */
	gboolean demote_cold;	/* demote its cold pages (no byte limit) */
} VmtDamosSteer;

/* (Re)configure for GUESTS (N 0: just turn off) and turn on.  DRAM_NODES
 * and SLOW_NODES (int) are the nodes whose physical memory is monitored:
 * at least the guests' nodes.  Starts with nothing steered (both quotas of
 * every guest at 0: nothing moves until the first steer). */
gboolean vmt_host_damos_start(VmtDamon *d, const VmtDamosGuest *guests, guint n,
			      const GArray *dram_nodes, const GArray *slow_nodes, guint sample_us,
			      guint aggr_us, guint window_ms, guint cold_aggrs,
			      GError **error);

/* Apply STEER[i] to guest I's schemes, with the window (the cold quota's
 * reset interval) and cold age of now (online commits: blocks for up to
 * about two aggregation intervals per guest and two more when any guest
 * promotes; run it off the main loop).  N must be the N of the last start. */
gboolean vmt_host_damos_steer(VmtDamon *d, const VmtDamosSteer *steer, guint n, guint window_ms,
			      guint cold_aggrs, GError **error);

/* Bytes the kernel migrated for each guest since the last start:
 * PROMOTED[i], DEMOTED[i] (the schemes' sz_applied, after
 * update_schemes_stats; blocks like steer). */
gboolean vmt_host_damos_stats(VmtDamon *d, guint64 *promoted, guint64 *demoted, guint n,
			      GError **error);
