// SPDX-License-Identifier: GPL-2.0-or-later
/* The DAMON scanner's ownership rules on crafted sysfs trees: vmtierd must
 * never take over a kdamond it did not start. */
#include "host-damon.h"
#include "sysfs.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "tmpdir.h"

#define KDS "sys/kernel/mm/damon/admin/kdamonds"

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

static char *get(Fixture *f, const char *rel)
{
	g_autofree char *p = g_build_filename(f->root, rel, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
	return g_strstrip(text);
}

/* a kdamond someone runs: one context, running, thread pid 4242 */
static void setup(Fixture *f, gconstpointer data)
{
	f->root = test_tmpdir_new("vmtier-damon-XXXXXX");
	f->marker = g_build_filename(f->root, "damon.owner", NULL);
	put(f, KDS "/nr_kdamonds", "1\n");
	put(f, KDS "/0/state", "on\n");
	put(f, KDS "/0/pid", "4242\n");
	put(f, KDS "/0/contexts/nr_contexts", "1\n");
	put(f, KDS "/0/contexts/0/operations", "paddr\n");
	vmt_sysfs_set_root(f->root);
}

static void teardown(Fixture *f, gconstpointer data)
{
	vmt_sysfs_set_root(NULL);
	g_free(f->root);
	g_free(f->marker);
}

static void assert_untouched(Fixture *f)
{
	g_autofree char *n = get(f, KDS "/nr_kdamonds");
	g_autofree char *st = get(f, KDS "/0/state");
	g_autofree char *ops = get(f, KDS "/0/contexts/0/operations");

	g_assert_cmpstr(n, ==, "1");
	g_assert_cmpstr(st, ==, "on");
	g_assert_cmpstr(ops, ==, "paddr");
}

static void test_foreign_left_alone(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(vmt_host_damon_claim(f->marker, "fvaddr", &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
	g_assert_nonnull(strstr(error->message, "in use by someone else"));
	assert_untouched(f);
	g_assert_false(g_file_test(f->marker, G_FILE_TEST_EXISTS));
}

/* our marker, but the running kdamond has another thread: someone started
 * their own after vmtierd died */
static void test_marker_of_another_kdamond(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(f->marker, "vmtierd\nkdamond 17\n", -1, NULL));
	g_assert_null(vmt_host_damon_claim(f->marker, "fvaddr", &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
	assert_untouched(f);
}

/* two kdamonds (the offload mode's, one per guest): ours only when the
 * marker names every running one */
static void test_two_kdamonds(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	VmtDamon *d;

	put(f, KDS "/nr_kdamonds", "2\n");
	put(f, KDS "/1/state", "on\n");
	put(f, KDS "/1/pid", "5555\n");
	g_assert_true(g_file_set_contents(f->marker, "vmtierd\nkdamond 4242\n", -1, NULL));
	g_assert_null(vmt_host_damon_claim(f->marker, "fvaddr", &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
	g_assert_nonnull(strstr(error->message, "pid 5555"));
	{
		g_autofree char *st0 = get(f, KDS "/0/state");
		g_autofree char *st1 = get(f, KDS "/1/state");

		g_assert_cmpstr(st0, ==, "on");
		g_assert_cmpstr(st1, ==, "on");
	}
	/* both named: both ours, turned off and set up afresh */
	g_clear_error(&error);
	g_assert_true(g_file_set_contents(f->marker, "vmtierd\nkdamond 4242\nkdamond 5555\n", -1,
					  NULL));
	d = vmt_host_damon_claim(f->marker, "fvaddr", &error);
	g_assert_no_error(error);
	g_assert_nonnull(d);
	{
		g_autofree char *st0 = get(f, KDS "/0/state");
		g_autofree char *st1 = get(f, KDS "/1/state");

		g_assert_true(g_str_has_prefix(st0, "off"));
		g_assert_true(g_str_has_prefix(st1, "off"));
	}
	vmt_host_damon_release(d);
}

/* ours from before a kill -9: reclaimed, turned off and set up afresh */
static void test_own_reclaimed(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	VmtDamon *d;

	g_assert_true(g_file_set_contents(f->marker, "vmtierd\nkdamond 4242\n", -1, NULL));
	d = vmt_host_damon_claim(f->marker, "fvaddr", &error);
	g_assert_no_error(error);
	g_assert_nonnull(d);
	{
		g_autofree char *st = get(f, KDS "/0/state");
		g_autofree char *ops = get(f, KDS "/0/contexts/0/operations");

		g_assert_cmpstr(st, ==, "off");
		g_assert_cmpstr(ops, ==, "fvaddr");
	}
	vmt_host_damon_release(d);
	g_autofree char *n = get(f, KDS "/nr_kdamonds");
	g_assert_cmpstr(n, ==, "0");
	g_assert_false(g_file_test(f->marker, G_FILE_TEST_EXISTS));
}

/* No kdamond, and what the kernel would create on claim's and start's
 * nr_* writes: one target with 4 regions (8 MiB), one scheme. */
static void empty_tree(Fixture *f)
{
	put(f, KDS "/nr_kdamonds", "0\n");
	put(f, KDS "/0/state", "off\n");
	for (guint i = 0; i < 4; i++)
		for (guint k = 0; k < 2; k++) {
			g_autofree char *rel = g_strdup_printf(KDS "/0/contexts/0/targets/0/regions/%u/%s", i,
							       k ? "end" : "start");
			put(f, rel, "0\n");
		}
	{
		const char *files[] = {
			"targets/nr_targets", "targets/0/pid_target", "targets/0/regions/nr_regions",
			"schemes/nr_schemes", "schemes/0/action", "schemes/0/access_pattern/sz/min",
			"schemes/0/access_pattern/sz/max", "schemes/0/access_pattern/nr_accesses/min",
			"schemes/0/access_pattern/nr_accesses/max", "schemes/0/access_pattern/age/min",
			"schemes/0/access_pattern/age/max", "schemes/0/filters/nr_filters",
			"schemes/0/filters/0/type", "schemes/0/filters/0/matching",
			"schemes/0/filters/0/damon_target_idx", "monitoring_attrs/intervals/sample_us",
			"monitoring_attrs/intervals/aggr_us", "monitoring_attrs/nr_regions/min",
			"monitoring_attrs/nr_regions/max",
		};

		for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
			g_autofree char *rel = g_strdup_printf(KDS "/0/contexts/0/%s", files[i]);

			put(f, rel, "0\n");
		}
	}
}

/* vmtierd's kdamond on the empty tree, started for one guest: pid 99, 8 MiB
 * at 0x7f0000000000 (RANGES, for T) */
static VmtDamon *started(Fixture *f, GArray *ranges, VmtDamonTarget *t)
{
	g_autoptr(GError) error = NULL;
	VmtRange r = { 0x7f0000000000, 8 << 20 };
	VmtDamon *d;

	g_array_append_val(ranges, r);
	*t = (VmtDamonTarget){ 99, ranges };
	empty_tree(f);
	d = vmt_host_damon_claim(f->marker, "fvaddr", &error);
	g_assert_no_error(error);
	/* the fake tree has no kdamond to switch on: "on" is a plain write */
	g_assert_true(vmt_host_damon_start(d, t, 1, 5000, 1000000, &error));
	g_assert_no_error(error);
	return d;
}

/* collect refuses guests other than the ones DAMON was started for */
static void test_collect_other_guests(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	VmtDamonTarget t;
	guint16 freq[4], *freqs[] = { freq };
	guint wrong[] = { 1 };
	VmtDamon *d = started(f, ranges, &t);

	g_assert_false(vmt_host_damon_collect(d, freqs, wrong, 1, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	vmt_host_damon_release(d);
}

/* an update that ends empty (the kernel's timeout before an aggregation
 * ended) is asked for again, VMT_DAMON_UPDATE_TRIES times at most; one
 * that found regions is read at once */
static void test_collect_retries_empty(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	VmtDamonTarget t;
	guint16 freq[4] = { 7, 7, 7, 7 }, *freqs[] = { freq };
	guint n[] = { 4 }, regions, tries;
	guint64 us;
	VmtDamon *d = started(f, ranges, &t);

	put(f, KDS "/0/contexts/0/schemes/0/tried_regions/total_bytes", "0\n");
	g_assert_true(vmt_host_damon_collect(d, freqs, n, 1, &error));
	g_assert_no_error(error);
	vmt_host_damon_last_update(d, &regions, &tries, &us);
	g_assert_cmpuint(regions, ==, 0);
	g_assert_cmpuint(tries, ==, VMT_DAMON_UPDATE_TRIES);
	g_assert_cmpuint(freq[0] | freq[1] | freq[2] | freq[3], ==, 0);
	/* an aggregation's worth: chunk 1 (2-4 MiB) accessed in 100 of 200 samples */
	put(f, KDS "/0/contexts/0/schemes/0/tried_regions/total_bytes", "2097152\n");
	put(f, KDS "/0/contexts/0/schemes/0/tried_regions/0/start", "139637978824704\n");
	put(f, KDS "/0/contexts/0/schemes/0/tried_regions/0/end", "139637980921856\n");
	put(f, KDS "/0/contexts/0/schemes/0/tried_regions/0/nr_accesses", "100\n");
	g_assert_true(vmt_host_damon_collect(d, freqs, n, 1, &error));
	g_assert_no_error(error);
	vmt_host_damon_last_update(d, &regions, &tries, &us);
	g_assert_cmpuint(regions, ==, 1);
	g_assert_cmpuint(tries, ==, 1);
	g_assert_cmpuint(freq[0], ==, 0);
	g_assert_cmpuint(freq[1], ==, VMT_ACCESS_MAX / 2);
	vmt_host_damon_release(d);
}

/* our marker says one kdamond, and there are two now: someone rewrote
 * DAMON after vmtierd went away (their second kdamond set up but not yet
 * on); nothing of it is vmtierd's to wipe */
static void test_rewritten_while_away(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	put(f, KDS "/nr_kdamonds", "2\n");
	put(f, KDS "/1/state", "off\n");
	put(f, KDS "/1/contexts/0/operations", "vaddr\n");
	g_assert_true(g_file_set_contents(f->marker, "vmtierd\nnr 1\nkdamond 4242\n", -1, NULL));
	g_assert_null(vmt_host_damon_claim(f->marker, "fvaddr", &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
	g_assert_nonnull(strstr(error->message, "not as vmtierd left them"));
	{
		g_autofree char *n = get(f, KDS "/nr_kdamonds");
		g_autofree char *st0 = get(f, KDS "/0/state");
		g_autofree char *ops1 = get(f, KDS "/1/contexts/0/operations");

		g_assert_cmpstr(n, ==, "2");
		g_assert_cmpstr(st0, ==, "on");
		g_assert_cmpstr(ops1, ==, "vaddr");
	}
}

/* while vmtierd runs, someone turns its kdamond off, rewrites DAMON and
 * starts their own: vmtierd's next restart and its release touch nothing */
static void test_taken_over(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(VmtRange));
	VmtDamonTarget t;
	VmtDamon *d = started(f, ranges, &t);

	/* theirs: another thread, and (a second case below) another count */
	put(f, KDS "/0/pid", "7777\n");
	put(f, KDS "/0/state", "on\n");
	put(f, KDS "/0/contexts/0/operations", "paddr\n");
	g_assert_false(vmt_host_damon_start(d, &t, 1, 5000, 1000000, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
	g_assert_nonnull(strstr(error->message, "pid 7777"));
	g_clear_error(&error);
	put(f, KDS "/nr_kdamonds", "2\n");
	g_assert_false(vmt_host_damon_start(d, &t, 1, 5000, 1000000, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
	g_assert_nonnull(strstr(error->message, "taken over"));
	vmt_host_damon_release(d);
	{
		g_autofree char *n = get(f, KDS "/nr_kdamonds");
		g_autofree char *st = get(f, KDS "/0/state");
		g_autofree char *ops = get(f, KDS "/0/contexts/0/operations");

		g_assert_cmpstr(n, ==, "2");
		g_assert_cmpstr(st, ==, "on");
		g_assert_cmpstr(ops, ==, "paddr");
	}
	/* and the marker no longer says they are vmtierd's */
	g_assert_false(g_file_test(f->marker, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define T(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
	T("/damon/foreign-left-alone", test_foreign_left_alone);
	T("/damon/marker-of-another-kdamond", test_marker_of_another_kdamond);
	T("/damon/two-kdamonds", test_two_kdamonds);
	T("/damon/own-reclaimed", test_own_reclaimed);
	T("/damon/collect-other-guests", test_collect_other_guests);
	T("/damon/collect-retries-empty", test_collect_retries_empty);
	T("/damon/rewritten-while-away", test_rewritten_while_away);
	T("/damon/taken-over", test_taken_over);
	return g_test_run();
}
