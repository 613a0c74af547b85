#!/bin/bash
# test-impersonation.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the test
# host (topology 'tiered'), under the stock libvirt: another domain's QEMU
# serving a vmtier guest's QMP socket is refused (issue 12, item 8).  Every
# QEMU is libvirt-qemu under the same AppArmor rule, so any can bind any
# NAME.qmp.  Here plain domain "other" (not vmtier's, the same memory as
# "victim") binds victim.qmp, and victim's pid file names other's QEMU, as
# a stale one would whose pid the kernel handed on: the pid check alone
# passes, other's RAM map is valid in its own process and the same size, so
# only the machine cgroup tells them apart.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$@"
tap_check "a private libvirtd starts" libvirtd_start
qmp=/run/vmtier/qmp

tap_check "vmtier guest victim starts" start_guest victim budget 64 448 16 0
tap_diag "$(dmesg | grep DENIED | tail -3)"
victim_pid=$(cat /run/libvirt/qemu/victim.pid)
# other: victim's XML without vmtier's metadata, its own name and uuid, and
# its QMP socket at victim's path (what a compromised QEMU could bind)
virsh dumpxml victim | python3 -c '
import re, sys
x = sys.stdin.read()
x = re.sub(r"<metadata>.*?</metadata>", "", x, flags=re.S)
x = re.sub(r"<uuid>.*?</uuid>", "", x)
x = x.replace("<name>victim</name>", "<name>other</name>").replace("victim.log", "other.log")
sys.stdout.write(x)' >/tmp/other.xml
tap_check "plain domain other is defined" virsh define /tmp/other.xml
rm -f "$qmp/victim.qmp"
tap_check "other starts and binds victim's socket path" virsh start other
other_pid=$(cat /run/libvirt/qemu/other.pid)
tap_check "victim.qmp is other's (pid $other_pid) now" \
	bash -c "python3 -c 'import socket,struct,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(struct.unpack(\"3i\", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0])' $qmp/victim.qmp | grep -qx $other_pid"
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
