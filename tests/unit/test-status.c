// SPDX-License-Identifier: GPL-2.0-or-later
/* `vmtier status` and `vmtier set` as a user runs them ($VMTIER), against a
 * control server (src/ctl/ctl.c) on this test's main loop answering from the
 * reply below, which is the daemon's documented status reply. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *vmtier_bin;

static const char status_reply[] =
	"{\"ok\":true,\"daemon\":{\"version\":\"0.1.0\",\"uptime_s\":12,\"scanner\":\"damon-vaddr\","
	"\"config\":\"/etc/vmtier/vmtierd.conf\"},\"vms\":["
	"{\"name\":\"budget-demo\",\"tenant\":\"acme\",\"class\":\"budget\",\"state\":\"tiering\","
	"\"pid\":1234,\"quota_bytes\":67108864,\"kmem_bytes\":469762048,\"dram_nodes\":\"0\","
	"\"slow_nodes\":\"2\",\"ram_bytes\":536870912,\"dram_bytes\":60817408,"
	"\"slow_bytes\":470000000,\"absent_bytes\":0,\"hot_bytes\":33554432,\"hot_coverage\":0.97,"
	"\"dram_access_share\":0.95,\"scanner\":\"damon-vaddr\",\"mover\":\"vmtierd\","
	"\"scan_interval_ms\":1000,"
	"\"windows\":42,\"promoted_bytes\":33554432,\"demoted_bytes\":30000000,\"migrations\":12,"
	"\"move_errors\":{\"busy\":0,\"access\":0,\"nomem\":0,\"other\":0},\"last_error\":null},"
	"{\"name\":\"web-1\",\"tenant\":\"globex\\u001b[2J\",\"class\":\"premium\",\"state\":\"error\","
	"\"pid\":1300,\"quota_bytes\":1073741824,\"ram_bytes\":2147483648,\"dram_bytes\":1073741824,"
	"\"slow_bytes\":1073741824,\"absent_bytes\":0,\"hot_bytes\":805306368,\"hot_coverage\":0.5,"
	"\"dram_access_share\":0.123,\"scanner\":\"soft-dirty\",\"mover\":\"damos\","
	"\"scan_interval_ms\":2000,"
	"\"windows\":3,\"promoted_bytes\":0,\"demoted_bytes\":0,\"migrations\":0,"
	"\"move_errors\":{\"busy\":2,\"access\":0,\"nomem\":0,\"other\":0},"
	"\"last_error\":\"move_pages: Device or resource busy\"}]}";

typedef struct {
	char *dir, *path;
	VmtCtlServer *server;
	json_object *reply;	/* status_reply, parsed */
	guint status_requests;
	guint fail_request;	/* this status request (1, 2, ...) fails */
	json_object *last_set;
} Fixture;

static json_object *vm_named(json_object *reply, const char *name)
{
	json_object *vms = json_object_object_get(reply, "vms");

	for (gsize i = 0; i < json_object_array_length(vms); i++) {
		json_object *vm = json_object_array_get_idx(vms, i);
		if (strcmp(json_object_get_string(json_object_object_get(vm, "name")), name) == 0)
			return vm;
	}
	return NULL;
}

static json_object *handler(json_object *req, const VmtCtlPeer *peer, gpointer user, GError **error)
{
	Fixture *f = user;
	const char *cmd = json_object_get_string(json_object_object_get(req, "cmd"));
	json_object *name = json_object_object_get(req, "name"), *reply, *vm, *vms;

	if (name && !vm_named(f->reply, json_object_get_string(name))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no VM named '%s'",
			    json_object_get_string(name));
		return NULL;
	}
	if (strcmp(cmd, "set") == 0) {
		json_object_put(f->last_set);
		f->last_set = json_object_get(req);
		reply = json_object_new_object();
		json_object_object_add(reply, "message", json_object_new_string("budget-demo: DRAM quota 64 MiB -> 128 MiB"));
		return reply;
	}
	g_assert_cmpstr(cmd, ==, "status");
	if (++f->status_requests == f->fail_request) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "restarting");
		return NULL;
	}
	reply = json_tokener_parse(status_reply);
	json_object_object_del(reply, "ok");	/* the server adds it */
	if (name) {
		vm = json_object_get(vm_named(reply, json_object_get_string(name)));
		vms = json_object_new_array();
		json_object_array_add(vms, vm);
		json_object_object_add(reply, "vms", vms);
	}
	return reply;
}

