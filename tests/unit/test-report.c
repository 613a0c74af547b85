// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier report on stores crafted here: no data, gaps, VMs redefined into
 * another tenant or class, tenant isolation in every format, compliance
 * arithmetic, worst intervals, escaping of odd names, and the command line. */
#include <gio/gio.h>

#include "report.h"
#include "tmpdir.h"

#include <json-c/json.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

#define T0 1704146400	/* 2024-01-01T22:00:00Z */

static char *tmpdir;
static const char *classes, *vmtier_bin;

static const VmtReportFormat formats[] = { VMT_REPORT_TABLE, VMT_REPORT_JSON, VMT_REPORT_CSV, VMT_REPORT_HTML };
static const char *const format_names[] = { "table", "json", "csv", "html" };

static char *db_path(const char *name)
{
	return g_strdup_printf("%s/%s.db", tmpdir, name);
}

/* One 60 s interval ending at T0 + 60 * I, judged against TARGET (<= 0: none). */
static void add(VmtHistory *h, const char *vm, const char *tenant, const char *klass, guint i,
		double coverage, double share, guint64 hot, double target)
{
	VmtHistorySample s = {
		.ts = T0 + 60 * (gint64)i, .interval_s = 60, .vm = vm, .tenant = tenant, .klass = klass,
		.scanner = "damon", .quota_bytes = 1ull << 30, .ram_bytes = 4ull << 30,
		.dram_bytes = 1ull << 30, .slow_bytes = 3ull << 30, .hot_bytes = hot,
		.dram_access_share = share, .hot_coverage = coverage, .promoted_bytes = 1 << 20,
		.migrations = 1,
	};
	g_autoptr(GError) error = NULL;

	s.slo_met = target > 0 ? vmt_slo_judge(hot, coverage, target) : -1;
	g_assert_true(vmt_history_add(h, &s, &error));
	g_assert_no_error(error);
}

static VmtReport *report(const char *path, const char *tenant, const char *vm)
{
	g_autoptr(VmtHistory) h = vmt_history_open_readonly(path, NULL);
	VmtHistoryQuery q = VMT_HISTORY_QUERY_INIT;
	g_autoptr(GError) error = NULL;
	VmtReport *r;

	g_assert_nonnull(h);
	q.tenant = tenant;
	q.vm = vm;
	r = vmt_report_build(h, &q, classes, &error);
	g_assert_no_error(error);
	return r;
}

static const VmtReportVm *vm_of(const VmtReport *r, guint t, guint v)
{
	g_assert_cmpuint(t, <, r->tenants->len);
	g_assert_cmpuint(v, <, ((VmtReportTenant *)r->tenants->pdata[t])->vms->len);
	return ((VmtReportTenant *)r->tenants->pdata[t])->vms->pdata[v];
}

static guint count(const char *text, const char *what)
{
	guint n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Runs vmtier report ARGS...; returns the exit status. */
static int run_report(const char *db, char **out, char **err, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_auto(GStrv) env = g_get_environ();
	g_autofree char *templates = g_path_get_dirname(classes);
	g_autoptr(GError) error = NULL;
	const char *a;
	int status;
	va_list ap;

	g_ptr_array_add(argv, (char *)vmtier_bin);
	g_ptr_array_add(argv, "report");
	g_ptr_array_add(argv, "--db");
	g_ptr_array_add(argv, (char *)db);
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)))
		g_ptr_array_add(argv, (char *)a);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	env = g_environ_setenv(env, "VMTIER_TEMPLATE_DIR", templates, TRUE);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out, err,
				   &status, &error));
	g_assert_no_error(error);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_empty(void)
{
	g_autofree char *path = db_path("empty");
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *json = NULL, *csv = NULL, *html = NULL, *table = NULL, *out = NULL, *err = NULL;
	g_autofree char *want = NULL;
	json_object *o, *t;

	vmt_history_close(vmt_history_open(path, NULL));
	r = report(path, NULL, NULL);
	g_assert_true(vmt_report_is_empty(r));
	json = vmt_report_to_json(r);
	o = json_tokener_parse(json);
	g_assert_true(json_object_object_get_ex(o, "tenants", &t));
	g_assert_cmpuint(json_object_array_length(t), ==, 0);
	json_object_put(o);
	csv = vmt_report_to_csv(r);
	g_assert_cmpuint(count(csv, "\r\n"), ==, 1);	/* the header alone */
	g_assert_true(g_str_has_prefix(csv, "kind,tenant,vm,class,"));
	html = vmt_report_to_html(r);
	g_assert_nonnull(strstr(html, "No recorded intervals match"));
	g_assert_null(strstr(html, "<svg"));
	table = vmt_report_to_table(r);
	g_assert_cmpstr(table, ==, "");

	/* a tenant without VMs: a message, an empty report, success */
	g_assert_cmpint(run_report(path, &out, &err, "--tenant", "nobody", "--format", "json", NULL), ==, 0);
	want = g_strdup_printf("vmtier report: no recorded intervals for tenant 'nobody' in %s\n", path);
	g_assert_cmpstr(err, ==, want);
	o = json_tokener_parse(out);
	g_assert_true(json_object_object_get_ex(o, "tenants", &t));
	g_assert_cmpuint(json_object_array_length(t), ==, 0);
	json_object_put(o);
}

