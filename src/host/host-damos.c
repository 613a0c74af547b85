// SPDX-License-Identifier: GPL-2.0-or-later
/* DAMOS migrate_hot/migrate_cold on physical memory as vmtierd's mover;
 * see host-damos.h.  The sysfs layout is Linux 6.12's. */
#include "host-damos.h"
#include "host-damon-private.h"
#include "sysfs.h"

#include <gio/gio.h>
#include <string.h>

#define NODES "/sys/devices/system/node"
#define BLOCK_SIZE "/sys/devices/system/memory/block_size_bytes"
/* guest I's kdamond is kdamond I; its schemes 0 (hot) and 1 (cold) are
 * numbered 2I and 2I+1 in this file */
#define CTX_FMT VMT_DAMON_KDS "/%u/contexts/0"

/* DAMON's open bounds: unsigned long sizes, unsigned int counts */
#define UL_MAX "18446744073709551615"
#define UINT_MAX_S "4294967295"
#define MIN_QUOTA G_STRINGIFY(VMT_DAMOS_MIN_QUOTA)
/* "no limit" as a quota: 0 would stop DAMON resetting the quota's charge
 * window, leaving the last effective quota in force */
#define NO_LIMIT "1125899906842624"
/* A promotion's charge window that never renews by itself: 6.12 gives
 * reset_interval_ms to msecs_to_jiffies() as an unsigned int, and one that
 * is negative as an int means "never" (MAX_JIFFY_OFFSET; 49 days where a
 * kernel takes it at its word).  With it, a window's budget is all DAMOS
 * promotes until vmtierd opens the next window: a vmtierd that dies leaves
 * at most what is left of one window's budget (vmt_host_damos_steer). */
#define ONE_SHOT_MS UINT_MAX_S

/* DAMON adapts paddr regions between these (min 3 for the kernel) */
#define MIN_REGIONS 10u
#define MAX_REGIONS 1000u

#define wr vmt_host_damon_write
#define wrf vmt_host_damon_writef

typedef enum {
	MATCH_NOTHING,	/* nothing: quotas/bytes 0 would mean "no limit" */
	MATCH_HOT,	/* accessed in the last aggregation interval */
	MATCH_COLD,	/* not accessed for cold_aggrs aggregation intervals */
} Match;

static gboolean has_node(const GArray *nodes, int id)
{
	for (guint k = 0; k < nodes->len; k++)
		if (g_array_index(nodes, int, k) == id)
			return TRUE;
	return FALSE;
}

static gboolean read_block_size(guint64 *out, GError **error)
{
	g_autofree char *s = vmt_sysfs_read(BLOCK_SIZE, error);
	char *end;

	if (!s)
		return FALSE;
	/* hex without "0x" */
	*out = g_ascii_strtoull(s, &end, 16);
	if (end == s || *end || *out == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: not a block size: '%s'", BLOCK_SIZE, s);
		return FALSE;
	}
	return TRUE;
}

/* Appends node ID's memory block indices (guint64) to BLOCKS. */
static gboolean node_blocks(int id, GArray *blocks, GError **error)
{
	g_autofree char *dir = g_strdup_printf(NODES "/node%d", id);
	g_autoptr(GPtrArray) names = NULL;
	guint found = 0;

	if (id < 0 || !vmt_sysfs_exists(dir)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "NUMA node %d does not exist", id);
		return FALSE;
	}
	names = vmt_sysfs_list(dir, "memory");
	for (guint k = 0; k < names->len; k++) {
		const char *idx = (const char *)names->pdata[k] + strlen("memory");
		guint64 b;

		/* memoryK links only, not memory_failure and the like */
		if (!*idx || strspn(idx, "0123456789") != strlen(idx))
			continue;
		b = g_ascii_strtoull(idx, NULL, 10);
		g_array_append_val(blocks, b);
		found++;
	}
	if (!found) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "NUMA node %d has no memory blocks", id);
		return FALSE;
	}
	return TRUE;
}

static gint cmp_u64(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return x < y ? -1 : x > y;
}

/* The physical memory of the nodes in A and B (int; B may be NULL) as
 * VmtRanges of physical addresses, in address order, adjacent memory blocks
 * merged. */
static GArray *nodes_spans(const GArray *a, const GArray *b, guint64 block, GError **error)
{
	g_autoptr(GArray) blocks = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	const GArray *lists[] = { a, b };

	for (guint l = 0; l < G_N_ELEMENTS(lists); l++)
		for (guint k = 0; lists[l] && k < lists[l]->len; k++)
			if (!node_blocks(g_array_index(lists[l], int, k), blocks, error))
				return NULL;
	g_array_sort(blocks, cmp_u64);
	for (guint k = 0; k < blocks->len; k++) {
		guint64 start = g_array_index(blocks, guint64, k) * block;
		VmtRange *last = spans->len ? &g_array_index(spans, VmtRange, spans->len - 1) : NULL;
		VmtRange s = { start, block };

		if (last && last->start + last->len >= start)
			last->len = MAX(last->start + last->len, start + block) - last->start;
		else
			g_array_append_val(spans, s);
	}
	return g_steal_pointer(&spans);
}

