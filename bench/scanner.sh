#!/bin/bash
# bench/scanner.sh BUILD: scanner cost inside the test host (bench/run).
#
# Per scanner (damon-vaddr, damon-vaddr+noflush, soft-dirty; or
# VMTIER_BENCH_SCANNERS; +noflush: flush_us=0, DAMON without the TLB
# flusher of the ranking sampler, as vmtierd scanned before it), vmtierd
# runs 60 s with no guest (the baseline), then 60 s tiering one 512 MiB budget guest whose hot set
# already sits in its DRAM cell, so it spends on scanning, not moving
# (moved_mib says what it moved all the same).
# CPU: vmtierd's utime+stime, plus its kdamond's (DAMON samples in a kernel
# thread); per scan window, per GiB of guest RAM scanned (all of it, every
# window) and as a ratio to the idle daemon.  Memory: vmtierd's RSS over
# the idle daemon's, per GiB of guest RAM, and the engine's state per GiB.
set -u
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/lib.sh" "$1"
secs=${VMTIER_BENCH_SECONDS:-60} ram_mb=512 dram_mb=64
echo 0 >/proc/sys/kernel/numa_balancing
libvirtd_start >/dev/null || { say "scanner: libvirtd does not start"; exit 1; }
mkdir -p /var/lib/vmtier
echo "kernel $(uname -r)" >&2

# kdamond_seen: note the CPU seconds of the kdamond running now; vmtierd
# restarts it when its targets change, and an exited thread's time is gone,
# so we note it every second and add up what each one reached
declare -A kd_seen
kdamond_seen() {
	local p
	read -r p 2>/dev/null </sys/kernel/mm/damon/admin/kdamonds/0/pid || return 0
	[ "${p:--1}" -gt 0 ] && kd_seen[$p]=$(cpu_s "$p")
	return 0
}
kdamond_cpu() { local p s=0; for p in "${!kd_seen[@]}"; do s=$(awk "BEGIN { print $s + ${kd_seen[$p]} }"); done; echo "$s"; }
vm() {	# FIELD: from vmtier status sc --json
	"$vmtier" status sc --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['vms'][0]['$1'])"
}

# measure SCANNER GUEST: vmtierd with SCANNER for $secs seconds (once the
# guest, if GUEST is not empty, has had 3 windows); sets cpu kd windows rss
# used moved
measure() {
	local c0 k0 w0=0 t0 extra=
	[[ $1 == *+noflush ]] && extra=flush_us=0
	daemon_config "scanner=${1%+*}
$extra
history_db=/var/lib/vmtier/$1-${2:-idle}.db"
	start_daemon || return 1
	if [ -n "$2" ]; then
		for _ in $(seq 100); do [ "$(vm windows)" -ge 3 ] 2>/dev/null && break; sleep 0.2; done
		w0=$(vm windows)
	else
		sleep 2
	fi
	kd_seen=()
	kdamond_seen
	c0=$(cpu_s "$daemon") k0=$(kdamond_cpu)
	t0=${EPOCHREALTIME/./}
	while [ $(( ${EPOCHREALTIME/./} - t0 )) -lt $((secs * 1000000 - 500000)) ]; do sleep 1; kdamond_seen; done
	cpu=$(awk "BEGIN { print $(cpu_s "$daemon") - $c0 }") kd=$(awk "BEGIN { print $(kdamond_cpu) - $k0 }")
	rss=$(rss_kib "$daemon") windows=0 used=$1 moved=0
	if [ -n "$2" ]; then
		windows=$(( $(vm windows) - w0 )) used=$(vm scanner)
		moved=$(( $(vm promoted_bytes) + $(vm demoted_bytes) ))
	fi
	kill -TERM "$daemon"; wait "$daemon"
}

# the baselines: the same daemon and configuration with nothing to tier
declare -A idle_cpu idle_rss
for scanner in ${VMTIER_BENCH_SCANNERS:-damon-vaddr damon-vaddr+noflush soft-dirty}; do
	measure "$scanner" "" || { say "scanner $scanner: vmtierd does not start"; exit 1; }
	idle_cpu[$scanner]=$(awk "BEGIN { print $cpu + $kd }") idle_rss[$scanner]=$rss
	say "scanner $scanner idle: ${secs}s cpu_s=${idle_cpu[$scanner]} rss_kib=$rss"
done

# the guest fills GPA 20M..276M and hits 32 MiB at 24M, inside its 64 MiB DRAM cell
libvirt_guest sc "$dram_mb" $((ram_mb - dram_mb)) 32 "pattern=uniform base=20M mem=256M hot_off=24M" ||
	{ say "scanner: the guest did not start"; exit 1; }
gib=$(awk "BEGIN { print $ram_mb / 1024 }")
for scanner in ${VMTIER_BENCH_SCANNERS:-damon-vaddr damon-vaddr+noflush soft-dirty}; do
	measure "$scanner" sc || { say "scanner $scanner: vmtierd does not start"; continue; }
	[ "$used" = "${scanner%+*}" ] || say "scanner $scanner: vmtierd used '$used' instead"
	python3 - "$scanner" "$secs" "$gib" "$windows" "$cpu" "$kd" "${idle_cpu[$scanner]}" "$rss" \
		"${idle_rss[$scanner]}" "$moved" <<'PY' | tee -a "$summary"
import sys
name, secs, gib, windows = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
daemon, kd, idle, rss, idle_rss, moved = map(float, sys.argv[5:])
total, w = daemon + kd, max(windows, 1)
print(f"scanner {name}: {secs:.0f}s windows={windows} guest_gib={gib} daemon_cpu_s={daemon:.2f}"
      f" kdamond_cpu_s={kd:.2f} cpu_ms_per_window={1000 * total / w:.1f}"
      f" cpu_s_per_scanned_gib={total / w / gib:.3f}"
      f" cpu_ratio_vs_idle={total / idle if idle > 0 else float('inf'):.2f}"
      f" rss_kib={rss:.0f} rss_over_idle_kib_per_gib={(rss - idle_rss) / gib:.0f}"
      f" moved_mib={moved / 2**20:.0f}")
PY
done
stop_guest sc
say "scanner engine state: $("$engine_bytes" | tr '\n' ' ')"