static void test_gaps_and_days(void)
{
	g_autofree char *path = db_path("gaps");
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *html = NULL;
	const VmtReportVm *v;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		/* intervals 1-3, 6-9 (4 and 5 missing) ending after 22:00, and one
		 * after midnight: 2024-01-02T00:00 to 00:01 */
		for (guint i = 1; i <= 9; i++)
			if (i != 4 && i != 5)
				add(h, "v", "t", "budget", i, 0.99, 0.9, 1 << 20, 0.95);
		add(h, "v", "t", "budget", 121, 0.99, 0.9, 1 << 20, 0.95);
	}
	r = report(path, NULL, NULL);
	v = vm_of(r, 0, 0);
	g_assert_cmpuint(v->stats.intervals, ==, 8);
	g_assert_cmpuint(v->gaps, ==, 2);
	g_assert_cmpint(v->missing_s, ==, 120 + (121 - 9 - 1) * 60);
	g_assert_cmpuint(v->days->len, ==, 2);
	g_assert_cmpstr(((VmtReportDay *)v->days->pdata[0])->date, ==, "2024-01-01");
	g_assert_cmpuint(((VmtReportDay *)v->days->pdata[0])->stats.intervals, ==, 7);
	g_assert_cmpstr(((VmtReportDay *)v->days->pdata[1])->date, ==, "2024-01-02");
	/* the charts break their lines at gaps: three runs, three polylines each */
	html = vmt_report_to_html(r);
	g_assert_cmpuint(count(html, "<polyline class=\"coverage\""), ==, 3);
	g_assert_cmpuint(count(html, "<polyline class=\"dram\""), ==, 3);
}

/* A week at one minute is 10080 intervals: the charts draw buckets, and a
 * single bad interval still shows. */
static void test_long_series(void)
{
	g_autofree char *path = db_path("long");
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *html = NULL;
	const char *p, *end;
	guint points = 0;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		for (guint i = 1; i <= 10080; i++)
			add(h, "v", "t", "budget", i, i == 5000 ? 0.25 : 0.99, 0.9, 1 << 20, 0.95);
	}
	r = report(path, NULL, NULL);
	html = vmt_report_to_html(r);
	p = strstr(html, "<polyline class=\"coverage\" points=\"");
	g_assert_nonnull(p);
	end = strchr(p + 35, '"');
	for (; p < end; p++)
		points += *p == ',';
	g_assert_cmpuint(points, <=, 600);
	g_assert_cmpuint(points, >=, 500);
	g_assert_cmpuint(count(html, "<circle class=\"missed\""), ==, 1);
	/* y of 25% coverage: TOP + (H - TOP - BOTTOM) * (1 - 0.25 / 1.02) */
	g_assert_nonnull(strstr(html, "cy=\"137.2\""));
	g_assert_cmpuint(strlen(html), <, 200000);
}

static void fill_two_tenants(const char *path)
{
	g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);

	for (guint i = 1; i <= 5; i++) {
		add(h, "alpha-vm", "alpha", "budget", i, 0.97, 0.9, 1 << 20, 0.95);
		add(h, "bravo-secret-vm", "bravo-corp", "premium", i, 0.999, 0.99, 1 << 20, 0.995);
		/* "moved" was bravo-corp's, then redefined into alpha as standard */
		add(h, "moved", "bravo-corp", "premium", i, 0.5, 0.5, 1 << 20, 0.995);
		add(h, "moved", "alpha", "standard", i + 5, 0.99, 0.99, 1 << 20, 0.98);
		/* "w" changed class within alpha */
		add(h, "w", "alpha", i < 3 ? "budget" : "premium", i, 0.99, 0.99, 1 << 20, i < 3 ? 0.95 : 0.995);
	}
}

