/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "history.h"

/* vmtierd's Prometheus textfile (text format 0.0.4, for node_exporter's
 * textfile collector).  Conventions: base units in the name (_bytes,
 * _seconds, _ratio), counters end in _total and say what they count; data
 * series carry the libvirt domain name only (label "domain", which joins
 * with libvirt exporters), descriptive labels (tenant, class, scanner) are
 * on vmtier_vm_info, so a class changed by a redefinition does not split a
 * VM's series.  Every family and label is listed in docs/metrics.md. */

/* A VM: its last interval and running totals (the SLO counters among
 * them), and its class's promise (HAS_SLO FALSE: none, no target series). */
typedef struct {
	const VmtHistorySample *sample;
	const VmtHistoryTotals *totals;
	gboolean has_slo;
	double slo_target, slo_intervals;
	guint slo_grace_s;
} VmtMetricsVm;

/* A host NUMA node. */
typedef struct {
	int id;
	const char *kind;		/* dram, pmem, cxl, slow */
	int tier;			/* memory_tierN's N; -1: none */
	guint64 capacity_bytes;		/* online memory */
	guint64 committed_bytes;	/* DRAM quotas of the guests vmtierd tiers
					 * whose promotions go to this node */
} VmtMetricsNode;

/* The daemon and its host. */
typedef struct {
	const char *version, *scanner, *offload;
	gint64 start_time;		/* Unix s */
	gint64 now;			/* when the file is written, Unix s */
	guint64 windows;		/* scan windows done since start */
	double scan_seconds;		/* their time, summed */
	double last_scan_seconds;	/* the last one's */
	gboolean libvirt_connected;
	guint64 dram_reserve_bytes;
	const VmtMetricsNode *nodes;
	guint n_nodes;
} VmtMetricsDaemon;

/* The text: DAEMON (may be NULL: no host or daemon families) and N VMS.
 * Fails on a VM without a name or given twice. */
char *vmt_metrics_format(const VmtMetricsDaemon *daemon, const VmtMetricsVm *vms, guint n,
			 GError **error);

/* Writes that text to PATH atomically: a temporary file in PATH's
 * directory renamed over PATH, so the collector never reads half a file
 * (it reads only names ending in .prom). */
gboolean vmt_metrics_write(const char *path, const VmtMetricsDaemon *daemon,
			   const VmtMetricsVm *vms, guint n, GError **error);
