// SPDX-License-Identifier: GPL-2.0-or-later
/* The DAMOS offload mode's sysfs writes (Linux 6.12 layout) and the QEMU
 * memory cgroup lookup, on crafted sysfs and procfs trees. */
#include "host-damos.h"
#include "host-proc.h"
#include "sysfs.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"

#define KDS "sys/kernel/mm/damon/admin/kdamonds"
#define CTX KDS "/0/contexts/0"
/* guest I's kdamond is kdamond I; its schemes 0 and 1 are "scheme" 2I and
 * 2I+1 in these tests */
#define CTX_FMT KDS "/%u/contexts/0"
#define UNSET ""

typedef struct {
	char *root, *marker;
} Fixture;

static void put(Fixture *f, const char *rel, const char *text)
{
	g_autofree char *p = g_build_filename(f->root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(p);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(p, text, -1, NULL));
}

G_GNUC_PRINTF(3, 4)
static void putf(Fixture *f, const char *text, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *rel = NULL;

	va_start(ap, fmt);
	rel = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	put(f, rel, text);
}

static char *get(Fixture *f, const char *rel)
{
	g_autofree char *p = g_build_filename(f->root, rel, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
	return g_strstrip(text);
}

/* scheme S's FILE is VALUE */
static void assert_scheme(Fixture *f, guint s, const char *file, const char *value)
{
	g_autofree char *rel = g_strdup_printf(CTX_FMT "/schemes/%u/%s", s / 2, s % 2, file);
	g_autofree char *v = get(f, rel);

	g_assert_cmpstr(v, ==, value);
}

static void assert_file(Fixture *f, const char *rel, const char *value)
{
	g_autofree char *v = get(f, rel);

	g_assert_cmpstr(v, ==, value);
}

/* What the kernel would create on the nr_* writes (the crafted tree cannot;
 * vmt_sysfs_write opens existing files only): KDAMONDS kdamonds with a
 * context, 2 schemes with FILTERS filter directories each, REGIONS regions. */
static void damon_tree(Fixture *f, guint kdamonds, guint filters, guint regions)
{
	const char *ctx_files[] = {
		"monitoring_attrs/intervals/sample_us", "monitoring_attrs/intervals/aggr_us",
		"monitoring_attrs/intervals/update_us", "monitoring_attrs/nr_regions/min",
		"monitoring_attrs/nr_regions/max", "targets/nr_targets", "targets/0/pid_target",
		"targets/0/regions/nr_regions", "schemes/nr_schemes",
	};
	const char *scheme_files[] = {
		"action", "target_nid", "apply_interval_us",
		"access_pattern/sz/min", "access_pattern/sz/max",
		"access_pattern/nr_accesses/min", "access_pattern/nr_accesses/max",
		"access_pattern/age/min", "access_pattern/age/max",
		"quotas/ms", "quotas/bytes", "quotas/reset_interval_ms", "quotas/effective_bytes",
		"quotas/weights/sz_permil", "quotas/weights/nr_accesses_permil",
		"quotas/weights/age_permil", "filters/nr_filters",
		"stats/nr_tried", "stats/sz_tried", "stats/nr_applied", "stats/sz_applied",
		"stats/qt_exceeds",
	};
	const char *filter_files[] = {
		"type", "matching", "memcg_path", "addr_start", "addr_end", "damon_target_idx",
	};

	for (guint kd = 0; kd < kdamonds; kd++) {
		putf(f, "off\n", KDS "/%u/state", kd);
		putf(f, UNSET, KDS "/%u/contexts/nr_contexts", kd);
		putf(f, UNSET, CTX_FMT "/operations", kd);
		for (guint k = 0; k < G_N_ELEMENTS(ctx_files); k++)
			putf(f, UNSET, CTX_FMT "/%s", kd, ctx_files[k]);
		for (guint r = 0; r < regions; r++) {
			putf(f, UNSET, CTX_FMT "/targets/0/regions/%u/start", kd, r);
			putf(f, UNSET, CTX_FMT "/targets/0/regions/%u/end", kd, r);
		}
		for (guint s = 0; s < 2; s++) {
			for (guint k = 0; k < G_N_ELEMENTS(scheme_files); k++)
				putf(f, UNSET, CTX_FMT "/schemes/%u/%s", kd, s, scheme_files[k]);
			for (guint i = 0; i < filters; i++)
				for (guint k = 0; k < G_N_ELEMENTS(filter_files); k++)
					putf(f, UNSET, CTX_FMT "/schemes/%u/filters/%u/%s", kd, s,
					     i, filter_files[k]);
		}
	}
}

static void blank_tree(const char *path)
{
	GStatBuf st;

	if (g_lstat(path, &st) != 0)
		return;
	if (S_ISREG(st.st_mode)) {
		g_assert_true(g_file_set_contents(path, "", 0, NULL));
	} else if (S_ISDIR(st.st_mode)) {
		g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
		const char *name;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *p = g_build_filename(path, name, NULL);

			blank_tree(p);
		}
	}
}

