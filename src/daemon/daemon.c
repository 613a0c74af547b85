// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd's main-loop work; see daemon.h. */
#define G_LOG_DOMAIN "vmtierd"
#include "daemon-private.h"
#include "config.h"
#include "ctl.h"
#include "domain-xml.h"
#include "domains.h"
#include "guest.h"
#include "history.h"
#include "host-damon.h"
#include "host-deadline.h"
#include "host-proc.h"
#include "host-scan.h"
#include "size.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const struct {
	VmtScanner scanner;
	VmtBitmapCollect fn;
} bitmap_scanners[] = {
	{ VMT_SCANNER_IDLE_PAGES, vmt_host_idlepages_collect },
	{ VMT_SCANNER_PAGE_IDLE, vmt_host_pageidle_collect },
	{ VMT_SCANNER_SOFT_DIRTY, vmt_host_softdirty_collect },
};


/* ---- scanner choice ---- */

static VmtScanner fallback_scanner(const VmtHost *h)
{
	if (h->idle_pages)
		return VMT_SCANNER_IDLE_PAGES;
	if (h->page_idle)
		return VMT_SCANNER_PAGE_IDLE;
	return h->soft_dirty ? VMT_SCANNER_SOFT_DIRTY : VMT_SCANNER_NONE;
}

/* The kernel has WANT's interface: a scanner without it reads every page
 * idle, and the engine would demote the hot set. */
static gboolean bitmap_available(const VmtHost *h, VmtScanner want)
{
	return (want == VMT_SCANNER_IDLE_PAGES && h->idle_pages) ||
	       (want == VMT_SCANNER_PAGE_IDLE && h->page_idle) ||
	       (want == VMT_SCANNER_SOFT_DIRTY && h->soft_dirty);
}

static gboolean use_bitmap_scanner(VmtDaemon *d, VmtScanner want)
{
	for (guint i = 0; i < G_N_ELEMENTS(bitmap_scanners); i++)
		if (bitmap_scanners[i].scanner == want) {
			d->scanner = want;
			d->collect = bitmap_scanners[i].fn;
			return TRUE;
		}
	return FALSE;
}

static gboolean choose_scanner(VmtDaemon *d, GError **error)
{
	VmtScanner want = d->cfg->scanner;

	vmt_daemon_offload_choose(d);
	if (d->damos && want == VMT_SCANNER_AUTO)
		want = fallback_scanner(d->host);

	/* auto: DAMON whenever the kernel has vaddr monitoring, even when host
	 * check calls it busy, so that the claim says why it is not used */
	if (want == VMT_SCANNER_AUTO)
		want = d->host->damon_vaddr ? VMT_SCANNER_DAMON_VADDR : vmt_host_scanner(d->host);
	if (want == VMT_SCANNER_DAMON_VADDR) {
		g_autofree char *marker = g_build_filename(d->cfg->state_dir, "damon.owner", NULL);
		g_autoptr(GError) local = NULL;

		d->damon = vmt_host_damon_claim(marker, "fvaddr", &local);
		if (d->damon) {
			d->scanner = VMT_SCANNER_DAMON_VADDR;
			if (d->cfg->flush_us)
				d->flusher = vmt_host_flush_new(d->cfg->flush_us, d->cfg->flush_cpu_pct);
			return TRUE;
		}
		want = fallback_scanner(d->host);
		d->scanner_note = g_strdup_printf("DAMON not used: %s; falling back to %s",
						  local->message, vmt_scanner_name(want));
		g_warning("%s", d->scanner_note);
	}
	if (bitmap_available(d->host, want) && use_bitmap_scanner(d, want))
		return TRUE;
	if (want == VMT_SCANNER_NONE) {
		/* still worth running: residency, status and history */
		g_autofree char *why = g_steal_pointer(&d->scanner_note);

		d->scanner = VMT_SCANNER_NONE;
		d->scanner_note = g_strdup_printf("%s%sno other page-access interface (idle_pages, "
						  "page_idle or soft-dirty): guests are reported, "
						  "not tiered; see `vmtier host check`",
						  why ? why : "", why ? "; " : "");
		g_warning("%s", d->scanner_note);
		return TRUE;
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		    "scanner '%s' is not available here (see `vmtier host check`)",
		    vmt_scanner_name(want));
	return FALSE;
}

/* ---- the scan window, on a worker thread ---- */

static void window_free(VmtWindow *w)
{
	g_ptr_array_unref(w->guests);
	g_ptr_array_unref(w->gone);
	g_array_unref(w->budgets);
	g_free(w->damon_error);
	g_free(w);
}

static gboolean all_zero(const guint16 *v, guint n)
{
	for (guint i = 0; i < n; i++)
		if (v[i])
			return FALSE;
	return TRUE;
}

static void window_damon(VmtWindow *w, gboolean *ok)
{
	VmtDaemon *d = w->d;
	g_autoptr(GError) error = NULL;
	g_autofree guint16 **freqs = g_new0(guint16 *, MAX(1u, w->guests->len));
	g_autofree guint *n_chunks = g_new0(guint, MAX(1u, w->guests->len));
	gboolean any_running = FALSE, any_sampled = FALSE;

	if (w->restart_damon) {
		g_autofree VmtDamonTarget *t = g_new0(VmtDamonTarget, MAX(1u, w->guests->len));

		for (guint i = 0; i < w->guests->len; i++) {
			VmtGuest *g = w->guests->pdata[i];

			t[i].pid = g->pid;
			t[i].ranges = g->ranges;
		}
		if (!vmt_host_damon_start(d->damon, t, w->guests->len, w->sample_us,
					  w->interval_ms * 1000u, &error))
			goto fail;
	}
	if (w->guests->len == 0)
		return;
	for (guint i = 0; i < w->guests->len; i++) {
		VmtGuest *g = w->guests->pdata[i];

		/* a dead target can stall DAMON's update: restart without it */
		if (!vmt_guest_alive(g)) {
			w->damon_error = g_strdup_printf("%s: QEMU (pid %d) exited", g->name, g->pid);
			return;
		}
		freqs[i] = g->freq;
		n_chunks[i] = vmt_tier_engine_n_chunks(g->engine);
	}
	if (!vmt_host_damon_collect(d->damon, freqs, n_chunks, w->guests->len, &error))
		goto fail;
	w->collected = TRUE;
	/* with the TLB flushed, a running guest touches something every
	 * window (its own kernel at least): all idle means DAMON did not
	 * sample (a starved or restarted kdamond), not a guest gone cold;
	 * taken as heat it would demote the whole hot set */
	for (guint i = 0; i < w->guests->len; i++) {
		gboolean running = g_atomic_int_get(&((VmtGuest *)w->guests->pdata[i])->running);

		ok[i] = !d->flusher || !running || !all_zero(freqs[i], n_chunks[i]);
		any_running |= running;
		any_sampled |= running && ok[i];
	}
	/* starved: guests ran, and DAMON sampled none of them */
	w->starved = d->flusher && any_running && !any_sampled;
	vmt_host_damon_last_update(d->damon, &w->damon_regions, &w->damon_tries, &w->damon_update_us);
	g_debug("DAMON: %u regions in %u update(s), %" G_GUINT64_FORMAT " ms%s", w->damon_regions,
		w->damon_tries, w->damon_update_us / 1000, w->starved ? " (starved)" : "");
	return;
fail:
	w->damon_error = g_strdup(error->message);
	/* someone else took DAMON over: theirs now, for good */
	w->damon_lost = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY);
}

