// SPDX-License-Identifier: GPL-2.0-or-later
/* The QMP client against a real QEMU running tests/guest: life-cycle events
 * arrive, and QEMU dying in the middle of a command is a clean error.
 * TCG always; KVM too where /dev/kvm works (the tiny guest runs under it). */
#include "qmp-client.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *guest_elf;

typedef struct {
	GPid pid;
	char *dir, *qmp;
} Qemu;

static Qemu *qemu_start(const char *accel)
{
	Qemu *q = g_new0(Qemu, 1);
	g_autofree char *qmp_arg = NULL;
	g_autoptr(GError) error = NULL;

	q->dir = g_dir_make_tmp("vmt-qemu-XXXXXX", NULL);
	q->qmp = g_build_filename(q->dir, "qmp", NULL);
	qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", q->qmp);
	const char *argv[] = {
		"qemu-system-x86_64", "-accel", accel, "-nodefaults", "-display", "none",
		"-m", "160M", "-smp", "1",
		"-object", "memory-backend-ram,id=m0,size=64M",
		"-object", "memory-backend-ram,id=m1,size=96M",
		"-numa", "node,nodeid=0,cpus=0,memdev=m0", "-numa", "node,nodeid=1,memdev=m1",
		"-kernel", guest_elf, "-append", "mem=32M base=80M time=0",
		"-qmp", qmp_arg, NULL,
	};
	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
		G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
		NULL, NULL, &q->pid, &error));
	g_assert_no_error(error);
	for (int i = 0; i < 100 && !g_file_test(q->qmp, G_FILE_TEST_EXISTS); i++)
		g_usleep(50000);
	return q;
}

static int qemu_reap(Qemu *q)
{
	int status = -1;

	g_assert_cmpint(waitpid(q->pid, &status, 0), ==, q->pid);
	g_spawn_close_pid(q->pid);
	unlink(q->qmp);
	rmdir(q->dir);
	g_free(q->qmp);
	g_free(q->dir);
	g_free(q);
	return status;
}

typedef struct {
	GPtrArray *events;
	gboolean closed;
	char *closed_msg;
} Seen;

static void on_event(VmtQmpClient *c, const char *ev, json_object *data, gpointer user)
{
	Seen *s = user;
	json_object *reason;

	if (data && json_object_object_get_ex(data, "reason", &reason))
		g_ptr_array_add(s->events, g_strdup_printf("%s:%s", ev, json_object_get_string(reason)));
	else
		g_ptr_array_add(s->events, g_strdup(ev));
}

static void on_closed(VmtQmpClient *c, const GError *e, gpointer user)
{
	Seen *s = user;

	s->closed = TRUE;
	s->closed_msg = g_strdup(e->message);
}

static const char *status_of(VmtQmpClient *c)
{
	g_autoptr(GError) error = NULL;
	json_object *r = vmt_qmp_client_execute_sync(c, "query-status", NULL, 5000, &error), *v;
	static char buf[32];

	g_assert_no_error(error);
	g_assert_true(json_object_object_get_ex(r, "status", &v));
	g_strlcpy(buf, json_object_get_string(v), sizeof(buf));
	json_object_put(r);
	return buf;
}

static guint open_fds(void)
{
	g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;

	while (d && g_dir_read_name(d))
		n++;
	return n;
}

/* vmtierd connects per poll, thousands of times a day: a sync client must
 * give its socket back when dropped (it once kept it while its last read
 * was pending, and the daemon ran out of file descriptors) */
static void test_sync_reconnects_keep_no_fds(void)
{
	Qemu *q = qemu_start("tcg");
	guint before = 0;

	for (guint i = 0; i < 200; i++) {
		g_autoptr(GError) error = NULL;
		VmtQmpClient *c = vmt_qmp_client_open_sync(q->qmp, 10000, &error);

		g_assert_no_error(error);
		g_assert_cmpint(vmt_qmp_client_peer_pid(c), ==, q->pid);
		g_assert_cmpstr(status_of(c), ==, "running");
		vmt_qmp_client_unref(c);
		if (i == 0)
			before = open_fds();
	}
	g_assert_cmpuint(open_fds(), <=, before);
	kill(q->pid, SIGTERM);
	qemu_reap(q);
}

