#!/bin/bash
# Runs inside the test host:
#   test-program.sh [--reset] PROGRAM [ARGS...] [--next PROGRAM [ARGS...]]...
# tests printing TAP that need what the test host has and this machine
# lacks, one after the other in one boot, each as a process of its own (a
# PROGRAM ending in .sh runs under bash) with VMTIER_OUT a folder of its own
# ($VMTIER_OUT/NAME, copied back per program).  Their results become ours,
# each named after its program; a skip, a bail-out or a non-zero exit is a
# failure here.
#
# --reset: the libvirt suite's groups (tests/meson.build).  Between programs
# host-state.py puts the test host back to the state the boot gave the
# first one (domains undefined, libvirtd, vmtierd and guests gone, kdamonds
# removed, files written removed, knobs back); what it found is printed, and
# if the host is still not clean the next program is not run: its first
# result fails, naming what is left.
#
# One script of a group alone, in a boot of its own: its single test,
#   meson test -C build --suite libvirt-single libvirt-tiering
# (suite libvirt-single: every libvirt script by itself, not in the default run).
set -u
here=$(dirname "$0")
. "$here/../tap.sh"
[ -n "${VMTIER_TESTBED:-}" ] || tap_bail "run me through tests/testbed/run"
reset=
[ "${1:-}" = --reset ] && { reset=1; shift; }
[ $# -ge 1 ] || tap_bail "usage: test-program.sh [--reset] PROGRAM [ARGS...] [--next PROGRAM [ARGS...]]..."
out_base=${VMTIER_OUT:-/tmp/test-program}
state=/var/lib/testbed/host-state
logs=/var/lib/testbed/program-output	# not the reset's to remove
mkdir -p "$logs"
declare -A seen

run_one() {
	local name out rc line what plan=0 results=0 t0=$SECONDS
	name=$(basename "$1")
	seen[$name]=$((${seen[$name]:-0} + 1))
	out=$out_base/$name
	[ "${seen[$name]}" -gt 1 ] && out=$out.${seen[$name]}
	mkdir -p "$out"
	local cmd=("$@") log=$logs/$name.${seen[$name]} pid
	[[ $1 == *.sh ]] && cmd=(bash "$@")
	# its output goes to a file we follow until it exits: a daemon it
	# leaves behind (the reset ends it) may hold its stdout open for good
	: >"$log"
	VMTIER_OUT=$out "${cmd[@]}" </dev/null >>"$log" 2> >(sed -u 's/^/# /' >>"$log") &	# stderr: never a result
	pid=$!
	while IFS= read -r line; do
		tap_t=$SECONDS	# the program times its own steps
		# "ok 3 - what" (tap.sh) or "ok 3 /what" (GTest)
		what=${line#*ok [0-9]* }
		what=${what#- }
		case "$line" in
		"ok "*"# SKIP"*) tap_fail "$name runs in the test host (${line#*# SKIP })"; results=$((results + 1)) ;;
		"1..0 # SKIP "*) tap_fail "$name runs in the test host (${line#1..0 # SKIP })" ;;
		"ok "*) tap_ok "$name: $what"; results=$((results + 1)) ;;
		"not ok "*) tap_fail "$name: $what"; results=$((results + 1)) ;;
		"Bail out!"*) tap_fail "$name: ${line}" ;;
		1..*) plan=${line#1..}; plan=${plan%% *} ;;
		*) tap_diag "${line#\# }" ;;
		esac
	done < <(tail -n +1 -s 0.5 -f --pid="$pid" "$log")
	wait "$pid"
	rc=$?
	# for a post-mortem: what its folder only links to (the guests' logs
	# in this host's /tmp, gone with it) and libvirt's QEMU logs
	for f in "$out"/*; do
		[ -L "$f" ] && [ -f "$f" ] && cp --remove-destination "$(readlink -f "$f")" "$f"
	done
	if compgen -G "/var/log/libvirt/qemu/*.log" >/dev/null; then
		mkdir -p "$out/libvirt-qemu" && cp /var/log/libvirt/qemu/*.log "$out/libvirt-qemu/"
	fi
	tap_diag "$name: $((SECONDS - t0)) s"
	tap_t=$SECONDS
	tap_check "$name exits 0 (got $rc) with its $plan planned results (got $results)" \
		test "$rc" -eq 0 -a "$plan" -gt 0 -a "$plan" -eq "$results"
}

# reset_host NEXT: the host as the boot left it, or NEXT's first result fails
reset_host() {
	local r rc t0=$SECONDS
	r=$(python3 "$here/host-state.py" reset "$state" 2>&1)
	rc=$?
	tap_diag "reset before $1 ($((SECONDS - t0)) s):"
	[ -n "$r" ] && tap_diag "$r"
	[ $rc -eq 0 ] && return 0
	tap_fail "$1: the test host is back to its state at boot (left: $(sed -n 's/^dirty: //p' <<<"$r" | head -3 | paste -sd ';'))"
	return 1
}

if [ -n "$reset" ]; then
	r=$(python3 "$here/host-state.py" save "$state" 2>&1) || tap_bail "host-state.py save: $r"
fi
cmd=() n=0
for a in "$@" --next; do
	if [ "$a" = --next ]; then
		if [ ${#cmd[@]} -gt 0 ]; then
			n=$((n + 1))
			if [ -z "$reset" ] || [ $n -eq 1 ] || reset_host "$(basename "${cmd[0]}")"; then
				run_one "${cmd[@]}"
			fi
		fi
		cmd=()
	else
		cmd+=("$a")
	fi
done
tap_done
