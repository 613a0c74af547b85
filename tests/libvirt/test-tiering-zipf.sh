#!/bin/bash
# test-tiering-zipf.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES HOT_SHARE: inside
# the test host (topology 'tiered'), a budget guest with a 32 MiB DRAM
# quota runs a zipf-skewed 128 MiB hot set (page floor(u^3 N): the hottest
# 32 MiB take 63% of the accesses) on PMEM node 2, vmtierd with DAMON and
# its TLB flusher.  Ground truth (bench/hot-share: where every hot page is,
# weighted by the guest's access distribution) must reach 0.9 of an oracle
# with the same 32 MiB while DRAM stays within the quota (+2 chunks);
# status's DRAM access share must never claim more than ground truth (+0.1)
# and says "unknown" rather than guess from saturated readings; with
# the vCPU pinned to one CPU status must call its sensor blind and show no
# access figures; the guest's memory stays intact.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$1" "$2" "$3" "$4"
hot_share=$(realpath "$5")
echo 0 >/proc/sys/kernel/numa_balancing
tap_check "a private libvirtd starts" libvirtd_start
quota=32
# cell 1 starts at GPA 32M: the hot range GPA 64M..192M is cell 1 + 32M
tap_check "guest tz starts" start_guest tz budget $quota 256 128 0 "pattern=zipf base=64M mem=128M hot_off=64M"
tap_check "tz filled its memory and runs its hot set" waitlog tz '^t=1 '
track tz $quota 128
# the vCPU may run on both CPUs: moving it between them is the TLB flush
virsh vcpupin tz 0 0-1 >/dev/null
truth() {	# share oracle dram_pages
	local hs
	hs=$("$hot_share" "${pid[tz]}" zipf $((quota * mib)) $((hva1[tz] + 32 * mib)) $((128 * mib)) \
		"${hva0[tz]}" $((quota * mib)) "${hva1[tz]}" $((256 * mib))) &&
	[[ $hs =~ share=([^ ]+)\ oracle=([^ ]+).*dram_pages=([0-9]+).*map=(.*) ]] &&
	echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]}"
}
read -r s0 oracle _ <<<"$(truth)"
tap_diag "before vmtierd: DRAM serves $s0 of tz's accesses (oracle $oracle)"

mkdir -p /var/lib/vmtier
daemon_config "scanner=damon-vaddr
history_db=/var/lib/vmtier/history-zipf.db"
tap_check "vmtierd starts" start_daemon

# every 2 s: ground truth and status side by side, until 0.9 of the oracle
# has held for 10 s (or 180 s pass)
t0=$(now) reached= held=0 maxd=0 diffs=() unknown=0
while [ $(($(now) - t0)) -lt 180 ]; do
	sleep 2
	read -r share oracle dram map <<<"$(truth)" || continue
	j=$("$vmtier" status tz --json)
	rep=$(python3 -c 'import json,sys; v=json.loads(sys.argv[1])["vms"][0]; print(v["sensor"], v["dram_access_share"], v["sample_us"], "unknown" if v.get("share_note") else "")' "$j")
	[ "$dram" -gt "$maxd" ] && maxd=$dram
	ratio=$(python3 -c "print(round($share / $oracle, 3))")
	tap_diag "t=$(($(now) - t0)) truth=$share ratio=$ratio dram=$((dram / 256))MiB status(sensor share sample_us)=$rep map=$map"
	if python3 -c "import sys; sys.exit(0 if $ratio >= 0.9 else 1)"; then
		[ -z "$reached" ] && reached=$(($(now) - t0))
		set -- $rep
		[ "$2" != None ] && diffs+=("$(python3 -c "print($2 - $share)")")
		[ "${4:-}" = unknown ] && unknown=$((unknown + 1))
		held=$((held + 2))
		[ $held -ge 10 ] && break
	else
		held=0 diffs=() unknown=0
	fi
done
tap_check "tz: DRAM serves >= 0.9 of the oracle's share within its quota (first after ${reached:-never} s, held ${held} s)" \
	test "$held" -ge 10
tap_check "tz: its DRAM stayed within its $quota MiB quota + 2 chunks (max $((maxd / 256)) MiB)" \
	test "$maxd" -le $(((quota + 4) * 256))
# A share status gives must not claim more than DRAM really serves (the
# report grading itself); saturated readings must give none, saying why.
# Agreement within 0.1 both ways is not met yet: with THP-backed guest RAM
# one accessed bit covers a 2 MiB chunk, readings compress rates and a
# share status does give reads 0.1-0.5 low (bench/README.md); the
# differences are printed here.
tap_diag "status minus ground truth while at the oracle: ${diffs[*]:-none given}; said unknown (with why) $unknown times"
tap_check "status's DRAM access share never claims more than ground truth + 0.1, and is unknown (saying why) rather than a guess when readings saturate" \
	python3 -c 'import sys; d=[float(x) for x in sys.argv[2:]]; sys.exit(0 if (d or int(sys.argv[1]) > 0) and all(x <= 0.1 for x in d) else 1)' "$unknown" "${diffs[@]}"
"$vmtier" status | sed 's/^/# /'

# pinned to one CPU, the vCPU cannot be flushed: status must say so.  Pinned
# as operators pin, through libvirt: with its cgroups (the default) that is
# the vCPU cgroup's cpuset, which no sched_setaffinity overrides.  A taskset
# landing while the flusher moves that very thread can be undone by the
# mask the flusher gives back (sched_setaffinity has no compare-and-swap):
# README, "The TLB flusher"
virsh vcpupin tz 0 0 >/dev/null
blind=
for _ in $(seq 30); do
	sleep 1
	j=$("$vmtier" status tz --json)
	python3 -c 'import json,sys; v=json.loads(sys.argv[1])["vms"][0]; sys.exit(0 if v["sensor"] == "blind" and v["dram_access_share"] is None and v["hot_coverage"] is None and "pinned" in v["sensor_note"] else 1)' "$j" && blind=1 && break
done
tap_check "vCPU pinned: status calls the sensor blind, says why, and shows no access figures" test -n "$blind"
tap_diag "$("$vmtier" status | grep -i sensor)"
tap_check "the status table says the sensor is blind" bash -c "'$vmtier' status | grep -q 'tz: sensor blind'"
virsh vcpupin tz 0 0-1 >/dev/null

tap_check "tz saw no corrupted word while its pages moved" test "$(grep -c 'errors=[1-9]' "$out/tz.log")" -eq 0
kill -TERM "$daemon"; wait "$daemon"
tap_check "vmtierd stops cleanly" test $? -eq 0
virsh destroy tz >/dev/null 2>&1
tap_diag "$(grep -E 'sample interval|tz' "$out/vmtierd.log" | tail -20)"
tap_done