/* vmt_sysfs_write does not truncate (sysfs takes each write whole), so a
 * shorter value would leave the tail of the longer one in a crafted file:
 * empty the context's files and the state before each call, so that they
 * then hold exactly what that call wrote. */
static void blank(Fixture *f)
{
	for (guint kd = 0; kd < 2; kd++) {
		g_autofree char *ctx = g_strdup_printf("%s/" CTX_FMT, f->root, kd);
		g_autofree char *state = g_strdup_printf("%s/" KDS "/%u/state", f->root, kd);

		blank_tree(ctx);
		blank_tree(state);
	}
}

static void link_block(Fixture *f, int node, guint block)
{
	g_autofree char *dir = g_strdup_printf("%s/sys/devices/system/memory/memory%u", f->root,
					       block);
	g_autofree char *link = g_strdup_printf("%s/sys/devices/system/node/node%d/memory%u",
						f->root, node, block);
	g_autofree char *target = g_strdup_printf("../../memory/memory%u", block);
	g_autofree char *node_dir = g_path_get_dirname(link);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(node_dir, 0755), ==, 0);
	g_assert_cmpint(symlink(target, link), ==, 0);
}

/* Nodes 0 (DRAM, memory blocks 0-7), 1 (DRAM, 8-9), 2 (slow, 16-31 but
 * 20), 128 MiB blocks; no kdamond yet (its thread will be pid 4242). */
static void setup(Fixture *f, gconstpointer data)
{
	f->root = test_tmpdir_new("vmtier-damos-XXXXXX");
	f->marker = g_build_filename(f->root, "damon.owner", NULL);
	put(f, KDS "/nr_kdamonds", "0\n");
	put(f, KDS "/0/state", "off\n");
	put(f, KDS "/0/pid", "4242\n");
	put(f, KDS "/0/contexts/nr_contexts", "0\n");
	put(f, CTX "/operations", "vaddr\n");
	damon_tree(f, 2, 4, 3);
	put(f, KDS "/1/pid", "4243\n");
	put(f, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	for (guint b = 0; b < 32; b++)
		if (b < 10 || (b >= 16 && b != 20))
			link_block(f, b < 8 ? 0 : b < 10 ? 1 : 2, b);
	/* not memory blocks */
	put(f, "sys/devices/system/node/node0/meminfo", "Node 0 MemTotal: 1 kB\n");
	put(f, "sys/devices/system/node/node0/memory_failure/state", "0\n");
	put(f, "sys/devices/system/node/node2/memory_side_cache/x", "\n");
	vmt_sysfs_set_root(f->root);
}

static void remove_tree(const char *path)
{
	GStatBuf st;

	if (g_lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
		const char *name;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *p = g_build_filename(path, name, NULL);

			remove_tree(p);
		}
	}
	g_remove(path);
}

