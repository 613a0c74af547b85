// SPDX-License-Identifier: GPL-2.0-or-later
/* vmt_guest_attach against a hostile QEMU: a fake monitor (fake-qmp.h)
 * reports RAM backends whose sizes would overflow chunk counts, exceed the
 * domain, overlap or lie outside the process; attach must refuse each
 * before sizing anything.  The test process plays QEMU: the peer pid is
 * its own and "its" RAM is memory it maps. */
#include "access.h"
#include "fake-qmp.h"
#include "guest.h"
#include "host-proc.h"
#include "host-deadline.h"
#include "host-pagemap.h"
#include "tmpdir.h"

#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MiB (G_GUINT64_CONSTANT(1) << 20)

typedef FakeQmpRam Backend;

/* what a bitmap scanner does with each chunk (host-softdirty.c) */
static gboolean mark(guint chunk, guint64 va, const guint64 *entries, guint n, gpointer data,
		     GError **error)
{
	((guint16 *)data)[chunk] = 1;
	return TRUE;
}

static Server *fake_qemu(const Backend *b, guint n)
{
	return fake_qmp_qemu(b, n, 1, NULL, NULL);
}

static VmtGuest *guest(void)
{
	VmtDomainInfo info = { .name = "hostile", .tenant = "", .klass = "", .backend = "kmem",
			       .dram_nodes = "0", .pmem_nodes = "1", .dram_bytes = 2 * MiB };
	VmtHost host = { .nodes = g_ptr_array_new() };
	VmtGuest *g = vmt_guest_new(&info, &host);

	g_ptr_array_unref(host.nodes);
	return g;
}

/* Attach G to a fake QEMU with backends B; the error, or NULL if attached. */
static GError *attach_guest(VmtGuest *g, const Backend *b, guint n, int libvirt_pid,
			    int domain_id, guint64 ram_bytes, GPtrArray **log)
{
	Server *s = fake_qemu(b, n);
	GError *error = NULL;

	if (vmt_guest_attach(g, s->path, libvirt_pid, domain_id, ram_bytes, NULL, &error)) {
		g_assert_no_error(error);
		g_assert_cmpuint(g->ram_bytes, ==, ram_bytes);
		g_assert_cmpuint(vmt_tier_engine_n_chunks(g->engine), ==, vmt_ranges_n_chunks(g->ranges));
		/* the scanners' walk stays within the arrays attach sized */
		g_assert_true(vmt_host_pagemap_walk(getpid(), g->ranges, mark, g->freq, &error));
	}
	if (log)
		*log = g_ptr_array_ref(s->log);
	fake_qmp_stop(s);
	return error;
}

static GError *attach(const Backend *b, guint n, int libvirt_pid, guint64 ram_bytes,
		      GPtrArray **log)
{
	g_autoptr(VmtGuest) g = guest();

	return attach_guest(g, b, n, libvirt_pid, VMT_GUEST_NO_DOMAIN, ram_bytes, log);
}

static void *map(guint64 len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	g_assert_true(p != MAP_FAILED);
	return p;
}

static void expect_refused(GError *error, const char *what)
{
	g_assert_nonnull(error);
	if (!strstr(error->message, what))
		g_error("'%s' does not say '%s'", error->message, what);
	g_test_message("refused: %s", error->message);
	g_error_free(error);
}

/* (2^32-1) * 2 MiB + 2 MiB: 2^32 chunks, 0 in 32 bits */
static void test_chunk_overflow(void)
{
	char *ram = map(4 * MiB);
	Backend b[] = { { (G_GUINT64_CONSTANT(1) << 32) - 1, (guint64)(uintptr_t)ram },
			{ 2 * MiB, (guint64)(uintptr_t)ram + 2 * MiB } };

	b[0].size *= 2 * MiB;
	/* whether the domain is small or says exactly what QEMU claims */
	expect_refused(attach(b, 2, getpid(), 64 * MiB, NULL), "chunks");
	expect_refused(attach(b, 2, getpid(), b[0].size + b[1].size, NULL), "chunks");
	munmap(ram, 4 * MiB);
}

/* a 64 MiB domain whose QEMU claims 64 TiB: 33 million chunks of work */
static void test_claims_more_than_domain(void)
{
	char *ram = map(64 * MiB);
	Backend b[] = { { 64 * MiB << 20, (guint64)(uintptr_t)ram } };

	expect_refused(attach(b, 1, getpid(), 64 * MiB, NULL),
		       "reports 70368744177664 bytes of guest RAM, but the domain's NUMA cells "
		       "hold 67108864");
	munmap(ram, 64 * MiB);
}