static void lifecycle(const char *accel)
{
	Qemu *q = qemu_start(accel);
	g_autoptr(GError) error = NULL;
	VmtQmpClient *c = vmt_qmp_client_open_sync(q->qmp, 10000, &error);
	Seen s = { g_ptr_array_new_with_free_func(g_free) };
	int status;

	g_assert_no_error(error);
	vmt_qmp_client_add_event_func(c, NULL, on_event, &s);
	vmt_qmp_client_set_closed_func(c, on_closed, &s);
	g_assert_cmpstr(status_of(c), ==, "running");
	json_object_put(vmt_qmp_client_execute_sync(c, "stop", NULL, 5000, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(status_of(c), ==, "paused");
	json_object_put(vmt_qmp_client_execute_sync(c, "cont", NULL, 5000, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(status_of(c), ==, "running");
	json_object_put(vmt_qmp_client_execute_sync(c, "quit", NULL, 5000, &error));
	g_assert_no_error(error);
	/* the socket closes after quit: a command now gets the close */
	g_assert_null(vmt_qmp_client_execute_sync(c, "query-status", NULL, 5000, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED);
	g_assert_cmpuint(s.events->len, ==, 3);
	g_assert_cmpstr(s.events->pdata[0], ==, "STOP");
	g_assert_cmpstr(s.events->pdata[1], ==, "RESUME");
	g_assert_cmpstr(s.events->pdata[2], ==, "SHUTDOWN:host-qmp-quit");
	g_assert_true(s.closed);
	vmt_qmp_client_unref(c);
	status = qemu_reap(q);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_ptr_array_unref(s.events);
	g_free(s.closed_msg);
}

static void test_lifecycle_tcg(void)
{
	lifecycle("tcg");
}

static void test_lifecycle_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		g_test_skip("no usable /dev/kvm here");
		return;
	}
	close(fd);
	lifecycle("kvm");
}

static gpointer kill_later(gpointer pid)
{
	g_usleep(300000);
	kill(GPOINTER_TO_INT(pid), SIGKILL);
	return NULL;
}

static void test_killed_mid_command(void)
{
	Qemu *q = qemu_start("tcg");
	g_autoptr(GError) error = NULL;
	VmtQmpClient *c = vmt_qmp_client_open_sync(q->qmp, 10000, &error);
	int status;

	g_assert_no_error(error);
	/* frozen QEMU: the command is sent and cannot be answered; QEMU is
	 * killed 300 ms later, while the client waits for the reply */
	kill(q->pid, SIGSTOP);
	g_thread_unref(g_thread_new("killer", kill_later, GINT_TO_POINTER(q->pid)));
	g_assert_null(vmt_qmp_client_execute_sync(c, "query-memdev", NULL, 10000, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED);
	g_assert_false(vmt_qmp_client_is_ready(c));
	vmt_qmp_client_unref(c);
	status = qemu_reap(q);
	g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_no_greeting_timeout(void)
{
	/* a socket that accepts but never greets: the connect times out */
	g_autofree char *dir = g_dir_make_tmp("vmt-qemu-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "qmp", NULL);
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
	g_autoptr(GSocket) listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_socket_bind(listener, addr, TRUE, NULL));
	g_assert_true(g_socket_listen(listener, NULL));
	g_assert_null(vmt_qmp_client_open_sync(path, 300, &error));
	g_assert_error(error, VMT_QMP_ERROR, VMT_QMP_ERROR_CLOSED);
	g_assert_nonnull(strstr(error->message, "no QMP greeting"));
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	guest_elf = g_getenv("VMTIER_GUEST_ELF");
	g_assert_nonnull(guest_elf);
	g_test_add_func("/qmp-qemu/lifecycle-tcg", test_lifecycle_tcg);
	g_test_add_func("/qmp-qemu/lifecycle-kvm", test_lifecycle_kvm);
	g_test_add_func("/qmp-qemu/killed-mid-command", test_killed_mid_command);
	g_test_add_func("/qmp-qemu/sync-reconnects-keep-no-fds", test_sync_reconnects_keep_no_fds);
	g_test_add_func("/qmp-qemu/no-greeting-timeout", test_no_greeting_timeout);
	return g_test_run();
}
