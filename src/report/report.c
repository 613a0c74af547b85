// SPDX-License-Identifier: GPL-2.0-or-later
/* The report model: samples from the history store grouped by tenant, VM and
 * class, with SLO compliance, gaps, worst intervals and days. */
#include <gio/gio.h>

#include "class.h"
#include "report.h"

#include <string.h>

/* Sums behind VmtReportStats; weights are interval lengths. */
typedef struct {
	VmtReportStats s;
	double w, dram, slow, hot, share;	/* weighted sums */
	double judged_w, coverage;
	double share_w;		/* weight of intervals whose share is known */
} Acc;

static void acc_init(Acc *a)
{
	memset(a, 0, sizeof(*a));
	a->s.min_hot_coverage = -1;
}

static void acc_add(Acc *a, const VmtReportPoint *p)
{
	double w = MAX(p->interval_s, 1u);

	a->s.intervals++;
	a->s.seconds += p->interval_s;
	vmt_slo_tally_add(&a->s.slo, p->slo_met);
	a->s.warm_up += p->slo_grace;
	a->w += w;
	a->dram += w * (double)p->dram_bytes;
	a->slow += w * (double)p->slow_bytes;
	a->hot += w * (double)p->hot_bytes;
	/* a blind sensor's interval (-1) is left out of the access figures */
	if (p->dram_access_share >= 0) {
		a->share_w += w;
		a->share += w * p->dram_access_share;
	}
	if (p->hot_bytes && p->hot_coverage >= 0) {	/* coverage of no hot memory means nothing */
		a->judged_w += w;
		a->coverage += w * p->hot_coverage;
		if (a->s.min_hot_coverage < 0 || p->hot_coverage < a->s.min_hot_coverage)
			a->s.min_hot_coverage = p->hot_coverage;
	}
	a->s.promoted_bytes = vmt_report_sat_add(a->s.promoted_bytes, p->promoted_bytes);
	a->s.demoted_bytes = vmt_report_sat_add(a->s.demoted_bytes, p->demoted_bytes);
	a->s.migrations = vmt_report_sat_add(a->s.migrations, p->migrations);
	a->s.dram_gib_hours += (double)p->interval_s * (double)p->dram_bytes / (3600.0 * (1 << 30));
	a->s.slow_gib_hours += (double)p->interval_s * (double)p->slow_bytes / (3600.0 * (1 << 30));
}

static VmtReportStats acc_finish(const Acc *a)
{
	VmtReportStats s = a->s;

	if (a->w > 0) {
		s.avg_dram_bytes = a->dram / a->w;
		s.avg_slow_bytes = a->slow / a->w;
		s.avg_hot_bytes = a->hot / a->w;
	}
	s.avg_dram_access_share = a->share_w > 0 ? a->share / a->share_w : -1;
	s.avg_hot_coverage = a->judged_w > 0 ? a->coverage / a->judged_w : -1;
	return s;
}

gint64 vmt_report_gap_s(const VmtReportPoint *prev, const VmtReportPoint *cur)
{
	gint64 missing = cur->ts - (gint64)cur->interval_s - prev->ts;

	return missing * 2 > (gint64)cur->interval_s ? missing : 0;
}

static gint by_worst(gconstpointer pa, gconstpointer pb)
{
	const VmtReportPoint *a = pa, *b = pb;

	if (a->hot_coverage != b->hot_coverage)
		return a->hot_coverage < b->hot_coverage ? -1 : 1;
	if (a->dram_access_share != b->dram_access_share)
		return a->dram_access_share < b->dram_access_share ? -1 : 1;
	return a->ts < b->ts ? -1 : a->ts > b->ts;
}

void vmt_report_day_free(gpointer p)
{
	VmtReportDay *d = p;

	g_free(d->date);
	g_free(d);
}

static void vm_free(gpointer p)
{
	VmtReportVm *v = p;

	g_free(v->vm);
	g_free(v->tenant);
	g_free(v->klass);
	g_free(v->scanner);
	g_array_unref(v->points);
	if (v->worst)
		g_array_unref(v->worst);
	if (v->days)
		g_ptr_array_unref(v->days);
	g_free(v);
}