static gboolean check_args(const VmtDamosGuest *guests, guint n, const GArray *dram,
			   const GArray *slow, guint sample_us, guint aggr_us, GError **error)
{
	if (!dram || !dram->len || !slow || !slow->len) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "DAMOS needs DRAM nodes and slow nodes (%u and %u given)",
			    dram ? dram->len : 0, slow ? slow->len : 0);
		return FALSE;
	}
	if (sample_us == 0 || aggr_us < sample_us) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "DAMOS sampling interval %u us does not fit in its aggregation "
			    "interval %u us", sample_us, aggr_us);
		return FALSE;
	}
	for (guint k = 0; k < dram->len; k++)
		if (has_node(slow, g_array_index(dram, int, k))) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "NUMA node %d is given as both DRAM and slow",
				    g_array_index(dram, int, k));
			return FALSE;
		}
	for (guint i = 0; i < n; i++) {
		const VmtDamosGuest *g = &guests[i];

		/* the kernel compares it with cgroup_path() of every memcg */
		if (!g->memcg || g->memcg[0] != '/' || strchr(g->memcg, '\n')) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "DAMOS guest %u: memory cgroup '%s' is not a cgroup v2 path "
				    "starting with '/'", i, g->memcg ? g->memcg : "");
			return FALSE;
		}
		if (!has_node(dram, g->dram_node) || !has_node(slow, g->slow_node)) {
			gboolean d = !has_node(dram, g->dram_node);

			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "DAMOS guest %u (%s): %s node %d is not among the %s nodes", i,
				    g->memcg, d ? "DRAM" : "slow", d ? g->dram_node : g->slow_node,
				    d ? "DRAM" : "slow");
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean set(guint s, const char *file, const char *value, GError **error)
{
	g_autofree char *p = g_strdup_printf(CTX_FMT "/schemes/%u/%s", s / 2, s % 2, file);

	return wr(p, value, error);
}

G_GNUC_PRINTF(4, 5)
static gboolean setf(guint s, const char *file, GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *v = NULL;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return set(s, file, v, error);
}

/* Scheme S's access pattern: the nr_accesses bounds and the minimum age
 * (sizes and the maximum age stay open). */
static gboolean set_match(VmtDamon *d, guint s, Match m, GError **error)
{
	guint64 nr_min = 0, nr_max = G_MAXUINT32, age_min = 0;

	switch (m) {
	case MATCH_NOTHING:
		/* no region is accessed in more samples than an interval has */
		nr_min = (guint64)d->max_accesses + 1;
		break;
	case MATCH_HOT:
		nr_min = 1;
		break;
	case MATCH_COLD:
		nr_max = 0;
		age_min = d->cold_aggrs;
		break;
	}
	return setf(s, "access_pattern/nr_accesses/min", error, "%" G_GUINT64_FORMAT, nr_min) &&
	       setf(s, "access_pattern/nr_accesses/max", error, "%" G_GUINT64_FORMAT, nr_max) &&
	       setf(s, "access_pattern/age/min", error, "%" G_GUINT64_FORMAT, age_min);
}

/* Scheme S: ACTION of the pages of MEMCG that are not in SKIP (VmtRange: the
 * nodes they would move to) to node NID; matches nothing yet. */
