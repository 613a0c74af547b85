// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "metrics.h"

#include <stddef.h>

typedef enum {
	INFO,		/* 1, with tenant, class and scanner */
	SAMPLE_U64,	/* a guint64 of the sample */
	SAMPLE_RATIO,	/* a double of the sample; absent when unknown (< 0) */
	SLO_TARGET,	/* the class's, absent without an SLO */
	SLO_INTERVALS_TARGET,
	SLO_GRACE,
	SLO_COUNTS,	/* one series per result */
	TIMESTAMP,
	INTERVAL,
	TOTAL,		/* a guint64 of the totals */
	TOTAL_REAL,	/* a double of the totals */
	TIER_TOTALS,	/* byte-seconds, one series per tier */
} Source;

static const struct {
	const char *name, *type, *help;
	Source src;
	size_t off;
} vm_families[] = {
	{ "vmtier_vm_info", "gauge",
	  "A VM vmtierd tiers (always 1): its tenant, class and the access scanner in use", INFO },
	{ "vmtier_vm_ram_bytes", "gauge", "Guest memory size",
	  SAMPLE_U64, offsetof(VmtHistorySample, ram_bytes) },
	{ "vmtier_vm_dram_quota_bytes", "gauge",
	  "This VM's DRAM quota now (set at define, changed by vmtier set)",
	  SAMPLE_U64, offsetof(VmtHistorySample, quota_bytes) },
	{ "vmtier_vm_dram_bytes", "gauge", "Guest memory resident in DRAM",
	  SAMPLE_U64, offsetof(VmtHistorySample, dram_bytes) },
	{ "vmtier_vm_slow_bytes", "gauge", "Guest memory resident on the slow tier",
	  SAMPLE_U64, offsetof(VmtHistorySample, slow_bytes) },
	{ "vmtier_vm_hot_bytes", "gauge", "Guest memory in the hot set of the last interval",
	  SAMPLE_U64, offsetof(VmtHistorySample, hot_bytes) },
	{ "vmtier_vm_hot_coverage_ratio", "gauge",
	  "Share of the hot memory, up to the DRAM quota, resident in DRAM in the last interval; "
	  "absent when the access sensor could not tell",
	  SAMPLE_RATIO, offsetof(VmtHistorySample, hot_coverage) },
	{ "vmtier_vm_dram_access_share_ratio", "gauge",
	  "Estimated share of the guest's memory accesses served by DRAM in the last interval; "
	  "absent when the access sensor could not tell",
	  SAMPLE_RATIO, offsetof(VmtHistorySample, dram_access_share) },
	{ "vmtier_vm_slo_coverage_target_ratio", "gauge",
	  "The class's SLO: hot coverage an interval must reach to be met", SLO_TARGET },
	{ "vmtier_vm_slo_intervals_target_ratio", "gauge",
	  "The class's SLO: share of judged intervals that must be met", SLO_INTERVALS_TARGET },
	{ "vmtier_vm_slo_grace_seconds", "gauge",
	  "The class's warm-up after a start during which intervals are not judged", SLO_GRACE },
	{ "vmtier_vm_slo_intervals_total", "counter",
	  "Accounting intervals by SLO judgement: met, missed, or not_judged (no hot memory, "
	  "no SLO, the sensor blind, or the warm-up grace)", SLO_COUNTS },
	{ "vmtier_vm_last_sample_timestamp_seconds", "gauge",
	  "End of the last recorded interval (Unix time)", TIMESTAMP },
	{ "vmtier_vm_last_interval_seconds", "gauge", "Length of the last recorded interval",
	  INTERVAL },
	{ "vmtier_vm_promoted_bytes_total", "counter", "Bytes moved from the slow tier to DRAM",
	  TOTAL, offsetof(VmtHistoryTotals, promoted_bytes) },
	{ "vmtier_vm_demoted_bytes_total", "counter", "Bytes moved from DRAM to the slow tier",
	  TOTAL, offsetof(VmtHistoryTotals, demoted_bytes) },
	{ "vmtier_vm_move_calls_total", "counter", "move_pages(2) calls that moved pages",
	  TOTAL, offsetof(VmtHistoryTotals, migrations) },
	{ "vmtier_vm_move_failed_pages_total", "counter", "Pages that failed to move (any reason)",
	  TOTAL, offsetof(VmtHistoryTotals, move_errors) },
	{ "vmtier_vm_scan_windows_total", "counter", "Access scan windows this VM took part in",
	  TOTAL, offsetof(VmtHistoryTotals, windows) },
	/* the sums behind the report's figures (history.h): increase() over a
	 * period is the sum over the intervals it recorded */
	{ "vmtier_vm_slo_warm_up_intervals_total", "counter",
	  "Of the intervals not judged, those in the class's warm-up grace after a start",
	  TOTAL, offsetof(VmtHistoryTotals, slo_warm_up) },
	{ "vmtier_vm_accounted_seconds_total", "counter",
	  "Length of the recorded accounting intervals, summed",
	  TOTAL, offsetof(VmtHistoryTotals, seconds) },
	{ "vmtier_vm_memory_byte_seconds_total", "counter",
	  "Guest memory resident on the tier (dram, slow) times each interval's length, summed",
	  TIER_TOTALS },
	{ "vmtier_vm_hot_byte_seconds_total", "counter",
	  "Hot set times each interval's length, summed",
	  TOTAL_REAL, offsetof(VmtHistoryTotals, hot_byte_seconds) },
	{ "vmtier_vm_hot_coverage_seconds_total", "counter",
	  "Hot coverage times the length of each interval with hot memory and a sensor that saw it, "
	  "summed", TOTAL_REAL, offsetof(VmtHistoryTotals, hot_coverage_seconds) },
	{ "vmtier_vm_hot_observed_seconds_total", "counter",
	  "Length of the intervals with hot memory and a sensor that saw it, summed",
	  TOTAL, offsetof(VmtHistoryTotals, hot_observed_seconds) },
	{ "vmtier_vm_dram_access_share_seconds_total", "counter",
	  "Share of accesses DRAM served times the length of each interval it is known for, summed",
	  TOTAL_REAL, offsetof(VmtHistoryTotals, dram_access_share_seconds) },
	{ "vmtier_vm_access_observed_seconds_total", "counter",
	  "Length of the intervals whose DRAM access share is known, summed",
	  TOTAL, offsetof(VmtHistoryTotals, access_observed_seconds) },
};

