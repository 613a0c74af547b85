// SPDX-License-Identifier: GPL-2.0-or-later
/* The history store on real SQLite in a temporary directory (round trips,
 * reopening, a crash without close, schema migration and refusal), the SLO
 * arithmetic, class files, and the Prometheus textfile. */
#include <gio/gio.h>

#include "class.h"
#include "history.h"
#include "metrics.h"
#include "slo.h"
#include "tmpdir.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmpdir;

static char *tmp_path(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

static VmtHistorySample sample(const char *vm, const char *tenant, const char *klass, gint64 ts)
{
	VmtHistorySample s = {
		.ts = ts, .interval_s = 60, .vm = vm, .tenant = tenant, .klass = klass,
		.scanner = "damon", .quota_bytes = 2ull << 30, .ram_bytes = 8ull << 30,
		.dram_bytes = 1ull << 30, .slow_bytes = 6ull << 30, .hot_bytes = 512ull << 20,
		.dram_access_share = 0.875, .hot_coverage = 0.96875, .promoted_bytes = 4096,
		.demoted_bytes = 8192, .migrations = 3, .slo_met = 1,
	};
	return s;
}

static gboolean collect(const VmtHistorySample *s, gpointer data, GError **error)
{
	GPtrArray *rows = data;
	g_ptr_array_add(rows, g_strdup_printf("%" G_GINT64_FORMAT " %u %s %s %s %s %" G_GUINT64_FORMAT
					      " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
					      " %" G_GUINT64_FORMAT " %g %g %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
					      " %u %d", s->ts, s->interval_s, s->vm, s->tenant,
					      s->klass ? s->klass : "(null)", s->scanner ? s->scanner : "(null)",
					      s->quota_bytes, s->ram_bytes, s->dram_bytes, s->slow_bytes,
					      s->hot_bytes, s->dram_access_share, s->hot_coverage,
					      s->promoted_bytes, s->demoted_bytes, s->migrations, s->slo_met));
	return TRUE;
}

static GPtrArray *rows_of(VmtHistory *h, const VmtHistoryQuery *q)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
	VmtHistoryQuery all = VMT_HISTORY_QUERY_INIT;
	g_autoptr(GError) error = NULL;

	g_assert_true(vmt_history_foreach(h, q ? q : &all, collect, rows, NULL, &error));
	g_assert_no_error(error);
	return rows;
}

/* Runs SQL on PATH with SQLite directly (crafts and inspects stores): the
 * first column of the first row as text, "" when none. */
static char *sql_text(const char *path, const char *stmt)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *v;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, stmt, -1, &st, NULL), ==, SQLITE_OK);
	v = g_strdup(sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v ? v : g_strdup("");
}

static gint64 sql(const char *path, const char *stmt)
{
	g_autofree char *v = sql_text(path, stmt);

	return g_ascii_strtoll(v, NULL, 10);
}

static void test_round_trip(void)
{
	g_autofree char *path = tmp_path("rt.db");
	g_autoptr(GError) error = NULL;
	VmtHistoryTotals t = { 1ull << 40, 7, 9, 2, 1000 }, back;
	g_autoptr(GPtrArray) before = NULL, after = NULL;
	VmtHistorySample s1 = sample("vm1", "acme", "budget", 1000), s2 = sample("vm1", "acme", NULL, 1060);
	VmtHistorySample s3 = sample("vm2", "globex", "premium", 1000);

	s2.scanner = NULL;
	s2.slo_met = -1;
	s3.slo_met = 0;
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, &error);
		g_assert_no_error(error);
		g_assert_true(vmt_history_add(h, &s1, &error) && vmt_history_add(h, &s2, &error) &&
			      vmt_history_add(h, &s3, &error));
		g_assert_no_error(error);
		/* a VM never seen has all-zero totals */
		memset(&back, 0xff, sizeof(back));
		g_assert_true(vmt_history_load_totals(h, "vm1", &back, &error));
		g_assert_cmpuint(back.promoted_bytes + back.demoted_bytes + back.migrations +
				 back.move_errors + back.windows, ==, 0);
		t.slo_met = 5;
		t.slo_warm_up = 2;
		t.seconds = 86400;
		t.dram_byte_seconds = 0.1 + (double)(1ull << 62);	/* past INTEGER's range */
		t.hot_coverage_seconds = 1.0 / 3;
		t.access_observed_seconds = 77;
		g_assert_true(vmt_history_save_totals(h, "vm1", &t, &error));
		t.windows = 1001;	/* saving again replaces */
		g_assert_true(vmt_history_save_totals(h, "vm1", &t, &error));
		g_assert_no_error(error);
		before = rows_of(h, NULL);
	}
	g_assert_cmpint(sql(path, "PRAGMA user_version"), ==, vmt_history_schema_version());
	{
		g_autofree char *mode = sql_text(path, "PRAGMA journal_mode");
		g_assert_cmpstr(mode, ==, "wal");
	}
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, &error);
		g_assert_no_error(error);
		after = rows_of(h, NULL);
		g_assert_true(vmt_history_load_totals(h, "vm1", &back, &error));
		g_assert_cmpmem(&back, sizeof(back), &t, sizeof(t));
	}
	g_assert_cmpuint(after->len, ==, 3);
	for (guint i = 0; i < 3; i++)
		g_assert_cmpstr(after->pdata[i], ==, before->pdata[i]);
	/* by tenant, VM, class (none first), time; every field kept */
	g_assert_true(g_str_has_prefix(after->pdata[0], "1060 60 vm1 acme (null) (null) "));
	g_assert_true(g_str_has_suffix(after->pdata[0], " -1"));
	g_assert_cmpstr(after->pdata[1], ==, "1000 60 vm1 acme budget damon 2147483648 8589934592 "
			"1073741824 6442450944 536870912 0.875 0.96875 4096 8192 3 1");
	g_assert_true(g_str_has_prefix(after->pdata[2], "1000 60 vm2 globex premium "));
}

