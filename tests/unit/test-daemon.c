// SPDX-License-Identifier: GPL-2.0-or-later
/* vmtierd in one process, as `vmtierd --oneshot` runs it: discover
 * (libvirt's test:/// driver holding a vmtier domain with the metadata
 * `vmtier define` writes), attach (the test plays its QEMU: the monitor of
 * fake-qmp.h, the peer pid and the guest RAM are the test's own), one scan
 * window with its moves, one account into a SQLite store and the metrics
 * file, and status over the real control socket.
 *
 * What stands in for the host, and why:
 * - the sysfs root (sysfs.h) is a tree of links to this machine's /sys and
 *   /proc, but for /proc/PID/cgroup, which names libvirt's machine cgroup
 *   of a domain id: attach checks the QMP peer's cgroup, unchanged;
 * - libvirt's pid file is in the test's directory (vmt_daemon_set_pid_dir);
 * - the scanner: this machine's kernel has no soft-dirty, page_idle or
 *   DAMON vaddr.  The guest RAM is registered with userfaultfd's
 *   asynchronous write protection, and the kernel's uffd-wp bit in
 *   /proc/self/pagemap tells the pages written since the last re-arm:
 *   soft-dirty's figure, from the kernel, under its name
 *   (vmt_daemon_set_collect);
 * - one NUMA node: the plan's slow node is node 0 as well, so the mover
 *   runs and finds every page already there: nothing moves, and the test
 *   says so.
 * The guest: 16 MiB in two cells, a DRAM quota of 8 MiB; before each of
 * the test scanner's scans (one a window) and on each query-status its
 * "vCPU" writes every page of chunks 1 and 5. */
#include "access.h"
#include "ctl.h"
#include "daemon.h"
#include "daemon-private.h"		/* the daemon's libvirt connection (/daemon/poll) */
#include "fake-qmp.h"
#include "history.h"
#include "host.h"
#include "sysfs.h"

#include <fcntl.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <linux/userfaultfd.h>
#include <numaif.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux 6.7's, newer than some distributions' headers */
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#define PM_UFFD_WP (G_GUINT64_CONSTANT(1) << 57)

#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define RAM (16 * MiB)
#define QUOTA (8 * MiB)
#define PAGE 4096u
#define NAME "inproc"
#define UUID "5c0a8d3e-2f41-4b7a-9e6d-1a2b3c4d5e6f"

static const guint hot_chunks[] = { 1, 5 };

typedef struct {
	char *dir, *sock;
	char *ram;
	Server *qemu;
	gint status_polls;		/* query-status answered */
	gint collects;			/* uffd_collect's scans: attach's, then one
					 * a window */
	GMainLoop *loop;
	GThread *asker;
	json_object *status;		/* status's reply when the daemon was done */
	GError *status_error;
	gboolean timed_out;
	char *stop_after;		/* without --oneshot: once this file exists,
					 * the next window's scan asks status and
					 * stops the daemon */
	gboolean stopping;
	GThreadFunc driver;		/* run beside the daemon, or NULL */
	VmtDaemon *daemon;
	guint polls_quiet, polls_paused, polls_resumed;	/* /daemon/poll/events's */
	guint64 windows_quiet;
	guint poll_delay_ms;		/* QEMU answers query-status this late,
					 * but for the first */
	guint64 windows_slow;		/* /daemon/poll/slow-qemu's */
	json_object *set_reply;		/* /daemon/set's */
	GError *set_error, *set_bad_error;
	char *metadata;			/* the domain's vmtier metadata after */
	gint64 locked_worst_us;		/* /daemon/account/locked-store's */
	guint locked_asked;
	gint64 locked_from, locked_until;	/* Unix s */
} Fixture;

/* the scanner has no user data */
static int uffd = -1;
static Fixture *scanned;

static void touch_hot(Fixture *f);

static json_object *status_request(Fixture *f, GError **error)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string("status"));
	return vmt_ctl_request(f->sock, req, 10000, error);
}

/* ---- the guest: RAM, its vCPU, the kernel's record of its writes ---- */

static gboolean write_protect(guint64 start, guint64 len, GError **error)
{
	struct uffdio_writeprotect wp = { .range = { start, len }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };

	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) == 0)
		return TRUE;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "UFFDIO_WRITEPROTECT: %s",
		    g_strerror(errno));
	return FALSE;
}

/* A window's scan begins (uffd_collect): the guest has run since the last,
 * and with F->stop_after there, status is asked and the daemon stopped */
static void window_scan(Fixture *f)
{
	touch_hot(f);
	g_atomic_int_inc(&f->collects);
	if (f->stop_after && !f->stopping && g_file_test(f->stop_after, G_FILE_TEST_EXISTS)) {
		f->stopping = TRUE;
		/* the main loop answers while the window waits on us */
		f->status = status_request(f, &f->status_error);
		g_main_loop_quit(f->loop);
	}
}

/* host-scan.h's bitmap scanner over the kernel's uffd-wp bits: a chunk's
 * figure is its pages written since the last call over all its pages;
 * re-arms by write-protecting the ranges again. */
static gboolean uffd_collect(int pid, const GArray *ranges, guint16 *freq, gboolean *valid,
			     GError **error)
{
	g_autofree guint64 *e = g_new(guint64, VMT_CHUNK_PAGES);
	int fd;

	if (pid != getpid()) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "pid %d is not the test's", pid);
		return FALSE;
	}
	window_scan(scanned);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	for (guint c = 0; c < vmt_ranges_n_chunks(ranges); c++) {
		guint64 start, len, written = 0;

		vmt_ranges_chunk(ranges, c, &start, &len);
		g_assert_cmpint(pread(fd, e, len / PAGE * 8, (off_t)(start / PAGE * 8)), ==,
				(gssize)(len / PAGE * 8));
		for (guint64 p = 0; p < len / PAGE; p++)
			written += !(e[p] & PM_UFFD_WP);
		freq[c] = (guint16)(written * VMT_ACCESS_MAX / (len / PAGE));
	}
	close(fd);
	for (guint i = 0; i < ranges->len; i++) {
		const VmtRange *r = &g_array_index(ranges, VmtRange, i);

		if (!write_protect(r->start, r->len, error))
			return FALSE;
	}
	*valid = TRUE;
	return TRUE;
}

/* The guest writes every page of its hot chunks */
static void touch_hot(Fixture *f)
{
	for (guint i = 0; i < G_N_ELEMENTS(hot_chunks); i++)
		for (guint64 off = 0; off < VMT_CHUNK_SIZE; off += PAGE)
			f->ram[hot_chunks[i] * VMT_CHUNK_SIZE + off]++;
}

