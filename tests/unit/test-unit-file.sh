#!/bin/bash
# test-unit-file.sh UNIT VMTIERD TMPFILES: the systemd unit meson generates
# is valid (systemd-analyze verify, with ExecStart pointed at this build's
# vmtierd) and its sandbox keeps the exposure systemd-analyze security
# computes at 3.0 or below (it was 9.6 UNSAFE before the hardening); the
# tmpfiles.d entry makes the runtime directory QEMU must get through.
. "$(dirname "$0")/../tap.sh"
unit=$(realpath "$1") vmtierd=$(realpath "$2") tmpfiles=$(realpath "$3")
command -v systemd-analyze >/dev/null || tap_skip "systemd-analyze is not installed (Debian package systemd)"
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=.*#ExecStart=$vmtierd#" "$unit" >"$tmp/vmtierd.service"
tap_check "the unit runs the installed vmtierd" grep -qx 'ExecStart=/.*/sbin/vmtierd' "$unit"
tap_check "the unit waits for vmtierd's readiness (Type=notify)" grep -qx 'Type=notify' "$unit"
v=$(systemd-analyze verify --man=no "$tmp/vmtierd.service" 2>&1); rc=$?
tap_diag "$v"
tap_check "systemd-analyze verify accepts it" test $rc -eq 0 -a -z "$v"
s=$(systemd-analyze security --offline=true --threshold=30 "$tmp/vmtierd.service" 2>&1); rc=$?
tap_diag "$(tail -1 <<<"$s")"
tap_check "systemd-analyze security: exposure 3.0 or below" test $rc -eq 0
dir=$(sed -n 's/^d \([^ ]*\) .*/\1/p' "$tmpfiles")
systemd-tmpfiles --create --root="$tmp" "$tmpfiles"
tap_check "tmpfiles.d makes $dir 0755 at boot" test "$(stat -c %a "$tmp$dir" 2>/dev/null)" = 755
tap_done
