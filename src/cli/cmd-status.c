// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtier status [NAME] [--json] [--watch] | vmtier set NAME --dram SIZE:
 * the running daemon's view, through its control socket. */
#include "config.h"
#include "cli.h"
#include "ctl.h"
#include "size.h"

#include <glib-unix.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define REQUEST_TIMEOUT_MS 10000
/* set: vmtierd answers once libvirt recorded the quota, and a domain job
 * waits up to libvirt's 30 s on a busy QEMU */
#define SET_TIMEOUT_MS 60000
#define BAR_WIDTH 10

static const struct {
	const char *title;
	gboolean right;
} columns[] = {
	{ "NAME" }, { "TENANT" }, { "CLASS" }, { "STATE" },
	{ "QUOTA", TRUE }, { "DRAM", TRUE }, { "SLOW", TRUE }, { "HOT", TRUE },
	{ "COVERAGE", TRUE }, { "DRAM-SHARE", TRUE }, { "MOVED", TRUE }, { "SCANNER/MOVER" },
};
#define N_COLS G_N_ELEMENTS(columns)

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

/* Text from the daemon goes to a terminal: no control characters (an
 * escape in a tenant name must not drive the screen). */
static char *printable(const char *s)
{
	g_autofree char *valid = g_utf8_make_valid(s, -1);
	GString *out = g_string_new(NULL);

	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);

		if (g_unichar_iscntrl(ch))
			g_string_append_c(out, '?');
		else
			g_string_append_unichar(out, ch);
	}
	return g_string_free(out, FALSE);
}

static char *text_cell(json_object *vm, const char *key);

/* "soft-dirty/damos": who sees accesses, who moves pages */
static char *mover_cell(json_object *vm)
{
	g_autofree char *scanner = text_cell(vm, "scanner");
	g_autofree char *mover = text_cell(vm, "mover");

	return g_strdup_printf("%s/%s", scanner, mover);
}

static char *text_cell(json_object *vm, const char *key)
{
	json_object *v = member(vm, key);

	return json_object_is_type(v, json_type_string) ? printable(json_object_get_string(v))
							: g_strdup("-");
}

