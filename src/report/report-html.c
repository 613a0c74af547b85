// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier report as one self-contained HTML page: inline CSS and inline SVG
 * charts, no scripts, nothing fetched.  Every name is escaped. */
#include "report.h"
#include "size.h"

/* Charts draw at most this many points per line: longer runs are bucketed
 * (bytes averaged, shares at their minimum, so a dip stays visible). */
#define MAX_PLOT 600
#define W 720
#define H 200
#define LEFT 70
#define RIGHT 10
#define TOP 24
#define BOTTOM 26

static void esc(GString *out, const char *s)
{
	g_autofree char *e = g_markup_escape_text(s ? s : "", -1);

	g_string_append(out, e);
}

typedef struct {
	gint64 x0, x1;		/* time range of the x axis */
	double ymax;
} Scale;

static double px(const Scale *s, gint64 ts)
{
	return LEFT + (double)(ts - s->x0) * (W - LEFT - RIGHT) / (double)MAX(s->x1 - s->x0, 1);
}

static double py(const Scale *s, double v)
{
	return TOP + (H - TOP - BOTTOM) * (1 - v / s->ymax);
}

/* What one chart line shows of a point. */
typedef double (*Field)(const VmtReportPoint *p);
static double f_dram(const VmtReportPoint *p) { return (double)p->dram_bytes; }
static double f_slow(const VmtReportPoint *p) { return (double)p->slow_bytes; }
static double f_hot(const VmtReportPoint *p) { return (double)p->hot_bytes; }
static double f_quota(const VmtReportPoint *p) { return (double)p->quota_bytes; }
static double f_coverage(const VmtReportPoint *p) { return p->hot_bytes ? p->hot_coverage : -1; }
static double f_share(const VmtReportPoint *p) { return p->dram_access_share; }

/* FIELD over points [i, j): the average, or the minimum when MIN; -1 when
 * no point has a value. */
static double bucket(const GArray *pts, guint i, guint j, Field field, gboolean min)
{
	double acc = min ? -1 : 0;
	guint n = 0;

	for (; i < j; i++) {
		double v = field(&g_array_index(pts, VmtReportPoint, i));

		if (v < 0)
			continue;
		if (min)
			acc = acc < 0 || v < acc ? v : acc;
		else
			acc += v;
		n++;
	}
	return !n ? -1 : min ? acc : acc / n;
}

static void close_run(GString *out, guint run, double x, double y)
{
	if (run == 1)	/* a lone interval: a dot, from the round line caps */
		g_string_append_printf(out, " %.1f,%.1f", x, y);
	g_string_append(out, "\"/>\n");
}

/* One line: a polyline per run of recorded intervals (a gap breaks it). */
static void line(GString *out, const Scale *s, const GArray *pts, Field field, gboolean min,
		 const char *cls)
{
	guint step = (pts->len + MAX_PLOT - 1) / MAX_PLOT, run = 0;
	double x = 0, y = 0;

	for (guint i = 0; i < pts->len; i += step) {
		guint j = MIN(i + step, pts->len);
		const VmtReportPoint *p = &g_array_index(pts, VmtReportPoint, j - 1);
		double v = bucket(pts, i, j, field, min);
		gboolean gap = i > 0 && vmt_report_gap_s(&g_array_index(pts, VmtReportPoint, i - 1),
							  &g_array_index(pts, VmtReportPoint, i));

		if (run && (gap || v < 0)) {
			close_run(out, run, x, y);
			run = 0;
		}
		if (v < 0)
			continue;
		if (!run)
			g_string_append_printf(out, "<polyline class=\"%s\" points=\"", cls);
		x = px(s, p->ts);
		y = py(s, v);
		g_string_append_printf(out, "%s%.1f,%.1f", run ? " " : "", x, y);
		run++;
	}
	if (run)
		close_run(out, run, x, y);
}

/* Vertical grid lines at a round time step (at most about six of them),
 * labelled HH:MM, or with the date at midnight or when the step is days.
 * The two ends carry full timestamps, so labels too near them are left out
 * rather than drawn over them. */
static void time_ticks(GString *out, const Scale *s)
{
	static const gint64 steps[] = { 60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400 };
	gint64 span = s->x1 - s->x0, step = 0;

	for (guint i = 0; i < G_N_ELEMENTS(steps) && !step; i++)
		if (span / steps[i] <= 6)
			step = steps[i];
	if (!step)
		step = (span / 6 / 86400 + 1) * 86400;
	/* at most a dozen, whatever the range (the store's rows are checked, but
	 * a bad range must never turn into a loop over every minute of it) */
	for (gint64 t = (s->x0 / step + 1) * step, n = 0; t < s->x1 && n < 12; t += step, n++) {
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
		g_autofree char *label = dt ? g_date_time_format(dt, step < 86400 && t % 86400 ? "%H:%M" : "%m-%d")
					    : NULL;
		double x = px(s, t);

		g_string_append_printf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>\n",
				       x, x, TOP, H - BOTTOM);
		if (label && x - LEFT > 125 && W - RIGHT - x > 125)
			g_string_append_printf(out, "<text class=\"time mid\" x=\"%.1f\" y=\"%d\">%s</text>\n",
					       x, H - 8, label);
	}
}

