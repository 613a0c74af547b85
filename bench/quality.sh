#!/bin/bash
# bench/quality.sh BUILD: tiering quality, inside the test host (bench/run).
#
# A guest of 32 MiB DRAM (cell 0, node 0) and 256 MiB PMEM (cell 1, node 2),
# DRAM:slow 1:8, runs tests/guest with its hot set in cell 1.  Patterns
# (VMTIER_BENCH_PATTERNS, default all but the aliases):
#   zipf3 (alias zipf), zipf2, zipf6: 128 MiB, page floor(u^K N)
#   two     16 MiB at 4x the per-page rate of another 48 MiB, 48 MiB apart
#   P-ro    P with loads only (write=0: invisible to soft-dirty)
#   shift   16 MiB uniform, moving on every 15 s
#   P+Q     two guests at once, P and Q, each with the quota, sharing
#           node 0 (not run by default; their rows are P+Q.g1 and P+Q.g2)
# Every second for 60 s we read where each hot page is (hot-share,
# move_pages) and weight it by the guest's exact access distribution: the
# share of accesses DRAM serves, over what an oracle with the 32 MiB quota
# would serve.  For vmtierd modes, `vmtier status --json` beside it: what
# vmtierd reports (dram_access_share, hot_coverage, hot_bytes).
# Every run in each TLB regime (VMTIER_BENCH_TLB, default both):
#   sticky    the test host as it is: TCG's software TLB holds the hot set
#             for good (like 2 MiB-backed guests on hardware)
#   turnover  tlb-flusher pinned to the guest's CPU wakes every
#             VMTIER_BENCH_FLUSH_US (1000) us: each switch to its mm is a
#             CR3 write, a full TCG TLB flush (like 4 KiB-backed hardware,
#             whose TLB turns over in microseconds; bench/README.md)
#   turnover-4k  turnover with the guest's RAM in 4 KiB pages (THP off in
#             the test host while the guest starts): one accessed bit per
#             4 KiB, as a 4 KiB-backed guest has on hardware (not by default)
#   sticky-4k  sticky with the guest's RAM in 4 KiB pages: no flusher but
#             vmtierd's own (not by default)
# Modes:
#   static   no daemon, numa_balancing=0: the placement vmtier define makes
#   vmtierd  vmtierd (DAMON vaddr, 1 s windows), the guest under libvirt
#   vmtierd-sd  the same with the soft-dirty scanner (not run by default)
#   vmtierd-damos  vmtierd with offload=damos: the kernel's DAMOS moves the
#               guest's pages (its libvirt memory cgroup), vmtierd steers
#   nb2      numa_balancing=2 (the kernel's tiering mode) with demotion on
#   vmtierd-nb2  vmtierd and nb2 at once on a vmtier guest (its memory is
#            mbind-bound: hint faults skip it; with no memory policy they
#            promote but served less than vmtierd alone: bench/README.md)
#   damos    DAMOS migrate_hot (node 2 -> 0) and migrate_cold (0 -> 2)
# The kernel modes have no per-guest quota, so every mode but static runs
# with node 0's free memory locked away down to the guest's quota (hold-mem).
# VMTIER_BENCH_MODES picks modes, VMTIER_BENCH_SECONDS the time per mode,
# VMTIER_BENCH_DAEMON_CONF lines, separated by ';', added to every vmtierd
# mode's vmtierd.conf after its [daemon] lines ("[policy];demote_windows=2"
# tries a policy; one line, as the test host passes on only one).
set -u
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/lib.sh" "$1"
quota_mb=32 slow_mb=256 secs=${VMTIER_BENCH_SECONDS:-60} flush_us=${VMTIER_BENCH_FLUSH_US:-1000}
modes=${VMTIER_BENCH_MODES:-static vmtierd vmtierd-damos nb2 damos}
patterns=${VMTIER_BENCH_PATTERNS:-zipf3 zipf2 zipf6 two zipf3-ro zipf2-ro zipf6-ro two-ro shift}
regimes=${VMTIER_BENCH_TLB:-sticky turnover}
# per guest: its pattern, hot-share's name for its distribution, its hot
# span (GPA, MiB; shift's moves), the last map hot-share drew
declare -A gpat glabel gweights glo ghot_mb last_map

