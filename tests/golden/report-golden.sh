#!/bin/bash
# report-golden.sh VMTIER HISTORY_GEN DIR: history-gen writes a store with
# fixed timestamps; every case in DIR/cases runs `vmtier report --db STORE
# ARGS`; stdout must equal DIR/NAME.json or NAME.csv (by --format; .txt for
# the table), or, when it fails, stderr and the exit status DIR/NAME.err.
# VMTIER_REGENERATE=1 rewrites; a golden file without a case, or a case
# named twice, fails.
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1 gen=$2 dir=$3
export VMTIER_TEMPLATE_DIR=${VMTIER_TEMPLATE_DIR:-$(cd "$(dirname "$0")/../../xml-templates" && pwd)}
export LC_ALL=C TZ=UTC
unset VMTIER_HISTORY_DB
declare -A seen
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$gen" "$tmp/history.db" || tap_bail "history-gen failed"
while IFS=$'\t' read -r name args; do
	[ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
	tap_golden_case "$name" || continue
	tap_golden_argv "$args"
	"$vmtier" report --db "$tmp/history.db" "${argv[@]}" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then
		got=$tmp/out ext=$(sed -n 's/.*--format[ =]\([a-z]*\).*/\1/p' <<<"$args")
		ext=${ext:-txt}	# the table
	else
		{ sed "s|$tmp|@TMP@|g" "$tmp/err"; echo "exit $rc"; } >"$tmp/e"
		got=$tmp/e ext=err
	fi
	file=$dir/$name.$ext
	[ -n "${VMTIER_REGENERATE:-}" ] && rm -f "$dir/$name".{json,csv,html,txt,err}
	tap_golden_compare "$name" "$got" "$file"
done <"$dir/cases"
tap_golden_orphans "$dir" json csv html txt err
tap_done
