// SPDX-License-Identifier: GPL-2.0-or-later
/* The fleet's SLA page (report-prometheus.h): per tenant, each VM on each
 * host with its verdict first, then its coverage, residency and days, from
 * Prometheus's counters.  What they do not hold (the lowest coverage, the
 * worst intervals, charts per interval) is each host's own `vmtier
 * report`; the page says so. */
#include "report.h"
#include "report-prometheus.h"
#include "size.h"

#include <string.h>

static void esc(GString *out, const char *s)
{
	g_autofree char *e = g_markup_escape_text(s ? s : "", -1);

	g_string_append(out, e);
}

static void vm_row(GString *out, const VmtFleetVm *v)
{
	g_autofree char *comp = vmt_report_pct(vmt_slo_compliance(&v->stats.slo));
	g_autofree char *cov = vmt_report_pct(v->stats.avg_hot_coverage);
	g_autofree char *dram = vmt_report_byte_hours(v->stats.dram_gib_hours);
	g_autofree char *slow = vmt_report_byte_hours(v->stats.slow_gib_hours);
	g_autofree char *target = v->has_slo ? vmt_report_pct(v->slo_target) : g_strdup("-");
	g_autofree char *share = v->has_slo ? vmt_report_pct(v->slo_intervals) : g_strdup("-");
	const char *cls = v->compliant == 1 ? "kept" : v->compliant == 0 ? "broken" : "none";

	g_string_append_printf(out, "<tr class=\"%s\"><td class=\"verdict\">%s</td><th scope=\"row\">", cls,
			       vmt_fleet_vm_verdict(v));
	esc(out, v->vm);
	g_string_append(out, "</th><td>");
	esc(out, v->instance);
	g_string_append(out, "</td><td>");
	esc(out, v->klass ? v->klass : "-");
	g_string_append_printf(out, "</td><td>%s of hot memory in %s of intervals</td>"
			       "<td class=\"n\">%u / %u</td><td class=\"n\">%s</td><td class=\"n\">%u</td>"
			       "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
			       target, share, v->stats.slo.met, vmt_slo_tally_judged(&v->stats.slo), comp,
			       v->stats.slo.unjudged, cov, dram, slow);
}

/* A VM's days: the store's report's per-day table */
static void vm_days(GString *out, const VmtFleetVm *v)
{
	g_string_append(out, "<h3>");
	esc(out, v->vm);
	g_string_append(out, " on ");
	esc(out, v->instance);
	g_string_append(out, "</h3>\n");
	vmt_report_html_days(out, v->days);
}

char *vmt_fleet_to_html(const VmtFleet *f, gint64 generated, const char *version)
{
	GString *out = g_string_new(NULL);
	g_autofree char *from = vmt_report_format_time(f->since), *to = vmt_report_format_time(f->until);
	g_autofree char *gen = vmt_report_format_time(generated);
	const char *tenant = NULL;
	guint first = 0;

	g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\"><title>vmtier fleet SLA report");
	if (f->tenant) {
		g_string_append(out, ": ");
		esc(out, f->tenant);
	}
	g_string_append(out, "</title><style>"
		"body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}"
		"table{border-collapse:collapse;width:100%;margin-bottom:1.5em}"
		"th,td{border-bottom:1px solid #ccc;padding:4px 8px;text-align:left}"
		"td.n{text-align:right;font-variant-numeric:tabular-nums}"
		"td.verdict{font-weight:bold}tr.kept td.verdict{color:#0072b2}"
		"tr.broken td.verdict{color:#d55e00}tr.broken td.verdict::before{content:\"\\2717 \"}"
		"tr.kept td.verdict::before{content:\"\\2713 \"}"
		"dl{display:grid;grid-template-columns:max-content auto;gap:0 1em}dd{margin:0}"
		"@page{size:A4;margin:12mm}@media print{body{margin:0;max-width:none}table{font-size:9pt}}"
		"</style></head><body>\n<h1>SLA report across hosts</h1>\n<dl>");
	g_string_append_printf(out, "<dt>generated</dt><dd>%s by vmtier ", gen);
	esc(out, version);
	g_string_append(out, "</dd>");
	g_string_append(out, "<dt>from</dt><dd>Prometheus at ");
	esc(out, f->url);
	g_string_append_printf(out, " (vmtier's counters: docs/metrics.md)</dd><dt>period</dt><dd>%s to %s</dd>",
			       from, to);
	g_string_append(out, "<dt>tenant</dt><dd>");
	esc(out, f->tenant ? f->tenant : "every tenant: this page is not for one tenant's eyes");
	g_string_append(out, "</dd></dl>\n<p>An interval is judged when the VM had hot memory, the "
		"sensor could see and the class's warm-up after a start was over; the class keeps its "
		"promise when at least the stated share of judged intervals had that much of the hot "
		"memory in DRAM. Coverage is the share of the hot memory, up to the DRAM quota, that was "
		"in DRAM, averaged over time; residency is memory times time on each tier. The lowest "
		"coverage, the worst intervals and charts per interval are in each host's own "
		"<code>vmtier report</code>.</p>\n");
	if (!f->vms->len)
		g_string_append(out, "<p>No VM had SLO counters in this period.</p>\n");
	for (guint i = 0; i < f->vms->len; i++) {
		const VmtFleetVm *v = f->vms->pdata[i];

		if (!tenant || g_strcmp0(tenant, v->tenant) != 0) {
			tenant = v->tenant;
			first = i;
			g_string_append(out, "<h2>Tenant ");
			esc(out, tenant);
			g_string_append(out, "</h2>\n<table><thead><tr><th scope=\"col\">verdict</th>"
				"<th scope=\"col\">VM</th><th scope=\"col\">host</th><th scope=\"col\">class</th>"
				"<th scope=\"col\">promise</th><th scope=\"col\">met / judged</th>"
				"<th scope=\"col\">met share</th><th scope=\"col\">not judged</th>"
				"<th scope=\"col\">hot in DRAM, avg</th><th scope=\"col\">DRAM residency</th>"
				"<th scope=\"col\">slow residency</th></tr></thead><tbody>\n");
		}
		vm_row(out, v);
		/* the tenant's last VM: its table ends, each VM's days follow */
		if (i + 1 == f->vms->len || g_strcmp0(tenant, ((VmtFleetVm *)f->vms->pdata[i + 1])->tenant)) {
			g_string_append(out, "</tbody></table>\n");
			for (guint j = first; j <= i; j++)
				vm_days(out, f->vms->pdata[j]);
		}
	}
	g_string_append(out, "</body></html>\n");
	return g_string_free(out, FALSE);
}