static void test_redefined(void)
{
	g_autofree char *path = db_path("redefined");
	g_autoptr(VmtReport) all = NULL, alpha = NULL, bravo = NULL;
	const VmtReportTenant *t;

	fill_two_tenants(path);
	all = report(path, NULL, NULL);
	g_assert_cmpuint(all->tenants->len, ==, 2);
	alpha = report(path, "alpha", NULL);
	g_assert_cmpuint(alpha->tenants->len, ==, 1);
	t = alpha->tenants->pdata[0];
	g_assert_cmpstr(t->tenant, ==, "alpha");
	g_assert_cmpuint(t->n_vms, ==, 3);	/* alpha-vm, moved, w */
	g_assert_cmpuint(t->vms->len, ==, 4);	/* w twice: budget, then premium */
	g_assert_cmpstr(vm_of(alpha, 0, 1)->vm, ==, "moved");
	g_assert_cmpstr(vm_of(alpha, 0, 1)->klass, ==, "standard");
	g_assert_cmpuint(vm_of(alpha, 0, 1)->stats.intervals, ==, 5);
	g_assert_cmpuint(vm_of(alpha, 0, 1)->stats.slo.missed, ==, 0);	/* bravo's misses stay bravo's */
	g_assert_cmpstr(vm_of(alpha, 0, 2)->klass, ==, "budget");
	g_assert_cmpuint(vm_of(alpha, 0, 2)->stats.intervals, ==, 2);
	g_assert_cmpstr(vm_of(alpha, 0, 3)->klass, ==, "premium");
	g_assert_cmpfloat(vm_of(alpha, 0, 3)->slo_target, ==, 0.995);
	bravo = report(path, "bravo-corp", NULL);
	g_assert_cmpstr(vm_of(bravo, 0, 0)->vm, ==, "bravo-secret-vm");
	g_assert_cmpstr(vm_of(bravo, 0, 1)->vm, ==, "moved");
	g_assert_cmpstr(vm_of(bravo, 0, 1)->klass, ==, "premium");
	g_assert_cmpuint(vm_of(bravo, 0, 1)->stats.slo.missed, ==, 5);
	g_assert_cmpint(vm_of(bravo, 0, 1)->compliant, ==, 0);
}

/* TEXT less its provenance (the command line adds when and where). */
static char *strip_provenance(const char *text)
{
	const char *a = strstr(text, "<dl class=\"provenance\">"), *b = a ? strstr(a, "</dl>") : NULL;

	g_autofree char *head = a && b ? g_strndup(text, a - text) : NULL;

	return head ? g_strconcat(head, b + 5, NULL) : g_strdup(text);
}

/* A tenant's report never names another tenant's VMs, in any format, from
 * the library or the command line. */
static void test_isolation(void)
{
	g_autofree char *path = db_path("isolation");
	g_autoptr(VmtReport) r = NULL;

	fill_two_tenants(path);
	r = report(path, "alpha", NULL);
	for (guint f = 0; f < G_N_ELEMENTS(formats); f++) {
		g_autofree char *text = vmt_report_format(r, formats[f]), *out = NULL, *err = NULL;

		g_test_message("format %s", format_names[f]);
		g_assert_nonnull(strstr(text, "alpha-vm"));
		g_assert_null(strstr(text, "bravo"));
		g_assert_cmpint(run_report(path, &out, &err, "--tenant", "alpha", "--format", format_names[f],
					   NULL), ==, 0);
		if (formats[f] == VMT_REPORT_HTML) {
			g_autofree char *a = strip_provenance(out), *b = strip_provenance(text);

			g_assert_cmpstr(a, ==, b);
			g_assert_nonnull(strstr(out, "<dt>generated</dt>"));
		} else {
			g_assert_cmpstr(out, ==, text);
		}
		g_assert_cmpstr(err, ==, "");
	}
}

/* --per-tenant DIR: one file per tenant, each naming no other tenant; a
 * page that holds several tenants says so first. */
static void test_per_tenant(void)
{
	g_autofree char *path = db_path("per-tenant"), *dir = g_build_filename(tmpdir, "per-tenant", NULL);
	g_autofree char *out = NULL, *err = NULL, *alpha = NULL, *bravo = NULL, *all = NULL;
	g_autofree char *fa = g_build_filename(dir, "alpha.html", NULL);
	g_autofree char *fb = g_build_filename(dir, "bravo-corp.html", NULL);

	fill_two_tenants(path);
	g_assert_cmpint(run_report(path, &out, &err, "--per-tenant", dir, NULL), ==, 0);
	g_assert_true(g_file_get_contents(fa, &alpha, NULL, NULL));
	g_assert_true(g_file_get_contents(fb, &bravo, NULL, NULL));
	g_assert_nonnull(strstr(alpha, "alpha-vm"));
	g_assert_null(strstr(alpha, "bravo"));
	g_assert_nonnull(strstr(bravo, "bravo-secret-vm"));
	g_assert_null(strstr(bravo, "alpha"));
	g_assert_nonnull(strstr(out, fa));
	g_assert_null(strstr(alpha, "class=\"holds\""));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_report(path, &all, &err, "--format", "html", NULL), ==, 0);
	g_assert_nonnull(strstr(all, "<strong>This file holds 2 tenants' reports:</strong> alpha, bravo-corp."));
	g_assert_nonnull(strstr(all, "<dt>tenants in this file</dt><dd>alpha, bravo-corp</dd>"));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_report(path, &out, &err, "--per-tenant", dir, "-o", fa, NULL), ==, 64);
	g_assert_nonnull(strstr(err, "--per-tenant"));
}

