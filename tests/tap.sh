# Minimal TAP helpers for shell tests: ok/not ok lines, diagnostics, plan.
tap_n=0 tap_failed=0 tap_t=$SECONDS
# the seconds a step took, when it took 5 or more: where a slow test spends them
tap_time() { [ $((SECONDS - tap_t)) -lt 5 ] || echo "# $((SECONDS - tap_t)) s"; tap_t=$SECONDS; }
tap_ok() { tap_time; tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
tap_fail() { tap_time; tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
# tap_check DESC CMD...: ok when CMD succeeds
tap_check() { local d=$1; shift; if "$@"; then tap_ok "$d"; else tap_fail "$d"; fi; }
tap_diag() { sed 's/^/# /' <<<"$*"; }
tap_bail() { echo "Bail out! $*"; exit 1; }
tap_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }
tap_skip() { echo "1..0 # SKIP $*"; exit 77; }
# Golden-file tests: a case table of NAME and shell-quoted arguments, each
# case's output compared with DIR/NAME.EXT (VMTIER_REGENERATE=1 rewrites).
# tap_golden_case NAME: false (and a failure) for a NAME seen before
tap_golden_case() {
	if [ -n "${seen[$1]:-}" ]; then tap_fail "case '$1' is defined twice"; return 1; fi
	seen[$1]=1
}
# tap_golden_argv TEXT: the array argv from TEXT's shell words
tap_golden_argv() {
	mapfile -d '' argv < <(python3 -c 'import shlex, sys; sys.stdout.write("\0".join(shlex.split(sys.argv[1])) + "\0")' "$1")
	argv[-1]=${argv[-1]%$'\n'}
}
# tap_golden_compare NAME GOT FILE: GOT equals FILE (regenerating: becomes it)
tap_golden_compare() {
	[ -n "${VMTIER_REGENERATE:-}" ] && cp "$2" "$3"
	if [ -f "$3" ] && cmp -s "$2" "$3"; then
		tap_ok "$1: output equals $(basename "$3")"
	else
		tap_fail "$1: output equals $(basename "$3")"
		diff "$2" "$3" 2>&1 | head -20 | sed 's/^/# /'
	fi
}
# tap_golden_orphans DIR EXT...: a golden file DIR/NAME.EXT whose NAME no
# case ran (the caller's associative array "seen") fails
tap_golden_orphans() {
	local dir=$1 f b ext; shift
	for ext in "$@"; do
		for f in "$dir"/*."$ext"; do
			[ -e "$f" ] || continue
			b=$(basename "$f"); b=${b%.*}
			[ -n "${seen[$b]:-}" ] || tap_fail "golden file $(basename "$f") has no case (remove it)"
		done
	done
}
