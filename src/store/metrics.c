// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "metrics.h"

#include <stddef.h>

typedef enum {
	INFO,		/* 1, with the scanner label */
	SAMPLE_U64,	/* a guint64 of the sample */
	SAMPLE_RATIO,	/* a double of the sample */
	SLO_MET,	/* absent when not judged */
	TIMESTAMP,
	TOTAL,		/* a guint64 of the totals */
} Source;

static const struct {
	const char *name, *type, *help;
	Source src;
	size_t off;
} families[] = {
	{ "vmtier_vm_info", "gauge", "A vmtier-managed VM (always 1), with the access scanner in use", INFO },
	{ "vmtier_vm_quota_bytes", "gauge", "DRAM quota of the VM's class",
	  SAMPLE_U64, offsetof(VmtHistorySample, quota_bytes) },
	{ "vmtier_vm_ram_bytes", "gauge", "Guest memory size",
	  SAMPLE_U64, offsetof(VmtHistorySample, ram_bytes) },
	{ "vmtier_vm_dram_bytes", "gauge", "Guest memory resident in DRAM",
	  SAMPLE_U64, offsetof(VmtHistorySample, dram_bytes) },
	{ "vmtier_vm_slow_bytes", "gauge", "Guest memory resident on the slow tier",
	  SAMPLE_U64, offsetof(VmtHistorySample, slow_bytes) },
	{ "vmtier_vm_hot_bytes", "gauge", "Guest memory in the hot set of the last interval",
	  SAMPLE_U64, offsetof(VmtHistorySample, hot_bytes) },
	{ "vmtier_vm_hot_coverage_ratio", "gauge",
	  "Share of the hot memory, up to the DRAM quota, resident in DRAM",
	  SAMPLE_RATIO, offsetof(VmtHistorySample, hot_coverage) },
	{ "vmtier_vm_dram_access_share_ratio", "gauge",
	  "Estimated share of the guest's memory accesses served by DRAM",
	  SAMPLE_RATIO, offsetof(VmtHistorySample, dram_access_share) },
	{ "vmtier_vm_slo_met", "gauge",
	  "1 when the last interval met the class SLO, 0 when not; absent when not judged (no hot memory)",
	  SLO_MET },
	{ "vmtier_vm_last_sample_timestamp_seconds", "gauge", "End of the last recorded interval (Unix time)",
	  TIMESTAMP },
	{ "vmtier_vm_promoted_bytes_total", "counter", "Bytes moved from the slow tier to DRAM",
	  TOTAL, offsetof(VmtHistoryTotals, promoted_bytes) },
	{ "vmtier_vm_demoted_bytes_total", "counter", "Bytes moved from DRAM to the slow tier",
	  TOTAL, offsetof(VmtHistoryTotals, demoted_bytes) },
	{ "vmtier_vm_migrations_total", "counter", "Page migration calls that moved pages",
	  TOTAL, offsetof(VmtHistoryTotals, migrations) },
	{ "vmtier_vm_move_errors_total", "counter", "Pages that failed to move",
	  TOTAL, offsetof(VmtHistoryTotals, move_errors) },
	{ "vmtier_vm_scan_windows_total", "counter", "Access scan windows observed",
	  TOTAL, offsetof(VmtHistoryTotals, windows) },
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

static void append_sample(GString *out, guint f, const VmtHistorySample *s, const VmtHistoryTotals *t)
{
	char num[G_ASCII_DTOSTR_BUF_SIZE];
	const void *base = families[f].src == TOTAL ? (const void *)t : (const void *)s;

	switch (families[f].src) {
	case SLO_MET:
		if (s->slo_met < 0)
			return;
		g_snprintf(num, sizeof(num), "%d", s->slo_met);
		break;
	case INFO:
		g_strlcpy(num, "1", sizeof(num));
		break;
	case TIMESTAMP:
		g_snprintf(num, sizeof(num), "%" G_GINT64_FORMAT, s->ts);
		break;
	case SAMPLE_RATIO:
		g_ascii_dtostr(num, sizeof(num), G_STRUCT_MEMBER(double, base, families[f].off));
		break;
	case SAMPLE_U64:
	case TOTAL:
		g_snprintf(num, sizeof(num), "%" G_GUINT64_FORMAT,
			   G_STRUCT_MEMBER(guint64, base, families[f].off));
		break;
	}
	g_string_append_printf(out, "%s{", families[f].name);
	append_label(out, "vm", s->vm);
	append_label(out, ",tenant", s->tenant);
	append_label(out, ",class", s->klass);
	if (families[f].src == INFO)
		append_label(out, ",scanner", s->scanner);
	g_string_append_printf(out, "} %s\n", num);
}

char *vmt_metrics_format(const VmtHistorySample *samples, const VmtHistoryTotals *totals,
			 guint n, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; i < n; i++)
		if (!samples[i].vm || !g_hash_table_add(seen, (gpointer)samples[i].vm)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
				    "metrics: VM '%s' given twice (or without a name)",
				    samples[i].vm ? samples[i].vm : "");
			return NULL;
		}
	/* a family's lines stay together, as the format requires */
	for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
		g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name,
				       families[f].help, families[f].name, families[f].type);
		for (guint i = 0; i < n; i++)
			append_sample(out, f, &samples[i], &totals[i]);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

gboolean vmt_metrics_write(const char *path, const VmtHistorySample *samples,
			   const VmtHistoryTotals *totals, guint n, GError **error)
{
	g_autofree char *text = vmt_metrics_format(samples, totals, n, error);

	return text && g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
						0644, error);
}