static void setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("vmtier-status-XXXXXX", &error);
	g_assert_no_error(error);
	g_assert_cmpint(chmod(f->dir, 0755), ==, 0);	/* for the unprivileged peer test */
	f->path = g_build_filename(f->dir, "vmtierd.sock", NULL);
	f->reply = json_tokener_parse(status_reply);
	f->server = vmt_ctl_server_new(f->path, (gid_t)-1, handler, f, &error);
	g_assert_no_error(error);
}

static void teardown(Fixture *f, gconstpointer data)
{
	vmt_ctl_server_free(f->server);
	g_assert_cmpint(g_rmdir(f->dir), ==, 0);
	json_object_put(f->last_set);
	json_object_put(f->reply);
	g_free(f->path);
	g_free(f->dir);
}

static void on_child_setup(gpointer data)
{
	if (data && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
		_exit(99);
}

static void on_exit_status(GObject *src, GAsyncResult *res, gpointer data)
{
	g_assert_true(g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL));
	*(gboolean *)data = TRUE;
}

/* Read FD to its end (a pty master: until EIO, when nothing holds the slave). */
static char *read_all(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	gssize n;

	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		g_string_append_len(s, buf, MAX(n, 0));
	close(fd);
	return g_string_free(s, FALSE);
}

/* Run vmtier with ARGS (NULL-ended), serving the socket meanwhile; OUT and
 * ERR get what it printed (it prints far less than a pipe holds, so they are
 * read once it is done).  STDOUT_FD: a terminal to print on instead of a
 * pipe.  NOBODY: as uid 65534.  SOCKET_ENV: $VMTIER_SOCKET for it. */
