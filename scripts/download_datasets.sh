#!/usr/bin/env bash
# Downloads the query datasets of the paper (paper-spec 1.4) into data/ (needs internet; nothing in CI runs it).
#   scripts/download_datasets.sh [tldr] [tldr-valid] [cnndm] [books] [--dir DIR]
#   tldr        data/tldr/train-subset.json (about 4.5 GB) and valid-subset.json (about 124 MB)
#   tldr-valid  only data/tldr/valid-subset.json
#   cnndm       data/cnndm/url_lists/all_{train,val,test}.txt, and where to get and unpack the stories
#   books       what to use instead of the lost book passages (downloads nothing)
# Default: tldr cnndm books. Files already there with the size the server announces are kept; downloads
# resume (DEST.part, then rename). RLHF_OPENAI_BASE replaces
# https://openaipublic.blob.core.windows.net/lm-human-preferences (a mirror).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/data"
targets=()
while (($#)); do
  case "$1" in
    --dir) dest="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    tldr|tldr-valid|cnndm|books) targets+=("$1"); shift ;;
    *) echo "download_datasets.sh: unknown dataset or option '$1' (expected tldr, tldr-valid, cnndm, books, --dir)" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=(tldr cnndm books)
# shellcheck source=scripts/download_lib.sh
source "$root/scripts/download_lib.sh"
base="${RLHF_OPENAI_BASE:-https://openaipublic.blob.core.windows.net/lm-human-preferences}"

files=()
notes=()
stories="$dest/cnndm/stories"

get_tldr() {
  local mode
  for mode in "$@"; do
    fetch_file "$base/tldr/$mode-subset.json" "$dest/tldr/$mode-subset.json"
    files+=("$dest/tldr/$mode-subset.json")
  done
  notes+=("tldr: queries {format: json, field: content, path: $dest/tldr/train-subset.json (valid-subset.json for"
          "  evaluation; the paper maps test to valid), clean_text: true, query_length: 500, suffix: \"\\n\\nTL;DR:\"}")
}

count_stories() {  # dir: prints how many .story files it holds
  if [[ -d $1 ]]; then find "$1" -maxdepth 1 -name '*.story' -type f | wc -l; else echo 0; fi
}

get_cnndm() {
  local mode
  for mode in train val test; do
    fetch_file "$base/datasets/cnndm/url_lists/all_$mode.txt" "$dest/cnndm/url_lists/all_$mode.txt"
    files+=("$dest/cnndm/url_lists/all_$mode.txt")
  done
  mkdir -p "$stories"
  local cnn dm
  cnn=$(count_stories "$stories/cnn/stories")
  dm=$(count_stories "$stories/dailymail/stories")
  notes+=("cnndm: the URL lists name stories that are not downloaded by this script. Get cnn_stories.tgz and"
          "  dailymail_stories.tgz (DeepMind Q&A data, https://cs.nyu.edu/~kcho/DMQA/ ; also on Hugging Face, e.g."
          "  https://huggingface.co/datasets/cnn_dailymail/resolve/11343c3752184397d56efc19a8a7cceb68089318/data/cnn_stories.tgz"
          "  and .../data/dailymail_stories.tgz) and unpack both into $stories:"
          "    tar -xzf cnn_stories.tgz -C $stories && tar -xzf dailymail_stories.tgz -C $stories"
          "  which gives $stories/cnn/stories/*.story and $stories/dailymail/stories/*.story"
          "  (the archives hold 92,579 and 219,506 stories; found now: $cnn and $dm)."
          "  queries {format: cnndm, path: $dest/cnndm/url_lists/all_train.txt, stories_dir: $stories,"
          "  end_text: \"\\n\", query_length: 500, prefix: \"Article:\\n\\n\", suffix: \"\\n\\nTL;DR:\"}")
}

note_books() {
  notes+=("books: the paper's book passages (datasets/book_passages/{train,test}.jsonl) were lost when OpenAI moved"
          "  its files from Google Cloud to Azure, and cannot be downloaded. Use any text instead: a file with one JSON"
          "  string per line (format books, start_text and end_text \".\", query_length 64, as the paper), one text per"
          "  line (format text), or for a quick offline run Debian's fortunes (apt-get install fortunes;"
          "  format fortune, path /usr/share/games/fortunes). Others replaced them with BookCorpus passages.")
}

for target in "${targets[@]}"; do
  case "$target" in
    tldr) get_tldr train valid ;;
    tldr-valid) get_tldr valid ;;
    cnndm) get_cnndm ;;
    books) note_books ;;
  esac
done

echo
if ((${#files[@]})); then
  echo "Dataset files (in $dest):"
  report_files "${files[@]}"
fi
for line in "${notes[@]}"; do echo "$line"; done
