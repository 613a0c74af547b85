#!/bin/bash
# build-deb.sh SRCDIR OUTDIR TESTBED_RUN TESTBED_OUT GUEST_ELF PAGE_NODES:
# on this machine, build the Debian package from a copy of SRCDIR into
# OUTDIR (dpkg-buildpackage -us -uc -b), check it with lintian (errors
# fail, warnings are listed) and its unit with systemd-analyze security
# (5.0 or below, as the issue asks of the packaged unit); then boot the test
# host and run test-deb.sh there, which installs the .deb and runs the demo's
# flow from the installed paths.  One TAP stream: the test host's checks
# are numbered on from ours.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
[ $# -eq 6 ] || tap_bail "usage: build-deb.sh SRCDIR OUTDIR TESTBED_RUN TESTBED_OUT GUEST_ELF PAGE_NODES"
src=$(realpath "$1") outdir=$2 testbed_run=$3 testbed_out=$4 elf=$(realpath "$5") page_nodes=$(realpath "$6")
for t in dpkg-buildpackage dh lintian fakeroot systemd-analyze; do
	command -v "$t" >/dev/null ||
		tap_skip "$t is not installed (scripts/vmtier-dev deps installs debhelper, lintian, dpkg-dev, fakeroot)"
done
missing=$(cd "$src" && dpkg-checkbuilddeps 2>&1) || tap_skip "build dependencies missing: ${missing#*: }"

# a copy of the tree, without build directories: dpkg-buildpackage writes
# into the tree and its parent
rm -rf "$outdir" && mkdir -p "$outdir/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -a -t "$outdir/src" 2>/dev/null)
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude=./demo-out -cf - . | tar -C "$outdir/src" -xf -
fi
(cd "$outdir/src" && dpkg-buildpackage -us -uc -b -J2) >"$outdir/dpkg-buildpackage.log" 2>&1; rc=$?
deb=$(ls "$outdir"/vmtier_*.deb 2>/dev/null | head -1)
[ $rc -eq 0 ] && [ -n "$deb" ] || { tail -30 "$outdir/dpkg-buildpackage.log" >&2; tap_bail "dpkg-buildpackage failed (log: $outdir/dpkg-buildpackage.log)"; }
tap_ok "dpkg-buildpackage -us -uc -b builds ${deb##*/}"
lint=$(lintian --tag-display-limit 0 "$deb" 2>&1); rc=$?
tap_diag "lintian: $(grep -c '^W:' <<<"$lint") warnings, $(grep -c '^I:' <<<"$lint") info"
tap_diag "$lint"
tap_check "lintian finds no error in the .deb" test -z "$(grep '^E:' <<<"$lint")" -a $rc -eq 0

x=$outdir/extracted
dpkg-deb -x "$deb" "$x"
unit=$x/lib/systemd/system/vmtierd.service
tap_check "the package holds the unit as Debian 12 has them, /lib/systemd/system/vmtierd.service" test -f "$unit"
s=$(systemd-analyze security --offline=true --root="$x" --threshold=50 "$unit" 2>&1); rc=$?
tap_diag "$(tail -1 <<<"$s")"
tap_check "systemd-analyze security --offline on the packaged unit: exposure 5.0 or below" test $rc -eq 0

# the test host's / is this machine's, read-only: it sees $deb where it is
VMTIER_TAP_START=$tap_n "$testbed_run" --topology tiered --out "$testbed_out" \
	"$here/test-deb.sh" "$(realpath "$deb")" "$elf" "$page_nodes"
rc=$?
[ "$tap_failed" -eq 0 ] || rc=1
exit $rc
