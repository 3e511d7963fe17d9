#!/usr/bin/env bash
# Downloads the human labels OpenAI released with the paper (paper-spec 1.2) into data/labels/<task>/
# (needs internet; nothing in CI runs it).
#   scripts/download_labels.sh [sentiment] [descriptiveness] [tldr] [cnndm] [--offline-60k] [--dir DIR]
# Default: all four tasks, the files the paper's launch.py trains on: sentiment/offline_5k.json,
# descriptiveness/offline_5k.json (about 6 MB each), tldr/online_45k.json and cnndm/online_45k.json (about
# 220 MB each). --offline-60k adds tldr and cnndm offline_60k.json (launch.py's commented-out alternative).
# Files already there with the size the server announces are kept; downloads resume (DEST.part, then rename).
# RLHF_OPENAI_BASE replaces https://openaipublic.blob.core.windows.net/lm-human-preferences (a mirror).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/data/labels"
offline60k=0
tasks=()
while (($#)); do
  case "$1" in
    --dir) dest="$(realpath -m "$2")"; shift 2 ;;
    --offline-60k) offline60k=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    sentiment|descriptiveness|tldr|cnndm) tasks+=("$1"); shift ;;
    *) echo "download_labels.sh: unknown task or option '$1' (expected sentiment, descriptiveness, tldr, cnndm, --offline-60k, --dir)" >&2; exit 2 ;;
  esac
done
((${#tasks[@]})) || tasks=(sentiment descriptiveness tldr cnndm)
# shellcheck source=scripts/download_lib.sh
source "$root/scripts/download_lib.sh"
base="${RLHF_OPENAI_BASE:-https://openaipublic.blob.core.windows.net/lm-human-preferences}"

files=()
for task in "${tasks[@]}"; do
  case "$task" in
    sentiment|descriptiveness) names=(offline_5k.json) ;;
    *) names=(online_45k.json)
       if ((offline60k)); then names+=(offline_60k.json); fi ;;
  esac
  for name in "${names[@]}"; do
    fetch_file "$base/labels/$task/$name" "$dest/$task/$name"
    files+=("$dest/$task/$name")
  done
done

echo
echo "Label files (in $dest; OpenAI's format: a JSON array of query/sample0..3/best records of token ids):"
report_files "${files[@]}"
echo "use: rlhf train-reward --labels $dest/<task>/<file> ... (the paper: num_train 4992 for the 5k files, 46000 for online_45k)"
