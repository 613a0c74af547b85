#!/bin/bash
# Runs inside the test host (topology 'tiered'): the tiers an operator would
# check by hand are there, with the real tools.
set -u
. "$(dirname "$0")/../tap.sh"
[ -n "${VMTIER_TESTBED:-}" ] || tap_bail "run me through tests/testbed/run"

h=$(numactl -H)
tap_diag "$h"
tap_check "numactl -H shows four nodes" grep -q '^available: 4 nodes (0-3)$' <<<"$h"
tap_check "nodes 0 and 1 each have a CPU" grep -qx 'node 0 cpus: 0' <<<"$h"
tap_check "node 1 has CPU 1" grep -qx 'node 1 cpus: 1' <<<"$h"
tap_check "nodes 2 and 3 are CPU-less" test "$(grep -cE '^node [23] cpus: ?$' <<<"$h")" -eq 2
for n in 2 3; do
	sz=$(awk -v n=$n '$1 == "node" && $2 == n && $3 == "size:" {print $4}' <<<"$h")
	tap_check "PMEM node $n has memory (${sz:-0} MB)" test "${sz:-0}" -gt 500
done
d=$(sed -n '/^node distances:/,$p' <<<"$h" | tail -4 | awk '{$1=""; print}' | xargs)
tap_check "SLIT distances are 10/21/17/28 as built" \
	test "$d" = "10 21 17 28 21 10 28 17 17 28 10 28 28 17 28 10"

dl=$(daxctl list)
tap_diag "$dl"
for dev in dax0.0:2 dax1.0:3; do
	tap_check "daxctl: ${dev%:*} is system-ram on node ${dev#*:}, all blocks online, not movable" \
		python3 -c "
import json, sys
d = [d for d in json.loads(sys.argv[1]) if d['chardev'] == '${dev%:*}'][0]
assert d['mode'] == 'system-ram' and d['target_node'] == ${dev#*:} and not d.get('movable', True)
assert d['online_memblocks'] == d['total_memblocks'] > 0" "$dl"
done

mt=/sys/devices/virtual/memory_tiering
tiers=$(for t in "$mt"/memory_tier*; do echo "${t##*memory_tier} $(cat "$t/nodelist")"; done | sort -n)
tap_diag "memory tiers (abstract distance / nodes): $tiers"
tap_check "DRAM nodes 0-1 share the top tier" test "$(head -1 <<<"$tiers" | cut -d' ' -f2)" = "0-1"
tap_check "PMEM nodes 2-3 sit in a lower tier" test "$(tail -1 <<<"$tiers" | cut -d' ' -f2)" = "2-3"
tap_check "two tiers in all" test "$(wc -l <<<"$tiers")" -eq 2

for n in 2 3; do
	z=$(cat /sys/devices/system/node/node$n/memory*/valid_zones | sort -u | xargs)
	tap_check "node $n memory blocks are ZONE_NORMAL ($z)" test "$z" = "Normal"
done
a=/sys/devices/system/node/node2/access0/initiators
tap_check "HMAT: node 2's best initiator is node 0" test -e "$a/node0" -a ! -e "$a/node1"
tap_check "HMAT: node 2 read latency is PMEM-like (300 ns)" test "$(cat "$a/read_latency" 2>/dev/null)" = 300
tap_check "HMAT: node 3's best initiator is node 1" test -e /sys/devices/system/node/node3/access0/initiators/node1

# DAMON: a vaddr kdamond of our own on a live process, started and stopped
k=/sys/kernel/mm/damon/admin/kdamonds
sleep 60 & victim=$!
damon_ok() {
	set -e
	echo 1 >$k/nr_kdamonds
	echo 1 >$k/0/contexts/nr_contexts
	grep -qw vaddr $k/0/contexts/0/avail_operations
	grep -qw paddr $k/0/contexts/0/avail_operations
	echo vaddr >$k/0/contexts/0/operations
	echo 1 >$k/0/contexts/0/targets/nr_targets
	echo $victim >$k/0/contexts/0/targets/0/pid_target
	echo 1 >$k/0/contexts/0/schemes/nr_schemes
	echo migrate_cold >$k/0/contexts/0/schemes/0/action   # DAMOS migrate_* (6.11+)
	echo migrate_hot >$k/0/contexts/0/schemes/0/action
	echo stat >$k/0/contexts/0/schemes/0/action
	echo on >$k/0/state
	sleep 0.5
	[ "$(cat $k/0/state)" = on ] && [ -n "$(cat $k/0/pid)" ] && [ "$(cat $k/0/pid)" != -1 ]
	echo update_schemes_tried_regions >$k/0/state
	echo off >$k/0/state
	echo 0 >$k/nr_kdamonds
}
tap_check "DAMON sysfs: a vaddr kdamond with a migrate_hot/migrate_cold-capable scheme runs" \
	bash -c "$(declare -f damon_ok); k=$k victim=$victim; damon_ok"
kill $victim
tap_done
