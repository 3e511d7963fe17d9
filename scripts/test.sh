#!/usr/bin/env bash
# Builds rlhf and runs every test: the full suite (Release build, LibTorch), then the torch-free
# parsers (config, tokenizer, file formats) again under AddressSanitizer + UndefinedBehaviorSanitizer,
# then every libFuzzer target over its committed inputs and for RLHF_FUZZ_SECONDS (15) seconds each,
# and last the prepared GPU check's CPU dry run (scripts/gpu_check.sh --cpu-dry-run, docs/gpu.md).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRLHF_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRLHF_WITH_TORCH=OFF -DRLHF_SANITIZE=ON -DRLHF_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"

# Fuzzing (clang only; docs/fuzzing.md): replays fuzz/corpus and fuzz/regressions, then fuzzes a copy of the
# corpus per target. About 3 minutes on 2 cores from scratch, most of it the instrumented build.
if ! command -v clang++-14 >/dev/null; then
  echo "scripts/test.sh: clang++-14 not found; scripts/setup.sh installs it (clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DRLHF_WITH_TORCH=OFF \
  -DRLHF_BUILD_TESTS=OFF -DRLHF_FUZZ=ON -DRLHF_FUZZ_SECONDS="${RLHF_FUZZ_SECONDS:-15}" >/dev/null
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz --output-on-failure -j"$jobs"

# The prepared GPU check end to end on the CPU with tiny shapes, against build/ (docs/gpu.md): keeps
# scripts/gpu_check.sh working while no GPU is lent. About a minute after the build.
scripts/gpu_check.sh --cpu-dry-run --build-dir build --out build/gpu-check-dry-run
