#!/usr/bin/python3
"""One PPO batch on the tiny GPT-2, from the paper's spec alone: the golden numbers of
tests/ppo/ppo_golden_test.cpp.

Usage: /usr/bin/python3 scripts/make_ppo_golden.py > /tmp/golden.txt   (Debian's Python: it has PyTorch)

Everything here follows /work/shared/reference/paper-spec.md (sections 4.1-4.4 and 5), written in
float64 without any of the C++ code: the GPT-2 forward is scripts/make_tiny_gpt2.py's own
(`reference_forward`); the rest (temperature-scaled log-probabilities, truncation and penalty,
per-token KL, rewards, whitening, GAE, the clipped losses and TensorFlow's Adam) is below.
The rollout is fixed (query and response token ids and a deterministic score function), so no
sampling randomness enters, and with one minibatch per epoch no permutation changes a number.

The fixture (the C++ test sets up the same one):
  policy    tests/data/tiny-gpt2 with a value head w_j = ((7 j) mod 11 - 5) / 40, b = 1/8
  reference tests/data/tiny-gpt2-bf16 (the same weights rounded to bfloat16), frozen
  context   8 rows of 5 tokens, rows 1, 4 and 6 left-padded; the raw query is the context
  responses 8 rows of 6 tokens, truncate token 13 at index >= 2: rows 0, 2, 4, 5, 7 are cut after
            their first one (rows 2 and 4 lose later 13s), rows 1, 3 and 6 have none and get the penalty
  score     base_b + 0.1 * (tokens of the truncated response that are not pads); penalty -1
  PPO       T 0.7, beta 0.3, whitened rewards, gamma 1, lam 0.95, cliprange 0.2 (value 0.2),
            vf_coef 0.1, no entropy bonus, 2 epochs of 1 minibatch (2 Adam steps), lr 0.002
            (the C++ side accumulates each minibatch's gradient over 2 microbatches of 4),
            Adam beta 0.9/0.999, eps 1e-5 in TensorFlow's formulation
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_gpt2 as gpt2  # noqa: E402  (the independent float64 GPT-2 forward)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")

PAD = 514
CONTEXT = [[17, 250, 33, 408, 91],
           [PAD, PAD, 120, 5, 77],
           [300, 2, 64, 199, 13],
           [45, 46, 47, 48, 49],
           [PAD, 60, 61, 62, 63],
           [7, 8, 9, 10, 11],
           [PAD, PAD, PAD, 400, 401],
           [222, 333, 444, 111, 13]]
RESPONSE = [[40, 77, 301, 13, 88, 150],
            [13, 9, 220, 45, 300, 61],
            [5, 200, 13, 13, 7, 400],
            [100, 101, 102, 103, 104, 105],
            [13, 13, 13, 13, 13, 13],
            [1, 2, 3, 4, 5, 13],
            [300, 13, 301, 302, 303, 304],
            [50, 51, 52, 53, 13, 54]]
BASE_SCORE = [0.5, 1.5, -0.25, 2.0, 0.75, -1.25, 0.3, 1.0]
TRUNCATE_TOKEN, TRUNCATE_AFTER, PENALTY = 13, 2, -1.0
TEMPERATURE, BETA = 0.7, 0.3
GAMMA, LAM, CLIP, CLIP_VALUE, VF_COEF = 1.0, 0.95, 0.2, 0.2, 0.1
EPOCHS, LR, BETA1, BETA2, ADAM_EPS = 2, 0.002, 0.9, 0.999, 1e-5


def load(name):
    """Hub-named float64 weights of a fixture directory (the "transformer." prefix dropped)."""
    w = gpt2.read_safetensors(os.path.join(DATA, name, "model.safetensors"))
    return {k[len("transformer."):] if k.startswith("transformer.") else k: v.to(torch.float64)
            for k, v in w.items()}


def analyze(w, v_head, context, mask, response):
    """Spec 4.1/4.2: one forward over context + response; log p(response_t) under softmax(logits / T)
    and the value of the state before response_t, both [B, N]."""
    Tc, N = context.shape[1], response.shape[1]
    ids = torch.cat([context, response], 1)
    full_mask = torch.cat([mask, torch.ones_like(response)], 1)
    hidden, logits = gpt2.reference_forward(w, ids, full_mask, gpt2.positions_from_mask(full_mask))
    h = hidden[:, Tc - 1:Tc + N - 1]                                   # [B, N, C]
    logp = torch.log_softmax(logits[:, Tc - 1:Tc + N - 1] / TEMPERATURE, -1)
    logprobs = logp.gather(-1, response.unsqueeze(-1)).squeeze(-1)     # [B, N]
    values = None if v_head is None else h @ v_head[0] + v_head[1]    # [B, N]
    return logprobs, values


def truncate(response):
    """Spec 5: every token after the first truncate token at index >= truncate_after becomes a pad."""
    out = []
    for row in response.tolist():
        cut = next((i for i, t in enumerate(row) if t == TRUNCATE_TOKEN and i >= TRUNCATE_AFTER), None)
        out.append(row if cut is None else row[:cut + 1] + [PAD] * (len(row) - cut - 1))
    return out


def scores(processed):
    out = []
    for base, row in zip(BASE_SCORE, processed):
        valid = TRUNCATE_TOKEN in row[TRUNCATE_AFTER:]
        out.append(base + 0.1 * sum(t != PAD for t in row) if valid else PENALTY)
    return torch.tensor(out, dtype=torch.float64)


def whiten(x, shift_mean=True):
    """Spec 4.3: biased variance over all elements, rsqrt(var + 1e-8)."""
    mean = x.mean()
    var = ((x - mean) ** 2).mean()
    out = (x - mean) / torch.sqrt(var + 1e-8)
    return out if shift_mean else out + mean


def gae(rewards, values):
    """Spec 4.3: delta_t = r_t + gamma V_{t+1} - V_t (V after the last token 0), A_t = delta_t + gamma lam A_{t+1}."""
    B, N = rewards.shape
    adv = torch.zeros(B, N, dtype=torch.float64)
    last = torch.zeros(B, dtype=torch.float64)
    for t in reversed(range(N)):
        next_value = values[:, t + 1] if t + 1 < N else torch.zeros(B, dtype=torch.float64)
        delta = rewards[:, t] + GAMMA * next_value - values[:, t]
        last = delta + GAMMA * LAM * last
        adv[:, t] = last
    return whiten(adv), adv + values


def main():
    torch.set_default_dtype(torch.float64)
    policy = load("tiny-gpt2")
    reference = load("tiny-gpt2-bf16")
    C = policy["wte.weight"].shape[1]
    v_head = [torch.tensor([((7 * j) % 11 - 5) / 40.0 for j in range(C)]), torch.tensor(0.125)]
    params = list(policy.values()) + v_head
    for p in params:
        p.requires_grad_(True)

    context = torch.tensor(CONTEXT)
    mask = context.ne(PAD).long()
    response = torch.tensor(RESPONSE)

    # Rollout (spec 4.2, 5): old log-probs and values, reference log-probs, truncation, score, penalty.
    with torch.no_grad():
        old_logprobs, old_values = analyze(policy, v_head, context, mask, response)
        ref_logprobs, _ = analyze(reference, None, context, mask, response)
    processed = truncate(response)
    score = scores(processed)
    kl = old_logprobs - ref_logprobs                          # [B, N]
    rewards = -BETA * kl
    rewards[:, -1] += score

    # Spec 4.3: per minibatch (the whole batch here): whitened rewards, GAE, whitened advantages.
    advantages, returns = gae(whiten(rewards, shift_mean=False), old_values)

    # Spec 4.4: EPOCHS Adam steps on pg_loss + vf_coef * vf_loss.
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    steps = []
    for t in range(1, EPOCHS + 1):
        for p in params:
            p.grad = None
        logprobs, vpred = analyze(policy, v_head, context, mask, response)
        ratio = torch.exp(logprobs - old_logprobs)
        pg_losses = -advantages * ratio
        pg_losses2 = -advantages * torch.clamp(ratio, 1 - CLIP, 1 + CLIP)
        pg_loss = torch.max(pg_losses, pg_losses2).mean()
        vpred_clipped = torch.clamp(vpred, old_values - CLIP_VALUE, old_values + CLIP_VALUE)
        vf_losses = (vpred - returns) ** 2
        vf_losses2 = (vpred_clipped - returns) ** 2
        vf_loss = 0.5 * torch.max(vf_losses, vf_losses2).mean()
        (pg_loss + VF_COEF * vf_loss).backward()
        grad_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params))
        steps.append({
            "policy_loss": pg_loss.item(), "value_loss": vf_loss.item(),
            "policy_clipfrac": (pg_losses2 > pg_losses).double().mean().item(),
            "value_clipfrac": (vf_losses2 > vf_losses).double().mean().item(),
            "approxkl": (0.5 * (logprobs - old_logprobs) ** 2).mean().item(),
            "grad_norm": grad_norm.item()})
        with torch.no_grad():  # tf.train.AdamOptimizer: epsilon added to sqrt(v), bias correction in lr_t
            lr_t = LR * (1 - BETA2 ** t) ** 0.5 / (1 - BETA1 ** t)
            for i, p in enumerate(params):
                m[i] = BETA1 * m[i] + (1 - BETA1) * p.grad
                v[i] = BETA2 * v[i] + (1 - BETA2) * p.grad ** 2
                p -= lr_t * m[i] / (torch.sqrt(v[i]) + ADAM_EPS)

    def cpp(name, t):
        values = ", ".join("%.17g" % x for x in t.flatten().tolist())
        return "const std::vector<double> %s = {%s};" % (name, values)

    print("// Generated by /usr/bin/python3 scripts/make_ppo_golden.py (PyTorch %s)." % torch.__version__)
    print(cpp("kScore", score))
    print(cpp("kKl", kl))
    print(cpp("kRewards", rewards))
    print(cpp("kAdvantages", advantages))
    print(cpp("kReturns", returns))
    for key in ["policy_loss", "value_loss", "policy_clipfrac", "value_clipfrac", "approxkl", "grad_norm"]:
        name = "k" + "".join(part.capitalize() for part in key.split("_"))
        print(cpp(name, torch.tensor([s[key] for s in steps])))
    print(cpp("kValueHeadAfter", torch.cat([v_head[0].detach(), v_head[1].detach().reshape(1)])))


if __name__ == "__main__":
    main()