# pattern_set NAME P: the guest's append line (APPEND) and the above
pattern_set() {
	local n=$1 p=$2 k
	gpat[$n]=$p glo[$n]=$((64 << 20))
	case "${p%-ro}" in
	zipf|zipf[1-8])
		k=${p%-ro}; k=${k#zipf}; k=${k:-3}
		ghot_mb[$n]=128 gweights[$n]=zipf$k
		APPEND="pattern=zipf skew=$k base=64M mem=128M hot=128M hot_off=64M time=0" ;;
	two)	ghot_mb[$n]=112 gweights[$n]=two:$((16 << 20)):$((64 << 20)):4
		APPEND="pattern=two ratio=4 base=64M mem=128M hot=16M hot_off=64M hot2=48M hot2_off=128M time=0" ;;
	shift)	ghot_mb[$n]=16 gweights[$n]=uniform
		APPEND="pattern=shift shift=15 base=64M mem=64M hot=16M hot_off=64M time=0" ;;
	*) say "quality: unknown pattern '$p' (have zipf3 zipf2 zipf6 two shift, each also as P-ro)"; return 1 ;;
	esac
	[ "$p" = "${p%-ro}" ] || APPEND+=" write=0"
	return 0
}
for p in ${patterns//+/ }; do pattern_set check "$p" || exit 1; done
for r in $regimes; do
	case "$r" in sticky|turnover|turnover-4k|sticky-4k) ;; *) say "quality: unknown TLB regime '$r' (have sticky turnover turnover-4k sticky-4k)"; exit 1 ;; esac
done
say "quality: modes=[$modes] patterns=[$patterns] tlb=[$regimes] seconds=$secs flush_us=$flush_us${VMTIER_BENCH_DAEMON_CONF:+ daemon_conf=[$VMTIER_BENCH_DAEMON_CONF]}"
echo 0 >/proc/sys/kernel/numa_balancing
echo false >/sys/kernel/mm/numa/demotion_enabled
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
# a memory cgroup per libvirt guest, for offload=damos
export VMTIER_LIBVIRT_CGROUPS='"memory"'
libvirtd_start >/dev/null || { say "quality: libvirtd does not start"; exit 1; }
mkdir -p /var/lib/vmtier

