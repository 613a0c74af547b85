// SPDX-License-Identifier: GPL-2.0-or-later
/* The TLB flusher (host-flush.h) on this process's own threads: QEMU's
 * vCPU thread ids are checked against /proc, a move keeps the thread's
 * mask, a thread allowed on one CPU is reported pinned, not moved. */
#include "error.h"
#include "host-flush.h"

#include <gio/gio.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
	gint tid;
	gint stop;
} Spinner;

static gpointer spin(gpointer data)
{
	Spinner *s = data;

	g_atomic_int_set(&s->tid, (gint)syscall(SYS_gettid));
	while (!g_atomic_int_get(&s->stop))
		g_usleep(100);
	return NULL;
}

static int start_spinner(Spinner *s, GThread **t)
{
	*t = g_thread_new("spin", spin, s);
	while (!g_atomic_int_get(&s->tid))
		g_usleep(100);
	return s->tid;
}

static void test_check_tids(void)
{
	g_autoptr(GArray) tids = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GError) error = NULL;
	int pid = getpid();

	g_assert_false(vmt_host_flush_check_tids(pid, tids, &error));
	g_assert_nonnull(strstr(error->message, "no vCPU threads"));
	g_clear_error(&error);
	g_array_append_val(tids, pid);
	g_assert_true(vmt_host_flush_check_tids(pid, tids, &error));
	/* pid 1's thread is not one of ours: QEMU lying about its threads */
	g_array_append_vals(tids, &(int){ 1 }, 1);
	g_assert_false(vmt_host_flush_check_tids(pid, tids, &error));
	g_assert_nonnull(strstr(error->message, "vCPU thread 1,"));
}

static void test_move(void)
{
	Spinner s = { 0 };
	GThread *t;
	int tid = start_spinner(&s, &t);
	cpu_set_t before, after, one;
	gboolean pinned;
	g_autoptr(GError) error = NULL;
	int first = -1;
	g_autofree char *task = NULL;

	g_assert_cmpint(sched_getaffinity(tid, sizeof(before), &before), ==, 0);
	if (CPU_COUNT(&before) < 2) {
		g_test_skip("this process may run on one CPU only");
	} else {
		g_assert_true(vmt_host_flush_thread(getpid(), tid, &pinned, &error));
		g_assert_no_error(error);
		g_assert_false(pinned);
		g_assert_cmpint(sched_getaffinity(tid, sizeof(after), &after), ==, 0);
		g_assert_true(CPU_EQUAL(&before, &after));
		/* allowed on one CPU: reported, left alone */
		for (int c = 0; first < 0 && c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &before))
				first = c;
		CPU_ZERO(&one);
		CPU_SET(first, &one);
		g_assert_cmpint(sched_setaffinity(tid, sizeof(one), &one), ==, 0);
		g_assert_true(vmt_host_flush_thread(getpid(), tid, &pinned, &error));
		g_assert_true(pinned);
		g_assert_cmpint(sched_getaffinity(tid, sizeof(after), &after), ==, 0);
		g_assert_true(CPU_EQUAL(&one, &after));
	}
	g_atomic_int_set(&s.stop, 1);
	g_thread_join(t);
	/* gone: not moved, an error.  The join returns when the thread clears
	 * its tid, a moment before the kernel releases the task: until then
	 * it still takes an affinity (seen once, with the machine loaded) */
	task = g_strdup_printf("/proc/self/task/%d", tid);
	for (int i = 0; i < 2000 && g_file_test(task, G_FILE_TEST_EXISTS); i++)
		g_usleep(1000);
	g_assert_false(vmt_host_flush_thread(getpid(), tid, &pinned, &error));
	g_assert_error(error, VMT_ERROR, VMT_ERROR_GUEST_GONE);
}

