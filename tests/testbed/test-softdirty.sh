#!/bin/bash
# Runs inside the test host (topology 'tiered'), whose kernel has soft-dirty:
# the soft-dirty scanner on real page tables.  SOFTDIRTY_CHECK scans its own
# memory and prints TAP; its results become ours, and a skip (no soft-dirty)
# is a failure here.
#   test-softdirty.sh SOFTDIRTY_CHECK
set -u
. "$(dirname "$0")/../tap.sh"
[ -n "${VMTIER_TESTBED:-}" ] || tap_bail "run me through tests/testbed/run"
[ $# -eq 1 ] || tap_bail "usage: test-softdirty.sh SOFTDIRTY_CHECK"

out=$("$1" 2>&1)
rc=$?
while IFS= read -r line; do
	case "$line" in
	"ok "*) tap_ok "${line#ok * - }" ;;
	"not ok "*) tap_fail "${line#not ok * - }" ;;
	"1..0 # SKIP "*) tap_fail "soft-dirty works in the test host (${line#1..0 # SKIP })" ;;
	1..*) ;;
	*) tap_diag "${line#\# }" ;;
	esac
done <<<"$out"
tap_check "softdirty-check exits 0 (got $rc)" test "$rc" -eq 0
tap_done