static gboolean is_number(json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static char *size_cell(json_object *vm, const char *key)
{
	json_object *v = member(vm, key);

	return is_number(v) ? vmt_size_format(json_object_get_uint64(v)) : g_strdup("-");
}

static char *moved_cell(json_object *vm)
{
	json_object *p = member(vm, "promoted_bytes"), *d = member(vm, "demoted_bytes");

	if (!is_number(p) || !is_number(d))
		return g_strdup("-");
	return vmt_size_format(json_object_get_uint64(p) + json_object_get_uint64(d));
}

/* A share (0..1) as a percentage, with a bar in front when BAR. */
static char *share_cell(json_object *vm, const char *key, gboolean bar)
{
	json_object *v = member(vm, key);
	double share;
	int filled;

	if (!is_number(v))
		return g_strdup("-");
	share = CLAMP(json_object_get_double(v), 0.0, 1.0);
	if (!bar)
		return g_strdup_printf("%.0f%%", share * 100);
	filled = (int)(share * BAR_WIDTH);	/* full only when all of it is */
	return g_strdup_printf("[%.*s%.*s] %3.0f%%", filled, "##########",
			       BAR_WIDTH - filled, "----------", share * 100);
}

static gsize text_width(const char *s)
{
	return g_utf8_strlen(s, -1);
}

/* CELLS: N_COLS per row, the titles first. */
static void append_table(GString *out, GPtrArray *cells)
{
	gsize width[N_COLS] = { 0 };

	for (guint i = 0; i < cells->len; i++)
		width[i % N_COLS] = MAX(width[i % N_COLS], text_width(cells->pdata[i]));
	for (guint i = 0; i < cells->len; i++) {
		const char *s = cells->pdata[i];
		guint col = i % N_COLS;
		gsize pad = width[col] - text_width(s);

		if (columns[col].right)
			g_string_append_printf(out, "%*s", (int)pad, "");
		g_string_append(out, s);
		if (col + 1 == N_COLS)
			g_string_append_c(out, '\n');
		else if (columns[col].right)
			g_string_append(out, "  ");
		else
			g_string_append_printf(out, "%*s", (int)pad + 2, "");
	}
}

static void append_vms(GString *out, json_object *reply, gboolean bars)
{
	g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
	json_object *vms = member(reply, "vms");
	gsize n = json_object_is_type(vms, json_type_array) ? json_object_array_length(vms) : 0;

	for (guint c = 0; c < N_COLS; c++)
		g_ptr_array_add(cells, g_strdup(columns[c].title));
	for (gsize i = 0; i < n; i++) {
		json_object *vm = json_object_array_get_idx(vms, i);

		g_ptr_array_add(cells, text_cell(vm, "name"));
		g_ptr_array_add(cells, text_cell(vm, "tenant"));
		g_ptr_array_add(cells, text_cell(vm, "class"));
		g_ptr_array_add(cells, text_cell(vm, "state"));
		g_ptr_array_add(cells, size_cell(vm, "quota_bytes"));
		g_ptr_array_add(cells, size_cell(vm, "dram_bytes"));
		g_ptr_array_add(cells, size_cell(vm, "slow_bytes"));
		g_ptr_array_add(cells, size_cell(vm, "hot_bytes"));
		g_ptr_array_add(cells, share_cell(vm, "hot_coverage", bars));
		g_ptr_array_add(cells, share_cell(vm, "dram_access_share", FALSE));
		g_ptr_array_add(cells, moved_cell(vm));
		g_ptr_array_add(cells, mover_cell(vm));
	}
	append_table(out, cells);
	for (gsize i = 0; i < n; i++) {
		json_object *vm = json_object_array_get_idx(vms, i), *e = member(vm, "last_error");
		g_autofree char *name = text_cell(vm, "name"), *msg = NULL;
		g_autofree char *sensor = text_cell(vm, "sensor");

		/* why the access figures show "-" */
		if (strcmp(sensor, "blind") == 0) {
			g_autofree char *why = text_cell(vm, "sensor_note");

			g_string_append_printf(out, "%s: sensor blind, access figures unknown: %s\n",
					       name, why);
		}
		if (strcmp(sensor, "ranking") == 0 && member(vm, "share_note")) {
			g_autofree char *why = text_cell(vm, "share_note");

			g_string_append_printf(out, "%s: DRAM access share unknown: %s\n", name, why);
		}
		if (!e)
			continue;
		msg = printable(json_object_is_type(e, json_type_string) ? json_object_get_string(e)
				: json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
		g_string_append_printf(out, "%s: last error: %s\n", name, msg);
	}
}

/* "2024-05-01 12:00:03  vmtierd 0.1.0, up 1h02m" */
static void append_header(GString *out, json_object *reply)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *when = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
	json_object *daemon = member(reply, "daemon"), *up = member(daemon, "uptime_s");
	g_autofree char *version = text_cell(daemon, "version");

	g_string_append_printf(out, "%s  vmtierd %s", when, version);
	if (is_number(up)) {
		guint64 s = json_object_get_uint64(up);

		if (s >= 86400)
			g_string_append_printf(out, ", up %" G_GUINT64_FORMAT "d%02uh", s / 86400, (guint)(s % 86400 / 3600));
		else if (s >= 3600)
			g_string_append_printf(out, ", up %uh%02um", (guint)(s / 3600), (guint)(s % 3600 / 60));
		else if (s >= 60)
			g_string_append_printf(out, ", up %um%02us", (guint)(s / 60), (guint)(s % 60));
		else
			g_string_append_printf(out, ", up %us", (guint)s);
	}
	g_string_append_c(out, '\n');
}

typedef struct {
	const char *socket;
	const char *name;
	gboolean json, watch, tty;
	guint done, count;
	int status;
	GMainLoop *loop;
	guint tick;
} Status;

/* One request and its output.  FALSE: stop watching. */
static gboolean status_refresh(Status *st)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	json_object *req = json_object_new_object(), *reply;

	json_object_object_add(req, "cmd", json_object_new_string("status"));
	if (st->name)
		json_object_object_add(req, "name", json_object_new_string(st->name));
	reply = vmt_ctl_request(st->socket, req, REQUEST_TIMEOUT_MS, &error);
	st->done++;
	if (!reply) {
		fprintf(stderr, "vmtier status: %s\n", error->message);
		st->status = VMT_EXIT_FAILURE;
		/* a wrong NAME or socket shows at once; later a daemon restart is waited out */
		return st->watch && st->done > 1 && st->done != st->count;
	}
	st->status = VMT_EXIT_OK;
	json_object_object_del(reply, "ok");
	if (st->json) {
		g_string_append_printf(out, "%s\n", json_object_to_json_string_ext(reply,
				       JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		if (st->watch && st->tty)
			g_string_append(out, "\033[H\033[J");	/* home, clear to the end */
		else if (st->done > 1)
			g_string_append_c(out, '\n');
		if (st->watch) {
			append_header(out, reply);
			if (st->tty)
				g_string_append_c(out, '\n');
		}
		append_vms(out, reply, st->watch && st->tty);
	}
	json_object_put(reply);
	fputs(out->str, stdout);
	fflush(stdout);
	return st->watch && st->done != st->count;
}

static gboolean on_tick(gpointer data)
{
	Status *st = data;

	if (status_refresh(st))
		return G_SOURCE_CONTINUE;
	st->tick = 0;
	g_main_loop_quit(st->loop);
	return G_SOURCE_REMOVE;
}

static gboolean on_sigint(gpointer data)
{
	Status *st = data;

	g_main_loop_quit(st->loop);
	return G_SOURCE_CONTINUE;
}

int vmt_cmd_status(int argc, char **argv)
{
	g_autofree char *socket = NULL;
	gboolean json = FALSE, watch = FALSE;
	g_autofree char *path = NULL;
	double interval = 2;
	int count = 0;
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the daemon's reply as JSON", NULL },
		{ "watch", 'w', 0, G_OPTION_ARG_NONE, &watch, "Refresh until interrupted", NULL },
		{ "interval", 'i', 0, G_OPTION_ARG_DOUBLE, &interval, "Seconds between refreshes (default 2)", "SECONDS" },
		{ "count", 'n', 0, G_OPTION_ARG_INT, &count, "With --watch: stop after N refreshes", "N" },
		{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket, "vmtierd's control socket (default: below)", "PATH" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("[NAME] - show what vmtierd is doing");
	Status st = { 0 };
	guint sigint;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"One row per guest: its DRAM quota, where its memory is (DRAM, slow), the hot\n"
		"set, how much of it DRAM holds (COVERAGE), the share of accesses that hit DRAM,\n"
		"and the bytes migrated.  --watch redraws the screen on a terminal; otherwise\n"
		"it prints one timestamped table per refresh.  With --watch, errors after the\n"
		"first refresh are shown and the watch goes on.\n"
		"Sizes are binary (MiB, GiB); --json gives bytes and shares from 0 to 1.\n"
		"The socket: --socket, $VMTIER_SOCKET, vmtierd.conf's socket, else\n"
		VMT_RUNSTATEDIR "/vmtierd.sock.\n"
		"Example: vmtier status --watch --interval 5\n"
		"Exit status: 0 ok, 1 vmtierd cannot be reached or refused (an unknown NAME;\n"
		"with --watch, the last refresh failed), 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "status", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc > 2) {
		fprintf(stderr, "vmtier status: unexpected argument '%s'\n", argv[2]);
		return VMT_EXIT_USAGE;
	}
	if (!(interval >= 0.01 && interval <= 86400)) {
		fprintf(stderr, "vmtier status: --interval must be 0.01 to 86400 seconds, not %g\n", interval);
		return VMT_EXIT_USAGE;
	}
	if (count < 0 || (count && !watch)) {
		fprintf(stderr, "vmtier status: %s\n", count < 0 ? "--count must not be negative" :
			"--count goes with --watch");
		return VMT_EXIT_USAGE;
	}
	path = vmt_cli_shared_path("status", socket, VMT_CLI_SOCKET);
	st = (Status){ .socket = path,
		       .name = argc == 2 ? argv[1] : NULL, .json = json, .watch = watch,
		       .tty = isatty(STDOUT_FILENO), .count = (guint)count };
	if (!status_refresh(&st))
		return st.status;
	st.loop = g_main_loop_new(NULL, FALSE);
	st.tick = g_timeout_add((guint)(interval * 1000), on_tick, &st);
	sigint = g_unix_signal_add(SIGINT, on_sigint, &st);
	g_main_loop_run(st.loop);
	g_main_loop_unref(st.loop);
	g_clear_handle_id(&st.tick, g_source_remove);
	g_source_remove(sigint);
	return st.status;
}

int vmt_cmd_set(int argc, char **argv)
{
	g_autofree char *socket = NULL, *dram = NULL, *path = NULL;
	GOptionEntry entries[] = {
		{ "dram", 0, 0, G_OPTION_ARG_STRING, &dram, "New DRAM quota (binary units: 512M, 2G)", "SIZE" },
		{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket, "vmtierd's control socket (default: below)", "PATH" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("NAME --dram SIZE - change a running guest's DRAM quota");
	g_autoptr(GError) error = NULL;
	json_object *req, *reply, *msg;
	guint64 bytes;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"vmtierd moves the guest's pages to fit the new quota on its next passes.\n"
		"The socket: --socket, $VMTIER_SOCKET, vmtierd.conf's socket, else\n"
		VMT_RUNSTATEDIR "/vmtierd.sock.\n"
		"Example: vmtier set web1 --dram 4G\n"
		"Exit status: 0 ok, 1 vmtierd cannot be reached or refused, 64 bad command line.\n");
	if (!vmt_cli_parse(ctx, "set", &argc, &argv))
		return VMT_EXIT_USAGE;
	if (argc != 2 || !dram) {
		fprintf(stderr, "vmtier set: %s\n", argc > 2 ? "give one VM NAME" :
			argc < 2 ? "give a VM NAME" : "--dram SIZE is required");
		return VMT_EXIT_USAGE;
	}
	if (!vmt_size_parse(dram, &bytes, &error)) {
		g_autofree char *prefix = g_strdup_printf("bad size '%s': ", dram);
		const char *why = g_str_has_prefix(error->message, prefix) ?
				  error->message + strlen(prefix) : error->message;

		fprintf(stderr, "vmtier set: invalid --dram '%s': %s\n", dram, why);
		return VMT_EXIT_USAGE;
	}
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("set"));
	json_object_object_add(req, "name", json_object_new_string(argv[1]));
	json_object_object_add(req, "dram_bytes", json_object_new_uint64(bytes));
	path = vmt_cli_shared_path("set", socket, VMT_CLI_SOCKET);
	reply = vmt_ctl_request(path, req, SET_TIMEOUT_MS, &error);
	if (!reply) {
		fprintf(stderr, "vmtier set: %s\n", error->message);
		return VMT_EXIT_FAILURE;
	}
	msg = member(reply, "message");
	if (json_object_is_type(msg, json_type_string)) {
		g_autofree char *text = printable(json_object_get_string(msg));
		fprintf(stderr, "%s\n", text);
	}
	json_object_put(reply);
	return VMT_EXIT_OK;
}
