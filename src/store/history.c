// SPDX-License-Identifier: GPL-2.0-or-later
#include <gio/gio.h>

#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

/* Marks the file as vmtier's (PRAGMA application_id): 'vmth'. */
#define APPLICATION_ID 0x766d7468

/* migrations[v] takes the schema from version v to v + 1, inside one
 * transaction with the new user_version.  Append; never edit a shipped one. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"PRAGMA application_id = 1986884712;"
	"CREATE TABLE samples ("
	" ts INTEGER NOT NULL,"
	" interval_s INTEGER NOT NULL,"
	" vm TEXT NOT NULL,"
	" tenant TEXT NOT NULL,"
	" class TEXT,"
	" scanner TEXT,"
	" quota_bytes INTEGER NOT NULL,"
	" ram_bytes INTEGER NOT NULL,"
	" dram_bytes INTEGER NOT NULL,"
	" slow_bytes INTEGER NOT NULL,"
	" hot_bytes INTEGER NOT NULL,"
	" dram_access_share REAL NOT NULL,"
	" hot_coverage REAL NOT NULL,"
	" promoted_bytes INTEGER NOT NULL,"
	" demoted_bytes INTEGER NOT NULL,"
	" migrations INTEGER NOT NULL,"
	" slo_met INTEGER NOT NULL CHECK (slo_met IN (-1, 0, 1)));"
	/* one row per VM per interval: a repeated write replaces */
	"CREATE UNIQUE INDEX samples_vm_ts ON samples (vm, ts);"
	"CREATE INDEX samples_tenant_ts ON samples (tenant, ts);"
	"CREATE TABLE totals ("
	" vm TEXT PRIMARY KEY,"
	" promoted_bytes INTEGER NOT NULL,"
	" demoted_bytes INTEGER NOT NULL,"
	" migrations INTEGER NOT NULL,"
	" move_errors INTEGER NOT NULL,"
	" windows INTEGER NOT NULL);",
	/* 1 -> 2: the SLO's running counts (Prometheus counters survive a
	 * restart), and intervals not judged because they fell in the class's
	 * warm-up grace after a start */
	"ALTER TABLE totals ADD COLUMN slo_met INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN slo_missed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN slo_not_judged INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE samples ADD COLUMN slo_grace INTEGER NOT NULL DEFAULT 0"
	" CHECK (slo_grace IN (0, 1));",
	/* 2 -> 3: the sums behind the report's coverage, residency and
	 * warm-up (history.h), for the fleet report from Prometheus.  They
	 * start at zero, not from the rows still held: a counter that
	 * appeared at its backfilled value would count that past as new. */
	"ALTER TABLE totals ADD COLUMN slo_warm_up INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN seconds INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN dram_byte_seconds REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN slow_byte_seconds REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN hot_byte_seconds REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN hot_coverage_seconds REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN hot_observed_seconds INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN dram_access_share_seconds REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN access_observed_seconds INTEGER NOT NULL DEFAULT 0;",
};
G_STATIC_ASSERT(APPLICATION_ID == 1986884712);

struct VmtHistory {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *insert;	/* prepared on first add */
};

int vmt_history_schema_version(void)
{
	return G_N_ELEMENTS(migrations);
}

static gboolean db_fail(VmtHistory *h, const char *what, GError **error)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s: %s", h->path, what,
		    sqlite3_errmsg(h->db));
	return FALSE;
}

static gboolean exec(VmtHistory *h, const char *sql, const char *what, GError **error)
{
	return sqlite3_exec(h->db, sql, NULL, NULL, NULL) == SQLITE_OK || db_fail(h, what, error);
}

static sqlite3_stmt *prepare(VmtHistory *h, const char *sql, GError **error)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(h, "reading", error);
		return NULL;
	}
	return st;
}

/* The first column of the first row of SQL (a PRAGMA); 0 when no row. */
static gboolean query_int(VmtHistory *h, const char *sql, gint64 *out, GError **error)
{
	sqlite3_stmt *st = prepare(h, sql, error);
	int rc;

	if (!st)
		return FALSE;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE || db_fail(h, "reading", error);
}

