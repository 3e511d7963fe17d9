#!/usr/bin/env bash
# Downloads the pretrained GPT-2 files from the Hugging Face hub into models/<name>/ (needs internet).
#   scripts/download_gpt2.sh [gpt2|gpt2-medium|gpt2-large|gpt2-xl ...] [--dir DIR] [--bin]
# gpt2 = 124M, gpt2-medium = 355M, gpt2-large = 774M (the paper's model), gpt2-xl = 1.5B.
# --bin fetches pytorch_model.bin instead of model.safetensors (rlhf reads both).
set -euo pipefail

dest="models"
weights="model.safetensors"
names=()
while (($#)); do
  case "$1" in
    --dir) dest="$2"; shift 2 ;;
    --bin) weights="pytorch_model.bin"; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    gpt2|gpt2-medium|gpt2-large|gpt2-xl) names+=("$1"); shift ;;
    *) echo "download_gpt2.sh: unknown model or option '$1' (expected gpt2, gpt2-medium, gpt2-large, gpt2-xl, --dir, --bin)" >&2; exit 2 ;;
  esac
done
((${#names[@]})) || names=(gpt2)

fetch() {  # url, output file: resumable, atomic (download to .part, then rename)
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -C - -o "$2.part" "$1"
  else
    wget -c -O "$2.part" "$1"
  fi
  mv "$2.part" "$2"
}

for name in "${names[@]}"; do
  dir="$dest/$name"
  mkdir -p "$dir"
  for file in config.json vocab.json merges.txt "$weights"; do
    if [[ -s "$dir/$file" ]]; then echo "$dir/$file: already there"; continue; fi
    echo "downloading $name/$file"
    fetch "https://huggingface.co/openai-community/$name/resolve/main/$file" "$dir/$file"
  done
  echo "$dir: ready (rlhf generate --model $dir -p 'Hello')"
done
