#!/bin/bash
# test-deb.sh DEB GUEST_ELF PAGE_NODES: inside the test host (topology
# 'tiered'; build-deb.sh builds DEB and boots it): dpkg -i the package, then
# the demo's flow from the installed paths only: /usr/bin/vmtier host check,
# define a guest from /usr/share/vmtier's template, start it, vmtierd started
# as its installed unit would start it (ExecStart, the directories, the umask
# and NOTIFY_SOCKET of the unit; no systemd here) reading
# /etc/vmtier/vmtierd.conf, the hot set on DRAM, vmtier report from the
# default history store; then dpkg --purge.  The guest ELF and page-nodes
# are the test's workload and ground truth, not the package's.
set -u
here=$(cd "$(dirname "$0")" && pwd)
deb=$(realpath "$1") elf=$(realpath "$2") page_nodes=$(realpath "$3")
# the tiering tests' guest and ground truth (it sources tap.sh), over the
# installed programs; nothing points them at the source tree's templates
# or a test socket
. "$here/tiering-lib.sh" /usr/bin/vmtier /usr/sbin/vmtierd "$elf" "$page_nodes"
unset VMTIER_TEMPLATE_DIR VMTIER_SOCKET VMTIER_CONFIG
tap_n=${VMTIER_TAP_START:-0}	# build-deb.sh's checks come first
unit=/lib/systemd/system/vmtierd.service conf=/etc/vmtier/vmtierd.conf

# man-db's trigger would index every manual page under TCG: minutes
ins=$(dpkg --no-triggers -i "$deb" 2>&1); rc=$?
tap_diag "$ins"
tap_check "dpkg -i ${deb##*/}" test $rc -eq 0 -a "$(dpkg-query -W -f '${Status}' vmtier)" = "install ok installed"
tap_check "$conf is a conffile" bash -c "dpkg-query -W -f '\${Conffiles}' vmtier | grep -q '^ $conf '"
tap_check "postinst enabled vmtierd.service (dh_installsystemd; no systemd here to start it)" \
	test "$(readlink /etc/systemd/system/multi-user.target.wants/vmtierd.service)" = "$unit"
tap_check "postinst made /run/vmtier (tmpfiles.d)" test "$(stat -c %a /run/vmtier 2>/dev/null)" = 755
for f in /usr/bin/vmtier /usr/sbin/vmtierd /usr/libexec/vmtier-hook /usr/share/vmtier/xml-templates/domain.xml \
	/usr/share/vmtier/xml-templates/classes/budget.conf /usr/share/bash-completion/completions/vmtier \
	/lib/systemd/system/vmtier-dax-online@.service /lib/udev/rules.d/91-vmtier-dax.rules \
	/usr/share/man/man8/vmtier.8.gz /usr/share/man/man8/vmtierd.8.gz /usr/share/man/man8/vmtier-hook.8.gz \
	/usr/share/man/man5/vmtierd.conf.5.gz /usr/share/doc/vmtier/README.md; do
	[ -e "$f" ] || missing+=" $f"
done
tap_check "the package installed the programs, templates, completion, units, udev rule, man pages and README${missing:+ (missing:$missing)}" test -z "${missing:-}"
# sysusers.d: the groups and users the package's files declare exist now
sys_missing= nsys=0
for f in $(dpkg -L vmtier | grep '^/usr/lib/sysusers.d/.*\.conf$'); do
	while read -r type name _; do
		case $type in
		g) getent group "$name" >/dev/null || sys_missing+=" group $name" ;;
		u) getent passwd "$name" >/dev/null || sys_missing+=" user $name" ;;
		esac
	done <"$f"
	nsys=$((nsys + 1))
done
tap_check "postinst made what the package's $nsys sysusers.d files declare${sys_missing:+ (missing:$sys_missing)}" test -z "$sys_missing"
tap_check "the package leaves libvirt's hooks to vmtier hook install (README.Debian)" test ! -e /etc/libvirt/hooks/qemu.d/50-vmtier
tap_check "vmtier --version is the package's ($(dpkg-query -W -f '${Version}' vmtier))" \
	test "$(/usr/bin/vmtier --version 2>&1)" = "$(dpkg-query -W -f '${Version}' vmtier)"

hc=$(/usr/bin/vmtier host check 2>&1); rc=$?
tap_diag "$hc"
tap_check "vmtier host check: no errors on the tiered host" test $rc -eq 0

echo 0 >/proc/sys/kernel/numa_balancing	# vmtierd's moves alone
tap_check "a private libvirtd starts (AppArmor rules from the installed vmtier hook install)" libvirtd_start
tap_check "vmtier define (installed template) and start a budget guest: 64 MiB DRAM quota, 32 MiB hot set" \
	start_guest d1 budget 64 448 32 0
tap_check "the guest filled its memory and runs its hot set" waitlog d1 '^t=1 '
track d1 64 32
tap_check "before vmtierd: the hot set is wholly on PMEM node 2" test "$(hot_on d1 2)" -eq 8192

# as an operator would: uncomment two keys of the installed file
sed -i 's/^#account_interval_s=.*/account_interval_s=5/; s/^#discover_interval_s=.*/discover_interval_s=1/' "$conf"
tap_check "vmtierd.conf edited in place: account every 5 s, discover every 1 s" \
	test "$(grep -cxE 'account_interval_s=5|discover_interval_s=1' "$conf")" -eq 2