static gboolean use_wal(VmtHistory *h, GError **error)
{
	sqlite3_stmt *st = prepare(h, "PRAGMA journal_mode = WAL", error);
	gboolean wal;

	if (!st)
		return FALSE;
	wal = sqlite3_step(st) == SQLITE_ROW &&
	      g_strcmp0((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal)
		return db_fail(h, "cannot switch to WAL journal", error);
	return exec(h, "PRAGMA synchronous = NORMAL", "setting synchronous", error);
}

static gboolean migrate(VmtHistory *h, GError **error)
{
	g_autofree char *set_version = NULL;
	gint64 v;

	if (!exec(h, "BEGIN IMMEDIATE", "locking for migration", error))
		return FALSE;
	/* read again under the lock: another opener may have migrated it */
	if (!query_int(h, "PRAGMA user_version", &v, error))
		goto fail;
	for (; v < vmt_history_schema_version(); v++)
		if (sqlite3_exec(h->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
			g_autofree char *what = g_strdup_printf("migrating schema version %" G_GINT64_FORMAT
								" to %" G_GINT64_FORMAT, v, v + 1);
			db_fail(h, what, error);
			goto fail;
		}
	set_version = g_strdup_printf("PRAGMA user_version = %d", vmt_history_schema_version());
	if (exec(h, set_version, "setting schema version", error) &&
	    exec(h, "COMMIT", "committing migration", error))
		return TRUE;
fail:
	sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return FALSE;
}

/* Refuses foreign files and schemas this build cannot read (READONLY: any
 * other than its own; else newer ones) before anything is written. */
static gboolean check_schema(VmtHistory *h, gboolean readonly, gint64 *version, GError **error)
{
	gint64 app;

	if (!query_int(h, "PRAGMA application_id", &app, error) ||
	    !query_int(h, "PRAGMA user_version", version, error))
		return FALSE;
	if (app != 0 && app != APPLICATION_ID) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "%s: not a vmtier history (application id %" G_GINT64_FORMAT ")", h->path, app);
		return FALSE;
	}
	if (*version > vmt_history_schema_version()) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "%s: schema version %" G_GINT64_FORMAT " is newer than this vmtier's (%d): "
			    "use a newer vmtier", h->path, *version, vmt_history_schema_version());
		return FALSE;
	}
	if (readonly && *version < vmt_history_schema_version()) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "%s: schema version %" G_GINT64_FORMAT " is older than this vmtier's (%d): "
			    "vmtierd migrates it when it starts", h->path, *version,
			    vmt_history_schema_version());
		return FALSE;
	}
	return TRUE;
}

/* Tenants' history is nobody else's business, and a reader holding a read
 * transaction pins the WAL: the store and its -wal and -shm are root's
 * alone.  SQLite gives -wal and -shm the mode of the database file, so
 * creating that one 0600 covers new stores; an older store's files (0644
 * before) are put right. */
static gboolean make_private(const char *path, GError **error)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		int e = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s",
			    path, g_strerror(e));
		return FALSE;
	}
	close(fd);
	for (guint i = 0; i < G_N_ELEMENTS(suffix); i++) {
		g_autofree char *f = g_strconcat(path, suffix[i], NULL);
		struct stat st;

		fd = open(f, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;	/* no -wal or -shm yet */
		if (fstat(fd, &st) == 0 && (st.st_mode & 077) && fchmod(fd, st.st_mode & 0700) < 0) {
			int e = errno;
			close(fd);
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
				    "cannot make %s private: %s", f, g_strerror(e));
			return FALSE;
		}
		close(fd);
	}
	return TRUE;
}

static VmtHistory *open_db(const char *path, gboolean readonly, GError **error)
{
	g_autoptr(VmtHistory) h = g_new0(VmtHistory, 1);
	g_autofree char *dir = g_path_get_dirname(path);
	gint64 version;

	h->path = g_strdup(path);
	if (readonly && !g_file_test(path, G_FILE_TEST_EXISTS)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no such file", path);
		return NULL;
	}
	if (!readonly && !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "cannot create %s: no directory %s", path, dir);
		return NULL;
	}
	if (!readonly && !make_private(path, error))
		return NULL;
	/* serialized: vmtierd writes on its account thread and reads a found
	 * guest's totals on its main thread, through one connection */
	if (sqlite3_open_v2(path, &h->db, (readonly ? SQLITE_OPEN_READONLY :
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		db_fail(h, "cannot open", error);
		return NULL;
	}
	sqlite3_busy_timeout(h->db, 5000);	/* vmtierd writes while a report reads */
	if (!check_schema(h, readonly, &version, error))
		return NULL;
	if (!readonly && !use_wal(h, error))
		return NULL;
	if (!readonly && version < vmt_history_schema_version() && !migrate(h, error))
		return NULL;
	return g_steal_pointer(&h);
}

VmtHistory *vmt_history_open(const char *path, GError **error)
{
	return open_db(path, FALSE, error);
}

VmtHistory *vmt_history_open_readonly(const char *path, GError **error)
{
	return open_db(path, TRUE, error);
}

void vmt_history_close(VmtHistory *h)
{
	if (!h)
		return;
	sqlite3_finalize(h->insert);
	sqlite3_close(h->db);	/* NULL is a no-op */
	g_free(h->path);
	g_free(h);
}

static gboolean check_share(const VmtHistorySample *s, const char *what, double v, GError **error)
{
	/* -1: unknown (the sensor could not tell; history.h) */
	if (isfinite(v) && ((v >= 0 && v <= 1) || v == -1))
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "sample of %s: %s %g is not between 0 and 1 (or -1, unknown)", s->vm, what, v);
	return FALSE;
}

