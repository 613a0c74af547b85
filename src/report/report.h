/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "history.h"
#include "slo.h"

/* vmtier report: per tenant, per VM, what the history store proves about a
 * class's promise.  The model is built from the store (report.c); writers
 * turn it into a table, JSON, CSV (report-text.c) or one HTML page with SVG
 * charts (report-html.c).  Times are UTC. */

/* One interval of a VM (VmtHistorySample without the names). */
typedef struct {
	gint64 ts;
	guint interval_s;
	guint64 quota_bytes, ram_bytes, dram_bytes, slow_bytes, hot_bytes;
	double dram_access_share, hot_coverage;
	guint64 promoted_bytes, demoted_bytes;
	guint migrations;
	int slo_met;
	gboolean slo_grace;		/* not judged: the warm-up after a start */
} VmtReportPoint;

/* Averages and sums over a run of intervals (a VM's period, or one day). */
typedef struct {
	guint intervals;
	VmtSloTally slo;
	guint warm_up;				/* of slo.unjudged, in the class's grace */
	gint64 seconds;				/* covered by the intervals */
	double avg_dram_bytes, avg_slow_bytes, avg_hot_bytes;	/* time-weighted */
	double avg_hot_coverage, min_hot_coverage;	/* judged intervals only; -1: none */
	double avg_dram_access_share;
	guint64 promoted_bytes, demoted_bytes, migrations;
	double dram_gib_hours, slow_gib_hours;	/* residency integrated over time */
} VmtReportStats;

typedef struct {
	char *date;			/* YYYY-MM-DD (UTC) */
	VmtReportStats stats;
} VmtReportDay;
void vmt_report_day_free(gpointer day);
/* YYYY-MM-DD (UTC) of TS */
char *vmt_report_date(gint64 ts);

/* A VM while it belonged to one tenant and one class. */
typedef struct {
	char *vm, *tenant, *klass;	/* klass NULL: none */
	char *scanner;			/* of the last interval */
	gboolean has_slo;		/* the class is known and has an SLO */
	double slo_target, slo_intervals;
	guint slo_grace_s;
	GArray *points;			/* VmtReportPoint, by time */
	VmtReportStats stats;
	int compliant;			/* 1, 0, -1: nothing judged or no SLO */
	guint gaps;			/* missing stretches between intervals */
	gint64 missing_s;		/* seconds they add up to */
	GArray *worst;			/* VmtReportPoint: lowest hot coverage first */
	GPtrArray *days;		/* VmtReportDay */
} VmtReportVm;

typedef struct {
	char *tenant;
	GPtrArray *vms;			/* VmtReportVm, by name, then when it had the class */
	guint n_vms;			/* distinct names */
	guint vms_compliant, vms_not_compliant;
	VmtReportStats stats;		/* sums; averages over all its intervals */
} VmtReportTenant;

typedef struct {
	VmtHistoryQuery query;		/* as asked; strings owned here */
	GPtrArray *tenants;		/* VmtReportTenant, by name */
	gint64 first_ts, last_ts;	/* start of the first interval, end of the last */
	GPtrArray *warnings;		/* char *: e.g. a class whose file is gone */
	guint invalid_rows;		/* rows of the store that are not valid samples, left out */
	/* provenance, for the HTML page: set by the caller (0 / NULL: not shown) */
	gint64 generated_ts;
	char *host, *version;
} VmtReport;

/* Sums of bytes and counts stop at the top rather than wrap. */
static inline guint64 vmt_report_sat_add(guint64 a, guint64 b)
{
	return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

#define VMT_REPORT_WORST 5

/* Seconds missing between two consecutive intervals of a VM when more than
 * half an interval is (vmtierd was down, or the VM), else 0. */
gint64 vmt_report_gap_s(const VmtReportPoint *prev, const VmtReportPoint *cur);

/* Reads the samples matching Q from H; each class's SLO from CLASS_DIR. */
VmtReport *vmt_report_build(VmtHistory *h, const VmtHistoryQuery *q, const char *class_dir,
			    GError **error);
void vmt_report_free(VmtReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtReport, vmt_report_free)

gboolean vmt_report_is_empty(const VmtReport *r);

/* --since/--until: "7d", "12h", "30m" before NOW, or a UTC date or time
 * (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS], with an optional Z or +HH:MM). */
gboolean vmt_report_parse_time(const char *text, gint64 now, gint64 *out, GError **error);
/* "2024-01-02T03:04:05Z" */
char *vmt_report_format_time(gint64 ts);
/* Memory over time in a unit that gives a number worth reading: MiB-hours
 * below a GiB-hour ("0.0 GiB-hours" says nothing), TiB-hours from 1024. */
char *vmt_report_byte_hours(double gib_hours);
/* "96.5%" (rounded down); "-" for a negative share (not applicable) */
char *vmt_report_pct(double share);

typedef enum {
	VMT_REPORT_TABLE,
	VMT_REPORT_JSON,
	VMT_REPORT_CSV,
	VMT_REPORT_HTML,
} VmtReportFormat;

gboolean vmt_report_parse_format(const char *text, VmtReportFormat *out, GError **error);
char *vmt_report_format(const VmtReport *r, VmtReportFormat f);

/* A run of intervals' figures (report-text.c, report-html.c): the JSON keys
 * of a VM's, a day's and a tenant's totals, and the array of DAYS
 * (VmtReportDay); the table's and the page's per-day tables.  The fleet
 * report (report-prometheus.h) gives its figures through the same. */
struct json_object;
void vmt_report_stats_json(struct json_object *o, const VmtReportStats *s);
struct json_object *vmt_report_days_json(const GPtrArray *days);
void vmt_report_table_days(GString *out, const GPtrArray *days);
void vmt_report_html_days(GString *out, const GPtrArray *days);

char *vmt_report_to_table(const VmtReport *r);
char *vmt_report_to_json(const VmtReport *r);
char *vmt_report_to_csv(const VmtReport *r);
char *vmt_report_to_html(const VmtReport *r);
