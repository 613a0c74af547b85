// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier report: per-tenant SLA reports from vmtierd's history store. */
#include <gio/gio.h>

#include "config.h"
#include "class.h"
#include "cli.h"
#include "names.h"
#include "report.h"
#include "report-prometheus.h"

#include <errno.h>
#include <stdio.h>

static gboolean parse_bound(const char *opt, const char *text, gint64 now, gint64 *out)
{
	g_autoptr(GError) error = NULL;

	if (!text || vmt_report_parse_time(text, now, out, &error))
		return TRUE;
	fprintf(stderr, "vmtier report: invalid %s '%s': %s\n", opt, text, error->message);
	return FALSE;
}

/* Says on stderr what matched nothing: an empty report is an answer, not an error. */
static void say_empty(const VmtReport *r, const char *db)
{
	GString *what = g_string_new("vmtier report: no recorded intervals");

	g_autofree char *tenant = r->query.tenant ? vmt_name_escape(r->query.tenant) : NULL;
	g_autofree char *vm = r->query.vm ? vmt_name_escape(r->query.vm) : NULL;

	if (tenant)
		g_string_append_printf(what, " for tenant '%s'", tenant);
	if (vm)
		g_string_append_printf(what, " %s VM '%s'", tenant ? "and" : "for", vm);
	if (r->query.since != G_MININT64) {
		g_autofree char *t = vmt_report_format_time(r->query.since);
		g_string_append_printf(what, " after %s", t);
	}
	if (r->query.until != G_MAXINT64) {
		g_autofree char *t = vmt_report_format_time(r->query.until);
		g_string_append_printf(what, " up to %s", t);
	}
	fprintf(stderr, "%s in %s\n", what->str, db);
	g_string_free(what, TRUE);
}

/* A tenant's name as a file name: ASCII letters, digits, '-', '_' and '.'
 * (not first) kept, every other byte %XX, so that two tenants never share
 * a file and no name climbs out of the directory. */
static char *tenant_file(const char *tenant, VmtReportFormat fmt)
{
	static const char *const ext[] = { "txt", "json", "csv", "html" };
	GString *f = g_string_new(NULL);

	for (const char *c = tenant; *c; c++) {
		if (g_ascii_isalnum(*c) || *c == '-' || *c == '_' || (*c == '.' && c != tenant))
			g_string_append_c(f, *c);
		else
			g_string_append_printf(f, "%%%02X", (guchar)*c);
	}
	g_string_append_printf(f, ".%s", ext[fmt]);
	return g_string_free(f, FALSE);
}

static void provenance(VmtReport *r, gint64 now)
{
	r->generated_ts = now;
	r->host = g_strdup(g_get_host_name());
	r->version = g_strdup(VMT_VERSION);
}

/* --per-tenant DIR: one file per tenant of R (each built again from the
 * store for that tenant alone), named by tenant_file; a line per file on
 * stdout. */
static int write_per_tenant(VmtHistory *h, const VmtReport *r, const VmtHistoryQuery *q,
			    const char *class_dir, const char *dir, VmtReportFormat fmt, gint64 now)
{
	g_autoptr(GError) error = NULL;

	if (g_mkdir_with_parents(dir, 0700) < 0) {
		fprintf(stderr, "vmtier report: cannot create %s: %s\n", dir, g_strerror(errno));
		return VMT_EXIT_FAILURE;
	}
	for (guint i = 0; i < r->tenants->len; i++) {
		const char *tenant = ((VmtReportTenant *)r->tenants->pdata[i])->tenant;
		VmtHistoryQuery tq = *q;
		g_autoptr(VmtReport) one = NULL;
		g_autofree char *name = tenant_file(tenant, fmt), *path = g_build_filename(dir, name, NULL);
		g_autofree char *text = NULL;

		tq.tenant = tenant;
		if (!(one = vmt_report_build(h, &tq, class_dir, &error))) {
			fprintf(stderr, "vmtier report: %s\n", error->message);
			return VMT_EXIT_FAILURE;
		}
		provenance(one, now);
		text = vmt_report_format(one, fmt);
		if (!g_file_set_contents(path, text, -1, &error)) {
			fprintf(stderr, "vmtier report: %s\n", error->message);
			return VMT_EXIT_FAILURE;
		}
		printf("%s\n", path);
	}
	return fflush(stdout) == 0 ? VMT_EXIT_OK : VMT_EXIT_FAILURE;
}

/* --prometheus URL: the SLO counts of every host's VMs (report-prometheus.h). */
static int fleet_report(const char *url, const char *tenant, const char *vm, gboolean local_opts,
			gint64 since, gint64 until, VmtReportFormat fmt, const char *output)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtFleet) f = NULL;
	g_autofree char *text = NULL;

	if (local_opts || vm || (fmt != VMT_REPORT_TABLE && fmt != VMT_REPORT_JSON && fmt != VMT_REPORT_HTML)) {
		fprintf(stderr, "vmtier report: --prometheus '%s' gives the SLO per VM and host as a table, "
			"json or html, by --tenant; not with --db, --vm, --per-tenant or another --format\n", url);
		return VMT_EXIT_USAGE;
	}
	f = vmt_fleet_query(url, tenant, since, until, &error);
	if (!f) {
		fprintf(stderr, "vmtier report: %s\n", error->message);
		return error->code == G_IO_ERROR_INVALID_ARGUMENT ? VMT_EXIT_USAGE : VMT_EXIT_FAILURE;
	}
	text = fmt == VMT_REPORT_JSON ? vmt_fleet_to_json(f) :
	       fmt == VMT_REPORT_HTML ? vmt_fleet_to_html(f, g_get_real_time() / G_USEC_PER_SEC, VMT_VERSION) :
					vmt_fleet_to_table(f);
	if (output ? !g_file_set_contents(output, text, -1, &error) : fputs(text, stdout) < 0 || fflush(stdout)) {
		fprintf(stderr, "vmtier report: %s\n", error ? error->message : "cannot write to stdout");
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}

