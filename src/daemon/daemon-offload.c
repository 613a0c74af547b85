// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd's offload=damos mode: the kernel's DAMOS moves the guests' pages
 * (host-damos.h), vmtierd picks the guests, steers each one's promotion
 * quota to its DRAM quota every window and reads what the kernel moved. */
#define G_LOG_DOMAIN "vmtierd"
#include "daemon-private.h"
#include "host-damos.h"
#include "host-proc.h"

#include <string.h>

/* offload=damos: the kernel moves pages through paddr kdamonds of ours.
 * DAMON is then taken, so vmtierd scans with a bitmap scanner. */
void vmt_daemon_offload_choose(VmtDaemon *d)
{
	g_autoptr(GError) local = NULL;

	if (d->cfg->offload != VMT_OFFLOAD_DAMOS)
		return;
	if (!d->host->damos_migrate) {
		g_set_error(&local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "this kernel has no DAMOS migrate_hot/migrate_cold on physical memory "
			    "(Linux 6.11+, CONFIG_DAMON_PADDR, CONFIG_DAMON_SYSFS)");
	} else {
		g_autofree char *marker = g_build_filename(d->cfg->state_dir, "damon.owner", NULL);

		d->damos = vmt_host_damon_claim(marker, "paddr", &local);
	}
	if (!d->damos) {
		d->offload_note = g_strdup_printf("offload damos not used: %s; vmtierd moves pages "
						  "itself", local->message);
		g_warning("%s", d->offload_note);
	}
}

static guint offloaded(VmtDaemon *d)
{
	GHashTableIter it;
	gpointer v;
	guint n = 0;

	g_hash_table_iter_init(&it, d->guests);
	while (g_hash_table_iter_next(&it, NULL, &v))
		n += ((VmtGuest *)v)->memcg != NULL;
	return n;
}

/* offload=damos: G's pages go to the kernel when its QEMU's memory is
 * charged to a memory cgroup of its own (libvirt makes one per guest when
 * its cgroups are on) and holding no other process; otherwise vmtierd
 * moves them, and says why.  At most offload_max_guests are: each has a
 * kdamond walking all the guests' nodes, steered in turn every window. */
void vmt_daemon_offload_guest(VmtDaemon *d, VmtGuest *g)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *memcg = NULL;
	GHashTableIter it;
	gpointer v;

	if (g->memcg || (g->offload_note && !g->offload_capped) || !g->movable)
		return;
	if (offloaded(d) >= d->cfg->offload_max_guests) {
		if (!g->offload_capped) {
			g_mutex_lock(&g->lock);
			g->offload_note = g_strdup_printf("not offloaded: offload_max_guests (%u) "
							  "guests are already",
							  d->cfg->offload_max_guests);
			g->offload_capped = TRUE;
			g_mutex_unlock(&g->lock);
			g_message("%s: %s; vmtierd moves its pages", g->name, g->offload_note);
		}
		return;
	}
	/* a place freed up */
	g_mutex_lock(&g->lock);
	g_clear_pointer(&g->offload_note, g_free);
	g->offload_capped = FALSE;
	g_mutex_unlock(&g->lock);
	if ((memcg = vmt_host_proc_memcg(g->pid, &error)) &&
	    !vmt_host_proc_memcg_alone(memcg, g->pid, &error))
		g_clear_pointer(&memcg, g_free);
	g_hash_table_iter_init(&it, d->guests);
	while (memcg && g_hash_table_iter_next(&it, NULL, &v)) {
		VmtGuest *o = v;

		if (o == g || g_strcmp0(o->memcg, memcg) != 0)
			continue;
		/* the filter would take the other guest's pages too: neither */
		g_set_error(&error, G_IO_ERROR, G_IO_ERROR_EXISTS,
			    "its memory cgroup %s is also %s's", memcg, o->name);
		g_mutex_lock(&o->lock);
		o->offload_note = g_strdup_printf("not offloaded: its memory cgroup %s is also %s's",
						  memcg, g->name);
		g_clear_pointer(&o->memcg, g_free);
		g_mutex_unlock(&o->lock);
		g_message("%s: %s; vmtierd moves its pages", o->name, o->offload_note);
		g_clear_pointer(&memcg, g_free);
	}
	g_mutex_lock(&g->lock);
	if (memcg)
		g->memcg = g_steal_pointer(&memcg);
	else
		g->offload_note = g_strdup_printf("not offloaded: %s", error->message);
	g_mutex_unlock(&g->lock);
	if (g->memcg)
		g_message("%s: the kernel moves its pages (DAMOS, memory cgroup %s)", g->name, g->memcg);
	else
		g_message("%s: %s; vmtierd moves its pages", g->name, g->offload_note);
}

/* DAMOS's aggregation interval: short, as steering and reading its stats
 * each wait for one; quotas still count per window (reset_ms) */
#define DAMOS_AGGR_US 100000u