/* A label value: valid UTF-8 with backslash, double quote and newline escaped. */
static void append_label(GString *out, const char *name, const char *value)
{
	g_autofree char *valid = g_utf8_make_valid(value ? value : "", -1);

	g_string_append_printf(out, "%s=\"", name);
	for (const char *c = valid; *c; c++) {
		if (*c == '\\' || *c == '"')
			g_string_append_c(out, '\\');
		if (*c == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *c);
	}
	g_string_append_c(out, '"');
}

static void header(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The shortest of 15 or 17 digits that reads back as V: 0.95, not
 * 0.94999999999999996. */
static void append_double(GString *out, double v)
{
	char num[G_ASCII_DTOSTR_BUF_SIZE];

	g_ascii_formatd(num, sizeof(num), "%.15g", v);
	if (g_ascii_strtod(num, NULL) != v)
		g_ascii_formatd(num, sizeof(num), "%.17g", v);
	g_string_append_printf(out, " %s\n", num);
}

static void vm_series(GString *out, const char *name, const VmtHistorySample *s)
{
	g_string_append_printf(out, "%s{", name);
	append_label(out, "domain", s->vm);
}

static void append_vm(GString *out, guint f, const VmtMetricsVm *vm)
{
	const VmtHistorySample *s = vm->sample;
	const VmtHistoryTotals *t = vm->totals;
	const char *name = vm_families[f].name;
	Source src = vm_families[f].src;
	const void *base = src == TOTAL || src == TOTAL_REAL ? (const void *)t : (const void *)s;
	double num = 0;

	switch (src) {
	case INFO:
		vm_series(out, name, s);
		append_label(out, ",tenant", s->tenant);
		append_label(out, ",class", s->klass);
		append_label(out, ",scanner", s->scanner);
		g_string_append(out, "} 1\n");
		return;
	case SLO_COUNTS: {
		const struct { const char *result; guint64 n; } r[] = {
			{ "met", t->slo_met }, { "missed", t->slo_missed },
			{ "not_judged", t->slo_not_judged },
		};

		for (guint i = 0; i < G_N_ELEMENTS(r); i++) {
			vm_series(out, name, s);
			append_label(out, ",result", r[i].result);
			g_string_append_printf(out, "} %" G_GUINT64_FORMAT "\n", r[i].n);
		}
		return;
	}
	case TIER_TOTALS: {
		const struct { const char *tier; double v; } r[] = {
			{ "dram", t->dram_byte_seconds }, { "slow", t->slow_byte_seconds },
		};

		for (guint i = 0; i < G_N_ELEMENTS(r); i++) {
			vm_series(out, name, s);
			append_label(out, ",tier", r[i].tier);
			g_string_append_c(out, '}');
			append_double(out, r[i].v);
		}
		return;
	}
	case TOTAL_REAL:
	case SAMPLE_RATIO:
		num = G_STRUCT_MEMBER(double, base, vm_families[f].off);
		if (src == SAMPLE_RATIO && num < 0)
			return;
		break;
	case SLO_TARGET:
	case SLO_INTERVALS_TARGET:
	case SLO_GRACE:
		if (!vm->has_slo)
			return;
		num = src == SLO_TARGET ? vm->slo_target :
			src == SLO_INTERVALS_TARGET ? vm->slo_intervals :
			vm->slo_grace_s;
		break;
	default:
		break;
	}
	vm_series(out, name, s);
	g_string_append_c(out, '}');
	switch (src) {
	case TIMESTAMP:
		g_string_append_printf(out, " %" G_GINT64_FORMAT "\n", s->ts);
		break;
	case INTERVAL:
		g_string_append_printf(out, " %u\n", s->interval_s);
		break;
	case SAMPLE_U64:
	case TOTAL:
		g_string_append_printf(out, " %" G_GUINT64_FORMAT "\n",
				       G_STRUCT_MEMBER(guint64, base, vm_families[f].off));
		break;
	default:
		append_double(out, num);
	}
}

static void append_node_u64(GString *out, const VmtMetricsDaemon *d, const char *name,
			    const char *help, size_t off)
{
	header(out, name, "gauge", help);
	for (guint i = 0; i < d->n_nodes; i++)
		g_string_append_printf(out, "%s{node=\"%d\"} %" G_GUINT64_FORMAT "\n", name,
				       d->nodes[i].id, G_STRUCT_MEMBER(guint64, &d->nodes[i], off));
}

static void append_daemon(GString *out, const VmtMetricsDaemon *d)
{
	header(out, "vmtier_daemon_info", "gauge",
	       "vmtierd (always 1): its version, access scanner and offload mode");
	g_string_append(out, "vmtier_daemon_info{");
	append_label(out, "version", d->version);
	append_label(out, ",scanner", d->scanner);
	append_label(out, ",offload", d->offload);
	g_string_append(out, "} 1\n");
	header(out, "vmtier_daemon_start_time_seconds", "gauge", "When vmtierd started (Unix time)");
	g_string_append_printf(out, "vmtier_daemon_start_time_seconds %" G_GINT64_FORMAT "\n",
			       d->start_time);
	header(out, "vmtier_daemon_last_write_timestamp_seconds", "gauge",
	       "When vmtierd wrote this file (Unix time): older than a few accounting intervals "
	       "means stale");
	g_string_append_printf(out, "vmtier_daemon_last_write_timestamp_seconds %" G_GINT64_FORMAT
			       "\n", d->now);
	header(out, "vmtier_daemon_scan_windows_total", "counter", "Scan windows done since start");
	g_string_append_printf(out, "vmtier_daemon_scan_windows_total %" G_GUINT64_FORMAT "\n",
			       d->windows);
	header(out, "vmtier_daemon_scan_duration_seconds_total", "counter",
	       "Time the scan windows took (sample, plan and moves of every guest), summed");
	g_string_append(out, "vmtier_daemon_scan_duration_seconds_total");
	append_double(out, d->scan_seconds);
	header(out, "vmtier_daemon_last_scan_duration_seconds", "gauge",
	       "Time the last scan window took");
	g_string_append(out, "vmtier_daemon_last_scan_duration_seconds");
	append_double(out, d->last_scan_seconds);
	header(out, "vmtier_daemon_libvirt_connected", "gauge",
	       "1 when vmtierd's libvirt connection is up, 0 when not");
	g_string_append_printf(out, "vmtier_daemon_libvirt_connected %d\n", d->libvirt_connected ? 1 : 0);

	header(out, "vmtier_host_dram_reserve_bytes", "gauge",
	       "DRAM never promised to guests (vmtierd.conf dram_reserve)");
	g_string_append_printf(out, "vmtier_host_dram_reserve_bytes %" G_GUINT64_FORMAT "\n",
			       d->dram_reserve_bytes);
	header(out, "vmtier_node_info", "gauge",
	       "A host NUMA node (always 1): its kind (dram, pmem, cxl, slow) and memory tier");
	for (guint i = 0; i < d->n_nodes; i++) {
		g_string_append_printf(out, "vmtier_node_info{node=\"%d\"", d->nodes[i].id);
		append_label(out, ",kind", d->nodes[i].kind);
		g_string_append_printf(out, ",tier=\"%d\"} 1\n", d->nodes[i].tier);
	}
	append_node_u64(out, d, "vmtier_node_capacity_bytes", "Online memory of the node",
			offsetof(VmtMetricsNode, capacity_bytes));
	append_node_u64(out, d, "vmtier_node_committed_bytes",
			"DRAM quotas of the running guests vmtierd tiers whose promotions go to this node",
			offsetof(VmtMetricsNode, committed_bytes));
}

char *vmt_metrics_format(const VmtMetricsDaemon *daemon, const VmtMetricsVm *vms, guint n,
			 GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; i < n; i++) {
		const char *vm = vms[i].sample->vm;

		if (!vm || !g_hash_table_add(seen, (gpointer)vm)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "metrics: VM '%s' given twice (or without a name)", vm ? vm : "");
			return NULL;
		}
	}
	if (daemon)
		append_daemon(out, daemon);
	/* a family's lines stay together, as the format requires */
	for (guint f = 0; f < G_N_ELEMENTS(vm_families); f++) {
		header(out, vm_families[f].name, vm_families[f].type, vm_families[f].help);
		for (guint i = 0; i < n; i++)
			append_vm(out, f, &vms[i]);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

gboolean vmt_metrics_write(const char *path, const VmtMetricsDaemon *daemon,
			   const VmtMetricsVm *vms, guint n, GError **error)
{
	g_autofree char *text = vmt_metrics_format(daemon, vms, n, error);

	return text && g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
						0644, error);
}