/* Intervals in the class's warm-up are not judged, counted apart and drawn
 * as such; a short period's residency is in MiB-hours, not "0.0 GiB-hours". */
static void test_warm_up(void)
{
	g_autofree char *path = db_path("warm-up");
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *html = NULL, *table = NULL;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		VmtHistorySample s = {
			.ts = T0, .interval_s = 60, .vm = "v", .tenant = "t", .klass = "budget", .scanner = "damon",
			.quota_bytes = 1 << 20, .ram_bytes = 4 << 20, .dram_bytes = 1 << 20, .slow_bytes = 3 << 20,
			.hot_bytes = 1 << 20, .dram_access_share = 0.1, .hot_coverage = 0.1, .slo_met = -1,
			.slo_grace = TRUE,
		};

		g_assert_true(vmt_history_add(h, &s, NULL));
		for (guint i = 1; i <= 3; i++)
			add(h, "v", "t", "budget", i, 0.99, 0.9, 1 << 20, 0.95);
	}
	r = report(path, NULL, NULL);
	g_assert_cmpuint(vm_of(r, 0, 0)->stats.warm_up, ==, 1);
	g_assert_cmpuint(vm_of(r, 0, 0)->stats.slo.unjudged, ==, 1);
	g_assert_cmpint(vm_of(r, 0, 0)->compliant, ==, 1);	/* the warm-up's 10% does not count */
	html = vmt_report_to_html(r);
	g_assert_cmpuint(count(html, "<rect class=\"warmup\""), ==, 2);	/* both charts */
	g_assert_nonnull(strstr(html, "1 interval in the 300 s warm-up after a start was not judged."));
	g_assert_nonnull(strstr(html, "MiB-hours in DRAM"));
	g_assert_null(strstr(html, "0.0 GiB-hours"));
	g_assert_nonnull(strstr(html, "<th scope=\"col\">verdict</th>"));
	table = vmt_report_to_table(r);
	g_assert_nonnull(strstr(table, "(1 in the 300 s warm-up after a start)"));
	g_assert_nonnull(strstr(table, "MiB-hours in DRAM"));
	g_assert_null(strstr(table, "0.0 GiB-hours"));
}

static void test_compliance(void)
{
	g_autofree char *path = db_path("compliance");
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *json = NULL;
	const VmtReportTenant *t;
	json_object *o, *x;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		for (guint i = 1; i <= 103; i++)	/* 99 met, 1 missed, 3 without hot memory */
			add(h, "good", "t", "budget", i, i == 50 ? 0.5 : 0.97, 0.9,
			    i > 100 ? 0 : 1 << 20, 0.95);
		for (guint i = 1; i <= 100; i++)	/* 98 of 100 */
			add(h, "poor", "t", "budget", i, i % 50 == 0 ? 0.9 : 0.96, 0.9, 1 << 20, 0.95);
	}
	r = report(path, NULL, NULL);
	g_assert_cmpuint(vm_of(r, 0, 0)->stats.slo.met, ==, 99);
	g_assert_cmpuint(vm_of(r, 0, 0)->stats.slo.missed, ==, 1);
	g_assert_cmpuint(vm_of(r, 0, 0)->stats.slo.unjudged, ==, 3);
	g_assert_cmpint(vm_of(r, 0, 0)->compliant, ==, 1);	/* 99% of judged >= 99% */
	g_assert_cmpint(vm_of(r, 0, 1)->compliant, ==, 0);	/* 98% < 99% */
	g_assert_cmpfloat_with_epsilon(vm_of(r, 0, 0)->stats.min_hot_coverage, 0.5, 1e-12);
	t = r->tenants->pdata[0];
	g_assert_cmpuint(t->vms_compliant, ==, 1);
	g_assert_cmpuint(t->vms_not_compliant, ==, 1);
	g_assert_cmpuint(t->stats.slo.met, ==, 197);
	g_assert_cmpuint(t->stats.slo.missed, ==, 3);
	g_assert_cmpuint(t->stats.intervals, ==, 203);
	json = vmt_report_to_json(r);
	o = json_tokener_parse(json);
	x = json_object_array_get_idx(json_object_object_get(o, "tenants"), 0);
	x = json_object_array_get_idx(json_object_object_get(x, "vms"), 0);
	g_assert_cmpfloat(json_object_get_double(json_object_object_get(x, "compliance")), ==, 0.99);
	g_assert_true(json_object_get_boolean(json_object_object_get(x, "slo_compliant")));
	g_assert_cmpint(json_object_get_int(json_object_object_get(x, "intervals_not_judged")), ==, 3);
	json_object_put(o);
}

