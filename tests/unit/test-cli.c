// SPDX-License-Identifier: GPL-2.0-or-later
/* The vmtier and vmtierd binaries as a user runs them: version, help, bad
 * commands, JSON output, and the daemon's start/stop on signals. */
#include "config.h"

#include <glib.h>
#include <json-c/json.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *vmtier_bin, *vmtierd_bin;

static int run(const char *const *argv, char **out, char **err)
{
	g_autoptr(GError) error = NULL;
	int status = -1;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
				   NULL, out, err, &status, &error));
	g_assert_no_error(error);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_version(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { vmtier_bin, "--version", NULL };

	g_assert_cmpint(run(argv, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, VMT_VERSION "\n");
}

static void test_version_json(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { vmtier_bin, "version", "--json", NULL };
	json_object *o, *v;

	g_assert_cmpint(run(argv, &out, &err), ==, 0);
	o = json_tokener_parse(out);
	g_assert_nonnull(o);
	g_assert_true(json_object_object_get_ex(o, "version", &v));
	g_assert_cmpstr(json_object_get_string(v), ==, VMT_VERSION);
	json_object_put(o);
}

static void test_help(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { vmtier_bin, "--help", NULL };

	g_assert_cmpint(run(argv, &out, &err), ==, 0);
	g_assert_true(g_str_has_prefix(out, "usage: vmtier "));
	g_assert_nonnull(strstr(out, "\n  version "));
	g_assert_nonnull(strstr(out, "Exit status:"));
}

/* `vmtier help CMD [SUB]` is `vmtier CMD [SUB] --help`, usage line and all */
static void test_help_command(void)
{
	static const char *const cmds[][2] = { { "define", NULL }, { "host", "online" }, { "status", NULL } };

	for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
		g_autofree char *out = NULL, *err = NULL, *want = NULL, *werr = NULL;
		const char *help[] = { vmtier_bin, "help", cmds[i][0], cmds[i][1], NULL };
		const char *direct[] = { vmtier_bin, cmds[i][0], cmds[i][1] ? cmds[i][1] : "--help",
					 cmds[i][1] ? "--help" : NULL, NULL };
		g_autofree char *usage = g_strdup_printf("Usage:\n  vmtier %s%s%s [OPTION", cmds[i][0],
							 cmds[i][1] ? " " : "", cmds[i][1] ? cmds[i][1] : "");

		g_assert_cmpint(run(help, &out, &err), ==, 0);
		g_assert_cmpint(run(direct, &want, &werr), ==, 0);
		g_assert_cmpstr(out, ==, want);
		g_assert_true(g_str_has_prefix(out, usage));
		g_assert_nonnull(strstr(out, "\nExit status: "));
	}
	{
		g_autofree char *out = NULL, *err = NULL;
		const char *argv[] = { vmtier_bin, "help", "frobnicate", NULL };

		g_assert_cmpint(run(argv, &out, &err), ==, 64);
		g_assert_cmpstr(err, ==, "vmtier help: unknown command 'frobnicate' (see 'vmtier --help')\n");
	}
}

/* status, set and report find vmtierd's socket and history store where
 * vmtierd.conf puts them ($VMTIER_CONFIG), unless told otherwise */
static void test_shared_config(void)
{
	g_autofree char *dir = g_dir_make_tmp("vmtier-conf-XXXXXX", NULL);
	g_autofree char *conf = g_build_filename(dir, "vmtierd.conf", NULL);
	g_autofree char *text = g_strdup_printf("[daemon]\nsocket=%s/conf.sock\nhistory_db=%s/conf.db\n"
						"class_dir=%s/classes\n", dir, dir, dir);
	/* CMD's error names FILE (in DIR) after WHAT; ENV set to DIR/env */
	static const struct { const char *argv[5], *env, *file, *what; int rc; } cases[] = {
		{ { "status" }, NULL, "conf.sock", "cannot reach vmtierd at " },
		{ { "set", "x", "--dram", "2G" }, NULL, "conf.sock", "cannot reach vmtierd at " },
		{ { "report" }, NULL, "conf.db", ": no such file" },
		{ { "status" }, "VMTIER_SOCKET", "env", "cannot reach vmtierd at " },
		{ { "report" }, "VMTIER_HISTORY_DB", "env", ": no such file" },
		/* the classes vmtierd judges by: a class the daemon has not is refused */
		{ { "define", "x", "--dram", "16M" }, NULL, "classes/gold.conf", "no class 'gold' (no ", 64 },
		{ { "adopt", "x", "--dram", "16M" }, NULL, "classes/gold.conf", "no class 'gold' (no ", 64 },
	};

	g_assert_true(g_file_set_contents(conf, text, -1, NULL));
	g_setenv("VMTIER_CONFIG", conf, TRUE);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = NULL, *err = NULL, *env = g_build_filename(dir, "env", NULL);
		g_autofree char *path = g_build_filename(dir, cases[i].file, NULL);
		const char *argv[8] = { vmtier_bin };

		memcpy(argv + 1, cases[i].argv, sizeof cases[i].argv);
		if (strstr(cases[i].file, "classes")) {	/* ... --class gold */
			guint n = 1;

			while (argv[n])
				n++;
			argv[n] = "--class";
			argv[n + 1] = "gold";
		}
		g_unsetenv("VMTIER_SOCKET");
		g_unsetenv("VMTIER_HISTORY_DB");
		if (cases[i].env)
			g_setenv(cases[i].env, env, TRUE);
		g_assert_cmpint(run(argv, &out, &err), ==, cases[i].rc ? cases[i].rc : 1);
		g_assert_nonnull(strstr(err, path));
		g_assert_nonnull(strstr(err, cases[i].what));
	}
	g_unsetenv("VMTIER_SOCKET");
	g_unsetenv("VMTIER_HISTORY_DB");
	g_unsetenv("VMTIER_CONFIG");
	g_unlink(conf);
	g_rmdir(dir);
}