static void teardown(Fixture *f, gconstpointer data)
{
	vmt_sysfs_set_root(NULL);
	remove_tree(f->root);
	g_free(f->root);
	g_free(f->marker);
}

static GArray *nodes(int a, int b)
{
	GArray *n = g_array_new(FALSE, FALSE, sizeof(int));

	g_array_append_val(n, a);
	if (b >= 0)
		g_array_append_val(n, b);
	return n;
}

static const VmtDamosGuest two[] = {
	{ "/machine/vm0", 0, 2 },
	{ "/machine/vm1", 1, 2 },
};

/* claimed, started for TWO: 5 ms samples, 100 ms aggregations (at most 20
 * accesses), cold after 30 aggregations */
static VmtDamon *started(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) dram = nodes(0, 1);
	g_autoptr(GArray) slow = nodes(2, -1);
	VmtDamon *d = vmt_host_damon_claim(f->marker, "paddr", &error);

	g_assert_no_error(error);
	g_assert_nonnull(d);
	assert_file(f, CTX "/operations", "paddr");
	blank(f);
	g_assert_true(vmt_host_damos_start(d, two, 2, dram, slow, 5000, 100000, 1000, 30, &error));
	g_assert_no_error(error);
	return d;
}

#define DRAM_END "1342177280"		/* block 10 */
#define SLOW_A "2147483648", "2684354560"	/* blocks 16-19 */
#define SLOW_B "2818572288", "4294967296"	/* blocks 21-31 */