/* Tenants' history is root's alone: a new store and its -wal and -shm are
 * 0600 whatever the umask, and an older store left 0644 is put right. */
static mode_t mode_of(const char *path)
{
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	return st.st_mode & 07777;
}

static void test_private(void)
{
	g_autofree char *path = tmp_path("private.db");
	g_autofree char *wal = g_strconcat(path, "-wal", NULL);
	g_autofree char *shm = g_strconcat(path, "-shm", NULL);
	g_autoptr(GError) error = NULL;
	VmtHistorySample s = sample("vm1", "acme", "budget", 1000);
	mode_t old = umask(022);

	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, &error);
		g_assert_no_error(error);
		g_assert_true(vmt_history_add(h, &s, &error));
		g_assert_cmpint(mode_of(path), ==, 0600);
		g_assert_cmpint(mode_of(wal), ==, 0600);
		g_assert_cmpint(mode_of(shm), ==, 0600);
	}
	g_assert_cmpint(g_chmod(path, 0644), ==, 0);
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, &error);
		g_assert_no_error(error);
		g_assert_cmpint(mode_of(path), ==, 0600);
	}
	umask(old);
}

/* An interval's row and the VM's running totals go in together or not at
 * all: a bad sample leaves the totals as they were. */
static void test_record_atomic(void)
{
	g_autofree char *path = tmp_path("record.db");
	g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
	g_autoptr(GError) error = NULL;
	VmtHistorySample ok = sample("vm1", "acme", "budget", 60), bad = sample("vm1", "acme", "budget", 120);
	VmtHistoryTotals t1 = { .promoted_bytes = 4096, .windows = 1 }, t2 = { .promoted_bytes = 8192, .windows = 2 };
	VmtHistoryTotals back;
	g_autoptr(GPtrArray) rows = NULL;

	g_assert_nonnull(h);
	g_assert_true(vmt_history_record(h, &ok, &t1, &error));
	g_assert_no_error(error);
	bad.dram_access_share = 1.5;
	g_assert_false(vmt_history_record(h, &bad, &t2, &error));
	g_assert_nonnull(strstr(error->message, "dram_access_share"));
	g_assert_true(vmt_history_load_totals(h, "vm1", &back, NULL));
	g_assert_cmpmem(&back, sizeof(back), &t1, sizeof(t1));
	rows = rows_of(h, NULL);
	g_assert_cmpuint(rows->len, ==, 1);
	/* and the store still takes the next interval */
	bad.dram_access_share = 0.5;
	g_assert_true(vmt_history_record(h, &bad, &t2, NULL));
	g_assert_true(vmt_history_load_totals(h, "vm1", &back, NULL));
	g_assert_cmpuint(back.windows, ==, 2);
}

