#!/bin/bash
# test-completion.sh COMPLETION VMTIER FIXTURES TEMPLATES: vmtier's bash
# completion, driven as bash drives it (COMP_WORDS split at "=" as
# COMP_WORDBREAKS does), against the built vmtier, a captured tiered
# host and the source tree's classes.  TAP.
set -u
completion=$1 vmtier=$2 fixtures=$3 templates=$4
export VMTIER_HOST_ROOT=$fixtures/tiered VMTIER_TEMPLATE_DIR=$templates
export LIBVIRT_DEFAULT_URI=test:///default
bindir=$(mktemp -d); trap 'rm -rf "$bindir"' EXIT
ln -s "$(realpath "$vmtier")" "$bindir/vmtier"
PATH=$bindir:$PATH
# shellcheck source=/dev/null
. "$completion"

n=0 failed=0
# complete LINE: COMPREPLY for LINE with the cursor at its end, sorted, one line
complete_line() {
	local line=$1 w
	COMP_WORDS=()
	for w in $line; do
		if [[ $w == -*=* ]]; then
			COMP_WORDS+=("${w%%=*}" "=")
			[ -n "${w#*=}" ] && COMP_WORDS+=("${w#*=}")
		else
			COMP_WORDS+=("$w")
		fi
	done
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_vmtier vmtier
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
check() {	# LINE EXPECTED
	local got
	got=$(complete_line "$1")
	n=$((n + 1))
	if [ "$got" = "$2" ]; then
		echo "ok $n - '$1' -> '$got'"
	else
		echo "not ok $n - '$1' -> '$got', expected '$2'"; failed=1
	fi
}

commands=$(vmtier --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
check "vmtier " "$commands"
check "vmtier de" "define"
check "vmtier -c test:///default li" "list"
check "vmtier ad" "adopt"
check "vmtier adopt --f" "--fix"
check "vmtier adopt --class=st" "standard"
check "vmtier adopt --dram-nodes " "0 1"
check "vmtier -c test:///default adopt " "test"
check "vmtier --connect=test:///default st" "status"
check "vmtier -c " "qemu:///session qemu:///system test:///default"
check "vmtier define --cl" "--class="
check "vmtier define --class " "budget premium standard"
check "vmtier define --class=pr" "premium"
check "vmtier define --pmem-nodes " "2 3"
check "vmtier define --dram-nodes=" "0 1"
check "vmtier define --pmem-policy c" "closest"
check "vmtier report --format=" "csv html json table"
check "vmtier report --tenant acme --format h" "html"
check "vmtier host " "check online"
check "vmtier host online --zone " "movable normal"
check "vmtier host online -z m" "movable"
check "vmtier hook u" "uninstall"
check "vmtier help rep" "report"
check "vmtier status --json --w" "--watch"
check "vmtier host online --no" "--no-progress"
# free text: nothing offered, and no command words either
check "vmtier define --tenant " ""
check "vmtier set --dram " ""
# a command's options are its own
n=$((n + 1))
if complete_line "vmtier report --" | grep -qw -- --format= &&
   ! complete_line "vmtier report --" | grep -qw -- --dram=; then
	echo "ok $n - report's options, not define's"
else
	echo "not ok $n - report's options: $(complete_line "vmtier report --")"; failed=1
fi
# every option --help lists is offered
n=$((n + 1))
want=$(vmtier define --help | grep -o -- '--[a-z-]*' | sort -u | tr '\n' ' ')
got=$(complete_line "vmtier define --" | tr ' ' '\n' | sed 's/=$//' | sort -u | tr '\n' ' ')
if [ "$want" = "$got" ]; then echo "ok $n - every define option"; else
	echo "not ok $n - define options: want '$want' got '$got'"; failed=1; fi
echo "1..$n"
exit $failed
