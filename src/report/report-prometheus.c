// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier report --prometheus: see report-prometheus.h.  A minimal HTTP/1.0
 * client over GIO (one GET per query, Connection: close) and json-c. */
#include <gio/gio.h>
#include <json-c/json.h>

#include "names.h"
#include "size.h"
#include "report.h"
#include "report-prometheus.h"

#include <math.h>
#include <string.h>

/* Prometheus is trusted no more than it must be: an answer is read up to
 * this size, and every number in it is checked. */
#define MAX_ANSWER (64u << 20)

typedef struct {
	char *host, *prefix;
	int port;
} Server;

static void server_clear(Server *s)
{
	g_free(s->host);
	g_free(s->prefix);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Server, server_clear)

static gboolean parse_url(const char *url, Server *s, GError **error)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);

	if (!uri || g_strcmp0(g_uri_get_scheme(uri), "http") != 0 || !g_uri_get_host(uri) ||
	    !*g_uri_get_host(uri) || g_uri_get_query(uri)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "invalid --prometheus '%s': use http://HOST[:PORT][/PATH]", url);
		return FALSE;
	}
	s->host = g_strdup(g_uri_get_host(uri));
	s->port = g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : 80;
	s->prefix = g_strdup(g_uri_get_path(uri));
	if (g_str_has_suffix(s->prefix, "/"))
		s->prefix[strlen(s->prefix) - 1] = '\0';
	return TRUE;
}

/* GET PATH?QUERY; the "data" of a "success" answer (a new reference). */
static json_object *api(const Server *s, const char *path, const char *promql, gint64 at, GError **error)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) conn = NULL;
	g_autofree char *q = g_uri_escape_string(promql, NULL, FALSE);
	g_autofree char *req = g_strdup_printf("GET %s/api/v1/%s?query=%s&time=%" G_GINT64_FORMAT
					       " HTTP/1.0\r\nHost: %s:%d\r\nAccept: application/json\r\n"
					       "Connection: close\r\n\r\n", s->prefix, path, q, at, s->host,
					       s->port);
	g_autoptr(GByteArray) buf = g_byte_array_new();
	char chunk[65536], *body;
	gssize n;
	json_object *root, *status, *data;
	enum json_tokener_error jerr;

	g_socket_client_set_timeout(client, 30);
	conn = g_socket_client_connect_to_host(client, s->host, s->port, NULL, error);
	if (!conn ||
	    !g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), req, strlen(req),
				       NULL, NULL, error)) {
		g_prefix_error(error, "Prometheus at %s:%d: ", s->host, s->port);
		return NULL;
	}
	while ((n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(conn)), chunk,
					sizeof(chunk), NULL, error)) > 0) {
		if (buf->len + n > MAX_ANSWER) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
				    "Prometheus at %s:%d: an answer over %u MiB", s->host, s->port,
				    MAX_ANSWER >> 20);
			return NULL;
		}
		g_byte_array_append(buf, (guint8 *)chunk, n);
	}
	if (n < 0) {
		g_prefix_error(error, "Prometheus at %s:%d: ", s->host, s->port);
		return NULL;
	}
	g_byte_array_append(buf, (guint8 *)"", 1);
	body = strstr((char *)buf->data, "\r\n\r\n");
	if (!g_str_has_prefix((char *)buf->data, "HTTP/1.") || !body ||
	    strncmp((char *)buf->data + 8, " 200 ", 5) != 0) {
		g_autofree char *line = g_strndup((char *)buf->data, strcspn((char *)buf->data, "\r\n"));
		g_autofree char *valid = g_utf8_make_valid(line, 80);

		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Prometheus at %s:%d answered '%s' to %s",
			    s->host, s->port, valid, promql);
		return NULL;
	}
	root = json_tokener_parse_verbose(body + 4, &jerr);
	if (!root || !json_object_object_get_ex(root, "status", &status) ||
	    g_strcmp0(json_object_get_string(status), "success") != 0 ||
	    !json_object_object_get_ex(root, "data", &data) || !json_object_is_type(data, json_type_object)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "Prometheus at %s:%d: no successful answer to %s", s->host, s->port, promql);
		json_object_put(root);
		return NULL;
	}
	json_object_get(data);
	json_object_put(root);
	return data;
}

