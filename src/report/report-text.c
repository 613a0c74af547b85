// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier report as a table (people), JSON (programs) and CSV (spreadsheets
 * and billing): the same model, report.c. */
#include "names.h"
#include "report.h"
#include "size.h"

#include <json-c/json.h>
#include <math.h>
#include <string.h>

/* ---- JSON ---- */

/* A number with SPEC's digits, as text json-c prints verbatim (locale-free
 * and the same on every run, for the golden files); null when V < 0
 * ("not applicable"). */
static json_object *jnum(double v, const char *spec)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (!isfinite(v) || v < 0)	/* JSON has no inf or nan */
		return NULL;
	g_ascii_formatd(buf, sizeof(buf), spec, v);
	return json_object_new_double_s(v, buf);
}

static json_object *jratio(double v)
{
	return jnum(v, "%.6g");
}

static json_object *jtime(gint64 ts)
{
	g_autofree char *t = vmt_report_format_time(ts);

	return json_object_new_string(t);
}

static json_object *jslo(int met)
{
	return met < 0 ? NULL : json_object_new_boolean(met);
}

static void add_int(json_object *o, const char *key, gint64 v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void add_uint(json_object *o, const char *key, guint64 v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

void vmt_report_stats_json(json_object *o, const VmtReportStats *s)
{
	add_int(o, "intervals", s->intervals);
	add_int(o, "intervals_met", s->slo.met);
	add_int(o, "intervals_missed", s->slo.missed);
	add_int(o, "intervals_not_judged", s->slo.unjudged);
	add_int(o, "intervals_warm_up", s->warm_up);
	json_object_object_add(o, "compliance", jratio(vmt_slo_compliance(&s->slo)));
	add_int(o, "avg_dram_bytes", (gint64)(s->avg_dram_bytes + 0.5));
	add_int(o, "avg_slow_bytes", (gint64)(s->avg_slow_bytes + 0.5));
	add_int(o, "avg_hot_bytes", (gint64)(s->avg_hot_bytes + 0.5));
	json_object_object_add(o, "avg_hot_coverage", jratio(s->avg_hot_coverage));
	json_object_object_add(o, "min_hot_coverage", jratio(s->min_hot_coverage));
	json_object_object_add(o, "avg_dram_access_share", jratio(s->avg_dram_access_share));
	add_uint(o, "promoted_bytes", s->promoted_bytes);
	add_uint(o, "demoted_bytes", s->demoted_bytes);
	add_uint(o, "migrations", s->migrations);
	json_object_object_add(o, "dram_gib_hours", jnum(s->dram_gib_hours, "%.3f"));
	json_object_object_add(o, "slow_gib_hours", jnum(s->slow_gib_hours, "%.3f"));
}

json_object *vmt_report_days_json(const GPtrArray *days)
{
	json_object *a = json_object_new_array();

	for (guint i = 0; i < days->len; i++) {
		const VmtReportDay *d = days->pdata[i];
		json_object *jd = json_object_new_object();

		json_object_object_add(jd, "date", json_object_new_string(d->date));
		vmt_report_stats_json(jd, &d->stats);
		json_object_array_add(a, jd);
	}
	return a;
}

static json_object *point_json(const VmtReportPoint *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "time", jtime(p->ts));
	add_int(o, "interval_s", p->interval_s);
	add_uint(o, "quota_bytes", p->quota_bytes);
	add_uint(o, "ram_bytes", p->ram_bytes);
	add_uint(o, "dram_bytes", p->dram_bytes);
	add_uint(o, "slow_bytes", p->slow_bytes);
	add_uint(o, "hot_bytes", p->hot_bytes);
	json_object_object_add(o, "hot_coverage", jratio(p->hot_coverage));
	json_object_object_add(o, "dram_access_share", jratio(p->dram_access_share));
	add_uint(o, "promoted_bytes", p->promoted_bytes);
	add_uint(o, "demoted_bytes", p->demoted_bytes);
	add_int(o, "migrations", p->migrations);
	json_object_object_add(o, "slo_met", jslo(p->slo_met));
	return o;
}

static json_object *points_json(const GArray *points)
{
	json_object *a = json_object_new_array();

	for (guint i = 0; i < points->len; i++)
		json_object_array_add(a, point_json(&g_array_index(points, VmtReportPoint, i)));
	return a;
}

static json_object *vm_json(const VmtReportVm *v)
{
	json_object *o = json_object_new_object();
	const VmtReportPoint *last = &g_array_index(v->points, VmtReportPoint, v->points->len - 1);
	const VmtReportPoint *first = &g_array_index(v->points, VmtReportPoint, 0);

	json_object_object_add(o, "vm", json_object_new_string(v->vm));
	json_object_object_add(o, "class", v->klass ? json_object_new_string(v->klass) : NULL);
	json_object_object_add(o, "slo_target", v->has_slo ? jratio(v->slo_target) : NULL);
	json_object_object_add(o, "slo_intervals", v->has_slo ? jratio(v->slo_intervals) : NULL);
	json_object_object_add(o, "slo_compliant", jslo(v->compliant));
	if (v->has_slo)
		add_int(o, "slo_grace_s", v->slo_grace_s);
	add_uint(o, "quota_bytes", last->quota_bytes);
	add_uint(o, "ram_bytes", last->ram_bytes);
	json_object_object_add(o, "scanner", v->scanner ? json_object_new_string(v->scanner) : NULL);
	json_object_object_add(o, "first", jtime(first->ts - first->interval_s));
	json_object_object_add(o, "last", jtime(last->ts));
	add_int(o, "gaps", v->gaps);
	add_int(o, "missing_seconds", v->missing_s);
	vmt_report_stats_json(o, &v->stats);
	json_object_object_add(o, "worst_intervals", points_json(v->worst));
	json_object_object_add(o, "days", vmt_report_days_json(v->days));
	json_object_object_add(o, "series", points_json(v->points));
	return o;
}

char *vmt_report_to_json(const VmtReport *r)
{
	json_object *o = json_object_new_object(), *tenants = json_object_new_array();
	char *text;

	json_object_object_add(o, "since", r->query.since == G_MININT64 ? NULL : jtime(r->query.since));
	json_object_object_add(o, "until", r->query.until == G_MAXINT64 ? NULL : jtime(r->query.until));
	for (guint i = 0; i < r->tenants->len; i++) {
		const VmtReportTenant *t = r->tenants->pdata[i];
		json_object *jt = json_object_new_object(), *vms = json_object_new_array();
		json_object *totals = json_object_new_object();

		json_object_object_add(jt, "tenant", json_object_new_string(t->tenant));
		for (guint j = 0; j < t->vms->len; j++)
			json_object_array_add(vms, vm_json(t->vms->pdata[j]));
		json_object_object_add(jt, "vms", vms);
		add_int(totals, "vms", t->n_vms);
		add_int(totals, "vms_compliant", t->vms_compliant);
		add_int(totals, "vms_not_compliant", t->vms_not_compliant);
		vmt_report_stats_json(totals, &t->stats);
		json_object_object_add(jt, "totals", totals);
		json_object_array_add(tenants, jt);
	}
	json_object_object_add(o, "tenants", tenants);
	text = g_strconcat(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE), "\n", NULL);
	json_object_put(o);
	return text;
}

