// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier report --prometheus: see report-prometheus.h.  A minimal HTTP/1.0
 * client over GIO (one GET per query, Connection: close) and json-c. */
#include <gio/gio.h>
#include <json-c/json.h>

#include "names.h"
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

/* The intervals one counter series gained in (SINCE, UNTIL]: from the last
 * sample at or before SINCE (0 when there is none: a VM new in the
 * period), each later sample's rise, a fall being a reset (counted from 0).
 * Counts are whole numbers: anything else is refused. */
static gboolean counter_increase(json_object *values, double since, guint64 *out)
{
	double base = 0, prev, t, v, sum = 0;
	gsize n = json_object_array_length(values);
	gsize i = 0;

	for (; i < n; i++) {
		if (!point(json_object_array_get_idx(values, i), &t, &v) || v < 0 || v != floor(v))
			return FALSE;
		if (t > since)
			break;
		base = v;
	}
	prev = base;
	for (; i < n; i++) {
		if (!point(json_object_array_get_idx(values, i), &t, &v) || v < 0 || v != floor(v) || v > 1e15)
			return FALSE;
		sum += v >= prev ? v - prev : v;
		prev = v;
	}
	*out = (guint64)sum;
	return TRUE;
}

static gint by_tenant_vm_instance(gconstpointer pa, gconstpointer pb)
{
	const VmtFleetVm *a = *(VmtFleetVm *const *)pa, *b = *(VmtFleetVm *const *)pb;
	int c = g_strcmp0(a->tenant, b->tenant);

	if (!c)
		c = strcmp(a->vm, b->vm);
	return c ? c : strcmp(a->instance, b->instance);
}

VmtFleet *vmt_fleet_query(const char *url, const char *tenant, gint64 since, gint64 until,
			  GError **error)
{
	g_auto(Server) srv = { 0 };
	g_autoptr(VmtFleet) f = g_new0(VmtFleet, 1);
	g_autoptr(GHashTable) by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, vm_free);
	g_autofree char *counts_q = NULL, *info_q = NULL, *cov_q = NULL, *ivl_q = NULL;
	json_object *counts = NULL, *info = NULL, *cov = NULL, *ivl = NULL, *r;
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
	counts_q = g_strdup_printf("vmtier_vm_slo_intervals_total[%" G_GINT64_FORMAT "s]", range);
	info_q = g_strdup_printf("last_over_time(vmtier_vm_info[%" G_GINT64_FORMAT "s])", range);
	cov_q = g_strdup_printf("last_over_time(vmtier_vm_slo_coverage_target_ratio[%" G_GINT64_FORMAT "s])", range);
	ivl_q = g_strdup_printf("last_over_time(vmtier_vm_slo_intervals_target_ratio[%" G_GINT64_FORMAT "s])", range);
	if (!(counts = api(&srv, "query", counts_q, until, error)) ||
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
		VmtFleetVm *fv;

		if (!inst || !vm || !t || (tenant && strcmp(t, tenant) != 0))
			continue;
		fv = g_new0(VmtFleetVm, 1);
		fv->instance = g_strdup(inst);
		fv->vm = g_strdup(vm);
		fv->tenant = g_strdup(t);
		fv->klass = label(s, "class") && *label(s, "class") ? g_strdup(label(s, "class")) : NULL;
		fv->slo_target = fv->slo_intervals = -1;
		g_hash_table_replace(by_key, key_of(inst, vm), fv);
	}
	/* their promise */
	for (guint k = 0; k < 2; k++) {
		json_object *res = result_of(k ? ivl : cov, "vector");

		for (gsize i = 0; res && i < json_object_array_length(res); i++) {
			json_object *s = json_object_array_get_idx(res, i);
			g_autofree char *key = key_of(label(s, "instance") ?: "", label(s, "domain") ?: "");
			VmtFleetVm *fv = g_hash_table_lookup(by_key, key);
			json_object *val;
			double t, x;

			if (fv && json_object_object_get_ex(s, "value", &val) && point(val, &t, &x) &&
			    x >= 0 && x <= 1)
				*(k ? &fv->slo_intervals : &fv->slo_target) = x;
		}
	}
	/* their counts */
	if (!(r = result_of(counts, "matrix"))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Prometheus: no matrix for %s", counts_q);
		goto out;
	}
	for (gsize i = 0; i < json_object_array_length(r); i++) {
		json_object *s = json_object_array_get_idx(r, i), *values;
		g_autofree char *key = key_of(label(s, "instance") ?: "", label(s, "domain") ?: "");
		VmtFleetVm *fv = g_hash_table_lookup(by_key, key);
		const char *res = label(s, "result");
		guint64 n;

		if (!fv || !res)
			continue;
		if (!json_object_object_get_ex(s, "values", &values) ||
		    !json_object_is_type(values, json_type_array) || !counter_increase(values, since, &n)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
				    "Prometheus: %s on %s: its SLO counter is not a count", fv->vm, fv->instance);
			goto out;
		}
		n = MIN(n, G_MAXUINT);
		if (strcmp(res, "met") == 0)
			fv->slo.met = n;
		else if (strcmp(res, "missed") == 0)
			fv->slo.missed = n;
		else if (strcmp(res, "not_judged") == 0)
			fv->slo.unjudged = n;
	}
	g_hash_table_iter_init(&it, by_key);
	while (g_hash_table_iter_next(&it, &stolen, &v)) {
		VmtFleetVm *fv = v;

		fv->has_slo = fv->slo_target >= 0 && fv->slo_intervals >= 0;
		fv->compliant = fv->has_slo ? vmt_slo_compliant(&fv->slo, fv->slo_intervals) : -1;
		/* stealing skips both destroy functions: the value moves to
		 * f->vms, the key is ours to free */
		g_hash_table_iter_steal(&it);
		g_free(stolen);
		g_ptr_array_add(f->vms, fv);
	}
	g_ptr_array_sort(f->vms, by_tenant_vm_instance);
	ok = TRUE;