/* Whether G's QEMU runs, asked over QMP off the main loop.  A guest's
 * first window asks it itself (nothing is learnt or moved before QEMU
 * answered once); after that, a poll thread asks while windows go on, and
 * each window takes the last answer: at 32 guests on starved QEMUs the
 * polls took 4.3 s of a 6.75 s window (bench/README.md, "Scale", run 8).
 * While libvirt's lifecycle events reach the daemon (POLL_US), QEMU is
 * asked only when something may have changed: an event about the guest
 * since its last poll, an unanswered poll, and every POLL_US for what has
 * no event (a migration's start).  A QEMU that does not answer (its
 * monitor busy with another client, or QEMU stopped or hung) is not moved
 * and says so in its state; from the third in a row, it is asked again
 * only after 1, 2, 4, then every 8 windows.  One poll of G at a time (its
 * window's first, or its one job): it alone touches G's poll fields. */
typedef enum { POLL_NONE, POLL_OK, POLL_QUIET, POLL_GONE } PollResult;

static gboolean poll_needed(gint64 poll_us, VmtGuest *g, gint64 now)
{
	/* the event's flag is taken even when the poll is due anyway */
	gboolean event = g_atomic_int_compare_and_exchange(&g->poll_due, TRUE, FALSE);

	return !poll_us || event || g->poll_backoff || !g->polled_us || now - g->polled_us >= poll_us;
}

static PollResult poll_guest(gint64 poll_us, VmtGuest *g)
{
	g_autoptr(GError) error = NULL;
	gint64 now = g_get_monotonic_time();

	if (g->poll_skip > 0) {
		g->poll_skip--;
		return POLL_QUIET;
	}
	/* nothing new: QEMU's last answer stands (on_window saw its pid) */
	if (!poll_needed(poll_us, g, now))
		return POLL_OK;
	if (vmt_guest_poll(g, &error)) {
		g->poll_backoff = 0;
		g->polled_us = now;
		return POLL_OK;
	}
	g_atomic_int_set(&g->may_move, FALSE);
	/* its QEMU still runs (same pid, same start): not answering, not gone
	 * (a greeting that never came reads as a closed connection) */
	if (vmt_guest_alive(g)) {
		/* a timeout now and then (another QMP client, a loaded host) costs
		 * this window only; from the third in a row, the worker asks
		 * again after 1, 2, 4, then every 8 windows (poll_backoff counts
		 * them in a row) */
		g->poll_backoff = MIN(g->poll_backoff + 1, 8u);
		g->poll_skip = g->poll_backoff < 3 ? 0 : MIN(1u << (g->poll_backoff - 3), 8u);
		vmt_guest_set_state(g, VMT_GUEST_UNRESPONSIVE, error->message);
		return POLL_QUIET;
	}
	vmt_guest_set_state(g, VMT_GUEST_STOPPING, error->message);
	return POLL_GONE;
}

/* A poll thread's job: one guest's poll (G a ref) */
typedef struct {
	VmtGuest *g;
	gint64 poll_us;
} PollJob;

static void poll_job_free(PollJob *j)
{
	g_atomic_int_set(&j->g->polling, FALSE);
	vmt_guest_unref(j->g);
	g_free(j);
}

static void poll_job(gpointer data, gpointer user)
{
	PollJob *j = data;

	g_atomic_int_set(&j->g->poll_result, poll_guest(j->poll_us, j->g));
	poll_job_free(j);
}

/* Main thread: G's poll on a poll thread, unless one is queued or running
 * or G's window has not asked yet */
static void poll_soon(VmtDaemon *d, VmtGuest *g, gint64 poll_us)
{
	PollJob *j;

	if (g_atomic_int_get(&g->poll_result) == POLL_NONE ||
	    !g_atomic_int_compare_and_exchange(&g->polling, FALSE, TRUE))
		return;
	j = g_new(PollJob, 1);
	j->g = vmt_guest_ref(g);
	j->poll_us = poll_us;
	g_thread_pool_push(d->polls, j, NULL);
}

/* Polls run side by side, up to WORKER_THREADS at a time (a window's
 * first polls, and the poll threads): QEMUs that do not answer cost one
 * timeout, not one each (one after another, 32 guests under load left no
 * time for windows: bench/README.md, "Scale", run 3).  The guests' own
 * steps (ranking, moves) run side by side too, but on no more threads than
 * there are CPUs: they compute rather than wait, and more threads than CPUs
 * only take CPU time from the QEMUs and the main loop (run 5: at 32 guests
 * on the test host's 2 CPUs with 8 threads, QEMUs stopped answering and
 * status took up to 2.5 s). */
#define WORKER_THREADS 8

typedef struct {
	VmtWindow *w;
	void (*step)(VmtWindow *w, guint i, gpointer data);
	gpointer data;
	gint next;
} EachGuest;

static gpointer each_some(gpointer data)
{
	EachGuest *e = data;
	gint i;

	while ((i = g_atomic_int_add(&e->next, 1)) < (gint)e->w->guests->len)
		e->step(e->w, (guint)i, e->data);
	return NULL;
}

/* STEP for each of W's guests, on up to THREADS threads (this one too) */
static void each_guest(VmtWindow *w, guint threads, void (*step)(VmtWindow *w, guint i, gpointer data),
		       gpointer data)
{
	EachGuest e = { w, step, data, 0 };
	GThread *t[WORKER_THREADS] = { NULL };
	guint n = MIN(MIN(threads, (guint)WORKER_THREADS), w->guests->len);

	for (guint k = 1; k < n; k++)
		t[k] = g_thread_new("vmt-guest", each_some, &e);
	each_some(&e);
	for (guint k = 1; k < n; k++)
		g_thread_join(t[k]);
}

typedef struct {
	gboolean *ok;
	PollResult *poll;		/* QEMU's last answer as the window began */
} GuestSteps;

/* a guest's first window: its first poll (after that, poll threads') */
static void first_poll_step(VmtWindow *w, guint i, gpointer data)
{
	VmtGuest *g = w->guests->pdata[i];

	if (g_atomic_int_get(&g->poll_result) == POLL_NONE)
		g_atomic_int_set(&g->poll_result, poll_guest(w->poll_us, g));
}

