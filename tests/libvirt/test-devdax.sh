#!/bin/bash
# test-devdax.sh VMTIER GUEST_ELF: inside the test host (topology 'devdax'),
# a guest defined with --pmem-backend devdax:/dev/dax0.0 starts under a
# private libvirtd, QEMU maps the device, and the guest itself finds the
# NVDIMM in its ACPI NFIT on guest node 1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
. "$here/libvirtd-start.sh"
vmtier=$(realpath "$1") elf=$(realpath "$2")
export VMTIER_TEMPLATE_DIR=$here/../../xml-templates
[ "${VMTIER_TOPOLOGY:-}" = devdax ] || tap_bail "needs topology devdax"
tap_check "a private libvirtd starts" libvirtd_start
virsh() { command virsh -q -c qemu:///system "$@"; }

out=$("$vmtier" define dd --dram 32M --pmem 512M --pmem-backend devdax:/dev/dax0.0 --dram-nodes 0 --virt-type qemu \
	--kernel "$elf" --append "base=16M mem=8M time=0" 2>&1); rc=$?
tap_check "define with devdax:/dev/dax0.0: exit 0" test $rc -eq 0 -a "$out" = "defined dd: 32 MiB DRAM on node 0, 512 MiB on /dev/dax0.0"
tap_check "vmtier list shows the devdax backend" bash -c "'$vmtier' list | grep -qE '^dd +shut-off .* devdax '"
out=$("$vmtier" define dd2 --dram 32M --pmem 256M --pmem-backend devdax:/dev/dax0.0 --virt-type qemu 2>&1); rc=$?
tap_check "a second guest on the same device is refused" test $rc -eq 1 -a "$out" = "vmtier define: /dev/dax0.0 is already the slow memory of 'dd'"
x=$(virsh dumpxml dd)
tap_check "dumpxml keeps an NVDIMM on /dev/dax0.0 in guest node 1" \
	test "$(grep -cE "<memory model='nvdimm'|<path>/dev/dax0.0</path>|<node>1</node>" <<<"$x")" -eq 3
# watch the guest's debug console: add -debugcon for this test only
python3 - "$x" >/tmp/dd.xml <<'PY'
import sys
x = sys.argv[1]
print(x.replace("</qemu:commandline>", "<qemu:arg value='-debugcon'/><qemu:arg value='file:/tmp/vmtier-guests/dd.log'/></qemu:commandline>"))
PY
virsh define /tmp/dd.xml >/dev/null
out=$(virsh start dd 2>&1); rc=$?
tap_diag "$out"
tap_check "the devdax guest starts" test $rc -eq 0
pid=$(cat /run/libvirt/qemu/dd.pid 2>/dev/null)
tap_check "QEMU maps /dev/dax0.0" grep -q '/dev/dax0.0' "/proc/${pid:-0}/maps"
for _ in $(seq 300); do grep -q '^t=1 ' /tmp/vmtier-guests/dd.log 2>/dev/null && break; sleep 0.2; done
tap_diag "$(head -3 /tmp/vmtier-guests/dd.log 2>/dev/null)"
tap_check "the guest sees its NVDIMM: NFIT range on node 1, 512 MiB" \
	grep -qE '^vmtier-guest: nvdimm node=1 base=0x[0-9a-f]+ size_mib=512$' /tmp/vmtier-guests/dd.log
virsh destroy dd >/dev/null
"$vmtier" undefine dd >/dev/null; rc=$?
tap_check "undefine dd" test $rc -eq 0 -a -z "$(virsh list --all --name | xargs)"
tap_done
