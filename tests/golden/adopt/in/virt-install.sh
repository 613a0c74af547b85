#!/bin/bash
# How virt-install-*.xml here were made: virt-install 4.1.0 (Debian 12's
# virtinst) in the tiered test host, against the private libvirtd of
# tests/libvirt/libvirtd-start.sh (--print-xml needs a qemu:///system
# connection for QEMU's capabilities; test:/// gives a "test" domain).  Run
# it there to make them again; ELF is the test guest (build/tests/guest).
set -eu
elf=${1:-/work/wt-adopt/build/tests/guest/vmtier-guest.elf}
here=$(cd "$(dirname "$0")" && pwd)
head='<!-- virt-install 4.1.0 (Debian 12) print-xml output, unchanged: the command is in virt-install.sh here -->'
# a guest as virt-install makes it by default: no NUMA cells
{ echo "$head"; virt-install --connect qemu:///system --print-xml --dry-run --name web1 --virt-type qemu \
	--memory 512 --vcpus 2 --osinfo linux2022 \
	--boot kernel="$elf",kernel_args="base=20M mem=256M hot=32M hot_off=192M time=0" \
	--disk none --network none --graphics none \
	--qemu-commandline="-debugcon file:/tmp/vmtier-guests/web1.log"; } >"$here/virt-install-plain.xml"
# the README's tiered guest: cells, numatune and vmtierd's QMP socket
{ echo "$head"; virt-install --connect qemu:///system --print-xml --dry-run --name web2 --virt-type qemu \
	--memory 512 --vcpus 2 --osinfo linux2022 --boot kernel="$elf" \
	--disk none --network none --graphics none \
	--cpu cell0.memory=131072,cell0.cpus=0-1,cell1.memory=393216 \
	--numatune 0,2,mode=strict,memnode0.cellid=0,memnode0.mode=strict,memnode0.nodeset=0,memnode1.cellid=1,memnode1.mode=strict,memnode1.nodeset=2 \
	--uuid ff6ea76d-b022-4403-a70f-39095a48ec64 \
	--qemu-commandline="-qmp unix:/run/vmtier/qmp/libvirt-ff6ea76d-b022-4403-a70f-39095a48ec64.qmp,server=on,wait=off"; } >"$here/virt-install-tiered.xml"