static int run_full(const char *const *args, char **out, char **err, int stdout_fd, gboolean nobody,
		    const char *socket_env)
{
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	int out_pipe[2], err_pipe[2];
	gboolean exited = FALSE;
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

	g_ptr_array_add(argv, (char *)vmtier_bin);
	for (; *args; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	g_assert_true(g_unix_open_pipe(out_pipe, FD_CLOEXEC, NULL));
	g_assert_true(g_unix_open_pipe(err_pipe, FD_CLOEXEC, NULL));
	g_subprocess_launcher_take_stdout_fd(l, stdout_fd >= 0 ? stdout_fd : out_pipe[1]);
	g_subprocess_launcher_take_stderr_fd(l, err_pipe[1]);
	g_subprocess_launcher_set_child_setup(l, on_child_setup, GINT_TO_POINTER(nobody), NULL);
	g_subprocess_launcher_setenv(l, "LC_ALL", "C", TRUE);
	if (socket_env)
		g_subprocess_launcher_setenv(l, "VMTIER_SOCKET", socket_env, TRUE);
	else
		g_subprocess_launcher_unsetenv(l, "VMTIER_SOCKET");
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_clear_object(&l);	/* closes our copies of the child's ends */
	if (stdout_fd >= 0)
		close(out_pipe[1]);
	g_subprocess_wait_async(p, NULL, on_exit_status, &exited);
	while (!exited) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
	*out = read_all(out_pipe[0]);
	*err = read_all(err_pipe[0]);
	g_assert_true(g_subprocess_get_if_exited(p));
	return g_subprocess_get_exit_status(p);
}

static int run(const char *const *args, char **out, char **err)
{
	return run_full(args, out, err, -1, FALSE, NULL);
}

/* The line of OUT that starts with PREFIX. */
static char *line_starting(const char *out, const char *prefix)
{
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

	for (char **l = lines; *l; l++)
		if (g_str_has_prefix(*l, prefix))
			return g_strdup(*l);
	return NULL;
}

/* LINE's columns (two spaces or more apart), joined by '|'. */
static char *columns_of(const char *line)
{
	g_auto(GStrv) cells = g_regex_split_simple(" {2,}", line, 0, 0);

	return g_strjoinv("|", cells);
}

/* Where the word WORD of LINE ends (columns right-aligned under a title). */
static long end_of(const char *line, const char *word)
{
	const char *p = strstr(line, word);

	g_assert_nonnull(p);
	return (long)(p - line) + (long)strlen(word);
}

static void test_table(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL, *head = NULL, *budget = NULL, *web = NULL;
	const char *args[] = { "status", "--socket", f->path, NULL };
	g_autofree char *titles = NULL, *row = NULL;

	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	head = line_starting(out, "NAME ");
	budget = line_starting(out, "budget-demo ");
	web = line_starting(out, "web-1 ");
	g_assert_nonnull(head);
	g_assert_nonnull(budget);
	g_assert_nonnull(web);
	g_assert_true(g_str_has_prefix(out, head));
	titles = columns_of(head);
	g_assert_cmpstr(titles, ==, "NAME|TENANT|CLASS|STATE|QUOTA|DRAM|SLOW|HOT|"
			"COVERAGE|DRAM-SHARE|MOVED|SCANNER/MOVER");
	/* quota 64 MiB, DRAM 58 MiB, slow 448 MiB, hot 32 MiB, 97 % of it in DRAM,
	 * 95 % of accesses hit DRAM, 32 MiB + 28.6 MiB moved */
	row = columns_of(budget);
	g_assert_cmpstr(row, ==, "budget-demo|acme|budget|tiering|64 MiB|58 MiB|"
			"448 MiB|32 MiB|97%|95%|60.6 MiB|damon-vaddr/vmtierd");
	g_assert_cmpint(end_of(budget, "97%"), ==, end_of(head, "COVERAGE"));
	g_assert_cmpint(end_of(web, "12%"), ==, end_of(head, "DRAM-SHARE"));
	g_assert_nonnull(strstr(web, " 0 B "));
	g_assert_true(g_str_has_suffix(web, " soft-dirty/damos"));
	/* no escape from the daemon reaches the terminal */
	g_assert_true(g_str_has_prefix(web, "web-1        globex?[2J  premium  error "));
	g_assert_null(strchr(out, '\033'));
	/* after the table, the one VM with an error */
	g_assert_nonnull(strstr(out, "\nweb-1: last error: move_pages: Device or resource busy\n"));
	g_assert_null(strstr(out, "budget-demo: last error"));
}

static void test_one_vm(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *args[] = { "status", "web-1", "--socket", f->path, NULL };

	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "\nweb-1 "));
	g_assert_null(strstr(out, "budget-demo"));
}

/* Without --socket: $VMTIER_SOCKET, else the installed default. */
static void test_socket_env(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
	const char *args[] = { "status", "budget-demo", NULL };

	g_assert_cmpint(run_full(args, &out, &err, -1, FALSE, f->path), ==, 0);
	g_assert_nonnull(strstr(out, "\nbudget-demo "));
	g_assert_cmpuint(f->status_requests, ==, 1);
	if (g_file_test(vmt_ctl_default_path(), G_FILE_TEST_EXISTS)) {
		g_test_message("a vmtierd socket exists here: not trying the default path");
		return;
	}
	g_assert_cmpint(run_full(args, &out2, &err2, -1, FALSE, NULL), ==, 1);
	g_assert_true(g_str_has_prefix(err2, "vmtier status: cannot reach vmtierd at /"));
	g_assert_nonnull(strstr(err2, "/vmtierd.sock: "));
}