static void test_query_and_replace(void)
{
	g_autofree char *path = tmp_path("query.db");
	g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
	VmtHistoryQuery q = VMT_HISTORY_QUERY_INIT;
	g_autoptr(GPtrArray) rows = NULL;
	guint removed = 0;

	g_assert_nonnull(h);
	for (gint64 ts = 60; ts <= 600; ts += 60) {
		VmtHistorySample a = sample("a", "t1", "budget", ts), b = sample("b", "t2", "budget", ts);
		g_assert_true(vmt_history_add(h, &a, NULL) && vmt_history_add(h, &b, NULL));
	}
	{	/* the same VM and time again replaces the row */
		VmtHistorySample again = sample("a", "t1", "budget", 600);
		again.migrations = 42;
		g_assert_true(vmt_history_add(h, &again, NULL));
	}
	q.tenant = "t1";
	q.since = 120;
	q.until = 300;
	g_clear_pointer(&rows, g_ptr_array_unref);
	rows = rows_of(h, &q);
	g_assert_cmpuint(rows->len, ==, 3);	/* (120, 300]: 180, 240, 300 */
	g_assert_true(g_str_has_prefix(rows->pdata[0], "180 60 a t1 "));
	q = (VmtHistoryQuery)VMT_HISTORY_QUERY_INIT;
	q.vm = "a";
	g_clear_pointer(&rows, g_ptr_array_unref);
	rows = rows_of(h, &q);
	g_assert_cmpuint(rows->len, ==, 10);
	g_assert_nonnull(strstr(rows->pdata[9], " 42 1"));
	g_assert_true(vmt_history_prune(h, 300, &removed, NULL));
	g_assert_cmpuint(removed, ==, 8);	/* 60..240 of both VMs */
	g_clear_pointer(&rows, g_ptr_array_unref);
	rows = rows_of(h, NULL);
	g_assert_cmpuint(rows->len, ==, 12);
}

static void test_bad_samples(void)
{
	g_autofree char *path = tmp_path("bad.db");
	g_autoptr(VmtHistory) h = vmt_history_open(path, NULL);
	VmtHistorySample s = sample("vm1", "acme", "budget", 60);
	g_autoptr(GPtrArray) rows = NULL;
	GError *error = NULL;

	s.slo_met = 2;
	g_assert_false(vmt_history_add(h, &s, &error));
	g_assert_cmpstr(error->message, ==, "sample of vm1: slo_met 2 is not 1, 0 or -1");
	g_clear_error(&error);
	s.slo_met = 1;
	s.hot_coverage = NAN;
	g_assert_false(vmt_history_add(h, &s, &error));
	g_assert_nonnull(strstr(error->message, "hot_coverage nan is not between 0 and 1"));
	g_clear_error(&error);
	s.hot_coverage = 1;
	s.dram_access_share = 1.5;
	g_assert_false(vmt_history_add(h, &s, &error));
	g_assert_nonnull(strstr(error->message, "dram_access_share 1.5"));
	g_clear_error(&error);
	s.dram_access_share = 1;
	s.tenant = NULL;
	g_assert_false(vmt_history_add(h, &s, &error));
	g_clear_error(&error);
	rows = rows_of(h, NULL);
	g_assert_cmpuint(rows->len, ==, 0);
}

/* vmtierd killed (-9) after writing: a process that never closes the store. */
static void test_crash(void)
{
	g_autofree char *path = tmp_path("crash.db");
	VmtHistoryTotals t = { 1, 2, 3, 4, 5 }, back;
	g_autoptr(VmtHistory) h = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	int status;
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		VmtHistory *child = vmt_history_open(path, NULL);
		for (gint64 ts = 60; ts <= 180; ts += 60) {
			VmtHistorySample s = sample("vm1", "acme", "budget", ts);
			if (!child || !vmt_history_add(child, &s, NULL))
				_exit(1);
		}
		_exit(vmt_history_save_totals(child, "vm1", &t, NULL) ? 0 : 1);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	h = vmt_history_open(path, NULL);
	g_assert_nonnull(h);
	rows = rows_of(h, NULL);
	g_assert_cmpuint(rows->len, ==, 3);
	g_assert_true(vmt_history_load_totals(h, "vm1", &back, NULL));
	g_assert_cmpmem(&back, sizeof(back), &t, sizeof(t));
}

static void test_open_errors(void)
{
	g_autofree char *nodir = tmp_path("no/such/dir/history.db");
	g_autofree char *missing = tmp_path("missing.db");
	g_autofree char *junk = tmp_path("junk.db");
	GError *error = NULL;

	g_assert_null(vmt_history_open(nodir, &error));
	g_assert_nonnull(strstr(error->message, nodir));
	g_assert_nonnull(strstr(error->message, "no directory"));
	g_clear_error(&error);
	/* the report opens read-only: a missing store is named, not created */
	g_assert_null(vmt_history_open_readonly(missing, &error));
	g_assert_true(g_str_has_prefix(error->message, missing));
	g_assert_true(g_str_has_suffix(error->message, ": no such file"));
	g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
	g_clear_error(&error);
	g_assert_true(g_file_set_contents(junk, "this is no database, just text that is long enough "
					  "to fill a header of one hundred bytes or so, and more", -1, NULL));
	g_assert_null(vmt_history_open(junk, &error));
	g_assert_nonnull(strstr(error->message, junk));
	g_assert_nonnull(strstr(error->message, "not a database"));
	g_clear_error(&error);
}