int vmt_cmd_report(int argc, char **argv)
{
	g_autofree char *tenant = NULL, *vm = NULL, *since = NULL, *until = NULL;
	g_autofree char *format = NULL, *output = NULL, *db = NULL, *per_tenant = NULL, *prom = NULL;
	GOptionEntry entries[] = {
		{ "tenant", 0, 0, G_OPTION_ARG_FILENAME, &tenant, "Only this tenant's VMs", "NAME" },
		{ "vm", 0, 0, G_OPTION_ARG_STRING, &vm, "Only this VM", "NAME" },
		{ "since", 0, 0, G_OPTION_ARG_STRING, &since, "From Nd/Nh/Nm ago or a UTC date[time]", "WHEN" },
		{ "until", 0, 0, G_OPTION_ARG_STRING, &until, "Up to Nd/Nh/Nm ago or a UTC date[time]", "WHEN" },
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format, "table (default), json, csv or html", "F" },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE instead of stdout", "FILE" },
		{ "per-tenant", 0, 0, G_OPTION_ARG_FILENAME, &per_tenant,
		  "One file per tenant in DIR (html unless --format says otherwise)", "DIR" },
		{ "prometheus", 0, 0, G_OPTION_ARG_STRING, &prom,
		  "the report per VM and host of a fleet, from this Prometheus server (table, json or html)", "URL" },
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "History store (default $VMTIER_HISTORY_DB, "
		  "vmtierd.conf's history_db, else " VMT_LOCALSTATEDIR "/lib/vmtier/history.db)", "PATH" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- SLA report per tenant from vmtierd's history");
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtHistory) h = NULL;
	g_autoptr(VmtReport) r = NULL;
	g_autofree char *class_dir = NULL, *text = NULL;
	VmtHistoryQuery q = VMT_HISTORY_QUERY_INIT;
	VmtReportFormat fmt = VMT_REPORT_TABLE;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"WHEN: Nd, Nh or Nm before now, or a UTC YYYY-MM-DD[THH:MM[:SS]].\n"
		"Example: vmtier report --tenant acme --since 7d --format html -o acme.html\n"
		"Exit status: 0 reported (also when nothing matched), 1 the store or Prometheus\n"
		"could not be read or the output written, 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "report", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc > 1) {
		fprintf(stderr, "vmtier report: unexpected argument '%s'\n", argv[1]);
		return VMT_EXIT_USAGE;
	}
	if (!parse_bound("--since", since, now, &q.since) || !parse_bound("--until", until, now, &q.until))
		return VMT_EXIT_USAGE;
	if (q.since >= q.until) {
		fprintf(stderr, "vmtier report: --since '%s' is not before --until '%s'\n", since, until);
		return VMT_EXIT_USAGE;
	}
	if (format && !vmt_report_parse_format(format, &fmt, &error)) {
		fprintf(stderr, "vmtier report: %s\n", error->message);
		return VMT_EXIT_USAGE;
	}
	if (per_tenant && output) {
		fprintf(stderr, "vmtier report: --per-tenant '%s' writes one file per tenant: not with "
			"--output '%s'\n", per_tenant, output);
		return VMT_EXIT_USAGE;
	}
	if (per_tenant && !format)
		fmt = VMT_REPORT_HTML;
	if (prom)
		return fleet_report(prom, tenant, vm, db || per_tenant, q.since,
				    q.until == G_MAXINT64 ? now : q.until, fmt, output);
	if (!db)
		db = vmt_cli_shared_path("report", NULL, VMT_CLI_HISTORY_DB);
	class_dir = vmt_cli_class_dir("report");
	q.tenant = tenant;
	q.vm = vm;
	h = vmt_history_open_readonly(db, &error);
	if (h)
		r = vmt_report_build(h, &q, class_dir, &error);
	if (!r) {
		fprintf(stderr, "vmtier report: %s\n", error->message);
		return VMT_EXIT_FAILURE;
	}
	for (guint i = 0; i < r->warnings->len; i++) {
		/* they name classes and files from the store: no escape sequences */
		g_autofree char *w = vmt_name_escape(r->warnings->pdata[i]);
		fprintf(stderr, "vmtier report: warning: %s\n", w);
	}
	if (vmt_report_is_empty(r))
		say_empty(r, db);
	if (per_tenant)
		return write_per_tenant(h, r, &q, class_dir, per_tenant, fmt, now);
	provenance(r, now);
	text = vmt_report_format(r, fmt);
	if (output) {
		if (!g_file_set_contents(output, text, -1, &error)) {
			fprintf(stderr, "vmtier report: %s\n", error->message);
			return VMT_EXIT_FAILURE;
		}
	} else if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "vmtier report: cannot write to stdout\n");
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}