static void tenant_free(gpointer p)
{
	VmtReportTenant *t = p;

	g_free(t->tenant);
	g_ptr_array_unref(t->vms);
	g_free(t);
}

void vmt_report_free(VmtReport *r)
{
	if (!r)
		return;
	g_free((char *)r->query.tenant);
	g_free((char *)r->query.vm);
	g_ptr_array_unref(r->tenants);
	g_ptr_array_unref(r->warnings);
	g_free(r->host);
	g_free(r->version);
	g_free(r);
}

gboolean vmt_report_is_empty(const VmtReport *r)
{
	return r->tenants->len == 0;
}

char *vmt_report_date(gint64 ts)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(ts);

	return dt ? g_date_time_format(dt, "%Y-%m-%d") : g_strdup("?");
}

/* The UTC day an interval started in. */
static char *day_of(const VmtReportPoint *p)
{
	return vmt_report_date(p->ts - p->interval_s);
}

/* Closes the day *DATE (if any) into V's days. */
static void push_day(VmtReportVm *v, char **date, const Acc *day)
{
	VmtReportDay *rd;

	if (!*date)
		return;
	rd = g_new0(VmtReportDay, 1);
	rd->date = g_steal_pointer(date);
	rd->stats = acc_finish(day);
	g_ptr_array_add(v->days, rd);
}

static void finish_vm(VmtReportVm *v)
{
	Acc all, day;
	g_autofree char *date = NULL;

	acc_init(&all);
	acc_init(&day);
	v->days = g_ptr_array_new_with_free_func(vmt_report_day_free);
	v->worst = g_array_new(FALSE, FALSE, sizeof(VmtReportPoint));
	for (guint i = 0; i < v->points->len; i++) {
		const VmtReportPoint *p = &g_array_index(v->points, VmtReportPoint, i);
		g_autofree char *d = day_of(p);

		if (i > 0 && vmt_report_gap_s(p - 1, p)) {
			v->gaps++;
			v->missing_s += vmt_report_gap_s(p - 1, p);
		}
		if (!date || strcmp(d, date) != 0) {
			push_day(v, &date, &day);
			date = g_strdup(d);
			acc_init(&day);
		}
		acc_add(&all, p);
		acc_add(&day, p);
		if (p->hot_bytes)
			g_array_append_val(v->worst, *p);
	}
	push_day(v, &date, &day);
	v->stats = acc_finish(&all);
	g_array_sort(v->worst, by_worst);
	g_array_set_size(v->worst, MIN(v->worst->len, VMT_REPORT_WORST));
	v->compliant = v->has_slo ? vmt_slo_compliant(&v->stats.slo, v->slo_intervals) : -1;
}

/* A VM's classes in the order it had them (SQL groups them by class name). */
static gint by_name_then_time(gconstpointer pa, gconstpointer pb)
{
	const VmtReportVm *a = *(VmtReportVm *const *)pa, *b = *(VmtReportVm *const *)pb;
	int c = strcmp(a->vm, b->vm);
	gint64 ta = g_array_index(a->points, VmtReportPoint, 0).ts;
	gint64 tb = g_array_index(b->points, VmtReportPoint, 0).ts;

	return c ? c : ta < tb ? -1 : ta > tb;
}

static void finish_tenant(VmtReportTenant *t)
{
	Acc a;
	const char *last_name = NULL;

	acc_init(&a);
	g_ptr_array_sort(t->vms, by_name_then_time);
	for (guint i = 0; i < t->vms->len; i++) {
		VmtReportVm *v = t->vms->pdata[i];

		if (!last_name || strcmp(last_name, v->vm) != 0)
			t->n_vms++;
		last_name = v->vm;
		t->vms_compliant += v->compliant == 1;
		t->vms_not_compliant += v->compliant == 0;
		for (guint j = 0; j < v->points->len; j++)
			acc_add(&a, &g_array_index(v->points, VmtReportPoint, j));
	}
	t->stats = acc_finish(&a);
}

typedef struct {
	VmtReport *r;
	VmtReportTenant *t;
	VmtReportVm *v;
	const char *class_dir;
	GHashTable *classes;	/* name -> VmtClass, or NULL when it could not be read */
} Builder;