/* Why DAMON gave window W no sample of a guest, for its sensor note. */
static char *no_sample_why(const VmtWindow *w)
{
	if (!w->collected)
		return g_strdup_printf("no DAMON reading this window%s%s", w->damon_error ? ": " : "",
				       w->damon_error ? w->damon_error : "");
	if (w->damon_regions == 0)
		return g_strdup_printf("DAMON ended no aggregation in %u updates over %.1f s: its "
				       "kdamond samples slower here than it was asked to",
				       w->damon_tries, w->damon_update_us / 1e6);
	return g_strdup("no DAMON sample this window (every chunk read idle: a starved or "
			"restarted kdamond, or a halted guest)");
}

/* G's window after its poll: sample (bitmap scanners), judge the sensor,
 * rank, move.  Any thread: it touches G, its own slots of GS, and
 * thread-safe parts of the daemon (the flusher's stats, under its lock). */
static void window_step(VmtWindow *w, guint i, gpointer data)
{
	GuestSteps *gs = data;
	VmtGuest *g = w->guests->pdata[i];
	PollResult polled = gs->poll[i];
	gboolean *ok = &gs->ok[i];

	if (polled == POLL_GONE)
		return;
	/* quiet: placement still measured, nothing learnt or moved */
	if (polled == POLL_QUIET)
		*ok = FALSE;
	vmt_host_deadline_set(w->guest_ms);
	if (polled == POLL_OK && !w->d->damon && w->d->collect) {
		g_autoptr(GError) error = NULL;

		if (!w->d->collect(g->pid, g->ranges, g->freq, ok, &error)) {
			vmt_guest_set_state(g, VMT_GUEST_ERROR, error->message);
			*ok = FALSE;
		} else if (!g->armed) {
			/* the first sample since attach covers the time since
			 * the bits were last reset (the guest's whole life) */
			*ok = FALSE;
			g->armed = TRUE;
		}
	}
	if (w->d->damon) {
		VmtFlushStats st = { 0 };
		gboolean known = w->d->flusher && vmt_host_flush_take(w->d->flusher, g->name, &st);

		g_autofree char *no_sample = *ok ? NULL : no_sample_why(w);

		vmt_guest_judge_sensor(g, no_sample, known ? &st : NULL, w->interval_ms,
				       w->flush_us, w->sample_us);
		vmt_flush_stats_clear(&st);
	}
	vmt_tier_engine_set_params(g->engine, &w->params);
	vmt_guest_window(g, *ok ? g->freq : NULL, g_array_index(w->budgets, guint64, i));
	vmt_host_deadline_set(0);
}

/* the time since *T, into PHASE; *T moves on */
static void phase_done(VmtWindow *w, VmtWindowPhase phase, gint64 *t)
{
	gint64 now = g_get_monotonic_time();

	w->phase_us[phase] = now - *t;
	*t = now;
}

static void window_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
	VmtWindow *w = data;
	guint n = w->guests->len;
	g_autofree gboolean *ok = g_new0(gboolean, MAX(1u, n));
	g_autofree PollResult *poll = g_new0(PollResult, MAX(1u, n));
	GuestSteps gs = { ok, poll };
	gint64 t = g_get_monotonic_time();
	guint first = 0;

	if (w->d->damon)
		window_damon(w, ok);
	if (w->d->damos && w->restart_damon)
		vmt_daemon_offload_start(w);
	phase_done(w, VMT_PHASE_SCAN, &t);
	for (guint i = 0; i < n; i++)
		first += g_atomic_int_get(&((VmtGuest *)w->guests->pdata[i])->poll_result) == POLL_NONE;
	if (first)
		each_guest(w, MIN(first, (guint)WORKER_THREADS), first_poll_step, NULL);
	for (guint i = 0; i < n; i++) {
		VmtGuest *g = w->guests->pdata[i];

		poll[i] = g_atomic_int_get(&g->poll_result);
		if (poll[i] == POLL_GONE)
			g_ptr_array_add(w->gone, vmt_guest_ref(g));
	}
	phase_done(w, VMT_PHASE_POLL, &t);
	each_guest(w, g_get_num_processors(), window_step, &gs);
	phase_done(w, VMT_PHASE_GUESTS, &t);
	if (w->d->damos && !w->damon_error)
		vmt_daemon_offload_steer(w);
	phase_done(w, VMT_PHASE_OFFLOAD, &t);
	g_task_return_boolean(task, TRUE);
}

static void schedule_window(VmtDaemon *d, guint ms);
static void drop_guest(VmtDaemon *d, VmtGuest *g, const char *why);
static void oneshot_step(VmtDaemon *d);

/* The flusher's period now: flush_us, or longer when moving every vCPU
 * that often would cost it more than its CPU bound (host-flush.h); 0
 * without flushes (no flusher exists unless flush_us is set). */
static guint flush_period(VmtDaemon *d)
{
	return d->flusher ? vmt_host_flush_period(d->flusher) : d->cfg->flush_us;
}

/* The longest sample: sample_us, and with flushes at most half of the
 * flusher's period, so that a sample holds a flush at most half the time:
 * a chunk read accessed more often than that was exposed by flushes
 * vmtierd did not make (a busy host switching the vCPU's CPU), the
 * readings saturate, and the access share is called unknown instead of
 * read from them (guest.c share_known).  Above, every hot chunk of a
 * skewed set read alike. */
static guint max_sample_us(VmtDaemon *d)
{
	guint flush = flush_period(d);

	return flush ? MAX(d->cfg->min_sample_us, MIN(d->cfg->sample_us, flush / 2)) : d->cfg->sample_us;
}

/* windows in a row with no sample at the longest sample interval before
 * vmtierd says so */
#define STARVED_SAY 5

/* With TLB flushes, DAMON's samples rank; the window stays and the sample
 * interval adapts instead (vmt_tier_engine_next_sample_us), one for all the
 * guests (one kdamond): the shortest any guest asks for.  Only windows
 * whose sensor ranked count; a change restarts DAMON. */