static void test_unknown_command(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { vmtier_bin, "frobnicate", NULL };

	g_assert_cmpint(run(argv, &out, &err), ==, 64);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpstr(err, ==, "vmtier: unknown command 'frobnicate' (see 'vmtier --help')\n");
}

static void test_bad_option(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { vmtier_bin, "version", "--colour", NULL };

	g_assert_cmpint(run(argv, &out, &err), ==, 64);
	g_assert_nonnull(strstr(err, "--colour"));
	g_assert_null(strchr(strchr(err, '\n') + 1, '\n'));	/* one line */
}

static void test_no_command(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { vmtier_bin, NULL };

	g_assert_cmpint(run(argv, &out, &err), ==, 64);
	g_assert_true(g_str_has_prefix(err, "usage: vmtier "));
}

/* The libvirt URI as virsh takes it: `vmtier -c URI COMMAND`, then
 * $LIBVIRT_DEFAULT_URI (libvirt's test driver: nothing of this machine's) */
static void test_uri(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *global[] = { vmtier_bin, "-c", "test:///default", "list", NULL };
	const char *eq[] = { vmtier_bin, "--connect=test:///default", "list", "--json", NULL };
	const char *env[] = { vmtier_bin, "list", NULL };
	const char *none[] = { vmtier_bin, "-c", NULL };

	g_assert_cmpint(run(global, &out, &err), ==, 0);
	g_assert_true(g_str_has_prefix(out, "NAME "));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run(eq, &out, &err), ==, 0);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_setenv("LIBVIRT_DEFAULT_URI", "test:///default", TRUE);
	g_assert_cmpint(run(env, &out, &err), ==, 0);
	g_unsetenv("LIBVIRT_DEFAULT_URI");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run(none, &out, &err), ==, 64);
	g_assert_cmpstr(err, ==, "vmtier: -c needs a libvirt URI\n");
}

/* What the user typed wrong exits 64, naming it */
static void test_usage_errors(void)
{
	static const struct { const char *a, *b, *c, *want; } cases[] = {
		{ "--dram", "16M", NULL, "give both --dram and --pmem" },
		{ "--dram", "16GB", "--pmem", "bad size '16GB': GB is ambiguous" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = NULL, *err = NULL;
		const char *argv[] = { vmtier_bin, "-c", "test:///default", "define", "x", cases[i].a,
				       cases[i].b, cases[i].c, cases[i].c ? "1G" : NULL, NULL };

		g_assert_cmpint(run(argv, &out, &err), ==, 64);
		g_assert_nonnull(strstr(err, cases[i].want));
	}
}

static gboolean on_timeout(gpointer data)
{
	g_error("timed out waiting for vmtierd");
	return G_SOURCE_REMOVE;
}

/* Read the daemon's stderr until a line containing `want`; append to log. */
static void wait_for_line(GIOChannel *ch, const char *want, GString *log)
{
	guint t = g_timeout_add_seconds(10, on_timeout, NULL);

	for (;;) {
		g_autofree char *line = NULL;
		GIOStatus s = g_io_channel_read_line(ch, &line, NULL, NULL, NULL);

		g_assert_cmpint(s, !=, G_IO_STATUS_ERROR);
		if (s == G_IO_STATUS_EOF)
			g_error("vmtierd closed stderr before '%s'; log:\n%s", want, log->str);
		if (line)
			g_string_append(log, line);
		if (line && strstr(line, want))
			break;
	}
	g_source_remove(t);
}

/* A configuration that keeps the daemon inside a temporary directory and
 * on libvirt's test driver, so it touches nothing of this machine. */
static char *daemon_config(const char *extra)
{
	static char *dir;
	g_autofree char *text = NULL;
	char *path;

	if (!dir)
		dir = g_dir_make_tmp("vmtierd-XXXXXX", NULL);
	text = g_strdup_printf("[daemon]\nsocket=%s/sock\nstate_dir=%s\nqmp_dir=%s\n"
			       "history_db=%s/history.db\nlibvirt_uri=test:///default\n%s",
			       dir, dir, dir, dir, extra);
	path = g_build_filename(dir, "vmtierd.conf", NULL);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static void test_daemon_sigterm(void)
{
	g_autofree char *conf = daemon_config("");
	const char *argv[] = { vmtierd_bin, "--config", conf, NULL };
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) log = g_string_new(NULL);
	GIOChannel *ch;
	GPid pid;
	int errfd, status;

	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
		G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL, NULL, &errfd, &error));
	g_assert_no_error(error);
	ch = g_io_channel_unix_new(errfd);
	g_io_channel_set_close_on_unref(ch, TRUE);
	wait_for_line(ch, "started", log);
	kill(pid, SIGHUP);		/* must not stop it */
	wait_for_line(ch, "SIGHUP", log);
	kill(pid, SIGTERM);
	wait_for_line(ch, "vmtierd stopped", log);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_io_channel_unref(ch);
	g_spawn_close_pid(pid);
}

