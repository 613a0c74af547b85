#!/bin/bash
# test-soak.sh VMTIER VMTIERD GUEST_ELF PAGE_NODES [KILLS QEMU_KILLS
# LIBVIRTD_RESTARTS SECONDS]: inside the test host (topology 'tiered'), two
# guests whose hot sets move every 8 s (so pages keep moving) under vmtierd
# (DAMON, 1 s windows, 2 s accounting), and in a random order: KILLS (20)
# SIGKILLs of vmtierd at random moments (every other one while a thread of
# it is in move_pages), QEMU_KILLS (3) SIGKILLs of a guest's QEMU (the
# guest is started again), LIBVIRTD_RESTARTS (3) libvirtd restarts, the
# history DB's file system (a 16 MiB tmpfs) full once and the metrics
# directory read-only once.  After each, vmtierd must be back (restarted
# when killed) with both guests; history keeps every interval but the one
# in flight at a kill; the log says what happened; every guest instance
# sees no corrupted word and the last ones' full verification finds their
# memory intact after SECONDS (300) of running.  Prints the counts.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tiering-lib.sh" "$1" "$2" "$3" "$4"
kills=${5:-20} qkills=${6:-3} lrestarts=${7:-3} secs=${8:-300}
echo 0 >/proc/sys/kernel/numa_balancing
tap_check "a private libvirtd starts" libvirtd_start

guests=(sa sb)
db_dir=/var/lib/vmtier db=/var/lib/vmtier/history.db mdir=/run/vmtier-metrics
mkdir -p $db_dir $mdir
mount -t tmpfs -o size=16m vmtier-db $db_dir && mount -t tmpfs -o size=1m vmtier-metrics $mdir
metrics_file=$mdir/vmtier.prom
daemon_config "history_db=$db"
acct=2
t_end=$(($(now) + secs))
# both at once: a start is mostly the test host's CPU, and waits overlap
start_guest sa budget 64 448 32 "$secs" "pattern=shift shift=8" & s1=$!
start_guest sb standard 96 416 48 "$secs" "pattern=shift shift=8" & s2=$!
wait $s1; r1=$?; wait $s2; r2=$?
tap_check "guest sa starts (budget, 64 MiB quota, 32 MiB hot set moving every 8 s)" test $r1 -eq 0
tap_check "guest sb starts (standard, 96 MiB quota, 48 MiB hot set moving every 8 s)" test $r2 -eq 0
tap_check "both run their hot sets" bash -c "$(declare -f waitlog); out=$out; waitlog sa '^t=1 ' && waitlog sb '^t=1 '"
tap_check "vmtierd starts" start_daemon

