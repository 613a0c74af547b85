/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "slo.h"

/* vmtier report --prometheus URL: the SLO part of the SLA report for a
 * fleet, from a Prometheus that scrapes every host's vmtierd metrics
 * (docs/metrics.md), through its HTTP API.  Per host ("instance") and VM,
 * the intervals met, missed and not judged in (SINCE, UNTIL] are the
 * increase of vmtier_vm_slo_intervals_total computed from its raw samples
 * (no extrapolation, counter resets handled), so they are the counts the
 * host's own history store holds for the same period when Prometheus
 * scraped the file between vmtierd's writes.  The tenant and class come
 * from vmtier_vm_info, the promise from the target gauges, as of UNTIL: a
 * VM that changed tenant or class in the period has all its counts under
 * the last (the store's report splits them).  Only the SLO counts: the
 * residency, coverage and day figures of the store's report are not
 * rebuilt from Prometheus. */

typedef struct {
	char *instance, *vm, *tenant, *klass;
	VmtSloTally slo;
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
