// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier report as one self-contained HTML page: inline CSS and inline SVG
 * charts, no scripts, nothing fetched.  Every name is escaped. */
#include "report.h"
#include "size.h"

#include <stdlib.h>

/* Charts draw at most this many points per line: longer runs are bucketed
 * (bytes averaged, shares at their minimum, so a dip stays visible). */
#define MAX_PLOT 600
#define W 840
#define H 200
#define LEFT 70
#define RIGHT 120	/* direct labels at the lines' ends */
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

/* One line: a polyline per run of recorded intervals (a gap breaks it).
 * *END_Y (may be NULL) gets the y of its last point, -1 if none drawn. */
static void line(GString *out, const Scale *s, const GArray *pts, Field field, gboolean min,
		 const char *cls, double *end_y)
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
	if (end_y)
		*end_y = pts->len && field(&g_array_index(pts, VmtReportPoint, pts->len - 1)) >= 0 ? y : -1;
}

typedef struct {
	const char *cls, *label;
	double y;
} EndLabel;

static gint by_y(gconstpointer a, gconstpointer b)
{
	double ya = ((const EndLabel *)a)->y, yb = ((const EndLabel *)b)->y;

	return ya < yb ? -1 : ya > yb;
}

/* Each line's name at its right end, in dark text beside a sample of its
 * own dash pattern: no colour needed to tell them apart.  Labels are
 * pushed apart to 12 px so that lines ending together stay readable. */
