// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd.conf; see daemon-config.h and data/vmtierd.conf. */
#include "daemon-config.h"
#include "config.h"
#include "ctl.h"
#include "size.h"

#include <gio/gio.h>
#include <string.h>

typedef enum { STR, UINT, SIZE, CHOICE } Kind;

typedef struct {
	const char *group, *key;
	Kind kind;
	gsize offset;
	guint min, max;
	const char *const *names;	/* CHOICE: the enum's names, NULL-ended; min..max
					 * are the ones the file may give */
} Key;

static const char *const offload_names[] = { "none", "damos", NULL };

const char *vmt_offload_name(VmtOffload o)
{
	return (guint)o < G_N_ELEMENTS(offload_names) - 1 ? offload_names[o] : "unknown";
}

#define S(g, k, f) { g, k, STR, G_STRUCT_OFFSET(VmtDaemonConfig, f), 0, 0 }
#define U(g, k, f, lo, hi) { g, k, UINT, G_STRUCT_OFFSET(VmtDaemonConfig, f), lo, hi }
static const Key keys[] = {
	S("daemon", "socket", socket_path),
	S("daemon", "socket_group", socket_group),
	S("daemon", "qmp_dir", qmp_dir),
	S("daemon", "state_dir", state_dir),
	S("daemon", "history_db", history_db),
	S("daemon", "metrics_file", metrics_file),
	S("daemon", "libvirt_uri", libvirt_uri),
	S("daemon", "class_dir", class_dir),
	{ "daemon", "scanner", CHOICE, G_STRUCT_OFFSET(VmtDaemonConfig, scanner), VMT_SCANNER_AUTO,
	  VMT_SCANNER_IDLE_PAGES, vmt_scanner_names },
	{ "daemon", "offload", CHOICE, G_STRUCT_OFFSET(VmtDaemonConfig, offload), VMT_OFFLOAD_NONE,
	  VMT_OFFLOAD_DAMOS, offload_names },
	U("daemon", "offload_max_guests", offload_max_guests, 1, 1024),
	U("daemon", "scan_interval_ms", scan_interval_ms, 50, 600000),
	U("daemon", "min_interval_ms", min_interval_ms, 50, 600000),
	U("daemon", "max_interval_ms", max_interval_ms, 50, 600000),
	U("daemon", "sample_us", sample_us, 100, 1000000),
	U("daemon", "guest_window_ms", guest_window_ms, 100, 600000),
	U("daemon", "min_sample_us", min_sample_us, 100, 1000000),
	U("daemon", "flush_us", flush_us, 0, 1000000),
	U("daemon", "flush_cpu_pct", flush_cpu_pct, 1, 100),
	U("daemon", "max_migrate_mbs", max_migrate_mbs, 0, 1000000),
	U("daemon", "vm_migrate_mbs", vm_migrate_mbs, 1, 1000000),
	U("daemon", "account_interval_s", account_interval_s, 1, 86400),
	U("daemon", "discover_interval_s", discover_interval_s, 1, 3600),
	U("daemon", "poll_interval_s", poll_interval_s, 0, 3600),
	U("daemon", "history_days", history_days, 0, 36500),
	{ "daemon", "dram_reserve", SIZE, G_STRUCT_OFFSET(VmtDaemonConfig, dram_reserve_bytes), 0, 0 },
	U("policy", "promote_windows", params.promote_windows, 1, 255),
	U("policy", "demote_windows", params.demote_windows, 1, 255),
	U("policy", "min_residency", params.min_residency, 0, 255),
	U("policy", "hysteresis_pct", params.hysteresis_pct, 0, 1000),
	U("policy", "decay_pct", params.decay_pct, 0, 99),
	U("policy", "hot_threshold", params.hot_threshold, 1, VMT_ACCESS_MAX),
	S("hook", "on_no_answer", hook_on_no_answer),
};

const char *vmt_daemon_config_default_path(void)
{
	return VMT_SYSCONFDIR "/vmtier/vmtierd.conf";
}

const char *vmt_daemon_config_client_path(void)
{
	const char *env = g_getenv("VMTIER_CONFIG");

	return env && *env ? env : vmt_daemon_config_default_path();
}

static void set_defaults(VmtDaemonConfig *c)
{
	c->socket_path = g_strdup(vmt_ctl_default_path());
	c->socket_group = g_strdup("");
	c->qmp_dir = g_strdup(VMT_QMPDIR);
	c->state_dir = g_strdup(VMT_RUNSTATEDIR);
	c->history_db = g_strdup(VMT_LOCALSTATEDIR "/lib/vmtier/history.db");
	c->metrics_file = g_strdup("");
	c->libvirt_uri = g_strdup("qemu:///system");
	c->class_dir = g_strdup("");
	c->scanner = VMT_SCANNER_AUTO;
	c->offload = VMT_OFFLOAD_NONE;
	/* one kdamond per offloaded guest, steered one after the other: at 8
	 * a window took 4.8 s on the test host (bench/README, scale) */
	c->offload_max_guests = 4;
	c->hook_on_no_answer = g_strdup("refuse");
	c->scan_interval_ms = 1000;
	c->min_interval_ms = 200;
	c->max_interval_ms = 10000;
	c->sample_us = 5000;
	c->guest_window_ms = 5000;
	/* DAMON's sample interval adapts between these (tier-engine.h); a
	 * vCPU move per flush_us at most (host-flush.h), 0: no flushes */
	c->min_sample_us = 500;
	c->flush_us = 5000;
	c->flush_cpu_pct = 10;
	c->max_migrate_mbs = 0;
	c->vm_migrate_mbs = 256;
	c->account_interval_s = 60;
	c->discover_interval_s = 5;
	c->poll_interval_s = 10;
	c->history_days = 400;
	c->dram_reserve_bytes = 256ull << 20;
	vmt_tier_params_init(&c->params);
}