/* The guest runs between two of QEMU's answers: the monitor's
 * query-status (a guest's first window asks it before the scan, for the
 * kernel's scanners; later ones come from poll threads at any time). */
static void vcpu(const char *key, gpointer data)
{
	Fixture *f = data;

	if (!g_str_has_prefix(key, "query-status\t"))
		return;
	if (f->poll_delay_ms && g_atomic_int_get(&f->status_polls) > 0)
		g_usleep(f->poll_delay_ms * 1000);
	touch_hot(f);
	g_atomic_int_inc(&f->status_polls);
}

/* Guest RAM as QEMU has it: mapped, every page touched (a booted guest's),
 * 4 KiB pages (no THP: uffd-wp and the figures go by page). */
static void map_ram(Fixture *f)
{
	f->ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g_assert_true(f->ram != MAP_FAILED);
	madvise(f->ram, RAM, MADV_NOHUGEPAGE);
	memset(f->ram, 1, RAM);
}

/* ... and its writes recorded by the kernel (uffd_collect) */
static gboolean guest_ram(Fixture *f)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED };
	struct uffdio_register reg;

	map_ram(f);
	scanned = f;
	/* user-mode only: allowed without privilege */
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	reg = (struct uffdio_register){ .range = { (guint64)(uintptr_t)f->ram, RAM },
					.mode = UFFDIO_REGISTER_MODE_WP };
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		g_test_skip_printf("userfaultfd's asynchronous write protection (Linux 6.7): %s",
				   g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* ---- the host as the daemon reads it ---- */

static void link_to(const char *target, const char *path)
{
	g_assert_cmpint(symlink(target, path), ==, 0);
}

/* DIR/root: /sys, and /proc but for this process's cgroup, which says
 * CGROUP. */
static void host_root(const char *dir, const char *cgroup)
{
	g_autofree char *root = g_build_filename(dir, "root", NULL);
	g_autofree char *proc = g_build_filename(root, "proc", NULL);
	g_autofree char *pid = g_strdup_printf("%d", getpid());
	g_autofree char *self = g_build_filename(proc, pid, NULL);
	g_autofree char *sys = g_build_filename(root, "sys", NULL);
	g_autofree char *cg = g_build_filename(self, "cgroup", NULL);
	g_autofree char *cg_text = g_strdup_printf("0::%s\n", cgroup);
	GDir *d;
	const char *name;

	g_assert_cmpint(g_mkdir_with_parents(self, 0700), ==, 0);
	link_to("/sys", sys);
	d = g_dir_open("/proc", 0, NULL);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *to = g_build_filename("/proc", name, NULL);
		g_autofree char *at = g_build_filename(proc, name, NULL);

		if (strspn(name, "0123456789") != strlen(name))
			link_to(to, at);
	}
	g_dir_close(d);
	d = g_dir_open("/proc/self", 0, NULL);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *to = g_build_filename("/proc", pid, name, NULL);
		g_autofree char *at = g_build_filename(self, name, NULL);

		if (strcmp(name, "cgroup") != 0)
			link_to(to, at);
	}
	g_dir_close(d);
	g_assert_true(g_file_set_contents(cg, cg_text, -1, NULL));
	vmt_sysfs_set_root(root);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* libvirt's test driver file: the guest, running (its id is 1), with its
 * plan as `vmtier define` writes it: DRAM on node 0, the slow tier on
 * SLOW (node 0 itself where it is the only one). */
static void libvirt_node(const char *dir, int slow)
{
	g_autofree char *xml = g_strdup_printf(
		"<node>\n<domain type='qemu'>\n  <name>" NAME "</name>\n  <uuid>" UUID "</uuid>\n"
		"  <metadata>\n"
		"    <vmtier:plan xmlns:vmtier='http://vmtier.dev/xmlns/plan/1'>\n"
		"      <vmtier:tenant>acme</vmtier:tenant>\n      <vmtier:class></vmtier:class>\n"
		"      <vmtier:dram_bytes>%" G_GUINT64_FORMAT "</vmtier:dram_bytes>\n"
		"      <vmtier:pmem_bytes>%" G_GUINT64_FORMAT "</vmtier:pmem_bytes>\n"
		"      <vmtier:backend>kmem</vmtier:backend>\n"
		"      <vmtier:pmem_policy>closest</vmtier:pmem_policy>\n"
		"      <vmtier:dram_nodes>0</vmtier:dram_nodes>\n"
		"      <vmtier:pmem_nodes>%d</vmtier:pmem_nodes>\n"
		"    </vmtier:plan>\n  </metadata>\n"
		"  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n  <vcpu>1</vcpu>\n"
		"  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
		"  <cpu><numa>\n"
		"    <cell id='0' cpus='0' memory='%" G_GUINT64_FORMAT "' unit='KiB'/>\n"
		"    <cell id='1' memory='%" G_GUINT64_FORMAT "' unit='KiB'/>\n"
		"  </numa></cpu>\n</domain>\n</node>\n",
		QUOTA, RAM - QUOTA, slow, RAM >> 10, QUOTA >> 10, (RAM - QUOTA) >> 10);

	write_file(dir, "node.xml", xml);
}