/* ---- CSV (RFC 4180): numbers bare, every text field quoted ---- */

/* A text field: always quoted (quotes doubled), so no separator a
 * spreadsheet might guess (',' ';' tab) splits it; one that starts with
 * = + - @, tab or CR gets a ' first so spreadsheets do not run it as a
 * formula (OWASP's advice on CSV injection).  NULL: an empty, unquoted
 * field. */
static void csv_text(GString *out, const char *s)
{
	if (!s)
		return;
	g_string_append_c(out, '"');
	if (*s && strchr("=+-@\t\r", *s))
		g_string_append_c(out, '\'');
	for (const char *c = s; *c; c++) {
		if (*c == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *c);
	}
	g_string_append_c(out, '"');
}

static void csv_num(GString *out, double v, const char *spec)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (isfinite(v) && v >= 0)
		g_string_append(out, g_ascii_formatd(buf, sizeof(buf), spec, v));
}

static void csv_row(GString *out, const char *kind, const VmtReportTenant *t, const VmtReportVm *v,
		    const VmtReportStats *s)
{
	const VmtReportPoint *first = v ? &g_array_index(v->points, VmtReportPoint, 0) : NULL;
	const VmtReportPoint *last = v ? &g_array_index(v->points, VmtReportPoint, v->points->len - 1) : NULL;
	g_autofree char *from = first ? vmt_report_format_time(first->ts - first->interval_s) : NULL;
	g_autofree char *to = last ? vmt_report_format_time(last->ts) : NULL;
	const char *comp = !v ? "" : v->compliant == 1 ? "yes" : v->compliant == 0 ? "no" : "";

	csv_text(out, kind);
	g_string_append_c(out, ',');
	csv_text(out, t->tenant);
	g_string_append_c(out, ',');
	csv_text(out, v ? v->vm : NULL);
	g_string_append_c(out, ',');
	csv_text(out, v ? v->klass : NULL);
	g_string_append_c(out, ',');
	csv_text(out, from);
	g_string_append_c(out, ',');
	csv_text(out, to);
	g_string_append_c(out, ',');
	if (last)
		g_string_append_printf(out, "%" G_GUINT64_FORMAT, last->quota_bytes);
	g_string_append_c(out, ',');
	csv_num(out, v && v->has_slo ? v->slo_target : -1, "%.6g");
	g_string_append_c(out, ',');
	csv_num(out, v && v->has_slo ? v->slo_intervals : -1, "%.6g");
	g_string_append_printf(out, ",%u,%u,%u,%u,", s->intervals, s->slo.met, s->slo.missed,
			       s->slo.unjudged);
	csv_num(out, vmt_slo_compliance(&s->slo), "%.6g");
	g_string_append_c(out, ',');
	csv_text(out, *comp ? comp : NULL);
	g_string_append_c(out, ',');
	if (v)
		g_string_append_printf(out, "%u,%" G_GINT64_FORMAT, v->gaps, v->missing_s);
	else
		g_string_append_c(out, ',');
	g_string_append_printf(out, ",%.0f,%.0f,%.0f,", s->avg_dram_bytes, s->avg_slow_bytes,
			       s->avg_hot_bytes);
	csv_num(out, s->avg_hot_coverage, "%.6g");
	g_string_append_c(out, ',');
	csv_num(out, s->min_hot_coverage, "%.6g");
	g_string_append_c(out, ',');
	csv_num(out, s->avg_dram_access_share, "%.6g");
	g_string_append_printf(out, ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",",
			       s->promoted_bytes, s->demoted_bytes, s->migrations);
	csv_num(out, s->dram_gib_hours, "%.3f");
	g_string_append_c(out, ',');
	csv_num(out, s->slow_gib_hours, "%.3f");
	g_string_append(out, "\r\n");
}