/* The "result" array of DATA, of TYPE ("vector" or "matrix"). */
static json_object *result_of(json_object *data, const char *type)
{
	json_object *t, *r;

	if (!json_object_object_get_ex(data, "resultType", &t) || g_strcmp0(json_object_get_string(t), type) ||
	    !json_object_object_get_ex(data, "result", &r) || !json_object_is_type(r, json_type_array))
		return NULL;
	return r;
}

static const char *label(json_object *series, const char *name)
{
	json_object *m, *v;

	if (!json_object_object_get_ex(series, "metric", &m) || !json_object_object_get_ex(m, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A [time, "value"] pair: FALSE unless both are finite numbers. */
static gboolean point(json_object *pair, double *t, double *v)
{
	json_object *a, *b;
	const char *s;
	char *end;

	if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
		return FALSE;
	a = json_object_array_get_idx(pair, 0);
	b = json_object_array_get_idx(pair, 1);
	s = json_object_get_string(b);
	if (!json_object_is_type(b, json_type_string) || !s)
		return FALSE;
	*t = json_object_get_double(a);
	*v = g_ascii_strtod(s, &end);
	return *end == '\0' && isfinite(*t) && isfinite(*v);
}

static char *key_of(const char *instance, const char *vm)
{
	return g_strdup_printf("%s\n%s", instance, vm);
}

static void vm_free(gpointer p)
{
	VmtFleetVm *v = p;

	g_free(v->instance);
	g_free(v->vm);
	g_free(v->tenant);
	g_free(v->klass);
	if (v->days)
		g_ptr_array_unref(v->days);
	g_free(v);
}

void vmt_fleet_free(VmtFleet *f)
{
	if (!f)
		return;
	g_free(f->url);
	g_free(f->tenant);
	if (f->vms)	/* NULL when the URL was refused */
		g_ptr_array_unref(f->vms);
	g_free(f);
}

/* The counters behind the report's figures (docs/metrics.md), and the two
 * gauges that say which account a scrape holds. */
typedef enum {
	F_MET, F_MISSED, F_NOT_JUDGED, F_WARM_UP, F_SECONDS, F_HOT_OBSERVED, F_ACCESS_OBSERVED,
	F_PROMOTED, F_DEMOTED, F_MOVE_CALLS,	/* counts: whole numbers */
	F_DRAM, F_SLOW, F_HOT, F_COVERAGE, F_SHARE,
	N_COUNTERS,
	F_ACCOUNT_TS = N_COUNTERS, F_INTERVAL,
	N_FIELDS,
} Field;
#define N_COUNTS (F_MOVE_CALLS + 1)

static const struct {
	const char *name, *label, *value;	/* LABEL="VALUE" picks a series of NAME */
} fields[N_FIELDS] = {
	[F_MET] = { "vmtier_vm_slo_intervals_total", "result", "met" },
	[F_MISSED] = { "vmtier_vm_slo_intervals_total", "result", "missed" },
	[F_NOT_JUDGED] = { "vmtier_vm_slo_intervals_total", "result", "not_judged" },
	[F_WARM_UP] = { "vmtier_vm_slo_warm_up_intervals_total" },
	[F_SECONDS] = { "vmtier_vm_accounted_seconds_total" },
	[F_HOT_OBSERVED] = { "vmtier_vm_hot_observed_seconds_total" },
	[F_ACCESS_OBSERVED] = { "vmtier_vm_access_observed_seconds_total" },
	[F_PROMOTED] = { "vmtier_vm_promoted_bytes_total" },
	[F_DEMOTED] = { "vmtier_vm_demoted_bytes_total" },
	[F_MOVE_CALLS] = { "vmtier_vm_move_calls_total" },
	[F_DRAM] = { "vmtier_vm_memory_byte_seconds_total", "tier", "dram" },
	[F_SLOW] = { "vmtier_vm_memory_byte_seconds_total", "tier", "slow" },
	[F_HOT] = { "vmtier_vm_hot_byte_seconds_total" },
	[F_COVERAGE] = { "vmtier_vm_hot_coverage_seconds_total" },
	[F_SHARE] = { "vmtier_vm_dram_access_share_seconds_total" },
	[F_ACCOUNT_TS] = { "vmtier_vm_last_sample_timestamp_seconds" },
	[F_INTERVAL] = { "vmtier_vm_last_interval_seconds" },
};

static int field_of(json_object *series)
{
	const char *name = label(series, "__name__");

	for (int f = 0; name && f < N_FIELDS; f++)
		if (strcmp(name, fields[f].name) == 0 &&
		    (!fields[f].label || g_strcmp0(label(series, fields[f].label), fields[f].value) == 0))
			return f;
	return -1;
}

/* A VM's series while its figures are summed. */
typedef struct {
	VmtFleetVm *fv;
	json_object *series[N_FIELDS];	/* the "values" arrays; NULL: none */
	double total[N_COUNTERS];
	GTree *days;			/* date -> double[N_COUNTERS] */
} Sums;

static gint by_date(gconstpointer a, gconstpointer b, gpointer data)
{
	return strcmp(a, b);
}

static void sums_free(gpointer p)
{
	Sums *s = p;

	if (s->fv)	/* moved to the fleet */
		vm_free(s->fv);
	g_tree_unref(s->days);
	g_free(s);
}

/* The report's figures from the counters' increases X (docs/metrics.md). */
static VmtReportStats stats_of(const double *x)
{
	VmtReportStats s = { 0 };
	double sec = x[F_SECONDS];

	s.slo.met = (guint)MIN(x[F_MET], G_MAXUINT);
	s.slo.missed = (guint)MIN(x[F_MISSED], G_MAXUINT);
	s.slo.unjudged = (guint)MIN(x[F_NOT_JUDGED], G_MAXUINT);
	s.intervals = (guint)MIN(x[F_MET] + x[F_MISSED] + x[F_NOT_JUDGED], G_MAXUINT);
	s.warm_up = (guint)MIN(x[F_WARM_UP], G_MAXUINT);
	s.seconds = (gint64)sec;
	s.avg_dram_bytes = sec > 0 ? x[F_DRAM] / sec : 0;
	s.avg_slow_bytes = sec > 0 ? x[F_SLOW] / sec : 0;
	s.avg_hot_bytes = sec > 0 ? x[F_HOT] / sec : 0;
	s.avg_hot_coverage = x[F_HOT_OBSERVED] > 0 ? CLAMP(x[F_COVERAGE] / x[F_HOT_OBSERVED], 0, 1) : -1;
	s.min_hot_coverage = -1;
	s.avg_dram_access_share = x[F_ACCESS_OBSERVED] > 0 ?
				  CLAMP(x[F_SHARE] / x[F_ACCESS_OBSERVED], 0, 1) : -1;
	s.promoted_bytes = (guint64)x[F_PROMOTED];
	s.demoted_bytes = (guint64)x[F_DEMOTED];
	s.migrations = (guint64)x[F_MOVE_CALLS];
	s.dram_gib_hours = x[F_DRAM] / (3600.0 * (1 << 30));
	s.slow_gib_hours = x[F_SLOW] / (3600.0 * (1 << 30));
	return s;
}

/* A scrape's account: its end (vmtierd's clock) and length. */
typedef struct {
	double t;		/* the scrape's time */
	gint64 ts;
	guint interval_s;
} Account;

/* The accounts of S's scrapes, by scrape time; FALSE on a value that is
 * not a time or an interval. */
static gboolean accounts_of(Sums *s, GArray *out)
{
	json_object *ts = s->series[F_ACCOUNT_TS], *ivl = s->series[F_INTERVAL];
	gsize n = ts ? json_object_array_length(ts) : 0, m = ivl ? json_object_array_length(ivl) : 0;
	gsize j = 0;

	for (gsize i = 0; i < n; i++) {
		Account a;
		double v, t2, w;

		if (!point(json_object_array_get_idx(ts, i), &a.t, &v) || v < 1 || v > 253402300799.0)
			return FALSE;
		a.ts = (gint64)v;
		for (; j < m; j++) {
			if (!point(json_object_array_get_idx(ivl, j), &t2, &w) || w < 1 || w > 366 * 86400.0)
				return FALSE;
			if (t2 >= a.t)
				break;
		}
		if (j >= m || t2 != a.t)
			continue;	/* the same scrape holds both */
		a.interval_s = (guint)w;
		g_array_append_val(out, a);
	}
	return TRUE;
}

/* Counter K of S: each raw sample's rise, given to its scrape's account,
 * when that ended in (SINCE, UNTIL], and to the day its interval began. */
static gboolean add_counter(Sums *s, int k, const GArray *acc, gint64 since, gint64 until)
{
	json_object *values = s->series[k];
	gsize n = json_object_array_length(values), j = 0;
	double prev = 0, t, v;

	for (gsize i = 0; i < n; i++) {
		const Account *a = NULL;
		double rise, *day;
		char *date;

		if (!point(json_object_array_get_idx(values, i), &t, &v) || v < 0 || v > 1e30 ||
		    (k < N_COUNTS && (v != floor(v) || v > 1e15)))
			return FALSE;
		while (j + 1 < acc->len && g_array_index(acc, Account, j + 1).t <= t)
			j++;
		if (j < acc->len && g_array_index(acc, Account, j).t <= t)
			a = &g_array_index(acc, Account, j);
		rise = v >= prev ? v - prev : v;
		prev = v;
		if (!a || a->ts <= since || a->ts > until)
			continue;	/* before the period (the baseline), or not known */
		s->total[k] += rise;
		date = vmt_report_date(a->ts - a->interval_s);
		day = g_tree_lookup(s->days, date);
		if (!day) {
			day = g_new0(double, N_COUNTERS);
			g_tree_insert(s->days, date, day);
		} else {
			g_free(date);
		}
		day[k] += rise;
	}
	return TRUE;
}

static gboolean push_day(gpointer key, gpointer value, gpointer data)
{
	VmtFleetVm *fv = data;
	VmtReportDay *d = g_new0(VmtReportDay, 1);

	d->date = g_strdup(key);
	d->stats = stats_of(value);
	g_ptr_array_add(fv->days, d);
	return FALSE;
}

static gint by_tenant_vm_instance(gconstpointer pa, gconstpointer pb)
{
	const VmtFleetVm *a = *(VmtFleetVm *const *)pa, *b = *(VmtFleetVm *const *)pb;
	int c = g_strcmp0(a->tenant, b->tenant);

	if (!c)
		c = strcmp(a->vm, b->vm);
	return c ? c : strcmp(a->instance, b->instance);
}

/* The figures of every VM of BY_KEY from the raw samples R (a matrix). */
static gboolean sum_series(GHashTable *by_key, json_object *r, gint64 since, gint64 until, GError **error)
{
	GHashTableIter it;
	gpointer v;

	for (gsize i = 0; i < json_object_array_length(r); i++) {
		json_object *series = json_object_array_get_idx(r, i), *values;
		g_autofree char *key = key_of(label(series, "instance") ?: "", label(series, "domain") ?: "");
		Sums *s = g_hash_table_lookup(by_key, key);
		int f = field_of(series);

		if (s && f >= 0 && json_object_object_get_ex(series, "values", &values) &&
		    json_object_is_type(values, json_type_array))
			s->series[f] = values;
	}
	g_hash_table_iter_init(&it, by_key);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		Sums *s = v;
		g_autoptr(GArray) acc = g_array_new(FALSE, FALSE, sizeof(Account));
		gboolean ok = accounts_of(s, acc);

		for (int k = 0; ok && k < N_COUNTERS; k++)
			ok = !s->series[k] || add_counter(s, k, acc, since, until);
		if (!ok) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "Prometheus: %s on %s: its counters or account times are not what vmtierd "
				    "writes", s->fv->vm, s->fv->instance);
			return FALSE;
		}
		s->fv->stats = stats_of(s->total);
		s->fv->days = g_ptr_array_new_with_free_func(vmt_report_day_free);
		g_tree_foreach(s->days, push_day, s->fv);
	}
	return TRUE;
}

