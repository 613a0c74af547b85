// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd's control-socket requests: status, set, notify (see ctl.h). */
#define G_LOG_DOMAIN "vmtierd"
#include "daemon-private.h"
#include "config.h"
#include "domains.h"
#include "error.h"
#include "guest.h"
#include "size.h"

#include <string.h>

static VmtGuest *lookup(VmtDaemon *d, json_object *req, GError **error)
{
	json_object *v;
	const char *name;
	VmtGuest *g;

	if (!json_object_object_get_ex(req, "name", &v) || !json_object_is_type(v, json_type_string)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "request lacks a \"name\"");
		return NULL;
	}
	name = json_object_get_string(v);
	g = g_hash_table_lookup(d->guests, name);
	if (!g)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "no running vmtier guest named '%s'", name);
	return g;
}

/* windows' length and where it went, of the last one or of all (US):
 * DAMON's collect, the QMP polls, the guests' steps, DAMOS's steering */
static json_object *window_time(gint64 total_us, const gint64 *us)
{
	static const char *const names[VMT_PHASES] = { "scan_s", "poll_s", "guests_s", "offload_s" };
	json_object *o = json_object_new_object();

	json_object_object_add(o, "seconds", json_object_new_double(total_us / 1e6));
	for (guint p = 0; p < VMT_PHASES; p++)
		json_object_object_add(o, names[p], json_object_new_double(us[p] / 1e6));
	return o;
}

static json_object *do_status(VmtDaemon *d, json_object *req, GError **error)
{
	json_object *reply = json_object_new_object(), *daemon = json_object_new_object();
	json_object *vms = json_object_new_array();
	g_autoptr(GList) names = g_hash_table_get_keys(d->guests);

	json_object_object_add(daemon, "version", json_object_new_string(VMT_VERSION));
	json_object_object_add(daemon, "uptime_s",
			       json_object_new_int64((g_get_monotonic_time() - d->started_us) / G_USEC_PER_SEC));
	json_object_object_add(daemon, "scanner", json_object_new_string(vmt_scanner_name(d->scanner)));
	json_object_object_add(daemon, "scanner_note",
			       d->scanner_note ? json_object_new_string(d->scanner_note) : NULL);
	json_object_object_add(daemon, "offload", json_object_new_string(vmt_offload_name(d->damos ? VMT_OFFLOAD_DAMOS :
										VMT_OFFLOAD_NONE)));
	json_object_object_add(daemon, "offload_note",
			       d->offload_note ? json_object_new_string(d->offload_note) : NULL);
	json_object_object_add(daemon, "config",
			       d->cfg->path ? json_object_new_string(d->cfg->path) : NULL);
	json_object_object_add(daemon, "libvirt_connected", json_object_new_boolean(d->conn != NULL));
	json_object_object_add(daemon, "windows", json_object_new_uint64(d->windows_done));
	json_object_object_add(daemon, "flush_us", d->flusher ? json_object_new_int64(vmt_host_flush_period(d->flusher))
							      : NULL);
	json_object_object_add(daemon, "window_time", window_time(d->windows_us, d->phases_us));
	json_object_object_add(daemon, "last_window", window_time(d->last_window_us, d->last_phase_us));
	json_object_object_add(reply, "daemon", daemon);
	json_object_object_add(reply, "vms", vms);
	if (json_object_object_get_ex(req, "name", NULL)) {
		VmtGuest *g = lookup(d, req, error);

		if (!g) {
			json_object_put(reply);
			return NULL;
		}
		json_object_array_add(vms, vmt_guest_to_json(g));
		return reply;
	}
	names = g_list_sort(names, (GCompareFunc)strcmp);
	for (GList *l = names; l; l = l->next)
		json_object_array_add(vms, vmt_guest_to_json(g_hash_table_lookup(d->guests, l->data)));
	return reply;
}

/* One `set` under way: libvirt's list, the admission rule and the
 * metadata's update on a thread of GTask's pool (libvirtd can take
 * seconds, and a domain job waits on a busy or hung QEMU up to libvirt's
 * job timeout), then the quota and the reply on the main thread. */
typedef struct {
	VmtDaemon *d;
	VmtGuest *g;			/* a ref */
	virConnectPtr conn;		/* a ref */
	guint64 bytes, old, reserve;
	VmtCtlPending *pending;
} Setting;

static void setting_free(Setting *st)
{
	vmt_guest_unref(st->g);
	virConnectClose(st->conn);
	g_free(st);
}

