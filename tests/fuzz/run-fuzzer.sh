#!/bin/bash
# run-fuzzer.sh [SECONDS] [TARGET...]: a libFuzzer campaign (clang, ASan +
# UBSan) of SECONDS (default 300) on each TARGET (default all: memmap proc
# domain-plan qmp size config class report ctl), each growing
# tests/fuzz/corpus/TARGET, which is then minimised with -merge.  The library sources are built instrumented here
# (config.h from $VMTIER_BUILD, default ./build).  Needs clang and
# libclang-rt-dev.  A crash leaves its input in tests/fuzz/crashes/ and
# fails.  Commit the corpora it leaves.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${VMTIER_BUILD:-$src/build}
secs=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(memmap domain-plan proc qmp size config class report ctl)
[ -f "$build/config.h" ] || { echo "run-fuzzer.sh: no $build/config.h: build first" >&2; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
layers=(common policy host plan libvirt store report ctl)
cflags=(-g -O1 -fsanitize=fuzzer-no-link,address,undefined -D_GNU_SOURCE -DG_LOG_USE_STRUCTURED=1
	-I"$build" -I"$src/qmp" $(for l in "${layers[@]}"; do echo "-I$src/src/$l"; done)
	$(pkg-config --cflags glib-2.0 gio-2.0 gio-unix-2.0 json-c sqlite3 libdaxctl libxml-2.0 libvirt))
libs=($(pkg-config --libs glib-2.0 gio-2.0 gio-unix-2.0 json-c sqlite3 libdaxctl libxml-2.0 libvirt) -lnuma)
objs=()
for f in "$src"/qmp/*.c $(for l in "${layers[@]}"; do ls "$src/src/$l"/*.c; done); do
	o=$out/$(basename "$(dirname "$f")")-$(basename "$f" .c).o
	clang "${cflags[@]}" -c "$f" -o "$o" &
	objs+=("$o")
	[ $(jobs -r | wc -l) -lt 2 ] || wait -n
done
wait
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
rc=0
for t in "${targets[@]}"; do
	corpus=$here/corpus/$t
	clang "${cflags[@]}" -fsanitize=fuzzer "$here/fuzz-$t.c" "${objs[@]}" "${libs[@]}" -o "$out/fuzz-$t"
	mkdir -p "$corpus" "$out/$t-new" "$out/$t-min" "$out/$t-crash"
	echo "== $t: ${secs} s from $(ls "$corpus" | wc -l) inputs"
	t0=$SECONDS
	if ! "$out/fuzz-$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix="$out/$t-crash/" -print_final_stats=1 "$out/$t-new" "$corpus" \
		2>"$out/$t.log"; then
		mkdir -p "$here/crashes"
		for f in "$out/$t-crash"/*; do cp "$f" "$here/crashes/$t-$(basename "$f")"; done
		grep -E "ERROR|SUMMARY|runtime error|deadly signal" "$out/$t.log" | head -5
		echo "== $t: CRASH, input in tests/fuzz/crashes/"
		rc=1
	fi
	echo "   ran $((SECONDS - t0)) s"
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$t.log" | tr -s ' ' | sed 's/^/   /'
	"$out/fuzz-$t" -merge=1 "$out/$t-min" "$corpus" "$out/$t-new" >/dev/null 2>&1
	rm -f "$corpus"/*
	cp "$out/$t-min"/* "$corpus/"
	echo "== $t: corpus now $(ls "$corpus" | wc -l) inputs"
done
exit $rc