static void adapt_sample(VmtDaemon *d, const VmtWindow *w)
{
	guint next = max_sample_us(d);
	gboolean any = FALSE;

	if (!d->flusher || !w->collected)
		return;
	/* DAMON counts an aggregation in samples: a kdamond that cannot take
	 * them as often as asked (a busy host, many regions) completes none in
	 * a window and every guest reads idle.  Then longer samples, not
	 * shorter: back off until it keeps up */
	if (w->starved && !w->restart_damon) {
		next = MIN(max_sample_us(d), d->sample_us * 2);
		d->sample_floor_us = next;
		if (next != d->sample_us) {
			g_message("DAMON sample interval %u -> %u us: no sample in the last window "
				  "(kdamond cannot sample that often here; it returned %u regions "
				  "in %" G_GUINT64_FORMAT " ms)", d->sample_us, next,
				  w->damon_regions, w->damon_update_us / 1000);
			d->sample_us = next;
			d->damon_dirty = TRUE;
		} else if (++d->starved_windows == STARVED_SAY) {
			/* at the longest interval and still nothing: say so once */
			g_message("DAMON sampled no guest in %u windows at its longest sample interval "
				  "(%u us; its last update returned %u regions in %" G_GUINT64_FORMAT
				  " ms): no guest's window counts until it does", d->starved_windows,
				  d->sample_us, w->damon_regions, w->damon_update_us / 1000);
		}
		return;
	}
	d->starved_windows = 0;
	for (guint i = 0; i < w->guests->len; i++) {
		VmtGuest *g = w->guests->pdata[i];

		if (g->sensor != VMT_SENSOR_RANKING)
			continue;
		next = MIN(next, vmt_tier_engine_next_sample_us(g->engine, d->sample_us,
								 MAX(d->cfg->min_sample_us, d->sample_floor_us),
								 max_sample_us(d)));
		any = TRUE;
	}
	/* a kdamond already slower than asked (its aggregation outlasted 1.5
	 * intervals of the clock) would take shorter samples slower still,
	 * until it ends no aggregation at all: it only gets longer ones */
	if (w->damon_update_us * 2 > (guint64)w->interval_ms * 1000 * 3)
		next = MIN(MAX(next, d->sample_us), max_sample_us(d));
	if (any && next != d->sample_us) {
		g_message("DAMON sample interval %u -> %u us", d->sample_us, next);
		d->sample_us = next;
		d->damon_dirty = TRUE;
	}
}

static void window_done(GObject *src, GAsyncResult *res, gpointer data)
{
	VmtDaemon *d = data;
	VmtWindow *w = g_task_get_task_data(G_TASK(res));
	guint next = d->cfg->max_interval_ms;
	GHashTableIter it;
	gpointer v;

	vmt_daemon_loop_ran("a window's end");
	d->window_running = FALSE;
	/* counted when stopping too: the final account takes in its moves */
	d->last_window_us = g_get_monotonic_time() - w->start_us;
	memcpy(d->last_phase_us, w->phase_us, sizeof(d->last_phase_us));
	for (guint p = 0; p < VMT_PHASES; p++)
		d->phases_us[p] += w->phase_us[p];
	d->windows_us += d->last_window_us;
	d->windows_done++;
	if (g_cancellable_is_cancelled(d->cancel))
		return;
	for (guint i = 0; i < w->gone->len; i++) {
		VmtGuest *g = w->gone->pdata[i];

		if (g_hash_table_lookup(d->guests, g->name) == g)
			drop_guest(d, g, g->last_error);
	}
	d->damos_n = w->damos_n;
	if (w->damos_failed)
		vmt_daemon_offload_fallback(w);
	if (w->damon_lost) {
		VmtScanner want = fallback_scanner(d->host);

		g_clear_pointer(&d->damon, vmt_host_damon_release);	/* touches nothing */
		g_free(d->scanner_note);
		d->scanner_note = g_strdup_printf("DAMON not used: %s; falling back to %s",
						  w->damon_error, vmt_scanner_name(want));
		g_warning("%s", d->scanner_note);
		if (!use_bitmap_scanner(d, want))
			d->scanner = VMT_SCANNER_NONE;
		/* DAMON's verdicts on the sensor no longer apply (a blind one
		 * would hide the new scanner's figures for good) */
		g_hash_table_iter_init(&it, d->guests);
		while (g_hash_table_iter_next(&it, NULL, &v))
			vmt_guest_sensor_reset(v);
	} else if (w->damon_error) {
		g_warning("DAMON window failed: %s", w->damon_error);
		d->damon_dirty = TRUE;	/* a target died, or someone stopped it */
	}
	for (guint i = 0; i < w->guests->len; i++) {
		VmtGuest *g = w->guests->pdata[i];

		next = MIN(next, vmt_tier_engine_next_interval(g->engine, d->want_interval_ms,
								d->cfg->min_interval_ms,
								d->cfg->max_interval_ms));
	}
	if (w->guests->len == 0 || d->flusher)
		next = d->cfg->scan_interval_ms;
	d->want_interval_ms = next;
	adapt_sample(d, w);
	/* DAMON's aggregation interval is the window: follow the wanted one
	 * only when it drifted far enough to be worth a kdamond restart */
	if (d->damon && (next * 4 < d->interval_ms * 3 || next * 4 > d->interval_ms * 5))
		d->damon_dirty = TRUE;
	if (!d->damon || d->damon_dirty)
		d->interval_ms = next;
	if (d->oneshot_done) {
		oneshot_step(d);
		return;
	}
	/* a DAMON collect that worked already waited one aggregation interval;
	 * anything else (no guests, a failed start) waits here instead */
	schedule_window(d, d->damon && w->collected ? 10 : d->interval_ms);
}

static guint64 class_rate_mbs(VmtDaemon *d, const VmtGuest *g)
{
	if (g->klass_def && g->klass_def->max_migrate_mbs)
		return g->klass_def->max_migrate_mbs;
	return d->cfg->vm_migrate_mbs;
}

static void drop_guest(VmtDaemon *d, VmtGuest *g, const char *why)
{
	g_message("%s: no longer tiered: %s", g->name, why);
	vmt_daemon_account_guest(d, g);
	if (g->engine)
		d->damon_dirty = TRUE;
	if (d->flusher)
		vmt_host_flush_set_guest(d->flusher, g->name, 0, NULL);
	g_hash_table_remove(d->guests, g->name);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp((*(VmtGuest *const *)a)->name, (*(VmtGuest *const *)b)->name);
}

