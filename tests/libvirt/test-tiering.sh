#!/bin/bash
# test-tiering.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the test host
# (topology 'tiered'), with a private libvirtd and vmtierd using DAMON: a
# budget guest (64 MiB DRAM quota) whose 32 MiB hot set starts on PMEM gets
# it promoted to DRAM, never holds more DRAM than its quota, and its memory
# stays intact.  Ground truth comes from the guest's own hot range and
# move_pages, not from vmtierd's report.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
. "$here/libvirtd-start.sh"
vmtier=$(realpath "$1") vmtierd=$(realpath "$2") elf=$(realpath "$3") page_nodes=$(realpath "$4")
export VMTIER_TEMPLATE_DIR=$here/../../xml-templates
export VMTIER_SOCKET=/run/vmtier/vmtierd.sock
[ "${VMTIER_TOPOLOGY:-}" = tiered ] || tap_bail "needs topology tiered"
out=${VMTIER_OUT:-/tmp}
mib=$((1024 * 1024))
virsh() { command virsh -q -c qemu:///system "$@"; }

# the kernel's own NUMA balancing would move pages too: measure vmtierd alone
echo 0 >/proc/sys/kernel/numa_balancing
tap_check "a private libvirtd starts" libvirtd_start

# guest RAM: cell 0 = GPA 0-64M on DRAM node 0, cell 1 = GPA 64M-512M on PMEM
# node 2; the guest fills 20M-276M and keeps hitting 32M at GPA 192M (cell 1)
"$vmtier" define tb --class budget --dram 64M --pmem 448M --dram-nodes 0 --virt-type qemu \
	--kernel "$elf" --append "base=20M mem=256M hot=32M hot_off=192M time=70" >/dev/null
virsh dumpxml tb | sed "s|</qemu:commandline>|<qemu:arg value='-debugcon'/><qemu:arg value='file:$out/tb.log'/></qemu:commandline>|" >/tmp/tb.xml
virsh define /tmp/tb.xml >/dev/null
tap_check "budget guest tb starts" virsh start tb
pid=$(cat /run/libvirt/qemu/tb.pid)
for _ in $(seq 600); do grep -q '^t=1 ' "$out/tb.log" 2>/dev/null && break; sleep 0.2; done
tap_check "the guest filled its memory and runs its hot set" grep -q '^t=1 ' "$out/tb.log"

j=$("$vmtier" memmap tb --json)
hva1=$(python3 -c 'import json,sys; print([r["hva"] for r in json.loads(sys.argv[1])["ram"] if r["guest_node"] == 1][0])' "$j")
hva0=$(python3 -c 'import json,sys; print([r["hva"] for r in json.loads(sys.argv[1])["ram"] if r["guest_node"] == 0][0])' "$j")
hot_hva=$((hva1 + (192 - 64) * mib))
count() { sed -n "s/.*node$2=\([0-9]*\).*/\1/p" <<<"$1" | grep . || echo 0; }
# DRAM (nodes 0-1) pages of the guest's whole RAM, as move_pages sees them
dram_pages() {
	local a b
	a=$("$page_nodes" "$pid" "$hva0" $((64 * mib))) b=$("$page_nodes" "$pid" "$hva1" $((448 * mib)))
	echo $(($(count "$a" 0) + $(count "$a" 1) + $(count "$b" 0) + $(count "$b" 1)))
}
h=$("$page_nodes" "$pid" "$hot_hva" $((32 * mib)))
tap_diag "before: hot set $h; guest DRAM $(($(dram_pages) / 256)) MiB"
tap_check "before: the hot set is on PMEM node 2" test "$(count "$h" 2)" -eq 8192

# only now vmtierd starts: it finds tb through libvirt and promotes
cat >/tmp/vmtierd.conf <<CONF
[daemon]
socket=$VMTIER_SOCKET
history_db=$out/history.db
class_dir=$VMTIER_TEMPLATE_DIR/classes
scanner=damon-vaddr
scan_interval_ms=1000
min_interval_ms=1000
max_interval_ms=1000
discover_interval_s=1
CONF
"$vmtierd" --config /tmp/vmtierd.conf >"$out/vmtierd.log" 2>&1 &
daemon=$!
for _ in $(seq 50); do [ -S "$VMTIER_SOCKET" ] && break; sleep 0.1; done
tap_check "vmtierd starts and listens on $VMTIER_SOCKET" test -S "$VMTIER_SOCKET"

# sample every second
quota_pages=$((64 * 256)) batch_pages=$((2 * 512)) max_dram=0 reached=
for t in $(seq 1 65); do
	sleep 1
	d=$(dram_pages); [ "$d" -gt "$max_dram" ] && max_dram=$d
	h=$("$page_nodes" "$pid" "$hot_hva" $((32 * mib)))
	hot_dram=$(count "$h" 0)
	if [ "$hot_dram" -ge $((8192 * 9 / 10)) ] && [ -z "$reached" ]; then
		reached=$t
		tap_diag "after ${t}s: hot set $h; guest DRAM $((d / 256)) MiB"
		# keep sampling a little: the quota must hold after convergence too
	fi
	[ -n "$reached" ] && [ "$t" -ge $((reached + 10)) ] && break
done
"$vmtier" status
s=$("$vmtier" status tb --json); rc=$?
tap_diag "$s"
tap_check "at least 90% of the hot set reached DRAM node 0 within 65 s (after ${reached:-never} s)" test -n "$reached"
tap_check "guest DRAM never exceeded the 64 MiB quota by more than a 2-chunk batch (max $((max_dram / 256)) MiB)" \
	test "$max_dram" -le $((quota_pages + batch_pages))
tap_check "vmtier status tb: tiering with DAMON, promotions and demotions counted" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["state"] == "tiering" and v["scanner"] == "damon-vaddr", v
assert v["promoted_bytes"] >= 28 << 20 and v["demoted_bytes"] > 0, v
assert v["quota_bytes"] == 64 << 20 and v["dram_bytes"] <= (64 << 20) + (4 << 20), v' "$s"
errs=$(grep -c 'errors=[1-9]' "$out/tb.log")
tap_check "the guest saw no corrupted word while pages moved" test "$errs" -eq 0
# at time=70 the guest verifies every page it filled, moved or not, and exits
for _ in $(seq 600); do grep -q 'result=' "$out/tb.log" && break; sleep 0.2; done
tap_diag "$(grep 'result=' "$out/tb.log")"
tap_check "the guest's full verification finds its memory intact" grep -q 'verify_errors=0 result=intact' "$out/tb.log"
for _ in $(seq 100); do "$vmtier" status tb >/dev/null 2>&1 || break; sleep 0.1; done
tap_diag "$("$vmtier" status tb 2>&1)"
tap_check "vmtierd dropped tb once it stopped" bash -c "! '$vmtier' status tb >/dev/null 2>&1"
tap_check "vmtierd is still running" kill -0 "$daemon"
virsh destroy tb >/dev/null 2>&1
kill -TERM "$daemon"; wait "$daemon"; rc=$?
tap_check "vmtierd stops cleanly on SIGTERM" test $rc -eq 0
tap_check "and leaves no kdamond behind" test "$(cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds)" -eq 0
tap_diag "$(grep -v DEBUG "$out/vmtierd.log" | tail -20)"
tap_done
