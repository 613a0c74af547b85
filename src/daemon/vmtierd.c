// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd: the tiering daemon.  A GMainLoop with signal sources; the scan
 * timers, QMP watches and control socket hang off this loop. */
#define G_LOG_DOMAIN "vmtierd"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "sysfs.h"

#include <errno.h>
#include <glib-unix.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
	GMainLoop *loop;
	VmtDaemon *daemon;
	int exit_code;
} Main;

/* systemd's readiness protocol (sd_notify(3)), without libsystemd: one
 * datagram to $NOTIFY_SOCKET, a path or, with a leading '@', an abstract
 * name.  Nothing to do when not started by systemd. */
static void notify(const char *state)
{
	const char *path = g_getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		g_debug("NOTIFY_SOCKET %s: %s", path, g_strerror(errno));
	close(fd);
}

static gboolean on_quit_signal(gpointer data)
{
	Main *d = data;

	g_message("signal received, stopping");
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_hup(gpointer data)
{
	Main *m = data;
	g_autoptr(GError) error = NULL;

	if (vmt_daemon_reload(m->daemon, &error))
		g_message("SIGHUP: configuration reloaded");
	else
		g_warning("SIGHUP: keeping the old configuration: %s", error->message);
	return G_SOURCE_CONTINUE;
}

static gboolean on_oneshot(gpointer data)
{
	Main *d = data;

	g_main_loop_quit(d->loop);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	gboolean version = FALSE, oneshot = FALSE, debug = FALSE, check = FALSE;
	g_autofree char *config = NULL;
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config, "Configuration file (default " VMT_SYSCONFDIR "/vmtier/vmtierd.conf)", "FILE" },
		{ "check-config", 0, 0, G_OPTION_ARG_NONE, &check, "Check the configuration and the class files, start nothing (exit 0 good, 78 bad)", NULL },
		{ "oneshot", 0, 0, G_OPTION_ARG_NONE, &oneshot, "One discover, one window, one account, then exit (for tests)", NULL },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "Log debug messages", NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- vmtier tiering daemon");
	g_autoptr(GError) error = NULL;
	Main d = { 0 };
	g_autoptr(VmtDaemonConfig) cfg = NULL;
	int n_classes;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Keeps each vmtier guest's hot 2 MiB chunks in DRAM, up to its quota\n"
		"(vmtierd.conf(5): intervals in ms and us, rates in MiB/s, sizes binary).\n"
		"SIGHUP rereads the policy and limits; SIGTERM accounts and exits.\n"
		"Example: vmtierd --check-config -c " VMT_SYSCONFDIR "/vmtier/vmtierd.conf\n"
		"Exit status: 0 stopped by a signal (or a good --check-config), 1 cannot\n"
		"start, 64 bad command line, 78 bad configuration (vmtierd.conf, a class\n"
		"file, socket_group).\n");
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "vmtierd: %s\n", error->message);
		return 64;
	}
	if (version) {
		puts(VMT_VERSION);
		return EXIT_SUCCESS;
	}
	vmt_log_setup("vmtierd", debug);
	/* the real host only: $VMTIER_HOST_ROOT (the CLI's and the tests'
	 * captured trees) would let whoever sets vmtierd's environment fake
	 * /proc/PID/cgroup, which vouches for a QMP peer */
	vmt_sysfs_set_root("/");

	/* the same checks with --check-config (the unit's ExecStartPre) as
	 * at start, so that one passes what the other starts with */
	cfg = vmt_daemon_config_load(config ? config : vmt_daemon_config_default_path(), config != NULL,
				     &error);
	if (!cfg || !vmt_daemon_config_check(cfg, &n_classes, &error)) {
		fprintf(stderr, "vmtierd: %s\n", error->message);
		return 78;	/* EX_CONFIG */
	}
	if (check) {
		g_autofree char *dir = vmt_daemon_class_dir(cfg);

		if (cfg->path)
			printf("vmtierd: %s is good", cfg->path);
		else
			printf("vmtierd: no %s: the defaults", vmt_daemon_config_default_path());
		if (n_classes < 0)
			printf("; no class directory %s\n", dir);
		else
			printf("; %d class file%s in %s\n", n_classes, n_classes == 1 ? "" : "s", dir);
		return EXIT_SUCCESS;
	}
	d.daemon = vmt_daemon_new(g_steal_pointer(&cfg), &error);
	if (d.daemon && oneshot)
		vmt_daemon_set_oneshot(d.daemon, on_oneshot, &d);
	if (!d.daemon || !vmt_daemon_start(d.daemon, &error)) {
		fprintf(stderr, "vmtierd: %s\n", error->message);
		vmt_daemon_free(d.daemon);
		return EXIT_FAILURE;
	}
	d.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_quit_signal, &d);
	g_unix_signal_add(SIGINT, on_quit_signal, &d);
	g_unix_signal_add(SIGHUP, on_hup, &d);

	g_message("vmtierd %s started", VMT_VERSION);
	/* the control socket listens: `systemctl start vmtierd && vmtier
	 * status` does not race */
	notify("READY=1");
	g_main_loop_run(d.loop);
	notify("STOPPING=1");
	vmt_daemon_free(d.daemon);
	g_main_loop_unref(d.loop);
	g_message("vmtierd stopped");
	return d.exit_code;
}
