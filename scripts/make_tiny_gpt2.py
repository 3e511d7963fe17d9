#!/usr/bin/python3
"""Generates the tiny GPT-2 test fixtures under tests/data and an independent numerical reference.

Usage: /usr/bin/python3 scripts/make_tiny_gpt2.py tests/data

Needs only PyTorch (and numpy): GPT-2, the BPE trainer and the safetensors writer are written here
in plain Python so that the reference does not share code with the C++ implementation nor with any
other GPT-2 implementation. Everything is deterministic (fixed seeds, no dict-order dependence).

Writes:
  tiny-gpt2/       config.json, model.safetensors ("transformer."-prefixed fp32 weights),
                   vocab.json, merges.txt, reference.safetensors, reference.json
  tiny-gpt2-bin/   the same weights as a torch.save'd pytorch_model.bin (hub naming, attention
                   buffers, lm_head.weight), same tokenizer files and reference
  tiny-gpt2-bf16/  the weights rounded to bfloat16 (stored as BF16), reference computed from them
"""

import collections
import json
import math
import os
import re
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------
# Model hyperparameters
# --------------------------------------------------------------------------------------------

VOCAB = 512
N_POS = 64
C = 32
N_LAYER = 2
N_HEAD = 4
HEAD_DIM = C // N_HEAD
EPS = 1e-5
EOT = "<|endoftext|>"
EOT_ID = VOCAB - 1
PAD_ID = 514  # outside the vocabulary on purpose: pads must never be embedded with their own id
SEED = 20240611


def config_json(torch_dtype):
    return collections.OrderedDict([
        ("architectures", ["GPT2LMHeadModel"]),
        ("model_type", "gpt2"),
        ("vocab_size", VOCAB),
        ("n_positions", N_POS),
        ("n_ctx", N_POS),
        ("n_embd", C),
        ("n_layer", N_LAYER),
        ("n_head", N_HEAD),
        ("n_inner", None),
        ("activation_function", "gelu_new"),
        ("resid_pdrop", 0.1),
        ("embd_pdrop", 0.1),
        ("attn_pdrop", 0.1),
        ("layer_norm_epsilon", EPS),
        ("initializer_range", 0.02),
        ("scale_attn_weights", True),
        ("scale_attn_by_inverse_layer_idx", False),
        ("reorder_and_upcast_attn", False),
        ("summary_type", "cls_index"),
        ("summary_use_proj", True),
        ("summary_activation", None),
        ("summary_proj_to_labels", True),
        ("summary_first_dropout", 0.1),
        ("use_cache", True),
        ("bos_token_id", EOT_ID),
        ("eos_token_id", EOT_ID),
        ("tie_word_embeddings", True),
        ("torch_dtype", torch_dtype),
    ])


# --------------------------------------------------------------------------------------------
# Byte-level BPE in GPT-2's file format
# --------------------------------------------------------------------------------------------

TRAINING_TEXT = """
The old lighthouse stood at the edge of the harbor, and every night the keeper climbed the
narrow stairs to light the lamp. Ships that passed in the dark could see the beam from far
away, and the sailors knew that the rocks were near. In the morning the keeper wrote in his
book: the weather, the wind, the number of ships, and anything strange that he had seen.
One winter the storms came early. The wind pulled at the roof and the waves broke over the
wall of the harbor. The keeper did not sleep for three days. He watched the light, cleaned
the glass, and carried oil up the stairs again and again. When the storm was over, the town
sent him bread, apples and a warm coat, and the children wrote him letters about the ships.
A model that learns from feedback is trained to prefer the answers that people like. First it
is taught to follow instructions, then a reward model is trained to score its answers, and
then the policy is improved with reinforcement learning while staying close to where it
started. The reward is computed for the whole response, but the value of each token is
estimated so that the advantage of every action can be known. It is simple to describe and
hard to get right: the numbers must match, the masks must be correct, and the padding must
never change the result. We test the model on short sentences, long sentences, and sentences
that are padded on the left, on the right, or in the middle, because every one of them is
used somewhere in training.
She said that it's not the size of the model that matters, it's the care that went into the
data. They'll tell you the same thing in every lab: we've seen models fail because a single
token was wrong. I'm sure you'd agree that the details are where the work is. Numbers like
12, 256, 1024 and 50257 appear in every config file; the numbers 3.14159 and 2.71828 appear
in every textbook. What is the answer? It depends on the question, and on who is asking it.
Once upon a time there was a small village in the mountains. The people of the village grew
wheat and kept goats, and in the summer they took the animals up to the high meadows where
the grass was green and the water was cold and clear. The youngest shepherd was a girl who
could sing so well that the goats would follow her anywhere, even across the river.
"""