static void test_json(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *args[] = { "status", "--json", "--socket", f->path, NULL };
	json_object *want = json_tokener_parse(status_reply), *got;
	g_auto(GStrv) lines = NULL;

	g_assert_cmpint(run(args, &out, &err), ==, 0);
	got = json_tokener_parse(out);
	g_assert_nonnull(got);
	json_object_object_del(want, "ok");
	/* the same members, in the order the daemon sent them */
	g_assert_cmpstr(json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN), ==,
			json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN));
	lines = g_strsplit(out, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), >, 20);	/* pretty */
	json_object_put(want);
	json_object_put(got);
}

static void test_unknown_vm(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *args[] = { "status", "nope", "--socket", f->path, NULL };

	g_assert_cmpint(run(args, &out, &err), ==, 1);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpstr(err, ==, "vmtier status: no VM named 'nope'\n");
}

static void test_no_daemon(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL, *missing = g_build_filename(f->dir, "gone.sock", NULL);
	g_autofree char *want = g_strdup_printf("vmtier status: cannot reach vmtierd at %s: "
						"No such file or directory\n", missing);
	const char *args[] = { "status", "--socket", missing, NULL };

	g_assert_cmpint(run(args, &out, &err), ==, 1);
	g_assert_cmpstr(err, ==, want);
}

static void test_watch_pipe(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *args[] = { "status", "--watch", "--count", "2", "--interval", "0.05",
			       "--socket", f->path, NULL };
	g_auto(GStrv) blocks = NULL;

	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpuint(f->status_requests, ==, 2);
	g_assert_null(strchr(out, '\033'));
	blocks = g_strsplit(out, "\n\n", -1);
	g_assert_cmpuint(g_strv_length(blocks), ==, 2);
	for (int i = 0; i < 2; i++) {
		g_test_message("refresh %d:\n%s", i, blocks[i]);
		g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  "
						   "vmtierd 0\\.1\\.0, up 12s\nNAME ", blocks[i], 0, 0));
		g_assert_nonnull(strstr(blocks[i], "\nbudget-demo "));
		g_assert_nonnull(strstr(blocks[i], "\nweb-1: last error: "));
	}
}

/* A failure after the first refresh is shown and the watch goes on; the
 * exit status is the last refresh's. */
static void test_watch_error(Fixture *f, gconstpointer data)
{
	const char *args[] = { "status", "--watch", "--count", "3", "--interval", "0.05",
			       "--socket", f->path, NULL };

	for (guint fail = 1; fail <= 3; fail++) {
		g_autofree char *out = NULL, *err = NULL;
		g_auto(GStrv) blocks = NULL;
		int status;

		f->status_requests = 0;
		f->fail_request = fail;
		status = run(args, &out, &err);
		g_test_message("request %u fails: exit %d", fail, status);
		g_assert_cmpstr(err, ==, "vmtier status: restarting\n");
		g_assert_cmpint(status, ==, fail == 2 ? 0 : 1);
		/* the first failing stops the watch at once */
		g_assert_cmpuint(f->status_requests, ==, fail == 1 ? 1 : 3);
		blocks = g_strsplit(out, "\n\n", -1);
		g_assert_cmpuint(fail == 1 ? strlen(out) : g_strv_length(blocks), ==, fail == 1 ? 0 : 2);
	}
}