static void test_worst(void)
{
	g_autofree char *path = db_path("worst");
	g_autoptr(VmtReport) r = NULL;
	static const struct { double cov, share; guint64 hot; } pts[] = {
		{ 0.9, 0.9, 1 }, { 0.5, 0.8, 1 }, { 0.7, 0.9, 1 }, { 0.5, 0.6, 1 }, { 0.99, 0.9, 1 },
		{ 0.6, 0.9, 1 }, { 0.8, 0.9, 1 }, { 0.0, 0.1, 0 }, { 0.5, 0.6, 1 },
	};
	static const guint want_order[] = { 4, 9, 2, 6, 3 };	/* interval numbers (1-based) */
	const VmtReportVm *v;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		for (guint i = 0; i < G_N_ELEMENTS(pts); i++)
			add(h, "v", "t", "budget", i + 1, pts[i].cov, pts[i].share, pts[i].hot << 20, 0.95);
	}
	r = report(path, NULL, NULL);
	v = vm_of(r, 0, 0);
	/* lowest coverage first, then lower DRAM access share, then earlier;
	 * the interval without hot memory is no candidate */
	g_assert_cmpuint(v->worst->len, ==, VMT_REPORT_WORST);
	for (guint i = 0; i < v->worst->len; i++)
		g_assert_cmpint(g_array_index(v->worst, VmtReportPoint, i).ts, ==, T0 + 60 * want_order[i]);
}

static void test_escaping(void)
{
	g_autofree char *path = db_path("odd");
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *html = NULL, *csv = NULL, *table = NULL;
	const char *odd = "<script>alert(\"x\")</script> & co, 'q'";
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		for (guint i = 1; i <= 4; i++) {
			add(h, "v1", odd, "budget", i, 0.99, 0.9, 1 << 20, 0.95);
			add(h, "v2", "=HYPERLINK(\"x\")", "budget", i, i == 2 ? 0.5 : 0.99, 0.9, 1 << 20, 0.95);
			add(h, "v3", "term\x1b[31mred", NULL, i, 0.99, 0.9, 1 << 20, 0);
			add(h, "v4", ";=1+1;x", "budget", i, 0.99, 0.9, 1 << 20, 0.95);
			add(h, "@v5", "-2+3", NULL, i, 0.99, 0.9, 1 << 20, 0);
		}
	}
	r = report(path, NULL, NULL);
	html = vmt_report_to_html(r);
	/* one self-contained document */
	g_assert_true(g_str_has_prefix(html, "<!DOCTYPE html>"));
	g_assert_cmpuint(count(html, "<html"), ==, 1);
	g_assert_cmpuint(count(html, "</html>"), ==, 1);
	for (guint i = 0; i < 6; i++) {
		const char *external[] = { "http://", "https://", "src=", "<link", "url(", "<script" };
		g_assert_null(strstr(html, external[i]));
	}
	g_assert_nonnull(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co, &apos;q&apos;"));
	/* two charts per VM, each with plotted points: 4 points per line */
	g_assert_cmpuint(count(html, "<svg"), ==, 10);
	g_assert_cmpuint(count(html, "</svg>"), ==, 10);
	g_assert_cmpuint(count(html, "<polyline class=\"coverage\" points=\""), ==, 5);
	{
		const char *p = strstr(html, "<polyline class=\"dram\" points=\"");
		g_autofree char *pts = g_strndup(p + strlen("<polyline class=\"dram\" points=\""),
						 strchr(p + 32, '"') - (p + 32));
		g_auto(GStrv) xy = g_strsplit(pts, " ", -1);
		g_assert_cmpuint(g_strv_length(xy), ==, 4);
	}
	g_assert_cmpuint(count(html, "<line class=\"slo\""), ==, 3);	/* v3 and v5 have no class, no SLO line */
	g_assert_cmpuint(count(html, "<circle class=\"missed\""), ==, 1);	/* v2's interval 2 */

	csv = vmt_report_to_csv(r);
	/* every text field quoted, quotes doubled; a formula-like name defused
	 * with a leading ' (a ; would split an unquoted field where ; is the
	 * separator, and =1+1 would then run) */
	g_assert_nonnull(strstr(csv, "\r\n\"vm\",\"<script>alert(\"\"x\"\")</script> & co, 'q'\",\"v1\",\"budget\","));
	g_assert_nonnull(strstr(csv, "\r\n\"vm\",\"'=HYPERLINK(\"\"x\"\")\",\"v2\",\"budget\","));
	g_assert_nonnull(strstr(csv, "\r\n\"vm\",\";=1+1;x\",\"v4\",\"budget\",\"20"));
	g_assert_nonnull(strstr(csv, "\r\n\"vm\",\"'-2+3\",\"'@v5\",,\"20"));
	g_assert_nonnull(strstr(csv, "\r\n\"total\",\"'-2+3\",,,,,,"));
	table = vmt_report_to_table(r);
	g_assert_null(strchr(table, '\x1b'));
	g_assert_nonnull(strstr(table, "term\\u001b[31mred"));
}

