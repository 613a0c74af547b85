#!/bin/bash
# record-all.sh GUEST_ELF: boot tests/guest under QEMU (TCG, two NUMA nodes)
# with a QMP socket and record the transcripts in recorded/.  Re-run after a
# QEMU upgrade; the unit tests replay these files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
elf=$1
dir=$(mktemp -d); trap 'kill $qpid 2>/dev/null; rm -rf "$dir"' EXIT
qemu-system-x86_64 -accel tcg -nodefaults -display none -m 160M -smp 1 \
	-object memory-backend-ram,id=m0,size=64M -object memory-backend-ram,id=m1,size=96M,host-nodes=0,policy=bind \
	-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,memdev=m1 \
	-kernel "$elf" -append "mem=32M base=80M time=0" \
	-qmp unix:"$dir/qmp",server=on,wait=off </dev/null &
qpid=$!
hmp() { printf '{"execute":"human-monitor-command","arguments":{"command-line":"%s"}}' "$1"; }
python3 "$here/record.py" "$dir/qmp" "$here/recorded/session.qmp" \
	'{"execute":"qmp_capabilities"}' \
	'{"execute":"query-status"}' \
	'{"execute":"query-memdev"}' \
	"$(hmp 'info mtree -f')" \
	"$(hmp 'gpa2hva 0x4000000')" \
	"$(hmp 'info numa')" \
	"$(hmp 'gpa2hva 0xfffffffff0')" \
	'{"execute":"query-frobnicate"}' \
	'{"execute":"human-monitor-command","arguments":{}}' \
	'{"execute":"stop"}' \
	'{"execute":"cont"}' \
	'{"execute":"quit"}'
wait $qpid || true
ls -la "$here/recorded"
