// SPDX-License-Identifier: GPL-2.0-or-later
/* The tiering policy (tier-engine.h): decayed heat per chunk, a target set
 * (the hottest chunks that fit in the quota) and per-window move plans.
 *
 * Placement arithmetic is page-precise: fast_bytes counts fast_pages of
 * every chunk.  A chunk is "fast" for decisions when at least half of its
 * resident pages are; moves are whole chunks, so a demotion frees its
 * fast_pages and a promotion takes its resident - fast_pages, while the
 * budget is charged the chunk's resident pages either way (the header's
 * rule, and an upper bound on what move_pages touches). */
#include "tier-engine.h"

#include "access-rate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT 12

struct VmtTierEngine {
	VmtTierParams p;
	guint n;
	guint64 quota;
	guint64 windows;
	guint max_freq;
	VmtChunk *chunks;
	double flushes_per_sample;	/* how readings become rates (access-rate.h) */
};

void vmt_tier_params_init(VmtTierParams *p)
{
	*p = (VmtTierParams){
		.promote_windows = 2,
		.demote_windows = 2,
		.min_residency = 4,
		.hysteresis_pct = 25,
		.decay_pct = 50,
		.hot_threshold = 1,
	};
}

void vmt_tier_engine_set_params(VmtTierEngine *e, const VmtTierParams *params)
{
	if (params)
		e->p = *params;
	else
		vmt_tier_params_init(&e->p);
	/* streaks and since_move saturate at 255, so larger counts could never
	 * be reached; heat kept above 100% would grow without accesses */
	e->p.promote_windows = MIN(e->p.promote_windows, G_MAXUINT8);
	e->p.demote_windows = MIN(e->p.demote_windows, G_MAXUINT8);
	e->p.min_residency = MIN(e->p.min_residency, G_MAXUINT8);
	e->p.decay_pct = MIN(e->p.decay_pct, 100);
}

VmtTierEngine *vmt_tier_engine_new(guint n_chunks, const VmtTierParams *params)
{
	VmtTierEngine *e = g_new0(VmtTierEngine, 1);

	vmt_tier_engine_set_params(e, params);
	e->n = n_chunks;
	e->chunks = g_new0(VmtChunk, n_chunks);
	/* never moved: no residency to wait out */
	for (guint i = 0; i < n_chunks; i++)
		e->chunks[i].since_move = G_MAXUINT8;
	return e;
}

void vmt_tier_engine_free(VmtTierEngine *e)
{
	if (!e)
		return;
	g_free(e->chunks);
	g_free(e);
}

void vmt_tier_engine_set_quota(VmtTierEngine *e, guint64 quota_bytes)
{
	e->quota = quota_bytes;
}

guint64 vmt_tier_engine_quota(const VmtTierEngine *e)
{
	return e->quota;
}

guint vmt_tier_engine_n_chunks(const VmtTierEngine *e)
{
	return e->n;
}

const VmtChunk *vmt_tier_engine_chunk(const VmtTierEngine *e, guint i)
{
	g_return_val_if_fail(i < e->n, NULL);
	return &e->chunks[i];
}

void vmt_tier_engine_set_placement(VmtTierEngine *e, guint i, guint fast_pages,
				   guint resident_pages)
{
	g_return_if_fail(i < e->n);
	g_return_if_fail(fast_pages <= resident_pages && resident_pages <= VMT_CHUNK_PAGES);
	e->chunks[i].fast_pages = (guint16)fast_pages;
	e->chunks[i].resident_pages = (guint16)resident_pages;
}

static guint8 sat_inc(guint8 v)
{
	return v == G_MAXUINT8 ? v : v + 1;
}

void vmt_tier_engine_set_exposure(VmtTierEngine *e, double flushes_per_sample)
{
	e->flushes_per_sample = flushes_per_sample > 0 && isfinite(flushes_per_sample) ?
				flushes_per_sample : 0;
}