static void test_migrate_v0(void)
{
	g_autofree char *path = tmp_path("v0.db");
	g_autoptr(VmtHistory) h = NULL;
	g_autoptr(GError) error = NULL;
	VmtHistorySample s = sample("vm1", "acme", "budget", 60);

	/* a version-0 store: what a pre-schema build or another tool left */
	sql(path, "CREATE TABLE notes (x TEXT)");
	sql(path, "INSERT INTO notes VALUES ('kept')");
	g_assert_cmpint(sql(path, "PRAGMA user_version"), ==, 0);
	h = vmt_history_open(path, &error);
	g_assert_no_error(error);
	g_assert_true(vmt_history_add(h, &s, &error));
	g_clear_pointer(&h, vmt_history_close);
	g_assert_cmpint(sql(path, "PRAGMA user_version"), ==, vmt_history_schema_version());
	g_assert_cmpint(sql(path, "SELECT count(*) FROM samples"), ==, 1);
	g_assert_cmpint(sql(path, "SELECT count(*) FROM notes WHERE x = 'kept'"), ==, 1);
}

/* A store as version 1 wrote it, with a row and totals of vm1. */
static void make_v1(const char *path)
{
	sql(path, "PRAGMA application_id = 1986884712");
	sql(path, "CREATE TABLE samples (ts INTEGER NOT NULL, interval_s INTEGER NOT NULL,"
		  " vm TEXT NOT NULL, tenant TEXT NOT NULL, class TEXT, scanner TEXT,"
		  " quota_bytes INTEGER NOT NULL, ram_bytes INTEGER NOT NULL, dram_bytes INTEGER NOT NULL,"
		  " slow_bytes INTEGER NOT NULL, hot_bytes INTEGER NOT NULL,"
		  " dram_access_share REAL NOT NULL, hot_coverage REAL NOT NULL,"
		  " promoted_bytes INTEGER NOT NULL, demoted_bytes INTEGER NOT NULL,"
		  " migrations INTEGER NOT NULL, slo_met INTEGER NOT NULL CHECK (slo_met IN (-1, 0, 1)))");
	sql(path, "CREATE TABLE totals (vm TEXT PRIMARY KEY, promoted_bytes INTEGER NOT NULL,"
		  " demoted_bytes INTEGER NOT NULL, migrations INTEGER NOT NULL,"
		  " move_errors INTEGER NOT NULL, windows INTEGER NOT NULL)");
	sql(path, "INSERT INTO samples VALUES (60, 60, 'vm1', 'acme', 'budget', 'damon', 1, 2, 1, 1,"
		  " 1, 0.5, 1.0, 0, 0, 0, 1)");
	sql(path, "INSERT INTO totals VALUES ('vm1', 1, 2, 3, 4, 5)");
	sql(path, "PRAGMA user_version = 1");
}

/* A version-1 store (before the SLO counters and the grace flag): its rows
 * and totals stay, the new counts start at zero. */
static void test_migrate_v1(void)
{
	g_autofree char *path = tmp_path("v1.db");
	g_autoptr(VmtHistory) h = NULL;
	g_autoptr(GError) error = NULL;
	VmtHistoryTotals t;

	make_v1(path);
	h = vmt_history_open(path, &error);
	g_assert_no_error(error);
	g_assert_cmpint(sql(path, "PRAGMA user_version"), ==, vmt_history_schema_version());
	g_assert_true(vmt_history_load_totals(h, "vm1", &t, &error));
	g_assert_cmpuint(t.windows, ==, 5);
	g_assert_cmpuint(t.slo_met + t.slo_missed + t.slo_not_judged, ==, 0);
	g_assert_cmpint(sql(path, "SELECT count(*) FROM samples WHERE slo_grace = 0"), ==, 1);
	t.slo_met = 7;
	g_assert_true(vmt_history_save_totals(h, "vm1", &t, &error));
	g_assert_true(vmt_history_load_totals(h, "vm1", &t, &error));
	g_assert_cmpuint(t.slo_met, ==, 7);
}

/* A version-2 store (SLO counters, no sums for coverage and residency),
 * as the build before wrote it: it opens, its rows and totals stay, the
 * sums start at zero and then count; `vmtier report` reads it after. */