# GPT-2's pre-tokenization pattern, with \\p{L} written as [^\\W\\d_] and \\p{N} as \\d (Python's
# `re` has no \\p classes); the two agree on the ASCII training text above.
PRETOKENIZE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable characters, in GPT-2's order."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) +
                 list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    order = list(printable)
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            order.append(b)
            chars.append(256 + extra)
            extra += 1
    return collections.OrderedDict((b, chr(c)) for b, c in zip(order, chars))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pretokenize(text):
    return [''.join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8")) for piece in PRETOKENIZE.findall(text)]


def train_bpe(text, num_merges):
    """Word-level BPE: counts of pre-tokenized words, repeatedly merges the most frequent pair
    (ties: the lexicographically smallest pair). A pair whose concatenation is already a token is
    never chosen, so that every merge adds exactly one new vocabulary entry."""
    word_counts = collections.Counter(pretokenize(text))
    words = {w: list(w) for w in sorted(word_counts)}
    vocab = list(BYTE_TO_CHAR.values())
    known = set(vocab)
    merges = []
    while len(merges) < num_merges:
        pair_counts = collections.Counter()
        for w, symbols in words.items():
            for a, b in zip(symbols, symbols[1:]):
                pair_counts[(a, b)] += word_counts[w]
        candidates = [(-n, p) for p, n in pair_counts.items() if p[0] + p[1] not in known]
        if not candidates:
            raise RuntimeError("training text too small for %d merges" % num_merges)
        _, best = min(candidates)
        merges.append(best)
        token = best[0] + best[1]
        vocab.append(token)
        known.add(token)
        for w, symbols in words.items():
            out = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(token)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            words[w] = out
    vocab.append(EOT)
    return vocab, merges


def bpe_encode(text, vocab_ids, merge_ranks):
    """Reference encoder (GPT-2's algorithm: merge the lowest-ranked adjacent pair until none)."""
    ids = []
    for piece in pretokenize(text):
        symbols = list(piece)
        while len(symbols) > 1:
            ranked = [(merge_ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            rank, _ = min(ranked)
            if rank == math.inf:
                break
            pair = min(p for p in zip(symbols, symbols[1:]) if merge_ranks.get(p) == rank)
            out = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        ids.extend(vocab_ids[s] for s in symbols)
    return ids


def bpe_decode(ids, vocab):
    return bytes(CHAR_TO_BYTE[c] for i in ids for c in vocab[i]).decode("utf-8")


# --------------------------------------------------------------------------------------------
# safetensors writer (by hand: 8-byte LE header size, JSON header, raw little-endian data)
# --------------------------------------------------------------------------------------------

ST_DTYPES = {torch.float32: ("F32", 4), torch.bfloat16: ("BF16", 2), torch.int64: ("I64", 8),
             torch.float64: ("F64", 8), torch.float16: ("F16", 2)}


def tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype in (torch.bfloat16, torch.float16):
        arr = t.view(torch.int16).numpy()
    else:
        arr = t.numpy()
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()


def write_safetensors(path, tensors):
    # Largest element size first (then by name), so that every tensor's data is aligned to its
    # element size, as the official writer does.
    names = sorted(tensors, key=lambda n: (-ST_DTYPES[tensors[n].dtype][1], n))
    header = collections.OrderedDict([("__metadata__", {"format": "pt"})])
    blobs = []
    offset = 0
    for name in names:
        t = tensors[name]
        blob = tensor_bytes(t)
        header[name] = collections.OrderedDict([("dtype", ST_DTYPES[t.dtype][0]), ("shape", list(t.shape)),
                                                ("data_offsets", [offset, offset + len(blob)])])
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """Minimal reader, used only to check the files this script wrote."""
    torch_dtypes = {"F32": (np.float32, None), "F64": (np.float64, None), "I64": (np.int64, None),
                    "BF16": (np.int16, torch.bfloat16), "F16": (np.float16, None)}
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        np_dtype, view = torch_dtypes[info["dtype"]]
        arr = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=np.dtype(np_dtype).newbyteorder("<")).copy()
        t = torch.from_numpy(arr.astype(np_dtype)).reshape(info["shape"])
        out[name] = t.view(view) if view is not None else t
    return out


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------

def make_weights():
    """Hub-named GPT-2 weights (Conv1D weights are [in, out]) with deliberately large values."""
    g = torch.Generator().manual_seed(SEED)

    def normal(shape, std, mean=0.0):
        return (torch.randn(shape, generator=g, dtype=torch.float64) * std + mean).to(torch.float32)

    w = collections.OrderedDict()
    w["wte.weight"] = normal((VOCAB, C), 0.2)
    w["wpe.weight"] = normal((N_POS, C), 0.2)
    for i in range(N_LAYER):
        p = "h.%d." % i
        w[p + "ln_1.weight"] = normal((C,), 0.1, 1.0)
        w[p + "ln_1.bias"] = normal((C,), 0.1)
        w[p + "attn.c_attn.weight"] = normal((C, 3 * C), 0.2)
        w[p + "attn.c_attn.bias"] = normal((3 * C,), 0.05)
        w[p + "attn.c_proj.weight"] = normal((C, C), 0.2)
        w[p + "attn.c_proj.bias"] = normal((C,), 0.05)
        w[p + "ln_2.weight"] = normal((C,), 0.1, 1.0)
        w[p + "ln_2.bias"] = normal((C,), 0.1)
        w[p + "mlp.c_fc.weight"] = normal((C, 4 * C), 0.2)
        w[p + "mlp.c_fc.bias"] = normal((4 * C,), 0.05)
        w[p + "mlp.c_proj.weight"] = normal((4 * C, C), 0.2)
        w[p + "mlp.c_proj.bias"] = normal((C,), 0.05)
    w["ln_f.weight"] = normal((C,), 0.1, 1.0)
    w["ln_f.bias"] = normal((C,), 0.1)
    return w


# --------------------------------------------------------------------------------------------
# Reference forward (batched, padded, float64)
# --------------------------------------------------------------------------------------------

def positions_from_mask(mask):
    """Exclusive cumulative sum: the position of a token is the number of real tokens before it."""
    return torch.cumsum(mask, dim=1) - mask


def layer_norm(x, weight, bias):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased variance
    return (x - mean) / torch.sqrt(var + EPS) * weight + bias


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def reference_forward(w, ids, mask, positions):
    """Returns (hidden after ln_f, logits), both [B, T, *] float64, NaN at pad positions."""
    w = {k: v.to(torch.float64) for k, v in w.items()}
    B, T = ids.shape
    real = mask.bool()
    safe_ids = torch.where(real, ids, torch.zeros_like(ids))
    x = w["wte.weight"][safe_ids] + w["wpe.weight"][positions]

    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))                      # [i, j]: j <= i
    allowed = causal[None, :, :] & real[:, None, :]                               # [B, i, j]
    nothing = ~allowed.any(dim=-1)                                                # rows with no key
    allowed = allowed | (nothing[:, :, None] & torch.eye(T, dtype=torch.bool)[None])

    for i in range(N_LAYER):
        p = "h.%d." % i
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"])
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = qkv[..., :C], qkv[..., C:2 * C], qkv[..., 2 * C:]
        q = q.reshape(B, T, N_HEAD, HEAD_DIM).transpose(1, 2)
        k = k.reshape(B, T, N_HEAD, HEAD_DIM).transpose(1, 2)
        v = v.reshape(B, T, N_HEAD, HEAD_DIM).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(HEAD_DIM)
        scores = scores.masked_fill(~allowed[:, None, :, :], -math.inf)
        probs = torch.softmax(scores, dim=-1)
        att = (probs @ v).transpose(1, 2).reshape(B, T, C)
        x = x + att @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        h = gelu_tanh(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    hidden = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"])
    logits = hidden @ w["wte.weight"].T
    pad = ~real
    hidden = hidden.masked_fill(pad[:, :, None], math.nan)
    logits = logits.masked_fill(pad[:, :, None], math.nan)
    return hidden, logits


# --------------------------------------------------------------------------------------------
# Second, differently written computation: one row at a time, real tokens only, per-head loops,
# torch.nn.functional building blocks. Used only for the self-check.
# --------------------------------------------------------------------------------------------

def rowwise_forward(w, tokens, dtype=torch.float64):
    """tokens: 1-D list/tensor of real token ids (no pads). Returns (hidden [n, C], logits [n, V])."""
    w = {k: v.to(dtype) for k, v in w.items()}
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    n = tokens.numel()
    x = F.embedding(tokens, w["wte.weight"]) + F.embedding(torch.arange(n), w["wpe.weight"])
    for i in range(N_LAYER):
        p = "h.%d." % i
        h = F.layer_norm(x, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps=EPS)
        # Conv1D stores [in, out]; F.linear wants [out, in].
        qkv = F.linear(h, w[p + "attn.c_attn.weight"].T, w[p + "attn.c_attn.bias"])
        q_all, k_all, v_all = qkv.split(C, dim=-1)
        heads = []
        for head in range(N_HEAD):
            cols = slice(head * HEAD_DIM, (head + 1) * HEAD_DIM)
            q, k, v = q_all[:, cols], k_all[:, cols], v_all[:, cols]
            out = torch.empty(n, HEAD_DIM, dtype=dtype)
            for t in range(n):
                s = (k[:t + 1] * q[t]).sum(-1) * HEAD_DIM ** -0.5
                out[t] = F.softmax(s, dim=0) @ v[:t + 1]
            heads.append(out)
        att = torch.cat(heads, dim=-1)
        x = x + F.linear(att, w[p + "attn.c_proj.weight"].T, w[p + "attn.c_proj.bias"])
        h = F.layer_norm(x, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps=EPS)
        h = F.gelu(F.linear(h, w[p + "mlp.c_fc.weight"].T, w[p + "mlp.c_fc.bias"]), approximate="tanh")
        x = x + F.linear(h, w[p + "mlp.c_proj.weight"].T, w[p + "mlp.c_proj.bias"])
    hidden = F.layer_norm(x, (C,), w["ln_f.weight"], w["ln_f.bias"], eps=EPS)
    return hidden, F.linear(hidden, w["wte.weight"])


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

def make_cases():
    """name -> (input_ids, attention_mask); pads carry PAD_ID in input_ids."""
    g = torch.Generator().manual_seed(SEED + 1)

    def build(layouts):
        # layouts: per row, a string over {'r', 'p'} (real / pad), all the same length.
        T = len(layouts[0])
        mask = torch.tensor([[1 if ch == "r" else 0 for ch in row] for row in layouts], dtype=torch.long)
        ids = torch.randint(0, 511, (len(layouts), T), generator=g)  # ids in [0, 510]
        ids = torch.where(mask.bool(), ids, torch.full_like(ids, PAD_ID))
        return ids, mask

    cases = collections.OrderedDict()
    cases["nopad"] = build(["r" * 8] * 3)
    cases["right"] = build(["r" * 9, "r" * 6 + "p" * 3, "r" * 3 + "p" * 6])
    cases["left"] = build(["r" * 9, "p" * 2 + "r" * 7, "p" * 6 + "r" * 3])
    # query | pads | response (and one row that also has trailing pads)
    cases["middle"] = build(["rrrrrrrrrr", "rrrrpprrrr", "rrpppprrrp"])
    # T = n_positions: one full row (reaches position 63) and one with left, middle and right pads.
    cases["long"] = build(["r" * 64, "p" * 3 + "r" * 30 + "p" * 9 + "r" * 18 + "p" * 4])
    return cases


def greedy(w, prompt, steps):
    ids = list(prompt)
    chosen, logprobs, gaps = [], [], []
    for _ in range(steps):
        t = torch.tensor([ids])
        m = torch.ones_like(t)
        _, logits = reference_forward(w, t, m, positions_from_mask(m))
        last = logits[0, -1]
        top2 = torch.topk(last, 2).values
        gaps.append((top2[0] - top2[1]).item())
        nxt = int(torch.argmax(last))
        chosen.append(nxt)
        logprobs.append(torch.log_softmax(last, dim=-1)[nxt].item())
        ids.append(nxt)
    return chosen, logprobs, min(gaps)


def greedy_items(w, count=3, steps=10, min_gap=1e-2):
    g = torch.Generator().manual_seed(SEED + 2)
    items = []
    while len(items) < count:
        length = int(torch.randint(4, 9, (1,), generator=g))
        prompt = torch.randint(0, 511, (length,), generator=g).tolist()
        chosen, logprobs, gap = greedy(w, prompt, steps)
        if gap < min_gap:  # a near-tie could flip under fp32 rounding: pick another prompt
            print("  skipped prompt %s (top-2 gap %.2e)" % (prompt, gap))
            continue
        items.append(collections.OrderedDict([("prompt", prompt), ("continuation", chosen),
                                              ("logprobs", logprobs), ("min_top2_gap", gap)]))
    return items


# --------------------------------------------------------------------------------------------
# Writing the directories
# --------------------------------------------------------------------------------------------

def write_json(path, obj, **kw):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, **kw)
        f.write("\n")