void vmt_tier_engine_observe(VmtTierEngine *e, const guint16 *freq)
{
	/* the weight of the readings in heat_long so far: its mean is
	 * heat_long / weight (8 once long observed, less before) */
	double weight = 8 * (1 - pow(7.0 / 8, (double)MIN(e->windows, 1000)));

	for (guint i = 0; i < e->n; i++) {
		VmtChunk *c = &e->chunks[i];
		guint f = MIN(freq[i], VMT_ACCESS_MAX);
		guint64 heat = (guint64)c->heat * e->p.decay_pct / 100 + f;

		c->heat = (guint16)MIN(heat, G_MAXUINT16);
		/* the reading's distance from the long mean, averaged as
		 * heat_long is: its scale */
		heat = (guint64)c->spread * 7 / 8 +
		       (guint64)(e->windows ? fabs(f - c->heat_long / weight) : 0);
		c->spread = (guint16)MIN(heat, G_MAXUINT16);
		heat = (guint64)c->heat_long * 7 / 8 + f;
		c->heat_long = (guint16)MIN(heat, G_MAXUINT16);
		/* a window between idle and hot breaks both streaks */
		c->hot_streak = f > 0 && f >= e->p.hot_threshold ? sat_inc(c->hot_streak) : 0;
		c->idle_streak = f == 0 ? sat_inc(c->idle_streak) : 0;
		c->since_move = sat_inc(c->since_move);
		c->last_freq = (guint16)f;
	}
	e->max_freq = 0;
	for (guint i = 0; i < e->n; i++)
		e->max_freq = MAX(e->max_freq, MIN(freq[i], VMT_ACCESS_MAX));
	e->windows++;
}

void vmt_tier_engine_moved(VmtTierEngine *e, guint chunk)
{
	g_return_if_fail(chunk < e->n);
	e->chunks[chunk].since_move = 0;
	e->chunks[chunk].moves = sat_inc(e->chunks[chunk].moves);
}

static gboolean chunk_fast(const VmtChunk *c)
{
	return c->resident_pages > 0 && (guint)c->fast_pages * 2 >= c->resident_pages;
}

static guint64 pages_bytes(guint pages)
{
	return (guint64)pages << PAGE_SHIFT;
}

/* The ranking: resident chunks hottest first, as one sortable key each.
 * Equal heat: a fast chunk first (so a tie never moves anything), then the
 * shorter idle streak, then the lower index.  The target set is the prefix
 * with heat > 0 whose resident bytes fit in the quota; read backwards the
 * ranking is the coldest-first order demotions walk. */
typedef struct {
	guint64 *key;
	guint len;
	guint n_target;
} Ranking;

/* A chunk confirmed idle ranks as cold, whatever heat it has left: heat
 * only halves each window, so a hot set that just moved on kept its place
 * in the target set until its heat fell below what competed for it (2-4
 * windows of 2 s in a replayed 4 KiB shift), and the new set's last chunk
 * waited for it (bench/README.md, 8-12 s a range). */
static guint rank_heat(const VmtTierEngine *e, const VmtChunk *c)
{
	return c->idle_streak >= e->p.demote_windows ? 0 : c->heat;
}

static guint64 rank_key(const VmtTierEngine *e, guint i)
{
	const VmtChunk *c = &e->chunks[i];

	return (guint64)rank_heat(e, c) << 41 | (guint64)chunk_fast(c) << 40 |
	       (guint64)(G_MAXUINT8 - c->idle_streak) << 32 | (G_MAXUINT32 - i);
}

static guint key_chunk(guint64 key)
{
	return G_MAXUINT32 - (guint32)key;
}

static int key_cmp_desc(const void *a, const void *b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return (x < y) - (x > y);
}

static void ranking_build(const VmtTierEngine *e, Ranking *r)
{
	guint64 fit = 0;

	r->key = g_new(guint64, MAX(e->n, 1));
	r->len = 0;
	for (guint i = 0; i < e->n; i++)
		if (e->chunks[i].resident_pages > 0)
			r->key[r->len++] = rank_key(e, i);
	qsort(r->key, r->len, sizeof(*r->key), key_cmp_desc);
	for (r->n_target = 0; r->n_target < r->len; r->n_target++) {
		const VmtChunk *c = &e->chunks[key_chunk(r->key[r->n_target])];

		if (rank_heat(e, c) == 0 || fit + pages_bytes(c->resident_pages) > e->quota)
			break;
		fit += pages_bytes(c->resident_pages);
	}
}

static void ranking_clear(Ranking *r)
{
	g_free(r->key);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Ranking, ranking_clear)

/* A plan in the making: fast is fast_bytes as if the chosen moves were
 * done, left the budget not yet spent, limit what fast must come down to
 * (the quota, or less: vmt_tier_engine_plan_excess). */
typedef struct {
	const VmtTierEngine *e;
	const Ranking *r;
	guint8 *chosen;
	guint64 fast, left, limit;
	GArray *demote, *promote;
	gboolean waiting;	/* a chunk to promote found no place */
} Planner;

