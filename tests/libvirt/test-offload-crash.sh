#!/bin/bash
# test-offload-crash.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the test
# host (topology 'tiered'), vmtierd with offload=damos and a budget guest
# whose 64 MiB hot set is twice its 32 MiB DRAM quota, so the kernel's
# migrate_hot always has hot pages left to promote.  vmtierd is killed
# (SIGKILL) while the promotion scheme is live; for 60 s after, while the
# guest keeps its hot set hot, its DRAM use must not grow past the quota
# (the kdamond runs on, and only what is left of one window's budget may
# still move).  A restarted vmtierd finds the kdamond by its marker, says
# so, turns it off before anything else and offloads the guest again; on
# SIGTERM the kdamonds go; the guest sees no corrupted word.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$@"
offload_setup
quota=32 hot=64
k=/sys/kernel/mm/damon/admin/kdamonds
hs=$k/0/contexts/0/schemes/0
tap_check "budget guest tc starts ($quota MiB DRAM, $hot MiB hot set)" start_guest tc budget $quota 480 $hot 0
tap_check "it fills its memory and runs its hot set" waitlog tc '^t=1 '
track tc $quota $hot

mkdir -p /var/lib/vmtier
daemon_config "offload=damos
history_db=/var/lib/vmtier/history.db"
tap_check "vmtierd starts" start_daemon
tap_check "the kernel moves its pages (offload damos)" status_says tc '"mover":"damos"' 100
# the kernel has promoted part of the hot set: offloading is under way
t0=$(now) up=
while [ $(($(now) - t0)) -lt 120 ]; do
	[ "$(hot_on tc 0)" -ge 2048 ] && up=$(($(now) - t0)) && break
	sleep 1
done
tap_check "at least 8 MiB of the hot set reached DRAM (after ${up:-never} s)" test -n "$up"
tap_diag "DRAM $(($(dram_pages tc) / 256)) MiB, hot on DRAM $(($(hot_on tc 0) / 256)) MiB"

# kill it while the promotion scheme matches hot pages (what vmtierd
# commits between windows is what the kernel keeps doing)
live=
for _ in $(seq 600); do
	[ "$(cat $hs/access_pattern/nr_accesses/min)" = 1 ] && live=1 && break
	sleep 0.05
done
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
tap_check "vmtierd killed (SIGKILL) while the promotion scheme was live" test -n "$live"
tap_diag "left in DAMON: hot scheme nr_accesses/min $(cat $hs/access_pattern/nr_accesses/min)," \
	"quotas/bytes $(cat $hs/quotas/bytes), reset_interval_ms $(cat $hs/quotas/reset_interval_ms)"
tap_check "its kdamond runs on" test "$(cat $k/0/state)" = on
kpid=$(cat $k/0/pid)
d0=$(dram_pages tc) maxd=$d0 maxh=0
echo update_schemes_stats >$k/0/state
up0=$(cat $hs/stats/sz_applied)
t0=$(now)
while [ $(($(now) - t0)) -lt 60 ]; do
	sleep 2
	d=$(dram_pages tc) h=$(hot_on tc 0)
	[ "$d" -gt "$maxd" ] && maxd=$d
	[ "$h" -gt "$maxh" ] && maxh=$h
done
echo update_schemes_stats >$k/0/state
up1=$(cat $hs/stats/sz_applied)
tap_diag "after the kill: DRAM $((d0 / 256)) MiB at first, at most $((maxd / 256)) MiB over 60 s;" \
	"hot pages on DRAM at most $((maxh / 256)) MiB; kernel promoted ~$(((up1 - up0) >> 20)) MiB"
# two chunks of slack: the window's budget was reckoned from vmtierd's
# last reading of DRAM use, and DAMOS charges a region's bytes but moves
# whole folios (a THP is 2 MiB)
lim=$((quota * 256 > d0 ? quota * 256 : d0))
tap_check "over 60 s without vmtierd, the guest's DRAM use never grew past its quota ($quota MiB; at most $((maxd / 256)) MiB)" \
	test "$maxd" -le $((lim + 1024))

tap_check "a new vmtierd starts" start_daemon
tap_check "it says it found the dead one's kdamond and turned it off" \
	grep -q 'kdamond(s) an earlier vmtierd left running found by its marker and turned off' "$out/vmtierd.log"
tap_check "the guest is offloaded again" status_says tc '"mover":"damos"' 100
tap_check "by a kdamond of the new vmtierd's (pid $kpid before)" \
	test "$(cat $k/0/state)" = on -a "$(cat $k/0/pid)" != "$kpid"
back=
for _ in $(seq 30); do [ "$(dram_pages tc)" -le $((quota * 256)) ] && back=1 && break; sleep 1; done
tap_check "the guest's DRAM use is within its quota ($(($(dram_pages tc) / 256)) MiB)" test -n "$back"
kill -TERM "$daemon"; wait "$daemon"
tap_check "on SIGTERM vmtierd turns its kdamonds off and removes them" test "$(cat $k/nr_kdamonds)" -eq 0
tap_check "no corrupted word seen by the guest" test "$(grep -c 'errors=[1-9]' "$out/tc.log")" -eq 0
grep -E 'offload|DAMOS|kdamond|kernel moves' "$out/vmtierd.log" | sed 's/^/# /'
tap_done