CSV_HEAD=t,hot_gpa,hot_mib,share,oracle,dram_mib,hot_pages,hot_fast,rep_share,rep_coverage,rep_hot_mib
# sample NAME T: one CSV row for guest NAME at T seconds ($CSV_HEAD; cell 1
# starts at GPA quota_mb; rep_*: vmtier status, empty when not vmtierd's or
# not reported yet).  Bash builtins, one hot-share and for vmtierd one
# vmtier status: under nested TCG a process costs ~100 ms.
sample() {
	local n=$1 lo=${glo[$n]} len=$((${ghot_mb[$n]} << 20)) hs lines i row st rep=,,
	if [ "${gpat[$n]%-ro}" = shift ]; then
		mapfile -t lines <"${glog[$n]}"
		for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
			[[ ${lines[i]} =~ ^t=.*\ hot=(0x[0-9a-f]+)- ]] && { lo=$((BASH_REMATCH[1])); break; }
		done
	fi
	hs=$("$hot_share" "${gpid[$n]}" "${gweights[$n]}" $((quota_mb << 20)) $((hva1[$n] + lo - (quota_mb << 20))) "$len" \
		"${hva0[$n]}" $((quota_mb << 20)) "${hva1[$n]}" $((slow_mb << 20))) &&
	[[ $hs =~ share=([^ ]+)\ oracle=([^ ]+).*dram_pages=([0-9]+)\ hot_pages=([0-9]+)\ hot_fast=([0-9]+)\ map=(.*) ]] ||
		return 1
	printf -v row '%s,0x%x,%d,%s,%s,%d,%d,%d' "$2" "$lo" $((len >> 20)) "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" \
		$((BASH_REMATCH[3] / 256)) "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}"
	last_map[$n]=${BASH_REMATCH[6]}
	if [[ $n == vmtierd* ]] && st=$("$vmtier" status "$n" --json 2>/dev/null) &&
		[[ $st =~ \"hot_bytes\":\ *([0-9]+).*\"hot_coverage\":\ *([-0-9.eE+]+).*\"dram_access_share\":\ *([-0-9.eE+]+) ]]; then
		rep=${BASH_REMATCH[3]},${BASH_REMATCH[2]},$((BASH_REMATCH[1] >> 20))
	fi
	echo "$row,$rep"
}

# accesses NAME: "SECONDS ACCESSES" of the guest's last report line
accesses() {
	local lines i
	mapfile -t lines <"${glog[$1]}"
	for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
		# " hot=" after it: the number is whole (the guest may be writing the line)
		[[ ${lines[i]} =~ ^t=([0-9]+)\ accesses=([0-9]+)\ hot= ]] && { echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"; return; }
	done
	echo "0 0"
}

# watch RUN NAME...: sample the guests about every second for $secs seconds
# into RUN-PATTERN.csv; RUN-PATTERN.meta gets the guest's accesses per
# second over the run (its own counter) and the distribution hot-share used
watch() {
	local run=$1 t0 t ts pause n a b; shift
	declare -A acc0
	for n in "$@"; do
		echo "$CSV_HEAD" >"$out/$run-${glabel[$n]}.csv"
		acc0[$n]=$(accesses "$n")
	done
	t0=${EPOCHREALTIME/./}
	while t=$(( (${EPOCHREALTIME/./} - t0) / 1000 )) && [ "$t" -le $((secs * 1000 + 500)) ]; do
		printf -v ts '%d.%03d' $((t / 1000)) $((t % 1000))
		for n in "$@"; do sample "$n" "$ts" >>"$out/$run-${glabel[$n]}.csv"; done
		t=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
		printf -v pause '0.%03d' $((999 - t % 1000))
		sleep "$pause"
	done
	for n in "$@"; do
		read -r -a a <<<"${acc0[$n]}"; read -r -a b <<<"$(accesses "$n")"
		printf 'weights=%s\naccesses_per_s=%d\n' "${gweights[$n]}" \
			$(( (b[1] - a[1]) / (b[0] > a[0] ? b[0] - a[0] : 1) )) >"$out/$run-${glabel[$n]}.meta"
	done
}

# start_guest_for MODE PATTERN [NAME LABEL]: the guest as MODE needs it,
# hot set on node 2; NAME defaults to MODE-PATTERN, LABEL (its files) to
# PATTERN
start_guest_for() {
	local n=${3:-$1-$2} APPEND
	glabel[$n]=${4:-$2}
	pattern_set "$n" "$2" || return 1
	case "$1" in
	vmtierd*) libvirt_guest "$n" "$quota_mb" "$slow_mb" "${ghot_mb[$n]}" "$APPEND" ;;
	nb2)	# NUMA balancing skips VMAs with a policy: cell 1 has none, and
		# its pages (first touched on node 0) are moved to node 2
		plain_guest "$n" "$quota_mb" "$slow_mb" none "$APPEND" &&
			bench_note "$n: cell 1 to node 2: $("$move_range" "${gpid[$n]}" "${hva1[$n]}" $((slow_mb << 20)) 2)" ;;
	*) plain_guest "$n" "$quota_mb" "$slow_mb" bind "$APPEND" ;;
	esac
}

