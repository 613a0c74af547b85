#!/bin/bash
# test-this-machine.sh VMTIER: on a machine with one NUMA node and no DAX
# devices (this project's build and CI machines), vmtier host shows one DRAM
# node and says there is no slow tier; host check says tiering is not
# possible and exits 2.  Read-only: it touches nothing.
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1
if [ "$(cat /sys/devices/system/node/online 2>/dev/null)" != 0 ] || ls /sys/bus/dax/devices/dax* >/dev/null 2>&1; then
	echo "1..0 # SKIP this machine has more than one NUMA node or DAX devices"
	exit 0
fi
out=$("$vmtier" host); rc=$?
tap_diag "$out"
tap_check "vmtier host: exit 0" test $rc -eq 0
tap_check "vmtier host: one node, DRAM" test "$(grep -cE '^[0-9]+ +dram ' <<<"$out")" -eq 1 -a "$(grep -cE '^[0-9]+ ' <<<"$out")" -eq 1
tap_check "vmtier host: says there is no slow memory" grep -q '^No slow memory online on this host' <<<"$out"
j=$("$vmtier" host --json)
tap_check "vmtier host --json: slow_tier false, one node" python3 -c '
import json, sys
h = json.loads(sys.argv[1]); assert not h["slow_tier"] and len(h["nodes"]) == 1 and h["nodes"][0]["kind"] == "dram"' "$j"
out=$("$vmtier" host check); rc=$?
tap_diag "$out"
tap_check "host check: exit 2" test $rc -eq 2
tap_check "host check: explains that there is nothing to tier here" \
	grep -q '^error   no-slow-tier .*nothing to tier on this host' <<<"$out"
tap_done