static void direct_labels(GString *out, EndLabel *l, guint n)
{
	double last = -100;

	qsort(l, n, sizeof(*l), (int (*)(const void *, const void *))by_y);
	for (guint i = 0; i < n; i++) {
		if (l[i].y < 0)
			continue;
		l[i].y = MAX(l[i].y, last + 12);
		last = l[i].y;
		g_string_append_printf(out, "<line class=\"key %s\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
				       "<text class=\"direct\" x=\"%d\" y=\"%.1f\">%s</text>\n", l[i].cls,
				       W - RIGHT + 6, W - RIGHT + 22, l[i].y, l[i].y, W - RIGHT + 26, l[i].y + 4,
				       l[i].label);
	}
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

/* DESC says in words what the chart shows, for screen readers and for
 * anyone who cannot tell its lines apart. */
static void axes(GString *out, const Scale *s, const char *title, const char *desc, const char *ytitle,
		 double ticks[], char *labels[], guint n)
{
	g_autofree char *from = vmt_report_format_time(s->x0), *to = vmt_report_format_time(s->x1);

	g_string_append_printf(out, "<figcaption>%s</figcaption>\n<svg class=\"chart\" viewBox=\"0 0 %d %d\" "
			       "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">\n<title>%s</title>\n"
			       "<desc>", title, W, H, W, H, title, title);
	esc(out, desc);
	g_string_append(out, "</desc>\n");
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

/* The intervals in the class's warm-up after a start, as grey bands
 * labelled once: not judged, and shown as such. */
static void warm_up_bands(GString *out, const Scale *s, const VmtReportVm *v)
{
	gboolean labelled = FALSE;

	for (guint i = 0; i < v->points->len; i++) {
		const VmtReportPoint *p = &g_array_index(v->points, VmtReportPoint, i);
		double x0, x1;

		if (!p->slo_grace)
			continue;
		x0 = px(s, p->ts - p->interval_s);
		x1 = px(s, p->ts);
		g_string_append_printf(out, "<rect class=\"warmup\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>\n",
				       x0, TOP, MAX(x1 - x0, 1.0), H - TOP - BOTTOM);
		if (!labelled)
			g_string_append_printf(out, "<text class=\"warmup\" x=\"%.1f\" y=\"%d\">warm-up</text>\n",
					       x0 + 2, TOP + 10);
		labelled = TRUE;
	}
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
	EndLabel ends[4];

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
	{
		g_autofree char *dram = vmt_size_format((guint64)v->stats.avg_dram_bytes);
		g_autofree char *slow = vmt_size_format((guint64)v->stats.avg_slow_bytes);
		g_autofree char *hot = vmt_size_format((guint64)v->stats.avg_hot_bytes);
		g_autofree char *quota = vmt_size_format(g_array_index(v->points, VmtReportPoint,
								       v->points->len - 1).quota_bytes);
		g_autofree char *desc = g_strdup_printf(
			"Over the period, on average %s of the guest's memory was in DRAM and %s on the slow "
			"tier; the hot set averaged %s; the DRAM quota was %s at the end.", dram, slow, hot, quota);

		axes(out, &s, "Guest memory in DRAM and on the slow tier", desc, "memory", ticks, labels, 5);
	}
	for (guint i = 0; i < 5; i++)
		g_free(labels[i]);
	warm_up_bands(out, &s, v);
	line(out, &s, v->points, f_quota, FALSE, "quota", &ends[3].y);
	line(out, &s, v->points, f_slow, FALSE, "slow", &ends[1].y);
	line(out, &s, v->points, f_hot, FALSE, "hot", &ends[2].y);
	line(out, &s, v->points, f_dram, FALSE, "dram", &ends[0].y);
	for (guint i = 0; i < G_N_ELEMENTS(items); i++) {
		ends[i].cls = items[i][0];
		ends[i].label = items[i][1];
		legend(out, &slot, items[i][0], items[i][1], FALSE);
	}
	direct_labels(out, ends, G_N_ELEMENTS(ends));
	g_string_append(out, "</svg>\n");
}

static void coverage_chart(GString *out, const Scale *time, const VmtReportVm *v)
{
	double ticks[] = { 0, 0.25, 0.5, 0.75, 1 };
	char *labels[] = { "0%", "25%", "50%", "75%", "100%" };
	Scale s = *time;
	guint step = (v->points->len + MAX_PLOT - 1) / MAX_PLOT, slot = 0;
	gboolean any_missed = FALSE;
	EndLabel ends[3] = { { "coverage", "hot in DRAM", -1 }, { "share", "DRAM accesses", -1 },
			     { "slo", "SLO target", -1 } };
	g_autofree char *cov = vmt_report_pct(v->stats.avg_hot_coverage);
	g_autofree char *mincov = vmt_report_pct(v->stats.min_hot_coverage);
	g_autofree char *target = vmt_report_pct(v->slo_target);
	g_autofree char *desc = g_strdup_printf(
		"Hot memory in DRAM averaged %s (lowest %s)%s%s; %u interval%s missed the SLO, %u in the "
		"warm-up after a start were not judged.", cov, mincov, v->has_slo ? " against a target of " : "",
		v->has_slo ? target : "", v->stats.slo.missed, v->stats.slo.missed == 1 ? "" : "s",
		v->stats.warm_up);

	s.ymax = 1.02;
	axes(out, &s, "Hot memory served from DRAM, against the SLO", desc, "share", ticks, labels, 5);
	warm_up_bands(out, &s, v);
	if (v->has_slo) {
		g_string_append_printf(out, "<line class=\"slo\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
				       LEFT, W - RIGHT, py(&s, v->slo_target), py(&s, v->slo_target));
		ends[2].y = py(&s, v->slo_target);
	}
	line(out, &s, v->points, f_share, TRUE, "share", &ends[1].y);
	line(out, &s, v->points, f_coverage, TRUE, "coverage", &ends[0].y);
	/* a bucket with a missed interval gets a ring at its lowest coverage:
	 * a shape, not only a colour */
	for (guint i = 0; i < v->points->len; i += step) {
		guint j = MIN(i + step, v->points->len);
		gboolean missed = FALSE;

		for (guint k = i; k < j; k++)
			missed |= g_array_index(v->points, VmtReportPoint, k).slo_met == 0;
		any_missed |= missed;
		if (missed)
			g_string_append_printf(out, "<circle class=\"missed\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/>\n",
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
	direct_labels(out, ends, G_N_ELEMENTS(ends));
	g_string_append(out, "</svg>\n");
}

static const char *verdict_class(int compliant)
{
	return compliant == 1 ? "ok" : compliant == 0 ? "bad" : "none";
}

static const char *verdict_text(const VmtReportVm *v)
{
	return !v->has_slo ? "no SLO" : v->compliant == 1 ? "SLO kept" : v->compliant == 0 ? "SLO broken" :
	       "not judged yet";
}

/* One sentence: why the verdict is what it is. */
static char *verdict_why(const VmtReportVm *v)
{
	g_autofree char *comp = vmt_report_pct(vmt_slo_compliance(&v->stats.slo));
	g_autofree char *t = vmt_report_pct(v->slo_target), *n = vmt_report_pct(v->slo_intervals);
	g_autofree char *warm = v->stats.warm_up ?
		g_strdup_printf(" %u interval%s in the %u s warm-up after a start %s not judged.", v->stats.warm_up,
				v->stats.warm_up == 1 ? "" : "s", v->slo_grace_s, v->stats.warm_up == 1 ? "was" : "were") :
		g_strdup("");

	if (!v->has_slo)
		return g_strdup_printf("Its class promises nothing; %u of %u intervals had hot memory in DRAM as "
				       "measured.%s", v->stats.slo.met, v->stats.intervals, warm);
	if (!vmt_slo_tally_judged(&v->stats.slo))
		return g_strdup_printf("No interval could be judged yet (no hot memory, or all in the warm-up)."
				       "%s", warm);
	return g_strdup_printf("Met in %u of %u judged intervals (%s); the class promises %s of the hot "
			       "memory in DRAM in %s of intervals.%s", v->stats.slo.met,
			       vmt_slo_tally_judged(&v->stats.slo), comp, t, n, warm);
}

static void th_cols(GString *out, const char *const *cols)
{
	g_string_append(out, "<thead><tr>");
	for (; *cols; cols++)
		g_string_append_printf(out, "<th scope=\"col\">%s</th>", *cols);
	g_string_append(out, "</tr></thead>\n");
}

/* The cells of a run of intervals (a VM's period, a day, a tenant). */
static void stats_cells(GString *out, const VmtReportStats *st)
{
	g_autofree char *comp = vmt_report_pct(vmt_slo_compliance(&st->slo));
	g_autofree char *dram = vmt_size_format((guint64)st->avg_dram_bytes);
	g_autofree char *cov = vmt_report_pct(st->avg_hot_coverage), *mincov = vmt_report_pct(st->min_hot_coverage);
	g_autofree char *share = vmt_report_pct(st->avg_dram_access_share);

	g_string_append_printf(out, "<td>%u of %u</td><td>%s</td><td>%u</td><td>%s</td><td>%s</td><td>%s</td>"
			       "<td>%s</td>", st->slo.met, vmt_slo_tally_judged(&st->slo), comp, st->warm_up,
			       cov, mincov, share, dram);
}

static const char *const stats_cols[] = {
	"intervals met", "compliance", "warm-up (not judged)", "hot in DRAM, avg", "hot in DRAM, lowest",
	"DRAM accesses, avg", "DRAM avg",
};

static void vm_row(GString *out, const VmtReportVm *v)
{
	const VmtReportPoint *last = &g_array_index(v->points, VmtReportPoint, v->points->len - 1);
	g_autofree char *quota = vmt_size_format(last->quota_bytes);
	g_autofree char *t = vmt_report_pct(v->slo_target), *n = vmt_report_pct(v->slo_intervals);
	g_autofree char *slo = v->has_slo ? g_strdup_printf("%s in %s", t, n) : g_strdup("none");

	g_string_append(out, "<tr><th scope=\"row\">");
	esc(out, v->vm);
	g_string_append_printf(out, "</th><td class=\"verdict %s\">%s</td><td>", verdict_class(v->compliant),
			       verdict_text(v));
	esc(out, v->klass ? v->klass : "none");
	g_string_append_printf(out, "</td><td>%s</td><td>%s</td>", slo, quota);
	stats_cells(out, &v->stats);
	g_string_append_printf(out, "<td>%u</td></tr>\n", v->gaps);
}

void vmt_report_html_days(GString *out, const GPtrArray *days)
{
	static const char *const cols[] = {
		"day (UTC)", "intervals met", "compliance", "warm-up (not judged)", "hot in DRAM, avg",
		"hot in DRAM, lowest", "DRAM accesses, avg", "DRAM avg", "moved", NULL,
	};

	g_string_append(out, "<table class=\"days\"><caption>Per day</caption>\n");
	th_cols(out, cols);
	g_string_append(out, "<tbody>\n");
	for (guint i = 0; i < days->len; i++) {
		const VmtReportDay *d = days->pdata[i];
		g_autofree char *moved = vmt_size_format(vmt_report_sat_add(d->stats.promoted_bytes,
									    d->stats.demoted_bytes));

		g_string_append_printf(out, "<tr><th scope=\"row\">%s</th>", d->date);
		stats_cells(out, &d->stats);
		g_string_append_printf(out, "<td>%s</td></tr>\n", moved);
	}
	g_string_append(out, "</tbody></table>\n");
}

static void vm_section(GString *out, const Scale *time, const VmtReportVm *v)
{
	g_autofree char *why = verdict_why(v);

	g_string_append(out, "<section class=\"vm\"><h3>VM ");
	esc(out, v->vm);
	g_string_append(out, " <small>class ");
	esc(out, v->klass ? v->klass : "none");
	g_string_append_printf(out, "</small></h3>\n<p class=\"verdict-line\"><strong class=\"verdict %s\">%s.</strong> ",
			       verdict_class(v->compliant), verdict_text(v));
	esc(out, why);
	g_string_append(out, "</p>\n<figure>");
	residency_chart(out, time, v);
	g_string_append(out, "</figure>\n<figure>");
	coverage_chart(out, time, v);
	g_string_append(out, "</figure>\n");
	vmt_report_html_days(out, v->days);
	if (v->worst->len) {
		static const char *const cols[] = {
			"interval end (UTC)", "hot in DRAM", "DRAM accesses", "hot set", "DRAM", "SLO", NULL,
		};

		g_string_append(out, "<table><caption>Worst intervals</caption>\n");
		th_cols(out, cols);
		g_string_append(out, "<tbody>\n");
		for (guint i = 0; i < v->worst->len; i++) {
			const VmtReportPoint *p = &g_array_index(v->worst, VmtReportPoint, i);
			g_autofree char *ts = vmt_report_format_time(p->ts);
			g_autofree char *c = vmt_report_pct(p->hot_coverage), *s = vmt_report_pct(p->dram_access_share);
			g_autofree char *h = vmt_size_format(p->hot_bytes), *d = vmt_size_format(p->dram_bytes);

			g_string_append_printf(out, "<tr><th scope=\"row\">%s</th><td>%s</td><td>%s</td><td>%s</td>"
					       "<td>%s</td><td class=\"%s\">%s</td></tr>\n", ts, c, s, h, d,
					       p->slo_met == 0 ? "bad" : "ok",
					       p->slo_met == 0 ? "missed" : p->slo_grace ? "warm-up" :
					       p->slo_met < 0 ? "not judged" : "met");
		}
		g_string_append(out, "</tbody></table>\n");
	}
	g_string_append(out, "</section>\n");
}

/* Okabe-Ito colours (told apart with the common colour-blindnesses), each
 * series with its own dash pattern too. */
static const char style[] =
	"body{font-family:sans-serif;margin:1.5em auto;max-width:1180px;padding:0 1em;color:#222;"
	"font-size:14px}"
	"h1{margin-bottom:0.2em}"
	".provenance{display:grid;grid-template-columns:max-content auto;gap:0 1em;margin:0.5em 0;"
	"font-size:13px}.provenance dt{color:#555}.provenance dd{margin:0}"
	".holds{border:2px solid #d55e00;padding:0.5em 1em;margin:1em 0}"
	".glossary dt{font-weight:bold}.glossary dd{margin:0 0 0.4em 1.5em}"
	"table{border-collapse:collapse;margin:1em 0;font-size:13px}"
	"td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
	"th[scope=row]{text-align:left;font-weight:normal;white-space:nowrap}thead th{background:#f3f3f3;vertical-align:bottom}"
	"caption{text-align:left;font-weight:bold}"
	".ok{color:#176f2c}.bad{color:#b00020;font-weight:bold}.verdict{white-space:nowrap}"
	".verdict.ok::before{content:\"\\2713  \"}.verdict.bad::before{content:\"\\2717  \"}"
	".verdict-line{font-size:15px}"
	"figure{margin:0.5em 0 1em}figcaption{font-size:13px;font-weight:bold;color:#333}"
	"svg.chart{max-width:100%;height:auto}"
	"polyline,line.key{fill:none;stroke-width:1.5;stroke-linecap:round}line.key{stroke-width:2}"
	".grid{stroke:#e4e4e4}.tick,.axis{font-size:10px;text-anchor:end;fill:#555}.axis{text-anchor:middle}"
	".time{font-size:10px;fill:#555}.time.mid{text-anchor:middle}.time.end{text-anchor:end}"
	".legend,.direct{font-size:11px;fill:#333}"
	"rect.warmup{fill:#eeeeee}text.warmup{font-size:10px;fill:#555}"
	"line.dram,polyline.dram{stroke:#0072b2}"
	"line.coverage,polyline.coverage{stroke:#0072b2}"
	"line.slow,polyline.slow{stroke:#e69f00;stroke-dasharray:8 3}"
	"line.hot,polyline.hot{stroke:#009e73;stroke-dasharray:2 3}"
	"line.quota,polyline.quota{stroke:#555;stroke-dasharray:12 3 2 3}"
	"line.share,polyline.share{stroke:#cc79a7;stroke-width:2;stroke-dasharray:9 2}"
	"line.slo{stroke:#d55e00;stroke-width:1.5;stroke-dasharray:4 2}"
	"circle.missed{fill:none;stroke:#d55e00;stroke-width:2}"
	"@page{size:A4;margin:12mm}"
	"@media print{body{margin:0;max-width:none;padding:0;font-size:10pt}"
	"table{font-size:8pt}td,th{padding:1px 3px}"
	"section.vm{break-before:page}figure,table,.verdict-line{break-inside:avoid}"
	".glossary{break-inside:avoid}}";

static void provenance(GString *out, const VmtReport *r)
{
	g_autofree char *gen = r->generated_ts ? vmt_report_format_time(r->generated_ts) : NULL;
	g_autofree char *since = r->query.since != G_MININT64 ? vmt_report_format_time(r->query.since) : NULL;
	g_autofree char *until = r->query.until != G_MAXINT64 ? vmt_report_format_time(r->query.until) : NULL;
	g_autofree char *from = vmt_report_format_time(r->first_ts), *to = vmt_report_format_time(r->last_ts);

	g_string_append(out, "<dl class=\"provenance\">");
	if (gen)
		g_string_append_printf(out, "<dt>generated</dt><dd>%s</dd>", gen);
	if (r->host) {
		g_string_append(out, "<dt>host</dt><dd>");
		esc(out, r->host);
		g_string_append(out, "</dd>");
	}
	g_string_append_printf(out, "<dt>period asked</dt><dd>%s to %s</dd>",
			       since ? since : "the first recorded interval", until ? until : "now");
	if (!vmt_report_is_empty(r))
		g_string_append_printf(out, "<dt>intervals found</dt><dd>%s to %s</dd>", from, to);
	if (r->query.tenant) {
		g_string_append(out, "<dt>tenant</dt><dd>");
		esc(out, r->query.tenant);
		g_string_append(out, "</dd>");
	} else {
		g_string_append_printf(out, "<dt>tenant%s in this file</dt><dd>", r->tenants->len == 1 ? "" : "s");
		for (guint i = 0; i < r->tenants->len; i++) {
			if (i)
				g_string_append(out, ", ");
			esc(out, ((VmtReportTenant *)r->tenants->pdata[i])->tenant);
		}
		g_string_append(out, r->tenants->len ? "</dd>" : "none</dd>");
	}
	if (r->query.vm) {
		g_string_append(out, "<dt>VM</dt><dd>");
		esc(out, r->query.vm);
		g_string_append(out, "</dd>");
	}
	if (r->version)
		g_string_append_printf(out, "<dt>vmtier version</dt><dd>%s</dd>", r->version);
	g_string_append(out, "</dl>\n");
}

/* Without --tenant the page may hold several tenants' figures: it says so
 * before anything else, so that it is not sent to one of them by mistake. */
static void holds(GString *out, const VmtReport *r)
{
	if (r->query.tenant || r->tenants->len < 2)
		return;
	g_string_append_printf(out, "<p class=\"holds\"><strong>This file holds %u tenants' reports:</strong> ",
			       r->tenants->len);
	for (guint i = 0; i < r->tenants->len; i++) {
		if (i)
			g_string_append(out, ", ");
		esc(out, ((VmtReportTenant *)r->tenants->pdata[i])->tenant);
	}
	g_string_append(out, ". Send a tenant only its own: <code>vmtier report --tenant NAME</code> or "
			     "<code>--per-tenant DIR</code>.</p>\n");
}

static const char glossary[] =
	"<details class=\"glossary\" open><summary>How to read this report</summary><dl>"
	"<dt>interval</dt><dd>vmtierd's accounting period (60 s by default); each is one row of the store.</dd>"
	"<dt>hot memory</dt><dd>the guest memory accessed in an interval, as vmtierd's access scanner saw it.</dd>"
	"<dt>hot in DRAM (coverage)</dt><dd>the share of the hot memory, up to the VM's DRAM quota, that was in "
	"DRAM.</dd>"
	"<dt>DRAM accesses (DRAM access share)</dt><dd>an estimate of the share of the guest's memory accesses "
	"that DRAM served.</dd>"
	"<dt>judged interval</dt><dd>an interval with hot memory, a sensor that could see, and past the "
	"warm-up: it is <em>met</em> when its coverage reaches the class's target, else <em>missed</em>.</dd>"
	"<dt>warm-up</dt><dd>the class's grace after each start of the VM (<code>slo_grace_s</code>, 300 s by "
	"default) while its hot memory is brought into DRAM: those intervals are not judged (grey bands on the "
	"charts).</dd>"
	"<dt>SLO kept</dt><dd>the share of judged intervals met reaches what the class promises.</dd>"
	"</dl></details>\n";

char *vmt_report_to_html(const VmtReport *r)
{
	GString *out = g_string_new("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
				    "<meta name=\"viewport\" content=\"width=device-width\">\n<title>vmtier SLA report");
	Scale time = { r->first_ts, r->last_ts, 1 };

	if (r->query.tenant) {
		g_string_append(out, ": ");
		esc(out, r->query.tenant);
	}
	g_string_append_printf(out, "</title>\n<style>%s</style></head>\n<body>\n<header><h1>vmtier SLA report</h1>\n",
			       style);
	provenance(out, r);
	holds(out, r);
	g_string_append(out, "</header>\n");
	if (vmt_report_is_empty(r))
		g_string_append(out, "<p>No recorded intervals match.</p>\n");
	else
		g_string_append(out, glossary);
	for (guint i = 0; i < r->tenants->len; i++) {
		const VmtReportTenant *t = r->tenants->pdata[i];
		g_autofree char *dram = vmt_report_byte_hours(t->stats.dram_gib_hours);
		g_autofree char *slow = vmt_report_byte_hours(t->stats.slow_gib_hours);
		static const char *const head[] = { "VM", "verdict", "class", "SLO promise", "DRAM quota", NULL };

		g_string_append(out, "<section class=\"tenant\"><h2>Tenant ");
		esc(out, t->tenant);
		g_string_append(out, "</h2>\n<table class=\"summary\"><caption>Verdict per VM</caption>\n<thead><tr>");
		for (guint j = 0; head[j]; j++)
			g_string_append_printf(out, "<th scope=\"col\">%s</th>", head[j]);
		for (guint j = 0; j < G_N_ELEMENTS(stats_cols); j++)
			g_string_append_printf(out, "<th scope=\"col\">%s</th>", stats_cols[j]);
		g_string_append(out, "<th scope=\"col\">gaps</th></tr></thead>\n<tbody>\n");
		for (guint j = 0; j < t->vms->len; j++)
			vm_row(out, t->vms->pdata[j]);
		g_string_append_printf(out, "</tbody>\n<tfoot><tr><th scope=\"row\">all %u VM%s</th><td>%u kept, "
				       "%u broken</td><td></td><td></td><td></td>", t->n_vms, t->n_vms == 1 ? "" : "s",
				       t->vms_compliant, t->vms_not_compliant);
		stats_cells(out, &t->stats);
		g_string_append_printf(out, "<td></td></tr></tfoot>\n</table>\n"
				       "<p>Residency: %s in DRAM, %s on the slow tier.</p>\n", dram, slow);
		for (guint j = 0; j < t->vms->len; j++)
			vm_section(out, &time, t->vms->pdata[j]);
		g_string_append(out, "</section>\n");
	}
	g_string_append(out, "</body></html>\n");
	return g_string_free(out, FALSE);
}
