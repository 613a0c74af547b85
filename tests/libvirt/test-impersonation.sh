#!/bin/bash
# test-impersonation.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the test
# host (topology 'tiered'), under the stock libvirt: one guest's QEMU cannot
# serve another vmtier guest's QMP socket (issue 12, item 8).
# 1. Confined (libvirt's defaults): each QEMU's AppArmor profile is
#    libvirt-UUID and vmtier's rule lets it create only
#    /run/vmtier/qmp/libvirt-UUID.qmp, its own.  Plain domain "other" whose
#    command line names victim's socket does not start, and victim's socket
#    stays victim's QEMU's.
# 2. A QEMU outside AppArmor (here: other with <seclabel type='none'/>, which
#    stands for a QEMU that escaped its profile; the only relaxation, on
#    other alone) binds victim's socket, and victim's pid file names other's
#    QEMU, as a stale one would whose pid the kernel handed on: the pid check
#    alone passes, other's RAM map is valid in its own process and the same
#    size, so only the machine cgroup tells them apart: vmtierd refuses it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$@"
tap_check "a private libvirtd starts" libvirtd_start
qmp=/run/vmtier/qmp
peer_pid() {	# SOCKET: the pid of the process listening on it
	python3 -c 'import socket,struct,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0])' "$1"
}
export -f peer_pid

# rate=2000: victim (and other, its copy) idle between bursts: nothing here
# is tiered, and a guest that spins takes a whole test-host CPU
tap_check "vmtier guest victim starts" start_guest victim budget 64 448 16 0 rate=2000
tap_diag "$(dmesg | grep DENIED | tail -3)"
victim_pid=$(cat /run/libvirt/qemu/victim.pid)
victim_uuid=$(virsh domuuid victim | tr -d ' \n')
vsock=$qmp/libvirt-$victim_uuid.qmp
tap_check "victim's QEMU listens on $vsock, named after its profile" \
	bash -c '[ "$(peer_pid "$1")" = "$2" ]' _ "$vsock" $victim_pid
# other: victim's XML without vmtier's metadata, its own name and uuid, and
# its QMP socket at victim's path (what a compromised QEMU would try)
other_xml() {	# [EXTRA_ELEMENT]
	virsh dumpxml victim | python3 -c '
import re, sys
x = sys.stdin.read()
x = re.sub(r"<metadata>.*?</metadata>", "", x, flags=re.S)
x = re.sub(r"<uuid>.*?</uuid>", "", x)
x = re.sub(r"<seclabel\b[^>]*/>|<seclabel\b.*?</seclabel>", "", x, flags=re.S)
x = x.replace("<name>victim</name>", "<name>other</name>").replace("victim.log", "other.log")
x = x.replace("</devices>", "</devices>" + sys.argv[1])
sys.stdout.write(x)' "${1:-}" >/tmp/other.xml
}
other_xml
tap_check "plain domain other (confined, naming victim's socket) is defined" virsh define /tmp/other.xml
other_uuid=$(virsh domuuid other | tr -d ' \n')
res=$(virsh start other 2>&1); rc=$?
tap_diag "$res"
tap_diag "$(dmesg | grep 'DENIED' | grep -F "$victim_uuid" | tail -2)"
tap_check "other's QEMU may not take victim's socket: it does not start" test $rc -ne 0
tap_check "AppArmor denied it victim's socket (other's profile libvirt-$other_uuid, victim's path)" \
	bash -c "dmesg | grep 'apparmor=\"DENIED\"' | grep -F 'libvirt-$victim_uuid.qmp' | grep -qF 'profile=\"libvirt-$other_uuid\"'"
tap_check "victim's socket is still victim's QEMU's (pid $victim_pid)" \
	bash -c '[ "$(peer_pid "$1")" = "$2" ]' _ "$vsock" $victim_pid
virsh undefine other >/dev/null

# 2: other outside AppArmor
other_xml "<seclabel type='none' model='apparmor'/>"
tap_check "plain domain other, unconfined (a QEMU that escaped its profile), is defined" virsh define /tmp/other.xml
rm -f "$vsock"
tap_check "unconfined other starts and binds victim's socket path" virsh start other
other_pid=$(cat /run/libvirt/qemu/other.pid)
tap_check "victim's socket is other's (pid $other_pid) now" \
	bash -c '[ "$(peer_pid "$1")" = "$2" ]' _ "$vsock" $other_pid
echo "$other_pid" >/run/libvirt/qemu/victim.pid
tap_diag "victim: QEMU pid $victim_pid, cgroup $(sed -n 's/^0:://p' /proc/$victim_pid/cgroup)"
tap_diag "other: QEMU pid $other_pid, cgroup $(sed -n 's/^0:://p' /proc/$other_pid/cgroup)"

daemon_config
tap_check "vmtierd starts" start_daemon
# logged PATTERN SECONDS: vmtierd's log has PATTERN within SECONDS
logged() {
	for _ in $(seq "$2"); do grep -q "$1" "$out/vmtierd.log" && return 0; sleep 1; done
	return 1
}
tap_check "vmtierd refuses other's QEMU as victim's: not in victim's machine cgroup" \
	logged "victim: cannot attach yet: .*is not libvirt's machine cgroup of domain id" 60
tap_diag "$(grep 'victim:' "$out/vmtierd.log" | tail -3)"
st=$("$vmtier" status victim --json)
tap_check "victim is not attached (attaching, the reason given), never tiered" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["state"] == "attaching" and "machine cgroup" in v.get("last_error", ""), v' "$st"
tap_check "vmtierd never attached victim to pid $other_pid" bash -c "! grep -q 'victim: attached' '$out/vmtierd.log'"

# its own QEMU, restarted, is attached: libvirt's real machine cgroup passes
virsh destroy other >/dev/null; virsh destroy victim >/dev/null
tap_check "victim starts again with its own QEMU" virsh start victim
tap_check "vmtierd attaches victim to its own QEMU (in its machine cgroup)" \
	logged "victim: attached to QEMU pid $(cat /run/libvirt/qemu/victim.pid 2>/dev/null)," 120
tap_diag "$(grep 'victim:' "$out/vmtierd.log" | tail -2)"
kill -TERM "$daemon"; wait "$daemon"
virsh destroy victim >/dev/null
tap_done