static void test_migrate_v2(void)
{
	g_autofree char *path = tmp_path("v2.db");
	g_autoptr(GError) error = NULL;
	VmtHistorySample s = sample("vm1", "acme", "budget", 120);
	VmtHistoryTotals t, want;
	guint rows = 0;

	make_v1(path);
	sql(path, "ALTER TABLE totals ADD COLUMN slo_met INTEGER NOT NULL DEFAULT 0");
	sql(path, "ALTER TABLE totals ADD COLUMN slo_missed INTEGER NOT NULL DEFAULT 0");
	sql(path, "ALTER TABLE totals ADD COLUMN slo_not_judged INTEGER NOT NULL DEFAULT 0");
	sql(path, "ALTER TABLE samples ADD COLUMN slo_grace INTEGER NOT NULL DEFAULT 0 CHECK (slo_grace IN (0, 1))");
	sql(path, "UPDATE totals SET slo_met = 6, slo_missed = 1, slo_not_judged = 2");
	sql(path, "PRAGMA user_version = 2");
	{
		g_autoptr(VmtHistory) h = vmt_history_open(path, &error);

		g_assert_no_error(error);
		g_assert_cmpint(sql(path, "PRAGMA user_version"), ==, 3);
		g_assert_true(vmt_history_load_totals(h, "vm1", &t, &error));
		g_assert_cmpuint(t.windows, ==, 5);
		g_assert_cmpuint(t.slo_met, ==, 6);
		g_assert_cmpuint(t.slo_not_judged, ==, 2);
		g_assert_cmpuint(t.seconds + t.slo_warm_up + t.hot_observed_seconds + t.access_observed_seconds, ==, 0);
		g_assert_cmpfloat(t.dram_byte_seconds + t.slow_byte_seconds + t.hot_coverage_seconds, ==, 0);
		/* vmtierd carries on: the next interval counts from there */
		vmt_history_totals_add(&t, &s);
		want = t;
		g_assert_true(vmt_history_record(h, &s, &t, &error));
		g_assert_no_error(error);
		g_assert_true(vmt_history_load_totals(h, "vm1", &t, &error));
		g_assert_cmpmem(&t, sizeof(t), &want, sizeof(want));
		g_assert_cmpuint(t.slo_met, ==, 7);
		g_assert_cmpuint(t.seconds, ==, 60);
		g_assert_cmpuint(t.hot_observed_seconds, ==, 60);
		g_assert_cmpfloat(t.dram_byte_seconds, ==, 60.0 * (1ull << 30));
		g_assert_cmpfloat(t.hot_coverage_seconds, ==, 60 * 0.96875);
		g_assert_cmpfloat(t.dram_access_share_seconds, ==, 60 * 0.875);
	}
	{
		g_autoptr(VmtHistory) ro = vmt_history_open_readonly(path, &error);
		VmtHistoryQuery all = VMT_HISTORY_QUERY_INIT;
		g_autoptr(GPtrArray) got = NULL;

		g_assert_no_error(error);
		got = rows_of(ro, &all);
		rows = got->len;
	}
	g_assert_cmpuint(rows, ==, 2);	/* version 1's row and the new one */
}

/* vmt_history_totals_add: what each interval adds (the report's rules:
 * coverage only with hot memory and a seeing sensor, a share only when
 * known, the warm-up counted apart). */
static void test_totals_add(void)
{
	VmtHistoryTotals t = { 0 };
	VmtHistorySample s = sample("vm1", "acme", "budget", 60);

	vmt_history_totals_add(&t, &s);
	s.interval_s = 30;
	s.hot_coverage = s.dram_access_share = -1;	/* a blind sensor */
	s.slo_met = -1;
	s.slo_grace = TRUE;
	vmt_history_totals_add(&t, &s);
	s.interval_s = 10;
	s.hot_bytes = 0;			/* no hot memory: its coverage means nothing */
	s.hot_coverage = 1;
	s.dram_access_share = 0.5;
	s.slo_grace = FALSE;
	vmt_history_totals_add(&t, &s);
	g_assert_cmpuint(t.slo_met, ==, 1);
	g_assert_cmpuint(t.slo_not_judged, ==, 2);
	g_assert_cmpuint(t.slo_warm_up, ==, 1);
	g_assert_cmpuint(t.seconds, ==, 100);
	g_assert_cmpfloat(t.dram_byte_seconds, ==, 100.0 * (1ull << 30));
	g_assert_cmpfloat(t.slow_byte_seconds, ==, 600.0 * (1ull << 30));
	g_assert_cmpfloat(t.hot_byte_seconds, ==, 90.0 * (512ull << 20));
	g_assert_cmpuint(t.hot_observed_seconds, ==, 60);
	g_assert_cmpfloat(t.hot_coverage_seconds, ==, 60 * 0.96875);
	g_assert_cmpuint(t.access_observed_seconds, ==, 70);
	g_assert_cmpfloat(t.dram_access_share_seconds, ==, 60 * 0.875 + 10 * 0.5);
	g_assert_cmpuint(t.promoted_bytes + t.migrations + t.windows, ==, 0);
}

