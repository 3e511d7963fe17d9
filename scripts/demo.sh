#!/usr/bin/env bash
# The main job on an embedded default: builds rlhf, then runs it end to end on the tiny GPT-2 that
# ships with the tests (tests/data/tiny-gpt2: 2 layers, 512-token vocabulary, random weights):
# tokenize, sample continuations, score texts, and benchmark. Outputs go to runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target rlhf
rlhf=build/rlhf
model=tests/data/tiny-gpt2
out=runs/demo
mkdir -p "$out"

set -x
$rlhf tokenize --model "$model" "Hello world, this is rlhf."
$rlhf generate --model "$model" -p "The quick brown fox" -p "Once upon a time" -n 16 --seed 1 -o "$out/samples.jsonl"
$rlhf logprobs --model "$model" --text "The quick brown fox jumps over the lazy dog." -o "$out/logprobs.json"
$rlhf bench --model "$model" -b 8 --prompt-length 32 --new-tokens 16 --iterations 3 -o "$out/bench.json"
set +x
echo "demo: outputs in $out/:"
ls -l "$out"
cat "$out/samples.jsonl"
