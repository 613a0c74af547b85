#!/bin/bash
# define-golden.sh VMTIER FIXTURES DIR: every case in DIR/cases runs
# `vmtier define ... --print-xml` on a captured host tree; stdout must equal
# DIR/NAME.xml (and validate with virt-xml-validate), or stderr and the exit
# status DIR/NAME.err.  A UUID define chose (no --uuid) is @UUID@ there.  VMTIER_REGENERATE=1 rewrites; a golden file without a
# case, or a case named twice, fails.
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1 fixtures=$2 dir=$3
export VMTIER_TEMPLATE_DIR=${VMTIER_TEMPLATE_DIR:-$(cd "$(dirname "$0")/../../xml-templates" && pwd)}
declare -A seen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
while IFS=$'\t' read -r name fixture args; do
	[ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
	tap_golden_case "$name" || continue
	tap_golden_argv "$args"
	VMTIER_HOST_ROOT=$fixtures/$fixture "$vmtier" define "${argv[@]}" --print-xml >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ] && [[ " $args " != *" --uuid "* ]]; then
		# a random UUID, which names the QMP socket too: the same in both
		# places, then @UUID@ in the expected text
		uuid=$(sed -n 's|^ *<uuid>\(.*\)</uuid>$|\1|p' "$tmp/out")
		tap_check "$name: a random UUID, and the QMP socket named after it" \
			bash -c '[[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] &&
				grep -q "value=\"unix:[^\"]*/libvirt-$1\.qmp,server=on,wait=off\"" "$2"' _ "$uuid" "$tmp/out"
		cp "$tmp/out" "$tmp/raw"
		sed -i "s|${uuid:-@none@}|@UUID@|g" "$tmp/out"
	else
		cp "$tmp/out" "$tmp/raw"
	fi
	if [ $rc -eq 0 ]; then got=$tmp/out ext=xml; else
		# the checkout's path is not part of the expected text
		{ sed "s|$VMTIER_TEMPLATE_DIR|@TEMPLATE_DIR@|g" "$tmp/err"; echo "exit $rc"; } >"$tmp/e"
		got=$tmp/e ext=err; fi
	file=$dir/$name.$ext
	[ -n "${VMTIER_REGENERATE:-}" ] && rm -f "$dir/$name".xml "$dir/$name".err
	tap_golden_compare "$name" "$got" "$file"
	if [ $ext = xml ]; then
		tap_check "$name: libvirt's schema accepts the XML" bash -c 'virt-xml-validate "$1" domain >/dev/null 2>&1' _ "$tmp/raw"
	fi
done <"$dir/cases"
tap_golden_orphans "$dir" xml err
tap_done