static gboolean on_window(gpointer data)
{
	VmtDaemon *d = data;
	g_autoptr(GTask) task = NULL;
	VmtWindow *w;
	GHashTableIter it;
	gpointer v;
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_guest_unref);
	guint64 global = d->cfg->max_migrate_mbs ? (guint64)d->cfg->max_migrate_mbs << 20 : 0;
	guint moving = 0;

	vmt_daemon_loop_ran("a window's start");
	d->window_source = 0;
	w = g_new0(VmtWindow, 1);
	w->d = d;
	w->guests = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_guest_unref);
	w->gone = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_guest_unref);
	w->budgets = g_array_new(FALSE, TRUE, sizeof(guint64));
	/* events only while the connection they come on is up: a state
	 * change while it was down is seen by the poll every window */
	if (d->events_id >= 0 && d->conn && virConnectIsAlive(d->conn) == 1)
		w->poll_us = (gint64)d->cfg->poll_interval_s * G_USEC_PER_SEC;
	g_hash_table_iter_init(&it, d->guests);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		VmtGuest *g = v;

		if (!g->engine)
			continue;	/* still attaching */
		if (!vmt_guest_alive(g)) {
			g_autofree char *why = g_strdup_printf("QEMU (pid %d) exited", g->pid);

			g_ptr_array_add(gone, vmt_guest_ref(g));
			vmt_guest_set_state(g, VMT_GUEST_STOPPING, why);
			continue;
		}
		g->scanner = d->scanner;
		g->scan_interval_ms = d->interval_ms;
		if (d->flusher)
			vmt_host_flush_set_guest(d->flusher, g->name, g->pid, g->vcpu_tids);
		g_ptr_array_add(w->guests, vmt_guest_ref(g));
		poll_soon(d, g, w->poll_us);
		moving += g_atomic_int_get(&g->may_move);
	}
	for (guint i = 0; i < gone->len; i++)
		drop_guest(d, gone->pdata[i], ((VmtGuest *)gone->pdata[i])->last_error);
	/* DAMON's targets (DAMOS's schemes) are the guests of its last start,
	 * in name order: any other set or order needs a restart; the budgets
	 * follow the same order */
	g_ptr_array_sort(w->guests, by_name);
	for (guint i = 0; i < w->guests->len; i++) {
		VmtGuest *g = w->guests->pdata[i];
		guint64 b = class_rate_mbs(d, g) * (1ull << 20) * d->interval_ms / 1000;

		if (global && moving)
			b = MIN(b, global / moving * d->interval_ms / 1000);
		g_array_append_val(w->budgets, b);
	}
	if (d->damos)
		for (guint i = 0; i < w->guests->len; i++)
			vmt_daemon_offload_guest(d, w->guests->pdata[i]);
	if (d->damon || d->damos) {
		g_autoptr(GString) set = g_string_new(NULL);

		for (guint i = 0; i < w->guests->len; i++) {
			VmtGuest *g = w->guests->pdata[i];

			if (d->damon)
				g_string_append_printf(set, "%s:%d:%u ", g->name, g->pid,
						       vmt_tier_engine_n_chunks(g->engine));
			else if (g->memcg)
				g_string_append_printf(set, "%s:%d:%s ", g->name, g->pid, g->memcg);
		}
		if (g_strcmp0(set->str, d->damon_set) != 0) {
			d->damon_dirty = TRUE;
			g_free(d->damon_set);
			d->damon_set = g_string_free(g_steal_pointer(&set), FALSE);
		}
	}
	w->restart_damon = (d->damon || d->damos) && d->damon_dirty;
	w->damos_n = w->restart_damon ? 0 : d->damos_n;
	d->damon_dirty = FALSE;
	w->params = d->cfg->params;
	w->interval_ms = d->interval_ms;
	w->guest_ms = d->cfg->guest_window_ms;
	w->sample_us = d->sample_us;
	w->flush_us = flush_period(d);
	d->window_running = TRUE;
	w->start_us = g_get_monotonic_time();
	task = g_task_new(NULL, d->cancel, window_done, d);
	g_task_set_task_data(task, w, (GDestroyNotify)window_free);
	g_task_run_in_thread(task, window_thread);
	return G_SOURCE_REMOVE;
}

static void schedule_window(VmtDaemon *d, guint ms)
{
	if (!d->window_source && !d->window_running)
		d->window_source = g_timeout_add(ms, on_window, d);
}

/* ---- discovery ---- */

static void close_conn(VmtDaemon *d);

/* The process behind libvirt-UUID.qmp must be the QEMU libvirt started for
 * NAME (AppArmor keeps other confined QEMUs off the name, but one that
 * escaped its profile could bind it: vmt_guest_attach checks it against
 * this, -1: unknown) and no other guest's. */
static int libvirt_pid(const VmtDaemon *d, const VmtGuest *g)
{
	g_autofree char *base = g_strdup_printf("%s.pid", g->name);
	g_autofree char *file = g_build_filename(d->pid_dir, base, NULL);
	g_autofree char *text = NULL;

	return g_file_get_contents(file, &text, NULL, NULL) ? atoi(text) : -1;
}

static gboolean check_pid(VmtDaemon *d, VmtGuest *g, int pid, GError **error)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, d->guests);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		VmtGuest *o = v;

		if (o != g && o->engine && o->pid == pid) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "pid %d is already %s's QEMU", pid, o->name);
			return FALSE;
		}
	}
	return TRUE;
}

/* One guest's attach, on a thread of GTask's pool: QMP may take seconds
 * (or hang until its timeout), and the main loop must not wait on it.  At
 * most ATTACHES_RUNNING at once, the rest queued in order, so that a host
 * starting many guests at once does not get a thread each.  Fewer do not
 * make attaches time out less: those time out on QEMUs starved for CPU (at
 * 4 at once, 32 guests took 258 s to attach with 91 timeouts, against 184
 * s unbounded: bench/README.md, "Scale", runs 7 and 8). */
#define ATTACHES_RUNNING 8

typedef struct {
	VmtDaemon *d;
	VmtGuest *g;			/* a ref */
	char *sock;
	int libvirt_pid, domain_id;
	guint64 ram_bytes;
	VmtBitmapCollect collect;	/* the bitmap scanner, to arm; or NULL */
	guint guest_ms;			/* its time limit (host-deadline.h) */
	gboolean armed;
} Attach;

static void attach_free(Attach *a)
{
	vmt_guest_unref(a->g);
	g_free(a->sock);
	g_free(a);
}

static void attach_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
	Attach *a = data;
	GError *error = NULL;
	VmtGuestMap *m = vmt_guest_map_query(a->g->name, a->sock, a->libvirt_pid, a->domain_id,
					     a->ram_bytes, &error);

	/* a bitmap scanner's first sample covers the guest's life until its
	 * bits are first reset: reset them now, within a window's time for a
	 * guest, so that the first window's sample counts (--oneshot has only
	 * that one); else that window's is discarded, as before */
	if (m && a->collect) {
		g_autofree guint16 *scratch = g_new0(guint16, MAX(1u, m->n_chunks));
		g_autoptr(GError) arm_error = NULL;
		gboolean valid;

		vmt_host_deadline_set(a->guest_ms);
		a->armed = a->collect(m->pid, m->ranges, scratch, &valid, &arm_error);
		vmt_host_deadline_set(0);
		if (!a->armed)
			g_debug("%s: scanner not armed at attach: %s", a->g->name, arm_error->message);
	}
	if (m)
		g_task_return_pointer(task, m, (GDestroyNotify)vmt_guest_map_free);
	else
		g_task_return_error(task, error);
}

/* The next queued attach, if there is room; when stopping, the queued ones
 * end as cancelled (attach_done counts them out) */
