/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

/* A class's SLO, judged: pure arithmetic, shared by vmtierd (each interval)
 * and vmtier report (over a period). */

/* One interval: -1 (not judged) when there was no hot memory, else 1 when
 * HOT_COVERAGE (share of the hot memory up to the quota on DRAM) reaches
 * SLO_TARGET, 0 when not.  A coverage short of the target by float noise
 * (1e-9) counts as reaching it. */
int vmt_slo_judge(guint64 hot_bytes, double hot_coverage, double slo_target);

typedef struct {
	guint met, missed, unjudged;
} VmtSloTally;

/* Count one interval's judgement (1, 0 or -1). */
void vmt_slo_tally_add(VmtSloTally *t, int slo_met);
void vmt_slo_tally_merge(VmtSloTally *into, const VmtSloTally *t);
guint vmt_slo_tally_judged(const VmtSloTally *t);
/* met / judged; -1 when no interval was judged. */
double vmt_slo_compliance(const VmtSloTally *t);
/* 1 when the share of judged intervals met reaches SLO_INTERVALS, 0 when
 * not, -1 when none was judged. */
int vmt_slo_compliant(const VmtSloTally *t, double slo_intervals);
