#!/bin/bash
# demo-testbed.sh GUEST_ELF PAGE_NODES VMTIER VMTIERD: runs inside the tiered
# test host.  Shows its memory tiers, starts libvirtd and vmtierd, installs
# the libvirt hook, defines a budget and a standard VM with `vmtier define`,
# starts them with the tests/guest workload (hot sets on slow memory), shows
# `vmtier status --watch` while vmtierd brings the hot sets into DRAM, and
# ends with the tenant's SLA report (HTML left in $VMTIER_OUT).
set -u
here=$(cd "$(dirname "$0")" && pwd)
tests=$here/../tests/libvirt
elf=$1 page_nodes=$2 vmtier=$3 vmtierd=$4
set -- "$vmtier" "$vmtierd" "$elf" "$page_nodes"
here=$tests . "$tests/tiering-lib.sh" "$@"
title() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

title "vmtier $("$vmtier" --version) on the test host ($(uname -r))"
title "vmtier host: NUMA nodes, memory tiers, DAX devices"
"$vmtier" host
title "vmtier host check"
"$vmtier" host check --json | python3 -c '
import json, sys
for f in json.load(sys.stdin):
    print("  {severity:<8}{id}: {what}".format(**f))'

echo 0 >/proc/sys/kernel/numa_balancing	# vmtierd does the tiering here
libvirtd_start >/dev/null || { echo "libvirtd did not start"; exit 1; }
mkdir -p /var/lib/vmtier
# the classes' warm-up grace, shortened from 300 s to fit a demo but long
# enough for a guest to boot and fill its memory under nested emulation
# (30-50 s here) and vmtierd to bring its hot set in: the intervals until
# then are not judged
slo_grace_s=90 daemon_config "scanner=damon-vaddr
history_db=/var/lib/vmtier/history.db
account_interval_s=3"
start_daemon || { echo "vmtierd did not start"; tail "$out/vmtierd.log"; exit 1; }
# the CLI reads what it shares with vmtierd (classes, socket, history) from
# the same file
export VMTIER_CONFIG=/tmp/vmtierd.conf
title "vmtierd is running; the libvirt hook"
if "$vmtier" hook install >/dev/null 2>&1; then
	"$vmtier" hook status
else
	echo "  (vmtier hook is not available in this build)"
fi

title "two VMs of tenant acme, hot sets on slow memory (PMEM node 2)"
start_guest budget-demo budget 64 448 32 0 || exit 1
start_guest standard-demo standard 96 416 48 0 pattern=zipf || exit 1
waitlog budget-demo '^t=1 ' && waitlog standard-demo '^t=1 '
"$vmtier" list

title "vmtier status --watch: vmtierd brings the hot sets into DRAM (about 30 s)"
if [ -n "${VMTIER_DEMO_TTY:-}" ]; then
	script -qec "'$vmtier' status --watch --interval 2 --count 15" /dev/null
else
	"$vmtier" status --watch --interval 5 --count 6
fi

title "the tenant's SLA report, judged after the 90 s warm-up"
# at least ten judged intervals per VM (3 s each), a 180 s ceiling
judged() {
	"$vmtier" report --db /var/lib/vmtier/history.db --tenant acme --format json 2>/dev/null | python3 -c '
import json, sys
vms = [v for t in json.load(sys.stdin)["tenants"] for v in t["vms"]]
sys.exit(not (len(vms) == 2 and all(v["intervals_met"] + v["intervals_missed"] >= 10 for v in vms)))'
}
t0=$(now)
until judged || [ $(($(now) - t0)) -ge 180 ]; do sleep 3; done
"$vmtier" report --db /var/lib/vmtier/history.db --tenant acme
"$vmtier" report --db /var/lib/vmtier/history.db --tenant acme --format html -o "$out/report-acme.html"
[ -s "$out/vmtier.prom" ] && title "vmtierd's Prometheus metrics (docs/metrics.md)" &&
	grep -E '^vmtier_(vm_info|vm_slo_intervals_total|daemon_info|node_committed)' "$out/vmtier.prom"
sqlite3 /var/lib/vmtier/history.db ".backup '$out/history.db'" 2>/dev/null	# for a look afterwards
"$vmtier" hook uninstall >/dev/null 2>&1
kill -TERM "$daemon"; wait "$daemon"
for g in budget-demo standard-demo; do virsh destroy "$g" >/dev/null; "$vmtier" undefine "$g" >/dev/null; done