static gboolean check_sample(const VmtHistorySample *s, GError **error)
{
	if (!s->vm || !*s->vm || !s->tenant) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "sample without a VM name or tenant");
		return FALSE;
	}
	if (s->slo_met < -1 || s->slo_met > 1) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "sample of %s: slo_met %d is not 1, 0 or -1", s->vm, s->slo_met);
		return FALSE;
	}
	if (s->slo_grace && s->slo_met != -1) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "sample of %s: an interval in the warm-up grace is not judged", s->vm);
		return FALSE;
	}
	return check_share(s, "dram_access_share", s->dram_access_share, error) &&
	       check_share(s, "hot_coverage", s->hot_coverage, error);
}

/* The sample columns, in VmtHistorySample's order (read_sample follows it). */
#define SAMPLE_COLUMNS "ts, interval_s, vm, tenant, class, scanner, quota_bytes, ram_bytes," \
	" dram_bytes, slow_bytes, hot_bytes, dram_access_share, hot_coverage, promoted_bytes," \
	" demoted_bytes, migrations, slo_met, slo_grace"

gboolean vmt_history_add(VmtHistory *h, const VmtHistorySample *s, GError **error)
{
	sqlite3_stmt *st;
	int i = 1, rc;

	if (!check_sample(s, error))
		return FALSE;
	if (!h->insert && sqlite3_prepare_v3(h->db, "INSERT OR REPLACE INTO samples (" SAMPLE_COLUMNS
					     ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
					     SQLITE_PREPARE_PERSISTENT, &h->insert, NULL) != SQLITE_OK)
		return db_fail(h, "preparing insert", error);
	st = h->insert;
	sqlite3_bind_int64(st, i++, s->ts);
	sqlite3_bind_int64(st, i++, s->interval_s);
	sqlite3_bind_text(st, i++, s->vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, s->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, s->klass, -1, SQLITE_STATIC);	/* NULL binds NULL */
	sqlite3_bind_text(st, i++, s->scanner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)s->quota_bytes);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)s->ram_bytes);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)s->dram_bytes);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)s->slow_bytes);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)s->hot_bytes);
	sqlite3_bind_double(st, i++, s->dram_access_share);
	sqlite3_bind_double(st, i++, s->hot_coverage);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)s->promoted_bytes);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)s->demoted_bytes);
	sqlite3_bind_int64(st, i++, s->migrations);
	sqlite3_bind_int(st, i++, s->slo_met);
	sqlite3_bind_int(st, i++, s->slo_grace ? 1 : 0);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || db_fail(h, "writing a sample", error);
}

/* What a row read back must hold to be a sample: a crafted or damaged store
 * must not crash, hang or mislead a report.  Times up to year 9999 and sizes
 * up to 1 EiB keep the report's arithmetic in range. */
#define MAX_TS 253402300799		/* 9999-12-31T23:59:59Z */
#define MAX_INTERVAL_S (366 * 86400)
#define MAX_BYTES ((gint64)1 << 60)

static gboolean int_col(sqlite3_stmt *st, int i, gint64 lo, gint64 hi, gint64 *out)
{
	if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
		return FALSE;
	*out = sqlite3_column_int64(st, i);
	return *out >= lo && *out <= hi;
}

static gboolean bytes_col(sqlite3_stmt *st, int i, guint64 *out)
{
	gint64 v;

	if (!int_col(st, i, 0, MAX_BYTES, &v))
		return FALSE;
	*out = (guint64)v;
	return TRUE;
}

