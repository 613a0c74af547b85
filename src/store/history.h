/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* vmtierd's SQLite store (default VMT_LOCALSTATEDIR/lib/vmtier/history.db):
 * one row per VM per accounting interval, and each VM's running totals so a
 * restarted daemon (even after kill -9) carries on its accounting.  The
 * schema is versioned (PRAGMA user_version) and migrated on open; WAL mode,
 * so a crash loses at most the interval being written. */

typedef struct {
	gint64 ts;			/* end of the interval, Unix seconds */
	guint interval_s;		/* its length */
	const char *vm, *tenant, *klass, *scanner;
	guint64 quota_bytes, ram_bytes, dram_bytes, slow_bytes, hot_bytes;
	/* -1 in both: unknown, the access sensor was blind (guest.h) */
	double dram_access_share;	/* estimated share of accesses DRAM served */
	double hot_coverage;		/* share of hot memory up to the quota in DRAM */
	guint64 promoted_bytes, demoted_bytes;	/* during the interval */
	guint migrations;		/* move_pages calls that moved something */
	int slo_met;			/* 1, 0, or -1: not judged (no hot memory,
					 * no SLO, a blind sensor, or the grace) */
	gboolean slo_grace;		/* not judged: in the class's warm-up grace
					 * after a start (slo_met is -1) */
} VmtHistorySample;

typedef struct {
	guint64 promoted_bytes, demoted_bytes, migrations;
	guint64 move_errors;
	guint64 windows;
	/* intervals by SLO judgement (VmtHistorySample.slo_met 1, 0, -1) */
	guint64 slo_met, slo_missed, slo_not_judged;
	/* The sums behind the report's time-weighted figures, so that two
	 * readings' difference is what `vmtier report` computes from the rows
	 * of the intervals in between (vmt_history_totals_add; the metrics of
	 * docs/metrics.md).  Byte-seconds are doubles: a TiB for a year is
	 * past 2^64, and Prometheus holds doubles anyway. */
	guint64 slo_warm_up;		/* of slo_not_judged: in the grace */
	guint64 seconds;		/* the intervals' lengths */
	double dram_byte_seconds, slow_byte_seconds, hot_byte_seconds;	/* bytes x length */
	/* intervals with hot memory and a sensor that saw it: coverage x
	 * length, and their lengths */
	double hot_coverage_seconds;
	guint64 hot_observed_seconds;
	/* intervals whose DRAM access share is known: share x length, lengths */
	double dram_access_share_seconds;
	guint64 access_observed_seconds;
} VmtHistoryTotals;

/* Adds interval S to T's SLO counts and sums (not to the move counts,
 * which the daemon keeps as they happen). */
void vmt_history_totals_add(VmtHistoryTotals *t, const VmtHistorySample *s);

typedef struct VmtHistory VmtHistory;

VmtHistory *vmt_history_open(const char *path, GError **error);
void vmt_history_close(VmtHistory *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtHistory, vmt_history_close)

/* Schema version this build writes. */
int vmt_history_schema_version(void);

gboolean vmt_history_add(VmtHistory *h, const VmtHistorySample *s, GError **error);
/* Running totals of VM; all zero for a VM never seen. */
gboolean vmt_history_load_totals(VmtHistory *h, const char *vm, VmtHistoryTotals *out,
				 GError **error);
gboolean vmt_history_save_totals(VmtHistory *h, const char *vm, const VmtHistoryTotals *t,
				 GError **error);
/* S and S->vm's running totals T in one transaction: a crash leaves both
 * or neither (so a restarted vmtierd neither loses nor counts twice). */
gboolean vmt_history_record(VmtHistory *h, const VmtHistorySample *s, const VmtHistoryTotals *t,
			    GError **error);

/* Opens an existing store for reading only (vmtier report): nothing is
 * created or migrated, so its schema version must be this build's. */
VmtHistory *vmt_history_open_readonly(const char *path, GError **error);

typedef struct {
	const char *tenant, *vm;	/* NULL: any */
	gint64 since, until;		/* intervals ending in (since, until] */
} VmtHistoryQuery;
#define VMT_HISTORY_QUERY_INIT { NULL, NULL, G_MININT64, G_MAXINT64 }

/* Called with each sample; its strings live until it returns.  Returning
 * FALSE (with ERROR set) stops the walk, which then fails with that error. */
typedef gboolean (*VmtHistoryFunc)(const VmtHistorySample *s, gpointer data, GError **error);

/* The samples matching Q by tenant, VM, class (none first) and time: the
 * tenant and class recorded with each sample, so a VM redefined into another
 * tenant or class keeps its past intervals where they were.  Rows that are
 * not valid samples (a crafted or damaged store: a NULL name, a wrong type,
 * a time before 1970 or after 9999, an interval over a year, a size over
 * 1 EiB, a share not in [0, 1]) are skipped; *INVALID (may be NULL) gets how
 * many. */
gboolean vmt_history_foreach(VmtHistory *h, const VmtHistoryQuery *q, VmtHistoryFunc fn,
			     gpointer data, guint *invalid, GError **error);

/* Retention: drops the samples that ended before BEFORE_TS (totals stay);
 * *REMOVED (may be NULL) gets how many. */
gboolean vmt_history_prune(VmtHistory *h, gint64 before_ts, guint *removed, GError **error);
