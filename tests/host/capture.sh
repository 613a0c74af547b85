#!/bin/bash
# capture.sh DIR: copy the parts of /sys and /proc that vmtier's host layer
# reads into DIR (same paths below DIR), as plain files and the same
# symlinks, so unit tests can point VMTIER_HOST_ROOT at them.  Read-only.
set -eu
out=$1
mkdir -p "$out"

present() {	# an existing directory; git keeps no empty ones, so mark it
	mkdir -p "$out$1" && : >"$out$1/.present"
}
file() {	# copy one readable file's contents
	[ -r "$1" ] || return 0
	mkdir -p "$out$(dirname "$1")"
	cat "$1" >"$out$1" 2>/dev/null || rm -f "$out$1"
}
link() {	# copy a symlink as-is (targets are relative inside sysfs)
	[ -L "$1" ] || return 0
	mkdir -p "$out$(dirname "$1")"
	ln -sfn "$(readlink "$1")" "$out$1"
}

n=/sys/devices/system/node
for f in online possible has_cpu has_memory has_normal_memory; do file $n/$f; done
for d in $n/node[0-9]*; do
	for f in cpulist distance meminfo; do file "$d/$f"; done
	for m in "$d"/memory[0-9]*; do link "$m"; done
	for a in "$d"/access[01]; do
		[ -d "$a" ] || continue
		for f in read_latency write_latency read_bandwidth write_bandwidth; do file "$a/initiators/$f"; done
		for i in "$a"/initiators/node*; do link "$i"; done
	done
done
m=/sys/devices/system/memory
file $m/block_size_bytes
file $m/auto_online_blocks
for b in $m/memory[0-9]*; do
	for f in state valid_zones phys_index; do file "$b/$f"; done
done
for t in /sys/devices/virtual/memory_tiering/memory_tier*; do file "$t/nodelist"; done

for d in /sys/bus/dax/devices/*; do
	[ -e "$d" ] || continue
	link "$d"
	r=$(realpath "$d")
	for f in size target_node numa_node align resource; do file "$r/$f"; done
	link "$r/driver"
	for f in id size align; do file "$(dirname "$r")/dax_region/$f"; done
done
for d in /sys/bus/dax/drivers/*; do [ -d "$d" ] && present "$d"; done
for mod in kmem device_dax dax_pmem dax_pmem_compat dax_hmem; do
	[ -d /sys/module/$mod ] && present "/sys/module/$mod"
done
[ -d /sys/class/dax ] && present /sys/class/dax

file /proc/sys/kernel/numa_balancing
file /sys/kernel/mm/numa/demotion_enabled
[ -e /sys/kernel/mm/page_idle/bitmap ] && { mkdir -p "$out/sys/kernel/mm/page_idle"; : >"$out/sys/kernel/mm/page_idle/bitmap"; }
k=/sys/kernel/mm/damon/admin/kdamonds
if [ -d $k ]; then
	file $k/nr_kdamonds
	for d in $k/[0-9]*; do
		[ -d "$d" ] || continue
		file "$d/state"; file "$d/pid"
		for c in "$d"/contexts/[0-9]*; do file "$c/operations"; file "$c/avail_operations"; done
	done
fi
# kallsyms: only the DAMON symbols (what the probes look for), addresses zeroed
mkdir -p "$out/proc"
grep -E ' damon_' /proc/kallsyms | sed 's/^[0-9a-f]*/0000000000000000/' >"$out/proc/kallsyms" || true
# soft-dirty shows as "sd" in VmFlags when the kernel has it
mkdir -p "$out/proc/self"
grep -m1 '^VmFlags:' /proc/self/smaps >"$out/proc/self/smaps" || true
file /proc/self/idle_pages 2>/dev/null || true
uname -r >"$out/KERNEL"