static void test_watch_tty(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *args[] = { "status", "--watch", "--count", "2", "--interval", "0.05",
			       "--socket", f->path, NULL };
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
	g_autofree char *screen = NULL;

	g_assert_cmpint(master, >=, 0);
	g_assert_cmpint(grantpt(master), ==, 0);
	g_assert_cmpint(unlockpt(master), ==, 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	g_assert_cmpint(slave, >=, 0);
	g_assert_cmpint(run_full(args, &out, &err, slave, FALSE, NULL), ==, 0);
	screen = read_all(master);
	g_test_message("%s", screen);
	/* each refresh: home, clear, header, then the table with a bar per VM */
	g_assert_true(g_str_has_prefix(screen, "\033[H\033[J"));
	g_assert_nonnull(strstr(screen + 1, "\033[H\033[J"));
	g_assert_nonnull(strstr(screen, "vmtierd 0.1.0, up 12s"));
	g_assert_nonnull(strstr(screen, "[#########-]  97%"));
	g_assert_nonnull(strstr(screen, "[#####-----]  50%"));
}

static void test_set(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *args[] = { "set", "budget-demo", "--dram", "128M", "--socket", f->path, NULL };

	g_assert_cmpint(run(args, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "budget-demo: DRAM quota 64 MiB -> 128 MiB\n");
	g_assert_nonnull(f->last_set);
	g_assert_cmpstr(json_object_to_json_string_ext(f->last_set, JSON_C_TO_STRING_PLAIN), ==,
			"{\"cmd\":\"set\",\"name\":\"budget-demo\",\"dram_bytes\":134217728}");
}

static void test_set_errors(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL, *err2 = NULL, *err3 = NULL;
	const char *bad[] = { "set", "budget-demo", "--dram", "12X", "--socket", f->path, NULL };
	const char *unknown[] = { "set", "nope", "--dram", "1G", "--socket", f->path, NULL };
	const char *no_dram[] = { "set", "budget-demo", "--socket", f->path, NULL };

	g_assert_cmpint(run(bad, &out, &err), ==, 64);
	g_assert_true(g_str_has_prefix(err, "vmtier set: invalid --dram '12X': "));
	g_assert_cmpstr(strchr(err, '\n'), ==, "\n");	/* one line */
	g_assert_null(f->last_set);	/* nothing sent */
	g_free(out);
	g_assert_cmpint(run(unknown, &out, &err2), ==, 1);
	g_assert_cmpstr(err2, ==, "vmtier set: no VM named 'nope'\n");
	g_free(out);
	g_assert_cmpint(run(no_dram, &out, &err3), ==, 64);
	g_assert_cmpstr(err3, ==, "vmtier set: --dram SIZE is required\n");
}

/* The socket file's mode is the first wall; with it opened by mistake, the
 * peer check still refuses an ordinary user. */
static void test_peer_refused(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *args[] = { "status", "--socket", f->path, NULL };

	if (getuid() != 0) {
		g_test_skip("needs root to run vmtier as another user");
		return;
	}
	g_assert_cmpint(chmod(f->path, 0666), ==, 0);
	g_assert_cmpint(run_full(args, &out, &err, -1, TRUE, NULL), ==, 1);
	g_assert_cmpstr(err, ==, "vmtier status: permission denied: uid 65534 is neither root "
			"nor in the control group\n");
	g_assert_cmpuint(f->status_requests, ==, 0);
}

static void test_help(Fixture *f, gconstpointer data)
{
	const char *cmds[] = { "status", "set" };

	for (gsize i = 0; i < G_N_ELEMENTS(cmds); i++) {
		g_autofree char *out = NULL, *err = NULL;
		const char *args[] = { cmds[i], "--help", NULL };

		g_assert_cmpint(run(args, &out, &err), ==, 0);
		g_assert_nonnull(strstr(out, "Exit status: 0 ok, 1 "));
		g_assert_nonnull(strstr(out, "--socket"));
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	vmtier_bin = g_getenv("VMTIER");
	if (!vmtier_bin) {
		g_printerr("VMTIER is not set: run this through meson test\n");
		return 1;
	}
#define ADD(name, fn) g_test_add("/status/" name, Fixture, NULL, setup, fn, teardown)
	ADD("table", test_table);
	ADD("one-vm", test_one_vm);
	ADD("socket-env", test_socket_env);
	ADD("json", test_json);
	ADD("unknown-vm", test_unknown_vm);
	ADD("no-daemon", test_no_daemon);
	ADD("watch-pipe", test_watch_pipe);
	ADD("watch-error", test_watch_error);
	ADD("watch-tty", test_watch_tty);
	ADD("set", test_set);
	ADD("set-errors", test_set_errors);
	ADD("peer-refused", test_peer_refused);
	ADD("help", test_help);
#undef ADD
	return g_test_run();
}
