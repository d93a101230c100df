#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The whole suite, as CI runs it: every fuzz target for a bounded time, the
# suite under ASan+UBSan, `bench/run --quick` on the normal build (every
# figure must be produced; speed is never judged), then the suite on the
# normal build.  The normal build's ctest runs last, so its closing line is
# the run's verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

echo "== fuzz targets (${IDW_FUZZ_SECONDS:-20} s each)"
IDW_FUZZ_SECONDS=${IDW_FUZZ_SECONDS:-20} bash tests/fuzz/run.sh build-fuzz

echo "== ASan+UBSan build and suite"
cmake -S . -B build-asan -DIDW_WERROR=ON -DIDW_SANITIZE=address,undefined \
	-DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== release build and suite"
cmake -S . -B build -DIDW_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

echo "== benchmarks, quick: every figure produced (bench/README.md)"
bench/run --quick --bin build/bin

ctest --test-dir build --output-on-failure -j"$jobs"
