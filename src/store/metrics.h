/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "history.h"

/* Writes PATH for node_exporter's textfile collector (Prometheus text
 * format 0.0.4): per VM, gauges from its last interval SAMPLES[i] and
 * counters from its running TOTALS[i], labelled vm, tenant and class
 * (vmtier_vm_info adds scanner).  Atomic: a temporary file in PATH's
 * directory renamed over PATH, so the collector never reads half a file
 * (it reads only names ending in .prom). */
gboolean vmt_metrics_write(const char *path, const VmtHistorySample *samples,
			   const VmtHistoryTotals *totals, guint n, GError **error);

/* The same text, for tests and for serving it elsewhere. */
char *vmt_metrics_format(const VmtHistorySample *samples, const VmtHistoryTotals *totals,
			 guint n, GError **error);