static void test_start(Fixture *f, gconstpointer data)
{
	VmtDamon *d = started(f);
	g_autofree char *mark = NULL;
	const char *regions[][2] = { { "0", DRAM_END }, { SLOW_A }, { SLOW_B } };
	const char *actions[] = { "migrate_hot", "migrate_cold", "migrate_hot", "migrate_cold" };
	const char *nids[] = { "0", "2", "1", "2" };

	/* a kdamond per guest, both running and named in the marker */
	assert_file(f, KDS "/nr_kdamonds", "2");
	g_assert_true(g_file_get_contents(f->marker, &mark, NULL, NULL));
	g_assert_nonnull(strstr(mark, "kdamond 4242\n"));
	g_assert_nonnull(strstr(mark, "kdamond 4243\n"));
	for (guint kd = 0; kd < 2; kd++) {
		g_autofree char *ctx = g_strdup_printf(CTX_FMT, kd);
		g_autofree char *state = g_strdup_printf(KDS "/%u/state", kd);
		struct {
			const char *file, *value;
		} kv[] = {
			{ "operations", "paddr" },
			{ "monitoring_attrs/intervals/sample_us", "5000" },
			{ "monitoring_attrs/intervals/aggr_us", "100000" },
			{ "monitoring_attrs/intervals/update_us", "100000" },
			{ "monitoring_attrs/nr_regions/min", "10" },
			{ "monitoring_attrs/nr_regions/max", "1000" },
			{ "targets/nr_targets", "1" },
			{ "targets/0/pid_target", UNSET },
			/* the DRAM nodes' blocks 0-9 are one range; node 2 has a gap */
			{ "targets/0/regions/nr_regions", "3" },
			{ "schemes/nr_schemes", "2" },
		};

		assert_file(f, state, "on");
		for (guint k = 0; k < G_N_ELEMENTS(kv); k++) {
			g_autofree char *p = g_strdup_printf("%s/%s", ctx, kv[k].file);

			assert_file(f, p, kv[k].value);
		}
		for (guint r = 0; r < G_N_ELEMENTS(regions); r++) {
			g_autofree char *s = g_strdup_printf("%s/targets/0/regions/%u/start", ctx, r);
			g_autofree char *e = g_strdup_printf("%s/targets/0/regions/%u/end", ctx, r);

			assert_file(f, s, regions[r][0]);
			assert_file(f, e, regions[r][1]);
		}
	}
	for (guint s = 0; s < 4; s++) {
		assert_scheme(f, s, "action", actions[s]);
		assert_scheme(f, s, "target_nid", nids[s]);
		assert_scheme(f, s, "filters/0/type", "memcg");
		assert_scheme(f, s, "filters/0/matching", "N");
		assert_scheme(f, s, "filters/0/memcg_path", two[s / 2].memcg);
		assert_scheme(f, s, "access_pattern/sz/min", "0");
		assert_scheme(f, s, "access_pattern/sz/max", "18446744073709551615");
		assert_scheme(f, s, "access_pattern/age/max", "4294967295");
		/* nothing moves: more accesses than 20 samples, the smallest quota */
		assert_scheme(f, s, "access_pattern/nr_accesses/min", "21");
		assert_scheme(f, s, "quotas/bytes", "4096");
		assert_scheme(f, s, "quotas/ms", "0");
		assert_scheme(f, s, "quotas/reset_interval_ms", "1000");
		assert_scheme(f, s, "quotas/weights/nr_accesses_permil", "500");
		assert_scheme(f, s, "quotas/weights/age_permil", "500");
		if (s % 2 == 0) {
			/* promote what is not on DRAM yet */
			assert_scheme(f, s, "filters/nr_filters", "2");
			assert_scheme(f, s, "filters/1/type", "addr");
			assert_scheme(f, s, "filters/1/matching", "Y");
			assert_scheme(f, s, "filters/1/addr_start", "0");
			assert_scheme(f, s, "filters/1/addr_end", DRAM_END);
			assert_scheme(f, s, "filters/2/type", UNSET);
		} else {
			/* demote what is not on a slow node yet */
			assert_scheme(f, s, "filters/nr_filters", "3");
			for (guint k = 1; k <= 2; k++) {
				g_autofree char *t = g_strdup_printf("filters/%u/type", k);
				g_autofree char *m = g_strdup_printf("filters/%u/matching", k);
				g_autofree char *a = g_strdup_printf("filters/%u/addr_start", k);
				g_autofree char *e = g_strdup_printf("filters/%u/addr_end", k);

				assert_scheme(f, s, t, "addr");
				assert_scheme(f, s, m, "Y");
				assert_scheme(f, s, a, regions[k][0]);
				assert_scheme(f, s, e, regions[k][1]);
			}
		}
	}
	vmt_host_damon_release(d);
	assert_file(f, KDS "/nr_kdamonds", "0");
	g_assert_false(g_file_test(f->marker, G_FILE_TEST_EXISTS));
}