/* A migration that fails leaves the store as it was: one transaction. */
static void test_migrate_fails_atomically(void)
{
	g_autofree char *path = tmp_path("v0-clash.db");
	GError *error = NULL;

	sql(path, "CREATE TABLE totals (vm TEXT)");	/* clashes with v1's totals */
	g_assert_null(vmt_history_open(path, &error));
	g_assert_nonnull(strstr(error->message, "migrating schema version 0 to 1"));
	g_assert_nonnull(strstr(error->message, path));
	g_clear_error(&error);
	g_assert_cmpint(sql(path, "PRAGMA user_version"), ==, 0);
	g_assert_cmpint(sql(path, "SELECT count(*) FROM sqlite_master WHERE name = 'samples'"), ==, 0);
}

static void test_newer_version(void)
{
	g_autofree char *path = tmp_path("v99.db");
	g_autofree char *want = NULL;
	GError *error = NULL;

	sql(path, "PRAGMA user_version = 99");
	want = g_strdup_printf("%s: schema version 99 is newer than this vmtier's (%d): use a newer vmtier",
			       path, vmt_history_schema_version());
	g_assert_null(vmt_history_open(path, &error));
	g_assert_cmpstr(error->message, ==, want);
	g_clear_error(&error);
	g_assert_null(vmt_history_open_readonly(path, &error));
	g_assert_cmpstr(error->message, ==, want);
	g_clear_error(&error);
	g_assert_cmpint(sql(path, "PRAGMA user_version"), ==, 99);
	/* and a read-only open refuses an older one rather than migrating it */
	sql(path, "PRAGMA user_version = 0");
	g_assert_null(vmt_history_open_readonly(path, &error));
	g_free(want);
	want = g_strdup_printf("schema version 0 is older than this vmtier's (%d)", vmt_history_schema_version());
	g_assert_nonnull(strstr(error->message, want));
	g_clear_error(&error);
	sql(path, "PRAGMA application_id = 42");
	g_assert_null(vmt_history_open(path, &error));
	g_assert_nonnull(strstr(error->message, "not a vmtier history (application id 42)"));
	g_clear_error(&error);
}

static void test_slo_judge(void)
{
	/* 19 of 20 hot chunks in DRAM is exactly the 95% target */
	g_assert_cmpint(vmt_slo_judge(20, 19.0 / 20.0, 0.95), ==, 1);
	g_assert_cmpint(vmt_slo_judge(100, 94.0 / 100.0, 0.95), ==, 0);
	g_assert_cmpint(vmt_slo_judge(1000, 0.9499, 0.95), ==, 0);
	g_assert_cmpint(vmt_slo_judge(1, 1.0, 0.995), ==, 1);
	g_assert_cmpint(vmt_slo_judge(0, 0.0, 0.95), ==, -1);	/* no hot memory: not judged */
	g_assert_cmpint(vmt_slo_judge(0, 1.0, 0.95), ==, -1);
}

static void test_slo_compliance(void)
{
	VmtSloTally t = { 0 }, u = { 0 };

	g_assert_cmpint(vmt_slo_compliant(&t, 0.99), ==, -1);
	g_assert_cmpfloat(vmt_slo_compliance(&t), ==, -1);
	for (guint i = 0; i < 99; i++)
		vmt_slo_tally_add(&t, 1);
	vmt_slo_tally_add(&t, 0);
	for (guint i = 0; i < 5; i++)
		vmt_slo_tally_add(&t, -1);
	g_assert_cmpuint(t.met, ==, 99);
	g_assert_cmpuint(t.missed, ==, 1);
	g_assert_cmpuint(t.unjudged, ==, 5);
	g_assert_cmpuint(vmt_slo_tally_judged(&t), ==, 100);
	g_assert_cmpfloat(vmt_slo_compliance(&t), ==, 0.99);
	g_assert_cmpint(vmt_slo_compliant(&t, 0.99), ==, 1);	/* 99 of 100 is 99% */
	g_assert_cmpint(vmt_slo_compliant(&t, 0.995), ==, 0);
	vmt_slo_tally_add(&u, 0);
	vmt_slo_tally_merge(&t, &u);	/* 99 of 101 */
	g_assert_cmpint(vmt_slo_compliant(&t, 0.99), ==, 0);
	g_assert_cmpuint(t.missed, ==, 2);
}

static void write_class(const char *name, const char *body)
{
	g_autofree char *path = g_strdup_printf("%s/%s.conf", tmpdir, name);
	g_assert_true(g_file_set_contents(path, body, -1, NULL));
}