/* Names from the store reach the terminal escaped: in the table, and in
 * the warnings on stderr (a class name with an escape sequence, a tenant
 * with a bidi override). */
static void test_terminal_escapes(void)
{
	g_autofree char *path = db_path("terminal");
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *table = NULL, *out = NULL, *err = NULL;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		add(h, "v", "evil\xe2\x80\xaetxt.exe", "gold\x1b[2J", 1, 0.99, 0.9, 1 << 20, 0.95);
	}
	r = report(path, NULL, NULL);
	table = vmt_report_to_table(r);
	g_assert_null(strstr(table, "\xe2\x80\xae"));
	g_assert_null(strchr(table, '\x1b'));
	g_assert_nonnull(strstr(table, "Tenant evil\\u202etxt.exe:"));
	g_assert_nonnull(strstr(table, "class gold\\u001b[2J,"));
	g_assert_cmpint(run_report(path, &out, &err, NULL), ==, 0);
	g_assert_null(strchr(err, '\x1b'));
	g_assert_nonnull(strstr(err, "vmtier report: warning: bad class name 'gold\\u001b[2J'"));
	g_assert_null(strstr(out, "\xe2\x80\xae"));
}

static void sql(const char *path, const char *stmt)
{
	sqlite3 *db;
	char *msg = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s", stmt, msg);
	sqlite3_close(db);
}

/* A store whose samples table lost its constraints (crafted, or written by
 * something else), with one good row of tenant t and the bad ones given. */
static char *crafted_store(const char *name, const char *const *bad, guint n_bad)
{
	char *path = db_path(name);
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		add(h, "good", "t", "budget", 1, 0.99, 0.9, 1 << 20, 0.95);
	}
#define BAD_COLUMNS "ts, interval_s, vm, tenant, class, scanner, quota_bytes," \
	" ram_bytes, dram_bytes, slow_bytes, hot_bytes, dram_access_share, hot_coverage," \
	" promoted_bytes, demoted_bytes, migrations, slo_met"
	sql(path, "ALTER TABLE samples RENAME TO s0;"
		  "CREATE TABLE samples (" BAD_COLUMNS ", slo_grace DEFAULT 0);"
		  "INSERT INTO samples SELECT * FROM s0; DROP TABLE s0;");
	for (guint i = 0; i < n_bad; i++) {
		g_autofree char *ins = g_strdup_printf("INSERT INTO samples (" BAD_COLUMNS ") VALUES (%s)",
						       bad[i]);
		sql(path, ins);
	}
	return path;
}

/* WORD in TEXT, not inside a longer word ("inf" but not "info"). */
static gboolean has_word(const char *text, const char *word)
{
	gsize n = strlen(word);

	for (const char *p = text; (p = strstr(p, word)); p += n)
		if ((p == text || !g_ascii_isalpha(p[-1])) && !g_ascii_isalpha(p[n]))
			return TRUE;
	return FALSE;
}

/* Rows that are not samples: each would crash (NULL names), hang (times
 * near the ends of 64 bits overflowed the HTML's time axis) or print
 * JSON that is not JSON (inf) before the store checked what it reads. */
