#!/bin/bash
# adopt-golden.sh VMTIER FIXTURES DIR: every case in DIR/cases runs
# `vmtier adopt --xml DIR/in/INPUT.xml ARGS` on a captured host tree.  What
# it prints (stdout, then stderr, then its exit status) must equal
# DIR/NAME.out; with --fix, the fixed XML it prints must equal DIR/NAME.xml,
# validate with virt-xml-validate, and check clean when adopted again.
# VMTIER_REGENERATE=1 rewrites; a golden file without a case, or a case
# named twice, fails.
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1 fixtures=$2 dir=$3
export VMTIER_TEMPLATE_DIR=${VMTIER_TEMPLATE_DIR:-$(cd "$(dirname "$0")/../../xml-templates" && pwd)}
declare -A seen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# vmtierd.conf's defaults (dram_reserve), whatever this machine has in /etc
: >"$tmp/vmtierd.conf"
export VMTIER_CONFIG=$tmp/vmtierd.conf
while IFS=$'\t' read -r name fixture input args; do
	[ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
	tap_golden_case "$name" || continue
	tap_golden_argv "$args"
	[ -n "${VMTIER_REGENERATE:-}" ] && rm -f "$dir/$name".out "$dir/$name".xml
	VMTIER_HOST_ROOT=$fixtures/$fixture "$vmtier" adopt --xml "$dir/in/$input.xml" "${argv[@]}" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [[ " ${argv[*]} " == *" --fix "* ]] && [ $rc -eq 0 ]; then
		tap_golden_compare "$name" "$tmp/out" "$dir/$name.xml"
		tap_check "$name: libvirt's schema accepts the fixed XML" \
			bash -c 'virt-xml-validate "$1" domain >/dev/null 2>&1' _ "$tmp/out"
		# what --fix made needs nothing more (the flags that pick, without --fix)
		again=()
		for a in "${argv[@]}"; do [ "$a" = --fix ] || again+=("$a"); done
		VMTIER_HOST_ROOT=$fixtures/$fixture "$vmtier" adopt --xml "$tmp/out" "${again[@]}" >"$tmp/again" 2>&1
		tap_check "$name: the fixed XML checks clean" test $? -eq 0
		tap_check "$name: --fix kept the operator's devices, CPU model, machine type and kernel" \
			python3 - "$dir/in/$input.xml" "$tmp/out" <<'PY'
import sys, xml.etree.ElementTree as ET
a, b = (ET.parse(f).getroot() for f in sys.argv[1:3])
for path in ("devices", "os", "features", "clock", "uuid", "name", "memory", "currentMemory", "vcpu"):
    ea, eb = a.find(path), b.find(path)
    if ea is None:
        continue
    assert eb is not None and ET.tostring(ea).split() == ET.tostring(eb).split(), path
ca, cb = a.find("cpu"), b.find("cpu")
assert ca is None or ca.attrib == cb.attrib, (ca.attrib, cb.attrib)
PY
	else
		{ cat "$tmp/out" "$tmp/err"; echo "exit $rc"; } | sed "s|$dir/in/|@IN@/|g; s|$VMTIER_TEMPLATE_DIR/|@TEMPLATES@/|g" >"$tmp/e"
		tap_golden_compare "$name" "$tmp/e" "$dir/$name.out"
	fi
done <"$dir/cases"
tap_golden_orphans "$dir" out xml
tap_done
