/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "report.h"

/* vmtier report --prometheus URL: the SLA report for a fleet, from a
 * Prometheus that scrapes every host's vmtierd metrics (docs/metrics.md),
 * through its HTTP API.  Per host ("instance") and VM, the figures of the
 * store's report for the intervals that ended in (SINCE, UNTIL] and per
 * UTC day: SLO counts, warm-up, coverage, DRAM access share, residency,
 * moves, from the counters vmt_history_totals_add defines.  Each raw
 * sample's rise (a fall being a reset, counted from 0) goes to the account
 * the same scrape's vmtier_vm_last_sample_timestamp_seconds names, and to
 * the day that account's interval began (its last_interval_seconds), as
 * the store's report files its rows; so the figures are the host's store's
 * for the same period when Prometheus scraped the file between vmtierd's
 * writes (else two accounts' rises go to the later one).  What is not a
 * counter (the lowest coverage, the worst intervals, gaps) is each host's
 * own report.  The baseline is the last sample up to 5 minutes before
 * SINCE, else 0 (a VM new in the period): a VM that ran before SINCE but
 * was not scraped in those 5 minutes (stopped, or its vmtierd down) has
 * its earlier intervals counted too (not solved: the sample before would
 * take a look-back as long as the VM's life).  The tenant and class come from
 * vmtier_vm_info, the promise from the target gauges, as of UNTIL: a VM
 * that changed tenant or class in the period has all its figures under
 * the last (the store's report splits them). */

typedef struct {
	char *instance, *vm, *tenant, *klass;
	VmtReportStats stats;		/* min_hot_coverage -1: not a counter */
	GPtrArray *days;		/* VmtReportDay, by date */
	gboolean has_slo;
	double slo_target, slo_intervals;
	int compliant;			/* 1, 0, -1: nothing judged or no SLO */
} VmtFleetVm;

typedef struct {
	char *url, *tenant;		/* as asked; tenant NULL: all */
	gint64 since, until;
	GPtrArray *vms;			/* VmtFleetVm, by tenant, VM, instance */
} VmtFleet;

/* URL: http://HOST[:PORT][/PATH] of the Prometheus server.  SINCE may be
 * G_MININT64 (then a year before UNTIL). */
VmtFleet *vmt_fleet_query(const char *url, const char *tenant, gint64 since, gint64 until,
			  GError **error);
void vmt_fleet_free(VmtFleet *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmtFleet, vmt_fleet_free)

/* "KEPT", "BROKEN", "nothing judged" or "no SLO": the table's and page's word */
const char *vmt_fleet_vm_verdict(const VmtFleetVm *v);
char *vmt_fleet_to_json(const VmtFleet *f);
char *vmt_fleet_to_table(const VmtFleet *f);
/* A page per fleet (report-fleet-html.c): verdict first per VM and host,
 * provenance with GENERATED (Unix seconds) and vmtier's VERSION; names
 * escaped. */
char *vmt_fleet_to_html(const VmtFleet *f, gint64 generated, const char *version);
