# Sourced by the tiering tests inside the test host (topology 'tiered') as
#   . tiering-lib.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES
# with $here set: vmtier guests under a private libvirtd, their hot sets'
# placement as ground truth, vmtierd with a test configuration.
. "$here/../tap.sh"
. "$here/libvirtd-start.sh"
vmtier=$(realpath "$1") vmtierd=$(realpath "$2") elf=$(realpath "$3") page_nodes=$(realpath "$4")
export VMTIER_TEMPLATE_DIR=$here/../../xml-templates
export VMTIER_SOCKET=/run/vmtier/vmtierd.sock
[ "${VMTIER_TOPOLOGY:-}" = tiered ] || tap_bail "needs topology tiered"
out=${VMTIER_OUT:-/tmp}
mib=$((1024 * 1024))
virsh() { command virsh -q -c qemu:///system "$@"; }
now() { date +%s; }

# start_guest NAME CLASS DRAM_MB PMEM_MB HOT_MB TIME [EXTRA_APPEND]: guest
# RAM is cell 0 (GPA 0-DRAM) on node 0 and cell 1 on node 2 (on
# $guest_nodes, DRAM,SLOW, if set); the guest fills 20M..276M and hits
# HOT_MB at GPA 192M (in cell 1) at random
start_guest() {
	local nodes=(--dram-nodes 0)
	[ -n "${guest_nodes:-}" ] && nodes=(--dram-nodes "${guest_nodes%,*}" --pmem-nodes "${guest_nodes#*,}")
	"$vmtier" define "$1" --class "$2" --tenant acme --dram "$3M" --pmem "$4M" "${nodes[@]}" \
		--virt-type qemu --kernel "$elf" \
		--append "base=20M mem=256M hot=$5M hot_off=192M time=$6 ${7:-}" >/dev/null || return 1
	# QEMU (libvirt-qemu, confined) writes its debug console where
	# libvirtd-start.sh lets it; $out/NAME.log leads there
	mkdir -p /tmp/vmtier-guests && ln -sfn "/tmp/vmtier-guests/$1.log" "$out/$1.log"
	virsh dumpxml "$1" | sed "s|</qemu:commandline>|<qemu:arg value='-debugcon'/><qemu:arg value='file:/tmp/vmtier-guests/$1.log'/></qemu:commandline>|" >"/tmp/$1.xml"
	virsh define "/tmp/$1.xml" >/dev/null && virsh start "$1" >/dev/null
}
declare -A pid hva0 hva1 dram_mb hot_mb
# track NAME DRAM_MB HOT_MB: remember the guest's QEMU pid and RAM addresses
track() {
	local j
	pid[$1]=$(cat "/run/libvirt/qemu/$1.pid") dram_mb[$1]=$2 hot_mb[$1]=$3
	j=$("$vmtier" memmap "$1" --json) || return 1
	hva0[$1]=$(python3 -c 'import json,sys; print([r["hva"] for r in json.loads(sys.argv[1])["ram"] if r["guest_node"] == 0][0])' "$j")
	hva1[$1]=$(python3 -c 'import json,sys; print([r["hva"] for r in json.loads(sys.argv[1])["ram"] if r["guest_node"] == 1][0])' "$j")
}
count() { sed -n "s/.*node$2=\([0-9]*\).*/\1/p" <<<"$1" | grep . || echo 0; }
hot_on() {	# NAME NODE: pages of the hot set on NODE
	count "$("$page_nodes" "${pid[$1]}" $((hva1[$1] + (192 - ${dram_mb[$1]}) * mib)) $((hot_mb[$1] * mib)))" "$2"
}
dram_pages() { ram_on "$1" 0 1; }	# NAME: the guest's RAM pages on DRAM nodes 0-1
# ram_on NAME NODE...: the guest's RAM pages (both cells) on these nodes
ram_on() {
	local n=$1 a b sum=0 node
	a=$("$page_nodes" "${pid[$n]}" "${hva0[$n]}" $((dram_mb[$n] * mib)))
	b=$("$page_nodes" "${pid[$n]}" "${hva1[$n]}" $(((512 - dram_mb[$n]) * mib)))
	for node in "${@:2}"; do sum=$((sum + $(count "$a" "$node") + $(count "$b" "$node"))); done
	echo $sum
}
# guest_stop NAME: "STOP" into the mailbox of a guest started with stop=16M
# (GPA 16M, in cell 0), through its QEMU's memory: the guest verifies every
# page it filled and halts, when the test is done with it (a time= would
# guess how long the test takes, and end too early on a slow machine)
guest_stop() {
	python3 -c 'import sys
with open("/proc/%s/mem" % sys.argv[1], "r+b", buffering=0) as f:
    f.seek(int(sys.argv[2]))
    f.write(b"STOP")' "${pid[$1]}" $((hva0[$1] + 16 * mib))
}
# status_says NAME PATTERN TRIES: until NAME's `vmtier status --json`
# matches PATTERN (grep), TRIES times 0.2 s at most
status_says() {
	for _ in $(seq "$3"); do
		"$vmtier" status "$1" --json 2>/dev/null | grep -q "$2" && return 0
		sleep 0.2
	done
	return 1
}
waitlog() { for _ in $(seq 600); do grep -q "$2" "$out/$1.log" 2>/dev/null && return 0; sleep 0.2; done; return 1; }
# daemon_config [EXTRA_LINES]: $vmtierd_conf (/tmp/vmtierd.conf unless
# set) with 1 s windows, the
# metrics in $metrics_file (default $out/vmtier.prom), and the shipped
# classes with a warm-up grace of $slo_grace_s (20 s unless set; not 300 s:
# a test lasts minutes)
daemon_config() {
	# classes of its own: two daemons' (test-fleet.sh) must not rewrite
	# the files the other reads
	local classes=/tmp/vmtier-classes
	[ -n "${vmtierd_conf:-}" ] && classes=$vmtierd_conf.classes
	mkdir -p "$classes"
	for c in "$VMTIER_TEMPLATE_DIR"/classes/*.conf; do
		sed "s/^slo_grace_s=.*/slo_grace_s=${slo_grace_s:-20}/" "$c" >"$classes/${c##*/}"
	done
	cat >"${vmtierd_conf:-/tmp/vmtierd.conf}" <<CONF
[daemon]
socket=$VMTIER_SOCKET
metrics_file=${metrics_file:-$out/vmtier.prom}
class_dir=$classes
scan_interval_ms=1000
min_interval_ms=1000
max_interval_ms=1000
discover_interval_s=1
account_interval_s=2
${1:-}
CONF
}
start_daemon() {
	# VMTIER_DAEMON_ARGS: more options (the bench's --debug logs every reading)
	"$vmtierd" --config "${vmtierd_conf:-/tmp/vmtierd.conf}" ${VMTIER_DAEMON_ARGS:-} >>"$out/vmtierd.log" 2>&1 &
	daemon=$!
	# (each vmtier run takes seconds on a loaded machine: stop if it died)
	for _ in $(seq 50); do
		"$vmtier" status >/dev/null 2>&1 && return 0
		kill -0 $daemon 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# converge NAME SECONDS: wait until 90% of NAME's hot set is on node 0;
# sets reached (seconds) and maxd (most DRAM pages seen), checks every second
converge() {
	local t0 d h
	t0=$(now) reached= maxd=0
	while [ $(($(now) - t0)) -lt "$2" ]; do
		sleep 1
		d=$(dram_pages "$1"); [ "$d" -gt "$maxd" ] && maxd=$d
		h=$(hot_on "$1" 0)
		if [ "$h" -ge $((hot_mb[$1] * 256 * 9 / 10)) ]; then
			reached=$(($(now) - t0))
			return 0
		fi
	done
	return 1
}
# offload_setup: the kernel moves no page on its own (no NUMA balancing, no
# demotion); libvirt's default cgroups give each guest a memory cgroup of its
# own: what DAMOS's memcg filter tells guests apart by (offload=damos)
offload_setup() {
	echo 0 >/proc/sys/kernel/numa_balancing
	echo false >/sys/kernel/mm/numa/demotion_enabled
	tap_check "a private libvirtd starts" libvirtd_start
}

# damon_diag: what kdamond 0 is doing, for a failure's diagnostics: its
# intervals, its CPU time and its scheme's applications over 3 s
damon_diag() {
	local k=/sys/kernel/mm/damon/admin/kdamonds/0 c pid t0 t1 s0 s1
	c=$k/contexts/0
	pid=$(cat $k/pid 2>/dev/null)
	tap_diag "kdamond 0: state $(cat $k/state) pid $pid sample_us $(cat $c/monitoring_attrs/intervals/sample_us) aggr_us $(cat $c/monitoring_attrs/intervals/aggr_us) update_us $(cat $c/monitoring_attrs/intervals/update_us) targets $(cat $c/targets/nr_targets) regions $(cat $c/targets/*/regions/nr_regions | tr '\n' ' ')"
	[ -n "$pid" ] || return 0
	t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
	for _ in $(seq 20); do echo update_schemes_stats >$k/state 2>/dev/null && break; sleep 0.1; done
	s0=$(cat $c/schemes/0/stats/nr_tried)
	sleep 3
	t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
	for _ in $(seq 20); do echo update_schemes_stats >$k/state 2>/dev/null && break; sleep 0.1; done
	s1=$(cat $c/schemes/0/stats/nr_tried)
	tap_diag "kdamond 0 in 3 s: $((t1 - t0)) ticks of CPU, scheme 0 tried $((s1 - s0)) regions; tried_regions now $(ls $c/schemes/0/tried_regions | grep -c '^[0-9]'), total_bytes $(cat $c/schemes/0/tried_regions/total_bytes)"
	tap_diag "$(grep -i 'DAMON' "$out/vmtierd.log" | tail -15)"
	tap_diag "$(top -b -n 1 | head -20)"
}