static gboolean real_col(sqlite3_stmt *st, int i, double *out)
{
	int t = sqlite3_column_type(st, i);

	*out = sqlite3_column_double(st, i);
	return t == SQLITE_FLOAT || t == SQLITE_INTEGER;
}

/* NULL for a NULL column when NULLABLE; FALSE for anything but text. */
static gboolean text_col(sqlite3_stmt *st, int i, gboolean nullable, const char **out)
{
	int t = sqlite3_column_type(st, i);

	*out = t == SQLITE_TEXT ? (const char *)sqlite3_column_text(st, i) : NULL;
	return t == SQLITE_TEXT || (nullable && t == SQLITE_NULL);
}

/* FALSE: the row is not a valid sample (wrong type, NULL name, out of range). */
static gboolean read_sample(sqlite3_stmt *st, VmtHistorySample *s)
{
	gint64 interval, migr, slo, grace;

	if (!int_col(st, 0, 1, MAX_TS, &s->ts) || !int_col(st, 1, 1, MAX_INTERVAL_S, &interval) ||
	    interval > s->ts || !text_col(st, 2, FALSE, &s->vm) || !text_col(st, 3, FALSE, &s->tenant) ||
	    !text_col(st, 4, TRUE, &s->klass) || !text_col(st, 5, TRUE, &s->scanner) ||
	    !bytes_col(st, 6, &s->quota_bytes) || !bytes_col(st, 7, &s->ram_bytes) ||
	    !bytes_col(st, 8, &s->dram_bytes) || !bytes_col(st, 9, &s->slow_bytes) ||
	    !bytes_col(st, 10, &s->hot_bytes) || !real_col(st, 11, &s->dram_access_share) ||
	    !real_col(st, 12, &s->hot_coverage) || !bytes_col(st, 13, &s->promoted_bytes) ||
	    !bytes_col(st, 14, &s->demoted_bytes) || !int_col(st, 15, 0, G_MAXUINT, &migr) ||
	    !int_col(st, 16, -1, 1, &slo) || !int_col(st, 17, 0, 1, &grace))
		return FALSE;
	s->slo_grace = grace == 1;
	s->interval_s = (guint)interval;
	s->migrations = (guint)migr;
	s->slo_met = (int)slo;
	return check_sample(s, NULL);
}

gboolean vmt_history_foreach(VmtHistory *h, const VmtHistoryQuery *q, VmtHistoryFunc fn,
			     gpointer data, guint *invalid, GError **error)
{
	sqlite3_stmt *st = prepare(h, "SELECT " SAMPLE_COLUMNS " FROM samples"
				   " WHERE ts > ?1 AND ts <= ?2"
				   " AND (?3 IS NULL OR tenant = ?3) AND (?4 IS NULL OR vm = ?4)"
				   " ORDER BY tenant, vm, class, ts", error);
	gboolean ok = TRUE;
	int rc;

	if (!st)
		return FALSE;
	if (invalid)
		*invalid = 0;
	sqlite3_bind_int64(st, 1, q->since);
	sqlite3_bind_int64(st, 2, q->until);
	sqlite3_bind_text(st, 3, q->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, q->vm, -1, SQLITE_STATIC);
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		VmtHistorySample s;

		if (!read_sample(st, &s)) {
			if (invalid && *invalid < G_MAXUINT)
				(*invalid)++;
			continue;
		}
		ok = fn(&s, data, error);
	}
	if (ok && rc != SQLITE_DONE)
		ok = db_fail(h, "reading samples", error);
	sqlite3_finalize(st);
	return ok;
}

gboolean vmt_history_prune(VmtHistory *h, gint64 before_ts, guint *removed, GError **error)
{
	sqlite3_stmt *st = prepare(h, "DELETE FROM samples WHERE ts < ?1", error);
	int rc;

	if (!st)
		return FALSE;
	sqlite3_bind_int64(st, 1, before_ts);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(h, "pruning samples", error);
	if (removed)
		*removed = (guint)sqlite3_changes(h->db);
	return TRUE;
}

/* The totals table's columns, as VmtHistoryTotals's fields. */
static const struct {
	const char *name;
	size_t off;
	gboolean real;		/* a double, else a guint64 */
} total_cols[] = {
#define U64(f) { #f, offsetof(VmtHistoryTotals, f), FALSE }
#define REAL(f) { #f, offsetof(VmtHistoryTotals, f), TRUE }
	U64(promoted_bytes), U64(demoted_bytes), U64(migrations), U64(move_errors), U64(windows),
	U64(slo_met), U64(slo_missed), U64(slo_not_judged), U64(slo_warm_up), U64(seconds),
	REAL(dram_byte_seconds), REAL(slow_byte_seconds), REAL(hot_byte_seconds),
	REAL(hot_coverage_seconds), U64(hot_observed_seconds), REAL(dram_access_share_seconds),
	U64(access_observed_seconds),
#undef U64
#undef REAL
};

