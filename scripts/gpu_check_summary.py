#!/usr/bin/env python3
"""The last step of scripts/gpu_check.sh: gathers the step results, the device tests' GoogleTest JSON and the
`rlhf bench` outputs of a work folder into one JSON file, adds achieved TFLOP/s and the projected time of
the paper's 1M-episode run, prints a short table, and exits 0 only when every step and test passed.

FLOPs counted (matrix products only; LayerNorm, softmax, GELU and the optimizer left out), for GPT-2 with
L layers, width d, vocabulary V, a token attending to T keys:
  trunk token  = 24 L d^2 + 4 L T d       (QKV, projection and MLP products; scores and weighted sum)
  logits       = 2 V d                    (per position whose next-token distribution is computed)
  forward bench: B (P+N) tokens, each trunk (T = P+N) + logits.
  sampling:    prefill B P trunk tokens (T = P) + B logits, then N-1 steps of B tokens attending to P+i
               keys, each with logits.
  PPO episode: sampling + policy forward and reference forward (P+N trunk tokens, N logits each) + reward
               model (P+N trunk tokens) + noptepochs x (forward + backward = 3 x a policy forward).
"""
import argparse
import datetime
import json
import os
import sys

BF16_DENSE_SPEC_TFLOPS = {"H200": 989.5, "H100": 989.5}  # NVIDIA's dense BF16 tensor-core figure (SXM)
BF16_MEASURED_TFLOPS = {"H200": 790.0}  # 8192^3 bf16 matmul through PyTorch on the lent H200 (environment.md)
PAPER_EPISODES = 1_000_000  # the sentiment run of Ziegler et al. 2019


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def trunk_token(shape, keys):
    L, d = shape["n_layer"], shape["n_embd"]
    return 24 * L * d * d + 4 * L * keys * d


def logits(shape):
    return 2 * shape["vocab_size"] * shape["n_embd"]


def forward_flops(shape, batch, tokens):
    return batch * tokens * (trunk_token(shape, tokens) + logits(shape))


def sampling_flops(shape, batch, prompt, new):
    total = batch * (prompt * trunk_token(shape, prompt) + logits(shape))
    for i in range(1, new):
        total += batch * (trunk_token(shape, prompt + i) + logits(shape))
    return total


def ppo_episode_flops(shape, prompt, new, epochs):
    T = prompt + new
    policy_forward = T * trunk_token(shape, T) + new * logits(shape)
    return (sampling_flops(shape, 1, prompt, new) + 2 * policy_forward + T * trunk_token(shape, T)
            + epochs * 3 * policy_forward)


def gpu_name(machine):
    for name in BF16_DENSE_SPEC_TFLOPS:
        if name in machine:
            return name
    return None


def device_tests(report):
    if report is None:
        return {"ran": False}
    out = {"ran": True, "tests": []}
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for suite in report.get("testsuites", []):
        for case in suite.get("testsuite", []):
            failed = bool(case.get("failures"))
            skipped = case.get("result") == "SKIPPED" or case.get("status") == "NOTRUN"
            status = "failed" if failed else "skipped" if skipped else "passed"
            counts[status] += 1
            known = {"name", "status", "result", "time", "timestamp", "classname", "failures", "file", "line"}
            entry = {"name": suite["name"] + "." + case["name"], "status": status}
            entry.update({k: v for k, v in case.items() if k not in known})
            if failed:
                entry["failures"] = [f.get("failure", "")[:500] for f in case["failures"]]
            out["tests"].append(entry)
    out.update(counts)
    return out


def with_tflops(bench, peak_spec, peak_measured):
    """Adds achieved TFLOP/s for the forward and sampling parts of one `rlhf bench` output."""
    if bench is None:
        return None
    shape, B, P, N = bench["shape"], bench["batch_size"], bench["prompt_length"], bench["new_tokens"]
    parts = {"forward": (forward_flops(shape, B, P + N), bench["forward_ms"]),
             "sampling": (sampling_flops(shape, B, P, N), bench["sampling_ms"])}
    for part, (flops, ms) in parts.items():
        tflops = flops / (ms / 1e3) / 1e12
        bench[part + "_tflops"] = tflops
        if peak_spec:
            bench[part + "_fraction_of_bf16_spec_peak"] = tflops / peak_spec
        if peak_measured:
            bench[part + "_fraction_of_bf16_measured_matmul"] = tflops / peak_measured
    return bench