static const VmtClass *lookup_class(Builder *b, const char *name)
{
	g_autoptr(GError) error = NULL;
	VmtClass *c;

	if (!name || !b->class_dir)
		return NULL;
	if (g_hash_table_lookup_extended(b->classes, name, NULL, (gpointer *)&c))
		return c;
	c = vmt_class_load(b->class_dir, name, &error);
	if (!c)
		g_ptr_array_add(b->r->warnings, g_strdup_printf("%s: its VMs are shown without an SLO",
								error->message));
	else if (!c->has_slo)
		g_ptr_array_add(b->r->warnings, g_strdup_printf("class '%s' has no SLO", name));
	g_hash_table_insert(b->classes, g_strdup(name), c);
	return c;
}

static gboolean add_sample(const VmtHistorySample *s, gpointer data, GError **error)
{
	Builder *b = data;
	/* names come from users and old rows: keep them valid UTF-8 for JSON and HTML */
	g_autofree char *tenant = g_utf8_make_valid(s->tenant, -1);
	g_autofree char *vm = g_utf8_make_valid(s->vm, -1);
	g_autofree char *klass = s->klass ? g_utf8_make_valid(s->klass, -1) : NULL;
	VmtReportPoint p = {
		s->ts, s->interval_s, s->quota_bytes, s->ram_bytes, s->dram_bytes, s->slow_bytes,
		s->hot_bytes, s->dram_access_share, s->hot_coverage, s->promoted_bytes,
		s->demoted_bytes, s->migrations, s->slo_met, s->slo_grace,
	};

	if (!b->t || strcmp(b->t->tenant, tenant) != 0) {
		b->t = g_new0(VmtReportTenant, 1);
		b->t->tenant = g_strdup(tenant);
		b->t->vms = g_ptr_array_new_with_free_func(vm_free);
		g_ptr_array_add(b->r->tenants, b->t);
		b->v = NULL;
	}
	if (!b->v || strcmp(b->v->vm, vm) != 0 || g_strcmp0(b->v->klass, klass) != 0) {
		const VmtClass *c = lookup_class(b, klass);

		b->v = g_new0(VmtReportVm, 1);
		b->v->vm = g_steal_pointer(&vm);
		b->v->tenant = g_strdup(tenant);
		b->v->klass = g_steal_pointer(&klass);
		b->v->points = g_array_new(FALSE, FALSE, sizeof(VmtReportPoint));
		b->v->has_slo = c && c->has_slo;
		b->v->slo_target = b->v->has_slo ? c->slo_target : -1;
		b->v->slo_intervals = b->v->has_slo ? c->slo_intervals : -1;
		b->v->slo_grace_s = b->v->has_slo ? c->slo_grace_s : 0;
		g_ptr_array_add(b->t->vms, b->v);
	}
	if (g_strcmp0(b->v->scanner, s->scanner) != 0) {
		g_free(b->v->scanner);
		b->v->scanner = s->scanner ? g_utf8_make_valid(s->scanner, -1) : NULL;
	}
	g_array_append_val(b->v->points, p);
	return TRUE;
}