static gboolean write_scheme(VmtDamon *d, guint s, const char *action, int nid, const char *memcg,
			     const GArray *skip, guint reset_ms, GError **error)
{
	struct {
		const char *file, *value;
	} kv[] = {
		{ "action", action },
		/* the defaults (0) match nothing: open every other bound */
		{ "access_pattern/sz/min", "0" },
		{ "access_pattern/sz/max", UL_MAX },
		{ "access_pattern/age/max", UINT_MAX_S },
		{ "quotas/ms", "0" },
		/* never 0 ("no limit"): a committed quota only takes effect at
		 * the next reset interval, the old one holds until then */
		{ "quotas/bytes", MIN_QUOTA },
		/* over quota, hotter (cold schemes: colder) regions first */
		{ "quotas/weights/sz_permil", "0" },
		{ "quotas/weights/nr_accesses_permil", "500" },
		{ "quotas/weights/age_permil", "500" },
		{ "filters/0/type", "memcg" },
		{ "filters/0/matching", "N" },	/* filter out what is not MEMCG's */
		{ "filters/0/memcg_path", memcg },
	};

	if (!setf(s, "filters/nr_filters", error, "%u", 1 + skip->len))
		return FALSE;
	for (guint k = 0; k < G_N_ELEMENTS(kv); k++)
		if (!set(s, kv[k].file, kv[k].value, error))
			return FALSE;
	if (!setf(s, "target_nid", error, "%d", nid) ||
	    !setf(s, "quotas/reset_interval_ms", error, "%u", reset_ms) ||
	    !set_match(d, s, MATCH_NOTHING, error))
		return FALSE;
	/* filter out (matching Y) the pages already where they would go */
	for (guint k = 0; k < skip->len; k++) {
		const VmtRange *r = &g_array_index(skip, VmtRange, k);
		g_autofree char *f = g_strdup_printf("filters/%u", k + 1);
		g_autofree char *type = g_strconcat(f, "/type", NULL);
		g_autofree char *match = g_strconcat(f, "/matching", NULL);
		g_autofree char *start = g_strconcat(f, "/addr_start", NULL);
		g_autofree char *end = g_strconcat(f, "/addr_end", NULL);

		if (!set(s, type, "addr", error) || !set(s, match, "Y", error) ||
		    !setf(s, start, error, "%" G_GUINT64_FORMAT, r->start) ||
		    !setf(s, end, error, "%" G_GUINT64_FORMAT, r->start + r->len))
			return FALSE;
	}
	return TRUE;
}

/* kdamond I's context: paddr, its intervals, the physical ranges */
static gboolean write_context(VmtDamon *d, guint i, const GArray *spans, guint sample_us,
			      guint aggr_us, GError **error)
{
	g_autofree char *ctx = g_strdup_printf(CTX_FMT, i);
	struct {
		const char *file;
		guint value;
	} kv[] = {
		{ "monitoring_attrs/intervals/sample_us", sample_us },
		{ "monitoring_attrs/intervals/aggr_us", aggr_us },
		/* paddr has nothing to update */
		{ "monitoring_attrs/intervals/update_us", aggr_us },
		{ "monitoring_attrs/nr_regions/min", MIN_REGIONS },
		{ "monitoring_attrs/nr_regions/max", MAX(MAX_REGIONS, spans->len) },
		{ "targets/nr_targets", 1 },
		{ "schemes/nr_schemes", 2 },
	};
	g_autofree char *nr = g_strdup_printf(VMT_DAMON_KDS "/%u/contexts/nr_contexts", i);
	g_autofree char *ops = g_strdup_printf("%s/operations", ctx);

	if (!wr(nr, "1", error) || !wr(ops, "paddr", error))
		return FALSE;
	for (guint k = 0; k < G_N_ELEMENTS(kv); k++) {
		g_autofree char *p = g_strdup_printf("%s/%s", ctx, kv[k].file);

		if (!wrf(p, error, "%u", kv[k].value))
			return FALSE;
	}
	g_autofree char *target = g_strdup_printf("%s/targets/0", ctx);

	return vmt_host_damon_write_regions(target, spans, error);
}

gboolean vmt_host_damos_start(VmtDamon *d, const VmtDamosGuest *guests, guint n,
			      const GArray *dram_nodes, const GArray *slow_nodes, guint sample_us,
			      guint aggr_us, guint window_ms, guint cold_aggrs, GError **error)
{
	g_autoptr(GArray) on_dram = NULL, on_slow = NULL, all = NULL;
	guint64 block = 0;
	/* the steer's bytes are per window, however short the aggregation */
	guint reset_ms = MAX(1u, window_ms);

	if (!vmt_host_damon_turn_off(d, error))
		return FALSE;
	if (n == 0)
		return TRUE;
	if (!check_args(guests, n, dram_nodes, slow_nodes, sample_us, aggr_us, error) ||
	    !read_block_size(&block, error) ||
	    !(on_dram = nodes_spans(dram_nodes, NULL, block, error)) ||
	    !(on_slow = nodes_spans(slow_nodes, NULL, block, error)) ||
	    !(all = nodes_spans(dram_nodes, slow_nodes, block, error)))
		return FALSE;
	d->max_accesses = MAX(1u, aggr_us / sample_us);
	d->cold_aggrs = cold_aggrs;
	d->aggr_us = aggr_us;
	/* one kdamond per guest: a DAMOS action resets the age of every region
	 * it tries, memcg-filtered or not, so in one context a guest's cold
	 * scheme would find no old region after another guest's ran */
	if (!vmt_host_damon_set_nr(d, n, error))
		return FALSE;
	for (guint i = 0; i < n; i++) {
		const VmtDamosGuest *g = &guests[i];

		if (!write_context(d, i, all, sample_us, aggr_us, error) ||
		    !write_scheme(d, 2 * i, "migrate_hot", g->dram_node, g->memcg, on_dram,
				  reset_ms, error) ||
		    !write_scheme(d, 2 * i + 1, "migrate_cold", g->slow_node, g->memcg, on_slow,
				  reset_ms, error))
			return FALSE;
	}
	for (guint i = 0; i < n; i++)
		if (!vmt_host_damon_turn_on(d, i, error))
			return FALSE;
	d->damos_guests = n;
	return TRUE;
}