out:
	json_object_put(counts);
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
		double c = vmt_slo_compliance(&v->slo);

		json_object_object_add(jv, "tenant", json_object_new_string(v->tenant));
		json_object_object_add(jv, "vm", json_object_new_string(v->vm));
		json_object_object_add(jv, "instance", json_object_new_string(v->instance));
		json_object_object_add(jv, "class", v->klass ? json_object_new_string(v->klass) : NULL);
		json_object_object_add(jv, "slo_target", v->has_slo ? json_object_new_double(v->slo_target) : NULL);
		json_object_object_add(jv, "slo_intervals",
				       v->has_slo ? json_object_new_double(v->slo_intervals) : NULL);
		json_object_object_add(jv, "intervals_met", json_object_new_int64(v->slo.met));
		json_object_object_add(jv, "intervals_missed", json_object_new_int64(v->slo.missed));
		json_object_object_add(jv, "intervals_not_judged", json_object_new_int64(v->slo.unjudged));
		json_object_object_add(jv, "compliance", c < 0 ? NULL : json_object_new_double(c));
		json_object_object_add(jv, "slo_compliant", v->compliant < 0 ? NULL :
				       json_object_new_boolean(v->compliant));
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

	g_string_append_printf(out, "SLO per VM and host from %s, %s .. %s\n", url, from, to);
	g_string_append_printf(out, "%-16s %-20s %-24s %-10s %11s %8s %s\n", "tenant", "vm", "host", "class",
			       "met/judged", "not jdg", "verdict");
	for (guint i = 0; i < f->vms->len; i++) {
		const VmtFleetVm *v = f->vms->pdata[i];
		g_autofree char *mj = g_strdup_printf("%u/%u", v->slo.met, vmt_slo_tally_judged(&v->slo));
		g_autofree char *comp = vmt_report_pct(vmt_slo_compliance(&v->slo));
		/* names from users and from Prometheus: no escape sequences */
		g_autofree char *t = vmt_name_escape(v->tenant), *vm = vmt_name_escape(v->vm);
		g_autofree char *inst = vmt_name_escape(v->instance);
		g_autofree char *k = vmt_name_escape(v->klass ? v->klass : "-");

		g_string_append_printf(out, "%-16s %-20s %-24s %-10s %11s %8u %s (%s)\n", t, vm, inst, k, mj,
				       v->slo.unjudged,
				       vmt_fleet_vm_verdict(v), comp);
	}
	return g_string_free(out, FALSE);
}
