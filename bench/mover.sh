#!/bin/bash
# bench/mover.sh BUILD: migration throughput inside the test host
# (bench/run): vmtierd's mover against a raw move_pages loop over the same
# 64 MiB, node 2 (PMEM) <-> node 0 (DRAM), 4 KiB pages and THP, the median
# of 5 repetitions each (VMTIER_BENCH_REPS), and each one's fastest.
set -u
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/lib.sh" "$1"
# nothing else may move our pages meanwhile
echo 0 >/proc/sys/kernel/numa_balancing
echo "kernel $(uname -r)" >&2
rc=0
for page in 4k thp; do
	flag=; [ $page = thp ] && flag=--thp
	r=$("$move_bench" --mib 64 --reps "${VMTIER_BENCH_REPS:-5}" --slow 2 --fast 0 $flag) || rc=1
	echo "$r" >&2
	say "mover page=$page $(grep '^move-bench' <<<"$r" | sed 's/^move-bench: //')"
	say "mover page=$page $(grep '^median' <<<"$r")"
	say "mover page=$page $(grep '^best' <<<"$r")"
	say "mover page=$page $(grep '^paired' <<<"$r")"
	say "mover page=$page $(grep '^overhead' <<<"$r")"
done
exit $rc
