#!/bin/bash
# demo-testbed.sh GUEST_ELF PAGE_NODES VMTIER: runs inside the tiered test
# host.  Shows its memory tiers and what vmtier thinks of them, then defines a
# budget VM with `vmtier define`, starts it under a private libvirtd with the
# tests/guest workload, and shows where its memory is.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/guest/lib.sh"
. "$here/../tests/libvirt/libvirtd-start.sh"
elf=$(realpath "$1") page_nodes=$(realpath "$2") vmtier=$(realpath "$3")
export VMTIER_TEMPLATE_DIR=$here/../xml-templates
mib=$((1024 * 1024))
virsh() { command virsh -q -c qemu:///system "$@"; }

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
echo "== a budget VM: 112 MiB of slow memory, its DRAM quota from the budget class"
libvirtd_start >/dev/null || { echo "libvirtd did not start"; exit 1; }
"$vmtier" define budget-demo --class budget --pmem 112M --tenant acme --virt-type qemu --dram-nodes 0 \
	--kernel "$elf" --append "base=20M mem=100M hot=16M hot_off=64M pattern=zipf time=0" || exit 1
# the guest's debug console, for this demo only
virsh dumpxml budget-demo | sed "s|</qemu:commandline>|<qemu:arg value='-debugcon'/><qemu:arg value='file:$VMTIER_OUT/guest.log'/></qemu:commandline>|" >/tmp/demo.xml
virsh define /tmp/demo.xml >/dev/null
virsh start budget-demo >/dev/null || exit 1
for _ in $(seq 300); do grep -q '^t=3 ' "$VMTIER_OUT/guest.log" 2>/dev/null && break; sleep 0.2; done
echo
echo "== vmtier list"
"$vmtier" list
echo
echo "== vmtier memmap budget-demo: guest node 0 on DRAM, node 1 on PMEM node 2"
"$vmtier" memmap budget-demo
hva1=$("$vmtier" memmap budget-demo --json | python3 -c 'import json,sys; print([r["hva"] for r in json.load(sys.stdin)["ram"] if r["guest_node"] == 1][0])')
echo
echo "== the guest's hot set, GPA 64-80 MiB: $("$page_nodes" "$(cat /run/libvirt/qemu/budget-demo.pid)" $((hva1 + 48 * mib)) $((16 * mib)))"
echo
echo "== the guest's own report (tail)"
tail -4 "$VMTIER_OUT/guest.log" | sed 's/^/  /'
virsh destroy budget-demo >/dev/null
"$vmtier" undefine budget-demo >/dev/null
echo
echo "The hot set sits on slow memory because nothing moves it yet: vmtierd's job"
echo "(not written yet) is to bring it into DRAM, within the VM's 16 MiB quota."
