#!/bin/bash
# bench/quality.sh BUILD: tiering quality, inside the test host (bench/run).
#
# A guest of 32 MiB DRAM (cell 0, node 0) and 256 MiB PMEM (cell 1, node 2),
# DRAM:slow 1:8, runs tests/guest with its hot set in cell 1: zipf (128 MiB,
# u^3 skew) or shift (16 MiB moving on every 15 s).  Every second for 60 s
# we read where each hot page is (hot-share, move_pages) and weight it by
# the guest's access distribution: the share of accesses DRAM serves, over
# what an oracle with the 32 MiB quota would serve.  Modes:
#   static   no daemon, numa_balancing=0: the placement vmtier define makes
#   vmtierd  vmtierd (DAMON vaddr, 1 s windows), the guest under libvirt
#   vmtierd-sd  the same with the soft-dirty scanner (not run by default)
#   vmtierd-damos  vmtierd with offload=damos: the kernel's DAMOS moves the
#               guest's pages (its libvirt memory cgroup), vmtierd steers
#   nb2      numa_balancing=2 (the kernel's tiering mode) with demotion on
#   damos    DAMOS migrate_hot (node 2 -> 0) and migrate_cold (0 -> 2)
# The kernel modes have no per-guest quota, so every mode but static runs
# with node 0's free memory locked away down to the guest's quota (hold-mem).
# VMTIER_BENCH_MODES picks modes, VMTIER_BENCH_SECONDS the time per mode.
set -u
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/lib.sh" "$1"
quota_mb=32 slow_mb=256 secs=${VMTIER_BENCH_SECONDS:-60}
declare -A hot_mb=([zipf]=128 [shift]=16) append=(
	[zipf]="pattern=zipf base=64M mem=128M hot=128M hot_off=64M time=0"
	[shift]="pattern=shift shift=15 base=64M mem=64M hot=16M hot_off=64M time=0")
declare -A gpat last_map
echo 0 >/proc/sys/kernel/numa_balancing
echo false >/sys/kernel/mm/numa/demotion_enabled
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
# a memory cgroup per libvirt guest, for offload=damos
export VMTIER_LIBVIRT_CGROUPS='"memory"'
libvirtd_start >/dev/null || { say "quality: libvirtd does not start"; exit 1; }
mkdir -p /var/lib/vmtier

# sample NAME T: one CSV row for guest NAME at T seconds,
# t,hot_gpa,hot_mib,share,oracle,dram_mib (cell 1 starts at GPA quota_mb).  Bash
# builtins and one hot-share: under nested TCG a process costs ~100 ms.
sample() {
	local n=$1 lo=$((64 << 20)) len pat=zipf hs lines i
	len=$((${hot_mb[${gpat[$n]}]} << 20))
	if [ "${gpat[$n]}" = shift ]; then
		pat=uniform
		mapfile -t lines <"${glog[$n]}"
		for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
			[[ ${lines[i]} =~ ^t=.*\ hot=(0x[0-9a-f]+)- ]] && { lo=$((BASH_REMATCH[1])); break; }
		done
	fi
	hs=$("$hot_share" "${gpid[$n]}" "$pat" $((quota_mb << 20)) $((hva1[$n] + lo - (quota_mb << 20))) "$len" \
		"${hva0[$n]}" $((quota_mb << 20)) "${hva1[$n]}" $((slow_mb << 20))) &&
	[[ $hs =~ share=([^ ]+)\ oracle=([^ ]+).*dram_pages=([0-9]+)\ map=(.*) ]] &&
	printf '%s,0x%x,%d,%s,%s,%d\n' "$2" "$lo" $((len >> 20)) "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" \
		$((BASH_REMATCH[3] / 256)) && last_map[$n]=${BASH_REMATCH[4]}
}

# watch MODE NAME...: sample the guests about every second for $secs seconds
watch() {
	local mode=$1 t0 t ts pause n; shift
	for n in "$@"; do echo "t,hot_gpa,hot_mib,share,oracle,dram_mib" >"$out/$mode-${gpat[$n]}.csv"; done
	t0=${EPOCHREALTIME/./}
	while t=$(( (${EPOCHREALTIME/./} - t0) / 1000 )) && [ "$t" -le $((secs * 1000 + 500)) ]; do
		printf -v ts '%d.%03d' $((t / 1000)) $((t % 1000))
		for n in "$@"; do sample "$n" "$ts" >>"$out/$mode-${gpat[$n]}.csv"; done
		t=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
		printf -v pause '0.%03d' $((999 - t % 1000))
		sleep "$pause"
	done
}

