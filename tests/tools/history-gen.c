// SPDX-License-Identifier: GPL-2.0-or-later
/* history-gen DB [METRICS [b]]: writes a history store with fixed timestamps
 * and values for the report golden files (and, given METRICS, a textfile
 * collector file of each VM's last interval), the same on every run (with
 * b, a second host's: web1 and db1 for their first 12 intervals only):
 *
 *   acme     web1    budget, 24 ten-minute intervals over midnight, the
 *                    first in the warm-up grace after its start, two
 *                    missed, one without hot memory, a 30-minute gap
 *   acme     db1     standard for 12 intervals, then redefined premium
 *   globex   batch7  budget for 8 intervals, then moved to tenant initech
 *   globex   legacy  no class
 *   globex   gold1   class gold, which has no .conf
 *   =cmd|' /C calc'!A0,"<b>odd</b>" \ new(newline)line
 *            odd1    a tenant name made to break CSV, HTML and Prometheus labels
 */
#include "history.h"
#include "metrics.h"
#include "slo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1704146400	/* 2024-01-01T22:00:00Z */
#define STEP 600
#define GiB (1ull << 30)
#define MiB (1ull << 20)

static VmtHistory *h;
static VmtHistorySample last[8];
static VmtHistoryTotals totals[8];
static double targets[8];
static guint n_vms;

/* Interval I of a VM: coverage in thousandths (COV_PERMILLE), hot set in MiB. */
static void add(guint vm_slot, const char *vm, const char *tenant, const char *klass,
		double target, guint i, guint cov_permille, guint64 hot_mib, guint64 quota)
{
	VmtHistorySample s = {
		.ts = T0 + (gint64)(i + 1) * STEP,
		.interval_s = STEP,
		.vm = vm, .tenant = tenant, .klass = klass, .scanner = "damon",
		.quota_bytes = quota,
		.ram_bytes = 8 * GiB,
		.hot_bytes = hot_mib * MiB,
		.hot_coverage = cov_permille / 1000.0,
		.dram_access_share = (cov_permille * 9 + 100) / 10000.0,
		.promoted_bytes = (i % 3) * 64 * MiB,
		.demoted_bytes = (i % 4) * 32 * MiB,
		.migrations = i % 3 + i % 4,
	};
	g_autoptr(GError) error = NULL;

	s.dram_bytes = MIN(quota, hot_mib * MiB * cov_permille / 1000 + 128 * MiB);
	s.slow_bytes = s.ram_bytes - s.dram_bytes - 512 * MiB;
	s.slo_grace = vm_slot == 0 && i == 0;	/* web1 had just started */
	s.slo_met = target > 0 && !s.slo_grace ? vmt_slo_judge(s.hot_bytes, s.hot_coverage, target) : -1;
	if (!vmt_history_add(h, &s, &error)) {
		fprintf(stderr, "history-gen: %s\n", error->message);
		exit(1);
	}
	totals[vm_slot].promoted_bytes += s.promoted_bytes;
	totals[vm_slot].demoted_bytes += s.demoted_bytes;
	totals[vm_slot].migrations += s.migrations;
	totals[vm_slot].windows += 60;
	totals[vm_slot].move_errors += i == 5;
	vmt_history_totals_add(&totals[vm_slot], &s);
	targets[vm_slot] = target;
	last[vm_slot] = s;
	n_vms = MAX(n_vms, vm_slot + 1);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	const char *odd = "=cmd|' /C calc'!A0,\"<b>odd</b>\" \\ new\nline";

	gboolean b = argc == 4 && strcmp(argv[3], "b") == 0;
	guint n = b ? 12 : 24;

	if (argc < 2 || argc > 4 || (argc == 4 && !b)) {
		fprintf(stderr, "usage: history-gen DB [METRICS [b]]\n");
		return 64;
	}
	unlink(argv[1]);
	h = vmt_history_open(argv[1], &error);
	if (!h) {
		fprintf(stderr, "history-gen: %s\n", error->message);
		return 1;
	}
	for (guint i = 0; i < n; i++) {
		if (i >= 9 && i < 12)
			continue;	/* vmtierd was down: a 30-minute gap */
		add(0, "web1", "acme", "budget", 0.95, i,
		    i == 4 ? 800 : i == 17 ? 900 : 960 + (i * 7) % 41, i == 20 ? 0 : 900 + i * 10, 2 * GiB);
	}
	for (guint i = 0; i < n; i++)
		add(1, "db1", "acme", i < 12 ? "standard" : "premium", i < 12 ? 0.98 : 0.995, i,
		    i == 14 ? 990 : 1000 - (i % 2) * 15 * (i < 12), 1500 + (i % 5) * 100,
		    i < 12 ? 2 * GiB : 4 * GiB);
	for (guint i = 0; i < 16 && !b; i++)
		add(2, "batch7", i < 8 ? "globex" : "initech", "budget", 0.95, i, 920 + i * 5, 700, GiB);
	for (guint i = 0; i < 6 && !b; i++)
		add(3, "legacy", "globex", NULL, -1, i, 500 + i * 50, 300, GiB);
	for (guint i = 0; i < 6 && !b; i++)
		add(4, "gold1", "globex", "gold", 0.9, i, 850 + i * 20, 400, GiB);
	for (guint i = 0; i < 3 && !b; i++)
		add(5, "odd1", odd, "budget", 0.95, i, 990, 100, GiB);
	for (guint i = 0; i < n_vms; i++)
		if (!vmt_history_save_totals(h, last[i].vm, &totals[i], &error)) {
			fprintf(stderr, "history-gen: %s\n", error->message);
			return 1;
		}
	vmt_history_close(h);
	/* a host with DRAM nodes 0 and 1 and PMEM node 2, the gold class's
	 * file missing (no SLO series) */
	VmtMetricsNode nodes[] = {
		{ 0, "dram", 4, 16 * GiB, 4 * GiB }, { 1, "dram", 4, 16 * GiB, 0 },
		{ 2, "pmem", 22, 64 * GiB, 0 },
	};
	VmtMetricsDaemon daemon = {
		.version = "0.0-test", .scanner = "damon-vaddr", .offload = "none",
		.start_time = T0, .now = T0 + 24 * STEP, .windows = 1440, .scan_seconds = 36.5,
		.last_scan_seconds = 0.025, .libvirt_connected = TRUE, .dram_reserve_bytes = 256 * MiB,
		.nodes = nodes, .n_nodes = G_N_ELEMENTS(nodes),
	};
	VmtMetricsVm vms[8];

	for (guint i = 0; i < n_vms; i++) {
		gboolean slo = targets[i] > 0 && g_strcmp0(last[i].klass, "gold") != 0;

		vms[i] = (VmtMetricsVm){ &last[i], &totals[i], slo, slo ? targets[i] : 0,
					 slo ? (g_strcmp0(last[i].klass, "premium") == 0 ? 0.999 : 0.99) : 0,
					 slo ? 300 : 0 };
	}
	if (argc >= 3 && !vmt_metrics_write(argv[2], &daemon, vms, n_vms, &error)) {
		fprintf(stderr, "history-gen: %s\n", error->message);
		return 1;
	}
	return 0;
}