/* SCANNER: vmtierd.conf's; EXTRA: more [daemon] lines */
static void setup_with(Fixture *f, const char *cgroup, int libvirt_pid, int slow,
		       const char *scanner, const char *extra)
{
	g_autofree char *qmp = NULL, *run = NULL, *conf = NULL, *pid = NULL, *sock = NULL;
	FakeQmpRam rams[] = { { QUOTA, (guint64)(uintptr_t)f->ram },
			      { RAM - QUOTA, (guint64)(uintptr_t)f->ram + QUOTA } };

	f->dir = g_dir_make_tmp("vmt-daemon-XXXXXX", NULL);
	qmp = g_build_filename(f->dir, "qmp", NULL);
	run = g_build_filename(f->dir, "run", NULL);
	f->sock = g_build_filename(f->dir, "vmtierd.sock", NULL);
	g_assert_cmpint(g_mkdir(qmp, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(run, 0700), ==, 0);
	host_root(f->dir, cgroup);
	libvirt_node(f->dir, slow);
	pid = g_strdup_printf("%d\n", libvirt_pid);
	write_file(run, NAME ".pid", pid);
	/* QEMU's -qmp socket in vmtierd's qmp_dir, named after its profile */
	f->qemu = fake_qmp_qemu(rams, G_N_ELEMENTS(rams), G_MAXINT, vcpu, f);
	sock = g_build_filename(qmp, "libvirt-" UUID ".qmp", NULL);
	link_to(f->qemu->path, sock);
	conf = g_strdup_printf("[daemon]\nsocket=%s\nqmp_dir=%s/qmp\nstate_dir=%s/state\n"
			       "history_db=%s/history.db\nmetrics_file=%s/metrics.prom\n"
			       "libvirt_uri=test://%s/node.xml\nscanner=%s\n%s"
			       "[policy]\ndemote_windows=1\nmin_residency=0\n", f->sock, f->dir, f->dir, f->dir,
			       f->dir, f->dir, scanner, extra);
	write_file(f->dir, "vmtierd.conf", conf);
}

static void setup(Fixture *f, const char *cgroup, int libvirt_pid, int slow, const char *scanner)
{
	setup_with(f, cgroup, libvirt_pid, slow, scanner, "");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(Fixture *f, gconstpointer data)
{
	if (f->qemu)
		fake_qmp_stop(f->qemu);
	vmt_sysfs_set_root(NULL);
	/* FTW_PHYS: the links to /sys and /proc are removed, not followed */
	if (f->dir)
		g_assert_cmpint(nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
	g_free(f->dir);
	g_free(f->sock);
	g_free(f->stop_after);
	g_clear_pointer(&f->status, json_object_put);
	g_clear_error(&f->status_error);
	g_clear_pointer(&f->set_reply, json_object_put);
	g_clear_error(&f->set_error);
	g_clear_error(&f->set_bad_error);
	g_free(f->metadata);
	if (f->ram)
		munmap(f->ram, RAM);
	if (uffd >= 0)
		close(uffd);
	uffd = -1;
}

/* ---- the daemon ---- */

static gpointer ask_status(gpointer data)
{
	Fixture *f = data;

	f->status = status_request(f, &f->status_error);
	g_main_loop_quit(f->loop);
	return NULL;
}

/* --oneshot's end: ask status over the socket (the main loop answers it). */
static gboolean oneshot_done(gpointer data)
{
	Fixture *f = data;

	f->asker = g_thread_new("status", ask_status, f);
	return G_SOURCE_REMOVE;
}

static gboolean too_long(gpointer data)
{
	Fixture *f = data;

	f->timed_out = TRUE;
	g_main_loop_quit(f->loop);
	return G_SOURCE_REMOVE;
}

/* vmtierd (--oneshot if ONESHOT, else until F->stop_after) with its
 * configuration in F's directory, the test's pid files and COLLECT (NULL:
 * the configured scanner); F->status is what status said at the end. */
static void run_daemon(Fixture *f, VmtBitmapCollect collect, gboolean oneshot)
{
	g_autofree char *conf = g_build_filename(f->dir, "vmtierd.conf", NULL);
	g_autofree char *run = g_build_filename(f->dir, "run", NULL);
	g_autoptr(GError) error = NULL;
	VmtDaemonConfig *cfg = vmt_daemon_config_load(conf, TRUE, &error);
	GLogLevelFlags fatal;
	VmtDaemon *d;
	guint ceiling;

	g_assert_no_error(error);
	/* scanner=auto: where the kernel has none, vmtierd warns so (GTest
	 * makes warnings fatal) and the test brings its own */
	fatal = g_log_set_always_fatal(collect ? G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL :
					   G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	d = vmt_daemon_new(cfg, &error);
	g_log_set_always_fatal(fatal);
	g_assert_no_error(error);
	vmt_daemon_set_pid_dir(d, run);
	if (collect)
		vmt_daemon_set_collect(d, VMT_SCANNER_SOFT_DIRTY, collect);
	f->loop = g_main_loop_new(NULL, FALSE);
	if (oneshot)
		vmt_daemon_set_oneshot(d, oneshot_done, f);
	g_assert_true(vmt_daemon_start(d, &error));
	g_assert_no_error(error);
	f->daemon = d;
	if (f->driver)
		f->asker = g_thread_new("driver", f->driver, f);
	/* a generous ceiling: a loaded machine is slow, not wrong */
	ceiling = g_timeout_add_seconds(120, too_long, f);
	g_main_loop_run(f->loop);
	g_assert_false(f->timed_out);
	g_source_remove(ceiling);
	if (f->asker)
		g_thread_join(f->asker);
	vmt_daemon_free(d);
	g_main_loop_unref(f->loop);
	g_assert_no_error(f->status_error);
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	g_assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static guint64 u64(json_object *o, const char *key)
{
	return (guint64)json_object_get_int64(member(o, key));
}

static gboolean add_row(const VmtHistorySample *s, gpointer data, GError **error)
{
	VmtHistorySample *copy = g_memdup2(s, sizeof(*s));

	copy->vm = copy->tenant = copy->klass = copy->scanner = NULL;	/* borrowed */
	g_assert_cmpstr(s->vm, ==, NAME);
	g_assert_cmpstr(s->tenant, ==, "acme");
	g_assert_cmpstr(s->scanner, ==, "soft-dirty");
	g_ptr_array_add(data, copy);
	return TRUE;
}

/* The history's rows, and the guest's running totals in *T. */
static GPtrArray *history_rows(Fixture *f, VmtHistoryTotals *t)
{
	g_autofree char *db = g_build_filename(f->dir, "history.db", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(VmtHistory) h = vmt_history_open_readonly(db, &error);
	VmtHistoryQuery q = VMT_HISTORY_QUERY_INIT;
	GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);

	g_assert_no_error(error);
	g_assert_true(vmt_history_foreach(h, &q, add_row, rows, NULL, &error));
	g_assert_true(vmt_history_load_totals(h, NAME, t, &error));
	return rows;
}

/* The metrics file's line for NAME (and its labels) says WANT. */
static void check_metric(const char *text, const char *name, const char *want)
{
	g_autofree char *head = g_strdup_printf("\n%s", name);
	g_autofree char *value = NULL;
	const char *at = strstr(text, head);

	g_assert_nonnull(at);
	at = strchr(at + 1, ' ') + 1;
	value = g_strndup(at, strcspn(at, "\n"));
	g_assert_cmpstr(value, ==, want);
}

/* One discover, attach, window, move, account: what status, the history
 * and the metrics say is what happened to the test's memory. */
/* one window, its time split by phase: the phases within it, the QMP poll
 * (a round trip to the fake QEMU) taking some */
static void check_window_time(json_object *daemon)
{
	static const char *const phases[] = { "scan_s", "poll_s", "guests_s", "offload_s" };
	json_object *all = member(daemon, "window_time"), *last = member(daemon, "last_window");
	double sum = 0;

	g_test_message("daemon: %s", json_object_to_json_string(daemon));
	g_assert_cmpuint(u64(daemon, "windows"), ==, 1);
	g_assert_cmpfloat(json_object_get_double(member(all, "seconds")), ==,
			  json_object_get_double(member(last, "seconds")));
	for (guint i = 0; i < G_N_ELEMENTS(phases); i++) {
		double p = json_object_get_double(member(last, phases[i]));

		g_assert_cmpfloat(p, >=, 0);
		g_assert_cmpfloat(p, ==, json_object_get_double(member(all, phases[i])));
		sum += p;
	}
	g_assert_cmpfloat(json_object_get_double(member(last, "poll_s")), >, 0);
	g_assert_cmpfloat(sum, <=, json_object_get_double(member(last, "seconds")) + 1e-6);
}

static void test_oneshot(Fixture *f, gconstpointer data)
{
	g_autofree char *metrics_path = NULL, *metrics = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	json_object *vms, *vm, *errors;
	const VmtHistorySample *row;
	VmtHistoryTotals totals;

	if (!guest_ram(f))
		return;
	setup(f, "/machine.slice/machine-qemu\\x2d1\\x2d" NAME ".scope", getpid(), 0, "auto");
	run_daemon(f, uffd_collect, TRUE);

	/* exactly one window: one poll of QEMU */
	g_assert_cmpint(g_atomic_int_get(&f->status_polls), ==, 1);
	vms = member(f->status, "vms");
	g_assert_cmpuint(json_object_array_length(vms), ==, 1);
	vm = json_object_array_get_idx(vms, 0);
	g_test_message("status: %s", json_object_to_json_string(vm));
	g_assert_cmpstr(json_object_get_string(member(vm, "state")), ==, "tiering");
	g_assert_null(member(vm, "last_error"));
	g_assert_cmpint(json_object_get_int(member(vm, "pid")), ==, getpid());
	g_assert_cmpstr(json_object_get_string(member(vm, "tenant")), ==, "acme");
	g_assert_cmpstr(json_object_get_string(member(vm, "scanner")), ==, "soft-dirty");
	g_assert_cmpuint(u64(vm, "quota_bytes"), ==, QUOTA);
	/* the plan's nodes, which the hook counts its parts on (admission.h) */
	g_assert_cmpuint(u64(vm, "kmem_bytes"), ==, RAM - QUOTA);
	g_assert_cmpstr(json_object_get_string(member(vm, "dram_nodes")), ==, "0");
	g_assert_cmpstr(json_object_get_string(member(vm, "slow_nodes")), ==, "0");
	g_assert_cmpuint(u64(vm, "ram_bytes"), ==, RAM);
	g_assert_cmpuint(u64(vm, "windows"), ==, 1);
	/* the chunks the vCPU wrote, found by the one window (armed at attach) */
	g_assert_cmpuint(u64(vm, "hot_bytes"), ==, G_N_ELEMENTS(hot_chunks) * VMT_CHUNK_SIZE);
	g_assert_cmpfloat(json_object_get_double(member(vm, "hot_coverage")), ==, 1.0);
	/* all of it resident on node 0, this host's DRAM; the mover found the
	 * demotions' pages already on the "slow" node 0: nothing moved */
	g_assert_cmpuint(u64(vm, "dram_bytes"), ==, RAM);
	g_assert_cmpuint(u64(vm, "slow_bytes"), ==, 0);
	g_assert_cmpuint(u64(vm, "absent_bytes"), ==, 0);
	g_assert_cmpuint(u64(vm, "promoted_bytes"), ==, 0);
	g_assert_cmpuint(u64(vm, "demoted_bytes"), ==, 0);
	g_assert_cmpuint(u64(vm, "migrations"), ==, 0);
	g_assert_cmpuint(u64(vm, "max_chunk_moves"), ==, 0);
	/* vmtierd moved them itself, not the kernel */
	g_assert_cmpuint(u64(vm, "kernel_promoted_bytes") + u64(vm, "kernel_demoted_bytes"), ==, 0);
	errors = member(vm, "move_errors");
	g_assert_cmpuint(u64(errors, "busy") + u64(errors, "access") + u64(errors, "nomem") +
			 u64(errors, "other"), ==, 0);
	check_window_time(member(f->status, "daemon"));

	/* exactly one account: one history row, with the same figures */
	rows = history_rows(f, &totals);
	g_assert_cmpuint(rows->len, ==, 1);
	g_assert_cmpuint(totals.slo_met + totals.slo_missed + totals.slo_not_judged, ==, 1);
	g_assert_cmpuint(totals.windows, ==, 1);
	row = rows->pdata[0];
	g_assert_cmpuint(row->quota_bytes, ==, QUOTA);
	g_assert_cmpuint(row->ram_bytes, ==, RAM);
	g_assert_cmpuint(row->dram_bytes, ==, RAM);
	g_assert_cmpuint(row->hot_bytes, ==, G_N_ELEMENTS(hot_chunks) * VMT_CHUNK_SIZE);
	g_assert_cmpuint(row->promoted_bytes + row->demoted_bytes, ==, 0);
	/* the sums behind the fleet report: the row's interval, once */
	g_assert_cmpuint(totals.seconds, ==, row->interval_s);
	g_assert_cmpfloat(totals.dram_byte_seconds, ==, (double)row->interval_s * RAM);
	g_assert_cmpuint(totals.hot_observed_seconds, ==, row->interval_s);
	g_assert_cmpfloat(totals.hot_coverage_seconds, ==, row->interval_s * row->hot_coverage);

	/* and the metrics file it wrote */
	metrics_path = g_build_filename(f->dir, "metrics.prom", NULL);
	g_assert_true(g_file_get_contents(metrics_path, &metrics, NULL, NULL));
	check_metric(metrics, "vmtier_daemon_scan_windows_total", "1");
	check_metric(metrics, "vmtier_vm_scan_windows_total{", "1");
	check_metric(metrics, "vmtier_vm_hot_bytes{", "4194304");
	check_metric(metrics, "vmtier_vm_dram_quota_bytes{", "8388608");
	{
		g_autofree char *want = g_strdup_printf("%u", row->interval_s);

		check_metric(metrics, "vmtier_vm_accounted_seconds_total{", want);
	}
}

/* Where the test's RAM in [OFF, OFF+LEN) is, by move_pages' query: the
 * bytes on node SLOW, and on other nodes (this host's DRAM). */
static void where(Fixture *f, guint64 off, guint64 len, int slow, guint64 *fast, guint64 *on_slow)
{
	gsize n = len / PAGE;
	g_autofree void **pages = g_new(void *, n);
	g_autofree int *st = g_new(int, n);

	for (gsize i = 0; i < n; i++)
		pages[i] = f->ram + off + i * PAGE;
	g_assert_cmpint(move_pages(0, n, pages, NULL, st, 0), ==, 0);
	*fast = *on_slow = 0;
	for (gsize i = 0; i < n; i++) {
		if (st[i] == slow)
			*on_slow += PAGE;
		else if (st[i] >= 0)
			*fast += PAGE;
	}
}

/* A host with a slow tier and soft-dirty (the test host runs this as
 * testbed programs, where a skip fails): the same pass with
 * vmtierd's own scanner and real moves.  The cold chunks over the quota go
 * to the slow node, the hot ones stay, and status, the history and the
 * pages themselves agree. */
static void test_oneshot_tiered(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree char *demoted_text = NULL, *metrics_path = NULL, *metrics = NULL;
	VmtHost *h = vmt_host_load(&error);
	VmtHistoryTotals totals;
	guint64 fast, on_slow, demoted;
	gboolean soft_dirty;
	json_object *vm;
	int slow = -1;

	g_assert_no_error(error);
	for (guint i = 0; i < h->nodes->len; i++) {
		const VmtNode *n = h->nodes->pdata[i];

		if (n && slow < 0 && vmt_node_is_slow(n) && vmt_node_online_bytes(n) >= 64 * MiB)
			slow = n->id;
	}
	soft_dirty = h->soft_dirty;
	vmt_host_free(h);
	if (slow < 0 || !soft_dirty) {
		g_autofree char *why = g_strdup_printf("this host has %s: the test host runs this "
						       "(testbed programs)", slow < 0 ?
						       "no slow node" : "no soft-dirty");

		g_test_skip(why);
		return;
	}
	map_ram(f);
	setup(f, "/machine.slice/machine-qemu\\x2d1\\x2d" NAME ".scope", getpid(), slow,
	      "soft-dirty");
	run_daemon(f, NULL, TRUE);

	g_assert_cmpint(g_atomic_int_get(&f->status_polls), ==, 1);
	vm = json_object_array_get_idx(member(f->status, "vms"), 0);
	g_test_message("slow node %d; status: %s", slow, json_object_to_json_string(vm));
	g_assert_cmpstr(json_object_get_string(member(vm, "state")), ==, "tiering");
	g_assert_cmpuint(u64(vm, "windows"), ==, 1);
	g_assert_cmpuint(u64(vm, "hot_bytes"), ==, G_N_ELEMENTS(hot_chunks) * VMT_CHUNK_SIZE);
	/* what moved, against where the pages are */
	demoted = u64(vm, "demoted_bytes");
	where(f, 0, RAM, slow, &fast, &on_slow);
	g_test_message("pages: %" G_GUINT64_FORMAT " bytes in DRAM, %" G_GUINT64_FORMAT " on node %d",
		       fast, on_slow, slow);
	g_assert_cmpuint(demoted, >, 0);
	g_assert_cmpuint(demoted, ==, on_slow);
	g_assert_cmpuint(u64(vm, "slow_bytes"), ==, on_slow);
	g_assert_cmpuint(u64(vm, "dram_bytes"), ==, fast);
	g_assert_cmpuint(fast, <=, QUOTA);
	g_assert_cmpuint(u64(vm, "promoted_bytes"), ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(hot_chunks); i++) {
		where(f, hot_chunks[i] * VMT_CHUNK_SIZE, VMT_CHUNK_SIZE, slow, &fast, &on_slow);
		g_assert_cmpuint(on_slow, ==, 0);
	}
	/* the history and the metrics say the same */
	rows = history_rows(f, &totals);
	g_assert_cmpuint(rows->len, ==, 1);
	g_assert_cmpuint(((VmtHistorySample *)rows->pdata[0])->demoted_bytes, ==, demoted);
	g_assert_cmpuint(totals.demoted_bytes, ==, demoted);
	metrics_path = g_build_filename(f->dir, "metrics.prom", NULL);
	g_assert_true(g_file_get_contents(metrics_path, &metrics, NULL, NULL));
	demoted_text = g_strdup_printf("%" G_GUINT64_FORMAT, demoted);
	check_metric(metrics, "vmtier_vm_demoted_bytes_total{", demoted_text);
}

/* A QMP peer libvirt did not start for the guest is refused before
 * anything it says is believed, with the test's seams in place: the guest
 * is listed as attaching, with why, and nothing is measured. */
typedef struct {
	const char *cgroup;
	int pid;		/* in libvirt's pid file: 0 the test's, -1 none */
	const char *error;
} Impostor;

static const Impostor impostors[] = {
	{ "/machine.slice/machine-qemu\\x2d2\\x2dother.scope", 0,
	  "is not libvirt's machine cgroup of domain id 1" },
	{ "/machine.slice/machine-qemu\\x2d1\\x2d" NAME ".scope", 1,
	  "but libvirt's QEMU for " NAME " is pid 1" },
	{ "/machine.slice/machine-qemu\\x2d1\\x2d" NAME ".scope", -1,
	  "libvirt's QEMU pid for " NAME " is not known yet" },
};

static void test_impostor(Fixture *f, gconstpointer data)
{
	const Impostor *imp = data;
	g_autofree char *metrics_path = NULL, *metrics = NULL, *pidfile = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	VmtHistoryTotals totals;
	json_object *vm;

	map_ram(f);
	setup(f, imp->cgroup, imp->pid ? imp->pid : getpid(), 0, "auto");
	pidfile = g_build_filename(f->dir, "run", NAME ".pid", NULL);
	if (imp->pid < 0)
		g_assert_cmpint(g_unlink(pidfile), ==, 0);
	run_daemon(f, uffd_collect, TRUE);

	vm = json_object_array_get_idx(member(f->status, "vms"), 0);
	g_test_message("status: %s", json_object_to_json_string(vm));
	g_assert_cmpstr(json_object_get_string(member(vm, "state")), ==, "attaching");
	g_assert_nonnull(strstr(json_object_get_string(member(vm, "last_error")), imp->error));
	g_assert_cmpint(json_object_get_int(member(vm, "pid")), ==, -1);
	g_assert_cmpuint(u64(vm, "ram_bytes"), ==, 0);
	/* never measured: its access figures are unknown, not 0 */
	g_assert_null(member(vm, "hot_coverage"));
	g_assert_null(member(vm, "dram_access_share"));
	g_assert_cmpint(g_atomic_int_get(&f->status_polls), ==, 0);
	/* the window ran, without it; nothing was accounted for it */
	rows = history_rows(f, &totals);
	g_assert_cmpuint(rows->len, ==, 0);
	metrics_path = g_build_filename(f->dir, "metrics.prom", NULL);
	g_assert_true(g_file_get_contents(metrics_path, &metrics, NULL, NULL));
	check_metric(metrics, "vmtier_daemon_scan_windows_total", "1");
	g_assert_null(strstr(metrics, "vmtier_vm_hot_bytes{"));
}

/* A scanner the kernel lacks is refused at start, not run: soft-dirty
 * without the kernel's soft-dirty read every page idle, and vmtierd
 * demoted the hot set as cold. */
static void test_scanner_unavailable(Fixture *f, gconstpointer data)
{
	g_autofree char *conf = NULL, *self = NULL, *smaps = NULL;
	g_autoptr(GError) error = NULL;
	VmtDaemonConfig *cfg;

	map_ram(f);
	setup(f, "/", getpid(), 0, "soft-dirty");
	/* a kernel without it: no "sd" in any VmFlags */
	self = g_build_filename(f->dir, "root", "proc", "self", NULL);
	smaps = g_build_filename(self, "smaps", NULL);
	g_assert_cmpint(g_unlink(self), ==, 0);
	g_assert_cmpint(g_mkdir(self, 0700), ==, 0);
	g_assert_true(g_file_set_contents(smaps, "VmFlags: rd wr mr mw me ac \n", -1, NULL));
	conf = g_build_filename(f->dir, "vmtierd.conf", NULL);
	cfg = vmt_daemon_config_load(conf, TRUE, &error);
	g_assert_no_error(error);
	g_assert_null(vmt_daemon_new(cfg, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
	g_assert_cmpstr(error->message, ==,
			"scanner 'soft-dirty' is not available here (see `vmtier host check`)");
}

/* vmtierd's own loop, not --oneshot: a window every 100 ms, an account
 * every second.  The guest stops it in the middle of the first window
 * after an account: status answers while that window waits on QEMU, and
 * the account at stop takes in what that window measured. */
static void test_loop(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	VmtHistoryTotals totals;
	json_object *vm;
	guint windows;

	if (!guest_ram(f))
		return;
	/* poll_interval_s=0: QEMU asked every window, as without libvirt's
	 * events (on poll threads; the test counts windows by their scans) */
	setup_with(f, "/machine.slice/machine-qemu\\x2d1\\x2d" NAME ".scope", getpid(), 0, "auto",
		   "scan_interval_ms=100\nmin_interval_ms=100\nmax_interval_ms=100\n"
		   "account_interval_s=1\npoll_interval_s=0\n");
	f->stop_after = g_build_filename(f->dir, "metrics.prom", NULL);
	run_daemon(f, uffd_collect, FALSE);

	/* the scanner's scans: one at attach (arming it), then one a window */
	windows = (guint)g_atomic_int_get(&f->collects) - 1;
	vm = json_object_array_get_idx(member(f->status, "vms"), 0);
	g_test_message("%u windows, %d polls; status during the last: %s", windows,
		       g_atomic_int_get(&f->status_polls), json_object_to_json_string(vm));
	g_assert_cmpuint(windows, >=, 2);
	/* asked every window but the first's (asked in the window itself)
	 * and those while the last poll had not answered yet */
	g_assert_cmpint(g_atomic_int_get(&f->status_polls), >=, 2);
	g_assert_cmpstr(json_object_get_string(member(vm, "state")), ==, "tiering");
	/* the window under way is not counted yet */
	g_assert_cmpuint(u64(vm, "windows"), ==, windows - 1);
	g_assert_cmpuint(u64(vm, "hot_bytes"), ==, G_N_ELEMENTS(hot_chunks) * VMT_CHUNK_SIZE);
	/* every window in the history's totals, the last one too */
	rows = history_rows(f, &totals);
	g_assert_cmpuint(rows->len, >=, 1);
	g_assert_cmpuint(totals.windows, ==, windows);
	g_assert_cmpuint(((VmtHistorySample *)rows->pdata[rows->len - 1])->hot_bytes, ==,
			 G_N_ELEMENTS(hot_chunks) * VMT_CHUNK_SIZE);
}

/* status's windows of the guest, once it has been measured (0 before) */
static guint64 windows_now(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	json_object *st = status_request(f, &error);
	json_object *vms = st ? member(st, "vms") : NULL;
	guint64 n = vms && json_object_array_length(vms) ? u64(json_object_array_get_idx(vms, 0), "windows") : 0;

	json_object_put(st);
	return n;
}

/* until the guest has had AT_LEAST windows (the run's ceiling stops it),
 * its vCPU running meanwhile: polls no longer mark the windows */
static guint64 wait_windows(Fixture *f, guint64 at_least)
{
	guint64 n;

	while ((n = windows_now(f)) < at_least && !f->timed_out) {
		touch_hot(f);
		g_usleep(20000);
	}
	return n;
}

static gboolean domain_do(Fixture *f, int (*op)(virDomainPtr))
{
	virDomainPtr dom = virDomainLookupByName(f->daemon->conn, NAME);
	int rc = dom ? op(dom) : -1;

	if (dom)
		virDomainFree(dom);
	return rc == 0;
}

/* What the daemon's QEMU polls were: quiet windows, then after libvirt
 * says the guest paused, then resumed (libvirt's test driver sends the
 * lifecycle events, to the daemon's own connection). */
static gpointer poll_driver(gpointer data)
{
	Fixture *f = data;
	guint64 w;

	f->windows_quiet = wait_windows(f, 6);
	f->polls_quiet = (guint)g_atomic_int_get(&f->status_polls);
	w = f->windows_quiet;
	if (domain_do(f, virDomainSuspend)) {
		w = wait_windows(f, w + 3);
		f->polls_paused = (guint)g_atomic_int_get(&f->status_polls);
	}
	if (domain_do(f, virDomainResume)) {
		wait_windows(f, w + 3);
		f->polls_resumed = (guint)g_atomic_int_get(&f->status_polls);
	}
	f->status = status_request(f, &f->status_error);
	g_main_loop_quit(f->loop);
	return NULL;
}

/* The guest in 100 ms windows, EXTRA more [daemon] lines, DRIVER beside
 * the daemon (FALSE: skipped) */
static gboolean run_windows(Fixture *f, const char *extra, GThreadFunc driver)
{
	g_autofree char *conf = g_strconcat("scan_interval_ms=100\nmin_interval_ms=100\n"
					    "max_interval_ms=100\n", extra, NULL);

	if (!guest_ram(f))
		return FALSE;
	setup_with(f, "/machine.slice/machine-qemu\\x2d1\\x2d" NAME ".scope", getpid(), 0, "auto",
		   conf);
	f->driver = driver;
	run_daemon(f, uffd_collect, FALSE);
	return TRUE;
}

/* status at the end: the guest tiered, its hot chunks and only those hot */
static void assert_tiered(Fixture *f)
{
	json_object *vm = json_object_array_get_idx(member(f->status, "vms"), 0);

	g_assert_cmpstr(json_object_get_string(member(vm, "state")), ==, "tiering");
	g_assert_cmpuint(u64(vm, "hot_bytes"), ==, G_N_ELEMENTS(hot_chunks) * VMT_CHUNK_SIZE);
}

/* With libvirt's lifecycle events, QEMU is asked whether it runs on the
 * guest's first window and after each event, not every window (at 32
 * guests the polls were most of a window: bench/README.md, "Scale"). */
static void test_poll_events(Fixture *f, gconstpointer data)
{
	if (!run_windows(f, "poll_interval_s=3600\n", poll_driver))
		return;
	g_test_message("polls: %u in %" G_GUINT64_FORMAT " quiet windows, %u after pause, %u after resume",
		       f->polls_quiet, f->windows_quiet, f->polls_paused, f->polls_resumed);
	g_assert_cmpuint(f->windows_quiet, >=, 6);
	g_assert_cmpuint(f->polls_quiet, ==, 1);
	g_assert_cmpuint(f->polls_paused, ==, 2);
	g_assert_cmpuint(f->polls_resumed, ==, 3);
	/* the windows without a poll still tiered the guest */
	assert_tiered(f);
}

/* How many windows ran while QEMU answered 3 polls, each 1.5 s late */
static gpointer slow_driver(gpointer data)
{
	Fixture *f = data;
	guint64 w0 = wait_windows(f, 2);
	gint p0 = g_atomic_int_get(&f->status_polls);

	while (g_atomic_int_get(&f->status_polls) < p0 + 3 && !f->timed_out) {
		touch_hot(f);
		g_usleep(20000);
	}
	f->windows_slow = windows_now(f) - w0;
	f->status = status_request(f, &f->status_error);
	g_main_loop_quit(f->loop);
	return NULL;
}

/* A QEMU slow to answer (a busy monitor, starved for CPU; within the
 * QMP timeout) does not slow the guest's windows: they take its last
 * answer while a poll thread waits (when the window waited, at 32 guests
 * the polls were most of it: bench/README.md, "Scale", run 8). */
static void test_poll_slow_qemu(Fixture *f, gconstpointer data)
{
	f->poll_delay_ms = 1500;
	if (!run_windows(f, "poll_interval_s=0\n", slow_driver))
		return;
	g_test_message("%" G_GUINT64_FORMAT " windows in 3 polls of 1.5 s", f->windows_slow);
	/* a window waiting for its poll would have had 3 or 4 */
	g_assert_cmpuint(f->windows_slow, >=, 9);
	assert_tiered(f);
}

/* A QEMU starved for CPU answers polls 3 s late (at 32 guests on the test
 * host, greetings took over 2 s): still tiered, not "unresponsive" (as it
 * was with a poll timeout of 2 s). */
static void test_poll_starved_qemu(Fixture *f, gconstpointer data)
{
	f->poll_delay_ms = 3000;
	if (!run_windows(f, "poll_interval_s=0\n", slow_driver))
		return;
	g_test_message("%" G_GUINT64_FORMAT " windows in 3 polls of 3 s", f->windows_slow);
	assert_tiered(f);
}

static json_object *set_request(Fixture *f, guint64 bytes, GError **error)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string("set"));
	json_object_object_add(req, "name", json_object_new_string(NAME));
	json_object_object_add(req, "dram_bytes", json_object_new_int64((gint64)bytes));
	return vmt_ctl_request(f->sock, req, 10000, error);
}

/* `vmtier set` once the guest is tiered: a quota it refuses, then half the
 * quota; the domain's metadata after, as libvirt has it */
static gpointer set_driver(gpointer data)
{
	Fixture *f = data;
	virDomainPtr dom;

	wait_windows(f, 1);
	json_object_put(set_request(f, 3 * MiB, &f->set_bad_error));
	f->set_reply = set_request(f, QUOTA / 2, &f->set_error);
	dom = virDomainLookupByName(f->daemon->conn, NAME);
	if (dom) {
		f->metadata = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
						   "http://vmtier.dev/xmlns/plan/1", 0);
		virDomainFree(dom);
	}
	f->status = status_request(f, &f->status_error);
	g_main_loop_quit(f->loop);
	return NULL;
}

/* A quota change: recorded in the domain's metadata (through libvirt, off
 * the main loop), in force for the guest, and said to the client; a bad
 * one refused with the reason. */
static void test_set(Fixture *f, gconstpointer data)
{
	json_object *vm;

	if (!run_windows(f, "poll_interval_s=10\n", set_driver))
		return;
	g_assert_error(f->set_bad_error, G_IO_ERROR, G_IO_ERROR_FAILED);
	g_assert_nonnull(strstr(f->set_bad_error->message, "must be a multiple of 2 MiB"));
	g_assert_no_error(f->set_error);
	g_assert_cmpstr(json_object_get_string(member(f->set_reply, "message")), ==,
			NAME ": DRAM quota 8 MiB -> 4 MiB");
	g_test_message("metadata: %s", f->metadata);
	g_assert_nonnull(strstr(f->metadata, "<dram_bytes>4194304</dram_bytes>"));
	vm = json_object_array_get_idx(member(f->status, "vms"), 0);
	g_assert_cmpuint(u64(vm, "quota_bytes"), ==, QUOTA / 2);
}

/* The vmtierd binary: --oneshot exits after its one pass, and nothing of
 * the test's seams reaches it: it looks for the guest's pid file where
 * libvirt keeps them, finds none here, and attaches nothing. */
static void test_oneshot_binary(Fixture *f, gconstpointer data)
{
	const char *vmtierd = g_getenv("VMTIERD");
	g_autofree char *conf = NULL, *out = NULL, *err = NULL, *metrics_path = NULL, *metrics = NULL;
	g_autofree char *pidfile = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	VmtHistoryTotals totals;
	int status;

	if (!vmtierd) {
		g_test_skip("VMTIERD is not set (meson test sets it)");
		return;
	}
	pidfile = g_strdup_printf("/run/libvirt/qemu/%s.pid", NAME);
	if (g_file_test(pidfile, G_FILE_TEST_EXISTS)) {
		g_test_skip_printf("%s exists on this host", pidfile);
		return;
	}
	map_ram(f);
	setup(f, "/machine.slice/machine-qemu\\x2d1\\x2d" NAME ".scope", getpid(), 0, "auto");
	conf = g_build_filename(f->dir, "vmtierd.conf", NULL);
	{
		const char *argv[] = { vmtierd, "--oneshot", "--config", conf, NULL };

		g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
					   &err, &status, &error));
	}
	g_assert_no_error(error);
	g_test_message("vmtierd: %s", err);
	g_assert_true(g_spawn_check_wait_status(status, &error));
	g_assert_nonnull(strstr(err, NAME ": cannot attach yet: libvirt's QEMU pid for " NAME
				" is not known yet"));
	g_assert_nonnull(strstr(err, "oneshot: discover, window and account done"));
	g_assert_cmpint(g_atomic_int_get(&f->status_polls), ==, 0);
	metrics_path = g_build_filename(f->dir, "metrics.prom", NULL);
	g_assert_true(g_file_get_contents(metrics_path, &metrics, NULL, NULL));
	check_metric(metrics, "vmtier_daemon_scan_windows_total", "1");
	rows = history_rows(f, &totals);
	g_assert_cmpuint(rows->len, ==, 0);
}

/* With the history locked by another writer (an operator's sqlite3, a
 * backup) for 2.5 s, status requests every quarter second, the guest's
 * hot pages touched meanwhile. */
static gpointer locked_driver(gpointer data)
{
	Fixture *f = data;
	g_autofree char *db = g_build_filename(f->dir, "history.db", NULL);
	sqlite3 *other = NULL;

	wait_windows(f, 2);
	g_assert_cmpint(sqlite3_open(db, &other), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);
	f->locked_from = g_get_real_time() / G_USEC_PER_SEC;
	/* 2.5 s: well within SQLite's busy timeout (5 s), so the writer's
	 * wait ends in its write, not an error */
	for (gint64 start = g_get_monotonic_time(); g_get_monotonic_time() - start < 2500000;) {
		gint64 t0 = g_get_monotonic_time();

		json_object_put(status_request(f, NULL));
		f->locked_worst_us = MAX(f->locked_worst_us, g_get_monotonic_time() - t0);
		f->locked_asked++;
		touch_hot(f);
		g_usleep(250000);
	}
	f->locked_until = g_get_real_time() / G_USEC_PER_SEC;
	g_assert_cmpint(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(other);
	/* a window and an account after it */
	wait_windows(f, windows_now(f) + 2);
	g_usleep(1500000);
	f->status = status_request(f, &f->status_error);
	g_main_loop_quit(f->loop);
	return NULL;
}

/* The history's writes wait for a locked store (SQLite's busy timeout, 5
 * s), the main loop does not: every status request is answered, and no
 * interval is lost from the history. */
static void test_account_locked(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	VmtHistoryTotals totals;

	if (!run_windows(f, "account_interval_s=1\n", locked_driver))
		return;
	g_test_message("%u status requests while the store was locked, the slowest %" G_GINT64_FORMAT
		       " ms", f->locked_asked, f->locked_worst_us / 1000);
	g_assert_cmpuint(f->locked_asked, >=, 2);
	/* a main loop waiting on the store took the busy timeout's seconds
	 * (and warned that the interval's record failed) */
	g_assert_cmpint(f->locked_worst_us, <, 2 * G_USEC_PER_SEC);
	rows = history_rows(f, &totals);
	g_assert_cmpuint(rows->len, >=, 2);
	/* the rows span the lock */
	g_assert_cmpint(((VmtHistorySample *)rows->pdata[0])->ts, <=, f->locked_from + 1);
	g_assert_cmpint(((VmtHistorySample *)rows->pdata[rows->len - 1])->ts, >=, f->locked_until);
	for (guint i = 1; i < rows->len; i++) {
		const VmtHistorySample *a = rows->pdata[i - 1], *b = rows->pdata[i];

		/* each interval begins where the one before ended */
		g_assert_cmpint(b->ts - (gint64)b->interval_s, ==, a->ts);
	}
}

static gboolean slow_callback(gpointer data)
{
	vmt_daemon_loop_ran("a slow callback");
	/* well over the bound, and over what a loaded machine's scheduler
	 * alone gives another iteration */
	g_usleep(VMT_LOOP_STALL_US + G_USEC_PER_SEC);
	return G_SOURCE_REMOVE;
}

static gboolean quick_callback(gpointer data)
{
	vmt_daemon_loop_ran("a quick callback");
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

/* The main loop's watch names the callback that held it too long (and
 * logs it), and the one after it is timed on its own. */
static void test_loop_stall(void)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	VmtLoopStats st;

	vmt_daemon_loop_watch();
	g_idle_add(slow_callback, NULL);
	g_timeout_add(50, quick_callback, loop);
	g_main_loop_run(loop);
	/* the quick one's time ends at the next poll */
	g_main_context_iteration(NULL, FALSE);
	vmt_daemon_loop_unwatch();
	vmt_daemon_loop_stats(&st, TRUE);
	g_assert_cmpstr(st.worst_what, ==, "a slow callback");
	g_assert_cmpint(st.worst_us, >=, VMT_LOOP_STALL_US + G_USEC_PER_SEC);
	g_assert_cmpuint(st.stalls, >=, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/daemon/oneshot", Fixture, NULL, NULL, test_oneshot, teardown);
	g_test_add("/daemon/oneshot/tiered", Fixture, NULL, NULL, test_oneshot_tiered, teardown);
	g_test_add("/daemon/loop", Fixture, NULL, NULL, test_loop, teardown);
	g_test_add_func("/daemon/loop-stall", test_loop_stall);
	g_test_add("/daemon/account/locked-store", Fixture, NULL, NULL, test_account_locked, teardown);
	g_test_add("/daemon/poll/events", Fixture, NULL, NULL, test_poll_events, teardown);
	g_test_add("/daemon/poll/slow-qemu", Fixture, NULL, NULL, test_poll_slow_qemu, teardown);
	g_test_add("/daemon/poll/starved-qemu", Fixture, NULL, NULL, test_poll_starved_qemu, teardown);
	g_test_add("/daemon/set", Fixture, NULL, NULL, test_set, teardown);
	g_test_add("/daemon/oneshot/binary", Fixture, NULL, NULL, test_oneshot_binary, teardown);
	g_test_add("/daemon/scanner-unavailable", Fixture, NULL, NULL, test_scanner_unavailable,
		   teardown);
	g_test_add("/daemon/impostor/cgroup", Fixture, &impostors[0], NULL, test_impostor, teardown);
	g_test_add("/daemon/impostor/pid", Fixture, &impostors[1], NULL, test_impostor, teardown);
	g_test_add("/daemon/impostor/no-pid-file", Fixture, &impostors[2], NULL, test_impostor,
		   teardown);
	return g_test_run();
}