# tlb_on REGIME RUN [CPUS] / tlb_off RUN: a flusher on each of the guests'
# CPUS (default 0; vmtierd's guests may run on 0 and 1, its own TLB flush
# moves them) for turnover; what each achieved goes to RUN.flusher
flushers=()
tlb_on() {
	local c
	[ "${1%-4k}" = turnover ] || return 0
	for c in ${3:-0}; do
		taskset -c "$c" "$tlb_flusher" "$flush_us" >>"$out/$2.flusher" 2>&1 &
		flushers+=($!)
	done
}
tlb_off() {
	[ ${#flushers[@]} -gt 0 ] || return 0
	kill -TERM "${flushers[@]}"; wait "${flushers[@]}"
	flushers=()
	bench_note "$1: $(cat "$out/$1.flusher")"
}

# damos_on PID: two kdamonds on physical memory (paddr: 6.12's vaddr
# operations do not implement the migrate actions), HMSDK-style: node 0's
# range with migrate_cold to node 2, node 2's with migrate_hot to node 0,
# both only for the guest's cgroup, 64 MiB/s each like vmtierd's budget class
damos_on() {
	local k=/sys/kernel/mm/damon/admin/kdamonds bs ids c s i node action
	bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
	echo 2 >$k/nr_kdamonds || return 1
	for i in 0 1; do
		node=$((i * 2)); c=$k/$i/contexts/0; s=$c/schemes/0
		action=$([ $i = 0 ] && echo "migrate_cold 2" || echo "migrate_hot 0")
		ids=$(ls -d /sys/devices/system/node/node$node/memory[0-9]* | sed 's/.*memory//' | sort -n)
		{ echo 1 >$k/$i/contexts/nr_contexts && echo paddr >$c/operations &&
		  echo 5000 >$c/monitoring_attrs/intervals/sample_us &&
		  echo 100000 >$c/monitoring_attrs/intervals/aggr_us &&
		  echo 1000000 >$c/monitoring_attrs/intervals/update_us &&
		  echo 1 >$c/targets/nr_targets && echo 1 >$c/targets/0/regions/nr_regions &&
		  echo $(($(head -1 <<<"$ids") * bs)) >$c/targets/0/regions/0/start &&
		  echo $((($(tail -1 <<<"$ids") + 1) * bs)) >$c/targets/0/regions/0/end &&
		  echo 1 >$c/schemes/nr_schemes && echo "${action% *}" >$s/action &&
		  echo "${action#* }" >$s/target_nid &&
		  echo 4096 >$s/access_pattern/sz/min && echo $((1 << 40)) >$s/access_pattern/sz/max &&
		  if [ $i = 0 ]; then	# idle for 3 s (vmtierd's demote_windows until 2026-12-07)
			echo 0 >$s/access_pattern/nr_accesses/min && echo 0 >$s/access_pattern/nr_accesses/max &&
			echo 30 >$s/access_pattern/age/min
		  else
			echo 1 >$s/access_pattern/nr_accesses/min && echo 1000 >$s/access_pattern/nr_accesses/max &&
			echo 0 >$s/access_pattern/age/min
		  fi &&
		  echo 1000000 >$s/access_pattern/age/max &&
		  echo $((64 << 20)) >$s/quotas/bytes && echo 1000 >$s/quotas/reset_interval_ms &&
		  echo 1 >$s/filters/nr_filters && echo memcg >$s/filters/0/type &&
		  echo /vmtbench >$s/filters/0/memcg_path && echo N >$s/filters/0/matching &&
		  echo on >$k/$i/state; } || return 1
	done
}
damos_off() {
	local k=/sys/kernel/mm/damon/admin/kdamonds i
	for i in 0 1; do
		[ -d $k/$i ] || continue
		echo update_schemes_stats >$k/$i/state 2>/dev/null &&
			bench_note "damos kdamond $i: applied $(cat $k/$i/contexts/0/schemes/0/stats/sz_applied) bytes of $(cat $k/$i/contexts/0/schemes/0/stats/sz_tried) tried"
		echo off >$k/$i/state 2>/dev/null
	done
	echo 0 >$k/nr_kdamonds
}

# vmtierd_on CONF_LINE HISTORY: vmtierd with that line, its own store and
# VMTIER_BENCH_DAEMON_CONF's lines
# (a history of its own each run: vmtierd carries a guest's move totals
# over from its history, and the runs of a pattern share guest names, so
# status's totals at a run's end are that run's alone)
vmtierd_on() {
	local extra=${VMTIER_BENCH_DAEMON_CONF:-}
	rm -f /var/lib/vmtier/"$2".db /var/lib/vmtier/"$2".db-*
	daemon_config "$1
history_db=/var/lib/vmtier/$2.db
${extra//;/$'\n'}" && start_daemon
}
mode_on() {
	kernel_before=$(kernel_counters)
	case "$1" in
	static) ;;
	vmtierd) vmtierd_on scanner=damon-vaddr history ;;
	vmtierd-sd) vmtierd_on scanner=soft-dirty history-sd ;;
	vmtierd-damos) vmtierd_on offload=damos history-damos ;;
	nb2) nb2_on ;;
	# hint faults promote (the kernel), vmtierd keeps the quota: its plan
	# demotes a guest's coldest chunks whenever the kernel took it past it
	vmtierd-nb2) vmtierd_on scanner=damon-vaddr history-nb2 && nb2_on ;;
	damos) damos_on ;;
	esac
}
# the kernel's counters of hint faults and moves (its demotions and
# reclaim fight vmtierd's placement too), read at mode_on and reported as
# what the run added at mode_off; pgmigrate_success counts every
# migration, compaction's too (compact_isolated: the pages it isolated)
kernel_counters() { grep -E '^(numa_hint_faults|pgpromote_success|numa_pages_migrated|pgdemote_kswapd|pgdemote_direct|pgsteal_kswapd|pgsteal_direct|pgmigrate_success|pgmigrate_fail|compact_stall|compact_isolated|thp_migration_success|thp_migration_split) ' /proc/vmstat | sort; }
nb2_on() {
	echo true >/sys/kernel/mm/numa/demotion_enabled && echo 2 >/proc/sys/kernel/numa_balancing
}
nb2_off() {
	echo 0 >/proc/sys/kernel/numa_balancing; echo false >/sys/kernel/mm/numa/demotion_enabled
}
mode_off() {
	[ "$1" = static ] ||
		say "$1-$2: kernel: $(join <(echo "${kernel_before:-}") <(kernel_counters) | awk '{ printf "%s +%d ", $1, $3 - $2 }')"
	case "$1" in
	vmtierd*) [ "$1" = vmtierd-nb2 ] && nb2_off
		  "$vmtier" status --json >"$out/$1-$2-status.json" 2>&1
		  kill -TERM "$daemon"; wait "$daemon" ;;
	nb2) nb2_off ;;
	damos) damos_off ;;
	esac
	return 0
}

