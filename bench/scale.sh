#!/bin/bash
# bench/scale.sh BUILD: one vmtierd tiering 1, 8 and 32 small guests
# (bench/run scale).
#
# Guests are vmtier guests (vmtier define, real libvirtd and QEMU), 16 MiB
# DRAM + 16 MiB PMEM each, half on nodes 0/2 and half on 1/3; each fills
# 16 MiB at 8M and touches a 2 MiB hot set in its PMEM cell at 4000
# accesses a second (tests/guest rate=N: halted in between, so 2 nested-TCG
# CPUs carry 32).  For each N and mode (the default scanner; offload=damos)
# a fresh vmtierd attaches all N, then for $secs seconds: its CPU (plus its
# kdamonds') per guest per window, its RSS over the idle daemon's per guest,
# windows per guest per second, the daemon's windows and where a window's
# time went (vmtier status: scan, QMP polls, guests' steps, DAMOS steering),
# bytes moved, and status latency (20 `vmtier status` calls, process start
# included; 20 requests on the control socket).  At the largest N one guest's QEMU is SIGSTOPped: status latency
# and whether the others' windows keep advancing.  Ratios are to N=1 of the
# same mode in the same run.
#
# VMTIER_BENCH_SCALE_NS (default "1 8 32"), VMTIER_BENCH_SCALE_MODES
# (default "default offload"), VMTIER_BENCH_SECONDS (default 30),
# VMTIER_BENCH_RATE (default 4000).
set -u
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/lib.sh" "$1"
secs=${VMTIER_BENCH_SECONDS:-30} rate=${VMTIER_BENCH_RATE:-4000}
ns=(${VMTIER_BENCH_SCALE_NS:-1 8 32}) modes=(${VMTIER_BENCH_SCALE_MODES:-default offload})
echo 0 >/proc/sys/kernel/numa_balancing
# offload: the kernel moves no page on its own (as offload_setup)
echo false >/sys/kernel/mm/numa/demotion_enabled
libvirtd_start >/dev/null || { say "scale: libvirtd does not start"; exit 1; }
mkdir -p /var/lib/vmtier
say "scale: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB," \
	"guests 16M DRAM + 16M PMEM, rate=$rate, ${secs}s per run"

# vms: one line per guest from vmtier status: NAME STATE WINDOWS MOVED_BYTES
vms() {
	"$vmtier" status --json 2>/dev/null | python3 -c '
import json, sys
for v in json.load(sys.stdin)["vms"]:
    print(v["name"], v["state"], v["windows"], v["promoted_bytes"] + v["demoted_bytes"])'
}
# dwin: the daemon's windows and their time: WINDOWS SECONDS SCAN POLL
# GUESTS OFFLOAD (seconds, all windows since it started)
dwin() {
	"$vmtier" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["daemon"]; t = d["window_time"]
print(d["windows"], *(f"{t[k]:.3f}" for k in ("seconds", "scan_s", "poll_s", "guests_s", "offload_s")))'
}
# kdamonds: CPU seconds of the kdamond threads seen so far, by pid (a
# restarted kdamond's time is gone with it, so note them every second)
declare -A kd_seen
# (one awk for all: at 32 kdamonds an awk each made a second's note take
# tens of seconds on a busy test host)
kd_note() {
	local p s
	while read -r p s; do kd_seen[$p]=$s; done < <(pgrep -x 'kdamond\.[0-9]+' | sed 's|.*|/proc/&/stat|' |
		xargs -r awk -v t="$tick" '{ p = $1; sub(/^.*\) /, ""); printf "%s %.2f\n", p, ($12 + $13) / t }' 2>/dev/null)
	return 0
}
kd_cpu() { local p s=0; for p in "${!kd_seen[@]}"; do s=$(awk "BEGIN { print $s + ${kd_seen[$p]} }"); done; echo "$s"; }
# latency: median and max ms of 20 `vmtier status` calls (process start
# included: what an operator waits), then of 20 status requests on the
# control socket from one process (what vmtierd takes to answer), each
# followed by one to a server that only sends vmtierd's reply back (the
# baseline: what the loaded test host's scheduler alone costs)
latency() {
	local t0 i ms=()
	for i in $(seq 20); do
		t0=${EPOCHREALTIME/./}
		"$vmtier" status --json >/dev/null 2>&1
		ms+=($(( (${EPOCHREALTIME/./} - t0) / 1000 )))
	done
	printf '%s\n' "${ms[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%d %d ", a[int((NR + 1) / 2)], a[NR] }'
	python3 "$bench/../tests/tools/ctl-latency.py" "$VMTIER_SOCKET" 20 --baseline
}

