#!/bin/sh
# Runs one libFuzzer target for ctest (see the fuzz block of CMakeLists.txt and docs/fuzzing.md).
#   run_target.sh BINARY NAME FUZZ_DIR WORK_DIR replay
#       runs every committed input once: FUZZ_DIR/corpus/NAME/* and FUZZ_DIR/regressions/NAME/*
#   run_target.sh BINARY NAME FUZZ_DIR WORK_DIR run SECONDS
#       fuzzes for SECONDS, starting from a fresh copy of FUZZ_DIR/corpus/NAME in WORK_DIR/corpus, so the
#       committed corpus is never written; a crash, leak or timeout input lands in WORK_DIR as crash-*,
#       leak-* or timeout-* (reproduce: BINARY WORK_DIR/crash-...).
# FUZZ_DIR/NAME.dict, if present, is the target's dictionary.
set -eu
binary=$1 name=$2 fuzz_dir=$3 work=$4 mode=$5
corpus=$fuzz_dir/corpus/$name
regressions=$fuzz_dir/regressions/$name
dict=""
[ -f "$fuzz_dir/$name.dict" ] && dict="-dict=$fuzz_dir/$name.dict"
limits="-timeout=10 -rss_limit_mb=2048"

case $mode in
  replay)
    # Inputs given as files are run once each and nothing is written.
    set --
    for dir in "$corpus" "$regressions"; do
      [ -d "$dir" ] || continue
      for file in "$dir"/*; do
        [ -f "$file" ] && set -- "$@" "$file"
      done
    done
    if [ $# -eq 0 ]; then
      echo "no committed inputs for $name" >&2
      exit 1
    fi
    exec "$binary" $limits "$@"
    ;;
  run)
    seconds=${6:-15}
    rm -rf "$work"
    mkdir -p "$work/corpus"
    cp "$corpus"/* "$work/corpus/"
    cd "$work"
    # $dict unquoted on purpose: empty means no argument.
    exec "$binary" -max_total_time="$seconds" $limits $dict -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus"
    ;;
  *)
    echo "usage: $0 BINARY NAME FUZZ_DIR WORK_DIR replay|run [SECONDS]" >&2
    exit 2
    ;;
esac