/* One row per VM (per class it had) and a "total" row per tenant. */
char *vmt_report_to_csv(const VmtReport *r)
{
	GString *out = g_string_new("kind,tenant,vm,class,first,last,quota_bytes,slo_target,"
				    "slo_intervals,intervals,intervals_met,intervals_missed,"
				    "intervals_not_judged,compliance,slo_compliant,gaps,missing_seconds,"
				    "avg_dram_bytes,avg_slow_bytes,avg_hot_bytes,avg_hot_coverage,"
				    "min_hot_coverage,avg_dram_access_share,promoted_bytes,demoted_bytes,"
				    "migrations,dram_gib_hours,slow_gib_hours\r\n");

	for (guint i = 0; i < r->tenants->len; i++) {
		const VmtReportTenant *t = r->tenants->pdata[i];

		for (guint j = 0; j < t->vms->len; j++) {
			const VmtReportVm *v = t->vms->pdata[j];
			csv_row(out, "vm", t, v, &v->stats);
		}
		csv_row(out, "total", t, NULL, &t->stats);
	}
	return g_string_free(out, FALSE);
}

/* ---- table ---- */


static void table_stats_line(GString *out, const char *label, const VmtReportStats *s)
{
	g_autofree char *dram = vmt_size_format((guint64)s->avg_dram_bytes);
	g_autofree char *slow = vmt_size_format((guint64)s->avg_slow_bytes);
	g_autofree char *cov = vmt_report_pct(s->avg_hot_coverage), *share = vmt_report_pct(s->avg_dram_access_share);
	g_autofree char *comp = vmt_report_pct(vmt_slo_compliance(&s->slo));
	g_autofree char *moved = vmt_size_format(vmt_report_sat_add(s->promoted_bytes, s->demoted_bytes));
	g_autofree char *met = g_strdup_printf("%u/%u", s->slo.met, vmt_slo_tally_judged(&s->slo));

	g_string_append_printf(out, "    %-12s %9u %11s %7s %10s %10s %9s %7s %10s\n", label,
			       s->intervals, met, comp, dram, slow, cov, share, moved);
}

void vmt_report_table_days(GString *out, const GPtrArray *days)
{
	g_string_append_printf(out, "    %-12s %9s %11s %7s %10s %10s %9s %7s %10s\n", "day", "intervals",
			       "met/judged", "SLO", "DRAM avg", "slow avg", "coverage", "DRAM %", "migrated");
	for (guint i = 0; i < days->len; i++) {
		const VmtReportDay *d = days->pdata[i];
		table_stats_line(out, d->date, &d->stats);
	}
}

