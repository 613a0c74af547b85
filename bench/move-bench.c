// SPDX-License-Identifier: GPL-2.0-or-later
/* move-bench: migration throughput of vmtierd's mover (vmt_host_move_ranges
 * over a window's 2 MiB chunks, with the placement it reports, as vmtierd
 * moves) against a raw move_pages(2) loop (one call per 4096 pages) over the
 * same pages of this process.
 *
 *   move-bench [--mib N] [--reps R] [--slow NODE] [--fast NODE] [--thp]
 *
 * It maps N MiB of anonymous memory (MADV_NOHUGEPAGE, or with --thp
 * MADV_HUGEPAGE on a 2 MiB-aligned range, checked in /proc/self/smaps),
 * allocates it on the slow node, then per repetition times each method
 * moving it all to the fast node and back, checking where every page ended
 * up.  Prints one line per repetition and a "median:" line with MiB/s per
 * method and direction and the ratio mover/raw, then a "best:" line the
 * same for each one's fastest repetition (the least disturbed by other
 * load on a shared machine).  Then what the mover adds to a move, timed
 * apart (fastest of R passes, pages already where they are asked to go,
 * so nothing moves): its pagemap reading ("mover_noop_ms"), and a
 * move_pages placement query of all pages ("query_ms"), which the mover
 * made twice per move before; with the fastest raw move they estimate
 * mover/raw on a machine without other load. */
#include <gio/gio.h>

#include "host-move.h"

#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define CHUNK (2 * MIB)
#define PAGE 4096u
#define BATCH 4096u

typedef struct {
	char *base;
	guint64 len, pages;
	void **addrs;		/* every 4 KiB page, in order */
	int *nodes, *status;
} Region;

