#!/bin/bash
# test-adopt.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the test host
# (topology 'tiered'), with a private libvirtd: a guest made by virt-install
# --print-xml (no vmtier metadata, no NUMA cells), `vmtier adopt` lists what it lacks,
# refuses --fix while it runs, --fix makes it right; it starts and vmtierd
# tiers it (its hot set reaches DRAM).  Ground truth: libvirt's XML, the
# guest's hot range and move_pages.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$@"

echo 0 >/proc/sys/kernel/numa_balancing	# vmtierd alone moves pages
tap_check "a private libvirtd starts" libvirtd_start

# a guest as an operator makes one: 512 MiB, 2 vCPUs, its own QEMU argument
# (the test guest's debug console); the guest fills 20M..276M and hits 32M
# at GPA 192M.  virt-install's own output (tests/golden/adopt/in/: running
# virt-install here costs about a minute of the budget), its kernel this
# build's test guest
mkdir -p /tmp/vmtier-guests && ln -sfn /tmp/vmtier-guests/web1.log "$out/web1.log"
sed "s|<kernel>.*</kernel>|<kernel>$elf</kernel>|" "$here/../golden/adopt/in/virt-install-plain.xml" \
	>"$out/virt-install.xml"
tap_check "virt-install's XML of web1, with no vmtier metadata" \
	bash -c '! grep -q vmtier: "$1" && grep -q "<kernel>$2</kernel>" "$1"' _ "$out/virt-install.xml" "$elf"
tap_check "libvirt defines it" virsh define "$out/virt-install.xml" --validate
before=$(virsh dumpxml --inactive web1)

res=$("$vmtier" adopt web1 --dram 64M --tenant acme --dram-nodes 0 2>&1); rc=$?
tap_diag "$res"
want="web1: 5 problems for vmtier (64 MiB DRAM on node 0, 448 MiB slow memory on node 2):
  cpu/numa: found no NUMA cells, needs cell 0 of 64 MiB (the DRAM quota, the vCPUs) and cell 1 of 448 MiB (slow memory)
  numatune/memory: found none, needs mode='strict' nodeset='0,2' (both tiers: vmtierd moves pages between them)
  numatune/memnode cellid='0': found none, needs mode='strict' nodeset='0' (DRAM)
  numatune/memnode cellid='1': found none, needs mode='strict' nodeset='2' (slow memory)
  qemu:commandline: found no -qmp socket of vmtierd's, needs -qmp unix:/run/vmtier/qmp/libvirt-2deee7e0-4831-4ba1-82d0-905d9722e81e.qmp,server=on,wait=off
vmtier adopt web1 --fix adds them (nothing was changed)"
tap_check "adopt lists exactly what web1 lacks, exit 2" test $rc -eq 2 -a "$res" = "$want"
tap_check "and changed nothing (no metadata)" test "$(virsh dumpxml --inactive web1)" = "$before"

res=$("$vmtier" adopt web1 --dram 64M --tenant acme --class budget --dram-nodes 0 --fix 2>&1); rc=$?
tap_diag "$res"
tap_check "--fix adopts the stopped web1" test $rc -eq 0 -a "$(tail -1 <<<"$res")" = \
	"adopted web1: 64 MiB DRAM on node 0, 448 MiB slow memory on node 2; its definition now has what was missing"
x=$(virsh dumpxml --inactive web1)
tap_check "libvirt has its cells (64 MiB with both vCPUs, 448 MiB) and bindings" test "$(grep -cE \
	"<cell id='0' cpus='0-1' memory='65536' unit='KiB'>|<cell id='1' memory='458752' unit='KiB'>|<memory mode='strict' nodeset='0,2'/>|<memnode cellid='0' mode='strict' nodeset='0'/>|<memnode cellid='1' mode='strict' nodeset='2'/>" <<<"$x")" -eq 5
tap_check "its plan: tenant acme, class budget, 64 MiB quota" python3 -c '
import json, sys
d = {x["name"]: x for x in json.loads(sys.argv[1])}["web1"]
assert (d["tenant"], d["class"], d["dram_bytes"], d["pmem_bytes"], d["dram_nodes"], d["pmem_nodes"]) == ("acme", "budget", 64 << 20, 448 << 20, "0", "2"), d' "$("$vmtier" list --json)"
tap_check "what virt-install made stays: the kernel, its arguments, the debug console" \
	bash -c 'grep -q "<kernel>$1</kernel>" <<<"$2" && grep -q "hot_off=192M" <<<"$2" && grep -q "file:/tmp/vmtier-guests/web1.log" <<<"$2"' _ "$elf" "$x"
res=$("$vmtier" adopt web1 --dram 64M --tenant acme --class budget 2>&1); rc=$?
tap_check "adopting it again finds nothing missing and rewrites its plan ($res)" test $rc -eq 0 -a \
	"$res" = "adopted web1: 64 MiB DRAM on node 0, 448 MiB slow memory on node 2"

tap_check "adopted web1 starts" virsh start web1
tap_check "the guest filled its memory and runs its hot set" waitlog web1 '^t=1 '
track web1 64 32
tap_check "before vmtierd: the hot set is wholly on PMEM node 2" test "$(hot_on web1 2)" -eq 8192
daemon_config "scanner=damon-vaddr"
tap_check "vmtierd starts" start_daemon
tap_check "vmtierd: 90% of web1's hot set reached DRAM node 0 within 60 s" converge web1 60
tap_diag "after ${reached:-never} s; DRAM at most $((maxd / 256)) MiB"
tap_check "web1's DRAM stayed within its 64 MiB quota and a 2-chunk batch" test "$maxd" -le $(((64 + 4) * 256))
tap_check "vmtier status: web1 tiered by DAMON, quota 64 MiB" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["state"] == "tiering" and v["quota_bytes"] == 64 << 20 and v["promoted_bytes"] > 0, v' \
	"$("$vmtier" status web1 --json)"
# adopting the running guest again: its live layout is checked too, and its
# plan written live as well (vmtierd keeps tiering it)
res=$("$vmtier" adopt web1 --dram 64M --tenant acme --class budget 2>&1); rc=$?
tap_check "adopt on the running web1 finds nothing missing, live or defined ($res)" test $rc -eq 0 -a \
	"$res" = "adopted web1: 64 MiB DRAM on node 0, 448 MiB slow memory on node 2"
sleep 2
tap_check "and vmtierd still tiers it" bash -c "'$vmtier' status web1 --json | grep -q '\"state\":\"tiering\"'"
# a running guest's layout changes only when QEMU starts again: refused
x=$(virsh dumpxml --inactive web1)
res=$("$vmtier" adopt web1 --dram 32M --tenant acme --fix 2>&1); rc=$?
tap_check "--fix refuses the running web1 a new layout (32 MiB quota), saying when it would apply ($res)" \
	test $rc -eq 1 -a -n "$(grep -F "a new NUMA layout takes effect only when QEMU starts again" <<<"$res")"
tap_check "and changed nothing" test "$(virsh dumpxml --inactive web1)" = "$x"
kill -TERM "$daemon"; wait "$daemon"
virsh destroy web1 >/dev/null
tap_done