VmtFleet *vmt_fleet_query(const char *url, const char *tenant, gint64 since, gint64 until,
			  GError **error)
{
	g_auto(Server) srv = { 0 };
	g_autoptr(VmtFleet) f = g_new0(VmtFleet, 1);
	g_autoptr(GHashTable) by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, sums_free);
	g_autoptr(GString) names = g_string_new(NULL);
	g_autofree char *series_q = NULL, *info_q = NULL, *cov_q = NULL, *ivl_q = NULL;
	json_object *series = NULL, *info = NULL, *cov = NULL, *ivl = NULL, *r;
	gint64 range;
	GHashTableIter it;
	gpointer stolen, v;
	gboolean ok = FALSE;

	if (!parse_url(url, &srv, error))
		return NULL;
	if (since == G_MININT64)
		since = until - 366 * 86400;
	f->url = g_strdup(url);
	f->tenant = g_strdup(tenant);
	f->since = since;
	f->until = until;
	f->vms = g_ptr_array_new_with_free_func(vm_free);
	/* 5 minutes more than the period: the sample before it is the baseline */
	range = until - since + 300;
	for (int k = 0; k < N_FIELDS; k++)
		if (k == 0 || strcmp(fields[k].name, fields[k - 1].name) != 0)
			g_string_append_printf(names, "%s%s", names->len ? "|" : "", fields[k].name);
	series_q = g_strdup_printf("{__name__=~\"%s\"}[%" G_GINT64_FORMAT "s]", names->str, range);
	info_q = g_strdup_printf("last_over_time(vmtier_vm_info[%" G_GINT64_FORMAT "s])", range);
	cov_q = g_strdup_printf("last_over_time(vmtier_vm_slo_coverage_target_ratio[%" G_GINT64_FORMAT "s])", range);
	ivl_q = g_strdup_printf("last_over_time(vmtier_vm_slo_intervals_target_ratio[%" G_GINT64_FORMAT "s])", range);
	if (!(series = api(&srv, "query", series_q, until, error)) ||
	    !(info = api(&srv, "query", info_q, until, error)) ||
	    !(cov = api(&srv, "query", cov_q, until, error)) ||
	    !(ivl = api(&srv, "query", ivl_q, until, error)))
		goto out;

	/* the VMs, their tenant and class */
	if (!(r = result_of(info, "vector"))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Prometheus: no vector for %s", info_q);
		goto out;
	}
	for (gsize i = 0; i < json_object_array_length(r); i++) {
		json_object *s = json_object_array_get_idx(r, i);
		const char *inst = label(s, "instance"), *vm = label(s, "domain"), *t = label(s, "tenant");
		Sums *sums;

		if (!inst || !vm || !t || (tenant && strcmp(t, tenant) != 0))
			continue;
		sums = g_new0(Sums, 1);
		sums->days = g_tree_new_full(by_date, NULL, g_free, g_free);
		sums->fv = g_new0(VmtFleetVm, 1);
		sums->fv->instance = g_strdup(inst);
		sums->fv->vm = g_strdup(vm);
		sums->fv->tenant = g_strdup(t);
		sums->fv->klass = label(s, "class") && *label(s, "class") ? g_strdup(label(s, "class")) : NULL;
		sums->fv->slo_target = sums->fv->slo_intervals = -1;
		g_hash_table_replace(by_key, key_of(inst, vm), sums);
	}
	/* their promise */
	for (guint k = 0; k < 2; k++) {
		json_object *res = result_of(k ? ivl : cov, "vector");

		for (gsize i = 0; res && i < json_object_array_length(res); i++) {
			json_object *s = json_object_array_get_idx(res, i);
			g_autofree char *key = key_of(label(s, "instance") ?: "", label(s, "domain") ?: "");
			Sums *sums = g_hash_table_lookup(by_key, key);
			json_object *val;
			double t, x;

			if (sums && json_object_object_get_ex(s, "value", &val) && point(val, &t, &x) &&
			    x >= 0 && x <= 1)
				*(k ? &sums->fv->slo_intervals : &sums->fv->slo_target) = x;
		}
	}
	/* their figures */
	if (!(r = result_of(series, "matrix"))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Prometheus: no matrix for %s", series_q);
		goto out;
	}
	if (!sum_series(by_key, r, since, until, error))
		goto out;
	g_hash_table_iter_init(&it, by_key);
	while (g_hash_table_iter_next(&it, &stolen, &v)) {
		Sums *s = v;
		VmtFleetVm *fv = g_steal_pointer(&s->fv);

		fv->has_slo = fv->slo_target >= 0 && fv->slo_intervals >= 0;
		fv->compliant = fv->has_slo ? vmt_slo_compliant(&fv->stats.slo, fv->slo_intervals) : -1;
		g_ptr_array_add(f->vms, fv);
	}
	g_ptr_array_sort(f->vms, by_tenant_vm_instance);
	ok = TRUE;
