#!/bin/bash
# run-fuzzer.sh [SECONDS]: a libFuzzer campaign (clang, ASan+UBSan) on the
# QMP parser, growing tests/fuzz/corpus/qmp (then minimized with -merge).
# Needs clang and libclang-rt-14-dev.  Commit the corpus it leaves.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../..
secs=${1:-300}
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I"$src/qmp" \
	$(pkg-config --cflags glib-2.0 json-c) "$here/fuzz-qmp.c" "$src/qmp/qmp-parser.c" \
	$(pkg-config --libs glib-2.0 json-c) -o "$out/fuzz-qmp"
mkdir -p "$out/new"
"$out/fuzz-qmp" -max_total_time="$secs" -max_len=65536 -timeout=10 "$out/new" "$here/corpus/qmp" || exit 1
mkdir -p "$out/min"
"$out/fuzz-qmp" -merge=1 "$out/min" "$here/corpus/qmp" "$out/new" >/dev/null 2>&1
rm -f "$here"/corpus/qmp/*
cp "$out"/min/* "$here/corpus/qmp/"
ls "$here/corpus/qmp" | wc -l
