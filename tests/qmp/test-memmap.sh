#!/bin/bash
# test-memmap.sh ELF VMTIER PAGE_NODES HOST_A HOST_B [ram|memfd|file]:
# `vmtier memmap` on a
# real QEMU whose guest node 0 (64 MiB) is bound to host node A and node 1
# (96 MiB) to host node B, checked against independent oracles: the QEMU
# process's own /proc maps, page-nodes (move_pages), and the guest's report.
# The last argument picks node 1's backend type (default ram).
set -u
here=$(dirname "$0")
. "$here/../tap.sh"
. "$here/../guest/lib.sh"
elf=$1 vmtier=$2 page_nodes=$3 ha=$4 hb=$5 backend=${6:-ram}
dir=$(mktemp -d); trap 'kill $GUEST_PID 2>/dev/null; rm -rf "$dir"' EXIT
mib=$((1024 * 1024))

case "$backend" in
ram) m1="memory-backend-ram,id=m1,size=96M,host-nodes=$hb,policy=bind" ;;
memfd) m1="memory-backend-memfd,id=m1,size=96M,host-nodes=$hb,policy=bind" ;;
file) m1="memory-backend-file,id=m1,size=96M,mem-path=$dir/m1.mem,share=on,host-nodes=$hb,policy=bind" ;;
*) tap_bail "unknown backend '$backend'" ;;
esac
qemu-system-x86_64 -accel tcg -nodefaults -display none -no-reboot -m 160M -smp 1 \
	-object memory-backend-ram,id=m0,size=64M,host-nodes=$ha,policy=bind \
	-object "$m1" \
	-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,memdev=m1 \
	-kernel "$elf" -append "base=80M mem=32M hot=16M hot_off=88M time=0" \
	-debugcon "file:$dir/log" -qmp "unix:$dir/qmp,server=on,wait=off" </dev/null &
GUEST_PID=$!
tap_check "guest running its hot set" guest_wait_line "$dir/log" '^t=1 .*hot=0x05800000-0x06800000 errors=0' 120

j=$("$vmtier" memmap --qmp "$dir/qmp" --pid "$GUEST_PID" --json); rc=$?
tap_diag "$("$vmtier" memmap --qmp "$dir/qmp" --pid "$GUEST_PID")"
tap_check "vmtier memmap --json: exit 0" test $rc -eq 0
get() { python3 -c "
import json, sys
ram = {r['memdev']: r for r in json.loads(sys.argv[1])['ram']}
v = eval(sys.argv[2])
print(*v) if isinstance(v, tuple) else print(v)" "$j" "$1"; }
tap_check "m0 is guest node 0: GPA 0, 64 MiB, bind:$ha" \
	test "$(get "ram['m0']['guest_node'], ram['m0']['ranges'][0]['gpa'], ram['m0']['size_bytes'], ram['m0']['numa_maps_policy']")" = "0 0 $((64 * mib)) bind:$ha"
tap_check "m1 is guest node 1: GPA 64 MiB, 96 MiB, bind:$hb" \
	test "$(get "ram['m1']['guest_node'], [(x['gpa'], x['size_bytes'], x['offset']) for x in ram['m1']['ranges']], ram['m1']['size_bytes'], ram['m1']['numa_maps_policy']")" = "1 [($((64 * mib)), $((96 * mib)), 0)] $((96 * mib)) bind:$hb"
tap_check "m1's one range reports the same residency as the backend" \
	test "$(get "ram['m1']['ranges'][0]['resident_pages'] == ram['m1']['resident_pages'] and ram['m1']['ranges'][0]['absent_pages'] == ram['m1']['absent_pages']")" = True
hva1=$(get "ram['m1']['hva']")
tap_check "m1's HVA is the QEMU mapping of exactly 96 MiB ($hva1)" test "$hva1" = "$(vma_of_size "$GUEST_PID" 96)"
# the guest's hot set, GPA [88M, 104M), through the map: all resident on node B
hot=$("$page_nodes" "$GUEST_PID" $((hva1 + 24 * mib)) $((16 * mib)))
tap_check "the guest's hot set, located through the map, is resident on host node $hb ($hot)" \
	test "$hot" = "node$hb=4096 absent=0"
tap_check "memmap's resident count for m1 matches move_pages ($(get "ram['m1']['resident_pages']"))" \
	test "$(get "[(r['node'], r['pages']) for r in ram['m1']['resident_pages']]")" = \
	"[($hb, $("$page_nodes" "$GUEST_PID" "$hva1" $((96 * mib)) | sed -E 's/^node[0-9]+=([0-9]+).*/\1/'))]"

out=$("$vmtier" memmap --qmp "$dir/qmp" --pid $$ 2>&1); rc=$?
tap_check "wrong pid: exit 1, one error line: no such mapping in that process" \
	test $rc -eq 1 -a "$(wc -l <<<"$out")" -eq 1 -a -n "$(grep "pid $$ has no mapping at" <<<"$out")"
out=$("$vmtier" memmap ../etc 2>&1); rc=$?
tap_check "bad domain name: exit 64, names it" test $rc -eq 64 -a "$out" = "vmtier memmap: bad domain name '../etc'"
out=$("$vmtier" memmap --qmp "$dir/nope" --pid "$GUEST_PID" 2>&1); rc=$?
tap_check "no socket: exit 1, names it" test $rc -eq 1 -a -n "$(grep -F "$dir/nope" <<<"$out")"
kill "$GUEST_PID"; wait "$GUEST_PID" 2>/dev/null

if [ "$backend" = ram ]; then
	# one 4 GiB backend, no -numa: the PCI hole splits it into two ranges
	# (reserve=off: untouched, it needs no commit charge, even in the test host)
	qemu-system-x86_64 -accel tcg -nodefaults -display none -m 4G -smp 1 \
		-object memory-backend-ram,id=big,size=4G,reserve=off -machine memory-backend=big \
		-kernel "$elf" -append "base=80M mem=32M time=0" \
		-debugcon "file:$dir/log2" -qmp "unix:$dir/qmp2,server=on,wait=off" </dev/null &
	GUEST_PID=$!
	guest_wait_line "$dir/log2" '^t=1 ' 120
	j=$("$vmtier" memmap --qmp "$dir/qmp2" --pid "$GUEST_PID" --json); rc=$?
	tap_check "4 GiB guest: one backend, node 0, ranges [0,3G) and [4G,5G) at offsets 0 and 3G" \
		test $rc -eq 0 -a "$(get "ram['big']['guest_node'], [(x['gpa'] >> 20, x['size_bytes'] >> 20, x['offset'] >> 20) for x in ram['big']['ranges']]")" = "0 [(0, 3072, 0), (4096, 1024, 3072)]"
	tap_check "4 GiB guest: the above-4G range is untouched, so not resident" \
		test "$(get "ram['big']['ranges'][1]['resident_pages'], ram['big']['ranges'][1]['absent_pages']")" = "[] 262144"
	kill "$GUEST_PID"
fi
tap_done
