// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd: the tiering daemon.  A GMainLoop with signal sources; the scan
 * timers, QMP watches and control socket hang off this loop. */
#define G_LOG_DOMAIN "vmtierd"
#include "config.h"
#include "log.h"

#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
	GMainLoop *loop;
	int exit_code;
} VmtDaemon;

static gboolean on_quit_signal(gpointer data)
{
	VmtDaemon *d = data;

	g_message("signal received, stopping");
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_hup(gpointer data)
{
	g_message("SIGHUP: no configuration file to reload in this version");
	return G_SOURCE_CONTINUE;
}

static gboolean on_oneshot(gpointer data)
{
	VmtDaemon *d = data;

	g_message("oneshot: one pass done, exiting");
	g_main_loop_quit(d->loop);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	gboolean version = FALSE, oneshot = FALSE, debug = FALSE;
	GOptionEntry entries[] = {
		{ "oneshot", 0, 0, G_OPTION_ARG_NONE, &oneshot, "Run one pass and exit (for tests)", NULL },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "Log debug messages", NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- vmtier tiering daemon");
	g_autoptr(GError) error = NULL;
	VmtDaemon d = { 0 };

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "vmtierd: %s\n", error->message);
		return 64;
	}
	if (version) {
		puts(VMT_VERSION);
		return EXIT_SUCCESS;
	}
	vmt_log_setup("vmtierd", debug);

	d.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_quit_signal, &d);
	g_unix_signal_add(SIGINT, on_quit_signal, &d);
	g_unix_signal_add(SIGHUP, on_hup, NULL);
	if (oneshot)
		g_idle_add(on_oneshot, &d);

	g_message("vmtierd %s started", VMT_VERSION);
	g_main_loop_run(d.loop);
	g_main_loop_unref(d.loop);
	g_message("vmtierd stopped");
	return d.exit_code;
}