static gboolean set_admit_record(Setting *st, GError **error)
{
	g_autoptr(GPtrArray) doms = vmt_domains_list(st->conn, error);
	g_autoptr(VmtAdmission) adm = NULL;
	VmtTierPlan *p = NULL;

	if (!doms)
		return FALSE;
	/* the rule of vmtier define and the hook (admission.h), on this
	 * guest's plan as its metadata has it, with the new quota */
	adm = vmt_domains_admission(doms, st->reserve);
	for (guint i = 0; i < doms->len && !p; i++) {
		VmtDomainInfo *info = doms->pdata[i];

		if (strcmp(info->name, st->g->name) != 0)
			continue;
		if (!info->plan) {
			g_set_error(error, VMT_ERROR, VMT_ERROR_METADATA, "%s: %s", st->g->name,
				    info->plan_error);
			return FALSE;
		}
		p = info->plan;
	}
	if (!p) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "libvirt no longer has '%s'",
			    st->g->name);
		return FALSE;
	}
	p->dram_bytes = st->bytes;
	if (st->bytes > st->old && !vmt_admission_check(adm, p, st->d->host, error)) {
		g_prefix_error(error, "%s: ", st->g->name);
		return FALSE;
	}
	/* the domain's metadata is the quota's home; a restart reads it back */
	return vmt_domains_set_dram(st->conn, st->g->name, st->bytes, error);
}

static void set_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
	GError *error = NULL;

	if (set_admit_record(data, &error))
		g_task_return_boolean(task, TRUE);
	else
		g_task_return_error(task, error);
}

static void set_done(GObject *src, GAsyncResult *res, gpointer data)
{
	Setting *st = g_task_get_task_data(G_TASK(res));
	VmtDaemon *d = st->d;
	g_autoptr(GError) error = NULL;
	g_autofree char *old = vmt_size_format(st->old), *want = vmt_size_format(st->bytes);
	g_autofree char *msg = g_strdup_printf("%s: DRAM quota %s -> %s", st->g->name, old, want);
	json_object *reply = NULL;

	vmt_daemon_loop_ran("a set's end");
	d->setting = FALSE;
	if (g_task_propagate_boolean(G_TASK(res), &error)) {
		vmt_guest_set_quota(st->g, st->bytes);
		g_message("%s", msg);
		reply = json_object_new_object();
		json_object_object_add(reply, "message", json_object_new_string(msg));
	}
	vmt_ctl_pending_done(g_steal_pointer(&st->pending), reply, error);
}

static json_object *do_set(VmtDaemon *d, json_object *req, GError **error)
{
	VmtGuest *g = lookup(d, req, error);
	g_autoptr(GTask) task = NULL;
	g_autofree char *want = NULL;
	Setting *st;
	json_object *v;
	guint64 bytes;

	if (!g)
		return NULL;
	if (!json_object_object_get_ex(req, "dram_bytes", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "request lacks a non-negative \"dram_bytes\"");
		return NULL;
	}
	bytes = json_object_get_uint64(v);
	want = vmt_size_format(bytes);
	if (bytes % VMT_CHUNK_SIZE || bytes > g->ram_bytes) {
		g_autofree char *ram = vmt_size_format(g->ram_bytes);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "%s: DRAM quota %s must be a multiple of 2 MiB and at most the guest's RAM (%s)",
			    g->name, want, ram);
		return NULL;
	}
	if (!d->conn) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
			    "libvirt is not reachable; the quota cannot be recorded");
		return NULL;
	}
	/* one at a time: the admission rule sums the quotas as recorded */
	if (d->setting) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
			    "another quota change is being recorded; try again");
		return NULL;
	}
	st = g_new0(Setting, 1);
	st->d = d;
	st->g = vmt_guest_ref(g);
	st->conn = d->conn;
	virConnectRef(st->conn);
	st->bytes = bytes;
	g_mutex_lock(&g->lock);
	st->old = g->quota_bytes;
	g_mutex_unlock(&g->lock);
	st->reserve = d->cfg->dram_reserve_bytes;
	st->pending = vmt_ctl_server_defer(d->ctl);
	d->setting = TRUE;
	/* not cancellable: the reply is owed, and vmt_daemon_free waits */
	task = g_task_new(NULL, NULL, set_done, NULL);
	g_task_set_task_data(task, st, (GDestroyNotify)setting_free);
	g_task_run_in_thread(task, set_thread);
	return NULL;
}

json_object *vmt_daemon_ctl_request(json_object *req, const VmtCtlPeer *peer, gpointer user,
				    GError **error)
{
	VmtDaemon *d = user;
	json_object *v;
	const char *cmd = json_object_object_get_ex(req, "cmd", &v) ? json_object_get_string(v) : "";

	vmt_daemon_loop_ran("a control request");
	if (strcmp(cmd, "status") == 0)
		return do_status(d, req, error);
	if (strcmp(cmd, "set") == 0)
		return do_set(d, req, error);
	if (strcmp(cmd, "notify") == 0) {
		const char *ev = json_object_object_get_ex(req, "event", &v) ? json_object_get_string(v) : "?";
		const char *name = json_object_object_get_ex(req, "name", &v) ? json_object_get_string(v) : "?";

		g_message("hook: %s %s (from pid %d)", name, ev, (int)peer->pid);
		vmt_daemon_discover_soon(d);
		return json_object_new_object();
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown command '%s'", cmd);
	return NULL;
}