static void test_outside_mappings(void)
{
	char *ram = map(8 * MiB);
	Backend b[] = { { 4 * MiB, (guint64)(uintptr_t)ram + 4 * MiB } };

	munmap(ram + 4 * MiB, 4 * MiB);
	expect_refused(attach(b, 1, getpid(), 4 * MiB, NULL), "has no mapping at");
	/* the same QEMU with its RAM where it says: attached */
	b[0].hva = (guint64)(uintptr_t)ram;
	g_assert_null(attach(b, 1, getpid(), 4 * MiB, NULL));
	munmap(ram, 4 * MiB);
}

static void test_overlap(void)
{
	char *ram = map(4 * MiB);
	Backend b[] = { { 4 * MiB, (guint64)(uintptr_t)ram }, { 2 * MiB, (guint64)(uintptr_t)ram + 2 * MiB } };

	expect_refused(attach(b, 2, getpid(), 6 * MiB, NULL), "overlap");
	munmap(ram, 4 * MiB);
}

static void test_too_many_backends(void)
{
	char *ram = map(65 * 2 * MiB);
	Backend b[65];

	for (guint i = 0; i < G_N_ELEMENTS(b); i++)
		b[i] = (Backend){ 2 * MiB, (guint64)(uintptr_t)ram + i * 2 * MiB };
	expect_refused(attach(b, 65, getpid(), 65 * 2 * MiB, NULL), "65 RAM ranges (at most 64)");
	g_assert_null(attach(b, 64, getpid(), 64 * 2 * MiB, NULL));
	munmap(ram, 65 * 2 * MiB);
}

/* a socket that is not libvirt's QEMU is not asked for its memory map */
static void test_pid_checked_first(void)
{
	char *ram = map(2 * MiB);
	Backend b[] = { { 2 * MiB, (guint64)(uintptr_t)ram } };
	g_autoptr(GPtrArray) log = NULL;

	expect_refused(attach(b, 1, -1, 2 * MiB, NULL), "libvirt's QEMU pid for hostile is not known");
	expect_refused(attach(b, 1, getpid() + 1, 2 * MiB, &log), "but libvirt's QEMU for hostile is");
	for (guint i = 0; i < log->len; i++)
		g_assert_false(g_str_has_prefix(log->pdata[i], "query-memdev"));
	munmap(ram, 2 * MiB);
}

/* Issue 12 item 8: every QEMU may create any guest's socket (one user, one
 * AppArmor rule).  A process whose pid libvirt's pid file names (a stale
 * one: the guest's QEMU died while libvirtd was down and the pid came
 * round again) but that is not in the domain's machine cgroup is refused
 * before it is asked for anything.  This test's process is in no machine
 * cgroup of libvirt's. */
static void test_cgroup_of_another(void)
{
	char *ram = map(2 * MiB);
	Backend b[] = { { 2 * MiB, (guint64)(uintptr_t)ram } };
	g_autoptr(GPtrArray) log = NULL;
	g_autoptr(VmtGuest) g = guest();

	expect_refused(attach_guest(g, b, 1, getpid(), 5, 2 * MiB, &log),
		       "is not libvirt's machine cgroup of domain id 5");
	for (guint i = 0; i < log->len; i++)
		g_assert_false(g_str_has_prefix(log->pdata[i], "query-memdev"));
	g_clear_pointer(&log, g_ptr_array_unref);
	expect_refused(attach_guest(g, b, 1, getpid(), -1, 2 * MiB, NULL),
		       "domain id for hostile is not known");
	munmap(ram, 2 * MiB);
}

