// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd's accounting (daemon-private.h): each guest's interval is read
 * on the main thread, then the history's rows, its pruning and the
 * metrics file are written by a thread of their own, in order. */
#define G_LOG_DOMAIN "vmtierd"
#include "daemon-private.h"
#include "config.h"
#include "metrics.h"

#include <string.h>

/* One account's rows and metrics, owning every string it points to (a
 * guest may be gone by the time they are written). */
typedef struct {
	GStringChunk *strings;
	GArray *samples;		/* VmtHistorySample */
	GArray *totals;			/* VmtHistoryTotals */
	GArray *vms;			/* VmtMetricsVm, sample/totals set by the writer */
	GArray *nodes;			/* VmtMetricsNode */
	const char *metrics_file;	/* the file too (not for a guest leaving) */
	VmtMetricsDaemon md;
	gint64 prune_before;		/* 0: no pruning this time */
	guint history_days;
} Job;

static void job_free(Job *j)
{
	g_string_chunk_free(j->strings);
	g_array_unref(j->samples);
	g_array_unref(j->totals);
	g_array_unref(j->vms);
	g_clear_pointer(&j->nodes, g_array_unref);
	g_free(j);
}

static Job *job_new(void)
{
	Job *j = g_new0(Job, 1);

	j->strings = g_string_chunk_new(256);
	j->samples = g_array_new(FALSE, TRUE, sizeof(VmtHistorySample));
	j->totals = g_array_new(FALSE, TRUE, sizeof(VmtHistoryTotals));
	j->vms = g_array_new(FALSE, TRUE, sizeof(VmtMetricsVm));
	return j;
}

static const char *keep(Job *j, const char *s)
{
	return s ? g_string_chunk_insert_const(j->strings, s) : NULL;
}

/* G's interval into J */
static void add_guest(VmtDaemon *d, Job *j, VmtGuest *g, gint64 now)
{
	VmtHistorySample s;
	VmtHistoryTotals t;
	const VmtClass *c = g->klass_def;
	VmtMetricsVm vm = { .has_slo = c && c->has_slo };

	vmt_guest_account(g, now, d->scanner, &s, &t);
	s.vm = keep(j, s.vm);
	s.tenant = keep(j, s.tenant);
	s.klass = keep(j, s.klass);
	s.scanner = keep(j, s.scanner);
	g_array_append_val(j->samples, s);
	g_array_append_val(j->totals, t);
	if (vm.has_slo) {
		vm.slo_target = c->slo_target;
		vm.slo_intervals = c->slo_intervals;
		vm.slo_grace_s = c->slo_grace_s;
	}
	g_array_append_val(j->vms, vm);
}

/* The metrics' nodes: capacity, and the running guests' quotas by the
 * node their promotions go to. */
static GArray *metrics_nodes(VmtDaemon *d)
{
	GArray *nodes = g_array_new(FALSE, TRUE, sizeof(VmtMetricsNode));
	GHashTableIter it;
	gpointer v;

	for (guint i = 0; i < d->host->nodes->len; i++) {
		const VmtNode *n = d->host->nodes->pdata[i];
		VmtMetricsNode m = {
			.id = n->id, .kind = vmt_node_kind_name(n->kind), .tier = n->memory_tier,
			.capacity_bytes = vmt_node_online_bytes(n),
		};

		g_array_append_val(nodes, m);
	}
	g_hash_table_iter_init(&it, d->guests);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		VmtGuest *g = v;

		for (guint i = 0; i < nodes->len; i++) {
			VmtMetricsNode *m = &g_array_index(nodes, VmtMetricsNode, i);

			g_mutex_lock(&g->lock);
			if (m->id == g->fast_node && g->pid > 0)
				m->committed_bytes += g->quota_bytes;
			g_mutex_unlock(&g->lock);
		}
	}
	return nodes;
}

static void add_metrics(VmtDaemon *d, Job *j, gint64 now)
{
	/* a copy: the writer does not read the configuration */
	j->metrics_file = keep(j, d->cfg->metrics_file);
	j->nodes = metrics_nodes(d);
	/* the names are static strings */
	j->md = (VmtMetricsDaemon){
		.version = VMT_VERSION, .scanner = vmt_scanner_name(d->scanner),
		.offload = d->damos ? "damos" : "none",
		.start_time = d->started_ts, .now = now, .windows = d->windows_done,
		.scan_seconds = d->windows_us / 1e6, .last_scan_seconds = d->last_window_us / 1e6,
		.libvirt_connected = d->conn && virConnectIsAlive(d->conn) == 1,
		.dram_reserve_bytes = d->cfg->dram_reserve_bytes,
	};
}