# run MODE REGIME PATTERN: the guest (P+Q: two guests at once), the mode,
# the TLB regime, 60 s
run() {
	local mode=$1 regime=$2 p names=() parts=() dram=0 d n i=0 ok=1
	IFS=+ read -r -a parts <<<"$3"
	# turnover-4k: the guests' RAM in 4 KiB pages (QEMU's MADV_HUGEPAGE is
	# ignored under never; kept for the run, or khugepaged may collapse
	# it); the setting the test host booted with after
	local thp=/sys/kernel/mm/transparent_hugepage/enabled thp_was
	thp_was=$(sed 's/.*\[\(.*\)\].*/\1/' $thp)
	[[ $regime == *-4k ]] && echo never >$thp
	for p in "${parts[@]}"; do
		i=$((i + 1))
		if [ ${#parts[@]} = 1 ]; then n=$mode-$p; else n=$mode-$p-g$i; fi
		names+=("$n")
		start_guest_for "$mode" "$p" "$n" "$3$([ ${#parts[@]} = 1 ] || echo ".g$i")" ||
			{ say "$mode $p: the guest did not start"; ok=; break; }
	done
	thp_note() {
		for n in "${names[@]}"; do
			bench_note "$n: AnonHugePages of its QEMU $(awk '/^AnonHugePages/ { s += $2 } END { print s }' /proc/"${gpid[$n]:-0}"/smaps 2>/dev/null) kB $1"
		done
	}
	thp_note "at the start"
	if [ -n "$ok" ] && [ "$mode" != static ]; then
		# node 0 keeps every guest's quota free, less what they hold
		for n in "${names[@]}"; do
			d=$(sample "$n" 0) && d=$(cut -d, -f6 <<<"$d") && dram=$((dram + d)) || { ok=; break; }
		done
		[ -n "$ok" ] && hold_dram $((${#names[@]} * quota_mb - dram)) ||
			{ say "$mode: cannot hold node 0's memory"; ok=; }
		bench_note "$mode: guests' DRAM $dram MiB; node 0 free $(( $(node_free_kib 0) / 1024 )) MiB (high watermarks $(( $(node_high_kib 0) / 1024 )) MiB)"
	fi
	if [ -n "$ok" ]; then
		if mode_on "$mode"; then
			tlb_on "$regime" "$mode-$regime" "$(case $mode in vmtierd*) echo 0 1 ;; *) echo 0 ;; esac)"
			watch "$mode-$regime" "${names[@]}"
			tlb_off "$mode-$regime"
			# what the flusher achieved, beside each guest's figures
			for n in "${names[@]}"; do
				echo "flush_per_s=$(sed -n 's/.*per_s=//p' "$out/$mode-$regime.flusher" 2>/dev/null)" \
					>>"$out/$mode-$regime-${glabel[$n]}.meta"
			done
			for n in "${names[@]}"; do
				say "$n tlb=$regime: hot range on DRAM at the end, 2 MiB a character from its start (zipf: hottest first): ${last_map[$n]:-?}"
			done
		else
			say "$mode: cannot be set up in the test host (see the log)"
		fi
		mode_off "$mode" "$regime-$3"	# status at the end: MODE-REGIME-PATTERN-status.json
	fi
	release_dram
	thp_note "at the end"
	echo "$thp_was" >$thp
	for n in "${names[@]}"; do
		grep -qs 'errors=[1-9]' "${glog[$n]:-/dev/null}" && say "$n: THE GUEST SAW CORRUPTED MEMORY"
		stop_guest "$n"
	done
}

# tlb_cost: what the flusher costs a guest nothing tiers (zipf3, cell 1 on
# node 2): 10 s without it, 10 s with it, three times, interleaved so that
# other load on the machine hits both alike; accesses/s from the guest's
# own counter, and the flusher's achieved wake-ups per second
tlb_cost() {
	local n=tlbcost APPEND i st a b off=() on=() wakes=()
	pattern_set "$n" zipf3 && plain_guest "$n" "$quota_mb" "$slow_mb" bind "$APPEND" ||
		{ say "tlb cost: the guest did not start"; return; }
	sleep 5
	for i in 1 2 3; do
		for st in off on; do
			[ $st = on ] && tlb_on turnover "tlbcost-$i"
			read -r -a a <<<"$(accesses "$n")"; sleep 10; read -r -a b <<<"$(accesses "$n")"
			[ $st = on ] && { tlb_off "tlbcost-$i"; wakes+=("$(sed -n 's/.*per_s=//p' "$out/tlbcost-$i.flusher")"); }
			eval "$st+=(\$(( (b[1] - a[1]) / (b[0] > a[0] ? b[0] - a[0] : 1) )))"
		done
	done
	stop_guest "$n"
	say "tlb cost: guest accesses/s without the flusher ${off[*]}, with it ${on[*]}" \
		"(ratio $(python3 -c 'import sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(f"{sum(map(int, b)) / max(1, sum(map(int, a))):.2f}")' "${off[*]}" "${on[*]}"));" \
		"flusher wake-ups/s ${wakes[*]} (asked: $((1000000 / flush_us)))"
}

echo "kernel $(uname -r)" >&2
[[ " $regimes " == *" turnover "* ]] && [ "${VMTIER_BENCH_TLB_COST:-1}" = 1 ] && tlb_cost
for mode in $modes; do
	for regime in $regimes; do
		case "$mode" in
		static|vmtierd|vmtierd-sd|vmtierd-damos|vmtierd-nb2|nb2|damos) for p in $patterns; do run "$mode" "$regime" "$p"; done ;;
		*) say "quality: unknown mode '$mode'" ;;
		esac
	done
done
python3 "$bench/quality-summary.py" "$out" "$quota_mb" | tee -a "$summary"