static void table_vm(GString *out, const VmtReportVm *v)
{
	const VmtReportPoint *first = &g_array_index(v->points, VmtReportPoint, 0);
	const VmtReportPoint *last = &g_array_index(v->points, VmtReportPoint, v->points->len - 1);
	g_autofree char *name = vmt_name_escape(v->vm), *klass = vmt_name_escape(v->klass ? v->klass : "none");
	g_autofree char *quota = vmt_size_format(last->quota_bytes);
	g_autofree char *from = vmt_report_format_time(first->ts - first->interval_s);
	g_autofree char *to = vmt_report_format_time(last->ts);
	g_autofree char *hot = vmt_size_format((guint64)v->stats.avg_hot_bytes);
	g_autofree char *cov = vmt_report_pct(v->stats.avg_hot_coverage), *mincov = vmt_report_pct(v->stats.min_hot_coverage);
	g_autofree char *promoted = vmt_size_format(v->stats.promoted_bytes);
	g_autofree char *demoted = vmt_size_format(v->stats.demoted_bytes);

	g_string_append_printf(out, "\n  VM %s: class %s, DRAM quota %s\n", name, klass, quota);
	g_string_append_printf(out, "    period     %s .. %s, %u intervals", from, to, v->stats.intervals);
	if (v->gaps)
		g_string_append_printf(out, ", %u gap%s (%" G_GINT64_FORMAT " s not recorded)", v->gaps,
				       v->gaps == 1 ? "" : "s", v->missing_s);
	g_string_append_c(out, '\n');
	if (v->has_slo) {
		g_autofree char *t = vmt_report_pct(v->slo_target), *n = vmt_report_pct(v->slo_intervals);
		g_autofree char *c = vmt_report_pct(vmt_slo_compliance(&v->stats.slo));

		g_string_append_printf(out, "    SLO        %s of hot memory from DRAM in %s of intervals: "
				       "met in %u of %u judged (%s): %s\n", t, n, v->stats.slo.met,
				       vmt_slo_tally_judged(&v->stats.slo), c,
				       v->compliant == 1 ? "KEPT" : v->compliant == 0 ? "BROKEN" : "nothing judged");
	} else {
		g_string_append_printf(out, "    SLO        none (class without an SLO); met in %u of %u judged\n",
				       v->stats.slo.met, vmt_slo_tally_judged(&v->stats.slo));
	}
	g_string_append_printf(out, "    hot set    avg %s, coverage avg %s, min %s; %u interval%s not judged",
			       hot, cov, mincov, v->stats.slo.unjudged, v->stats.slo.unjudged == 1 ? "" : "s");
	if (v->stats.warm_up)
		g_string_append_printf(out, " (%u in the %u s warm-up after a start)", v->stats.warm_up,
				       v->slo_grace_s);
	g_string_append_c(out, '\n');
	g_string_append_printf(out, "    migrated   %" G_GUINT64_FORMAT " calls, %s promoted, %s demoted\n",
			       v->stats.migrations, promoted, demoted);
	vmt_report_table_days(out, v->days);
	if (!v->worst->len)
		return;
	g_string_append_printf(out, "    worst intervals:\n      %-20s %9s %7s %10s %10s %s\n", "end",
			       "coverage", "DRAM %", "hot", "DRAM", "SLO");
	for (guint i = 0; i < v->worst->len; i++) {
		const VmtReportPoint *p = &g_array_index(v->worst, VmtReportPoint, i);
		g_autofree char *ts = vmt_report_format_time(p->ts);
		g_autofree char *c = vmt_report_pct(p->hot_coverage), *s = vmt_report_pct(p->dram_access_share);
		g_autofree char *h = vmt_size_format(p->hot_bytes), *d = vmt_size_format(p->dram_bytes);

		g_string_append_printf(out, "      %-20s %9s %7s %10s %10s %s\n", ts, c, s, h, d,
				       p->slo_met == 1 ? "met" : p->slo_met == 0 ? "missed" : "-");
	}
}

char *vmt_report_to_table(const VmtReport *r)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < r->tenants->len; i++) {
		const VmtReportTenant *t = r->tenants->pdata[i];
		g_autofree char *name = vmt_name_escape(t->tenant);

		g_string_append_printf(out, "%sTenant %s: %u VM%s in %u VM/class period%s: SLO kept in %u, "
				       "broken in %u\n", i ? "\n" : "", name, t->n_vms, t->n_vms == 1 ? "" : "s",
				       t->vms->len, t->vms->len == 1 ? "" : "s", t->vms_compliant,
				       t->vms_not_compliant);
		for (guint j = 0; j < t->vms->len; j++)
			table_vm(out, t->vms->pdata[j]);
		g_string_append_printf(out, "\n  %-14s %9s %11s %7s %10s %10s %9s %7s %10s\n", "", "intervals",
				       "met/judged", "SLO", "DRAM avg", "slow avg", "coverage", "DRAM %",
				       "migrated");
		table_stats_line(out, "total", &t->stats);
		{
			g_autofree char *dram = vmt_report_byte_hours(t->stats.dram_gib_hours);
			g_autofree char *slow = vmt_report_byte_hours(t->stats.slow_gib_hours);

			g_string_append_printf(out, "    residency  %s in DRAM, %s on the slow tier\n", dram, slow);
		}
	}
	return g_string_free(out, FALSE);
}
