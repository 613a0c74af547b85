# Sourced inside the test host (by stage2) after the topology's variables.
# Turns the emulated NVDIMMs into the topology's PMEM state with the real
# tools (ndctl, daxctl), as an operator would.
topology_setup() {
	set -e
	local i ns
	for i in $(seq 50); do
		ls /sys/bus/nd/devices/namespace*.0 >/dev/null 2>&1 && break
		sleep 0.1
	done
	[ "$TB_PMEM_MODE" = none ] && return 0
	# daxctl onlines blocks itself; kernel auto-onlining would race it
	echo offline >/sys/devices/system/memory/auto_online_blocks
	for ns in /sys/bus/nd/devices/namespace*.0; do
		ndctl create-namespace -f -e "$(basename "$ns")" --mode=devdax --map=mem >/dev/null
	done
	case "$TB_PMEM_MODE" in
	devdax) ;;
	normal) daxctl reconfigure-device --mode=system-ram --no-movable all >/dev/null ;;
	movable) daxctl reconfigure-device --mode=system-ram all >/dev/null ;;
	offline) daxctl reconfigure-device --mode=system-ram --no-online all >/dev/null ;;
	*) echo "unknown TB_PMEM_MODE $TB_PMEM_MODE"; return 1 ;;
	esac
	set +e
}
