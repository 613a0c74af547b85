# Shell helpers to run tests/guest under QEMU with two guest NUMA nodes whose
# RAM backends are bound to chosen host nodes, and to find the host virtual
# address of a guest-physical address from the QEMU process's maps.
#
# guest_start ELF NODE0_MB HOST0 NODE1_MB HOST1 LOG APPEND...
#   starts QEMU (TCG) in the background; sets GUEST_PID.
guest_start() {
	local elf=$1 mb0=$2 h0=$3 mb1=$4 h1=$5 log=$6; shift 6
	qemu-system-x86_64 -accel tcg -nodefaults -display none -no-reboot \
		-m $((mb0 + mb1))M -smp 1 \
		-object memory-backend-ram,id=m0,size=${mb0}M,host-nodes=$h0,policy=bind \
		-object memory-backend-ram,id=m1,size=${mb1}M,host-nodes=$h1,policy=bind \
		-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,memdev=m1 \
		-kernel "$elf" -append "$*" \
		-debugcon "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=4 \
		</dev/null &
	GUEST_PID=$!
}

# guest_wait_line LOG REGEX SECONDS: wait until LOG has a line matching REGEX
guest_wait_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$GUEST_PID" 2>/dev/null || { grep -qE "$2" "$1" 2>/dev/null; return; }
		sleep 0.1
	done
	return 1
}

# vma_of_size PID MB: start address (hex, 0x...) of the one mapping of exactly
# MB MiB; QEMU maps each memory backend as its own VMA.
vma_of_size() {
	local want=$(($2 * 1024 * 1024)) lo hi n=0 found=
	while read -r range _; do
		lo=$((16#${range%-*})) hi=$((16#${range#*-}))
		if [ $((hi - lo)) -eq "$want" ]; then
			found=$(printf '0x%x' "$lo"); n=$((n + 1))
		fi
	done <"/proc/$1/maps"
	[ "$n" -eq 1 ] && echo "$found"
}

# numa_policy PID ADDR: the policy column of /proc/PID/numa_maps for ADDR's VMA
numa_policy() {
	awk -v a="${2#0x}" '$1 == a { print $2 }' "/proc/$1/numa_maps"
}
