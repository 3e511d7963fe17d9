#!/usr/bin/env bash
# The prepared GPU check (docs/gpu.md). On a machine with one NVIDIA GPU, PyTorch and nvcc but no package
# manager or network: builds rlhf against that PyTorch's LibTorch (scripts/build_cuda.sh, the other
# libraries from deps/debs/), then runs, in well under 8 minutes,
#   1. the device checks (build/rlhf_device_tests: logits, bf16, KV cache, sampling, one PPO update, each
#      CUDA against the CPU in fp32; one PPO batch under CUDA sync-debug mode = error; peak memory),
#   2. `rlhf bench` at the paper's shapes: forward and sampling tokens/s of 124M and 774M at batch 512,
#      64 query + 24 response tokens (bf16, and 124M in fp32), and PPO episodes/s of the sentiment recipe
#      (124M, batch 512, microbatches of 64, 4 epochs; fp32 with its loops under sync-debug mode, then bf16),
# and writes OUT/gpu_check.json (every figure, achieved TFLOP/s against the chip's bf16 peak, the projected
# time of the paper's 1M-episode run) and OUT/gpu_check.log.
#
#   scripts/gpu_check.sh [--out DIR] [--build-dir DIR] [--no-build]        # on the GPU machine
#   scripts/gpu_check.sh --cpu-dry-run [--out DIR] [--build-dir DIR]       # the same steps on the CPU
# --cpu-dry-run runs every step end to end on the CPU with tiny shapes (tests/data/tiny-gpt2) against the
# normal host build (default build/; it adds the rlhf_device_tests target), so the script cannot rot
# while no GPU is lent; its figures mean nothing. Default OUT: out/gpu-check. Exit status: 0 when every
# step passed.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=gpu out=out/gpu-check build_dir="" build=1
while (($#)); do
  case "$1" in
    --cpu-dry-run) mode=cpu; shift ;;
    --out) out="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ "$mode" == cpu ]]; then
  build_dir=${build_dir:-build} device=cpu
else
  build_dir=${build_dir:-build-cuda} device=cuda
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps="$work/steps.tsv"
: >"$steps"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# step NAME TIMEOUT_S COMMAND...: runs it (under `timeout` unless TIMEOUT_S is 0, for shell functions),
# logs it, records "name <tab> exit status <tab> milliseconds". A failed step does not stop the others.
step() {
  local name=$1 limit=$2 start rc
  shift 2
  echo "==== $name: $*"
  start=$(now_ms)
  if ((limit > 0)); then timeout "$limit" "$@"; else "$@"; fi
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(($(now_ms) - start))" >>"$steps"
  echo "==== $name: exit $rc after $(($(now_ms) - start)) ms"
  return 0
}

build_rlhf() {
  if [[ "$mode" == gpu ]]; then
    scripts/build_cuda.sh --build-dir "$build_dir" rlhf rlhf_device_tests
  else
    [[ -f "$build_dir/CMakeCache.txt" ]] || cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build_dir" -j"$(nproc)" --target rlhf rlhf_device_tests
  fi
}

describe_machine() {
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  uname -srm
  nproc
  if [[ "$mode" == gpu ]]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
    PATH="/usr/local/cuda/bin:$PATH" nvcc --version | tail -2
  fi
}

main() {
  describe_machine | tee "$work/machine.txt"
  if ((build)); then step build 0 build_rlhf; fi
  if [[ "$mode" == gpu ]]; then eval "$(scripts/build_cuda.sh --print-env)"; fi
  local rlhf="$build_dir/rlhf"
  local checks_start
  checks_start=$(now_ms)

  step device_tests 240 env RLHF_TEST_DEVICE="$device" "$build_dir/rlhf_device_tests" \
    --gtest_output="json:$work/device_tests.json"

  # Throughput. Shapes: the paper's on the GPU; tiny ones on the CPU (the same commands otherwise).
  local common=(--device "$device" --log-level warn)
  local -a big small shape ppo_shape
  if [[ "$mode" == gpu ]]; then
    big=(--size 774M) small=(--size 124M)
    shape=(-b 512 --prompt-length 64 --new-tokens 24 --iterations 5 --warmup 2)
    ppo_shape=(-b 8 --prompt-length 64 --new-tokens 24 --iterations 2 --warmup 1
               --ppo --ppo-batch-size 512 --ppo-microbatch-size 64 --ppo-epochs 4)
  else
    big=(--model tests/data/tiny-gpt2) small=(--model tests/data/tiny-gpt2)
    shape=(-b 4 --prompt-length 8 --new-tokens 4 --iterations 1 --warmup 1)
    ppo_shape=(-b 2 --prompt-length 8 --new-tokens 4 --iterations 1 --warmup 1
               --ppo --ppo-batch-size 8 --ppo-microbatch-size 4 --ppo-epochs 4)
  fi
  step bench_124M_bf16 120 "$rlhf" bench "${common[@]}" "${small[@]}" "${shape[@]}" --precision bf16 \
    -o "$work/bench_124M_bf16.json"
  step bench_124M_fp32 120 "$rlhf" bench "${common[@]}" "${small[@]}" "${shape[@]}" --precision fp32 \
    -o "$work/bench_124M_fp32.json"
  step bench_774M_bf16 180 "$rlhf" bench "${common[@]}" "${big[@]}" "${shape[@]}" --precision bf16 \
    -o "$work/bench_774M_bf16.json"
  # The sentiment recipe's PPO batch, its rollout and minibatch loops under sync-debug mode = error. If that
  # fails, the same again without the check, for the throughput.
  step ppo_124M_fp32_sync_check 240 "$rlhf" bench "${common[@]}" "${small[@]}" "${ppo_shape[@]}" --precision fp32 \
    --ppo-forbid-sync -o "$work/ppo_124M_fp32.json"
  if [[ ! -s "$work/ppo_124M_fp32.json" ]]; then
    step ppo_124M_fp32 240 "$rlhf" bench "${common[@]}" "${small[@]}" "${ppo_shape[@]}" --precision fp32 \
      -o "$work/ppo_124M_fp32.json"
  fi
  # The same batch with every forward and backward in bf16 autocast (fp32 weights and Adam state).
  step ppo_124M_bf16 240 "$rlhf" bench "${common[@]}" "${small[@]}" "${ppo_shape[@]}" --precision bf16 \
    --train-precision bf16 -o "$work/ppo_124M_bf16.json"
  python3 scripts/gpu_check_summary.py --mode "$mode" --work "$work" \
    --checks-ms "$(($(now_ms) - checks_start))" --out "$out/gpu_check.json"
}

main 2>&1 | tee "$out/gpu_check.log"
exit "${PIPESTATUS[0]}"
