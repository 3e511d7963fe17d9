"""Writes openai_books.json: best-of-4 labels in the exact format of OpenAI's released label files
(one JSON array; int query and sample0..sample3 arrays of fixed length, right-padded with 50259; best),
shrunk to fit the tiny model in ../tiny-gpt2 (vocabulary 512, context 64): queries of 16 ids,
samples of 8. Queries hold 6 to 16 real ids; samples are "truncated" at a random point and padded,
as OpenAI's samples after the truncate token. The best sample is the one with the most 13s ('.').
Run: python3 make_openai_fixture.py (deterministic)."""
import json
import random

PAD, QUERY_LENGTH, SAMPLE_LENGTH = 50259, 16, 8
rng = random.Random(20190918)


def padded(ids, length):
    return ids + [PAD] * (length - len(ids))


records = []
for _ in range(24):
    query = [rng.randrange(14, 511) for _ in range(rng.randint(6, QUERY_LENGTH))]
    samples, dots = [], []
    for n in range(4):
        real = [rng.randrange(14, 511) for _ in range(rng.randint(2, SAMPLE_LENGTH))]
        for k in rng.sample(range(len(real)), min(n, len(real))):
            real[k] = 13
        samples.append(padded(real, SAMPLE_LENGTH))
        dots.append(real.count(13))
    order = list(range(4))
    rng.shuffle(order)
    record = {"query": padded(query, QUERY_LENGTH)}
    for slot, n in enumerate(order):
        record["sample%d" % slot] = samples[n]
    record["best"] = max(range(4), key=lambda slot: (dots[order[slot]], -slot))
    records.append(record)

with open("openai_books.json", "w") as f:
    f.write("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")
