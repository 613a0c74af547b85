#!/bin/bash
# test-tiering-offload.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the
# test host (topology 'tiered'), vmtierd with offload=damos: the kernel's
# DAMOS migrate_hot/migrate_cold move a budget guest's pages, filtered by the
# memory cgroup libvirt gives the guest, and vmtierd steers their quotas to
# the guest's DRAM quota.  The hot set reaches DRAM, DRAM use stays within
# the quota, `vmtier set` lowers it, the kernel's moves are accounted, a
# kill -9 of vmtierd is survived, and the guest sees no corrupted word.
# A second guest gets a kdamond of its own; with offload_max_guests=1 only
# one is offloaded until the other leaves.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$@"
offload_setup
tap_check "budget guest to starts" start_guest to budget 64 448 32 0
tap_check "it fills its memory and runs its hot set" waitlog to '^t=1 '
track to 64 32
tap_check "before vmtierd: its hot set is wholly on PMEM node 2" test "$(hot_on to 2)" -eq 8192
# QEMU's own cgroup may hold no memory controller (libvirt puts QEMU in
# .../emulator, threaded, for cpuset): its pages are charged to the nearest
# ancestor that has one
memcg=$(sed -n 's/^0:://p' "/proc/${pid[to]}/cgroup")
while [ "$memcg" != / ] && [ ! -e "/sys/fs/cgroup$memcg/memory.current" ]; do memcg=$(dirname "$memcg"); done
tap_diag "QEMU pid ${pid[to]} is in memory cgroup $memcg"

mkdir -p /var/lib/vmtier
daemon_config "offload=damos
history_db=/var/lib/vmtier/history.db"
tap_check "vmtierd starts" start_daemon
k=/sys/kernel/mm/damon/admin/kdamonds
# the first window finds the guest's memory cgroup
status_says to '"mover":"damos"' 50
s=$("$vmtier" status to --json)
tap_diag "$s"
tap_check "vmtier status: the kernel moves its pages (offload damos, memcg $memcg), a bitmap scanner scans" \
	python3 -c '
import json, sys
r = json.loads(sys.argv[1]); v = r["vms"][0]
assert r["daemon"]["offload"] == "damos", r["daemon"]
assert v["mover"] == "damos" and v["memcg"] == sys.argv[2], v
assert v["scanner"] in ("soft-dirty", "page-idle", "idle-pages"), v' "$s" "$memcg"
tap_check "DAMON runs vmtierd's paddr kdamond with migrate_hot and migrate_cold" \
	test "$(cat $k/0/state)" = on -a "$(cat $k/0/contexts/0/operations)" = paddr \
	-a "$(cat $k/0/contexts/0/schemes/0/action)" = migrate_hot \
	-a "$(cat $k/0/contexts/0/schemes/1/action)" = migrate_cold

tap_check "at least 90% of the hot set reached DRAM node 0 within 90 s" converge to 90
tap_diag "after ${reached:-never} s; DRAM at most $((maxd / 256)) MiB"
# a quota committed in one window holds from the next reset interval, so
# the kernel may land another window's promotions on top: seen up to
# 20 MiB over in the test host, which vmtierd then demotes; checked here
# against half a window's budget (the budget class moves 64 MiB/s)
tap_check "DRAM never exceeded the 64 MiB quota by more than 32 MiB (max $((maxd / 256)) MiB)" \
	test "$maxd" -le $(((64 + 32) * 256))
back=
for _ in $(seq 20); do [ "$(dram_pages to)" -le $((64 * 256)) ] && back=1 && break; sleep 1; done
tap_check "and it is back within the quota" test -n "$back"
s=$("$vmtier" status to --json)
tap_check "the kernel's moves are accounted (promoted bytes from DAMOS's stats)" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["promoted_bytes"] >= 16 << 20, v' "$s"