static void test_crafted_rows(void)
{
	static const char *const bad[] = {
		/* ts, interval_s, vm, tenant, class, scanner, quota, ram, dram, slow, hot,
		 * share, coverage, promoted, demoted, migrations, slo_met */
		"1704146520, 60, 'v', NULL, NULL, NULL, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0, 0, 1",
		"1704146520, 60, NULL, 't', NULL, NULL, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0, 0, 1",
		"9000000000000000000, 60, 'v', 't', NULL, NULL, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0, 0, 1",
		"-9000000000000000000, 60, 'v', 't', NULL, NULL, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0, 0, 1",
		"1704146520, 60, 'v', 't', NULL, NULL, 1, 1, 1, 1, 1, 9e999, 0.5, 0, 0, 0, 1",
		"1704146520, 60, 'v', 't', NULL, NULL, 1, 1, 1, 1, 1, 0.5, -0.5, 0, 0, 0, 1",
		"1704146520, 60, 'v', 't', NULL, NULL, 1, 1, -1, 1, 1, 0.5, 0.5, 0, 0, 0, 1",
		"1704146520.5, 60, 'v', 't', NULL, NULL, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0, 0, 1",
		"1704146520, -60, 'v', 't', NULL, NULL, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0, 0, 1",
		"1704146520, 60, 'v', 't', NULL, NULL, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0, 0, 7",
		"1704146520, 60, X'00', 't', 3, NULL, 1, 1, 1, 1, 1, 0.5, 0.5, 0, 0, 0, 1",
	};
	g_autofree char *path = crafted_store("crafted", bad, G_N_ELEMENTS(bad));
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(VmtReport) r = report(path, NULL, NULL);

	g_assert_cmpuint(r->invalid_rows, ==, G_N_ELEMENTS(bad));
	g_assert_cmpuint(r->warnings->len, ==, 1);
	g_assert_cmpstr(r->warnings->pdata[0], ==, "11 rows of the history store are not valid (a missing "
			"name, or a time, size or share out of range) and are left out");
	g_assert_cmpuint(r->tenants->len, ==, 1);
	g_assert_cmpuint(vm_of(r, 0, 0)->points->len, ==, 1);
	for (guint f = 0; f < G_N_ELEMENTS(formats); f++) {
		g_autofree char *text = vmt_report_format(r, formats[f]);

		g_test_message("format %s", format_names[f]);
		g_assert_false(has_word(text, "inf"));
		g_assert_false(has_word(text, "nan"));
		if (formats[f] == VMT_REPORT_JSON) {
			json_object *o = json_tokener_parse(text);
			g_assert_nonnull(o);
			json_object_put(o);
		}
	}
	/* the command says it once, on stderr, and goes on */
	g_assert_cmpint(run_report(path, &out, &err, "--format", "json", NULL), ==, 0);
	g_assert_cmpstr(err, ==, "vmtier report: warning: 11 rows of the history store are not valid "
			"(a missing name, or a time, size or share out of range) and are left out\n");
}

/* Sums stop at the top instead of wrapping to a small, false figure. */
static void test_saturated_sums(void)
{
	g_autofree char *path = db_path("saturated");
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *json = NULL;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		for (guint i = 1; i <= 20; i++) {
			VmtHistorySample s = {
				.ts = T0 + 60 * (gint64)i, .interval_s = 60, .vm = "v", .tenant = "t",
				.quota_bytes = 1ull << 60, .ram_bytes = 1ull << 60, .dram_bytes = 1ull << 60,
				.slow_bytes = 1ull << 60, .hot_bytes = 1ull << 60, .promoted_bytes = 1ull << 60,
				.demoted_bytes = 1ull << 60, .migrations = G_MAXUINT, .slo_met = -1,
			};
			g_assert_true(vmt_history_add(h, &s, NULL));
		}
	}
	r = report(path, NULL, NULL);
	g_assert_cmpuint(r->invalid_rows, ==, 0);
	g_assert_cmpuint(vm_of(r, 0, 0)->stats.promoted_bytes, ==, G_MAXUINT64);
	g_assert_cmpuint(vm_of(r, 0, 0)->stats.migrations, ==, 20ull * G_MAXUINT);
	json = vmt_report_to_json(r);
	g_assert_nonnull(strstr(json, "\"promoted_bytes\": 18446744073709551615"));
	g_assert_nonnull(strstr(json, "\"avg_dram_bytes\": 1152921504606846976"));
	g_assert_null(strstr(json, ": -"));
}

static void test_missing_class(void)
{
	g_autofree char *path = db_path("gold");
	g_autoptr(VmtReport) r = NULL;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
		add(h, "g", "t", "gold", 1, 0.5, 0.5, 1 << 20, 0.9);
	}
	r = report(path, NULL, NULL);
	g_assert_false(vm_of(r, 0, 0)->has_slo);
	g_assert_cmpint(vm_of(r, 0, 0)->compliant, ==, -1);
	g_assert_cmpuint(vm_of(r, 0, 0)->stats.slo.missed, ==, 1);	/* as vmtierd judged it */
	g_assert_cmpuint(r->warnings->len, ==, 1);
	g_assert_nonnull(strstr(r->warnings->pdata[0], "no class 'gold'"));
}