st() { "$vmtier" status --json 2>/dev/null; }
# (jq, not python: in the TCG test host a python start costs seconds)
# both guests tiered (within 30 s)
both_back() {
	for _ in $(seq 150); do
		st | jq -e '[.vms[] | select((.name == "sa" or .name == "sb") and .state == "tiering")]
			    | length == 2' >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
# chunk moves: promoted + demoted bytes, in 2 MiB chunks, as status
# gives them per guest (carried on from history across restarts, of
# vmtierd and of a QEMU); growth only is counted, so an interval a kill
# lost is not counted twice
declare -A moved_last
moves=0 moved_last[sa]=0 moved_last[sb]=0
sample_moves() {
	local g m
	while read -r g m; do
		[ -n "${moved_last[$g]:-}" ] && [ "$m" -gt "${moved_last[$g]}" ] &&
			moves=$((moves + m - moved_last[$g])) && moved_last[$g]=$m
	done < <(st | jq -r '.vms[] | "\(.name) \((.promoted_bytes + .demoted_bytes) / 2097152 | floor)"')
	return 0
}
# promoted + demoted bytes of sa and sb by status
moved_bytes() { st | jq '[.vms[] | select(.name == "sa" or .name == "sb")
			| .promoted_bytes + .demoted_bytes] | add // 0'; }
# the time of history's last row (0: none, or unreadable)
last_row() { sqlite3 "$db" "SELECT coalesce(max(ts), 0) FROM samples" 2>/dev/null || echo 0; }
# rows_after T [SECONDS]: history has a row later than T (within SECONDS, 60)
rows_after() {
	for _ in $(seq $((${2:-60} * 5))); do
		[ "$(last_row)" -gt "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
tiered_and_rows() { both_back && rows_after 0; }
tap_check "both guests are tiered, and history has rows" tiered_and_rows

# the events, shuffled
events=()
for _ in $(seq "$kills"); do events+=(kill); done
for _ in $(seq "$qkills"); do events+=(qemu); done
for _ in $(seq "$lrestarts"); do events+=(libvirtd); done
events+=(dbfull metrics)
mapfile -t events < <(printf '%s\n' "${events[@]}" | shuf)
n_kill=0 n_mid=0 n_back=0 n_qemu=0 n_lv=0 n_lv_back=0 n_db=0 n_metrics=0 worst_gap=0 bad_gap=0
lost_totals=0 inst=0 qturn=0

# up to 20 s: a thread of vmtierd in move_pages (x86-64 syscall 279); bash
# builtins only, so that it looks often enough to catch one
in_move_pages() {
	local t0=$SECONDS f nr
	while [ $((SECONDS - t0)) -lt 20 ]; do
		for f in /proc/$daemon/task/*/syscall; do
			read -r nr _ 2>/dev/null <"$f" && [ "$nr" = 279 ] && return 0
		done
	done
	return 1
}

on_kill() {
	local mid= t gap last tot_db tot_after
	n_kill=$((n_kill + 1))
	if [ $((n_kill % 2)) -eq 0 ]; then
		in_move_pages && mid=1
	else
		sleep "$(shuf -i 0-2500 -n 1 | sed 's/^/0000/; s/.\{3\}$/.&/')"
	fi
	kill -9 "$daemon"; wait "$daemon" 2>/dev/null
	[ -n "$mid" ] && n_mid=$((n_mid + 1))
	t=$(now)
	echo "soak: $(date -u +%T) vmtierd killed${mid:+ in move_pages}" >>"$out/vmtierd.log"
	# history holds the intervals before the kill (not while the DB was full)
	last=$(last_row)
	gap=$((t - last))
	[ "$gap" -gt "$worst_gap" ] && worst_gap=$gap
	[ "$gap" -gt $((3 * acct)) ] && bad_gap=$((bad_gap + 1)) && tap_diag "kill $n_kill: last history row $gap s before it"
	tot_db=$(sqlite3 "$db" "SELECT coalesce(sum(promoted_bytes + demoted_bytes), 0) FROM totals WHERE vm IN ('sa', 'sb')" 2>/dev/null || echo 0)
	# back: both tiered and history written again (a row after the kill).
	# The next kill's gap is then the intervals this vmtierd lost, not
	# its start: its first row needs an attach and a measured window
	if start_daemon && both_back && rows_after "$t"; then
		n_back=$((n_back + 1))
		tot_after=$(moved_bytes)
		[ "$tot_after" -lt "$tot_db" ] && lost_totals=$((lost_totals + 1)) &&
			tap_diag "kill $n_kill: totals $tot_db in history, $tot_after after the restart"
	else
		tap_diag "kill $n_kill: vmtierd did not come back with both guests and history rows"
		start_daemon
	fi
}

on_qemu() {
	local g=${guests[$((qturn % 2))]} p rest
	qturn=$((qturn + 1)) n_qemu=$((n_qemu + 1)) inst=$((inst + 1))
	p=$(cat "/run/libvirt/qemu/$g.pid")
	sample_moves
	kill -9 "$p"
	for _ in $(seq 100); do [ -e "/proc/$p" ] || break; sleep 0.1; done
	cp "$out/$g.log" "$out/$g.log.$inst"
	# the new instance verifies by the end: a shorter time on its command line
	rest=$((t_end - $(now))); [ "$rest" -lt 40 ] && rest=40
	virsh dumpxml "$g" | sed "s/time=[0-9]*/time=$rest/" >"/tmp/$g.xml"
	for _ in $(seq 100); do [ "$(virsh domstate "$g" 2>/dev/null)" = "shut off" ] && break; sleep 0.1; done
	virsh define "/tmp/$g.xml" >/dev/null && virsh start "$g" >/dev/null &&
		bash -c "$(declare -f waitlog); out=$out; waitlog $g '^t=1 '" && both_back ||
		tap_diag "QEMU kill $n_qemu ($g): the guest or vmtierd did not come back"
	grep -q "$g: no longer tiered" "$out/vmtierd.log" || tap_diag "QEMU kill $n_qemu: the log does not say $g went"
}

on_libvirtd() {
	local c0
	n_lv=$((n_lv + 1))
	c0=$(grep -c 'libvirt: connected' "$out/vmtierd.log")
	kill "$(cat /run/libvirtd.pid)"
	for _ in $(seq 100); do virsh version >/dev/null 2>&1 || break; sleep 0.1; done
	sleep 1
	libvirtd_start || tap_diag "libvirtd restart $n_lv: libvirtd did not start"
	for _ in $(seq 300); do
		[ "$(grep -c 'libvirt: connected' "$out/vmtierd.log")" -gt "$c0" ] && kill -0 "$daemon" && both_back &&
			n_lv_back=$((n_lv_back + 1)) && return 0
		sleep 0.1
	done
	tap_diag "libvirtd restart $n_lv: vmtierd did not reconnect"
}

on_dbfull() {
	local t
	n_db=1
	dd if=/dev/zero of=$db_dir/fill bs=64k 2>/dev/null
	t=$(now)
	sleep $((3 * acct))
	kill -0 "$daemon" && db_full_ok=1
	db_logged=$(grep -c 'history: .*full' "$out/vmtierd.log")
	rm -f $db_dir/fill
	echo "soak: $(date -u +%T) the DB's file system has room again" >>"$out/vmtierd.log"
	# rows come again (within 20 s)
	rows_after "$t" 20 && db_back=1
	return 0
}

on_metrics() {
	local m0
	n_metrics=1
	mount -o remount,ro $mdir
	sleep $((3 * acct))
	kill -0 "$daemon" && metrics_ro_ok=1
	metrics_logged=$(grep -c 'metrics: ' "$out/vmtierd.log")
	mount -o remount,rw $mdir
	echo "soak: $(date -u +%T) the metrics directory is writable again" >>"$out/vmtierd.log"
	m0=$(stat -c %Y $mdir/vmtier.prom 2>/dev/null || echo 0)
	for _ in $(seq 100); do
		[ "$(stat -c %Y $mdir/vmtier.prom 2>/dev/null || echo 0)" -gt "$m0" ] && metrics_back=1 && break
		sleep 0.2
	done
}

db_full_ok= db_back= db_logged=0 metrics_ro_ok= metrics_back= metrics_logged=0
for e in "${events[@]}"; do
	sleep "$(shuf -i 1-6 -n 1)"
	sample_moves
	echo "soak: $(date -u +%T) $e" >>"$out/vmtierd.log"
	"on_$e"
	sample_moves
done
# let the guests run to their verification
for g in "${guests[@]}"; do
	for _ in $(seq $((secs * 5 + 300))); do grep -q 'result=' "$out/$g.log" && break; sample_moves; sleep 0.2; done
done
sample_moves

tap_diag "counts: vmtierd SIGKILLs $n_kill ($n_mid in move_pages), back every time: $n_back;" \
	"QEMU SIGKILLs $n_qemu; libvirtd restarts $n_lv (vmtierd reconnected $n_lv_back);" \
	"history DB full $n_db; metrics dir read-only $n_metrics; chunk moves $moves" \
	"(sa ${moved_last[sa]}, sb ${moved_last[sb]} by status at the end);" \
	"worst history gap at a kill $worst_gap s"
tap_check "vmtierd came back, with both guests tiered, after each of its $n_kill SIGKILLs ($n_mid in move_pages)" \
	test "$n_back" -eq "$kills" -a "$n_kill" -eq "$kills"
tap_check "at least $((kills / 4)) of the kills landed while vmtierd was in move_pages ($n_mid)" \
	test "$n_mid" -ge $((kills / 4))
# (a kill while vmtierd restarts DAMON for a guest that came or went
# leaves no kdamond running)
found=$(grep -c 'earlier vmtierd left running found by its marker' "$out/vmtierd.log")
tap_check "the new vmtierd said it found and turned off the killed one's kdamond ($found of $n_kill)" \
	test "$found" -ge $((kills / 2))
tap_check "history kept every interval but the one in flight at each kill (worst gap $worst_gap s, account interval $acct s)" \
	test "$bad_gap" -eq 0
tap_check "the restarted vmtierd's totals never fell below history's" test "$lost_totals" -eq 0
tap_check "after $n_qemu QEMU SIGKILLs the guests were started again and tiered" test "$n_qemu" -eq "$qkills"
tap_check "vmtierd reconnected after each of $n_lv libvirtd restarts" test "$n_lv_back" -eq "$lrestarts"
tap_check "with the history DB's disk full vmtierd ran on, said so ($db_logged), and wrote rows again once freed" \
	test -n "$db_full_ok" -a -n "$db_back" -a "$db_logged" -gt 0
tap_check "with the metrics directory read-only vmtierd ran on, said so ($metrics_logged), and wrote the file again" \
	test -n "$metrics_ro_ok" -a -n "$metrics_back" -a "$metrics_logged" -gt 0
tap_check "at least $((kills * 50)) chunk moves in all ($moves)" test "$moves" -ge $((kills * 50))
tap_check "no guest instance saw a corrupted word" \
	test "$(cat "$out"/sa.log* "$out"/sb.log* | grep -c 'errors=[1-9]')" -eq 0
for g in "${guests[@]}"; do
	tap_diag "$g: $(grep 'result=' "$out/$g.log")"
	tap_check "$g's full verification finds its memory intact" grep -q 'verify_errors=0 result=intact' "$out/$g.log"
done
tap_check "vmtierd still runs" kill -0 "$daemon"
kill -TERM "$daemon"; wait "$daemon"
cp "$db" "$out/" 2>/dev/null
grep -E 'soak:|no longer tiered|libvirt: |history: |metrics: |DAMON: ' "$out/vmtierd.log" | tail -80 | sed 's/^/# /'
tap_done