static void axes(GString *out, const Scale *s, const char *title, const char *ytitle, double ticks[],
		 char *labels[], guint n)
{
	g_autofree char *from = vmt_report_format_time(s->x0), *to = vmt_report_format_time(s->x1);

	g_string_append_printf(out, "<figcaption>%s</figcaption>\n<svg class=\"chart\" viewBox=\"0 0 %d %d\" "
			       "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">\n<title>%s</title>\n",
			       title, W, H, W, H, title, title);
	time_ticks(out, s);
	for (guint i = 0; i < n; i++)
		g_string_append_printf(out, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
				       "<text class=\"tick\" x=\"%d\" y=\"%.1f\">%s</text>\n", LEFT, W - RIGHT,
				       py(s, ticks[i]), py(s, ticks[i]), LEFT - 4, py(s, ticks[i]) + 4, labels[i]);
	g_string_append_printf(out, "<text class=\"axis\" transform=\"rotate(-90)\" x=\"%d\" y=\"12\">%s</text>\n",
			       -(TOP + H - BOTTOM) / 2, ytitle);
	g_string_append_printf(out, "<text class=\"time\" x=\"%d\" y=\"%d\">%s</text>"
			       "<text class=\"time end\" x=\"%d\" y=\"%d\">%s</text>\n",
			       LEFT, H - 8, from, W - RIGHT, H - 8, to);
}

/* The next legend entry, at slot *SLOT: a sample of the series' line (or
 * its mark, for a MARK) in its own style, then its name in dark text. */
static void legend(GString *out, guint *slot, const char *cls, const char *label, gboolean mark)
{
	guint x = LEFT + 145 * (*slot)++;

	if (mark)
		g_string_append_printf(out, "<circle class=\"key %s\" cx=\"%u\" cy=\"10\" r=\"3.5\"/>", cls, x + 8);
	else
		g_string_append_printf(out, "<line class=\"key %s\" x1=\"%u\" x2=\"%u\" y1=\"10\" y2=\"10\"/>",
				       cls, x, x + 16);
	g_string_append_printf(out, "<text class=\"legend %s\" x=\"%u\" y=\"14\">%s</text>\n", cls, x + 20, label);
}

static void residency_chart(GString *out, const Scale *time, const VmtReportVm *v)
{
	static const char *const items[][2] = {
		{ "dram", "in DRAM" }, { "slow", "on the slow tier" }, { "hot", "hot set" }, { "quota", "DRAM quota" },
	};
	Scale s = *time;
	double ticks[5], step = 1 << 20;
	char *labels[5];
	guint slot = 0;

	s.ymax = 1;
	for (guint i = 0; i < v->points->len; i++) {
		const VmtReportPoint *p = &g_array_index(v->points, VmtReportPoint, i);
		s.ymax = MAX(s.ymax, MAX(MAX(f_dram(p), f_slow(p)), MAX(f_hot(p), f_quota(p))));
	}
	/* four steps of a power of two, so the ticks read 2 GiB, 4 GiB ... */
	while (step * 4 < s.ymax)
		step *= 2;
	s.ymax = step * 4 * 1.05;
	for (guint i = 0; i < 5; i++) {
		ticks[i] = step * i;
		labels[i] = vmt_size_format((guint64)ticks[i]);
	}
	axes(out, &s, "Guest memory in DRAM and on the slow tier", "memory", ticks, labels, 5);
	for (guint i = 0; i < 5; i++)
		g_free(labels[i]);
	line(out, &s, v->points, f_quota, FALSE, "quota");
	line(out, &s, v->points, f_slow, FALSE, "slow");
	line(out, &s, v->points, f_hot, FALSE, "hot");
	line(out, &s, v->points, f_dram, FALSE, "dram");
	for (guint i = 0; i < G_N_ELEMENTS(items); i++)
		legend(out, &slot, items[i][0], items[i][1], FALSE);
	g_string_append(out, "</svg>\n");
}

