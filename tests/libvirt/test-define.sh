#!/bin/bash
# test-define.sh VMTIER GUEST_ELF PAGE_NODES: inside the test host (topology
# 'tiered'), with a private libvirtd: vmtier define/list/undefine against
# real libvirt, and the started guests' QEMU memory where the plan says.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
. "$here/../guest/lib.sh"
. "$here/libvirtd-start.sh"
vmtier=$(realpath "$1") elf=$(realpath "$2") page_nodes=$(realpath "$3")	# libvirt needs absolute paths
export VMTIER_TEMPLATE_DIR=$here/../../xml-templates
[ "${VMTIER_TOPOLOGY:-}" = tiered ] || tap_bail "needs topology tiered"
tap_check "a private libvirtd starts" libvirtd_start
virsh() { command virsh -q -c qemu:///system "$@"; }
mib=$((1024 * 1024))
# the default DRAM node is the one with most free memory, which varies from
# boot to boot: pin node 0 unless a test picks its own.  rate=2000: the
# guests fill their memory and then idle between bursts (nothing here is
# tiered; a guest that spins takes a whole test-host CPU)
run() {
	local pin=(--dram-nodes 0)
	[[ " $* " == *" --dram-nodes "* ]] && pin=()
	"$vmtier" define "$@" "${pin[@]}" --virt-type qemu --kernel "$elf" \
		--append "base=20M mem=100M hot=16M hot_off=64M time=0 rate=2000"
}

out=$(run b1 --class budget --pmem 112M --tenant acme 2>&1); rc=$?
tap_check "define b1 (budget, 112M PMEM): exit 0" test $rc -eq 0 -a "$out" = "defined b1: 16 MiB DRAM on node 0, 112 MiB slow memory on node 2"
x=$(virsh dumpxml b1)
tap_check "dumpxml keeps both cells with their sizes" \
	test "$(grep -cE "<cell id='0' cpus='0' memory='16384'|<cell id='1' memory='114688'" <<<"$x")" -eq 2
tap_check "dumpxml keeps the memnodes (cell 0 -> node 0, cell 1 -> node 2)" \
	test "$(grep -cE "<memnode cellid='0' mode='strict' nodeset='0'/>|<memnode cellid='1' mode='strict' nodeset='2'/>" <<<"$x")" -eq 2
tap_check "dumpxml keeps vmtier's metadata" grep -q '<vmtier:tenant>acme</vmtier:tenant>' <<<"$x"
j=$("$vmtier" list --json)
tap_check "vmtier list shows b1 shut off, tenant acme, class budget, 16 MiB quota" python3 -c '
import json, sys
d = {x["name"]: x for x in json.loads(sys.argv[1])}["b1"]
assert (d["state"], d["tenant"], d["class"], d["dram_bytes"], d["pmem_nodes"]) == ("shut-off", "acme", "budget", 16 << 20, "2"), d' "$j"

out=$(run b1 --dram 16M --pmem 16M 2>&1); rc=$?
tap_check "defining b1 again is refused" test $rc -eq 1 -a "$out" = "vmtier define: 'b1' is already defined"
out=$(run huge --dram 900M --pmem 64M 2>&1); rc=$?
tap_diag "$out"
tap_check "admission: a quota that does not fit is refused with the numbers" \
	test $rc -eq 1 -a -n "$(grep 'DRAM quota does not fit: 16 MiB already promised + 900 MiB asked + 256 MiB reserve >' <<<"$out")"
tap_check "admission: nothing was defined" bash -c "! virsh list --all --name | grep -qx huge"

check_started() {	# NAME HOST_POLICY_OF_CELL1 PMEM_MB [POLICY_OF_CELL0]
	virsh start "$1" >/dev/null && check_policy "$@"
}
check_policy() {	# the same for a running NAME
	local name=$1 want=$2 mb=$3 want0=${4:-bind:0} pid m0 m1
	pid=$(cat "/run/libvirt/qemu/$name.pid") || return 1
	GUEST_PID=$pid
	for _ in $(seq 50); do m1=$(vma_of_size "$pid" "$mb"); [ -n "$m1" ] && break; sleep 0.1; done
	m0=$(vma_of_size "$pid" 16)
	tap_diag "$name: cell 0 $(numa_policy "$pid" "$m0"), cell 1 $(numa_policy "$pid" "$m1")"
	[ "$(numa_policy "$pid" "$m0")" = "$want0" ] && [ "$(numa_policy "$pid" "$m1")" = "$want" ]
}
tap_check "started b1: QEMU binds cell 0 to node 0 and cell 1 to node 2" check_started b1 bind:2 112
sleep 8	# let the guest fill its memory
j=$("$vmtier" memmap b1 --json); rc=$?
tap_check "vmtier memmap b1 (by name, via the QMP socket define set up)" test $rc -eq 0 -a \
	"$(python3 -c 'import json,sys; print(*[(r["memdev"], r["guest_node"], r["numa_maps_policy"]) for r in json.loads(sys.argv[1])["ram"]])' "$j")" = "('ram-node0', 0, 'bind:0') ('ram-node1', 1, 'bind:2')"
hva1=$(python3 -c 'import json,sys; print([r["hva"] for r in json.loads(sys.argv[1])["ram"] if r["guest_node"] == 1][0])' "$j")
hot=$("$page_nodes" "$GUEST_PID" $((hva1 + 48 * mib)) $((16 * mib)))	# GPA 64M is 48M into cell 1
tap_check "the guest's hot set (GPA 64M-80M) is resident on PMEM node 2 ($hot)" test "$hot" = "node2=4096 absent=0"
out=$("$vmtier" undefine b1 2>&1); rc=$?
tap_check "undefine refuses a running domain" test $rc -eq 1 -a "$out" = "vmtier undefine: 'b1' is running: stop it first (virsh destroy b1)"
virsh destroy b1 >/dev/null

# three more, started at once (each start is mostly the test host's CPU
# emulating AppArmor's profile compiler and QEMU's start: together they
# overlap the waits)
run pall --dram 16M --pmem 64M --pmem-policy all >/dev/null
run ppref --dram 16M --pmem 64M --pmem-policy preferred >/dev/null
run n1 --dram 16M --pmem 64M --dram-nodes 1 >/dev/null
for d in pall ppref n1; do virsh start "$d" >"/tmp/start-$d.log" 2>&1 & done
wait
tap_check "--pmem-policy all: cell 1 interleaved over nodes 2-3" check_policy pall interleave:2-3 64
tap_check "--pmem-policy preferred: cell 1 prefers node 2" check_policy ppref prefer:2 64
tap_check "--dram-nodes 1: cell 0 on node 1, closest PMEM is node 3" check_policy n1 bind:3 64 bind:1 ||
	tap_diag "(cell 0 on node 1 expected bind:1)" "$(cat /tmp/start-*.log)"
for d in pall ppref n1; do virsh destroy "$d" >/dev/null; done

# a vmtier domain that later got a VFIO device: vmtier list warns
run vf --dram 16M --pmem 16M >/dev/null
virsh dumpxml vf | sed "s|</devices>|<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></source></hostdev></devices>|" >/tmp/vf.xml
virsh define /tmp/vf.xml >/dev/null
err=$("$vmtier" list 2>&1 >/dev/null)
tap_check "vmtier list warns that vf's memory is pinned (VFIO)" test "$err" = "vmtier list: warning: vf has host devices (VFIO): its memory is pinned and cannot be moved between tiers"
tap_check "vmtier list --json marks only vf as pinned" test "$("$vmtier" list --json 2>/dev/null | python3 -c 'import json,sys; print(*[d["name"] for d in json.load(sys.stdin) if d["pinned"]])')" = vf
"$vmtier" undefine vf >/dev/null

cat >/tmp/plain.xml <<'XML'
<domain type='qemu'><name>plain</name><memory unit='MiB'>32</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>
XML
virsh define /tmp/plain.xml >/dev/null
out=$("$vmtier" undefine plain 2>&1); rc=$?
tap_check "undefine leaves a domain vmtier does not manage" test $rc -eq 1 -a "$out" = "vmtier undefine: 'plain' is not a vmtier-managed domain"
tap_check "vmtier list does not show it" bash -c "! '$vmtier' list | grep -q '^plain '"
for d in b1 pall ppref n1; do "$vmtier" undefine "$d" >/dev/null; done
tap_check "undefine removed every vmtier domain" test "$("$vmtier" list --json)" = "[
]"
tap_check "libvirt agrees: only 'plain' is left" test "$(virsh list --all --name | xargs)" = plain
tap_done