VmtDaemonConfig *vmt_daemon_config_new_default(void)
{
	VmtDaemonConfig *c = g_new0(VmtDaemonConfig, 1);

	set_defaults(c);
	return c;
}

static gboolean known(const char *group, const char *key)
{
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
		if (strcmp(keys[i].group, group) == 0 && strcmp(keys[i].key, key) == 0)
			return TRUE;
	return FALSE;
}

static gboolean read_key(VmtDaemonConfig *c, GKeyFile *kf, const Key *k, GError **error)
{
	g_autofree char *v = g_key_file_get_value(kf, k->group, k->key, NULL);
	char *base = (char *)c;
	guint64 n;
	char *end;

	if (!v)
		return TRUE;
	g_strstrip(v);
	switch (k->kind) {
	case STR:
		g_free(*(char **)(base + k->offset));
		*(char **)(base + k->offset) = g_steal_pointer(&v);
		return TRUE;
	case SIZE:
		if (!vmt_size_parse(v, (guint64 *)(base + k->offset), error)) {
			g_prefix_error(error, "%s: [%s] %s: ", c->path, k->group, k->key);
			return FALSE;
		}
		return TRUE;
	case CHOICE:
		for (guint i = k->min; i <= k->max; i++)
			if (strcmp(v, k->names[i]) == 0) {
				*(int *)(base + k->offset) = (int)i;
				return TRUE;
			}
		{
			g_autoptr(GString) one_of = g_string_new(NULL);

			for (guint i = k->min; i <= k->max; i++)
				g_string_append_printf(one_of, "%s%s", i == k->min ? "" :
						       i == k->max ? " or " : ", ", k->names[i]);
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
				    "%s: [%s] %s: unknown %s '%s' (%s)", c->path, k->group, k->key,
				    k->key, v, one_of->str);
		}
		return FALSE;
	case UINT:
		n = g_ascii_strtoull(v, &end, 10);
		if (!*v || *end || n < k->min || n > k->max) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
				    "%s: [%s] %s: '%s' is not a whole number in %u..%u", c->path,
				    k->group, k->key, v, k->min, k->max);
			return FALSE;
		}
		*(guint *)(base + k->offset) = (guint)n;
		return TRUE;
	}
	return TRUE;
}

VmtDaemonConfig *vmt_daemon_config_load(const char *path, gboolean must_exist, GError **error)
{
	g_autoptr(VmtDaemonConfig) c = vmt_daemon_config_new_default();
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	g_auto(GStrv) groups = NULL;
	static const char *const answers[] = { "refuse", "admit", NULL };

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
		if (!must_exist && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return g_steal_pointer(&c);
		g_set_error(error, local->domain, local->code, "%s: %s", path, local->message);
		return NULL;
	}
	c->path = g_strdup(path);
	groups = g_key_file_get_groups(kf, NULL);
	for (guint g = 0; groups[g]; g++) {
		g_auto(GStrv) ks = g_key_file_get_keys(kf, groups[g], NULL, NULL);

		for (guint k = 0; ks && ks[k]; k++)
			if (!known(groups[g], ks[k])) {
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
					    "%s: unknown key [%s] %s", path, groups[g], ks[k]);
				return NULL;
			}
	}
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
		if (!read_key(c, kf, &keys[i], error))
			return NULL;
	if (!g_strv_contains(answers, c->hook_on_no_answer)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: [hook] on_no_answer: '%s' is not refuse or admit", path,
			    c->hook_on_no_answer);
		return NULL;
	}
	/* DAMON serves one of them: the kernel's moves, or vmtierd's scans */
	if (c->offload == VMT_OFFLOAD_DAMOS && c->scanner == VMT_SCANNER_DAMON_VADDR) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: [daemon] scanner damon-vaddr cannot go with offload damos (DAMON "
			    "runs the kernel's moves then): use auto or a bitmap scanner", path);
		return NULL;
	}
	if (c->min_sample_us > c->sample_us) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: min_sample_us %u is above sample_us %u", path, c->min_sample_us,
			    c->sample_us);
		return NULL;
	}
	if (c->min_interval_ms > c->max_interval_ms) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: min_interval_ms %u is above max_interval_ms %u", path,
			    c->min_interval_ms, c->max_interval_ms);
		return NULL;
	}
	if (c->scan_interval_ms < c->min_interval_ms || c->scan_interval_ms > c->max_interval_ms ||
	    (guint64)c->sample_us > (guint64)c->min_interval_ms * 1000) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: scan_interval_ms %u must lie in min..max_interval_ms (%u..%u), and "
			    "sample_us %u must not exceed min_interval_ms", path, c->scan_interval_ms,
			    c->min_interval_ms, c->max_interval_ms, c->sample_us);
		return NULL;
	}
	if (!*c->qmp_dir || !*c->state_dir || !*c->socket_path) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "%s: socket, qmp_dir and state_dir must not be empty", path);
		return NULL;
	}
	return g_steal_pointer(&c);
}

void vmt_daemon_config_free(VmtDaemonConfig *c)
{
	if (!c)
		return;
	g_free(c->path);
	g_free(c->socket_path);
	g_free(c->socket_group);
	g_free(c->qmp_dir);
	g_free(c->state_dir);
	g_free(c->history_db);
	g_free(c->metrics_file);
	g_free(c->libvirt_uri);
	g_free(c->class_dir);
	g_free(c->hook_on_no_answer);
	g_free(c);
}
