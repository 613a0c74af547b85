#!/bin/bash
# test-dashboard.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES CONTRIB: inside the
# test host (topology 'tiered'), one budget guest tiered by a real vmtierd
# whose metrics file sits in node_exporter's textfile directory; a real
# Prometheus scrapes it (test-dashboard.py starts both) with contrib's
# rules loaded, and every variable and panel query of contrib's Grafana
# dashboard returns numbers.  promtool check metrics on the file as
# vmtierd wrote it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
contrib=$(realpath "$5")
. "$here/tiering-lib.sh" "$@"

echo 0 >/proc/sys/kernel/numa_balancing
ip link set lo up 2>/dev/null	# Prometheus and node_exporter talk over loopback
tap_check "a private libvirtd starts" libvirtd_start
tap_check "budget guest tb starts" start_guest tb budget 64 448 32 0
tap_check "tb filled its memory and runs its hot set" bash -c "$(declare -f waitlog); out=$out; waitlog tb '^t=1 '"
track tb 64 32

textdir=/tmp/textfile
mkdir -p "$textdir" /var/lib/vmtier
metrics_file=$textdir/vmtier.prom daemon_config "scanner=damon-vaddr
history_db=/var/lib/vmtier/history.db"
tap_check "vmtierd starts" start_daemon
# past the 20 s grace, some intervals judged (60 s ceiling)
judged() {
	python3 - "$textdir/vmtier.prom" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {s.labels["result"]: s.value for f in text_string_to_metric_families(open(sys.argv[1]).read())
     for s in f.samples if s.name == "vmtier_vm_slo_intervals_total"}
sys.exit(not (v.get("met", 0) + v.get("missed", 0) >= 2))
PY
}
t0=$(now)
until judged 2>/dev/null || [ $(($(now) - t0)) -ge 90 ]; do sleep 2; done
tap_check "tb's SLO counters count judged intervals after the grace ($(($(now) - t0)) s)" judged
cp "$textdir/vmtier.prom" "$out/vmtier.prom"
tap_check "promtool check metrics finds no problem in vmtierd's file" bash -c "promtool check metrics <'$textdir/vmtier.prom'"
tap_diag "$(grep -v '^#' "$textdir/vmtier.prom" | head -60)"

# the dashboard's queries: its own TAP, folded into ours
r=$(python3 "$here/../unit/test-dashboard.py" "$contrib" "$textdir" --artifacts "$out" 2>&1); rc=$?
tap_diag "$r"
tap_check "every dashboard variable and panel query returns numbers from a real Prometheus fed by vmtierd" test $rc -eq 0

kill -TERM "$daemon"; wait "$daemon"
tap_check "vmtierd stops cleanly" test $? -eq 0
tap_done