static void coverage_chart(GString *out, const Scale *time, const VmtReportVm *v)
{
	double ticks[] = { 0, 0.25, 0.5, 0.75, 1 };
	char *labels[] = { "0%", "25%", "50%", "75%", "100%" };
	Scale s = *time;
	guint step = (v->points->len + MAX_PLOT - 1) / MAX_PLOT, slot = 0;
	gboolean any_missed = FALSE;

	s.ymax = 1.02;
	axes(out, &s, "Hot memory served from DRAM, against the SLO", "share", ticks, labels, 5);
	if (v->has_slo)
		g_string_append_printf(out, "<line class=\"slo\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
				       LEFT, W - RIGHT, py(&s, v->slo_target), py(&s, v->slo_target));
	line(out, &s, v->points, f_share, TRUE, "share");
	line(out, &s, v->points, f_coverage, TRUE, "coverage");
	/* a bucket with a missed interval gets a mark at its lowest coverage */
	for (guint i = 0; i < v->points->len; i += step) {
		guint j = MIN(i + step, v->points->len);
		gboolean missed = FALSE;

		for (guint k = i; k < j; k++)
			missed |= g_array_index(v->points, VmtReportPoint, k).slo_met == 0;
		any_missed |= missed;
		if (missed)
			g_string_append_printf(out, "<circle class=\"missed\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"/>\n",
					       px(&s, g_array_index(v->points, VmtReportPoint, j - 1).ts),
					       py(&s, bucket(v->points, i, j, f_coverage, TRUE)));
	}
	/* the legend names only what this chart draws */
	legend(out, &slot, "coverage", "hot memory in DRAM", FALSE);
	legend(out, &slot, "share", "DRAM access share", FALSE);
	if (v->has_slo)
		legend(out, &slot, "slo", "SLO target", FALSE);
	if (any_missed)
		legend(out, &slot, "missed", "SLO missed", TRUE);
	g_string_append(out, "</svg>\n");
}

static void stats_cells(GString *out, const VmtReportStats *st)
{
	g_autofree char *comp = vmt_report_pct(vmt_slo_compliance(&st->slo));
	g_autofree char *dram = vmt_size_format((guint64)st->avg_dram_bytes);
	g_autofree char *slow = vmt_size_format((guint64)st->avg_slow_bytes);
	g_autofree char *cov = vmt_report_pct(st->avg_hot_coverage), *mincov = vmt_report_pct(st->min_hot_coverage);
	g_autofree char *share = vmt_report_pct(st->avg_dram_access_share);
	g_autofree char *moved = vmt_size_format(vmt_report_sat_add(st->promoted_bytes, st->demoted_bytes));

	g_string_append_printf(out, "<td>%u/%u</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
			       "<td>%s</td><td>%s</td><td>%s (%" G_GUINT64_FORMAT ")</td>",
			       st->slo.met, vmt_slo_tally_judged(&st->slo), comp, dram, slow, cov, mincov,
			       share, moved, st->migrations);
}

static const char stats_head[] = "<th>met/judged</th><th>compliance</th><th>DRAM avg</th>"
				 "<th>slow avg</th><th>coverage avg</th><th>coverage min</th>"
				 "<th>DRAM access avg</th><th>migrated (calls)</th>";

static void vm_row(GString *out, const VmtReportVm *v)
{
	const VmtReportPoint *last = &g_array_index(v->points, VmtReportPoint, v->points->len - 1);
	g_autofree char *quota = vmt_size_format(last->quota_bytes);
	g_autofree char *t = vmt_report_pct(v->slo_target), *n = vmt_report_pct(v->slo_intervals);
	g_autofree char *slo = v->has_slo ? g_strdup_printf("%s in %s", t, n) : g_strdup("none");

	g_string_append(out, "<tr><td>");
	esc(out, v->vm);
	g_string_append(out, "</td><td>");
	esc(out, v->klass ? v->klass : "none");
	g_string_append_printf(out, "</td><td>%s</td><td>%s</td>", quota, slo);
	stats_cells(out, &v->stats);
	g_string_append_printf(out, "<td class=\"%s\">%s</td><td>%u</td></tr>\n",
			       v->compliant == 1 ? "ok" : v->compliant == 0 ? "bad" : "",
			       v->compliant == 1 ? "kept" : v->compliant == 0 ? "broken" : "-", v->gaps);
}