/* libvirt's machine cgroups, under systemd and without it */
static void test_machine_cgroup(void)
{
	static const struct {
		const char *cg;
		gboolean ok;
	} t[] = {
		{ "/machine.slice/machine-qemu\\x2d5\\x2dvictim.scope/libvirt/emulator", TRUE },
		{ "/machine.slice/machine-qemu\\x2d5\\x2dvictim.scope", TRUE },
		{ "/machine/qemu-5-victim.libvirt-qemu/emulator", TRUE },
		{ "/custom/part/qemu-5-victim.libvirt-qemu/vcpu0", TRUE },
		{ "/machine.slice/machine-qemu\\x2d15\\x2dother.scope/libvirt/emulator", FALSE },
		{ "/machine/qemu-55-other.libvirt-qemu/emulator", FALSE },
		{ "/machine/qemu-6-other.libvirt-qemu/emulator", FALSE },
		{ "/user.slice/user-1000.slice/user@1000.service/qemu-5-x.libvirt-qemu", FALSE },
		{ "/system.slice/x.scope/machine-qemu\\x2d5\\x2dx.scope", FALSE },
		{ "/", FALSE },
	};

	for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autoptr(GError) error = NULL;

		g_test_message("%s", t[i].cg);
		g_assert_cmpint(vmt_domains_check_cgroup(t[i].cg, 5, &error), ==, t[i].ok);
		g_assert_true(t[i].ok == !error);
	}
}

/* The window worker gives each guest its own time (daemon.c): one over it
 * is cut off, the next guest's window still runs. */
