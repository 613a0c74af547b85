// SPDX-License-Identifier: GPL-2.0-or-later
#include "slo.h"

/* Shares come from divisions of byte counts; 0.95 may arrive as 0.9499999999. */
#define SLACK 1e-9

int vmt_slo_judge(guint64 hot_bytes, double hot_coverage, double slo_target)
{
	if (!hot_bytes)
		return -1;
	return hot_coverage + SLACK >= slo_target;
}

void vmt_slo_tally_add(VmtSloTally *t, int slo_met)
{
	if (slo_met > 0)
		t->met++;
	else if (slo_met == 0)
		t->missed++;
	else
		t->unjudged++;
}

void vmt_slo_tally_merge(VmtSloTally *into, const VmtSloTally *t)
{
	into->met += t->met;
	into->missed += t->missed;
	into->unjudged += t->unjudged;
}

guint vmt_slo_tally_judged(const VmtSloTally *t)
{
	return t->met + t->missed;
}

double vmt_slo_compliance(const VmtSloTally *t)
{
	guint judged = vmt_slo_tally_judged(t);

	return judged ? (double)t->met / judged : -1;
}

int vmt_slo_compliant(const VmtSloTally *t, double slo_intervals)
{
	guint judged = vmt_slo_tally_judged(t);

	if (!judged)
		return -1;
	return (double)t->met + SLACK * judged >= slo_intervals * judged;
}
