#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Build every libFuzzer target (tests/fuzz/fuzz_*.c) with clang into BUILD_DIR
# and run each one for a bounded time, starting from its seeds in
# tests/fuzz/seeds/<target>/ when there are any.  Fails on any crash, leak,
# timeout or out-of-memory, and leaves the input that caused it in
# BUILD_DIR/fuzz-artifacts/.
#
#   tests/fuzz/run.sh [BUILD_DIR]      (default: build-fuzz)
#
# IDW_FUZZ_SECONDS   seconds per target (default 30)
# IDW_CJSON_SRC      cJSON 1.7.15 source dir to compile instrumented
#                    (see NOTES: 'apt-get source cjson')
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$src/build-fuzz}
secs=${IDW_FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)

case $secs in
'' | *[!0-9]*) echo "run.sh: IDW_FUZZ_SECONDS must be a whole number" >&2; exit 2 ;;
esac
command -v clang >/dev/null 2>&1 || { echo "run.sh: clang not found" >&2; exit 2; }

targets=()
for f in "$src"/tests/fuzz/fuzz_*.c; do
	[ -e "$f" ] || continue
	t=$(basename "$f" .c)
	targets+=("$t")
done
[ ${#targets[@]} -gt 0 ] || { echo "run.sh: no fuzz targets in tests/fuzz" >&2; exit 2; }

config=(-S "$src" -B "$build" -DIDW_FUZZ=ON -DCMAKE_C_COMPILER=clang)
if [ -n "${IDW_CJSON_SRC:-}" ]; then
	config+=("-DIDW_CJSON_SRC=$IDW_CJSON_SRC")
fi
mkdir -p "$build"
build=$(cd "$build" && pwd)
log=$build/fuzz-build.log
echo "== configure ${config[*]}"
echo "== build ${targets[*]} (log: $log)"
if ! { cmake "${config[@]}" &&
	cmake --build "$build" -j "$jobs" --target "${targets[@]}"; } >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "run.sh: build failed" >&2
	exit 1
fi

artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
failed=()
for t in "${targets[@]}"; do
	corpus=$build/fuzz-corpus/$t
	mkdir -p "$corpus"
	dirs=("$corpus")
	from="corpus $corpus"
	seeds=$src/tests/fuzz/seeds/$t
	if [ -d "$seeds" ]; then
		dirs+=("$seeds")
		from="$from, seeds $seeds"
	fi
	echo "== $t for ${secs}s ($from)"
	# New inputs go to the first directory only: the seeds stay as they are.
	# A vault image is at least 12 KiB: allow inputs up to 64 KiB.
	if "$build/bin/$t" -max_total_time="$secs" -timeout=10 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
		"${dirs[@]}" >"$build/$t.log" 2>&1; then
		grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' \
			"$build/$t.log" || true
	else
		echo "!! $t failed: see $build/$t.log and $artifacts/" >&2
		tail -n 40 "$build/$t.log" >&2
		failed+=("$t")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "== FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "== all ${#targets[@]} fuzz targets ran ${secs}s without a crash"