static guint64 chunk_cost(const Planner *pl, guint i)
{
	return pages_bytes(pl->e->chunks[i].resident_pages);
}

static void choose(Planner *pl, guint i, VmtTier to)
{
	const VmtChunk *c = &pl->e->chunks[i];
	VmtTierMove m = { .chunk = i, .to = to };

	pl->chosen[i] = TRUE;
	pl->left -= chunk_cost(pl, i);
	if (to == VMT_TIER_SLOW) {
		pl->fast -= pages_bytes(c->fast_pages);
		g_array_append_val(pl->demote, m);
	} else {
		pl->fast += pages_bytes(c->resident_pages - c->fast_pages);
		g_array_append_val(pl->promote, m);
	}
}

/* A quota below fast_bytes is a promise broken now: demote coldest first,
 * any chunk holding fast pages, whatever its streaks and residency. */
static void plan_over_quota(Planner *pl)
{
	for (guint k = pl->r->len; k-- > 0 && pl->fast > pl->limit;) {
		guint i = key_chunk(pl->r->key[k]);

		if (pl->e->chunks[i].fast_pages > 0 && chunk_cost(pl, i) <= pl->left)
			choose(pl, i, VMT_TIER_SLOW);
	}
}

static gboolean settled(const Planner *pl, const VmtChunk *c)
{
	return c->since_move >= pl->e->p.min_residency;
}

/* Confirmed idle: idle for demote_windows in a row.  Such a chunk is
 * demoted, and a hot one displaces it at once, however recently it moved
 * (a hot set that shifted as it came in). */
static gboolean idle(const Planner *pl, const VmtChunk *c)
{
	return c->idle_streak >= pl->e->p.demote_windows;
}

/* A chunk's recent behaviour is confirmed when its current streak is long
 * enough to act on, or when it has none (warm: accessed, under the hot
 * threshold).  One idle sample (a stale accessed bit) halves the heat of a
 * hot chunk and the dip lasts a few windows: an unconfirmed chunk is not
 * displaced, so the dip cannot swap two equally hot chunks. */
static gboolean confirmed(const Planner *pl, const VmtChunk *c)
{
	return (c->idle_streak == 0 || idle(pl, c)) &&
	       (c->hot_streak == 0 || c->hot_streak >= pl->e->p.promote_windows);
}

/* Fast chunks outside the target set a promotion may displace, coldest
 * first. */
static GArray *displaceable(const Planner *pl)
{
	GArray *v = g_array_new(FALSE, FALSE, sizeof(guint));

	for (guint k = pl->r->len; k-- > pl->r->n_target;) {
		guint i = key_chunk(pl->r->key[k]);
		const VmtChunk *c = &pl->e->chunks[i];

		if (!pl->chosen[i] && chunk_fast(c) && (settled(pl, c) || idle(pl, c)) && confirmed(pl, c))
			g_array_append_val(v, i);
	}
	return v;
}

#define PROMOTED_MARGIN_PCT 200

/* Whether HOT may displace COLD: any hot chunk displaces one confirmed idle
 * (a shifted hot set comes in at once); else it must be clearly hotter both
 * now and over about 8 windows.  A window's reading is a draw around the
 * chunk's rate (with 4 KiB pages, each sample looks at one page), and
 * chunks at the quota's edge differ by far less than a draw: compared on
 * the last two windows only, they swapped places again and again on a hot
 * set that never changed (bench/README.md, 4-5 moves a chunk in 60 s). */
static gboolean clearly_hotter(const Planner *pl, guint hot, guint cold)
{
	const VmtChunk *h = &pl->e->chunks[hot], *c = &pl->e->chunks[cold];
	guint64 margin = 100 + pl->e->p.hysteresis_pct, d;

	if (idle(pl, c))
		return h->heat > 0;
	/* A chunk vmtierd promoted was chosen on early readings; one hotter
	 * by less than twice is a ranking error put right at the cost of two
	 * more moves, for little (zipf's neighbours at the quota's edge): in
	 * 200 draws of /engine/zipf-noisy, 13 moved a chunk twice, none with
	 * this, for 0.9975 of the oracle against 0.9978.  A hot set that
	 * moved leaves it idle, or at least twice as cold. */
	if (c->moves > 0)
		margin = MAX(margin, PROMOTED_MARGIN_PCT);
	if ((guint64)h->heat * 100 <= (guint64)c->heat * margin ||
	    (guint64)h->heat_long * 100 <= (guint64)c->heat_long * margin)
		return FALSE;
	/* and by more than the readings' own scatter explains: heat_long's
	 * standard deviation is about a third of spread (an average of
	 * about 8 readings, whose deviation is about 1.25 times their mean
	 * distance), so this asks for about 4 deviations of the difference
	 * (at 3, a chunk moved twice in 11 of 30 of /engine/zipf-noisy's
	 * draws; at 4, in 2) */
	d = h->heat_long - c->heat_long;
	return d * d > 2 * ((guint64)h->spread * h->spread + (guint64)c->spread * c->spread);
}

