#!/bin/bash
# test-topology.sh MODE: inside the test host, the PMEM state of the other
# topologies is what its name says (movable | devdax | offline).
set -u
. "$(dirname "$0")/../tap.sh"
mode=$1
dl=$(daxctl list -D 2>/dev/null || daxctl list)
tap_diag "$dl"
field() { python3 -c "import json,sys; print(' '.join(str(d.get('$1')).lower() for d in json.load(sys.stdin)))" <<<"$dl"; }
tap_check "two dax devices" test "$(field chardev)" = "dax1.0 dax0.0" -o "$(field chardev)" = "dax0.0 dax1.0"
zones() { cat /sys/devices/system/node/node2/memory*/valid_zones 2>/dev/null | sort -u | xargs; }
size2=$(numactl -H | awk '$1=="node" && $2==2 && $3=="size:" {print $4}')
case "$mode" in
movable)
	tap_check "both are system-ram" test "$(field mode)" = "system-ram system-ram"
	tap_check "both are onlined movable" test "$(field movable)" = "true true"
	tap_check "node 2 memory is ZONE_MOVABLE only" test "$(zones)" = "Movable"
	tap_check "node 2 has memory (${size2} MB)" test "${size2:-0}" -gt 500 ;;
devdax)
	tap_check "both stay in devdax mode" test "$(field mode)" = "devdax devdax"
	tap_check "/dev/dax0.0 and /dev/dax1.0 exist" test -c /dev/dax0.0 -a -c /dev/dax1.0
	tap_check "node 2 has no memory (${size2} MB)" test "${size2:-0}" -eq 0 ;;
offline)
	tap_check "both are system-ram" test "$(field mode)" = "system-ram system-ram"
	tap_check "no memory block is online" test "$(field online_memblocks)" = "0 0"
	tap_check "node 2 has size 0: the 0-size node trap (${size2} MB)" test "${size2:-0}" -eq 0 ;;
*) tap_bail "unknown mode '$mode'" ;;
esac
tap_done