static void test_pct(void)
{
	static const struct { double share; const char *want; } t[] = {
		{ 0.95, "95.0%" }, { 0.9999, "99.9%" }, { 1, "100.0%" }, { 0, "0.0%" }, { -1, "-" },
		{ 0.12345, "12.3%" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *got = vmt_report_pct(t[i].share);
		g_assert_cmpstr(got, ==, t[i].want);
	}
}

static void test_parse_time(void)
{
	static const struct { const char *text; gint64 want; } ok[] = {
		{ "7d", 1000000 - 7 * 86400 }, { "12h", 1000000 - 12 * 3600 }, { "30m", 1000000 - 1800 },
		{ "0d", 1000000 },
		{ "2024-01-02", 1704153600 }, { "2024-01-02T10:00", 1704189600 },
		{ "2024-01-02 10:00:30", 1704189630 }, { "2024-01-02T10:00:00Z", 1704189600 },
		{ "2024-01-02T12:00:00+02:00", 1704189600 }, { "2024-01-02T10:00Z", 1704189600 },
	};
	static const char *const bad[] = {
		"xx", "7", "d", "7x", "-1d", "1.5d", "2024-13-01", "2024-02-30", "2024-01-02T25:00", "",
		"99999999999999999999d", "7d ",
	};
	gint64 v;

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GError) error = NULL;
		g_test_message("%s", ok[i].text);
		g_assert_true(vmt_report_parse_time(ok[i].text, 1000000, &v, &error));
		g_assert_no_error(error);
		g_assert_cmpint(v, ==, ok[i].want);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_test_message("'%s'", bad[i]);
		g_assert_false(vmt_report_parse_time(bad[i], 1000000, &v, &error));
		g_assert_nonnull(error);
	}
}

static void test_cli(void)
{
	g_autofree char *path = db_path("cli"), *file = g_strdup_printf("%s/out.html", tmpdir);
	g_autofree char *out = NULL, *err = NULL, *html = NULL, *missing = db_path("missing");
	g_autofree char *want = NULL;

	fill_two_tenants(path);
	g_assert_cmpint(run_report(path, &out, &err, "--since", "xx", NULL), ==, 64);
	g_assert_true(g_str_has_prefix(err, "vmtier report: invalid --since 'xx': "));
	g_assert_cmpuint(count(err, "\n"), ==, 1);
	g_assert_cmpstr(out, ==, "");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_report(path, &out, &err, "--until", "7q", NULL), ==, 64);
	g_assert_true(g_str_has_prefix(err, "vmtier report: invalid --until '7q': "));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_report(path, &out, &err, "--format", "pdf", NULL), ==, 64);
	g_assert_cmpstr(err, ==, "vmtier report: invalid --format 'pdf': use table, json, csv or html\n");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_report(missing, &out, &err, NULL), ==, 1);
	want = g_strdup_printf("vmtier report: %s: no such file\n", missing);
	g_assert_cmpstr(err, ==, want);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_report(path, &out, &err, "--format", "html", "-o", file, NULL), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_true(g_file_get_contents(file, &html, NULL, NULL));
	g_assert_true(g_str_has_prefix(html, "<!DOCTYPE html>"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	/* the default format is the table; the window excludes everything */
	g_assert_cmpint(run_report(path, &out, &err, "--vm", "alpha-vm", NULL), ==, 0);
	g_assert_true(g_str_has_prefix(out, "Tenant alpha: 1 VM in 1 VM/class period: SLO kept in 1, broken in 0\n"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_report(path, &out, &err, "--until", "2020-01-01", NULL), ==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_nonnull(strstr(err, "no recorded intervals up to 2020-01-01T00:00:00Z in "));
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	classes = g_getenv("VMTIER_CLASSES");
	vmtier_bin = g_getenv("VMTIER");
	g_assert_nonnull(classes);
	g_assert_nonnull(vmtier_bin);
	tmpdir = test_tmpdir_new("vmtier-report-XXXXXX");
	g_test_add_func("/report/empty", test_empty);
	g_test_add_func("/report/gaps-and-days", test_gaps_and_days);
	g_test_add_func("/report/long-series", test_long_series);
	g_test_add_func("/report/redefined", test_redefined);
	g_test_add_func("/report/tenant-isolation", test_isolation);
	g_test_add_func("/report/compliance", test_compliance);
	g_test_add_func("/report/per-tenant", test_per_tenant);
	g_test_add_func("/report/warm-up", test_warm_up);
	g_test_add_func("/report/worst-intervals", test_worst);
	g_test_add_func("/report/escaping", test_escaping);
	g_test_add_func("/report/missing-class", test_missing_class);
	g_test_add_func("/report/terminal-escapes", test_terminal_escapes);
	g_test_add_func("/report/crafted-rows", test_crafted_rows);
	g_test_add_func("/report/saturated-sums", test_saturated_sums);
	g_test_add_func("/report/parse-time", test_parse_time);
	g_test_add_func("/report/percent", test_pct);
	g_test_add_func("/report/cli", test_cli);
	rc = g_test_run();
	test_tmpdir_remove(tmpdir);
	return rc;
}