/* Slow chunks of the target set hot for promote_windows, hottest first.
 * One that does not fit displaces the coldest displaceable fast chunks when
 * it is clearly hotter than each of them, all within the budget. */
static void plan_promotions(Planner *pl)
{
	const VmtTierParams *p = &pl->e->p;
	g_autoptr(GArray) victims = displaceable(pl);
	guint vcur = 0;
	gboolean displacing = TRUE;

	for (guint k = 0; k < pl->r->n_target; k++) {
		guint i = key_chunk(pl->r->key[k]), v;
		const VmtChunk *c = &pl->e->chunks[i];
		guint64 need = pages_bytes(c->resident_pages - c->fast_pages);
		guint64 freed = 0, cost = chunk_cost(pl, i);

		if (chunk_fast(c) || c->hot_streak < p->promote_windows || !settled(pl, c) ||
		    cost > pl->left)
			continue;
		if (pl->fast + need <= pl->e->quota) {
			choose(pl, i, VMT_TIER_FAST);
			continue;
		}
		for (v = vcur; displacing && pl->fast + need > pl->e->quota + freed; v++) {
			guint victim = v < victims->len ? g_array_index(victims, guint, v) : 0;

			if (v == victims->len || !clearly_hotter(pl, i, victim)) {
				/* candidates only get colder: none will get past
				 * the victim this one could not */
				if (v == vcur)
					displacing = FALSE;
				break;
			}
			cost += chunk_cost(pl, victim);
			freed += pages_bytes(pl->e->chunks[victim].fast_pages);
			if (cost > pl->left)
				break;
		}
		if (!displacing || pl->fast + need > pl->e->quota + freed || cost > pl->left) {
			pl->waiting = TRUE;
			continue;
		}
		for (; vcur < v; vcur++)
			choose(pl, g_array_index(victims, guint, vcur), VMT_TIER_SLOW);
		choose(pl, i, VMT_TIER_FAST);
	}
}

/* Fast chunks outside the target set, idle for demote_windows: they make
 * room for later promotions.  One idle but still warm (a hot set that just
 * moved on) stays while no promotion waits for a place, for that set may
 * come back; it goes once its heat is gone.  Planned after the promotions
 * so that a shift of the hot set spends the budget on what the guest needs
 * now. */
static void plan_idle_demotions(Planner *pl)
{
	for (guint k = pl->r->len; k-- > pl->r->n_target;) {
		guint i = key_chunk(pl->r->key[k]);
		const VmtChunk *c = &pl->e->chunks[i];

		if (!pl->chosen[i] && chunk_fast(c) && idle(pl, c) && (c->heat == 0 || pl->waiting) &&
		    settled(pl, c) && chunk_cost(pl, i) <= pl->left)
			choose(pl, i, VMT_TIER_SLOW);
	}
}

guint64 vmt_tier_engine_fast_bytes(const VmtTierEngine *e)
{
	guint64 b = 0;

	for (guint i = 0; i < e->n; i++)
		b += pages_bytes(e->chunks[i].fast_pages);
	return b;
}

GArray *vmt_tier_engine_plan(VmtTierEngine *e, guint64 budget_bytes)
{
	g_autoptr(GArray) demote = g_array_new(FALSE, FALSE, sizeof(VmtTierMove));
	g_autoptr(GArray) promote = g_array_new(FALSE, FALSE, sizeof(VmtTierMove));
	g_autofree guint8 *chosen = g_new0(guint8, MAX(e->n, 1));
	g_auto(Ranking) r = { 0 };
	Planner pl = {
		.e = e, .r = &r, .chosen = chosen, .fast = vmt_tier_engine_fast_bytes(e),
		.left = budget_bytes,
		.limit = e->quota, .demote = demote, .promote = promote,
	};

	ranking_build(e, &r);
	plan_over_quota(&pl);
	plan_promotions(&pl);
	plan_idle_demotions(&pl);
	/* every demotion before any promotion: each prefix of the plan keeps
	 * fast_bytes within what the whole plan ends at */
	g_array_append_vals(demote, promote->data, promote->len);
	return g_steal_pointer(&demote);
}