def write_reference_json(path, greedy_ref, tokenize):
    """One greedy item / tokenizer example per line."""
    def block(items):
        return "[\n" + ",\n".join("  " + json.dumps(item) for item in items) + "\n ]"
    with open(path, "w", encoding="utf-8") as f:
        f.write('{\n "pad_token_id": %d,\n "greedy": %s,\n "tokenize": %s\n}\n' %
                (PAD_ID, block(greedy_ref), block(tokenize)))


def write_tokenizer(d, vocab, merges):
    write_json(os.path.join(d, "vocab.json"), collections.OrderedDict((p, i) for i, p in enumerate(vocab)))
    with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write("%s %s\n" % (a, b))


def reference_tensors(w, cases, names):
    out = collections.OrderedDict()
    for name in names:
        ids, mask = cases[name]
        pos = positions_from_mask(mask)
        hidden, logits = reference_forward(w, ids, mask, pos)
        out[name + ".input_ids"] = ids
        out[name + ".attention_mask"] = mask
        out[name + ".position_ids"] = pos
        out[name + ".hidden"] = hidden.to(torch.float32)
        out[name + ".logits"] = logits.to(torch.float32)
    return out


def self_check(w, cases, label):
    """Batched padded reference vs (a) the row-wise implementation on the real tokens only and
    (b) the batched reference on each row alone without pads. Returns the max differences."""
    worst_a = worst_b = 0.0
    for name, (ids, mask) in cases.items():
        hidden, logits = reference_forward(w, ids, mask, positions_from_mask(mask))
        for r in range(ids.shape[0]):
            keep = mask[r].bool()
            tokens = ids[r][keep]
            rh, rl = rowwise_forward(w, tokens)
            worst_a = max(worst_a, (rh - hidden[r][keep]).abs().max().item(),
                          (rl - logits[r][keep]).abs().max().item())
            one = torch.ones(1, tokens.numel(), dtype=torch.long)
            ah, al = reference_forward(w, tokens[None], one, positions_from_mask(one))
            worst_b = max(worst_b, (ah[0] - hidden[r][keep]).abs().max().item(),
                          (al[0] - logits[r][keep]).abs().max().item())
            assert torch.isnan(hidden[r][~keep]).all() and torch.isnan(logits[r][~keep]).all()
    print("[%s] self-check: batched padded float64 reference vs row-wise unpadded implementation: "
          "max |diff| = %.3e" % (label, worst_a))
    print("[%s] self-check: padded rows vs the same rows alone without pads: max |diff| = %.3e" % (label, worst_b))
    assert worst_a < 1e-6 and worst_b < 1e-6, "self-check failed"
    return worst_a, worst_b