# what systemd would do with the unit: its directories, umask, a clean
# environment with NOTIFY_SOCKET, ExecStartPre= lines, then ExecStart=
cmdline() { python3 -c 'import shlex, sys; sys.stdout.write("\0".join(shlex.split(sys.argv[1])))' "$1"; }
key() { sed -n "s/^$1=//p" "$unit"; }
for d in "StateDirectory /var/lib" "RuntimeDirectory /run"; do
	set -- $d
	mode=$(key "${1}Mode" | tail -1)
	for n in $(key "$1"); do mkdir -p -m "${mode:-0755}" "$2/$n"; done
done
nsock=/run/vmtier-test-notify.sock
python3 - "$nsock" >"$out/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode(), flush=True)
PY
listener=$!
for _ in $(seq 50); do [ -S "$nsock" ] && break; sleep 0.1; done
unit_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NOTIFY_SOCKET="$nsock")
pre_ok=1
while IFS= read -r line; do
	[ -n "$line" ] || continue
	ignore=; [[ $line == -* ]] && ignore=1
	mapfile -d '' argv < <(cmdline "$(sed 's/^[-+!@:]*//' <<<"$line")")
	tap_diag "ExecStartPre: ${argv[*]}"
	(umask "$(key UMask)"; cd / && "${unit_env[@]}" "${argv[@]}") >>"$out/vmtierd.log" 2>&1 || [ -n "$ignore" ] || pre_ok=
done < <(key ExecStartPre)
tap_check "the unit's ExecStartPre= lines succeed ($(key ExecStartPre | wc -l) of them)" test -n "$pre_ok"
mapfile -d '' argv < <(cmdline "$(key ExecStart | sed 's/^[-+!@:]*//')")
tap_check "the unit's ExecStart= runs the installed vmtierd (${argv[*]})" test "${argv[0]}" = /usr/sbin/vmtierd
(umask "$(key UMask)"; cd / && exec "${unit_env[@]}" "${argv[@]}") >>"$out/vmtierd.log" 2>&1 &
daemon=$!
ready=
for _ in $(seq 300); do grep -qx 'READY=1' "$out/notify.log" && ready=1 && break; sleep 0.1; done
tap_check "vmtierd told NOTIFY_SOCKET READY=1 (Type=notify)" test -n "$ready"
st=$(/usr/bin/vmtier status 2>&1); rc=$?
tap_diag "$st"
tap_check "and vmtier status answers on the default socket at once" test $rc -eq 0

converge d1 90
tap_check "the guest's hot set reached DRAM node 0 (90% within 90 s; after ${reached:-never} s, DRAM at most $((maxd / 256)) MiB)" test -n "$reached"
tap_diag "$(/usr/bin/vmtier status 2>&1)"
s=$(/usr/bin/vmtier status d1 --json)
tap_check "vmtier status d1: tiering, hot set promoted, DRAM within its quota" python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vms"][0]
assert v["state"] == "tiering", v
assert v["promoted_bytes"] >= 28 << 20 and v["quota_bytes"] == 64 << 20 and v["dram_bytes"] <= 68 << 20, v' "$s"

# the history store where the unit's StateDirectory is, the report from it
rep() { /usr/bin/vmtier report --tenant acme --format json 2>/dev/null; }
for _ in $(seq 60); do
	python3 -c 'import json,sys; sys.exit(not json.loads(sys.argv[1])["tenants"])' "$(rep)" 2>/dev/null && break
	sleep 0.5
done
tap_check "vmtier report (default store) has tenant acme's d1 with its promotions" python3 -c '
import json, sys
vms = {v["vm"]: v for t in json.loads(sys.argv[1])["tenants"] if t["tenant"] == "acme" for v in t["vms"]}
d = vms["d1"]
assert d["class"] == "budget" and d["intervals"] >= 1 and d["promoted_bytes"] >= 28 << 20, d' "$(rep)"
tap_diag "$(/usr/bin/vmtier report --tenant acme 2>&1)"
tap_check "the history store is /var/lib/vmtier/history.db, root's alone (0700 directory, 0600 file)" \
	test "$(stat -c %a /var/lib/vmtier /var/lib/vmtier/history.db 2>/dev/null | xargs)" = "700 600"

kill -TERM "$daemon"; wait "$daemon"; rc=$?
tap_check "vmtierd stops cleanly on SIGTERM" test $rc -eq 0
kill "$listener" 2>/dev/null
virsh destroy d1 >/dev/null
tap_check "vmtier undefine d1" test "$(/usr/bin/vmtier undefine d1 2>&1)" = "undefined d1"

out_purge=$(dpkg --no-triggers --purge vmtier 2>&1); rc=$?
tap_diag "$out_purge"
tap_check "dpkg --purge: programs, $conf and the enablement gone" test $rc -eq 0 -a ! -e /usr/bin/vmtier -a ! -e "$conf" \
	-a ! -L /etc/systemd/system/multi-user.target.wants/vmtierd.service
tap_check "and the tenants' history kept (README.Debian)" test -f /var/lib/vmtier/history.db
tap_done