static void test_steer(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	VmtDamon *d = started(f);
	VmtDamosSteer st[2] = {
		{ .promote_bytes = 64 << 20 },
		{ .demote_cold = TRUE },
	};

	blank(f);
	g_assert_true(vmt_host_damos_steer(d, st, 2, 1000, 30, &error));
	g_assert_no_error(error);
	assert_file(f, KDS "/0/state", "commit");
	assert_file(f, KDS "/1/state", "commit");
	/* guest 0 promotes hot regions, 64 MiB a window, in a charge window
	 * that never renews by itself (what a dead vmtierd leaves); demotes
	 * nothing (the smallest quota, never 0: that would be no limit) */
	assert_scheme(f, 0, "quotas/bytes", "67108864");
	assert_scheme(f, 0, "quotas/reset_interval_ms", "4294967295");
	assert_scheme(f, 0, "access_pattern/nr_accesses/min", "1");
	assert_scheme(f, 0, "access_pattern/nr_accesses/max", "4294967295");
	assert_scheme(f, 0, "access_pattern/age/min", "0");
	assert_scheme(f, 1, "quotas/bytes", "4096");
	assert_scheme(f, 1, "access_pattern/nr_accesses/min", "21");
	/* guest 1 promotes nothing and demotes its regions idle for 30
	 * aggregations, with no byte limit (not 0: that would freeze the
	 * quota's charge window) */
	assert_scheme(f, 2, "quotas/bytes", "4096");
	assert_scheme(f, 2, "access_pattern/nr_accesses/min", "21");
	assert_scheme(f, 2, "quotas/reset_interval_ms", "1");
	assert_scheme(f, 3, "quotas/bytes", "1125899906842624");
	assert_scheme(f, 3, "access_pattern/nr_accesses/min", "0");
	assert_scheme(f, 3, "access_pattern/nr_accesses/max", "0");
	assert_scheme(f, 3, "access_pattern/age/min", "30");

	/* a longer window: the cold quota's reset interval and age follow */
	blank(f);
	g_assert_true(vmt_host_damos_steer(d, st, 2, 3000, 90, &error));
	assert_scheme(f, 1, "quotas/reset_interval_ms", "3000");
	assert_scheme(f, 3, "quotas/reset_interval_ms", "3000");
	assert_scheme(f, 3, "access_pattern/age/min", "90");

	/* and back to nothing */
	memset(st, 0, sizeof(st));
	blank(f);
	g_assert_true(vmt_host_damos_steer(d, st, 2, 1000, 30, &error));
	assert_file(f, KDS "/0/state", "commit");
	assert_file(f, KDS "/1/state", "commit");
	for (guint s = 0; s < 4; s++) {
		assert_scheme(f, s, "quotas/bytes", "4096");
		assert_scheme(f, s, "access_pattern/nr_accesses/min", "21");
	}
	vmt_host_damon_release(d);
}

static void test_stats(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	VmtDamon *d = started(f);
	guint64 up[2] = { 1, 1 }, down[2] = { 1, 1 };
	const char *applied[] = { "4096", "0", "2097152", "8192" };

	blank(f);
	for (guint s = 0; s < 4; s++)
		putf(f, applied[s], CTX_FMT "/schemes/%u/stats/sz_applied", s / 2, s % 2);
	g_assert_true(vmt_host_damos_stats(d, up, down, 2, &error));
	g_assert_no_error(error);
	assert_file(f, KDS "/0/state", "update_schemes_stats");
	assert_file(f, KDS "/1/state", "update_schemes_stats");
	g_assert_cmpuint(up[0], ==, 4096);
	g_assert_cmpuint(down[0], ==, 0);
	g_assert_cmpuint(up[1], ==, 2097152);
	g_assert_cmpuint(down[1], ==, 8192);
	vmt_host_damon_release(d);
}