static void test_flusher(void)
{
	Spinner s = { 0 };
	GThread *t;
	g_autoptr(GArray) tids = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(VmtFlusher) f = vmt_host_flush_new(1000, 100);
	VmtFlushStats st = { 0 };
	guint64 done = 0;

	g_array_append_vals(tids, &(int){ start_spinner(&s, &t) }, 1);
	g_assert_false(vmt_host_flush_take(f, "g", &st));
	vmt_host_flush_set_guest(f, "g", getpid(), tids);
	for (guint i = 0; i < 20000 && done + st.pinned < 5; i++) {
		g_usleep(1000);
		vmt_flush_stats_clear(&st);
		g_assert_true(vmt_host_flush_take(f, "g", &st));
		done += st.flushes;
	}
	g_assert_cmpuint(st.n_vcpus, ==, 1);
	g_assert_cmpuint(st.failures, ==, 0);
	g_assert_true(done >= 5 || st.pinned == 1);
	vmt_flush_stats_clear(&st);
	vmt_host_flush_set_guest(f, "g", getpid(), NULL);
	g_assert_false(vmt_host_flush_take(f, "g", &st));
	g_atomic_int_set(&s.stop, 1);
	g_thread_join(t);
}

/* voluntary context switches of this process's thread named NAME so far */
static guint64 thread_switches(const char *name)
{
	g_autoptr(GDir) d = g_dir_open("/proc/self/task", 0, NULL);
	const char *tid;

	g_assert_nonnull(d);
	while ((tid = g_dir_read_name(d))) {
		g_autofree char *comm_path = g_strdup_printf("/proc/self/task/%s/comm", tid);
		g_autofree char *status_path = g_strdup_printf("/proc/self/task/%s/status", tid);
		g_autofree char *comm = NULL, *status = NULL;
		const char *v;

		if (!g_file_get_contents(comm_path, &comm, NULL, NULL) || strcmp(g_strchomp(comm), name) != 0)
			continue;
		g_assert_true(g_file_get_contents(status_path, &status, NULL, NULL));
		v = strstr(status, "voluntary_ctxt_switches:");
		g_assert_nonnull(v);
		return g_ascii_strtoull(v + strlen("voluntary_ctxt_switches:"), NULL, 10);
	}
	g_assert_not_reached();
}

/* with no guest the flusher sleeps until one comes: at 100 us a period it
 * would wake 2000 times in 200 ms */
static void test_idle(void)
{
	g_autoptr(VmtFlusher) f = vmt_host_flush_new(100, 100);
	guint64 s0;

	g_usleep(20000);
	s0 = thread_switches("vmt-flush");
	g_usleep(200000);
	g_assert_cmpuint(thread_switches("vmt-flush") - s0, <, 10);
}

/* the flusher's CPU bound: a round costing more than its share of the
 * period asked for stretches it, never shortens it */
static void test_effective_period(void)
{
	guint asked = 5000;

	g_assert_cmpuint(vmt_host_flush_effective_period(asked, 10, 0), ==, asked);
	g_assert_cmpuint(vmt_host_flush_effective_period(asked, 10, -7), ==, asked);
	g_assert_cmpuint(vmt_host_flush_effective_period(asked, 10, 500), ==, asked);
	/* 32 vCPUs at 50 us a move: 1.6 ms a round, 16 ms at 10%, 3.2 at 50% */
	g_assert_cmpuint(vmt_host_flush_effective_period(asked, 10, 1600), ==, 16000);
	g_assert_cmpuint(vmt_host_flush_effective_period(asked, 50, 1600), ==, asked);
	g_assert_cmpuint(vmt_host_flush_effective_period(asked, 50, 4000), ==, 8000);
	g_assert_cmpuint(vmt_host_flush_effective_period(asked, 10, G_MAXINT64 / 200), ==, G_MAXUINT / 2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/flush/check-tids", test_check_tids);
	g_test_add_func("/flush/move", test_move);
	g_test_add_func("/flush/effective-period", test_effective_period);
	g_test_add_func("/flush/flusher", test_flusher);
	g_test_add_func("/flush/idle", test_idle);
	return g_test_run();
}