# guests: define and start guests s1..sN not yet running, 8 at a time
running=0
guests() {
	local i nodes pids=()
	for ((i = running + 1; i <= $1; i++)); do
		nodes=0,2; [ $((i % 2)) -eq 0 ] && nodes=1,3
		guest_nodes=$nodes start_guest "s$i" budget 16 16 2 0 "base=8M mem=16M hot_off=20M rate=$rate" &
		pids+=($!)
		if [ ${#pids[@]} -ge 8 ]; then wait "${pids[@]}"; pids=(); fi
	done
	[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
	for ((i = running + 1; i <= $1; i++)); do
		waitlog "s$i" '^t=1 ' || { bench_note "s$i did not start: $(cat "$out/s$i.log" 2>&1)"; return 1; }
		pid[s$i]=$(cat "/run/libvirt/qemu/s$i.pid")
	done
	running=$1
}

# measure MODE N: a fresh vmtierd in MODE with N guests running; sets
# attach_s cpu kd rss windows tiering moved lat (median max), and meas_ms:
# how long the measured period really took (a starved test host overruns
# $secs: its figures are per meas_ms)
measure() {
	local extra= t0 c0 k0 w0 w1 m0 m1 d0 line
	[ "$1" = offload ] && extra=offload=damos
	daemon_config "$extra
history_db=/var/lib/vmtier/$1-$2.db"
	start_daemon || return 1
	t0=$SECONDS attach_s=
	# all N tiering for 3 windows: generous, attach under nested TCG is slow
	while [ $((SECONDS - t0)) -lt 600 ]; do
		[ "$(vms | awk '$2 == "tiering" && $3 >= 3' | wc -l)" -ge "$2" ] && { attach_s=$((SECONDS - t0)); break; }
		[ "$2" -eq 0 ] && { sleep 2; attach_s=0; break; }
		sleep 2
	done
	[ -n "$attach_s" ] || bench_note "$1 N=$2: not all tiering after 600 s: $(vms | tr '\n' ';')"
	kd_seen=(); kd_note
	w0=$(vms | awk '{ s += $3 } END { print s + 0 }') m0=$(vms | awk '{ s += $4 } END { print s + 0 }')
	d0=$(dwin)
	c0=$(cpu_s "$daemon") k0=$(kd_cpu) t0=${EPOCHREALTIME/./}
	while [ $(( ${EPOCHREALTIME/./} - t0 )) -lt $((secs * 1000000 - 500000)) ]; do sleep 1; kd_note; done
	cpu=$(awk "BEGIN { print $(cpu_s "$daemon") - $c0 }") kd=$(awk "BEGIN { print $(kd_cpu) - $k0 }")
	meas_ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
	rss=$(rss_kib "$daemon")
	line=$(vms)
	w1=$(awk '{ s += $3 } END { print s + 0 }' <<<"$line") m1=$(awk '{ s += $4 } END { print s + 0 }' <<<"$line")
	windows=$((w1 - w0)) moved=$((m1 - m0))
	# the daemon's windows in the period, and a window's mean seconds in
	# all, scanning, polling, the guests' steps, steering DAMOS
	dw=$(paste -d' ' <(echo "$d0") <(dwin) | awk '{ n = $7 - $1; printf "%d", n;
		for (i = 2; i <= 6; i++) printf ":%.2f", n ? ($(i + 6) - $i) / n : 0 }')
	tiering=$(awk '$2 == "tiering"' <<<"$line" | wc -l)
	# and what the others were: "unresponsive:14 attaching:2"
	states=$(awk '{ n[$2]++ } END { for (s in n) printf "%s:%d ", s, n[s] }' <<<"$line")
	# the flusher's period at the end (flush_us, or longer under its CPU bound)
	flushp=$("$vmtier" status --json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["daemon"]["flush_us"])')
	lat=$(latency)
}
stop_daemon() { kill -TERM "$daemon"; wait "$daemon"; }

# stopped N: with the daemon of the last measure running, SIGSTOP s1's
# QEMU; status latency meanwhile, and how many of the others' windows
# advanced over $secs seconds
stopped() {
	local w0 w1 st
	kill -STOP "${pid[s1]}"
	sleep 5
	w0=$(vms)
	stop_lat=$(latency)
	sleep "$secs"
	w1=$(vms)
	kill -CONT "${pid[s1]}"
	advanced=$(join <(sort <<<"$w0") <(sort <<<"$w1") | awk '$1 != "s1" && $6 > $3' | wc -l)
	st=$(awk '$1 == "s1" { print $2 }' <<<"$w1")
	say "scale stopped N=$1: s1's QEMU SIGSTOPped (s1 $st): latency median/max ms (vmtier status, socket, baseline) $stop_lat;" \
		"others' windows advanced in ${secs}s: $advanced of $(($1 - 1))"
}

# results: MODE N -> "cpu kd rss windows tiering attach_s moved lat_med lat_max"
declare -A res
measure default 0 || { say "scale: vmtierd does not start"; exit 1; }
stop_daemon
idle_rss=$rss idle_lat=$lat
say "scale idle daemon: rss_kib=$rss cpu_s=$cpu in ${secs}s, latency ms (vmtier status median max, socket median max, baseline median max)" \
	"$lat"
for n in "${ns[@]}"; do
	guests "$n" || { say "scale: only $running guests started of $n"; break; }
	free_mib=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
	qrss=$(for i in $(seq "$n"); do rss_kib "${pid[s$i]}"; done | awk '{ s += $1 } END { printf "%d", s / NR / 1024 }')
	say "scale N=$n: guests running; MemAvailable ${free_mib} MiB, QEMU RSS ${qrss} MiB a guest"
	for mode in "${modes[@]}"; do
		if ! measure "$mode" "$n"; then say "scale $mode N=$n: vmtierd does not start"; continue; fi
		res[$mode,$n]="$cpu $kd $rss $windows $tiering ${attach_s:-never} $moved $lat $meas_ms $dw"
		say "scale $mode N=$n: ${res[$mode,$n]} (cpu kd rss_kib windows tiering attach_s moved_bytes" \
			"status_ms_med status_ms_max socket_ms_med socket_ms_max baseline_ms_med baseline_ms_max measured_ms" \
			"daemon_windows:s_per_window:scan:poll:guests:offload); flusher period ${flushp:-?} us;" \
			"states at the end: ${states:-none}"
		[ "$mode" = default ] && [ "$n" = "${ns[-1]}" ] && stopped "$n"
		stop_daemon
	done
done

# the table: per guest, per window, as ratios to N=1 of the same mode
python3 - "$secs" "$idle_rss" "${ns[@]}" -- "${modes[@]}" -- \
	$(for k in "${!res[@]}"; do echo "$k=${res[$k]// /:}"; done) <<'PY' | tee -a "$summary"
import sys
a = sys.argv[1:]
secs, idle_rss = float(a[0]), float(a[1])
i = a.index("--"); ns = [int(x) for x in a[2:i]]; rest = a[i + 1:]
j = rest.index("--"); modes = rest[:j]
res = {}
for kv in rest[j + 1:]:
    k, v = kv.split("=")
    m, n = k.split(",")
    res[m, int(n)] = v.split(":")
print(f"scale ({secs:.0f}s a run; ratio: the figure at N over the figure at N=1, same mode)")
print(f"{'mode':8} {'N':>3} {'tiering':>7} {'attach s':>8} {'win/guest/s':>11} {'cpu ms/guest-win':>16} {'ratio':>5}"
      f" {'meas s':>6} {'rss KiB/guest':>13} {'ratio':>5} {'status ms med/max':>17} {'ratio':>5} {'socket ms med/max':>17} {'baseline':>9} {'moved MiB':>9}"
      f" {'windows':>7} {'s/window (scan poll guests offload)':>35}")
for m in modes:
    base = None
    for n in ns:
        if (m, n) not in res:
            print(f"{m:8} {n:>3}  (no result)"); continue
        cpu, kd, rss, win, tier, att, moved, lmed, lmax, smed, smax, bmed, bmax, meas_ms, dwin, *split = res[m, n]
        meas = int(meas_ms) / 1000
        cpu, rss, win, lmed, lmax = float(cpu) + float(kd), float(rss), int(win), int(lmed), int(lmax)
        # no window in the period: no per-window figure
        per_win = 1000 * cpu / win if win else 0
        per_rss = (rss - idle_rss) / n
        if base is None:
            base = (per_win, per_rss, lmed)
        r = lambda x, b: f"{x / b:.2f}" if b > 0 else "-"
        pw, pwr = (f"{per_win:.1f}", r(per_win, base[0])) if win else ("-", "-")
        print(f"{m:8} {n:>3} {tier + '/' + str(n):>7} {att:>8} {win / n / meas:>11.2f} {pw:>16} {pwr:>5}"
              f" {meas:>6.0f}"
              f" {per_rss:>13.0f} {r(per_rss, base[1]):>5} {f'{lmed}/{lmax}':>17} {r(lmed, base[2]):>5} {f'{smed}/{smax}':>17} {f'{bmed}/{bmax}':>9} {int(moved) / 2**20:>9.0f}"
              f" {dwin:>7} {split[0] + ' (' + ' '.join(split[1:]) + ')':>35}")
PY
for ((i = 1; i <= running; i++)); do virsh destroy "s$i" >/dev/null 2>&1; done
exit 0
