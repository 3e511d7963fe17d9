#!/usr/bin/env bash
# Downloads the pretrained GPT-2 files from the Hugging Face hub into models/<name>/ (needs internet).
#   scripts/download_gpt2.sh [gpt2|gpt2-medium|gpt2-large|gpt2-xl ...] [--dir DIR] [--bin]
# gpt2 = 124M, gpt2-medium = 355M, gpt2-large = 774M (the paper's model), gpt2-xl = 1.5B.
# --bin fetches pytorch_model.bin instead of model.safetensors (rlhf reads both).
# Files already there with the size the hub announces are kept; downloads resume (DEST.part, then rename).
# RLHF_HF_BASE replaces https://huggingface.co (a mirror).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/models"
weights="model.safetensors"
names=()
while (($#)); do
  case "$1" in
    --dir) dest="$(realpath -m "$2")"; shift 2 ;;
    --bin) weights="pytorch_model.bin"; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    gpt2|gpt2-medium|gpt2-large|gpt2-xl) names+=("$1"); shift ;;
    *) echo "download_gpt2.sh: unknown model or option '$1' (expected gpt2, gpt2-medium, gpt2-large, gpt2-xl, --dir, --bin)" >&2; exit 2 ;;
  esac
done
((${#names[@]})) || names=(gpt2)
# shellcheck source=scripts/download_lib.sh
source "$root/scripts/download_lib.sh"
hub="${RLHF_HF_BASE:-https://huggingface.co}"

files=()
for name in "${names[@]}"; do
  for file in config.json vocab.json merges.txt "$weights"; do
    fetch_file "$hub/openai-community/$name/resolve/main/$file" "$dest/$name/$file"
    files+=("$dest/$name/$file")
  done
done

echo
echo "GPT-2 files (in $dest):"
report_files "${files[@]}"
for name in "${names[@]}"; do echo "use: rlhf generate --model $dest/$name -p 'Hello'"; done