static void attach_next(VmtDaemon *d)
{
	GTask *task;

	if (g_cancellable_is_cancelled(d->cancel)) {
		while ((task = g_queue_pop_head(&d->attach_queue))) {
			g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "vmtierd is stopping");
			g_object_unref(task);
		}
		return;
	}
	/* running: the attaches not in the queue */
	if (d->attaching - g_queue_get_length(&d->attach_queue) < ATTACHES_RUNNING &&
	    (task = g_queue_pop_head(&d->attach_queue))) {
		g_task_run_in_thread(task, attach_thread);
		g_object_unref(task);
	}
}

static void attach_done(GObject *src, GAsyncResult *res, gpointer data)
{
	VmtDaemon *d = data;
	Attach *a = g_task_get_task_data(G_TASK(res));
	VmtGuest *g = a->g;
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtGuestMap) m = g_task_propagate_pointer(G_TASK(res), &error);

	vmt_daemon_loop_ran("an attach's end");
	d->attaching--;
	g->attaching = FALSE;
	attach_next(d);
	/* stopping, or the guest went away (or came back anew) meanwhile */
	if (g_cancellable_is_cancelled(d->cancel) || g_hash_table_lookup(d->guests, g->name) != g ||
	    g->engine)
		goto out;
	if (m && check_pid(d, g, m->pid, &error)) {
		vmt_guest_attach_map(g, m, &d->cfg->params);
		g->armed = a->armed && a->collect == d->collect;
		g_message("%s: attached to QEMU pid %d, %" G_GUINT64_FORMAT " MiB of RAM in %u chunks, "
			  "DRAM quota %" G_GUINT64_FORMAT " MiB%s", g->name, g->pid, g->ram_bytes >> 20,
			  vmt_tier_engine_n_chunks(g->engine), g->quota_bytes >> 20,
			  g->movable ? "" : " (report only: its memory cannot move)");
		d->damon_dirty = TRUE;
		goto out;
	}
	if (!g->last_error || strcmp(g->last_error, error->message) != 0)
		g_message("%s: cannot attach yet: %s", g->name, error->message);
	vmt_guest_set_state(g, VMT_GUEST_ATTACHING, error->message);
out:
	if (!g_cancellable_is_cancelled(d->cancel))
		oneshot_step(d);
}

static void try_attach(VmtDaemon *d, VmtGuest *g, const VmtDomainInfo *info)
{
	GTask *task;
	Attach *a;

	if (g->attaching)
		return;
	a = g_new0(Attach, 1);
	a->d = d;
	a->g = vmt_guest_ref(g);
	a->sock = vmt_domain_xml_qmp_path(d->cfg->qmp_dir, info->uuid);
	a->libvirt_pid = libvirt_pid(d, g);
	a->domain_id = info->id;
	a->ram_bytes = info->ram_bytes;
	a->collect = d->damon ? NULL : d->collect;
	a->guest_ms = d->cfg->guest_window_ms;
	g->attaching = TRUE;
	d->attaching++;
	task = g_task_new(NULL, d->cancel, attach_done, d);
	g_task_set_task_data(task, a, (GDestroyNotify)attach_free);
	g_queue_push_tail(&d->attach_queue, task);
	attach_next(d);
}

/* Class (SLO, migration rate) and the totals an earlier run left. */
static void guest_setup(VmtDaemon *d, VmtGuest *g)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = vmt_daemon_class_dir(d->cfg);
	VmtHistoryTotals t = { 0 };

	if (*g->klass && !(g->klass_def = vmt_class_load(dir, g->klass, &error)))
		g_warning("%s: %s (no SLO judged, default migration rate)", g->name, error->message);
	g_clear_error(&error);
	if (d->history && !vmt_history_load_totals(d->history, g->name, &t, &error))
		g_warning("%s: history: %s", g->name, error->message);
	g->promoted_bytes = g->acc_promoted = t.promoted_bytes;
	g->demoted_bytes = g->acc_demoted = t.demoted_bytes;
	g->migrations = g->acc_migrations = t.migrations;
	g->windows = t.windows;
	g->sums = t;
	g->errors.other = t.move_errors;	/* the kinds are not kept apart */
	g->acc_ts = g_get_real_time() / G_USEC_PER_SEC;
}

/* Add the running vmtier guests libvirt lists (DOMS), drop the ones gone. */
static void discovered(VmtDaemon *d, GPtrArray *doms)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_guest_unref);
	GHashTableIter it;
	gpointer v;

	for (guint i = 0; i < doms->len; i++) {
		VmtDomainInfo *info = doms->pdata[i];
		VmtGuest *g;

		if (strcmp(info->state, "running") != 0 && strcmp(info->state, "paused") != 0)
			continue;
		g_hash_table_add(seen, info->name);
		g = g_hash_table_lookup(d->guests, info->name);
		if (!g) {
			g = vmt_guest_new(info, d->host);
			g_hash_table_insert(d->guests, g->name, g);
			g_message("%s: found (tenant %s, class %s)", g->name, g->tenant, g->klass);
			guest_setup(d, g);
		}
		if (g->quota_bytes != info->dram_bytes)
			vmt_guest_set_quota(g, info->dram_bytes);
		if (!g->engine)
			try_attach(d, g, info);
	}
	g_hash_table_iter_init(&it, d->guests);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		VmtGuest *g = v;

		if (!g_hash_table_contains(seen, g->name) || (g->engine && !vmt_guest_alive(g)))
			g_ptr_array_add(gone, vmt_guest_ref(v));
	}
	for (guint i = 0; i < gone->len; i++)
		drop_guest(d, gone->pdata[i], "it stopped");
}

/* One reading of libvirt's list, and with no connection the connect
 * first (and the event subscription), on a thread of GTask's pool: a
 * libvirtd that is starting takes the connection at once but answers only
 * once its drivers are up, seconds later (the soak test's libvirtd
 * restarts stalled the main loop 6 s), and its list waits on QEMU for some
 * answers.  The main loop must not wait on either. */
typedef struct {
	VmtDaemon *d;
	char *uri;
	virConnectPtr conn;		/* a ref; NULL: connect first */
	gboolean fresh;			/* connected by this listing */
	int events_id;			/* ... and its subscription, -1: none */
} Listing;

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *data);

static void listing_free(Listing *l)
{
	/* a fresh connection the main thread did not take (stopping) */
	if (l->conn && l->fresh && l->events_id >= 0)
		virConnectDomainEventDeregisterAny(l->conn, l->events_id);
	if (l->conn)
		virConnectClose(l->conn);
	g_free(l->uri);
	g_free(l);
}

