#!/bin/bash
# Runs inside the test host: PROGRAM [ARGS...], a test printing TAP that
# needs what the test host has and this machine lacks (soft-dirty, a slow
# memory tier).  Its results become ours, and a skip is a failure here.
#   test-program.sh PROGRAM [ARGS...]
set -u
. "$(dirname "$0")/../tap.sh"
[ -n "${VMTIER_TESTBED:-}" ] || tap_bail "run me through tests/testbed/run"
[ $# -ge 1 ] || tap_bail "usage: test-program.sh PROGRAM [ARGS...]"

name=$(basename "$1")
out=$("$@" 2>&1)
rc=$?
while IFS= read -r line; do
	# "ok 3 - what" (tap.sh) or "ok 3 /what" (GTest)
	what=${line#*ok [0-9]* }
	what=${what#- }
	case "$line" in
	"ok "*"# SKIP"*) tap_fail "$name runs in the test host (${line#*# SKIP })" ;;
	"1..0 # SKIP "*) tap_fail "$name runs in the test host (${line#1..0 # SKIP })" ;;
	"ok "*) tap_ok "$what" ;;
	"not ok "*) tap_fail "$what" ;;
	1..*) ;;
	*) tap_diag "${line#\# }" ;;
	esac
done <<<"$out"
tap_check "$name exits 0 (got $rc)" test "$rc" -eq 0
tap_done
