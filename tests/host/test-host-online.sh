#!/bin/bash
# test-host-online.sh VMTIER DAX_ONLINE_UNIT: inside the test host, topology 'devdax'.
# vmtier host online refuses cleanly (nothing changed) and then turns both
# devdax devices into ZONE_NORMAL NUMA nodes, after which host check is clean.
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1 unit=$2
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

# --persist: daxctl's boot-time configuration brings the devices back as
# they are now; a reboot is what daxctl's udev rule does to a new dax device
ids() { python3 -c 'import json,sys; print(*sorted(f["subject"] for f in json.loads(sys.argv[1]) if f["id"] == sys.argv[2]))' "$1" "$2"; }
zones_of() { cat /sys/devices/system/node/node$1/memory*/valid_zones 2>/dev/null | sort -u | xargs; }
conf=/etc/daxctl.conf.d/vmtier.conf
rm -f $conf
out=$("$vmtier" host check --json)
tap_check "not persisted: host check warns not-persistent for dax0.0 and dax1.0" \
	test "$(ids "$out" not-persistent)" = "dax0.0 dax1.0"
out=$("$vmtier" host online dax9.9 --persist 2>&1); rc=$?
tap_check "--persist, unknown device: exit 1, named, nothing written" \
	test $rc -eq 1 -a -n "$(grep "no DAX device 'dax9.9'" <<<"$out")" -a ! -e $conf
out=$("$vmtier" host online all --zone normal --persist 2>&1); rc=$?
tap_diag "$out"; tap_diag "$(cat $conf 2>&1)"
tap_check "--persist: exit 0, both said to come back after a reboot" \
	test $rc -eq 0 -a "$(grep -c 'after a reboot too' <<<"$out")" = 2
out=$("$vmtier" host check --json)
tap_check "persisted: no not-persistent finding" test -z "$(ids "$out" not-persistent)"
# the reboot of dax0.0: its memory goes away and it comes back in devdax mode
daxctl offline-memory dax0.0 >/dev/null 2>&1
daxctl reconfigure-device --mode=devdax --force dax0.0 >/dev/null 2>&1
tap_check "dax0.0 back in devdax mode, node 2 without memory" test "$(mode dax0.0)" = devdax -a -z "$(zones_of 2)"
# at boot Debian's own udev rule runs "daxctl -C /dev/daxX.Y", which its
# daxctl refuses; vmtier's rule starts vmtier-dax-online@daxX.Y instead
rule=$(sed -n 's/.*RUN+="\([^"]*\)".*/\1/p' /lib/udev/rules.d/90-daxctl-device.rules)
cmd=${rule//\$env\{DEVNAME\}/\/dev\/dax0.0}
out=$($cmd 2>&1); rc=$?
tap_diag "Debian's rule: $cmd: rc $rc $out"
tap_check "Debian's rule alone leaves dax0.0 in devdax mode" test "$(mode dax0.0)" = devdax
cmd=$(sed -n 's/^ExecStart=//p' "$unit"); cmd=${cmd//%I/dax0.0}
out=$($cmd 2>&1); rc=$?
tap_diag "vmtier-dax-online@dax0.0: $cmd: rc $rc $out"
tap_check "at boot daxctl makes dax0.0 system-ram again, node 2 in ZONE_NORMAL" \
	test "$(mode dax0.0)" = system-ram -a "$(zones_of 2)" = Normal
# a site's own file for the namespace wins: --persist says so, writes nothing
uuid=$(sed -n '/vmtier-dax1.0/,/^\[/s/^nvdimm.uuid=//p' $conf)
printf '[reconfigure-device site]\nnvdimm.uuid = %s\nmode = system-ram\n' "$uuid" >/etc/daxctl.conf.d/site.conf
before=$(cat $conf)
out=$("$vmtier" host online dax1.0 --persist 2>&1); rc=$?
tap_diag "$out"
tap_check "another file names dax1.0's namespace: exit 1, that file named, vmtier.conf unchanged" \
	test $rc -eq 1 -a -n "$(grep site.conf <<<"$out")" -a "$(cat $conf)" = "$before"
out=$("$vmtier" host check --json)
tap_check "site.conf would bring dax1.0 back movable (daxctl's default): host check says so" \
	test "$(ids "$out" not-persistent)" = "dax1.0"
rm -f /etc/daxctl.conf.d/site.conf
tap_done