static void test_class(void)
{
	g_autoptr(VmtClass) budget = vmt_class_load(g_getenv("VMTIER_CLASSES"), "budget", NULL);
	GError *error = NULL;
	VmtClass *c;

	g_assert_nonnull(budget);
	g_assert_true(budget->has_slo);
	g_assert_cmpfloat(budget->slo_target, ==, 0.95);
	g_assert_cmpfloat(budget->slo_intervals, ==, 0.99);
	g_assert_cmpfloat(budget->dram_share, ==, 0.125);
	g_assert_cmpuint(budget->scan_interval_s, ==, 10);
	g_assert_cmpuint(budget->max_migrate_mbs, ==, 64);
	g_assert_cmpuint(budget->slo_grace_s, ==, 300);

	write_class("nograce", "[class]\ndram_share=0.5\nslo_grace_s=0\n");
	c = vmt_class_load(tmpdir, "nograce", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(c->slo_grace_s, ==, 0);
	vmt_class_free(c);
	write_class("dflgrace", "[class]\ndram_share=0.5\n");
	c = vmt_class_load(tmpdir, "dflgrace", &error);
	g_assert_cmpuint(c->slo_grace_s, ==, VMT_CLASS_SLO_GRACE_S);
	vmt_class_free(c);
	write_class("badgrace", "[class]\ndram_share=0.5\nslo_grace_s=-5\n");
	g_assert_null(vmt_class_load(tmpdir, "badgrace", &error));
	g_assert_nonnull(strstr(error->message, "badgrace.conf: slo_grace_s is not a positive whole number"));
	g_clear_error(&error);

	write_class("noslo", "[class]\ndram_share=0.5\n");
	c = vmt_class_load(tmpdir, "noslo", &error);
	g_assert_no_error(error);
	g_assert_false(c->has_slo);
	vmt_class_free(c);

	write_class("over", "[class]\ndram_share=0.5\nslo_target=1.5\nslo_intervals=0.9\n");
	g_assert_null(vmt_class_load(tmpdir, "over", &error));
	g_assert_nonnull(strstr(error->message, "over.conf: slo_target 1.5 is not between 0 and 1"));
	g_clear_error(&error);
	write_class("half", "[class]\ndram_share=0.5\nslo_target=0.9\n");
	g_assert_null(vmt_class_load(tmpdir, "half", &error));
	g_assert_nonnull(strstr(error->message, "half.conf: give both slo_target and slo_intervals"));
	g_clear_error(&error);
	write_class("word", "[class]\ndram_share=0.5\nscan_interval_s=soon\n");
	g_assert_null(vmt_class_load(tmpdir, "word", &error));
	g_assert_nonnull(strstr(error->message, "word.conf: scan_interval_s is not a positive whole number"));
	g_clear_error(&error);
	/* a migration rate near 2^32 MiB/s overflowed the daemon's per-window budget */
	write_class("fast", "[class]\ndram_share=0.5\nmax_migrate_mbs=4294967295\n");
	g_assert_null(vmt_class_load(tmpdir, "fast", &error));
	g_assert_nonnull(strstr(error->message, "fast.conf: max_migrate_mbs 4294967295 is over 1000000"));
	g_clear_error(&error);
	g_assert_null(vmt_class_load(tmpdir, "gold", &error));
	g_assert_nonnull(strstr(error->message, "no class 'gold'"));
	g_clear_error(&error);
	g_assert_null(vmt_class_load(tmpdir, "../etc/passwd", &error));
	g_assert_cmpstr(error->message, ==, "bad class name '../etc/passwd'");
	g_clear_error(&error);
}

static void test_metrics(void)
{
	VmtHistorySample s[2] = {
		sample("vm1", "a \"b\" \\c\nd", "budget", 1700000000),
		sample("vm2", "t2", NULL, 1700000000),
	};
	VmtHistoryTotals t[2] = { { 10, 20, 30, 40, 50, 7, 2, 1 }, { 1, 2, 3, 4, 5, 0, 0, 9 } };
	VmtMetricsVm vms[2] = { { &s[0], &t[0], TRUE, 0.95, 0.99, 300 }, { &s[1], &t[1], FALSE } };
	g_autofree char *path = tmp_path("vmtier.prom"), *text = NULL, *back = NULL;
	g_autoptr(GDir) dir = NULL;
	GError *error = NULL;
	const char *name;
	guint files = 0;

	s[1].slo_met = -1;
	s[1].dram_access_share = -1;	/* unknown: no series */
	t[0].dram_byte_seconds = 1.5e12;
	t[0].hot_coverage_seconds = 0.1;
	text = vmt_metrics_format(NULL, vms, 2, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(text, "# HELP vmtier_vm_dram_bytes "));
	g_assert_nonnull(strstr(text, "# TYPE vmtier_vm_dram_bytes gauge\n"));
	g_assert_nonnull(strstr(text, "# TYPE vmtier_vm_promoted_bytes_total counter\n"));
	/* data series: the domain only; descriptive labels on the info series */
	g_assert_nonnull(strstr(text, "\nvmtier_vm_dram_bytes{domain=\"vm1\"} 1073741824\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_hot_coverage_ratio{domain=\"vm2\"} 0.96875\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_move_failed_pages_total{domain=\"vm1\"} 40\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_move_calls_total{domain=\"vm1\"} 30\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_info{domain=\"vm1\",tenant=\"a \\\"b\\\" \\\\c\\nd\","
				"class=\"budget\",scanner=\"damon\"} 1\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_info{domain=\"vm2\",tenant=\"t2\",class=\"\",scanner=\"damon\"} 1\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_slo_intervals_total{domain=\"vm1\",result=\"met\"} 7\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_slo_intervals_total{domain=\"vm1\",result=\"missed\"} 2\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_slo_intervals_total{domain=\"vm2\",result=\"not_judged\"} 9\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_slo_coverage_target_ratio{domain=\"vm1\"} 0.95\n"));
	/* the sums: doubles, one series per tier */
	g_assert_nonnull(strstr(text, "\nvmtier_vm_memory_byte_seconds_total{domain=\"vm1\",tier=\"dram\"} 1500000000000\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_memory_byte_seconds_total{domain=\"vm1\",tier=\"slow\"} 0\n"));
	g_assert_nonnull(strstr(text, "\nvmtier_vm_hot_coverage_seconds_total{domain=\"vm1\"} 0.1\n"));
	/* no SLO, no target; an unknown share is absent, not -1 */
	g_assert_null(strstr(text, "\nvmtier_vm_slo_coverage_target_ratio{domain=\"vm2\""));
	g_assert_null(strstr(text, "\nvmtier_vm_dram_access_share_ratio{domain=\"vm2\""));
	g_assert_null(strstr(text, "vmtier_daemon_info"));

	g_assert_true(vmt_metrics_write(path, NULL, vms, 2, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(path, &back, NULL, NULL));
	g_assert_cmpstr(back, ==, text);
	g_assert_true(vmt_metrics_write(path, NULL, vms, 1, &error));	/* replaced whole */
	g_clear_pointer(&back, g_free);
	g_assert_true(g_file_get_contents(path, &back, NULL, NULL));
	g_assert_null(strstr(back, "vm2"));
	dir = g_dir_open(tmpdir, 0, NULL);
	while ((name = g_dir_read_name(dir)))
		files += g_str_has_prefix(name, "vmtier.prom");
	g_assert_cmpuint(files, ==, 1);	/* no temporary file left behind */

	s[1].vm = "vm1";
	g_assert_false(vmt_metrics_write(path, NULL, vms, 2, &error));
	g_assert_nonnull(strstr(error->message, "VM 'vm1' given twice"));
	g_clear_error(&error);
	{
		g_autofree char *nodir = tmp_path("nodir/vmtier.prom");
		g_assert_false(vmt_metrics_write(nodir, NULL, vms, 1, &error));
		g_assert_nonnull(strstr(error->message, nodir));
		g_clear_error(&error);
	}
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmpdir = test_tmpdir_new("vmtier-history-XXXXXX");
	g_test_add_func("/history/round-trip", test_round_trip);
	g_test_add_func("/history/query-replace-prune", test_query_and_replace);
	g_test_add_func("/history/record-atomic", test_record_atomic);
	g_test_add_func("/history/private", test_private);
	g_test_add_func("/history/bad-samples", test_bad_samples);
	g_test_add_func("/history/crash", test_crash);
	g_test_add_func("/history/open-errors", test_open_errors);
	g_test_add_func("/history/migrate-v0", test_migrate_v0);
	g_test_add_func("/history/migrate-v1", test_migrate_v1);
	g_test_add_func("/history/migrate-v2", test_migrate_v2);
	g_test_add_func("/history/totals-add", test_totals_add);
	g_test_add_func("/history/migrate-atomic", test_migrate_fails_atomically);
	g_test_add_func("/history/newer-version", test_newer_version);
	g_test_add_func("/slo/judge", test_slo_judge);
	g_test_add_func("/slo/compliance", test_slo_compliance);
	g_test_add_func("/class/load", test_class);
	g_test_add_func("/metrics/format-write", test_metrics);
	rc = g_test_run();
	test_tmpdir_remove(tmpdir);
	return rc;
}