static gboolean same_guests(VmtDamon *d, guint n, GError **error)
{
	if (n == d->damos_guests)
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "DAMOS was started for %u guests, not %u", d->damos_guests, n);
	return FALSE;
}

/* CMD to kdamond I (commit, update_schemes_stats: each waits for the end
 * of its aggregation interval) */
static gboolean command(guint i, const char *cmd, GError **error)
{
	g_autofree char *p = g_strdup_printf(VMT_DAMON_KDS "/%u/state", i);

	if (wr(p, cmd, error))
		return TRUE;
	g_prefix_error(error, "DAMON (kdamond %u): ", i);
	return FALSE;
}

/* Scheme S's settings that the kernel applies on the next commit; the
 * quota's esz only at the start of its next charge window. */
static gboolean set_quota(VmtDamon *d, guint s, guint64 bytes, const char *reset_ms, Match m,
			  GError **error)
{
	return set(s, "quotas/reset_interval_ms", reset_ms, error) &&
	       setf(s, "quotas/bytes", error, "%" G_GUINT64_FORMAT, bytes) &&
	       set_match(d, s, m, error);
}

gboolean vmt_host_damos_steer(VmtDamon *d, const VmtDamosSteer *steer, guint n, guint window_ms,
			      guint cold_aggrs, GError **error)
{
	g_autofree char *window = g_strdup_printf("%u", MAX(1u, window_ms));
	gboolean promote = FALSE;

	if (!same_guests(d, n, error))
		return FALSE;
	if (n == 0)
		return TRUE;
	d->cold_aggrs = MAX(1u, cold_aggrs);
	/* Promotion in two commits, so that what the kernel holds is safe
	 * whenever vmtierd dies.  First it matches nothing and its charge
	 * window renews at once (1 ms), the kernel taking UP as this window's
	 * budget (esz); cold pages go whatever their number: with a quota,
	 * DAMOS would spend it on the coldest physical memory, free pages and
	 * other processes' included, before reaching this guest's */
	for (guint i = 0; i < n; i++) {
		const VmtDamosSteer *st = &steer[i];
		guint s = 2 * i;

		promote |= st->promote_bytes > 0;
		if (!set_quota(d, s, MAX(st->promote_bytes, VMT_DAMOS_MIN_QUOTA), "1", MATCH_NOTHING,
			       error) ||
		    !set(s + 1, "quotas/reset_interval_ms", window, error) ||
		    !set(s + 1, "quotas/bytes", st->demote_cold ? NO_LIMIT : MIN_QUOTA, error) ||
		    !set_match(d, s + 1, st->demote_cold ? MATCH_COLD : MATCH_NOTHING, error) ||
		    /* online: DAMON keeps its regions and the schemes' stats */
		    !command(i, "commit", error))
			return FALSE;
	}
	if (!promote)
		return TRUE;
	/* The renewal happens when the schemes next apply: an aggregation
	 * interval after a commit, and never in one that commits (6.12's
	 * damon_set_attrs puts it off), so the next commit waits for that.
	 * A kdamond later than this only skips this window's promotion: its
	 * charge window does not renew, and what it charged stays charged. */
	g_usleep(2 * (gulong)d->aggr_us + 20000);
	/* then hot pages match, in a charge window that never renews */
	for (guint i = 0; i < n; i++) {
		const VmtDamosSteer *st = &steer[i];

		if (st->promote_bytes &&
		    (!set_quota(d, 2 * i, st->promote_bytes, ONE_SHOT_MS, MATCH_HOT, error) ||
		     !command(i, "commit", error)))
			return FALSE;
	}
	return TRUE;
}

gboolean vmt_host_damos_stats(VmtDamon *d, guint64 *promoted, guint64 *demoted, guint n,
			      GError **error)
{
	if (!same_guests(d, n, error))
		return FALSE;
	if (n == 0)
		return TRUE;
	for (guint i = 0; i < n; i++) {
		g_autofree char *up = g_strdup_printf(CTX_FMT "/schemes/0/stats/sz_applied", i);
		g_autofree char *down = g_strdup_printf(CTX_FMT "/schemes/1/stats/sz_applied", i);

		if (!command(i, "update_schemes_stats", error) ||
		    !vmt_sysfs_read_u64(up, &promoted[i], error) ||
		    !vmt_sysfs_read_u64(down, &demoted[i], error))
			return FALSE;
	}
	return TRUE;
}
