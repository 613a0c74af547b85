#!/bin/bash
# test-host-online.sh VMTIER: inside the test host, topology 'devdax'.
# vmtier host online refuses cleanly (nothing changed) and then turns both
# devdax devices into ZONE_NORMAL NUMA nodes, after which host check is clean.
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1
[ "${VMTIER_TOPOLOGY:-}" = devdax ] || tap_bail "needs topology devdax"
mode() { daxctl list -d "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mode"])'; }
both_devdax() { [ "$(mode dax0.0) $(mode dax1.0)" = "devdax devdax" ]; }

out=$("$vmtier" host online dax9.9 2>&1); rc=$?
tap_check "unknown device: exit 1, error names it" test $rc -eq 1 -a "$out" = "vmtier host online: zone normal (default): ZONE_MOVABLE cannot hold kernel allocations, so guests spilling onto it can be OOM-killed
vmtier host online: no DAX device 'dax9.9' (see 'vmtier host')"
out=$("$vmtier" host online all --zone fast 2>&1); rc=$?
tap_check "bad zone: exit 64, error names it" test $rc -eq 64 -a "$out" = "vmtier host online: bad zone 'fast' (normal or movable)"

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$vmtier" host online all --zone normal 2>&1); rc=$?
tap_diag "$out"
tap_check "not root: exit 1, 'insufficient privilege'" test $rc -eq 1 -a -n "$(grep 'insufficient privilege' <<<"$out")"
tap_check "not root: nothing changed" both_devdax

busybox rmmod kmem
out=$("$vmtier" host online all --zone normal 2>&1); rc=$?
tap_diag "$out"
tap_check "kmem missing: exit 1, says to modprobe kmem" test $rc -eq 1 -a -n "$(grep 'modprobe kmem' <<<"$out")"
tap_check "kmem missing: nothing changed" both_devdax
busybox insmod /var/lib/testbed/modules/kmem.ko

echo online >/sys/devices/system/memory/auto_online_blocks
out=$("$vmtier" host online all --zone normal 2>&1); rc=$?
tap_diag "$out"
tap_check "auto-onlining on: exit 1, names the race and the fix" \
	test $rc -eq 1 -a -n "$(grep "auto-onlining is 'online'.*auto_online_blocks" <<<"$out")"
tap_check "auto-onlining on: nothing changed" both_devdax
echo offline >/sys/devices/system/memory/auto_online_blocks

( exec 3</dev/dax0.0; sleep 60 ) & holder=$!
sleep 0.5
out=$("$vmtier" host online all --zone normal 2>&1); rc=$?
tap_diag "$out"
tap_check "device in use: exit 1, names the process" test $rc -eq 1 -a -n "$(grep 'dax0.0 is in use by sleep\[' <<<"$out")"
tap_check "device in use: nothing changed (dax1.0 untouched too)" both_devdax
kill $holder; wait $holder 2>/dev/null

# progress shows on a terminal: run under script(1) for a pty
out=$(script -qec "$vmtier host online dax0.0" /dev/null 2>&1); rc=$?
tap_diag "$(tr '\r' '\n' <<<"$out")"
tap_check "online dax0.0: exit 0" test $rc -eq 0
tap_check "online dax0.0: progress 'blocks online' shown on a terminal" \
	grep -q 'dax0.0: 7/7 memory blocks online' <<<"$out"
out=$("$vmtier" host online all 2>/dev/null); rc=$?
tap_check "online all: exit 0, reports dax1.0 done" test $rc -eq 0 -a "$out" = "dax1.0: system-ram, all memory blocks online in ZONE_NORMAL"
out=$("$vmtier" host online all 2>/dev/null); rc=$?
tap_check "again: nothing to do, exit 0" test $rc -eq 0 -a "$out" = "nothing to do: already online in ZONE_NORMAL"

tap_diag "$(numactl -H | grep size)"
h=$(numactl -H)
tap_check "numactl -H shows 4 nodes" grep -q '^available: 4 nodes (0-3)$' <<<"$h"
j=$("$vmtier" host --json)
tap_check "vmtier host: nodes 2 and 3 are pmem, all ZONE_NORMAL" python3 -c '
import json, sys
h = json.loads(sys.argv[1])
n = {x["id"]: x for x in h["nodes"]}
for i in (2, 3):
    assert n[i]["kind"] == "pmem" and n[i]["slow"], n[i]
    assert n[i]["zone_bytes"]["normal"] > 500 << 20 and n[i]["zone_bytes"]["movable"] == 0, n[i]
assert n[2]["closest_dram_nodes"] == [0] and n[3]["closest_dram_nodes"] == [1]
assert h["slow_tier"]' "$j"
out=$("$vmtier" host check); rc=$?
tap_diag "$out"
tap_check "host check is clean (exit 0, no errors)" test $rc -eq 0 -a -z "$(grep '^error' <<<"$out")"

# and back to movable for one device: the trap is reported, then fixed again
out=$("$vmtier" host online dax1.0 --zone movable 2>&1); rc=$?
tap_check "re-online dax1.0 into ZONE_MOVABLE: exit 0" test $rc -eq 0
out=$("$vmtier" host check --json); rc=$?
tap_check "host check now reports node3 slow-node-movable, exit 2" test $rc -eq 2 -a \
	-n "$(python3 -c 'import json,sys; print(*[f["subject"] for f in json.loads(sys.argv[1]) if f["id"] == "slow-node-movable"])' "$out" | grep -x node3)"
"$vmtier" host online dax1.0 --zone normal >/dev/null 2>&1
"$vmtier" host check >/dev/null; rc=$?
tap_check "back to ZONE_NORMAL: host check clean again" test $rc -eq 0
tap_done