static void list_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
	Listing *l = data;
	GError *error = NULL;
	GPtrArray *doms;

	if (!l->conn) {
		l->conn = vmt_domains_connect(l->uri, &error);
		if (!l->conn) {
			g_task_return_error(task, error);
			return;
		}
		l->fresh = TRUE;
		/* its callbacks come on the main loop (libvirt's default event
		 * implementation is GLib's main context) */
		l->events_id = virConnectDomainEventRegisterAny(l->conn, NULL,
								VIR_DOMAIN_EVENT_ID_LIFECYCLE,
								VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
								l->d, NULL);
	}
	doms = vmt_domains_list(l->conn, &error);
	if (doms)
		g_task_return_pointer(task, doms, (GDestroyNotify)g_ptr_array_unref);
	else
		g_task_return_error(task, error);
}

static void discover(VmtDaemon *d);

static void list_done(GObject *src, GAsyncResult *res, gpointer data)
{
	VmtDaemon *d = data;
	Listing *l = g_task_get_task_data(G_TASK(res));
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) doms = g_task_propagate_pointer(G_TASK(res), &error);

	vmt_daemon_loop_ran("libvirt's list");
	d->listing = FALSE;
	if (g_cancellable_is_cancelled(d->cancel))
		return;
	if (l->fresh) {
		d->conn = g_steal_pointer(&l->conn);
		d->events_id = l->events_id;
		g_message("libvirt: connected to %s", d->cfg->libvirt_uri);
		d->conn_lost_logged = FALSE;
		if (d->events_id < 0)
			g_warning("libvirt: cannot subscribe to lifecycle events; relying on the %us "
				  "sweep", d->cfg->discover_interval_s);
	} else if (!l->conn) {
		if (!d->conn_lost_logged)
			g_warning("libvirt: %s (guests already attached keep being tiered)",
				  error->message);
		d->conn_lost_logged = TRUE;
	}
	if (doms) {
		discovered(d, doms);
	} else if (d->conn && (l->fresh || l->conn == d->conn)) {
		g_warning("libvirt: %s; reconnecting", error->message);
		close_conn(d);
	}
	if (d->list_again) {
		d->list_again = FALSE;
		discover(d);
	}
	oneshot_step(d);
}

static void discover(VmtDaemon *d)
{
	g_autoptr(GTask) task = NULL;
	Listing *l;

	if (d->listing) {
		d->list_again = TRUE;	/* an event came meanwhile */
		return;
	}
	d->listing = TRUE;
	l = g_new0(Listing, 1);
	l->d = d;
	l->uri = g_strdup(d->cfg->libvirt_uri);
	l->conn = d->conn ? (virConnectRef(d->conn), d->conn) : NULL;
	l->events_id = -1;
	task = g_task_new(NULL, d->cancel, list_done, d);
	g_task_set_task_data(task, l, (GDestroyNotify)listing_free);
	g_task_run_in_thread(task, list_thread);
}

static gboolean on_discover(gpointer data)
{
	vmt_daemon_loop_ran("discovery");
	discover(data);
	return G_SOURCE_CONTINUE;
}

static gboolean on_discover_idle(gpointer data)
{
	VmtDaemon *d = data;

	vmt_daemon_loop_ran("discovery");
	d->discover_idle = 0;
	discover(d);
	return G_SOURCE_REMOVE;
}

void vmt_daemon_discover_soon(VmtDaemon *d)
{
	/* --oneshot: its one discover is the one at start */
	if (!d->discover_idle && !d->oneshot_done)
		d->discover_idle = g_idle_add(on_discover_idle, d);
}

/* ---- accounting: history rows, running totals, metrics ---- */

/* At the first account and hourly after: the store would grow forever. */
static gboolean on_account(gpointer data)
{
	vmt_daemon_loop_ran("accounting");
	vmt_daemon_account(data);
	return G_SOURCE_CONTINUE;
}

/* ---- libvirt lifecycle events.  libvirt's default event implementation
 * is GLib's default main context, which our loop already runs: its
 * callbacks arrive on the main thread (a thread of its own running
 * virEventRunDefaultImpl would iterate our context too, and dispatch our
 * sources there). ---- */

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *data)
{
	VmtDaemon *d = data;
	const char *name = virDomainGetName(dom);
	VmtGuest *g = name ? g_hash_table_lookup(d->guests, name) : NULL;

	vmt_daemon_loop_ran("a libvirt event");
	/* its QEMU is asked when its next window starts (poll_soon); until
	 * it answers, the guest is neither read nor moved: a window on the
	 * last answer would take a paused guest's silence for cold pages */
	if (g) {
		g_atomic_int_set(&g->running, FALSE);
		g_atomic_int_set(&g->may_move, FALSE);
		g_atomic_int_set(&g->poll_due, TRUE);
	}
	vmt_daemon_discover_soon(d);
	return 0;
}

static void close_conn(VmtDaemon *d)
{
	if (d->events_id >= 0)
		virConnectDomainEventDeregisterAny(d->conn, d->events_id);
	d->events_id = -1;
	virConnectClose(d->conn);
	d->conn = NULL;
}

/* ---- life ---- */

static gboolean take_lock(VmtDaemon *d, GError **error)
{
	g_autofree char *path = g_build_filename(d->cfg->state_dir, "vmtierd.lock", NULL);

	if (g_mkdir_with_parents(d->cfg->state_dir, 0700) < 0 ||
	    (d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		int e = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s: %s", path, g_strerror(e));
		return FALSE;
	}
	/* the hook probes the lock with a shared one for an instant: 1 s */
	for (int tries = 1; flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0; tries++) {
		if (errno != EWOULDBLOCK || tries == 100) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
				    "another vmtierd is running (it holds %s)", path);
			return FALSE;
		}
		g_usleep(10000);
	}
	return TRUE;
}

VmtDaemon *vmt_daemon_new(VmtDaemonConfig *cfg, GError **error)
{
	VmtDaemon *d = g_new0(VmtDaemon, 1);

	d->cfg = cfg;
	d->guests = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					  (GDestroyNotify)vmt_guest_unref);
	d->cancel = g_cancellable_new();
	d->polls = g_thread_pool_new_full(poll_job, NULL, (GDestroyNotify)poll_job_free, WORKER_THREADS,
					  FALSE, NULL);
	d->events_id = -1;
	d->damos_guests = g_ptr_array_new_with_free_func((GDestroyNotify)vmt_guest_unref);
	d->started_us = g_get_monotonic_time();
	d->started_ts = g_get_real_time() / G_USEC_PER_SEC;
	d->interval_ms = d->want_interval_ms = cfg->scan_interval_ms;
	d->sample_us = max_sample_us(d);
	d->lock_fd = -1;
	d->pid_dir = g_strdup("/run/libvirt/qemu");
	d->host = vmt_host_load(error);
	/* one vmtierd at a time: a second one would take DAMON from the first */
	if (!d->host || !take_lock(d, error) || !choose_scanner(d, error)) {
		vmt_daemon_free(d);
		return NULL;
	}
	/* a vmtierd that died left them; in offload mode they were promoting */
	for (guint k = 0; k < 2; k++) {
		VmtDamon *x = k ? d->damos : d->damon;

		if (x && vmt_host_damon_leftover(x))
			g_message("DAMON: %u kdamond(s) an earlier vmtierd left running found by its "
				  "marker and turned off before anything else",
				  vmt_host_damon_leftover(x));
	}
	return d;
}

