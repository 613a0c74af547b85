#!/bin/bash
# test-unit-file.sh UNIT VMTIERD TMPFILES SYSUSERS CLASSES CONF: the systemd unit
# meson generates is valid (systemd-analyze verify, with its commands
# pointed at this build's vmtierd) and its sandbox keeps the exposure
# systemd-analyze security computes at 3.0 or below (it was 9.6 UNSAFE
# before the hardening); it checks the configuration before the start and
# does not restart on a bad one (vmtierd --check-config and exit 78, run
# here, and on the installed vmtierd.conf CONF with every key's documented
# default uncommented); the tmpfiles.d entry makes the runtime directory QEMU must get
# through; sysusers.d makes the group socket_group can name.
. "$(dirname "$0")/../tap.sh"
unit=$(realpath "$1") vmtierd=$(realpath "$2") tmpfiles=$(realpath "$3")
sysusers=$(realpath "$4") classes=$(realpath "$5") installed=$(realpath "$6")
command -v systemd-analyze >/dev/null || tap_skip "systemd-analyze is not installed (Debian package systemd)"
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
sed -e "s#^ExecStart=.*#ExecStart=$vmtierd#" \
    -e "s#^ExecStartPre=/[^ +]*/vmtierd #ExecStartPre=$vmtierd #" "$unit" >"$tmp/vmtierd.service"
tap_check "the unit runs the installed vmtierd" grep -qx 'ExecStart=/.*/sbin/vmtierd' "$unit"
tap_check "the unit waits for vmtierd's readiness (Type=notify)" grep -qx 'Type=notify' "$unit"
tap_check "the unit checks the configuration first (ExecStartPre)" \
	grep -qx 'ExecStartPre=/.*/sbin/vmtierd --check-config' "$unit"
tap_check "the unit does not restart on a bad configuration (78)" grep -qx 'RestartPreventExitStatus=78' "$unit"
v=$(systemd-analyze verify --man=no "$tmp/vmtierd.service" 2>&1); rc=$?
tap_diag "$v"
tap_check "systemd-analyze verify accepts it" test $rc -eq 0 -a -z "$v"
s=$(systemd-analyze security --offline=true --threshold=30 "$tmp/vmtierd.service" 2>&1); rc=$?
tap_diag "$(tail -1 <<<"$s")"
tap_check "systemd-analyze security: exposure 3.0 or below" test $rc -eq 0

# vmtierd --check-config: 0 and what it read for a good file, 78 and one
# line naming the bad value otherwise; nothing made (socket, state, history)
conf() {	# conf NAME LINES...: a vmtierd.conf whose paths are all under $tmp/run
	local f=$tmp/$1.conf; shift
	printf '[daemon]\nsocket=%s/run/sock\nstate_dir=%s/run/state\nqmp_dir=%s/run/qmp\nhistory_db=%s/run/db/history.db\n' \
		"$tmp" "$tmp" "$tmp" "$tmp" >"$f"
	printf '%s\n' "$@" >>"$f"
	echo "$f"
}
check_config() {	# check_config DESC WANT-RC WANT-TEXT VMTIERD-ARGS...
	local desc=$1 want=$2 text=$3 out rc; shift 3
	out=$("$vmtierd" "$@" 2>&1); rc=$?
	tap_diag "$out"
	tap_check "$desc: exit $want, says '$text' in one line" \
		test $rc -eq "$want" -a "$(wc -l <<<"$out")" -eq 1 -a -n "$(grep -F -- "$text" <<<"$out")"
}
mkdir -p "$tmp/classes" && cp "$classes"/*.conf "$tmp/classes/"
good=$(conf good "class_dir=$tmp/classes" "dram_reserve=1G" "[policy]" "promote_windows=3")
n=$(ls "$classes"/*.conf | wc -l)
check_config "--check-config on a good file" 0 "$good is good; $n class files in $tmp/classes" \
	--check-config -c "$good"
sed 's/^#\([a-z_]*=\)/\1/' "$installed" >"$tmp/installed.conf"
check_config "--check-config on the installed vmtierd.conf, every default uncommented" 0 \
	"$tmp/installed.conf is good" --check-config -c "$tmp/installed.conf"
check_config "--check-config, a value out of range" 78 "[daemon] scan_interval_ms: '20' is not a whole number in 50..600000" \
	--check-config -c "$(conf range "scan_interval_ms=20")"
check_config "--check-config, an unknown key" 78 "unknown key [policy] promote_window" \
	--check-config -c "$(conf key "[policy]" "promote_window=3")"
check_config "--check-config, a missing file given" 78 "$tmp/none.conf" --check-config -c "$tmp/none.conf"
check_config "--check-config, a missing class_dir" 78 "class_dir" \
	--check-config -c "$(conf nodir "class_dir=$tmp/no-classes")"
check_config "--check-config, socket_group no group" 78 "socket_group: no group 'vmtier-nosuch'" \
	--check-config -c "$(conf group "class_dir=$tmp/classes" "socket_group=vmtier-nosuch")"
mkdir -p "$tmp/bad-classes" && cp "$classes"/*.conf "$tmp/bad-classes/"
sed -i 's/^dram_share=.*/dram_share=1.5/' "$tmp/bad-classes/budget.conf"
badclass=$(conf badclass "class_dir=$tmp/bad-classes")
check_config "--check-config, a bad class file" 78 "$tmp/bad-classes/budget.conf: dram_share 1.5 is not between 0 and 1" \
	--check-config -c "$badclass"
# the daemon makes the same checks at its start, before it makes anything
check_config "vmtierd starting with a bad class file" 78 "budget.conf: dram_share 1.5" -c "$badclass" --oneshot
tap_check "nothing made by the checks (socket, state, history)" test ! -e "$tmp/run"

dir=$(sed -n 's/^d \([^ ]*\) .*/\1/p' "$tmpfiles")
systemd-tmpfiles --create --root="$tmp" "$tmpfiles"
tap_check "tmpfiles.d makes $dir 0755 at boot" test "$(stat -c %a "$tmp$dir" 2>/dev/null)" = 755
mkdir -p "$tmp/root/etc"
s=$(systemd-sysusers --root="$tmp/root" "$sysusers" 2>&1); tap_diag "$s"
tap_check "sysusers.d makes the group vmtier" grep -q '^vmtier:' "$tmp/root/etc/group"
tap_done