# start_guest_for MODE PATTERN: the guest as MODE needs it, hot set on node 2
start_guest_for() {
	local n=$1-$2
	gpat[$n]=$2
	case "$1" in
	vmtierd*) libvirt_guest "$n" "$quota_mb" "$slow_mb" "${hot_mb[$2]}" "${append[$2]}" ;;
	nb2)	# NUMA balancing skips VMAs with a policy: cell 1 has none, and
		# its pages (first touched on node 0) are moved to node 2
		plain_guest "$n" "$quota_mb" "$slow_mb" none "${append[$2]}" &&
			bench_note "$n: cell 1 to node 2: $("$move_range" "${gpid[$n]}" "${hva1[$n]}" $((slow_mb << 20)) 2)" ;;
	*) plain_guest "$n" "$quota_mb" "$slow_mb" bind "${append[$2]}" ;;
	esac
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
		  if [ $i = 0 ]; then	# idle for 3 s, as vmtierd's demote_windows
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

mode_on() {
	case "$1" in
	static) ;;
	vmtierd) daemon_config "scanner=damon-vaddr
history_db=/var/lib/vmtier/history.db" && start_daemon ;;
	vmtierd-sd) daemon_config "scanner=soft-dirty
history_db=/var/lib/vmtier/history-sd.db" && start_daemon ;;
	vmtierd-damos) daemon_config "offload=damos
history_db=/var/lib/vmtier/history-damos.db" && start_daemon ;;
	nb2) echo true >/sys/kernel/mm/numa/demotion_enabled && echo 2 >/proc/sys/kernel/numa_balancing ;;
	damos) damos_on ;;
	esac
}
mode_off() {
	case "$1" in
	vmtierd*) "$vmtier" status --json >"$out/$1-$2-status.json" 2>&1
		  kill -TERM "$daemon"; wait "$daemon" ;;
	nb2) echo 0 >/proc/sys/kernel/numa_balancing; echo false >/sys/kernel/mm/numa/demotion_enabled
	     grep -E '^(pgpromote_success|pgdemote_kswapd|numa_hint_faults) ' /proc/vmstat | tr '\n' ' ' >&2; echo >&2 ;;
	damos) damos_off ;;
	esac
	return 0
}

# run MODE PATTERN...: the guests (one per pattern, together only for
# static, where nothing moves and CPU cannot matter), the mode, 60 s
run() {
	local mode=$1 p names=() dram n ok=1; shift
	for p in "$@"; do
		names+=("$mode-$p")
		start_guest_for "$mode" "$p" || { say "$mode $p: the guest did not start"; ok=; break; }
	done
	if [ -n "$ok" ] && [ "$mode" != static ]; then
		n=${names[0]}
		dram=$(sample "$n" 0) && dram=${dram##*,} && hold_dram $((quota_mb - dram)) ||
			{ say "$mode: cannot hold node 0's memory"; ok=; }
		bench_note "$mode: guest DRAM ${dram:-?} MiB; node 0 free $(( $(node_free_kib 0) / 1024 )) MiB (high watermarks $(( $(node_high_kib 0) / 1024 )) MiB)"
	fi
	if [ -n "$ok" ]; then
		if mode_on "$mode"; then
			watch "$mode" "${names[@]}"
			for n in "${names[@]}"; do
				say "$n: hot range on DRAM at the end, 2 MiB a character from its start (zipf: hottest first): ${last_map[$n]:-?}"
			done
		else
			say "$mode: cannot be set up in the test host (see the log)"
		fi
		mode_off "$mode" "${names[0]##*-}"
	fi
	release_dram
	for n in "${names[@]}"; do
		grep -qs 'errors=[1-9]' "${glog[$n]:-/dev/null}" && say "$n: THE GUEST SAW CORRUPTED MEMORY"
		stop_guest "$n"
	done
}

echo "kernel $(uname -r)" >&2
for mode in ${VMTIER_BENCH_MODES:-static vmtierd vmtierd-damos nb2 damos}; do
	case "$mode" in
	static) run static zipf shift ;;
	vmtierd|vmtierd-sd|vmtierd-damos|nb2|damos) for p in zipf shift; do run "$mode" "$p"; done ;;
	*) say "quality: unknown mode '$mode'" ;;
	esac
done
python3 "$bench/quality-summary.py" "$out" "$quota_mb" | tee -a "$summary"