GArray *vmt_tier_engine_plan_excess(VmtTierEngine *e, guint64 budget_bytes, guint64 target_bytes)
{
	g_autoptr(GArray) demote = g_array_new(FALSE, FALSE, sizeof(VmtTierMove));
	g_autofree guint8 *chosen = g_new0(guint8, MAX(e->n, 1));
	g_auto(Ranking) r = { 0 };
	Planner pl = {
		.e = e, .r = &r, .chosen = chosen, .fast = vmt_tier_engine_fast_bytes(e),
		.left = budget_bytes,
		.limit = MIN(target_bytes, e->quota), .demote = demote, .promote = NULL,
	};

	ranking_build(e, &r);
	plan_over_quota(&pl);
	return g_steal_pointer(&demote);
}

void vmt_tier_engine_stats(const VmtTierEngine *e, VmtTierStats *out)
{
	g_auto(Ranking) r = { 0 };
	guint64 target = 0, target_fast = 0;
	double acc_fast = 0, acc_all = 0;
	double rate[VMT_ACCESS_MAX + 1];	/* by reading, once each */

	for (guint f = 0; f <= VMT_ACCESS_MAX; f++)
		rate[f] = -1;

	memset(out, 0, sizeof(*out));
	out->quota_bytes = e->quota;
	out->windows = e->windows;
	for (guint i = 0; i < e->n; i++) {
		const VmtChunk *c = &e->chunks[i];

		out->fast_bytes += pages_bytes(c->fast_pages);
		out->slow_bytes += pages_bytes(c->resident_pages - c->fast_pages);
		if (c->hot_streak > 0) {
			out->hot_bytes += pages_bytes(c->resident_pages);
			out->hot_fast_bytes += pages_bytes(c->fast_pages);
		}
		/* where the pages are now: what the guest meets from here on,
		 * and what ground truth (move_pages' placement) measures */
		if (rate[c->last_freq] < 0)
			rate[c->last_freq] = vmt_access_rate_of(e->flushes_per_sample, c->last_freq);
		acc_fast += rate[c->last_freq] * c->fast_pages;
		acc_all += rate[c->last_freq] * c->resident_pages;
	}
	out->fast_access_share = acc_all > 0 ? acc_fast / acc_all : 1.0;
	out->access_seen = acc_all > 0;
	out->max_freq = e->max_freq;
	ranking_build(e, &r);
	for (guint k = 0; k < r.n_target; k++) {
		const VmtChunk *c = &e->chunks[key_chunk(r.key[k])];

		target += c->resident_pages;
		target_fast += c->fast_pages;
	}
	out->hot_coverage = target ? (double)target_fast / (double)target : 1.0;
}

guint vmt_tier_engine_next_interval(const VmtTierEngine *e, guint cur_ms, guint min_ms,
				    guint max_ms)
{
	guint64 hot = 0, next = cur_ms, step = MAX(cur_ms / 4, 1);

	for (guint i = 0; i < e->n; i++)
		if (e->chunks[i].hot_streak > 0)
			hot += pages_bytes(e->chunks[i].resident_pages);
	if (hot * 2 > e->quota)
		next = cur_ms - MIN(step, cur_ms);
	else if (hot * 8 < e->quota)
		next += step;
	return (guint)CLAMP(next, min_ms, max_ms);
}

guint vmt_tier_engine_next_sample_us(const VmtTierEngine *e, guint cur_us, guint min_us,
				     guint max_us)
{
	g_auto(Ranking) r = { 0 };
	guint64 next = cur_us, reading = 0;

	ranking_build(e, &r);
	/* the last chunk the quota holds: in a steady state heat is the
	 * window's frequency times 100 / (100 - decay_pct) */
	if (r.n_target > 0)
		reading = (guint64)e->chunks[key_chunk(r.key[r.n_target - 1])].heat *
			  (100 - e->p.decay_pct) / 100;
	if (reading * 2 > VMT_ACCESS_MAX)
		next = cur_us / 2;
	else if (reading * 10 < VMT_ACCESS_MAX)
		next = (guint64)cur_us * 2;
	return (guint)CLAMP(next, min_us, max_us);
}

gsize vmt_tier_engine_state_bytes(const VmtTierEngine *e)
{
	return sizeof(VmtChunk) * e->n + sizeof(*e);
}
