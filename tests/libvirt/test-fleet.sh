#!/bin/bash
# test-fleet.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the test host
# (topology 'tiered'), a fleet of two hosts: host A (the test host's own
# libvirtd, vmtierd with DAMON, guest ta on nodes 0 and 2) and host B
# (fleet-host-b.sh in a mount namespace of its own: its own libvirtd,
# virtlogd and vmtierd with soft-dirty, guest tb on nodes 1 and 3), each
# vmtierd with its own history store and metrics file; two node_exporters
# and one real Prometheus scrape them (fleet-compare.py).  `vmtier report
# --prometheus URL --tenant acme` gives per VM and host the intervals met,
# missed and not judged that each host's own `vmtier report --db` gives
# for the same period, while both run and after both stopped; the fleet
# page names both hosts' VMs; each vmtierd moved only its own guest's
# pages, within its own nodes; both guests' integrity checks stay at 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$@"
fleet=/tmp/fleet
mkdir -p $fleet/a $fleet/b /var/lib/vmtier

# the kernel moves no page on its own (no NUMA balancing, no demotion):
# whatever moves, a vmtierd moved
echo 0 >/proc/sys/kernel/numa_balancing
echo false >/sys/kernel/mm/numa/demotion_enabled
ip link set lo up 2>/dev/null	# Prometheus and node_exporter talk over loopback
tap_check "host A: a private libvirtd starts" libvirtd_start
# host B from here (AppArmor's policy loaded: the kernel's, for both), set
# up while A is
unshare -m --propagation private "$here/fleet-host-b.sh" $fleet/b "$@" >"$out/host-b.log" 2>&1 &
hostb=$!
tap_check "host A: guest ta starts on nodes 0 and 2" start_guest ta budget 64 448 32 0
tap_check "host A: ta filled its memory and runs its hot set" waitlog ta '^t=1 '
track ta 64 32
vmtierd_conf=$fleet/a/vmtierd.conf	# daemon_config's and start_daemon's
metrics_file=$fleet/a/vmtier.prom daemon_config "scanner=damon-vaddr
history_db=/var/lib/vmtier/history.db"
tap_check "host A: vmtierd starts" start_daemon
t0=$(now)
until [ -s $fleet/b/ready ] || ! kill -0 $hostb 2>/dev/null || [ $(($(now) - t0)) -ge 300 ]; do sleep 1; done
tap_check "host B, in a mount namespace of its own: libvirtd, guest tb on nodes 1 and 3, vmtierd ($(cat $fleet/b/ready 2>/dev/null || echo 'gone'), $(($(now) - t0)) s)" \
	grep -qx ready $fleet/b/ready
if ! grep -qx ready $fleet/b/ready 2>/dev/null; then
	tap_diag "$(tail -30 "$out/host-b.log")"
	tap_bail "no host B"
fi
tap_check "two libvirtds, each with its one guest" test "$(virsh list --name | grep .)" = ta -a \
	"$(nsenter -t $hostb -m virsh -q -c qemu:///system list --name | grep .)" = tb

# the comparison, with both daemons stopped half-way (DIR/stop: host B's)
# (vmtierd A stays our zombie until we wait for it: gone or Z is stopped)
stop="kill -TERM $daemon; touch $fleet/b/stop
for _ in \$(seq 600); do
	[ -e $fleet/b/stopped ] && ! grep -qs '^State:[[:space:]]*[RSD]' /proc/$daemon/status && exit 0; sleep 0.5
done; exit 1"
r=$(python3 "$here/fleet-compare.py" "$vmtier" --artifacts "$out" \
	--host host-a $fleet/a "$vmtier report --db /var/lib/vmtier/history.db" \
	--host host-b $fleet/b/textfile "nsenter -t $hostb -m -- $vmtier report --db /var/lib/vmtier/history.db" \
	--stop "$stop" 2>&1); rc=$?
tap_diag "$r"
tap_check "vmtier report --prometheus --tenant acme: per VM and host, the intervals each host's store holds, running and stopped" \
	test $rc -eq 0
kill -TERM "$daemon" 2>/dev/null	# stopped already, unless fleet-compare.py failed early
wait "$daemon"
tap_check "vmtierd A stops cleanly" test $? -eq 0
[ -e $fleet/b/stopped ] || touch $fleet/b/stop
for _ in $(seq 120); do [ -e $fleet/b/stopped ] && break; sleep 0.5; done
while read -r st what; do
	if [ "$st" = ok ]; then tap_ok "host B: $what"; else tap_fail "host B: $what"; fi
done < <(cat $fleet/b/results 2>/dev/null || echo "not-ok wrote no results")
off=$(ram_on ta 1 3)
tap_check "ta's memory stayed on A's nodes 0 and 2 ($off pages on B's nodes 1 and 3)" test "$off" -eq 0
for g in ta tb; do	# (/tmp/vmtier-guests: shared by both hosts)
	lines=$(grep -c '^t=' /tmp/vmtier-guests/$g.log) bad=$(grep -c 'errors=[1-9]' /tmp/vmtier-guests/$g.log)
	tap_check "$g's integrity check: 0 errors in all of its $lines seconds" test "$lines" -gt 0 -a "$bad" = 0
done
touch $fleet/b/exit
wait $hostb
tap_check "host B ends" test $? -eq 0
tap_done