/* start for N 0 turns DAMON off; steer and stats then take no guests */
static void test_stop(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	VmtDamon *d = started(f);
	VmtDamosSteer st = { 0 };
	guint64 up = 0, down = 0;

	g_assert_true(vmt_host_damos_start(d, NULL, 0, NULL, NULL, 0, 0, 0, 0, &error));
	g_assert_no_error(error);
	assert_file(f, KDS "/0/state", "off");
	assert_file(f, KDS "/1/state", "off");
	g_assert_true(vmt_host_damos_steer(d, &st, 0, 1000, 30, &error));
	g_assert_true(vmt_host_damos_stats(d, &up, &down, 0, &error));
	g_assert_no_error(error);
	assert_file(f, KDS "/0/state", "off");
	assert_file(f, KDS "/1/state", "off");
	g_assert_false(vmt_host_damos_steer(d, &st, 1, 1000, 30, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	vmt_host_damon_release(d);
}

/* START fails with a G_IO_ERROR_INVALID_ARGUMENT naming WHAT, in one line */
static void assert_start_fails(VmtDamon *d, const VmtDamosGuest *g, guint n, const GArray *dram,
			       const GArray *slow, const char *what)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(vmt_host_damos_start(d, g, n, dram, slow, 5000, 100000, 1000, 30, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, what));
	g_assert_null(strchr(error->message, '\n'));
}

static void test_errors(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) dram = nodes(0, 1);
	g_autoptr(GArray) slow = nodes(2, -1);
	g_autoptr(GArray) unknown = nodes(0, 7);
	g_autoptr(GArray) both = nodes(2, 0);
	VmtDamon *d = started(f);
	VmtDamosGuest g = two[0];
	VmtDamosSteer st[2] = { { 0 } };
	guint64 up[2], down[2];

	/* steer and stats take the guests of the last start */
	g_assert_false(vmt_host_damos_steer(d, st, 1, 1000, 30, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_assert_nonnull(strstr(error->message, "2 guests, not 1"));
	g_clear_error(&error);
	g_assert_false(vmt_host_damos_stats(d, up, down, 3, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	assert_start_fails(d, &g, 1, unknown, slow, "node 7 does not exist");
	assert_start_fails(d, &g, 1, dram, both, "node 0 is given as both");
	g.memcg = "";
	assert_start_fails(d, &g, 1, dram, slow, "memory cgroup ''");
	g.memcg = "machine/vm0";
	assert_start_fails(d, &g, 1, dram, slow, "memory cgroup 'machine/vm0'");
	g.memcg = NULL;
	assert_start_fails(d, &g, 1, dram, slow, "memory cgroup ''");
	g = two[0];
	g.slow_node = 1;
	assert_start_fails(d, &g, 1, dram, slow, "slow node 1 is not among the slow nodes");
	g = two[0];
	g.dram_node = 2;
	assert_start_fails(d, &g, 1, dram, slow, "DRAM node 2 is not among the DRAM nodes");

	/* a failed start leaves DAMON off, with no guests */
	assert_file(f, KDS "/0/state", "off");
	assert_file(f, KDS "/1/state", "off");
	g_assert_false(vmt_host_damos_steer(d, st, 2, 1000, 30, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	vmt_host_damon_release(d);
}

/* PID's /proc/PID/cgroup holds TEXT */
static void proc_cgroup(Fixture *f, int pid, const char *text)
{
	putf(f, text, "proc/%d/cgroup", pid);
}

static void cgroup(Fixture *f, const char *path, const char *type, const char *controllers)
{
	if (type)
		putf(f, type, "sys/fs/cgroup%s/cgroup.type", path);
	if (controllers)
		putf(f, controllers, "sys/fs/cgroup%s/cgroup.controllers", path);
}

static void assert_memcg_refused(int pid, const char *what)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *memcg = vmt_host_proc_memcg(pid, &error);

	g_assert_null(memcg);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, what));
}

static void test_memcg(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *plain = NULL, *threaded = NULL;

	/* a plain domain cgroup, in a hybrid hierarchy */
	proc_cgroup(f, 100,
		    "1:name=systemd:/machine.slice/vm0.scope\n0::/machine.slice/vm0.scope\n");
	cgroup(f, "/machine.slice/vm0.scope", "domain\n", "cpuset cpu io memory pids\n");
	plain = vmt_host_proc_memcg(100, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(plain, ==, "/machine.slice/vm0.scope");

	/* QEMU in a threaded subtree: memory lives at the subtree's domain */
	proc_cgroup(f, 101, "0::/machine.slice/vm1.scope/libvirt/emulator\n");
	cgroup(f, "/machine.slice/vm1.scope", "domain\n", "cpuset cpu io memory pids\n");
	cgroup(f, "/machine.slice/vm1.scope/libvirt", "domain threaded\n",
	       "cpuset cpu memory pids\n");
	cgroup(f, "/machine.slice/vm1.scope/libvirt/emulator", "threaded\n", "cpuset cpu pids\n");
	threaded = vmt_host_proc_memcg(101, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(threaded, ==, "/machine.slice/vm1.scope/libvirt");

	/* the root memcg is everyone's */
	proc_cgroup(f, 102, "0::/\n");
	assert_memcg_refused(102, "pid 102");
	/* ... also when threaded cgroups lead up to it */
	proc_cgroup(f, 103, "0::/t/u\n");
	cgroup(f, "/t", "threaded\n", "cpu\n");
	cgroup(f, "/t/u", "threaded\n", "cpu\n");
	assert_memcg_refused(103, "root cgroup");

	/* no memory controller: pages are charged to an ancestor's */
	proc_cgroup(f, 104, "0::/machine.slice/vm2.scope\n");
	cgroup(f, "/machine.slice/vm2.scope", "domain\n", "cpu pids\n");
	assert_memcg_refused(104, "/machine.slice/vm2.scope has no memory controller");

	/* cgroup v1 only */
	proc_cgroup(f, 105, "12:memory:/machine.slice/vm3.scope\n1:name=systemd:/x\n");
	assert_memcg_refused(105, "pid 105");

	/* no such process */
	g_clear_pointer(&plain, g_free);
	plain = vmt_host_proc_memcg(106, &error);
	g_assert_null(plain);
	g_assert_nonnull(error);
}

/* the start time is field 22 of /proc/PID/stat, whatever the command name
 * holds (spaces, parentheses) */
static void test_start_time(Fixture *f, gconstpointer data)
{
	putf(f, "77 (qemu (x) y) S 1 77 77 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 3 0 12345 "
		"1000 200 18446744073709551615\n", "proc/77/stat");
	g_assert_cmpuint(vmt_host_proc_start_time(77), ==, 12345);
	g_assert_true(vmt_host_proc_same(77, 12345));
	g_assert_false(vmt_host_proc_same(77, 12346));
	putf(f, "78 (zombie) Z 1 78 78 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 3 0 999\n",
	     "proc/78/stat");
	g_assert_false(vmt_host_proc_same(78, 999));
	g_assert_cmpuint(vmt_host_proc_start_time(79), ==, 0);
}

/* A memcg filter must take one guest's pages only: its cgroup and those
 * below it hold no other process. */
static void test_memcg_alone(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	putf(f, "283\n", "sys/fs/cgroup/machine/qemu-1-a.libvirt-qemu/cgroup.procs");
	g_assert_true(vmt_host_proc_memcg_alone("/machine/qemu-1-a.libvirt-qemu", 283, &error));
	g_assert_no_error(error);
	/* its threads' sub-cgroup: still only 283 */
	putf(f, "283\n", "sys/fs/cgroup/machine/qemu-1-a.libvirt-qemu/emulator/cgroup.procs");
	g_assert_true(vmt_host_proc_memcg_alone("/machine/qemu-1-a.libvirt-qemu", 283, &error));
	/* another guest's QEMU below it */
	putf(f, "", "sys/fs/cgroup/machine/qemu-1-a.libvirt-qemu/cgroup.procs");
	putf(f, "4242\n", "sys/fs/cgroup/machine/qemu-1-a.libvirt-qemu/vcpu0/cgroup.procs");
	g_assert_false(vmt_host_proc_memcg_alone("/machine/qemu-1-a.libvirt-qemu", 283, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
	g_assert_nonnull(strstr(error->message, "4242"));
	g_clear_error(&error);
	/* libvirt without cgroups: QEMU shares its daemon's */
	putf(f, "250\n283\n", "sys/fs/cgroup/system.slice/libvirtd.service/cgroup.procs");
	g_assert_false(vmt_host_proc_memcg_alone("/system.slice/libvirtd.service", 283, &error));
	g_assert_nonnull(strstr(error->message, "pid 250"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define T(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
	T("/damos/start", test_start);
	T("/damos/steer", test_steer);
	T("/damos/stats", test_stats);
	T("/damos/stop", test_stop);
	T("/damos/errors", test_errors);
	T("/damos/memcg", test_memcg);
	T("/damos/memcg-alone", test_memcg_alone);
	T("/proc/start-time", test_start_time);
	return g_test_run();
}
