#!/bin/bash
# test-guest.sh ELF: tests/guest under TCG on this machine: access patterns,
# the once-a-second report, the exit status, bad parameters, and detection of
# memory corrupted from outside the guest.
set -u
here=$(dirname "$0")
. "$here/../tap.sh"
elf=$1
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT

run() {	# run LOG MEM_MB APPEND... -> QEMU's exit status
	local log=$1 mb=$2; shift 2
	timeout 120 qemu-system-x86_64 -accel tcg -nodefaults -display none -no-reboot \
		-m "${mb}M" -kernel "$elf" -append "$*" -debugcon "file:$log" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null
}

run "$dir/u" 64 mem=32M hot=8M hot_off=24M time=2; rc=$?
tap_diag "$(cat "$dir/u")"
tap_check "uniform: exits 'intact' (QEMU status 1)" test $rc -eq 1
tap_check "uniform: one report line per second with the hot range asked for" \
	test "$(grep -c '^t=[12] accesses=[1-9][0-9]* hot=0x01800000-0x02000000 errors=0$' "$dir/u")" -eq 2
tap_check "uniform: final line says intact" grep -q 'result=intact$' "$dir/u"

run "$dir/z" 64 mem=32M hot=8M pattern=zipf write=0 time=1; rc=$?
tap_check "zipf: runs and exits intact" test $rc -eq 1
tap_check "zipf: default hot_off is the region's base" grep -q '^t=1 .*hot=0x01000000-0x01800000' "$dir/z"

run "$dir/z6" 64 mem=32M hot=8M pattern=zipf skew=6 write=0 time=1; rc=$?
tap_check "zipf skew=6: runs, exits intact and says its skew" \
	test $rc -eq 1 -a "$(grep -c 'pattern=zipf skew=6 write=0%' "$dir/z6")" -eq 1

run "$dir/t" 64 mem=32M hot=4M hot2=12M hot2_off=36M ratio=4 pattern=two time=1; rc=$?
tap_diag "$(head -1 "$dir/t")"
tap_check "two: runs, exits intact and names both ranges and the ratio" \
	test $rc -eq 1 -a "$(grep -c 'hot=0x01000000-0x01400000 pattern=two hot2=0x02400000-0x03000000 ratio=4 ' "$dir/t")" -eq 1

run "$dir/s" 64 mem=32M hot=8M pattern=shift shift=1 time=5 write=50; rc=$?
tap_diag "$(grep '^t=' "$dir/s")"
tap_check "shift: exits intact" test $rc -eq 1
ranges=$(grep -o 'hot=[^ ]*' "$dir/s" | sort -u | wc -l)
tap_check "shift: the hot range moves every second and wraps (4 distinct ranges)" test "$ranges" -eq 4
tap_check "shift: after the region's end it wraps to the base" \
	grep -q '^t=4 .*hot=0x01000000-0x01800000' "$dir/s"

# rate=N: N accesses a second in bursts, the CPU halted in between (its
# RTC interrupts work: a halted CPU with none would never report again);
# rate=0 idles
run "$dir/r" 64 mem=32M hot=8M time=3 rate=1000; rc=$?
tap_diag "$(cat "$dir/r")"
tap_check "rate=1000: exits intact and says its rate" \
	test $rc -eq 1 -a "$(grep -c 'time=3s rate=1000$' "$dir/r")" -eq 1
acc=$(sed -n 's/^vmtier-guest: done accesses=\([0-9]*\) .*result=intact$/\1/p' "$dir/r")
tap_check "rate=1000: three reports, 1000 to 4000 accesses in 3 s (${acc:-none})" \
	test "$(grep -c '^t=' "$dir/r")" -eq 3 -a "${acc:-0}" -ge 1000 -a "${acc:-0}" -le 4000
run "$dir/i" 64 mem=32M hot=8M time=2 rate=0; rc=$?
tap_check "rate=0: idles, reports every second, exits intact" \
	test $rc -eq 1 -a "$(grep -c '^t=[12] accesses=0 ' "$dir/i")" -eq 2

# each bad value: status 5, one error line, and the line names the value
# each line: the parameters, then the text the error must name (its last word)
while read -r line; do
	bad=${line% *} want=${line##* }
	run "$dir/b" 64 "$bad"; rc=$?
	tap_diag "$bad: $(cat "$dir/b")"
	tap_check "bad parameter '$bad': exit status 5 and one error line naming '$want'" \
		test $rc -eq 5 -a "$(grep -c '^vmtier-guest: error: ' "$dir/b")" -eq 1 -a \
		"$(grep -cF -- "$want" "$dir/b")" -eq 1
done <<'LIST'
mem=12Q 12Q
pattern=sideways sideways
hot=64M 0x01000000-0x05000000
base=0x1001 0x00001001
colour=red colour=red
mem=2G 0x01000000-0x81000000
skew=9 skew
pattern=two_ two_
pattern=two mem=32M hot2=4M hot2_off=40M ratio=0 ratio
pattern=two mem=32M hot2=4M hot2_off=18M 0x01200000-0x01600000
pattern=two mem=32M hot2=4M hot2_off=60M 0x03c00000-0x04000000
rate=20000000 20000000
stop=20M 0x01400000-0x01401000
LIST

# shared LOG APPEND WORD OFFSET: the guest with its RAM in a shared file
# ($dir/ram, 64M), and WORD written at OFFSET of it (the guest-physical
# address) once the guest reports its first second -> QEMU's exit status
shared() {
	local pid mem=$dir/ram
	rm -f "$mem"; truncate -s 64M "$mem"
	timeout 120 qemu-system-x86_64 -accel tcg -nodefaults -display none -no-reboot -m 64M \
		-object memory-backend-file,id=m,size=64M,mem-path="$mem",share=on \
		-machine memory-backend=m -kernel "$elf" -append "$2" \
		-debugcon "file:$1" -device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null &
	pid=$!
	for _ in $(seq 100); do grep -q '^t=1 ' "$1" 2>/dev/null && break; sleep 0.1; done
	# one aligned word in one write
	printf '%s' "$3" | dd of="$mem" bs=4 count=1 seek=$(($4 / 4)) conv=notrunc status=none
	wait $pid
}

# Corrupt guest RAM from outside: the guest must notice, name the address
# (exactly one bad one), and exit 'corrupt'.
shared "$dir/c" "mem=32M base=16M hot=4M hot_off=16M time=3" XXXX $((17 * 1024 * 1024 + 64)); rc=$?
tap_diag "$(tail -2 "$dir/c")"
tap_check "corruption: exits 'corrupt' (QEMU status 3)" test $rc -eq 3
tap_check "corruption: reports the first bad address" grep -q 'first_bad=0x01100040 result=corrupt' "$dir/c"

# stop=ADDR: the host writes "STOP" into the mailbox and the guest ends
# long before its time=, verified intact
shared "$dir/p" "mem=32M base=16M hot=4M time=100 stop=8M" STOP $((8 * 1024 * 1024)); rc=$?
tap_diag "$(tail -2 "$dir/p")"
tap_check "stop=8M: the guest ends when the host writes STOP, well before time=100, intact" \
	test $rc -eq 1 -a "$(grep -c '^vmtier-guest: stopped by the host$' "$dir/p")" -eq 1 -a \
	"$(grep -c '^t=' "$dir/p")" -lt 30
tap_done
