// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: history rows -> vmtier report.  The bytes become the rows of
 * a store whose samples table lost its constraints (as a crafted or damaged
 * file may have): each of the 17 columns takes a type byte (integer, real,
 * text, NULL, blob) and a value, an interesting one from a table or raw
 * bytes.  The report is then built and written in every format: nothing may
 * crash or hang, and JSON must parse with every number finite. */
#include "report.h"

#include <json-c/json.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COLUMNS 17
#define MAX_ROWS 64

static const gint64 ints[] = {
	0, 1, -1, 60, 1704146460, 1704146520, 1704153600, 253402300799, 253402300800,
	G_MAXINT64, G_MININT64, (gint64)1 << 60, ((gint64)1 << 60) + 1, G_MAXUINT, 366 * 86400, 2,
};
static const double reals[] = { 0, 0.5, 1, 0.999, -0.0, 1.0000001, 1e308, -1e308 };

typedef struct {
	const uint8_t *p;
	size_t left;
} Bytes;

static guint8 byte(Bytes *b)
{
	if (!b->left)
		return 0;
	b->left--;
	return *b->p++;
}

static void raw(Bytes *b, void *out, size_t n)
{
	memset(out, 0, n);
	n = MIN(n, b->left);
	memcpy(out, b->p, n);
	b->p += n;
	b->left -= n;
}

static void bind_column(sqlite3_stmt *st, int col, Bytes *b)
{
	guint8 t = byte(b), v = byte(b);

	switch (t % 5) {
	case 0: {
		gint64 i = ints[v % G_N_ELEMENTS(ints)];
		if (v >= 128)
			raw(b, &i, sizeof i);
		sqlite3_bind_int64(st, col, i);
		break;
	}
	case 1: {
		double d = reals[v % G_N_ELEMENTS(reals)];
		if (v >= 128)
			raw(b, &d, sizeof d);	/* inf, nan and the rest */
		sqlite3_bind_double(st, col, d);
		break;
	}
	case 2:
	case 4: {
		char s[32];
		guint8 n = v % sizeof s;
		raw(b, s, n);
		if (t % 5 == 2)
			sqlite3_bind_text(st, col, s, n, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(st, col, s, n, SQLITE_TRANSIENT);
		break;
	}
	default:
		sqlite3_bind_null(st, col);
	}
}

/* Every number in O is finite (json-c reads a bare inf or nan as one). */
static gboolean all_finite(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!all_finite(json_object_array_get_idx(o, i)))
				return FALSE;
		return TRUE;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (!all_finite(val))
				return FALSE;
		}
		return TRUE;
	}
	default:
		return TRUE;
	}
}

#define FUZZ_COLUMNS "ts, interval_s, vm, tenant, class, scanner, quota_bytes, ram_bytes," \
	" dram_bytes, slow_bytes, hot_bytes, dram_access_share, hot_coverage, promoted_bytes," \
	" demoted_bytes, migrations, slo_met"

static void build_store(const char *path, Bytes *b)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	/* the version this build reads (a report refuses any other) */
	g_autofree char *setup = g_strdup_printf("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
						 "PRAGMA application_id = 1986884712; PRAGMA user_version = %d;"
						 "CREATE TABLE samples (" FUZZ_COLUMNS ", slo_grace DEFAULT 0); BEGIN",
						 vmt_history_schema_version());

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK ||
	    /* the grace flag keeps its default: the corpus's bytes fill the
	     * 17 columns they always did */
	    sqlite3_prepare_v2(db, "INSERT INTO samples (" FUZZ_COLUMNS ")"
			       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		abort();
	for (guint r = 0; r < MAX_ROWS && b->left; r++) {
		for (int c = 1; c <= COLUMNS; c++)
			bind_column(st, c, b);
		if (sqlite3_step(st) != SQLITE_DONE)
			abort();
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *path;
	Bytes b = { data, size };
	g_autoptr(VmtHistory) h = NULL;
	g_autoptr(VmtReport) r = NULL;
	VmtHistoryQuery q = VMT_HISTORY_QUERY_INIT;
	guint8 window = byte(&b);

	if (!path) {
		g_autofree char *dir = g_dir_make_tmp("fuzz-report-XXXXXX", NULL);
		if (!dir)
			abort();
		path = g_build_filename(dir, "history.db", NULL);
	}
	build_store(path, &b);
	if (window & 1)
		q.since = ints[(window >> 1) % G_N_ELEMENTS(ints)];
	if (window & 0x80)
		q.until = ints[(window >> 3) % G_N_ELEMENTS(ints)];
	h = vmt_history_open_readonly(path, NULL);
	if (!h)
		abort();
	r = vmt_report_build(h, &q, NULL, NULL);
	if (!r)
		abort();
	for (VmtReportFormat f = VMT_REPORT_TABLE; f <= VMT_REPORT_HTML; f++) {
		g_autofree char *text = vmt_report_format(r, f);

		if (f == VMT_REPORT_JSON) {
			json_object *o = json_tokener_parse(text);
			if (!o || !all_finite(o))
				abort();
			json_object_put(o);
		}
	}
	return 0;
}
