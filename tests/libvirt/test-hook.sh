#!/bin/bash
# test-hook.sh VMTIER VMTIERD VMTIER_HOOK GUEST_ELF: inside the test host
# (topology 'tiered'), with a private libvirtd and vmtierd: the libvirt hook
# as `vmtier hook install` puts it.  libvirt runs it only after a reload; it
# admits a guest vmtier define accepted, refuses one (defined past vmtier
# define) whose DRAM quota does not fit next to the running ones (the reason
# in virsh's error), also while vmtierd is stopped, tells vmtierd at once when a guest starts or
# stops, lets guests start while vmtierd is down, and leaves running guests
# alone when libvirtd reconnects.  A guest on the other socket (DRAM node 1)
# is admitted by define and the hook next to guests that fill node 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
. "$here/libvirtd-start.sh"
vmtier=$(realpath "$1") vmtierd=$(realpath "$2") hook=$(realpath "$3") elf=$(realpath "$4")
export VMTIER_TEMPLATE_DIR=$here/../../xml-templates
[ "${VMTIER_TOPOLOGY:-}" = tiered ] || tap_bail "needs topology tiered"
out=${VMTIER_OUT:-/tmp}
log=$out/vmtierd.log
virsh() { command virsh -q -c qemu:///system "$@"; }
tap_check "a private libvirtd starts" libvirtd_start

# the hook reads vmtierd's configuration (libvirt passes hooks no
# environment); discover_interval_s=60, so within a second only the hook
# (or a libvirt event, which logs no "hook:" line) tells vmtierd of a guest
conf=$("$vmtier" hook status | sed -n 's/^config: \([^ ]*\).*/\1/p')
tap_check "vmtier hook status names the configuration the hook reads ($conf)" test -n "$conf"
export VMTIER_SOCKET=/run/vmtier/vmtierd.sock
mkdir -p "$(dirname "$conf")"
cat >"$conf" <<CONF
[daemon]
socket=$VMTIER_SOCKET
history_db=$out/history.db
class_dir=$VMTIER_TEMPLATE_DIR/classes
discover_interval_s=60
CONF
start_daemon() {
	"$vmtierd" >>"$log" 2>&1 &
	daemon=$!
	for _ in $(seq 50); do "$vmtier" status >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
stop_daemon() { kill -TERM "$daemon" && wait "$daemon"; }
# logged NAME EVENT: vmtierd logs the hook's notification within 1 s
logged() {
	for _ in $(seq 10); do grep -q "hook: $1 $2 " "$log" && return 0; sleep 0.1; done
	return 1
}
# tracked NAME / untracked NAME: vmtierd (re)discovers within 1 s
tracked() { for _ in $(seq 10); do "$vmtier" status "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
untracked() { for _ in $(seq 10); do "$vmtier" status "$1" >/dev/null 2>&1 || return 0; sleep 0.1; done; return 1; }
# A and B: 400 MiB DRAM quotas on node 0 (about 969 MiB): each fits with the
# 256 MiB reserve, both together do not; C (200 MiB) fits next to A; D
# (400 MiB) is on the other socket, node 1 (its slow node 3)
# (rate=2000: the guests idle between bursts; this test tiers nothing, and a
# guest that spins takes a whole test-host CPU from the starts after it)
def_on() {
	local node=$1; shift
	"$vmtier" define "$@" --pmem 64M --dram-nodes "$node" --virt-type qemu --kernel "$elf" \
		--append "base=20M mem=16M hot=4M hot_off=24M time=0 rate=2000"
}
def() { def_on 0 "$@"; }
tap_check "define A (400 MiB DRAM quota)" eval 'def A --dram 400M >/dev/null'
tap_check "define C (200 MiB DRAM quota, fits next to A)" eval 'def C --dram 200M >/dev/null'
err=$(def_on 1 D --dram 400M 2>&1); rc=$?
tap_diag "$err"
tap_check "define D on socket 1 (400 MiB DRAM quota): A and C on node 0 do not count (issue 14)" \
	test $rc -eq 0
err=$(def B --dram 400M 2>&1); rc=$?
tap_diag "$err"
tap_check "vmtier define refuses B next to A and C (the hook's rule: defined guests count)" \
	test $rc -eq 1 -a -n "$(grep -F 'vmtier define: DRAM quota does not fit: 600 MiB already promised + 400 MiB asked + 256 MiB reserve > ' <<<"$err")"
# B defined past vmtier's admission: the hook must still guard the host
xml=$(def B --dram 400M --print-xml)
tap_check "B defined with virsh from vmtier define --print-xml" eval 'virsh define /dev/stdin <<<"$xml" >/dev/null'

out1=$("$vmtier" hook install 2>&1); rc=$?
tap_diag "$out1"
tap_check "vmtier hook install links qemu.d/50-vmtier to vmtier-hook" \
	test $rc -eq 0 -a "$(readlink /etc/libvirt/hooks/qemu.d/50-vmtier)" = "$hook"
tap_check "vmtierd starts" start_daemon
st=$("$vmtier" hook status); rc=$?
tap_diag "$st"
tap_check "vmtier hook status: installed, vmtierd answers" test $rc -eq 0 -a -n "$(grep -x "vmtierd: $VMTIER_SOCKET: answers" <<<"$st")"

# libvirt 9.0 looked for hooks when it started, when there were none
virsh start A >/dev/null
tap_check "before libvirtd reloads, the new hook is not run (libvirt's hooks documentation)" \
	bash -c "! grep -q 'hook: A ' '$log'"
virsh destroy A >/dev/null
kill -HUP "$(cat /run/libvirtd.pid)"
sleep 1

virsh start A >/dev/null; rc=$?
tap_check "after SIGHUP, A starts" test $rc -eq 0
tap_check "vmtierd logs 'hook: A started' within 1 s of virsh start" logged A started
tap_check "and tracks A" tracked A
# vmtier set raises a quota by the same rule: B and C are defined
err=$("$vmtier" set A --dram 402M 2>&1); rc=$?
tap_diag "$err"
tap_check "vmtier set A --dram 402M is refused next to defined B and C (define's rule)" \
	test $rc -eq 1 -a -n "$(grep -F 'A: DRAM quota does not fit: 600 MiB already promised + 402 MiB asked + 256 MiB reserve > ' <<<"$err")"
# define accepted C next to A: so does the hook, on the same host
err=$(virsh start C 2>&1); rc=$?
tap_diag "$err"
tap_check "C, which vmtier define accepted, starts next to A" test $rc -eq 0
# with A and C (600 MiB) running on node 0, D on node 1 starts: the hook
# counts vmtierd's guests on their nodes (status: dram_nodes, slow_nodes)
err=$(virsh start D 2>&1); rc=$?
tap_diag "$err"
tap_check "D, on socket 1, starts next to A and C on node 0" test $rc -eq 0
tap_check "vmtierd tracks D" tracked D
st=$("$vmtier" status --json)
tap_diag "$(python3 -c 'import json, sys
for v in json.load(sys.stdin)["vms"]: print(v["name"], v.get("dram_nodes"), v.get("slow_nodes"))' <<<"$st")"
tap_check "vmtier status --json gives each guest's nodes, which the hook counts (D: 1 and 3; A, C: 0 and 2)" \
	python3 -c 'import json, sys
vms = json.load(sys.stdin)["vms"]
vm = [v for v in vms if v["name"] == "D"][0]
assert (vm["dram_nodes"], vm["slow_nodes"]) == ("1", "3"), vm
assert all((v["dram_nodes"], v["slow_nodes"]) == ("0", "2") for v in vms if v["name"] != "D"), vms' <<<"$st"
virsh destroy D >/dev/null
virsh destroy C >/dev/null
tap_check "vmtierd logs 'hook: C stopped'" logged C stopped
tap_check "and no longer tracks C" untracked C
err=$(virsh start B 2>&1); rc=$?
tap_diag "$err"
tap_check "B is refused next to A, the hook's reason in libvirt's error" test $rc -ne 0 -a -n \
	"$(grep -F 'vmtier: B: refused: DRAM quota does not fit: 400 MiB already promised + 400 MiB asked + 256 MiB reserve > ' <<<"$err")"
tap_check "B is not running" test "$(virsh domstate B)" = "shut off"
# vmtierd runs but cannot answer: B must not be checked alone (it fits alone)
kill -STOP "$daemon"
err=$(virsh start B 2>&1); rc=$?
kill -CONT "$daemon"
tap_diag "$err"
tap_check "with vmtierd stopped (SIGSTOP), B is still refused, virsh says why" test $rc -ne 0 -a -n \
	"$(grep -F 'vmtier: B: refused: vmtierd runs but did not answer' <<<"$err")"
tap_check "B is not running" test "$(virsh domstate B)" = "shut off"

virsh destroy A >/dev/null
tap_check "vmtierd logs 'hook: A stopped' within 1 s of virsh destroy" logged A stopped
tap_check "and no longer tracks A" untracked A
tap_check "B starts once A is gone" virsh start B
virsh destroy B >/dev/null

tap_check "vmtierd stops" stop_daemon
virsh start A >/dev/null; rc=$?
tap_check "with vmtierd down, A starts" test $rc -eq 0 -a "$(virsh domstate A)" = running
virsh start B >/dev/null; rc=$?
tap_check "and B too: without vmtierd the hook checks a guest alone" \
	test $rc -eq 0 -a "$(virsh domstate B)" = running

# libvirtd restarts: the hook's reconnect exits 0, so the guests live on
kill -TERM "$(cat /run/libvirtd.pid)"
for _ in $(seq 100); do [ -e /run/libvirtd.pid ] || break; sleep 0.1; done
tap_check "libvirtd restarts" libvirtd_start
tap_check "A and B still run after libvirtd reconnected (reconnect begin exits 0)" \
	test "$(virsh domstate A) $(virsh domstate B)" = "running running"
virsh destroy A >/dev/null; virsh destroy B >/dev/null

tap_check "vmtier hook uninstall removes the link" bash -c \
	"'$vmtier' hook uninstall >/dev/null && [ ! -e /etc/libvirt/hooks/qemu.d/50-vmtier ]"
tap_check "vmtier hook status: not installed (exit 1)" bash -c "! '$vmtier' hook status >/dev/null"
for d in A B C D; do "$vmtier" undefine "$d" >/dev/null; done
tap_diag "$(grep -E 'hook:|found|dropped|stopp' "$log" | tail -12)"
tap_done