/* ---- the writer thread ---- */

static void write_job(gpointer data, gpointer user)
{
	Job *j = data;
	VmtDaemon *d = user;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; d->history && i < j->samples->len; i++) {
		const VmtHistorySample *s = &g_array_index(j->samples, VmtHistorySample, i);

		if (!vmt_history_record(d->history, s, &g_array_index(j->totals, VmtHistoryTotals, i),
					&error)) {
			g_warning("%s: history: %s", s->vm, error->message);
			g_clear_error(&error);
		}
	}
	if (d->history && j->prune_before) {
		guint removed = 0;

		if (!vmt_history_prune(d->history, j->prune_before, &removed, &error))
			g_warning("history: %s", error->message);
		else if (removed)
			g_message("history: pruned %u rows older than %u days", removed,
				  j->history_days);
		g_clear_error(&error);
	}
	if (j->metrics_file) {
		for (guint i = 0; i < j->vms->len; i++) {
			VmtMetricsVm *vm = &g_array_index(j->vms, VmtMetricsVm, i);

			vm->sample = &g_array_index(j->samples, VmtHistorySample, i);
			vm->totals = &g_array_index(j->totals, VmtHistoryTotals, i);
		}
		j->md.nodes = (VmtMetricsNode *)j->nodes->data;
		j->md.n_nodes = j->nodes->len;
		if (!vmt_metrics_write(j->metrics_file, &j->md, (VmtMetricsVm *)j->vms->data,
				       j->vms->len, &error))
			g_warning("metrics: %s", error->message);
	}
	job_free(j);
	g_mutex_lock(&d->account_lock);
	d->account_pending--;
	g_cond_broadcast(&d->account_done);
	g_mutex_unlock(&d->account_lock);
}

static void push(VmtDaemon *d, Job *j)
{
	g_mutex_lock(&d->account_lock);
	d->account_pending++;
	g_mutex_unlock(&d->account_lock);
	g_thread_pool_push(d->account_pool, j, NULL);
}

void vmt_daemon_account_open(VmtDaemon *d)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_path_get_dirname(d->cfg->history_db);

	g_mkdir_with_parents(dir, 0700);
	d->history = vmt_history_open(d->cfg->history_db, &error);
	if (!d->history)
		g_warning("history: %s; running without history", error->message);
	g_mutex_init(&d->account_lock);
	g_cond_init(&d->account_done);
	/* one thread: the jobs are written in the order they were read */
	d->account_pool = g_thread_pool_new(write_job, d, 1, TRUE, NULL);
}

void vmt_daemon_account(VmtDaemon *d)
{
	Job *j = job_new();
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, d->guests);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (vmt_guest_measured(v))	/* else nothing measured since attach */
			add_guest(d, j, v, now);
	d->windows_accounted = d->windows_done;
	if (d->history && d->cfg->history_days && now - d->pruned_ts >= 3600) {
		d->pruned_ts = now;
		j->prune_before = now - (gint64)d->cfg->history_days * 86400;
		j->history_days = d->cfg->history_days;
	}
	if (*d->cfg->metrics_file)
		add_metrics(d, j, now);
	push(d, j);
}

void vmt_daemon_account_guest(VmtDaemon *d, VmtGuest *g)
{
	Job *j;

	if (!vmt_guest_measured(g))
		return;
	j = job_new();
	add_guest(d, j, g, g_get_real_time() / G_USEC_PER_SEC);
	push(d, j);
}

void vmt_daemon_account_wait(VmtDaemon *d)
{
	if (!d->account_pool)
		return;
	g_mutex_lock(&d->account_lock);
	while (d->account_pending > 0)
		g_cond_wait(&d->account_done, &d->account_lock);
	g_mutex_unlock(&d->account_lock);
}

void vmt_daemon_account_close(VmtDaemon *d)
{
	if (d->account_pool) {
		/* every job queued is written */
		g_thread_pool_free(g_steal_pointer(&d->account_pool), FALSE, TRUE);
		g_mutex_clear(&d->account_lock);
		g_cond_clear(&d->account_done);
	}
	g_clear_pointer(&d->history, vmt_history_close);
}
