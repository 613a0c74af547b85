#!/bin/bash
# fleet-host-b.sh DIR VMTIER VMTIERD GUEST_ELF PAGE_NODES: host B of
# test-fleet.sh, which runs it as
#   unshare -m --propagation private fleet-host-b.sh DIR ...
# A second machine in the same test host: its own libvirtd, virtlogd and
# vmtierd, each with the private state a machine of its own would have
# (tmpfs over /run, libvirt's /etc, /var/lib, /var/cache and /var/log, and
# vmtier's store), and guest tb on DRAM node 1 and slow node 3 (host A
# keeps 0 and 2).  Shared with A, as on no two machines: the kernel (its
# cgroups, AppArmor policy and DAMON; guest names differ for the cgroups,
# AppArmor profiles are per UUID) and /tmp, where the guests' consoles and
# DIR are (DIR/textfile: B's metrics for its node_exporter).
#
# Protocol with test-fleet.sh, through DIR: B writes "ready" or "failed:
# WHY" to DIR/ready once vmtierd B runs; waits for DIR/stop, stops vmtierd B
# and writes its checks to DIR/results ("ok WHAT" or "not-ok WHAT"), then
# DIR/stopped; stays (so that `nsenter -t PID -m` reads B's store) until
# DIR/exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$1; shift
. "$here/tiering-lib.sh" "$@"
out=$out/host-b
mkdir -p "$out" "$dir/textfile"
fail() { echo "failed: $*" >"$dir/ready"; exit 1; }
result() { local what=$1; shift; if "$@"; then echo "ok $what"; else echo "not-ok $what"; fi >>"$dir/results"; }

for d in /run /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /var/lib/vmtier; do
	mkdir -p "$d" && mount -t tmpfs -o mode=0755 fleet-b "$d" || fail "cannot mount a tmpfs on $d"
done
# (the kernel's AppArmor policy is A's too: test-fleet.sh loaded it)
r=$(apparmor_loaded=1 libvirtd_start 2>&1) || fail "libvirtd B: $r"
guest_nodes=1,3 start_guest tb standard 64 448 32 0 write=100 || fail "guest tb did not start"
waitlog tb '^t=1 ' || fail "guest tb did not fill its memory"
track tb 64 32 || fail "vmtier memmap tb failed"
# soft-dirty, not DAMON: the kernel has one DAMON admin interface, and host
# A's vmtierd holds its kdamond.  B's private /run hides A's damon.owner
# marker, so a DAMON vmtierd B would either leave A's kdamond alone (it is
# someone else's: falling back to soft-dirty anyway) or, started before A
# claimed DAMON, take it from A.  A real second machine has a DAMON of its
# own; here the scanner is chosen so that B cannot touch A's.  tb writes
# its hot set (write=100): what soft-dirty sees.
vmtierd_conf=$dir/vmtierd.conf	# daemon_config's and start_daemon's
metrics_file=$dir/textfile/vmtier.prom daemon_config "scanner=soft-dirty
history_db=/var/lib/vmtier/history.db"
start_daemon || fail "vmtierd B did not start: $(tail -5 "$out/vmtierd.log")"
echo ready >"$dir/ready"

for _ in $(seq 1800); do [ -e "$dir/stop" ] && break; sleep 0.5; done
kill -TERM "$daemon"; wait "$daemon"
result "vmtierd B stops cleanly" test $? -eq 0
result "vmtierd B scanned with soft-dirty" grep -q 'soft-dirty' "$dir/textfile/vmtier.prom"
off=$(ram_on tb 0 2)
result "tb's memory stayed on B's nodes 1 and 3 ($off pages on A's nodes 0 and 2)" test "$off" -eq 0
touch "$dir/stopped"

for _ in $(seq 1800); do [ -e "$dir/exit" ] && break; sleep 0.5; done
virsh destroy tb >/dev/null
kill "$(cat /run/libvirtd.pid)" "$(cat /run/virtlogd.pid)" 2>/dev/null
exit 0
