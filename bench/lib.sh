# Sourced by the bench scripts inside the test host (topology 'tiered') as
#   . lib.sh BUILD
# with $bench set to this folder: the build's tools, the tiering tests'
# helpers (libvirt guests, vmtierd with a test configuration), plain-QEMU
# guests with a chosen policy for their slow cell, a DRAM budget for modes
# without per-guest quotas, and per-process CPU and memory readings.
build=$(realpath "$1")
src=$(dirname "$bench")
move_bench=$build/bench/move-bench move_range=$build/bench/move-range
engine_bytes=$build/bench/engine-bytes hot_share=$build/bench/hot-share hold_mem=$build/bench/hold-mem
tlb_flusher=$build/bench/tlb-flusher
# tiering-lib.sh wants its own folder as $here
here=$src/tests/libvirt
. "$here/tiering-lib.sh" "$build/src/vmtier" "$build/src/vmtierd" \
	"$build/tests/guest/vmtier-guest.elf" "$build/tests/page-nodes"
here=$bench
tick=$(getconf CLK_TCK)
summary=$out/summary.txt

# say TEXT...: a result line, to stdout and the summary file
say() { echo "$*" | tee -a "$summary"; }
bench_note() { echo "$*" >&2; }

# cpu_s PID: user+system CPU seconds of PID so far (0 if it is gone)
cpu_s() {
	awk -v t="$tick" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null || echo 0
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
node_free_kib() { awk '/MemFree/ { print $4 }' "/sys/devices/system/node/node$1/meminfo"; }
# node_high_kib N: the high watermarks of node N's zones, summed
node_high_kib() {
	awk -v n="$1" '/^Node/ { on = ($2 == n ",") } on && $1 == "high" { s += $2 } END { print s * 4 }' /proc/zoneinfo
}

# hold_dram GRANT_MIB: lock all of node 0's free memory but GRANT_MIB (plus
# its high watermarks, which the kernel keeps free anyway) in processes bound
# to node 0 (HOLD_PIDS); a few rounds, as memory others free meanwhile counts
HOLD_PIDS=()
hold_dram() {
	local mib i
	for i in 1 2 3 4 5; do
		mib=$(( ($(node_free_kib 0) - $(node_high_kib 0)) / 1024 - $1 ))
		[ "$mib" -gt 1 ] || return 0
		numactl --membind=0 "$hold_mem" "$mib" >/tmp/hold.log 2>&1 &
		HOLD_PIDS+=($!)
		for _ in $(seq 300); do grep -q '^held' /tmp/hold.log && break; sleep 0.1; done
		grep -q '^held' /tmp/hold.log || { bench_note "hold-mem $mib MiB: $(cat /tmp/hold.log)"; return 1; }
		sleep 1
	done
}
release_dram() {
	[ ${#HOLD_PIDS[@]} -gt 0 ] && kill "${HOLD_PIDS[@]}" && wait "${HOLD_PIDS[@]}" 2>/dev/null
	HOLD_PIDS=()
}

# plain_guest NAME CELL0_MB CELL1_MB CELL1_POLICY APPEND: tests/guest under
# plain QEMU on CPU 0 (so the kernel's NUMA balancing promotes to node 0),
# in the cgroup vmtbench (DAMOS filters by it), cell 0 bound to node 0 and
# cell 1 bound to node 2 (CELL1_POLICY bind) or with no policy (none).
# Sets gpid[NAME], glog[NAME], hva0[NAME], hva1[NAME] once it runs its hot set.
declare -A gpid glog
plain_guest() {
	local name=$1 m1="memory-backend-ram,id=m1,size=$3M" j
	[ "$4" = bind ] && m1+=",host-nodes=2,policy=bind"
	mkdir -p /sys/fs/cgroup/vmtbench
	glog[$name]=/tmp/$name.log
	rm -f "${glog[$name]}" "/tmp/$name.qmp"
	(echo "$BASHPID" >/sys/fs/cgroup/vmtbench/cgroup.procs
	 exec taskset -c 0 qemu-system-x86_64 -accel tcg -nodefaults -display none -no-reboot \
		-m $(($2 + $3))M -smp 1 \
		-object "memory-backend-ram,id=m0,size=$2M,host-nodes=0,policy=bind" -object "$m1" \
		-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,memdev=m1 \
		-kernel "$elf" -append "$5" -debugcon "file:${glog[$name]}" \
		-qmp "unix:/tmp/$name.qmp,server=on,wait=off" </dev/null >/dev/null 2>&1) &
	gpid[$name]=$!
	for _ in $(seq 1200); do grep -q '^t=1 ' "${glog[$name]}" 2>/dev/null && break; sleep 0.1; done
	grep -q '^t=1 ' "${glog[$name]}" 2>/dev/null || { bench_note "$name did not start: $(cat "${glog[$name]}")"; return 1; }
	j=$("$vmtier" memmap --qmp "/tmp/$name.qmp" --pid "${gpid[$name]}" --json) || return 1
	hva0[$name]=$(python3 -c 'import json,sys; print([r["hva"] for r in json.loads(sys.argv[1])["ram"] if r["guest_node"] == 0][0])' "$j")
	hva1[$name]=$(python3 -c 'import json,sys; print([r["hva"] for r in json.loads(sys.argv[1])["ram"] if r["guest_node"] == 1][0])' "$j")
}

# libvirt_guest NAME DRAM_MB PMEM_MB HOT_MB APPEND: a budget vmtier guest
# (vmtier define) on CPU 0; sets the same as plain_guest
libvirt_guest() {
	start_guest "$1" budget "$2" "$3" "$4" 0 "$5" || return 1
	glog[$1]=$out/$1.log
	waitlog "$1" '^t=1 ' || { bench_note "$1 did not start: $(cat "${glog[$1]}")"; return 1; }
	track "$1" "$2" "$4" || return 1
	gpid[$1]=${pid[$1]}
	# CPU 0 (node 0, as the plain guests), and CPU 1 too: vmtierd's TLB
	# flush moves the vCPU thread between the CPUs it may run on (a vCPU
	# pinned to one CPU leaves its sensor blind, and status says so)
	taskset -a -p -c 0,1 "${gpid[$1]}" >/dev/null
}
stop_guest() {
	if virsh dominfo "$1" >/dev/null 2>&1; then
		virsh destroy "$1" >/dev/null 2>&1; "$vmtier" undefine "$1" >/dev/null
	else
		[ -n "${gpid[$1]:-}" ] && kill "${gpid[$1]}" 2>/dev/null && wait "${gpid[$1]}" 2>/dev/null
	fi
	return 0
}