def ppo_with_flops(ppo, result, peak_spec, mode):
    """Adds FLOPs per episode, TFLOP/s and the projected time of the paper's run to one PPO benchmark."""
    if not ppo:
        return None
    o = ppo["options"]
    per_episode = ppo_episode_flops(ppo["model"], o["query_length"], o["response_length"], o["noptepochs"])
    ppo["flops_per_episode"] = per_episode
    ppo["tflops"] = per_episode * ppo["episodes_per_s"] / 1e12
    if peak_spec:
        ppo["fraction_of_bf16_spec_peak"] = ppo["tflops"] / peak_spec
    ppo["projected_hours_1M_episodes"] = PAPER_EPISODES / ppo["episodes_per_s"] / 3600
    # The paper ran 774M; an estimate at the same achieved FLOP/s (an extrapolation, not measured).
    big = result["throughput"].get("774M_bf16")
    if big and mode == "gpu":
        per_episode_774m = ppo_episode_flops(big["shape"], o["query_length"], o["response_length"], o["noptepochs"])
        ppo["estimated_hours_1M_episodes_774M_at_same_tflops"] = (
            PAPER_EPISODES * per_episode_774m / (ppo["tflops"] * 1e12) / 3600)
    return ppo


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["gpu", "cpu"], required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--checks-ms", type=float, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    w = lambda name: os.path.join(a.work, name)

    machine = open(w("machine.txt")).read() if os.path.exists(w("machine.txt")) else ""
    steps = []
    if os.path.exists(w("steps.tsv")):
        for line in open(w("steps.tsv")):
            name, rc, ms = line.rstrip("\n").split("\t")
            steps.append({"name": name, "exit": int(rc), "seconds": int(ms) / 1e3})
    chip = gpu_name(machine) if a.mode == "gpu" else None
    peak_spec, peak_measured = BF16_DENSE_SPEC_TFLOPS.get(chip), BF16_MEASURED_TFLOPS.get(chip)

    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": a.mode,
        "note": ("CPU dry run with tiny shapes: proves that the script runs; its figures mean nothing"
                 if a.mode == "cpu" else "GPU run at the paper's shapes"),
        "machine": machine.strip().splitlines(),
        "steps": steps,
        "checks_seconds": a.checks_ms / 1e3,
        "checks_within_8_minutes": a.checks_ms / 1e3 < 480,
        "peaks_tflops": {"chip": chip, "bf16_dense_spec": peak_spec, "bf16_measured_matmul": peak_measured},
        "flop_counting": __doc__.split("FLOPs counted", 1)[1].strip(),
        "device_tests": device_tests(load(w("device_tests.json"))),
        "throughput": {},
    }
    for name in ("124M_bf16", "124M_fp32", "774M_bf16"):
        result["throughput"][name] = with_tflops(load(w("bench_" + name + ".json")), peak_spec, peak_measured)

    sync_step = next((s for s in steps if s["name"] == "ppo_124M_fp32_sync_check"), None)
    for precision in ("fp32", "bf16"):
        ppo_bench = load(w("ppo_124M_" + precision + ".json"))
        result["ppo_sentiment_recipe_" + precision] = ppo_with_flops(
            ppo_bench.get("ppo") if ppo_bench else None, result, peak_spec, a.mode)
    ppo = result["ppo_sentiment_recipe_fp32"]
    result["sync_debug_check"] = {
        "where": "the timed PPO batch of the sentiment recipe (rlhf bench --ppo-forbid-sync) and "
                 "DeviceParity.PpoBatchRunsWithoutHostSynchronisationInItsLoops",
        "checkable": a.mode == "gpu",
        "passed": bool(sync_step and sync_step["exit"] == 0),
    }

    tests = result["device_tests"]
    ok = all(s["exit"] == 0 for s in steps) and tests.get("ran") and tests.get("failed", 1) == 0 and ppo is not None
    result["passed"] = bool(ok)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    print("\n==== gpu_check summary (%s mode) -> %s" % (a.mode, a.out))
    for s in steps:
        print("  %-28s exit %-3d %7.1f s" % (s["name"], s["exit"], s["seconds"]))
    print("  device tests: %s passed, %s failed, %s skipped" % (tests.get("passed"), tests.get("failed"),
                                                             tests.get("skipped")))
    for name, b in result["throughput"].items():
        if b:
            print("  %-10s forward %10.0f tok/s %7.1f TFLOP/s | sampling %9.0f tok/s %7.1f TFLOP/s" % (
                name, b["forward_tokens_per_s"], b["forward_tflops"], b["sampling_tokens_per_s"],
                b["sampling_tflops"]))
    for precision in ("fp32", "bf16"):
        p = result["ppo_sentiment_recipe_" + precision]
        if p:
            print("  PPO 124M %s: %.1f episodes/s, %.1f TFLOP/s, 1M episodes in %.2f h" % (
                precision, p["episodes_per_s"], p["tflops"], p["projected_hours_1M_episodes"]))
    print("  checks took %.0f s (limit 480); passed: %s" % (result["checks_seconds"], result["passed"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