static void vm_section(GString *out, const Scale *time, const VmtReportVm *v)
{
	g_string_append(out, "<section class=\"vm\"><h3>VM ");
	esc(out, v->vm);
	g_string_append(out, " <small>class ");
	esc(out, v->klass ? v->klass : "none");
	g_string_append(out, "</small></h3>\n<figure>");
	residency_chart(out, time, v);
	g_string_append(out, "</figure>\n<figure>");
	coverage_chart(out, time, v);
	g_string_append(out, "</figure>\n");
	if (v->worst->len) {
		g_string_append(out, "<table><caption>Worst intervals</caption><tr><th>end (UTC)</th>"
				     "<th>hot in DRAM</th><th>DRAM access</th><th>hot set</th><th>DRAM</th>"
				     "<th>SLO</th></tr>\n");
		for (guint i = 0; i < v->worst->len; i++) {
			const VmtReportPoint *p = &g_array_index(v->worst, VmtReportPoint, i);
			g_autofree char *ts = vmt_report_format_time(p->ts);
			g_autofree char *c = vmt_report_pct(p->hot_coverage), *s = vmt_report_pct(p->dram_access_share);
			g_autofree char *h = vmt_size_format(p->hot_bytes), *d = vmt_size_format(p->dram_bytes);

			g_string_append_printf(out, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
					       "<td class=\"%s\">%s</td></tr>\n", ts, c, s, h, d,
					       p->slo_met == 0 ? "bad" : "ok", p->slo_met == 0 ? "missed" : "met");
		}
		g_string_append(out, "</table>\n");
	}
	g_string_append(out, "</section>\n");
}

static const char style[] =
	"body{font-family:sans-serif;margin:2em;color:#222}"
	"table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
	"text-align:right}td:first-child{text-align:left}caption{text-align:left;font-weight:bold}"
	"td{white-space:nowrap}"
	".ok{color:#176f2c}.bad{color:#b00020;font-weight:bold}figure{margin:0.5em 0 1em}"
	"figcaption{font-size:13px;font-weight:bold;color:#333}"
	"polyline,line.key{fill:none;stroke-width:1.5;stroke-linecap:round}line.key{stroke-width:2}"
	".grid{stroke:#e4e4e4}.tick,.axis{font-size:10px;text-anchor:end;fill:#555}.axis{text-anchor:middle}"
	".time{font-size:10px;fill:#555}.time.mid{text-anchor:middle}.time.end{text-anchor:end}"
	".legend{font-size:11px;fill:#333}"
	"line.dram,line.coverage,polyline.dram,polyline.coverage{stroke:#1f5fbf}"
	"line.slow,polyline.slow{stroke:#e08a00}line.hot,polyline.hot{stroke:#2a9d3a}"
	"line.quota,polyline.quota{stroke:#777;stroke-dasharray:6 3}line.share,polyline.share{stroke:#8e44ad}"
	"line.slo{stroke:#b00020;stroke-width:1.5;stroke-dasharray:6 3}circle.missed{fill:#b00020;stroke:#fff}";

char *vmt_report_to_html(const VmtReport *r)
{
	GString *out = g_string_new("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
				    "<title>vmtier SLA report</title>\n<style>");
	g_autofree char *from = vmt_report_format_time(r->first_ts), *to = vmt_report_format_time(r->last_ts);
	Scale time = { r->first_ts, r->last_ts, 1 };

	g_string_append_printf(out, "%s</style></head>\n<body>\n<h1>vmtier SLA report</h1>\n", style);
	if (vmt_report_is_empty(r))
		g_string_append(out, "<p>No recorded intervals match.</p>\n");
	else
		g_string_append_printf(out, "<p>Intervals from %s to %s (UTC).  An interval meets its "
				       "class's SLO when that share of its hot memory (up to the DRAM "
				       "quota) was in DRAM; intervals without hot memory are not judged."
				       "</p>\n", from, to);
	for (guint i = 0; i < r->tenants->len; i++) {
		const VmtReportTenant *t = r->tenants->pdata[i];

		g_string_append(out, "<section class=\"tenant\"><h2>Tenant ");
		esc(out, t->tenant);
		g_string_append_printf(out, "</h2>\n<table><tr><th>VM</th><th>class</th><th>DRAM quota</th>"
				       "<th>SLO</th>%s<th>SLO kept</th><th>gaps</th></tr>\n", stats_head);
		for (guint j = 0; j < t->vms->len; j++)
			vm_row(out, t->vms->pdata[j]);
		g_string_append_printf(out, "<tr><th>total: %u VM%s</th><td></td><td></td><td></td>", t->n_vms,
				       t->n_vms == 1 ? "" : "s");
		stats_cells(out, &t->stats);
		g_string_append_printf(out, "<td>%u kept, %u broken</td><td></td></tr>\n</table>\n"
				       "<p>Residency: %.1f GiB-hours in DRAM, %.1f GiB-hours on the slow tier.</p>\n",
				       t->vms_compliant, t->vms_not_compliant, t->stats.dram_gib_hours,
				       t->stats.slow_gib_hours);
		for (guint j = 0; j < t->vms->len; j++)
			vm_section(out, &time, t->vms->pdata[j]);
		g_string_append(out, "</section>\n");
	}
	g_string_append(out, "</body></html>\n");
	return g_string_free(out, FALSE);
}
