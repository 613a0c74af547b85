#!/bin/bash
# test-scanner-fallback.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the test
# host (topology 'tiered'): vmtierd never touches a kdamond it did not start.
# It scans with DAMON until someone turns its kdamond off and starts their
# own; then it leaves theirs alone through its restarts and its exit, says
# so, and tiers with soft-dirty instead (a guest whose hot set is written
# gets it promoted that way); a vmtierd started while a foreign kdamond runs
# does the same from the start.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$@"
echo 0 >/proc/sys/kernel/numa_balancing
D=/sys/kernel/mm/damon/admin/kdamonds
# foreign: someone else's running physical-address kdamond, as an admin
# would set one up (rewriting nr_kdamonds wipes whatever was there)
foreign() {
	echo 1 >$D/nr_kdamonds && echo 1 >$D/0/contexts/nr_contexts &&
		echo paddr >$D/0/contexts/0/operations && echo on >$D/0/state
}
untouched() { test "$(cat $D/0/pid)" = "$kpid" -a "$(cat $D/0/state)" = on -a "$(cat $D/0/contexts/0/operations)" = paddr -a "$(cat $D/nr_kdamonds)" = 1; }

tap_check "a private libvirtd starts" libvirtd_start
mkdir -p /var/lib/vmtier
daemon_config "scanner=auto
history_db=/var/lib/vmtier/history.db"
tap_check "vmtierd starts" start_daemon
scanner() { "$vmtier" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["scanner"])'; }
tap_check "with DAMON free, vmtierd takes it" test "$(scanner)" = damon-vaddr
# someone turns vmtierd's kdamond off and starts their own in its place;
# a new sampling interval (SIGHUP) makes vmtierd restart its kdamond
echo off >$D/0/state 2>/dev/null	# refused when it is not on: no matter
tap_check "a foreign kdamond replaces vmtierd's" foreign
kpid=$(cat $D/0/pid)
sed -i 's/^\[daemon\]$/[daemon]\nsample_us=4000/' /tmp/vmtierd.conf
kill -HUP "$daemon"
for _ in $(seq 150); do [ "$(scanner)" = soft-dirty ] && break; sleep 0.2; done
j=$("$vmtier" status --json)
tap_diag "$(grep -i damon "$out/vmtierd.log")"
tap_check "vmtierd noticed at its restart, reports soft-dirty and why" python3 -c '
import json, sys
d = json.loads(sys.argv[1])["daemon"]
assert d["scanner"] == "soft-dirty", d
assert "DAMON not used" in d["scanner_note"] and "taken over by someone else" in d["scanner_note"], d' "$j"
tap_check "the foreign kdamond is untouched (pid $kpid, on, paddr)" untouched
kill -TERM "$daemon"; wait "$daemon"; rc=$?
tap_check "vmtierd stops cleanly" test $rc -eq 0
tap_check "and its exit leaves the foreign kdamond running" untouched

tap_check "guest tw starts (hot set written)" start_guest tw budget 64 448 32 0 write=100
tap_check "it fills its memory and runs" waitlog tw '^t=1 '
track tw 64 32
tap_check "before vmtierd: the hot set is on PMEM node 2" test "$(hot_on tw 2)" -eq 8192

# a vmtierd started while the foreign kdamond runs leaves it alone from the start
tap_check "vmtierd starts again" start_daemon
j=$("$vmtier" status --json)
tap_check "it reports soft-dirty and why it left DAMON alone" python3 -c '
import json, sys
d = json.loads(sys.argv[1])["daemon"]
assert d["scanner"] == "soft-dirty", d
assert "DAMON not used" in d["scanner_note"] and "in use by someone else" in d["scanner_note"], d' "$j"
converge tw 60
tap_check "soft-dirty: 90% of the written hot set reached DRAM within 60 s (after ${reached:-never} s)" test -n "$reached"
tap_check "its DRAM stayed within quota + 2 chunks (max $((maxd / 256)) MiB)" test "$maxd" -le $(((64 + 4) * 256))
tap_check "the foreign kdamond is untouched: same pid, still on, still paddr" untouched
tap_check "no corrupted word seen by the guest" test "$(grep -c 'errors=[1-9]' "$out/tw.log")" -eq 0
kill -TERM "$daemon"; wait "$daemon"; rc=$?
tap_check "vmtierd stops cleanly" test $rc -eq 0
tap_check "and the foreign kdamond still runs" untouched
tap_diag "$(tail -15 "$out/vmtierd.log")"
tap_done