static G_GNUC_NORETURN void die(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static G_GNUC_NORETURN void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("move-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* move_pages over the whole region, BATCH pages a call; NODE < 0 queries. */
static void raw_pass(Region *r, int node)
{
	for (guint64 done = 0; done < r->pages; done += BATCH) {
		unsigned long n = (unsigned long)MIN((guint64)BATCH, r->pages - done);

		for (unsigned long i = 0; i < n && node >= 0; i++)
			r->nodes[done + i] = node;
		if (move_pages(getpid(), n, r->addrs + done, node >= 0 ? r->nodes + done : NULL,
			       r->status + done, node >= 0 ? MPOL_MF_MOVE : 0) < 0)
			die("move_pages: %s", g_strerror(errno));
	}
}

static guint64 pages_on(Region *r, int node)
{
	guint64 n = 0;

	raw_pass(r, -1);
	for (guint64 i = 0; i < r->pages; i++)
		n += r->status[i] == node;
	return n;
}

/* As vmtierd moves a window's chunks: one vmt_host_move_ranges call for
 * all the 2 MiB chunks bound for NODE, the placement from where pages
 * ended up. */
static void mover_pass(Region *r, int node)
{
	g_autoptr(GArray) chunks = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	g_autoptr(GError) error = NULL;
	g_autofree int *where = g_new(int, r->pages);
	VmtMoveResult res = { 0 };

	for (guint64 off = 0; off < r->len; off += CHUNK) {
		VmtRange c = { (guintptr)r->base + off, MIN(CHUNK, r->len - off) };

		g_array_append_val(chunks, c);
	}
	if (!vmt_host_move_ranges(getpid(), chunks, node, &res, where, &error))
		die("%s", error->message);
}

/* MiB/s of one pass of METHOD to NODE; every page must end up there. */
static double timed(Region *r, gboolean mover, int node)
{
	gint64 t0 = g_get_monotonic_time(), dt;
	guint64 there;

	if (mover)
		mover_pass(r, node);
	else
		raw_pass(r, node);
	dt = MAX(g_get_monotonic_time() - t0, 1);
	there = pages_on(r, node);
	if (there != r->pages)
		die("%s left %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " pages off node %d",
		    mover ? "the mover" : "raw move_pages", r->pages - there, r->pages, node);
	return (double)r->len / MIB / ((double)dt / G_USEC_PER_SEC);
}

/* AnonHugePages (KiB) of the mapping that holds ADDR, from /proc/self/smaps. */
static guint64 anon_huge_kib(const void *addr)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	gboolean in = FALSE;
	guint64 lo, hi, kib;

	if (!g_file_get_contents("/proc/self/smaps", &text, NULL, NULL))
		die("cannot read /proc/self/smaps");
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		if (sscanf(lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x", &lo, &hi) == 2 &&
		    strchr(lines[i], ' '))
			in = (guintptr)addr >= lo && (guintptr)addr < hi;
		else if (in && sscanf(lines[i], "AnonHugePages: %" G_GUINT64_FORMAT " kB", &kib) == 1)
			return kib;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, guint n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void region_map(Region *r, guint mib, gboolean thp, int node)
{
	unsigned long mask = 1ul << node;
	char *map;

	r->len = (guint64)mib * MIB;
	r->pages = r->len / PAGE;
	map = mmap(NULL, r->len + CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		die("mmap %u MiB: %s", mib, g_strerror(errno));
	r->base = (char *)(((guintptr)map + CHUNK - 1) & ~(guintptr)(CHUNK - 1));
	if (madvise(r->base, r->len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0)
		die("madvise: %s", g_strerror(errno));
	/* allocate on NODE, then drop the policy: the moves must not depend on it */
	if (mbind(r->base, r->len, MPOL_BIND, &mask, sizeof(mask) * 8, 0) != 0)
		die("mbind to node %d: %s", node, g_strerror(errno));
	for (guint64 off = 0; off < r->len; off += PAGE)
		r->base[off] = 1;
	if (mbind(r->base, r->len, MPOL_DEFAULT, NULL, 0, 0) != 0)
		die("mbind default: %s", g_strerror(errno));
	r->addrs = g_new(void *, r->pages);
	r->nodes = g_new(int, r->pages);
	r->status = g_new(int, r->pages);
	for (guint64 i = 0; i < r->pages; i++)
		r->addrs[i] = r->base + i * PAGE;
}

int main(int argc, char **argv)
{
	gint mib = 64, reps = 5, slow = 2, fast = 0;
	gboolean thp = FALSE;
	GOptionEntry entries[] = {
		{ "mib", 0, 0, G_OPTION_ARG_INT, &mib, "MiB to move (default 64)", "N" },
		{ "reps", 0, 0, G_OPTION_ARG_INT, &reps, "repetitions (default 5)", "R" },
		{ "slow", 0, 0, G_OPTION_ARG_INT, &slow, "node the memory starts on (default 2)", "NODE" },
		{ "fast", 0, 0, G_OPTION_ARG_INT, &fast, "node it is promoted to (default 0)", "NODE" },
		{ "thp", 0, 0, G_OPTION_ARG_NONE, &thp, "2 MiB transparent huge pages", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- vmtierd's mover vs raw move_pages");
	g_autoptr(GError) error = NULL;
	g_autofree double *v = NULL;
	double med[4], best[4];
	Region r = { 0 };
	guint64 huge, huge_after;
	static const char *const names[4] = { "raw_promote", "raw_demote", "mover_promote", "mover_demote" };

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		die("%s", error->message);
	if (mib < 2 || mib % 2 || reps < 1 || slow < 0 || slow > 63 || fast < 0 || fast > 63 ||
	    slow == fast)
		die("bad arguments: --mib %d (even, >= 2), --reps %d, --slow %d, --fast %d", mib, reps,
		    slow, fast);
	region_map(&r, (guint)mib, thp, slow);
	if (pages_on(&r, slow) != r.pages)
		die("only %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " pages were allocated on node %d",
		    pages_on(&r, slow), r.pages, slow);
	huge = anon_huge_kib(r.base);
	printf("move-bench: %d MiB, %s pages, node %d <-> %d, %d repetitions; AnonHugePages %" G_GUINT64_FORMAT
	       " kB of %d MiB%s\n", mib, thp ? "2 MiB (THP)" : "4 KiB", slow, fast, reps, huge, mib,
	       thp && huge * 1024 < r.len * 9 / 10 ? " (THP NOT in use: the figures are for 4 KiB pages)" : "");
	v = g_new(double, 4 * (gsize)reps);
	for (gint i = 0; i < reps; i++) {
		/* alternate which method goes first, so neither always finds a warm cache */
		for (gint k = 0; k < 2; k++) {
			gboolean mover = (k + i) % 2;
			v[(mover * 2 + 0) * reps + i] = timed(&r, mover, fast);
			v[(mover * 2 + 1) * reps + i] = timed(&r, mover, slow);
		}
		printf("rep %d: raw %.1f / %.1f MiB/s, mover %.1f / %.1f MiB/s (promote / demote)\n", i + 1,
		       v[0 * reps + i], v[1 * reps + i], v[2 * reps + i], v[3 * reps + i]);
	}
	huge_after = anon_huge_kib(r.base);
	/* each repetition's own mover/raw: its passes ran back to back, so a
	 * slow period of the machine (the test host's emulated clock swings
	 * 3-5x between repetitions) weighs on both sides of most ratios */
	{
		g_autofree double *pr = g_new(double, (gsize)reps), *dr = g_new(double, (gsize)reps);

		for (gint i = 0; i < reps; i++) {
			pr[i] = v[2 * reps + i] / v[0 * reps + i];
			dr[i] = v[3 * reps + i] / v[1 * reps + i];
		}
		printf("paired: ratio_promote=%.3f ratio_demote=%.3f (the median of each repetition's "
		       "mover/raw)\n", median(pr, (guint)reps), median(dr, (guint)reps));
	}
	for (guint m = 0; m < 4; m++) {
		med[m] = median(v + m * reps, (guint)reps);
		best[m] = v[m * reps + reps - 1];	/* sorted by median() */
	}
	printf("median:");
	for (guint m = 0; m < 4; m++)
		printf(" %s_mibs=%.1f", names[m], med[m]);
	printf(" ratio_promote=%.3f ratio_demote=%.3f thp_kib_after=%" G_GUINT64_FORMAT "\n",
	       med[2] / med[0], med[3] / med[1], huge_after);
	printf("best:");
	for (guint m = 0; m < 4; m++)
		printf(" %s_mibs=%.1f", names[m], best[m]);
	printf(" ratio_promote=%.3f ratio_demote=%.3f\n", best[2] / best[0], best[3] / best[1]);
	/* the pages are on the slow node now: both passes below move nothing */
	{
		double noop = G_MAXDOUBLE, query = G_MAXDOUBLE, move = (double)r.len / MIB / MAX(best[0], best[1]) * 1000;

		for (gint i = 0; i < reps; i++) {
			gint64 t0 = g_get_monotonic_time();

			mover_pass(&r, slow);
			noop = MIN(noop, (double)(g_get_monotonic_time() - t0) / 1000);
			t0 = g_get_monotonic_time();
			raw_pass(&r, -1);
			query = MIN(query, (double)(g_get_monotonic_time() - t0) / 1000);
		}
		if (pages_on(&r, slow) != r.pages)
			die("a pass that should move nothing moved pages");
		printf("overhead: raw_move_ms=%.1f mover_noop_ms=%.1f query_ms=%.1f est_ratio=%.3f"
		       " est_ratio_two_queries=%.3f\n", move, noop, query, move / (move + noop),
		       move / (move + 2 * query));
	}
	g_free(r.addrs);
	g_free(r.nodes);
	g_free(r.status);
	return 0;
}
