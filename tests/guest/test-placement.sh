#!/bin/bash
# test-placement.sh ELF PAGE_NODES HOST_NODE_A HOST_NODE_B
# Ground truth for tiering: boot tests/guest with guest node 0 (64 MiB) bound
# to host node A and guest node 1 (96 MiB) bound to host node B, put the hot
# set in guest node 1 and check, from the guest's report and from the QEMU
# process's numa_maps and page placement, that the hot set lies where asked.
set -u
here=$(dirname "$0")
. "$here/../tap.sh"
. "$here/lib.sh"
elf=$1 page_nodes=$2 ha=$3 hb=$4
log=$(mktemp); trap 'kill $GUEST_PID 2>/dev/null; rm -f $log' EXIT
mib=$((1024 * 1024))
# guest node 1 is GPA [64M, 160M); the region is [80M, 112M), hot [88M, 104M)
# time=15: the checks below read QEMU's pages while it runs (with time=3 a
# loaded machine's checks outlasted the guest: "No such process")
guest_start "$elf" 64 "$ha" 96 "$hb" "$log" \
	base=80M mem=32M hot=16M hot_off=88M pattern=uniform write=30 time=15

tap_check "guest filled its region" guest_wait_line "$log" '^vmtier-guest: filled' 120
tap_check "guest reports a first second of accesses" guest_wait_line "$log" '^t=1 ' 60
m0=$(vma_of_size "$GUEST_PID" 64); m1=$(vma_of_size "$GUEST_PID" 96)
tap_check "QEMU maps each guest node's RAM as its own VMA" test -n "$m0" -a -n "$m1"
tap_check "guest node 0 RAM is bound to host node $ha" \
	test "$(numa_policy "$GUEST_PID" "$m0")" = "bind:$ha"
tap_check "guest node 1 RAM is bound to host node $hb" \
	test "$(numa_policy "$GUEST_PID" "$m1")" = "bind:$hb"
# GPA 88M is 24M into guest node 1's backend
hot=$("$page_nodes" "$GUEST_PID" $((m1 + 24 * mib)) $((16 * mib)))
tap_diag "hot set pages: $hot"
tap_check "every hot-set page is resident on host node $hb" \
	test "$hot" = "node$hb=4096 absent=0"
# The guest never touched GPA [64M, 80M) nor [112M, 136M); firmware (SeaBIOS,
# the multiboot loader) uses the top of RAM, so stay below 136M.
cold=$("$page_nodes" "$GUEST_PID" "$m1" $((16 * mib)))
cold2=$("$page_nodes" "$GUEST_PID" $((m1 + 48 * mib)) $((24 * mib)))
tap_diag "untouched parts of node 1: $cold / $cold2"
tap_check "memory the guest never touched is not resident" \
	test "$cold $cold2" = "absent=4096 absent=6144"
wait "$GUEST_PID"; rc=$?
tap_diag "$(cat "$log")"
tap_check "guest exits with 'memory intact' (QEMU status 1)" test $rc -eq 1
tap_check "guest reports the hot range it was asked for, every second" \
	bash -c "! grep '^t=' '$log' | grep -v 'hot=0x05800000-0x06800000 errors=0\$' | grep -q . && grep -q '^t=3 ' '$log'"
tap_check "guest found no integrity errors" grep -q 'errors=0 verify_errors=0 result=intact' "$log"
tap_done
