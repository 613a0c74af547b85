/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "access.h"

/* The tiering policy of one guest: pure logic, no I/O.
 *
 * Each scan window the daemon feeds the engine every chunk's access
 * frequency (access.h) and where its pages are (pages on the guest's fast
 * tier, pages resident at all).  The engine keeps a decayed heat per chunk
 * and plans moves: the hottest chunks up to the DRAM quota belong in the
 * fast tier, the rest in the slow tier.  Because accessed bits are cleared
 * without a TLB flush, one idle sample proves nothing: a chunk is promoted
 * only after PROMOTE_WINDOWS consecutive hot windows and demoted (outside
 * quota pressure) only after DEMOTE_WINDOWS idle ones; a moved chunk stays
 * put for MIN_RESIDENCY windows; a hot chunk displaces a colder fast one only
 * when its heat exceeds the victim's by HYSTERESIS_PCT. */

typedef enum {
	VMT_TIER_FAST = 0,	/* DRAM */
	VMT_TIER_SLOW = 1,	/* PMEM / CXL / other lower tier */
} VmtTier;

typedef struct {
	guint promote_windows;	/* default 2 */
	guint demote_windows;	/* default 2 */
	guint min_residency;	/* windows, default 4 */
	guint hysteresis_pct;	/* default 25 */
	guint decay_pct;	/* heat kept from one window to the next, default 50 */
	guint hot_threshold;	/* frequency (permille) that counts as hot, default 1 */
} VmtTierParams;

/* Per chunk; small on purpose (see vmt_tier_engine_state_bytes). */
typedef struct {
	guint16 heat;		/* decayed frequency, saturating */
	guint16 heat_long;	/* the same over about 8 windows (displacement) */
	guint16 spread;		/* how far readings stray from heat_long's
				 * mean, on its scale (displacement) */
	guint16 fast_pages;	/* 4 KiB pages on the fast tier */
	guint16 resident_pages;	/* 4 KiB pages present at all */
	guint8 hot_streak;	/* consecutive hot windows, saturating */
	guint8 idle_streak;	/* consecutive idle windows, saturating */
	guint8 since_move;	/* windows since the last move, saturating at 255 */
	guint8 moves;		/* moves so far, saturating: the ping-pong record */
	guint16 last_freq;	/* the last window's reading */
} VmtChunk;

typedef struct {
	guint chunk;
	VmtTier to;
} VmtTierMove;

typedef struct {
	guint64 quota_bytes;
	guint64 fast_bytes, slow_bytes;	/* resident pages per tier */
	guint64 hot_bytes;		/* chunks hot this window */
	guint64 hot_fast_bytes;		/* ... of which on the fast tier */
	/* share of this window's accesses (rates read from its frequencies as
	 * set_exposure says they were sampled, weighted by pages) that fast-tier pages serve in the placement as it
	 * is now, after the window's moves; 1.0 when there were none */
	double fast_access_share;
	gboolean access_seen;		/* some chunk read accessed: the share
					 * above weighs something */
	/* of the hottest chunks that fit in the quota, the share already on
	 * the fast tier: what an oracle placement would reach is 1.0 */
	double hot_coverage;
	guint64 windows;
	guint max_freq;		/* the last window's highest frequency */
} VmtTierStats;

typedef struct VmtTierEngine VmtTierEngine;

void vmt_tier_params_init(VmtTierParams *p);

/* An engine for N_CHUNKS chunks, all placement unknown (0 resident) until
 * set_placement.  PARAMS is copied; NULL means defaults.  Quota starts at 0. */
VmtTierEngine *vmt_tier_engine_new(guint n_chunks, const VmtTierParams *params);
void vmt_tier_engine_free(VmtTierEngine *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtTierEngine, vmt_tier_engine_free)

void vmt_tier_engine_set_quota(VmtTierEngine *e, guint64 quota_bytes);
/* New parameters (a reloaded configuration) from the next window on. */
void vmt_tier_engine_set_params(VmtTierEngine *e, const VmtTierParams *params);
guint64 vmt_tier_engine_quota(const VmtTierEngine *e);
guint vmt_tier_engine_n_chunks(const VmtTierEngine *e);
const VmtChunk *vmt_tier_engine_chunk(const VmtTierEngine *e, guint i);

/* Where chunk I's pages are now (from move_pages or pagemap). */
void vmt_tier_engine_set_placement(VmtTierEngine *e, guint i, guint fast_pages,
				   guint resident_pages);

/* One scan window: FREQ[n_chunks] frequencies (0..VMT_ACCESS_MAX).  Updates
 * heat and streaks and ages since_move. */
void vmt_tier_engine_observe(VmtTierEngine *e, const guint16 *freq);

/* How this window's frequencies were sampled, for reading them as rates
 * in the access share (access-rate.h): vCPU TLB flushes per sample; 0 when
 * not known or not flushed (plain Poisson).  Default 0. */
void vmt_tier_engine_set_exposure(VmtTierEngine *e, double flushes_per_sample);

/* Bytes on the fast tier now (as the placements given say). */
guint64 vmt_tier_engine_fast_bytes(const VmtTierEngine *e);

/* Moves for this window, at most BUDGET_BYTES of resident pages in all
 * (a chunk counts its resident pages): demotions first, then promotions, so
 * that fast_bytes after the moves never exceeds the quota (a quota lowered
 * below fast_bytes is met by demoting the coldest fast chunks, ignoring
 * demote_windows, within the budget).  Returns VmtTierMove. */
GArray *vmt_tier_engine_plan(VmtTierEngine *e, guint64 budget_bytes);
/* Only the demotions that bring fast_bytes down to TARGET_BYTES (at most
 * the quota), coldest first, within BUDGET_BYTES: when something else
 * promotes (the kernel's DAMOS in vmtierd's offload mode), a target below
 * the quota keeps room for it, so hot pages can displace cold ones. */
GArray *vmt_tier_engine_plan_excess(VmtTierEngine *e, guint64 budget_bytes, guint64 target_bytes);

/* A planned move was carried out; the caller then sets the new placement
 * with set_placement.  Resets since_move and counts the move. */
void vmt_tier_engine_moved(VmtTierEngine *e, guint chunk);

void vmt_tier_engine_stats(const VmtTierEngine *e, VmtTierStats *out);

/* The scan interval for the next window (the seed's rule): when the hot set
 * exceeds half the quota, shorten the window by a quarter so fewer chunks
 * look hot; when it is under an eighth, lengthen it by a quarter; clamp to
 * [MIN_MS, MAX_MS]. */
guint vmt_tier_engine_next_interval(const VmtTierEngine *e, guint cur_ms, guint min_ms,
				    guint max_ms);

/* The sample interval for the next windows of a sampling scanner (DAMON
 * with TLB flushes): a chunk's frequency is the share of samples that found
 * it touched, which saturates when a sample is long against the time
 * between its accesses ("touched is not rate").  Ranking needs the chunks
 * where the quota ends unsaturated: when the last chunk the quota holds
 * reads above half the samples, halve the interval; below a tenth (or no
 * chunk ranks), double it; clamp to [MIN_US, MAX_US]. */
guint vmt_tier_engine_next_sample_us(const VmtTierEngine *e, guint cur_us, guint min_us,
				     guint max_us);

/* Bytes of engine state per chunk and in all (for the bytes-per-GiB figure). */
gsize vmt_tier_engine_state_bytes(const VmtTierEngine *e);