out:
	json_object_put(series);
	json_object_put(info);
	json_object_put(cov);
	json_object_put(ivl);
	return ok ? g_steal_pointer(&f) : NULL;
}

static json_object *jtime(gint64 ts)
{
	g_autofree char *t = vmt_report_format_time(ts);

	return json_object_new_string(t);
}

char *vmt_fleet_to_json(const VmtFleet *f)
{
	json_object *o = json_object_new_object(), *vms = json_object_new_array();
	char *text;

	json_object_object_add(o, "prometheus", json_object_new_string(f->url));
	json_object_object_add(o, "since", jtime(f->since));
	json_object_object_add(o, "until", jtime(f->until));
	for (guint i = 0; i < f->vms->len; i++) {
		const VmtFleetVm *v = f->vms->pdata[i];
		json_object *jv = json_object_new_object();

		json_object_object_add(jv, "tenant", json_object_new_string(v->tenant));
		json_object_object_add(jv, "vm", json_object_new_string(v->vm));
		json_object_object_add(jv, "instance", json_object_new_string(v->instance));
		json_object_object_add(jv, "class", v->klass ? json_object_new_string(v->klass) : NULL);
		json_object_object_add(jv, "slo_target", v->has_slo ? json_object_new_double(v->slo_target) : NULL);
		json_object_object_add(jv, "slo_intervals",
				       v->has_slo ? json_object_new_double(v->slo_intervals) : NULL);
		json_object_object_add(jv, "slo_compliant", v->compliant < 0 ? NULL :
				       json_object_new_boolean(v->compliant));
		/* the store's report's keys (min_hot_coverage null: not a counter) */
		vmt_report_stats_json(jv, &v->stats);
		json_object_object_add(jv, "days", vmt_report_days_json(v->days));
		json_object_array_add(vms, jv);
	}
	json_object_object_add(o, "vms", vms);
	text = g_strconcat(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							   JSON_C_TO_STRING_NOSLASHESCAPE), "\n", NULL);
	json_object_put(o);
	return text;
}

