#!/bin/bash
# demo-testbed.sh GUEST_ELF PAGE_NODES VMTIER: runs inside the tiered test
# host.  Shows its memory tiers, then boots one nested guest whose node 0 is
# DRAM (host node 0) and node 1 PMEM (host node 2), with the hot set in PMEM,
# and shows where that guest's pages are.
set -u
here=$(dirname "$0")
. "$here/../tests/guest/lib.sh"
elf=$1 page_nodes=$2 vmtier=$3
mib=$((1024 * 1024))

echo "== vmtier $("$vmtier" --version) on the test host ($(uname -r))"
echo
echo "== vmtier host: NUMA nodes, memory tiers, DAX devices"
"$vmtier" host
echo
echo "== vmtier host check"
"$vmtier" host check --json | python3 -c '
import json, sys
for f in json.load(sys.stdin):
    print("  {severity:<8}{id}: {what}\n          fix: {fix}".format(**f))'
echo
echo "== a nested guest: node 0 = 64 MiB on DRAM node 0, node 1 = 96 MiB on PMEM node 2"
log=$VMTIER_OUT/guest.log
guest_start "$elf" 64 0 96 2 "$log" base=80M mem=32M hot=16M hot_off=88M pattern=zipf time=4
guest_wait_line "$log" '^t=2 ' 120 || { echo "guest did not start:"; cat "$log"; exit 1; }
m0=$(vma_of_size "$GUEST_PID" 64) m1=$(vma_of_size "$GUEST_PID" 96)
printf '  %-28s %-22s %s\n' "guest range" "QEMU numa_maps policy" "resident pages per host node"
printf '  %-28s %-22s %s\n' "node 0  GPA 0-64M" "$(numa_policy "$GUEST_PID" "$m0")" \
	"$("$page_nodes" "$GUEST_PID" "$m0" $((64 * mib)))"
printf '  %-28s %-22s %s\n' "node 1  GPA 64M-160M" "$(numa_policy "$GUEST_PID" "$m1")" \
	"$("$page_nodes" "$GUEST_PID" "$m1" $((96 * mib)))"
printf '  %-28s %-22s %s\n' "hot set GPA 88M-104M" "" \
	"$("$page_nodes" "$GUEST_PID" $((m1 + 24 * mib)) $((16 * mib)))"
wait "$GUEST_PID"; rc=$?
echo
echo "== the guest's own report"
sed 's/^/  /' "$log"
[ $rc -eq 1 ] && echo "guest memory intact." || { echo "guest exit status $rc: memory NOT intact"; exit 1; }
echo
echo "Today the hot set sits on slow memory (node 2) because nothing moves it yet;"
echo "vmtierd's job is to bring it into DRAM within the VM's quota."