VmtReport *vmt_report_build(VmtHistory *h, const VmtHistoryQuery *q, const char *class_dir,
			    GError **error)
{
	g_autoptr(VmtReport) r = g_new0(VmtReport, 1);
	g_autoptr(GHashTable) classes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							      (GDestroyNotify)vmt_class_free);
	Builder b = { r, NULL, NULL, class_dir, classes };
	gboolean any = FALSE;

	r->query = *q;
	r->query.tenant = g_strdup(q->tenant);
	r->query.vm = g_strdup(q->vm);
	r->tenants = g_ptr_array_new_with_free_func(tenant_free);
	r->warnings = g_ptr_array_new_with_free_func(g_free);
	if (!vmt_history_foreach(h, q, add_sample, &b, &r->invalid_rows, error))
		return NULL;
	if (r->invalid_rows)	/* once per report: a damaged store may hold millions */
		g_ptr_array_add(r->warnings, g_strdup_printf("%u row%s of the history store %s not valid "
			"(a missing name, or a time, size or share out of range) and %s left out",
			r->invalid_rows, r->invalid_rows == 1 ? "" : "s", r->invalid_rows == 1 ? "is" : "are",
			r->invalid_rows == 1 ? "is" : "are"));
	for (guint i = 0; i < r->tenants->len; i++) {
		VmtReportTenant *t = r->tenants->pdata[i];

		for (guint j = 0; j < t->vms->len; j++) {
			VmtReportVm *v = t->vms->pdata[j];
			const VmtReportPoint *first = &g_array_index(v->points, VmtReportPoint, 0);
			const VmtReportPoint *last = &g_array_index(v->points, VmtReportPoint,
								    v->points->len - 1);

			finish_vm(v);
			if (!any || first->ts - first->interval_s < r->first_ts)
				r->first_ts = first->ts - first->interval_s;
			if (!any || last->ts > r->last_ts)
				r->last_ts = last->ts;
			any = TRUE;
		}
		finish_tenant(t);
	}
	return g_steal_pointer(&r);
}

char *vmt_report_format_time(gint64 ts)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(ts);

	return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup_printf("@%" G_GINT64_FORMAT, ts);
}

gboolean vmt_report_parse_time(const char *text, gint64 now, gint64 *out, GError **error)
{
	gsize n = strlen(text);
	g_autoptr(GString) iso = g_string_new(text);
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) dt = NULL;
	guint64 count;

	if (n >= 2 && strchr("dhm", text[n - 1])) {
		g_autofree char *digits = g_strndup(text, n - 1);
		guint64 unit = text[n - 1] == 'd' ? 86400 : text[n - 1] == 'h' ? 3600 : 60;

		/* up to 100 years back */
		if (g_ascii_string_to_unsigned(digits, 10, 0, 36600ull * 86400 / unit, &count, NULL)) {
			*out = now - (gint64)(count * unit);
			return TRUE;
		}
	}
	/* GLib wants seconds and a T: accept a bare date and HH:MM too */
	if (iso->len == 10)
		g_string_append(iso, "T00:00:00");
	if (iso->len > 10 && iso->str[10] == ' ')
		iso->str[10] = 'T';
	if (iso->len >= 16 && iso->str[13] == ':' && strchr("Z+-", iso->str[16]))	/* '\0' too */
		g_string_insert(iso, 16, ":00");
	dt = g_date_time_new_from_iso8601(iso->str, utc);
	if (!dt) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "use Nd, Nh, Nm (before now) or a date YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM] (UTC)");
		return FALSE;
	}
	*out = g_date_time_to_unix(dt);
	return TRUE;
}

char *vmt_report_pct(double share)
{
	/* rounded down: 99.96% short of a 100% promise must not show as 100.0% */
	return share < 0 ? g_strdup("-") : g_strdup_printf("%.1f%%", (guint64)(share * 1000 + 1e-9) / 10.0);
}

char *vmt_report_byte_hours(double gib_hours)
{
	if (gib_hours < 1)
		return g_strdup_printf("%.0f MiB-hours", gib_hours * 1024);
	if (gib_hours >= 1024)
		return g_strdup_printf("%.1f TiB-hours", gib_hours / 1024);
	return g_strdup_printf("%.1f GiB-hours", gib_hours);
}

static const char *const format_names[] = { "table", "json", "csv", "html" };

gboolean vmt_report_parse_format(const char *text, VmtReportFormat *out, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(format_names); i++)
		if (strcmp(text, format_names[i]) == 0) {
			*out = (VmtReportFormat)i;
			return TRUE;
		}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "invalid --format '%s': use table, json, csv or html", text);
	return FALSE;
}

char *vmt_report_format(const VmtReport *r, VmtReportFormat f)
{
	switch (f) {
	case VMT_REPORT_JSON:
		return vmt_report_to_json(r);
	case VMT_REPORT_CSV:
		return vmt_report_to_csv(r);
	case VMT_REPORT_HTML:
		return vmt_report_to_html(r);
	case VMT_REPORT_TABLE:
	default:
		return vmt_report_to_table(r);
	}
}
