#!/bin/bash
# host-golden.sh VMTIER FIXTURES GOLDEN: `vmtier host --json` and
# `vmtier host check --json` (with its exit status) on every captured tree
# must equal GOLDEN/NAME.host.json and GOLDEN/NAME.check.json.
# VMTIER_REGENERATE=1 rewrites them; a golden file without a fixture fails.
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1 fixtures=$2 golden=$3
declare -A used
for fx in "$fixtures"/*/; do
	name=$(basename "$fx")
	for kind in host check; do
		file=$golden/$name.$kind.json
		used[$file]=1
		if [ $kind = host ]; then
			out=$(VMTIER_HOST_ROOT=$fx "$vmtier" host --json 2>&1; echo "exit $?")
		else
			out=$(VMTIER_HOST_ROOT=$fx "$vmtier" host check --json 2>&1; echo "exit $?")
		fi
		if [ -n "${VMTIER_REGENERATE:-}" ]; then
			printf '%s\n' "$out" >"$file"
		fi
		if [ -f "$file" ] && [ "$out" = "$(cat "$file")" ]; then
			tap_ok "$name: vmtier $kind --json matches $(basename "$file")"
		else
			tap_fail "$name: vmtier $kind --json matches $(basename "$file")"
			diff <(printf '%s\n' "$out") "$file" 2>&1 | head -20 | sed 's/^/# /'
		fi
	done
done
for file in "$golden"/*.json; do
	[ -n "${used[$file]:-}" ] || tap_fail "golden file $(basename "$file") has no fixture (remove it)"
done
tap_done