void vmt_daemon_offload_start(VmtWindow *w)
{
	VmtDaemon *d = w->d;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) guests = g_array_new(FALSE, TRUE, sizeof(VmtDamosGuest));
	g_autoptr(GArray) dram = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GArray) slow = g_array_new(FALSE, FALSE, sizeof(int));
	guint aggr_ms = DAMOS_AGGR_US / 1000;
	/* idle for demote_windows windows, as vmtierd's own policy */
	guint cold = MAX(1u, w->params.demote_windows * w->interval_ms / aggr_ms);

	/* what the kernel moved since the last reading, before it restarts */
	if (d->damos_guests->len > 0) {
		g_autofree guint64 *up = g_new0(guint64, d->damos_guests->len);
		g_autofree guint64 *down = g_new0(guint64, d->damos_guests->len);

		if (vmt_host_damos_stats(d->damos, up, down, d->damos_guests->len, NULL))
			for (guint i = 0; i < d->damos_guests->len; i++)
				vmt_guest_offloaded(d->damos_guests->pdata[i], up[i], down[i]);
		g_ptr_array_set_size(d->damos_guests, 0);
	}
	for (guint i = 0; i < w->guests->len; i++) {
		VmtGuest *g = w->guests->pdata[i];
		VmtDamosGuest dg = { g->memcg, g->fast_node, g->slow_node };
		gboolean seen = FALSE;

		if (!g->memcg)
			continue;
		g_array_append_val(guests, dg);
		for (guint n = 0; n < g->n_nodes; n++) {
			int id = (int)n;
			VmtNode *node = vmt_host_node(d->host, id);

			seen = FALSE;
			for (guint k = 0; k < dram->len; k++)
				seen |= g_array_index(dram, int, k) == id;
			/* CPU-only nodes count as DRAM but have no memory to watch */
			if (g->fast_nodes[n] && !seen && node && vmt_node_online_bytes(node) > 0)
				g_array_append_val(dram, id);
		}
		seen = FALSE;
		for (guint k = 0; k < slow->len; k++)
			seen |= g_array_index(slow, int, k) == g->slow_node;
		if (!seen)
			g_array_append_val(slow, g->slow_node);
		g_mutex_lock(&g->lock);
		g->damos_promoted = g->damos_demoted = 0;
		g_mutex_unlock(&g->lock);
	}
	if (!vmt_host_damos_start(d->damos, (VmtDamosGuest *)guests->data, guests->len, dram, slow,
				  d->cfg->sample_us, DAMOS_AGGR_US, w->interval_ms, cold, &error)) {
		w->damon_error = g_strdup_printf("DAMOS offload: %s", error->message);
		w->damos_failed = TRUE;
		return;
	}
	for (guint i = 0; i < w->guests->len; i++)
		if (((VmtGuest *)w->guests->pdata[i])->memcg)
			g_ptr_array_add(d->damos_guests, vmt_guest_ref(w->guests->pdata[i]));
	w->damos_n = guests->len;
}

/* Each offloaded guest's promotion quota for the next window, from its
 * DRAM use now: up to its DRAM quota, within its migration budget (what
 * is over the quota, vmtierd demotes: vmt_guest_window); then the bytes
 * the kernel moved. */
void vmt_daemon_offload_steer(VmtWindow *w)
{
	VmtDaemon *d = w->d;
	g_autoptr(GError) error = NULL;
	g_autofree VmtDamosSteer *st = g_new0(VmtDamosSteer, MAX(1u, w->damos_n));
	g_autofree guint64 *up = g_new0(guint64, MAX(1u, w->damos_n));
	g_autofree guint64 *down = g_new0(guint64, MAX(1u, w->damos_n));
	g_autofree VmtGuest **gs = g_new0(VmtGuest *, MAX(1u, w->damos_n));
	guint n = 0;

	for (guint i = 0; i < w->guests->len && n < w->damos_n; i++) {
		VmtGuest *g = w->guests->pdata[i];
		guint64 budget = g_array_index(w->budgets, guint64, i), used, quota;
		VmtGuestState state;

		if (!g->memcg)
			continue;
		g_mutex_lock(&g->lock);
		used = g->stats.fast_bytes;
		quota = g->quota_bytes;
		state = g->state;	/* a poll thread may set it */
		g_mutex_unlock(&g->lock);
		/* paused for migration or shutting down: the kernel leaves it be */
		if (g_atomic_int_get(&g->may_move) && state != VMT_GUEST_ERROR) {
			/* not in a fresh kdamond's first window: a new quota only
			 * holds from the next reset interval, and seen overshooting
			 * by 150 MiB in the first one (6.12) */
			if (!w->restart_damon && used < quota)
				st[n].promote_bytes = MIN(budget, quota - used);
			st[n].demote_cold = TRUE;
		}
		gs[n++] = g;
	}
	if (n != w->damos_n)
		return;
	if (!vmt_host_damos_steer(d->damos, st, n, w->interval_ms,
				  MAX(1u, w->params.demote_windows * w->interval_ms /
					  (DAMOS_AGGR_US / 1000)), &error) ||
	    !vmt_host_damos_stats(d->damos, up, down, n, &error)) {
		w->damon_error = g_strdup_printf("DAMOS offload: %s", error->message);
		return;
	}
	for (guint i = 0; i < n; i++)
		vmt_guest_offloaded(gs[i], up[i], down[i]);
}

/* DAMOS would not start: vmtierd moves these guests' pages from now on */
void vmt_daemon_offload_fallback(VmtWindow *w)
{
	for (guint i = 0; i < w->guests->len; i++) {
		VmtGuest *g = w->guests->pdata[i];

		if (!g->memcg)
			continue;
		g_mutex_lock(&g->lock);
		g->offload_note = g_strdup_printf("not offloaded: %s", w->damon_error);
		g_clear_pointer(&g->memcg, g_free);
		g_mutex_unlock(&g->lock);
		g_message("%s: %s; vmtierd moves its pages", g->name, g->offload_note);
	}
}