# the kernel's migrate_cold makes room: the guest's DRAM node starts full
# of its cold fill.  Counted by vmtierd across kdamond restarts, which
# reset the sysfs stats (CI once read 0 there; a restart is the likely cause)
kernel_demoted() { "$vmtier" status to --json | python3 -c '
import json, sys; print(json.load(sys.stdin)["vms"][0]["kernel_demoted_bytes"])'; }
cold=0
for _ in $(seq 60); do cold=$(kernel_demoted) && [ "$cold" -gt 0 ] && break; sleep 1; done
tap_check "the kernel demoted the guest's cold pages itself (migrate_cold: $((cold >> 20)) MiB; sysfs now $(($(cat $k/0/contexts/0/schemes/1/stats/sz_applied) >> 20)) MiB)" \
	test "$cold" -gt 0

# a second guest gets a kdamond of its own (guests in name order: to's is
# kdamond 0, tz's kdamond 1, after a restart too)
tap_check "standard guest tz starts" start_guest tz standard 96 416 16 0
tap_check "it fills its memory and runs" waitlog tz '^t=1 '
track tz 96 16
status_says tz '"mover":"damos"' 50
tap_check "tz is offloaded too, with its own memory cgroup and kdamond" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["mover"] == "damos" and v["memcg"] != sys.argv[2], v' "$("$vmtier" status tz --json)" "$memcg"
tap_check "DAMON has two kdamonds, both running" \
	test "$(cat $k/nr_kdamonds)" -eq 2 -a "$(cat $k/0/state)" = on -a "$(cat $k/1/state)" = on
# the kernel promotes at its own pace, which a loaded machine slows (CI
# run 13: 14 of 16 MiB after 90 s; with a 32 MiB hot set 26 MiB): a
# generous ceiling, converge returns as soon as 90% is there
tap_check "tz's hot set reaches DRAM within 180 s" converge tz 180
tap_diag "tz: after ${reached:-never} s; $(hot_on tz 0) of 4096 hot pages on DRAM, DRAM $(($(dram_pages tz) / 256)) MiB"
tap_check "tz's DRAM stayed within its 96 MiB quota + 32 MiB (max $((maxd / 256)) MiB)" \
	test "$maxd" -le $(((96 + 32) * 256))
# the kernel's DAMON decides, from samples that a loaded machine thins: a
# dip while tz came up is allowed, to's hot set must be back on DRAM (its
# own kdamond promotes it) within a generous ceiling
first=$(hot_on to 0)
back_on_dram() {
	local t0
	t0=$(now)
	while [ $(($(now) - t0)) -lt "$1" ]; do
		[ "$(hot_on to 0)" -ge $((8192 * 8 / 10)) ] && return 0
		sleep 1
	done
	return 1
}
still_offloaded() { back_on_dram 60 && "$vmtier" status to --json | grep -q '"mover":"damos"'; }
tap_check "guest to is still offloaded, its hot set on DRAM (80% within 60 s)" still_offloaded
tap_diag "to: $first of 8192 hot pages on DRAM once tz had converged, $(hot_on to 0) now; mover $("$vmtier" status to --json | sed -n 's/.*"mover":"\([a-z]*\)".*/\1/p')"

# lower the quota: DRAM use falls to it
tap_check "vmtier set to --dram 32M" "$vmtier" set to --dram 32M
t0=$(now) fell=
while [ $(($(now) - t0)) -lt 40 ]; do
	sleep 1
	[ "$(dram_pages to)" -le $(((32 + 4) * 256)) ] && fell=$(($(now) - t0)) && break
done
tap_check "DRAM fell to the new 32 MiB quota within 40 s (after ${fell:-never} s; now $(($(dram_pages to) / 256)) MiB)" \
	test -n "$fell"

# kill -9: the kdamonds stay, marked as vmtierd's; a new vmtierd takes
# them over.  It may offload one guest (offload_max_guests=1): the first
# in name order, to; tz is moved by vmtierd and status says why
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
daemon_config "offload=damos
offload_max_guests=1
history_db=/var/lib/vmtier/history.db"
tap_check "after kill -9 of vmtierd, a new one (offload_max_guests=1) starts and offloads again" start_daemon
status_says to '"mover":"damos"' 50
tap_check "the guest is offloaded again, with its DRAM quota of 32 MiB" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["mover"] == "damos" and v["quota_bytes"] == 32 << 20, v' "$("$vmtier" status to --json)"
status_says tz 'offload_max_guests' 100
s=$("$vmtier" status tz --json)
tap_diag "$s"
tap_check "tz is not: vmtierd moves its pages, status says offload_max_guests" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["mover"] == "vmtierd" and v["memcg"] is None, v
assert "offload_max_guests (1)" in v["offload_note"], v' "$s"
kd() { cat $k/nr_kdamonds; }
one_kdamond() {
	for _ in $(seq 100); do [ "$(kd)" -eq 1 ] && [ "$(cat $k/0/state)" = on ] && return 0; sleep 0.2; done
	return 1
}
tap_check "DAMON has one kdamond, running" one_kdamond
tap_diag "nr_kdamonds $(kd)"
# vmtierd keeps tz's hot set and quota itself (what the kernel landed over
# the quota it demotes)
tz_kept() {
	for _ in $(seq 60); do
		[ "$(hot_on tz 0)" -ge $((4096 * 8 / 10)) ] && [ "$(dram_pages tz)" -le $(((96 + 4) * 256)) ] && return 0
		sleep 1
	done
	return 1
}
tap_check "tz's hot set stays on DRAM, within its quota, under vmtierd (within 60 s)" tz_kept
tap_diag "tz: $(hot_on tz 0) of 4096 hot pages on DRAM, DRAM $(($(dram_pages tz) / 256)) MiB"
tap_check "no corrupted word seen by either guest" \
	test "$(cat "$out/to.log" "$out/tz.log" | grep -c 'errors=[1-9]')" -eq 0
# to leaves: tz takes its place
virsh destroy to >/dev/null
status_says tz '"mover":"damos"' 150
s=$("$vmtier" status tz --json)
tap_diag "$s"
tap_check "once to is gone, tz is offloaded in its place" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["mover"] == "damos" and v["memcg"] and v["offload_note"] is None, v' "$s"
tap_check "DAMON still has one kdamond, running" one_kdamond
kill -TERM "$daemon"; wait "$daemon"
tap_check "vmtierd stopped its kdamond on exit" test "$(cat $k/nr_kdamonds)" -eq 0
grep -E 'offload|DAMOS|kernel moves' "$out/vmtierd.log" | sed 's/^/# /'
tap_done