static void test_window_deadline(void)
{
	char *ram = map(8 * MiB);
	Backend a[] = { { 4 * MiB, (guint64)(uintptr_t)ram } };
	Backend b[] = { { 4 * MiB, (guint64)(uintptr_t)ram + 4 * MiB } };
	g_autoptr(VmtGuest) slow = guest(), next = guest();
	g_autoptr(GError) error = NULL;

	memset(ram, 1, 8 * MiB);
	g_assert_null(attach_guest(slow, a, 1, getpid(), VMT_GUEST_NO_DOMAIN, 4 * MiB, NULL));
	g_assert_null(attach_guest(next, b, 1, getpid(), VMT_GUEST_NO_DOMAIN, 4 * MiB, NULL));
	vmt_host_deadline_set(1);
	g_usleep(20000);	/* its time is up */
	g_assert_false(vmt_host_pagemap_walk(getpid(), slow->ranges, mark, slow->freq, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
	vmt_guest_window(slow, slow->freq, 0);
	g_assert_cmpstr(vmt_guest_state_name(slow->state), ==, "error");
	g_assert_cmpstr(slow->last_error, ==, "cut off after its 1 ms for this window");
	g_assert_cmpuint(slow->windows, ==, 0);
	vmt_host_deadline_set(600000);
	vmt_guest_window(next, next->freq, 0);
	g_assert_cmpstr(vmt_guest_state_name(next->state), ==, "tiering");
	g_assert_cmpuint(next->windows, ==, 1);
	/* and the slow one's next window, in time, is a window again */
	vmt_guest_window(slow, slow->freq, 0);
	g_assert_cmpuint(slow->windows, ==, 1);
	vmt_host_deadline_set(0);
	munmap(ram, 8 * MiB);
}

static void test_ranges_check(void)
{
	g_autoptr(GArray) r = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	g_autoptr(GError) error = NULL;
	VmtRange wrap = { G_MAXUINT64 - MiB, 2 * MiB }, huge = { 0, G_MAXUINT64 };
	guint n = 7;

	/* a length near 2^64 must not round up to 0 chunks */
	g_assert_cmpuint(vmt_range_n_chunks(&huge), ==, G_GUINT64_CONSTANT(1) << 43);
	g_array_append_val(r, wrap);
	g_assert_false(vmt_ranges_check(r, &n, &error));
	g_assert_nonnull(strstr(error->message, "wraps around"));
	g_assert_cmpuint(vmt_ranges_n_chunks(r), ==, 0);
	g_assert_cmpuint(n, ==, 7);
}

static gboolean count_row(const VmtHistorySample *s, gpointer data, GError **error)
{
	(*(guint *)data)++;
	return TRUE;
}

/* The class's warm-up grace: an interval that begins in it is not judged
 * (counted as not_judged, flagged as grace); the next one is. */
static void test_account_grace(void)
{
	g_autoptr(VmtGuest) g = guest();
	VmtClass k = { .name = (char *)"budget", .has_slo = TRUE, .slo_target = 0.95,
		       .slo_intervals = 0.99, .slo_grace_s = 300 };
	VmtHistorySample s;
	VmtHistoryTotals t;

	g->klass_def = &k;
	g->started_ts = 1000;
	g->acc_ts = 1000;
	g->stats.hot_bytes = 64 * MiB;
	g->stats.hot_coverage = 0.5;		/* warming up: would be missed */
	vmt_guest_account(g, 1240, VMT_SCANNER_DAMON_VADDR, &s, &t);
	g_assert_true(s.slo_grace);
	g_assert_cmpint(s.slo_met, ==, -1);
	/* 1240..1360 begins in the grace (ends at 1300): still not judged */
	vmt_guest_account(g, 1360, VMT_SCANNER_DAMON_VADDR, &s, &t);
	g_assert_true(s.slo_grace);
	g_assert_cmpint(s.slo_met, ==, -1);
	vmt_guest_account(g, 1420, VMT_SCANNER_DAMON_VADDR, &s, &t);
	g_assert_false(s.slo_grace);
	g_assert_cmpint(s.slo_met, ==, 0);
	g->stats.hot_coverage = 1.0;
	vmt_guest_account(g, 1480, VMT_SCANNER_DAMON_VADDR, &s, &t);
	g_assert_cmpint(s.slo_met, ==, 1);
	g_assert_cmpuint(t.slo_met, ==, 1);
	g_assert_cmpuint(t.slo_missed, ==, 1);
	g_assert_cmpuint(t.slo_not_judged, ==, 2);
	g->klass_def = NULL;			/* a stack class, not the guest's to free */
}

/* Two accounts in one second (the stop's right after a periodic one): the
 * second ends a second later, so the store keeps both rows, as many as
 * the totals count. */
static void test_account_same_second(void)
{
	g_autoptr(VmtGuest) g = guest();
	g_autofree char *dir = test_tmpdir_new("vmtier-account-XXXXXX");
	g_autofree char *db = g_build_filename(dir, "history.db", NULL);
	g_autoptr(GError) error = NULL;
	VmtHistoryQuery all = VMT_HISTORY_QUERY_INIT;
	VmtHistorySample s;
	VmtHistoryTotals t;
	guint rows = 0;

	{
		g_autoptr(VmtHistory) h = vmt_history_open(db, &error);

		g_assert_no_error(error);
		g->acc_ts = 1000;
		g->stats.hot_bytes = 64 * MiB;
		vmt_guest_account(g, 1060, VMT_SCANNER_DAMON_VADDR, &s, &t);
		g_assert_true(vmt_history_record(h, &s, &t, &error));
		vmt_guest_account(g, 1060, VMT_SCANNER_DAMON_VADDR, &s, &t);
		g_assert_cmpint(s.ts, ==, 1061);
		g_assert_cmpuint(s.interval_s, ==, 1);
		g_assert_true(vmt_history_record(h, &s, &t, &error));
		g_assert_true(vmt_history_foreach(h, &all, count_row, &rows, NULL, &error));
		g_assert_no_error(error);
	}
	g_assert_cmpuint(rows, ==, t.slo_met + t.slo_missed + t.slo_not_judged);
	g_assert_cmpuint(rows, ==, 2);
	g_assert_cmpuint(t.seconds, ==, 61);
	/* a clock that went back still gives a later row */
	vmt_guest_account(g, 900, VMT_SCANNER_DAMON_VADDR, &s, &t);
	g_assert_cmpint(s.ts, ==, 1062);
	test_tree_remove(dir);
}

/* The grace runs from QEMU's start: a process's start time as Unix time. */
static void test_started_at(void)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	gint64 t = vmt_host_proc_started_at(vmt_host_proc_start_time(getpid()));

	g_test_message("started at %" G_GINT64_FORMAT ", now %" G_GINT64_FORMAT, t, now);
	g_assert_cmpint(t, <=, now + 1);
	g_assert_cmpint(t, >=, now - 600);
	g_assert_cmpint(vmt_host_proc_started_at(0), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/attach/chunk-overflow", test_chunk_overflow);
	g_test_add_func("/attach/claims-more-than-domain", test_claims_more_than_domain);
	g_test_add_func("/attach/outside-mappings", test_outside_mappings);
	g_test_add_func("/attach/overlap", test_overlap);
	g_test_add_func("/attach/too-many-backends", test_too_many_backends);
	g_test_add_func("/attach/pid-checked-first", test_pid_checked_first);
	g_test_add_func("/attach/cgroup-of-another-domain", test_cgroup_of_another);
	g_test_add_func("/attach/machine-cgroup", test_machine_cgroup);
	g_test_add_func("/attach/ranges-check", test_ranges_check);
	g_test_add_func("/attach/window-deadline", test_window_deadline);
	g_test_add_func("/account/grace", test_account_grace);
	g_test_add_func("/account/started-at", test_started_at);
	g_test_add_func("/account/same-second", test_account_same_second);
	return g_test_run();
}
