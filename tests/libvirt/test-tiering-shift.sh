#!/bin/bash
# test-tiering-shift.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES: inside the test
# host (topology 'tiered'), vmtierd with DAMON and one budget guest whose
# 16 MiB hot set moves on by 16 MiB every 25 s: each new hot range reaches
# DRAM, the old one is demoted, DRAM stays within the quota, and no chunk
# moves back and forth more than the shifts explain.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$@"
echo 0 >/proc/sys/kernel/numa_balancing
tap_check "a private libvirtd starts" libvirtd_start
# the guest walks its hot range from GPA 192M upwards, 16 MiB per shift
tap_check "guest sh starts (shifting hot set)" start_guest sh budget 32 480 16 0 "pattern=shift shift=25"
tap_check "it fills its memory and runs" waitlog sh '^t=1 '
track sh 32 16
mkdir -p /var/lib/vmtier
daemon_config "scanner=damon-vaddr
history_db=/var/lib/vmtier/history.db"
tap_check "vmtierd starts" start_daemon

# range K's pages on node N (range 0 starts at GPA 192M)
range_on() { count "$("$page_nodes" "${pid[sh]}" $((hva1[sh] + (192 - 32 + 16 * $1) * mib)) $((16 * mib)))" "$2"; }
hot_now() { tail -1 "$out/sh.log" | sed -n 's/.* hot=\(0x[0-9a-f]*\)-.*/\1/p'; }
maxd=0
for k in 0 1 2; do
	# wait for the guest to be in range k
	want=$(printf '0x%08x' $(((192 + 16 * k) * mib)))
	for _ in $(seq 300); do [ "$(hot_now)" = "$want" ] && break; sleep 0.2; done
	t0=$(now) got=
	while [ $(($(now) - t0)) -lt 22 ]; do
		sleep 1
		d=$(dram_pages sh); [ "$d" -gt "$maxd" ] && maxd=$d
		[ "$(range_on $k 0)" -ge $((4096 * 9 / 10)) ] && got=$(($(now) - t0)) && break
	done
	tap_check "hot range $k (GPA $((192 + 16 * k))M) reached DRAM within 22 s of becoming hot (${got:-never} s)" test -n "$got"
done
# the guest is in range 2 now: range 0 has been idle for about 25 s
tap_check "the first hot range, idle since, was demoted (on DRAM: $(range_on 0 0) of 4096 pages)" \
	test "$(range_on 0 0)" -le $((4096 / 10))
tap_check "DRAM stayed within the 32 MiB quota + 2 chunks (max $((maxd / 256)) MiB)" test "$maxd" -le $(((32 + 4) * 256))
s=$("$vmtier" status sh --json)
tap_diag "$s"
tap_check "no chunk moved more than 4 times over 3 shifts (ping-pong)" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["max_chunk_moves"] <= 4, v["max_chunk_moves"]' "$s"
tap_check "no corrupted word seen by the guest" test "$(grep -c 'errors=[1-9]' "$out/sh.log")" -eq 0
kill -TERM "$daemon"; wait "$daemon"
tap_done