const char *vmt_fleet_vm_verdict(const VmtFleetVm *v)
{
	return !v->has_slo ? "no SLO" : v->compliant == 1 ? "KEPT" : v->compliant == 0 ? "BROKEN" :
	       "nothing judged";
}

char *vmt_fleet_to_table(const VmtFleet *f)
{
	GString *out = g_string_new(NULL);
	g_autofree char *from = vmt_report_format_time(f->since), *to = vmt_report_format_time(f->until);

	g_autofree char *url = vmt_name_escape(f->url);

	g_string_append_printf(out, "SLA per VM and host from %s, %s .. %s\n", url, from, to);
	g_string_append_printf(out, "%-16s %-20s %-24s %-10s %11s %8s %s\n", "tenant", "vm", "host", "class",
			       "met/judged", "not jdg", "verdict");
	for (guint i = 0; i < f->vms->len; i++) {
		const VmtFleetVm *v = f->vms->pdata[i];
		g_autofree char *mj = g_strdup_printf("%u/%u", v->stats.slo.met, vmt_slo_tally_judged(&v->stats.slo));
		g_autofree char *comp = vmt_report_pct(vmt_slo_compliance(&v->stats.slo));
		/* names from users and from Prometheus: no escape sequences */
		g_autofree char *t = vmt_name_escape(v->tenant), *vm = vmt_name_escape(v->vm);
		g_autofree char *inst = vmt_name_escape(v->instance);
		g_autofree char *k = vmt_name_escape(v->klass ? v->klass : "-");

		g_string_append_printf(out, "%-16s %-20s %-24s %-10s %11s %8u %s (%s)\n", t, vm, inst, k, mj,
				       v->stats.slo.unjudged, vmt_fleet_vm_verdict(v), comp);
	}
	/* then each VM's figures, as the store's report gives them */
	for (guint i = 0; i < f->vms->len; i++) {
		const VmtFleetVm *v = f->vms->pdata[i];
		g_autofree char *vm = vmt_name_escape(v->vm), *inst = vmt_name_escape(v->instance);
		g_autofree char *hot = vmt_size_format((guint64)v->stats.avg_hot_bytes);
		g_autofree char *cov = vmt_report_pct(v->stats.avg_hot_coverage);
		g_autofree char *dram = vmt_report_byte_hours(v->stats.dram_gib_hours);
		g_autofree char *slow = vmt_report_byte_hours(v->stats.slow_gib_hours);
		g_autofree char *promoted = vmt_size_format(v->stats.promoted_bytes);
		g_autofree char *demoted = vmt_size_format(v->stats.demoted_bytes);

		g_string_append_printf(out, "\n  VM %s on %s: %u intervals (%u in the warm-up, not judged)\n", vm,
				       inst, v->stats.intervals, v->stats.warm_up);
		g_string_append_printf(out, "    hot set    avg %s, coverage avg %s\n", hot, cov);
		g_string_append_printf(out, "    residency  %s in DRAM, %s on the slow tier\n", dram, slow);
		g_string_append_printf(out, "    migrated   %" G_GUINT64_FORMAT " calls, %s promoted, %s demoted\n",
				       v->stats.migrations, promoted, demoted);
		vmt_report_table_days(out, v->days);
	}
	return g_string_free(out, FALSE);
}
