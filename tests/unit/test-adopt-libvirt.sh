#!/bin/bash
# test-adopt-libvirt.sh VMTIER FIXTURES GOLDEN_IN: vmtier adopt through
# libvirt (its test:/// driver, whose domains run) on a captured host: the
# problems of a domain virt-install made, --fix refused while it runs, a
# domain that is not there, usage errors.  (The test driver knows no
# <qemu:commandline>: a domain with nothing missing is test-adopt.sh's.)
set -u
. "$(dirname "$0")/../tap.sh"
vmtier=$1 fixtures=$2 in=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
: >"$tmp/vmtierd.conf"
export VMTIER_CONFIG=$tmp/vmtierd.conf VMTIER_HOST_ROOT=$fixtures/tiered
{ echo "<node>"; sed 1d "$in/virt-install-plain.xml"; echo "</node>"; } >"$tmp/node.xml"
uri=test://$tmp/node.xml

out=$("$vmtier" -c "$uri" adopt web1 --dram 128M 2>&1); rc=$?
tap_check "virt-install's web1 through libvirt: 5 problems, exit 2" \
	test $rc -eq 2 -a "$(head -1 <<<"$out")" = "web1: 5 problems for vmtier (128 MiB DRAM on node 0, 384 MiB slow memory on node 2):"
out=$("$vmtier" -c "$uri" adopt web1 --dram 128M --json 2>&1); rc=$?
tap_check "--json: the same problems, not adopted" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["name"] == "web1" and not d["adopted"] and len(d["problems"]) == 5, d
assert all(p["fixable"] for p in d["problems"]), d' "$out"
out=$("$vmtier" -c "$uri" adopt web1 --dram 128M --fix 2>&1); rc=$?
tap_check "--fix refuses the running web1, saying when a new layout applies" test $rc -eq 1 -a \
	"$out" = "vmtier adopt: 'web1' is running: a new NUMA layout takes effect only when QEMU starts again; shut it down, then run vmtier adopt --fix again (nothing was changed)"
out=$("$vmtier" -c "$uri" adopt nosuch --dram 128M 2>&1); rc=$?
tap_check "a domain that is not there" test $rc -eq 1 -a "$out" = "vmtier adopt: no domain 'nosuch'"
out=$("$vmtier" -c "$uri" adopt 'a b' --dram 128M 2>&1); rc=$?
tap_check "a name vmtier cannot use is a usage error" test $rc -eq 64
out=$("$vmtier" -c "$uri" adopt web1 2>&1); rc=$?
tap_check "--dram is required" test $rc -eq 64 -a \
	"$out" = "vmtier adopt: give one domain NAME (or --xml FILE) and --dram SIZE"
tap_done