static void test_daemon_oneshot(void)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *conf = daemon_config("");
	const char *argv[] = { vmtierd_bin, "--config", conf, "--oneshot", NULL };

	g_assert_cmpint(run(argv, &out, &err), ==, 0);
	g_assert_nonnull(strstr(err, "started"));
	/* a whole pass, not just the start */
	g_assert_nonnull(strstr(err, "oneshot: discover, window and account done"));
	g_assert_nonnull(strstr(err, "vmtierd stopped"));
}

/* Under systemd (Type=notify) vmtierd says READY=1 once its control socket
 * listens, and STOPPING=1 on its way out. */
static void test_daemon_notify(void)
{
	g_autofree char *conf = daemon_config("");
	g_autofree char *dir = g_path_get_dirname(conf);
	g_autofree char *path = g_build_filename(dir, "notify", NULL);
	g_autofree char *sock = NULL;
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { vmtierd_bin, "--config", conf, "--oneshot", NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[64];
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_setenv("NOTIFY_SOCKET", path, TRUE);
	g_assert_cmpint(run(argv, &out, &err), ==, 0);
	g_unsetenv("NOTIFY_SOCKET");
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	g_assert_cmpint(n, >, 0);
	buf[n] = '\0';
	g_assert_cmpstr(buf, ==, "READY=1");
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	g_assert_cmpint(n, >, 0);
	buf[n] = '\0';
	g_assert_cmpstr(buf, ==, "STOPPING=1");
	close(fd);
	g_unlink(path);
}

static void test_daemon_bad_config(void)
{
	struct {
		const char *extra, *want;
	} cases[] = {
		{ "colour=blue\n", "unknown key [daemon] colour" },
		{ "scan_interval_ms=fast\n", "scan_interval_ms: 'fast' is not a whole number" },
		{ "scanner=crystal-ball\n", "unknown scanner 'crystal-ball'" },
		{ "offload=gpu\n", "offload: unknown offload 'gpu' (none or damos)" },
		{ "offload=damos\nscanner=damon-vaddr\n", "cannot go with offload damos" },
		{ "dram_reserve=12X\n", "dram_reserve" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *conf = daemon_config(cases[i].extra);
		g_autofree char *out = NULL, *err = NULL;
		const char *argv[] = { vmtierd_bin, "--config", conf, "--oneshot", NULL };

		g_assert_cmpint(run(argv, &out, &err), ==, 78);
		g_assert_nonnull(strstr(err, cases[i].want));
		g_assert_nonnull(strstr(err, conf));
	}
	{
		g_autofree char *out = NULL, *err = NULL;
		const char *argv[] = { vmtierd_bin, "--config", "/nonexistent/vmtierd.conf", NULL };

		g_assert_cmpint(run(argv, &out, &err), ==, 78);
		g_assert_nonnull(strstr(err, "/nonexistent/vmtierd.conf"));
	}
}

static void test_daemon_bad_option(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { vmtierd_bin, "--bogus", NULL };

	g_assert_cmpint(run(argv, &out, &err), ==, 64);
	g_assert_nonnull(strstr(err, "--bogus"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	vmtier_bin = g_getenv("VMTIER");
	vmtierd_bin = g_getenv("VMTIERD");
	g_assert_nonnull(vmtier_bin);
	g_assert_nonnull(vmtierd_bin);
	g_test_add_func("/cli/version", test_version);
	g_test_add_func("/cli/version-json", test_version_json);
	g_test_add_func("/cli/help", test_help);
	g_test_add_func("/cli/help-command", test_help_command);
	g_test_add_func("/cli/shared-config", test_shared_config);
	g_test_add_func("/cli/unknown-command", test_unknown_command);
	g_test_add_func("/cli/bad-option", test_bad_option);
	g_test_add_func("/cli/no-command", test_no_command);
	g_test_add_func("/cli/uri", test_uri);
	g_test_add_func("/cli/usage-errors", test_usage_errors);
	g_test_add_func("/daemon/sigterm", test_daemon_sigterm);
	g_test_add_func("/daemon/oneshot", test_daemon_oneshot);
	g_test_add_func("/daemon/notify", test_daemon_notify);
	g_test_add_func("/daemon/bad-option", test_daemon_bad_option);
	g_test_add_func("/daemon/bad-config", test_daemon_bad_config);
	return g_test_run();
}