void vmt_history_totals_add(VmtHistoryTotals *t, const VmtHistorySample *s)
{
	double len = s->interval_s;

	t->slo_met += s->slo_met == 1;
	t->slo_missed += s->slo_met == 0;
	t->slo_not_judged += s->slo_met == -1;
	t->slo_warm_up += s->slo_grace != 0;
	t->seconds += s->interval_s;
	t->dram_byte_seconds += len * (double)s->dram_bytes;
	t->slow_byte_seconds += len * (double)s->slow_bytes;
	t->hot_byte_seconds += len * (double)s->hot_bytes;
	/* as the report: coverage of no hot memory means nothing, -1 is unknown */
	if (s->hot_bytes && s->hot_coverage >= 0) {
		t->hot_coverage_seconds += len * s->hot_coverage;
		t->hot_observed_seconds += s->interval_s;
	}
	if (s->dram_access_share >= 0) {
		t->dram_access_share_seconds += len * s->dram_access_share;
		t->access_observed_seconds += s->interval_s;
	}
}

gboolean vmt_history_load_totals(VmtHistory *h, const char *vm, VmtHistoryTotals *out,
				 GError **error)
{
	g_autoptr(GString) sql = g_string_new("SELECT ");
	sqlite3_stmt *st;
	int rc;

	for (guint i = 0; i < G_N_ELEMENTS(total_cols); i++)
		g_string_append_printf(sql, "%s%s", i ? ", " : "", total_cols[i].name);
	g_string_append(sql, " FROM totals WHERE vm = ?1");
	if (!(st = prepare(h, sql->str, error)))
		return FALSE;
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	memset(out, 0, sizeof(*out));
	rc = sqlite3_step(st);
	for (guint i = 0; rc == SQLITE_ROW && i < G_N_ELEMENTS(total_cols); i++)
		if (total_cols[i].real)
			G_STRUCT_MEMBER(double, out, total_cols[i].off) = sqlite3_column_double(st, i);
		else
			G_STRUCT_MEMBER(guint64, out, total_cols[i].off) = (guint64)sqlite3_column_int64(st, i);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE || db_fail(h, "reading totals", error);
}

gboolean vmt_history_save_totals(VmtHistory *h, const char *vm, const VmtHistoryTotals *t,
				 GError **error)
{
	g_autoptr(GString) sql = g_string_new("INSERT INTO totals (vm");
	g_autoptr(GString) values = g_string_new(" VALUES (?1");
	g_autoptr(GString) update = g_string_new(" ON CONFLICT (vm) DO UPDATE SET ");
	sqlite3_stmt *st;
	int rc;

	for (guint i = 0; i < G_N_ELEMENTS(total_cols); i++) {
		g_string_append_printf(sql, ", %s", total_cols[i].name);
		g_string_append_printf(values, ", ?%u", i + 2);
		g_string_append_printf(update, "%s%s = ?%u", i ? ", " : "", total_cols[i].name, i + 2);
	}
	g_string_append_printf(sql, ")%s)%s", values->str, update->str);
	if (!(st = prepare(h, sql->str, error)))
		return FALSE;
	sqlite3_bind_text(st, 1, vm, -1, SQLITE_STATIC);
	for (guint i = 0; i < G_N_ELEMENTS(total_cols); i++)
		if (total_cols[i].real)
			sqlite3_bind_double(st, i + 2, G_STRUCT_MEMBER(double, t, total_cols[i].off));
		else
			sqlite3_bind_int64(st, i + 2,
					   (sqlite3_int64)G_STRUCT_MEMBER(guint64, t, total_cols[i].off));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || db_fail(h, "writing totals", error);
}

gboolean vmt_history_record(VmtHistory *h, const VmtHistorySample *s, const VmtHistoryTotals *t,
			    GError **error)
{
	if (!exec(h, "BEGIN IMMEDIATE", "starting an interval's record", error))
		return FALSE;
	if (vmt_history_add(h, s, error) && vmt_history_save_totals(h, s->vm, t, error) &&
	    exec(h, "COMMIT", "committing an interval's record", error))
		return TRUE;
	sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return FALSE;
}