def fp32_check(weights_file_tensors, ref, names, label):
    """An fp32 forward of the weights as stored on disk vs the stored reference (what the C++ test
    compares at 1e-4)."""
    worst = 0.0
    for name in names:
        ids, mask = ref[name + ".input_ids"], ref[name + ".attention_mask"]
        for r in range(ids.shape[0]):
            keep = mask[r].bool()
            h, l = rowwise_forward(weights_file_tensors, ids[r][keep], dtype=torch.float32)
            worst = max(worst, (h.double() - ref[name + ".hidden"][r][keep].double()).abs().max().item(),
                        (l.double() - ref[name + ".logits"][r][keep].double()).abs().max().item())
    print("[%s] fp32 forward of the stored weights vs stored reference: max |diff| = %.3e" % (label, worst))
    assert worst < 1e-5
    return worst


def attention_buffers():
    bias = torch.tril(torch.ones(N_POS, N_POS, dtype=torch.float32)).view(1, 1, N_POS, N_POS)
    return bias, torch.tensor(-1e4)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: %s OUTPUT_DIR   (e.g. tests/data)" % sys.argv[0])
    root = sys.argv[1]
    torch.manual_seed(SEED)
    torch.set_num_threads(1)

    # Tokenizer ------------------------------------------------------------------------------
    vocab, merges = train_bpe(TRAINING_TEXT, VOCAB - 256 - 1)
    assert len(vocab) == VOCAB and len(set(vocab)) == VOCAB and vocab[EOT_ID] == EOT
    vocab_ids = {p: i for i, p in enumerate(vocab)}
    ranks = {m: i for i, m in enumerate(merges)}
    samples = ["The keeper climbed the narrow stairs.", "Hello world! It's 2024, isn't it?",
               " leading space and  two spaces\nnew line", "caf\u00e9 \U0001F600 \u00fcber", ""]
    tokenize = []
    for s in samples:
        ids = bpe_encode(s, vocab_ids, ranks)
        assert bpe_decode(ids, vocab) == s
        tokenize.append(collections.OrderedDict([("text", s), ("ids", ids)]))
    assert bpe_decode(bpe_encode(TRAINING_TEXT, vocab_ids, ranks), vocab) == TRAINING_TEXT
    print("tokenizer: %d merges; %r -> %s" % (len(merges), samples[0], tokenize[0]["ids"]))

    # Weights and cases ----------------------------------------------------------------------
    w32 = make_weights()
    w16 = collections.OrderedDict((k, v.to(torch.bfloat16)) for k, v in w32.items())
    w16_as_32 = collections.OrderedDict((k, v.to(torch.float32)) for k, v in w16.items())
    cases = make_cases()
    all_names = list(cases)
    bf16_names = ["right", "middle"]

    self_check(w32, cases, "fp32 weights")
    self_check(w16_as_32, {n: cases[n] for n in bf16_names}, "bf16 weights")

    variants = [
        ("tiny-gpt2", w32, all_names, "float32"),
        ("tiny-gpt2-bf16", w16_as_32, bf16_names, "bfloat16"),
    ]
    refs = {}
    for dirname, w, names, _ in variants:
        ref = reference_tensors(w, cases, names)
        greedy_ref = greedy_items(w)
        refs[dirname] = (ref, greedy_ref)

    for dirname in ["tiny-gpt2", "tiny-gpt2-bin", "tiny-gpt2-bf16"]:
        d = os.path.join(root, dirname)
        os.makedirs(d, exist_ok=True)
        for stale in ["model.safetensors", "pytorch_model.bin"]:
            if os.path.exists(os.path.join(d, stale)):
                os.remove(os.path.join(d, stale))
        bf16 = dirname == "tiny-gpt2-bf16"
        write_json(os.path.join(d, "config.json"), config_json("bfloat16" if bf16 else "float32"), indent=2)
        write_tokenizer(d, vocab, merges)
        ref, greedy_ref = refs["tiny-gpt2-bf16" if bf16 else "tiny-gpt2"]
        write_safetensors(os.path.join(d, "reference.safetensors"), ref)
        write_reference_json(os.path.join(d, "reference.json"), greedy_ref, tokenize)
        if dirname == "tiny-gpt2":
            write_safetensors(os.path.join(d, "model.safetensors"),
                              collections.OrderedDict(("transformer." + k, v) for k, v in w32.items()))
        elif bf16:
            write_safetensors(os.path.join(d, "model.safetensors"),
                              collections.OrderedDict(("transformer." + k, v) for k, v in w16.items()))
        else:
            # Like the hub's files: hub naming (no prefix), the attention buffers, and lm_head.weight
            # sharing wte's storage (a tied state dict saves it once); _metadata as state_dict() sets it.
            sd = collections.OrderedDict()
            wte = w32["wte.weight"].clone()
            sd["wte.weight"] = wte
            sd["wpe.weight"] = w32["wpe.weight"].clone()
            for i in range(N_LAYER):
                p = "h.%d." % i
                for key in ["ln_1.weight", "ln_1.bias"]:
                    sd[p + key] = w32[p + key].clone()
                bias, masked_bias = attention_buffers()
                sd[p + "attn.bias"] = bias
                sd[p + "attn.masked_bias"] = masked_bias
                for key in ["attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                            "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight",
                            "mlp.c_proj.bias"]:
                    sd[p + key] = w32[p + key].clone()
            sd["ln_f.weight"] = w32["ln_f.weight"].clone()
            sd["ln_f.bias"] = w32["ln_f.bias"].clone()
            sd["lm_head.weight"] = wte
            meta = collections.OrderedDict([("", {"version": 1}), ("wte", {"version": 1}), ("wpe", {"version": 1})])
            for i in range(N_LAYER):
                for m in ["", ".ln_1", ".attn", ".attn.c_attn", ".attn.c_proj", ".ln_2", ".mlp", ".mlp.c_fc",
                          ".mlp.c_proj"]:
                    meta["h.%d%s" % (i, m)] = {"version": 1}
            meta["ln_f"] = {"version": 1}
            meta["lm_head"] = {"version": 1}
            sd._metadata = meta
            torch.save(sd, os.path.join(d, "pytorch_model.bin"))

    # Checks on the written files -------------------------------------------------------------
    stored = read_safetensors(os.path.join(root, "tiny-gpt2", "model.safetensors"))
    stored = {k[len("transformer."):]: v for k, v in stored.items()}
    assert all(torch.equal(stored[k], w32[k]) for k in w32) and len(stored) == len(w32)
    loaded = torch.load(os.path.join(root, "tiny-gpt2-bin", "pytorch_model.bin"))
    assert all(torch.equal(loaded[k], w32[k]) for k in w32) and torch.equal(loaded["lm_head.weight"], w32["wte.weight"])
    stored16 = read_safetensors(os.path.join(root, "tiny-gpt2-bf16", "model.safetensors"))
    stored16 = {k[len("transformer."):]: v.to(torch.float32) for k, v in stored16.items()}
    assert all(torch.equal(stored16[k], w16_as_32[k]) for k in w16_as_32)
    ref32 = read_safetensors(os.path.join(root, "tiny-gpt2", "reference.safetensors"))
    fp32_check(stored, ref32, all_names, "tiny-gpt2")
    ref16 = read_safetensors(os.path.join(root, "tiny-gpt2-bf16", "reference.safetensors"))
    fp32_check(stored16, ref16, bf16_names, "tiny-gpt2-bf16")
    bf16_effect = max((ref16[n + ".logits"] - ref32[n + ".logits"]).abs().nan_to_num(0).max().item()
                      for n in bf16_names)
    print("[tiny-gpt2-bf16] bf16 rounding of the weights moves the logits by up to %.3e" % bf16_effect)
    for dirname in ["tiny-gpt2", "tiny-gpt2-bin", "tiny-gpt2-bf16"]:
        d = os.path.join(root, dirname)
        sizes = ", ".join("%s %d" % (f, os.path.getsize(os.path.join(d, f))) for f in sorted(os.listdir(d)))
        print("%s: %s" % (dirname, sizes))
    for item in refs["tiny-gpt2"][1]:
        print("greedy %s -> %s (min top-2 gap %.3f)" % (item["prompt"], item["continuation"], item["min_top2_gap"]))


if __name__ == "__main__":
    main()