void vmt_daemon_set_oneshot(VmtDaemon *d, GSourceFunc done, gpointer data)
{
	d->oneshot_done = done;
	d->oneshot_data = data;
}

void vmt_daemon_set_pid_dir(VmtDaemon *d, const char *dir)
{
	g_free(d->pid_dir);
	d->pid_dir = g_strdup(dir);
}

void vmt_daemon_set_collect(VmtDaemon *d, VmtScanner scanner, VmtBitmapCollect collect)
{
	g_clear_pointer(&d->flusher, vmt_host_flush_free);
	g_clear_pointer(&d->damon, vmt_host_damon_release);
	g_clear_pointer(&d->scanner_note, g_free);
	d->scanner = scanner;
	d->collect = collect;
}

/* --oneshot: one discover (and the attaches it started), one window, one
 * account, then DONE. */
static void oneshot_step(VmtDaemon *d)
{
	if (!d->oneshot_done || d->attaching || d->listing || d->window_source || d->window_running)
		return;
	switch (d->oneshot_stage++) {
	case 0:		/* discovered and attached */
		schedule_window(d, 0);
		break;
	case 1:		/* the window is done */
		vmt_daemon_account(d);
		vmt_daemon_account_wait(d);
		g_message("oneshot: discover, window and account done");
		d->oneshot_done(d->oneshot_data);
		break;
	default:
		break;
	}
}

gboolean vmt_daemon_start(VmtDaemon *d, GError **error)
{
	static gsize events_once;
	gid_t gid;

	if (!vmt_daemon_socket_gid(d->cfg->socket_group, &gid, error))
		return FALSE;
	g_mkdir_with_parents(d->cfg->state_dir, 0700);
	vmt_daemon_loop_watch();
	d->ctl = vmt_ctl_server_new(d->cfg->socket_path, gid, vmt_daemon_ctl_request, d, error);
	if (!d->ctl)
		return FALSE;
	if (g_once_init_enter(&events_once)) {
		virEventRegisterDefaultImpl();
		g_once_init_leave(&events_once, 1);
	}
	vmt_daemon_account_open(d);
	g_message("scanner: %s; pages moved by %s; control socket %s", vmt_scanner_name(d->scanner),
		  d->damos ? "the kernel (DAMOS) where it can" : "vmtierd", d->cfg->socket_path);
	discover(d);
	if (d->oneshot_done) {
		oneshot_step(d);
		return TRUE;
	}
	d->discover_source = g_timeout_add_seconds(d->cfg->discover_interval_s, on_discover, d);
	d->account_source = g_timeout_add_seconds(d->cfg->account_interval_s, on_account, d);
	schedule_window(d, d->interval_ms);
	return TRUE;
}

gboolean vmt_daemon_reload(VmtDaemon *d, GError **error)
{
	const char *path = d->cfg->path ? d->cfg->path : vmt_daemon_config_default_path();
	VmtDaemonConfig *n = vmt_daemon_config_load(path, d->cfg->path != NULL, error);

	if (!n)
		return FALSE;
	/* live: policy, limits, intervals; the rest needs a restart */
	d->cfg->params = n->params;
	d->cfg->max_migrate_mbs = n->max_migrate_mbs;
	d->cfg->vm_migrate_mbs = n->vm_migrate_mbs;
	d->cfg->min_interval_ms = n->min_interval_ms;
	d->cfg->max_interval_ms = n->max_interval_ms;
	d->cfg->dram_reserve_bytes = n->dram_reserve_bytes;
	d->cfg->history_days = n->history_days;
	/* the sample interval's bounds too (flush_us needs a restart): a new
	 * bound restarts DAMON */
	if (d->cfg->sample_us != n->sample_us || d->cfg->min_sample_us != n->min_sample_us)
		d->damon_dirty = TRUE;
	d->cfg->sample_us = n->sample_us;
	d->cfg->min_sample_us = n->min_sample_us;
	d->sample_us = CLAMP(d->sample_us, n->min_sample_us, max_sample_us(d));
	if (d->cfg->account_interval_s != n->account_interval_s && d->account_source) {
		g_source_remove(d->account_source);
		d->account_source = g_timeout_add_seconds(n->account_interval_s, on_account, d);
	}
	d->cfg->account_interval_s = n->account_interval_s;
	vmt_daemon_config_free(n);
	return TRUE;
}

void vmt_daemon_free(VmtDaemon *d)
{
	if (!d)
		return;
	vmt_daemon_loop_unwatch();
	g_cancellable_cancel(d->cancel);
	attach_next(d);		/* the queued ones end */
	/* a window on the worker thread still uses DAMON and the guests, and
	 * attach tasks the daemon (each ends within its QMP timeouts), and a
	 * set owes its client the reply (within libvirt's) */
	while (d->window_running || d->attaching || d->listing || d->setting)
		g_main_context_iteration(NULL, TRUE);
	/* the polls under way end within their QMP timeouts; queued ones go */
	g_thread_pool_free(g_steal_pointer(&d->polls), TRUE, TRUE);
	g_clear_handle_id(&d->window_source, g_source_remove);
	g_clear_handle_id(&d->discover_source, g_source_remove);
	g_clear_handle_id(&d->discover_idle, g_source_remove);
	g_clear_handle_id(&d->account_source, g_source_remove);
	g_clear_pointer(&d->ctl, vmt_ctl_server_free);
	g_clear_pointer(&d->flusher, vmt_host_flush_free);
	g_clear_pointer(&d->damon, vmt_host_damon_release);
	g_clear_pointer(&d->damos, vmt_host_damon_release);
	g_clear_pointer(&d->damos_guests, g_ptr_array_unref);
	if (d->conn)
		close_conn(d);
	/* the interval under way goes into the history too, if a window
	 * measured anything since the last account (--oneshot's was its one) */
	if (d->account_pool && d->windows_done != d->windows_accounted)
		vmt_daemon_account(d);
	vmt_daemon_account_close(d);
	g_hash_table_unref(d->guests);
	g_clear_object(&d->cancel);
	vmt_host_free(d->host);
	vmt_daemon_config_free(d->cfg);
	g_free(d->scanner_note);
	g_free(d->offload_note);
	g_free(d->damon_set);
	g_free(d->pid_dir);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	g_free(d);
}
