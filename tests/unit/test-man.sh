#!/bin/bash
# test-man.sh MANDIR VMTIER VMTIERD VMTIERD_CONF UNIT...: the man pages scdoc built
# render without a warning (man -l, groff -ww), and cannot drift from the
# code: every command of `vmtier --help` is in vmtier(8) and has a page,
# every long option of `vmtier CMD [SUB] --help` is on that command's page,
# vmtierd's options on vmtierd(8), every key of vmtierd.conf on
# vmtierd.conf(5); every command's --help gives an example and its exit
# status; the pages the systemd units name (Documentation=man:) are built.
# TAP.
. "$(dirname "$0")/../tap.sh"
mandir=$1 vmtier=$2 vmtierd=$3 conf=$4
shift 4
ls "$mandir"/*.[58] >/dev/null 2>&1 || tap_skip "no man pages built (scdoc missing: Debian package scdoc; or -Dman=disabled)"
command -v man >/dev/null || tap_skip "man is not installed (Debian package man-db)"

for page in "$mandir"/*.[58]; do
	name=${page##*/}
	w=$( { MANWIDTH=80 man --warnings -l "$page" >"$mandir/.$name.txt"; } 2>&1)
	w+=$(groff -man -ww -z "$page" 2>&1)
	[ -z "$w" ] || tap_diag "$w"
	tap_check "$name renders without warnings" test -z "$w" -a -n "$(grep -x NAME "$mandir/.$name.txt")"
	rm -f "$mandir/.$name.txt"
done

# documented PAGE TEXT: a term of the page's lists (the line before an
# indented paragraph, as scdoc writes them) holds TEXT in bold: a mention
# in an example or in prose is not the option documented
documented() { grep -B1 -x '.RS 4' "$mandir/$1" | grep -qF -- "\\fB$2\\fR"; }
# the long options of a --help text (the option lines only, not the prose)
long_options() { sed -n 's/^  \+\(-[a-zA-Z], \)\?\(--[a-z][a-z-]*\).*/\2/p' | grep -vx -- '--help\(-all\)\?'; }
# a command's page: the command groups that share one, else vmtier-CMD.8
page_of() {
	case $1 in
	undefine | list) echo vmtier-define.8 ;;
	set) echo vmtier-status.8 ;;
	version | help) echo vmtier.8 ;;
	*) echo "vmtier-$1.8" ;;
	esac
}

commands=$("$vmtier" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
for cmd in $commands; do
	page=$(page_of "$cmd")
	tap_check "vmtier(8) lists '$cmd'" documented vmtier.8 "$cmd"
	if [ ! -f "$mandir/$page" ]; then
		tap_fail "'vmtier $cmd' has a page ($page: none in docs/man/meson.build)"
		continue
	fi
	[ "$cmd" = help ] && continue
	help=$("$vmtier" "$cmd" --help)
	subs=$(sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$help")
	for sub in "" $subs; do
		h=$("$vmtier" "$cmd" $sub --help)
		missing=
		for opt in $(long_options <<<"$h"); do
			documented "$page" "$opt" || missing+=" $opt"
		done
		tap_check "$page has every option of 'vmtier $cmd${sub:+ $sub}'${missing:+, not:$missing}" test -z "$missing"
		tap_check "'vmtier $cmd${sub:+ $sub} --help' gives an example" grep -q '^Example: vmtier ' <<<"$h"
		tap_check "'vmtier $cmd${sub:+ $sub} --help' says its exit status" grep -q '^Exit status: ' <<<"$h"
	done
done

missing=
for opt in $("$vmtierd" --help | long_options); do documented vmtierd.8 "$opt" || missing+=" $opt"; done
tap_check "vmtierd.8 has every option of vmtierd${missing:+, not:$missing}" test -z "$missing"
h=$("$vmtierd" --help)
tap_check "'vmtierd --help' gives an example and its exit status" \
	grep -q '^Example: vmtierd ' <<<"$h" && grep -q '^Exit status: ' <<<"$h"
# the keys as data/vmtierd.conf shows them (each commented out with its default)
missing=
for key in $(sed -n 's/^#\?\([a-z_]*\)=.*/\1/p' "$conf"); do
	documented vmtierd.conf.5 "$key" || missing+=" $key"
done
tap_check "vmtierd.conf.5 has every key of vmtierd.conf${missing:+, not:$missing}" test -z "$missing"
for unit in "$@"; do
	for ref in $(sed -n 's/^Documentation=//p' "$unit" | grep -o 'man:[^ ]*'); do
		page=$(sed 's/^man:\(.*\)(\(.*\))$/\1.\2/' <<<"$ref")
		tap_check "${unit##*/} names $ref: built" test -f "$mandir/$page"
	done
done
tap_done
