#!/usr/bin/python3
"""An independent ROUGE checker for rlhf's C++ ROUGE (include/rlhf/metrics/rouge.h).

It implements the definition of Google's rouge_score package from its description, in plain Python, with
NLTK's Porter stemmer (Debian: python3-nltk, for /usr/bin/python3), and shares no code with the C++:

  tokens   lower-case (Python's str.lower), every run of characters outside [a-z0-9] separates tokens;
           with stemming, tokens longer than 3 characters are replaced by their Porter stem
  ROUGE-N  clipped n-gram matches: sum over n-grams of min(count in prediction, count in reference);
           precision = matches / max(prediction n-grams, 1), recall = matches / max(reference n-grams, 1)
  ROUGE-L  longest common subsequence of the token lists; 0 when either list is empty
  F1       2PR / (P + R), 0 when P + R = 0

Stemmer modes (--stemmer). The C++ side uses Snowball's "porter" (libstemmer). NLTK's
PorterStemmer(mode=ORIGINAL_ALGORITHM) is the mode that agrees with it: over the 31,886 distinct words of
Debian's fortunes and 1.57 million forms built from them with common suffixes, the only differences were
  - undoubling after removing -ed/-ing: Snowball undoubles only bb dd ff gg mm nn pp rr tt, NLTK every
    double consonant except l, s, z ("revved", "yakked": Snowball "revv", "yakk"; NLTK "rev", "yak");
  - words with "yy" ("abbacyying").
NLTK's default mode NLTK_EXTENSIONS, which rouge_score itself uses, differs much more: 580 of the 29,504
fortune words longer than 3 characters get another stem ("always": alwai vs alway, "dying": dy vs die,
"skies": ski vs sky), and 334 of them (1.1%) land in a different group of words sharing a stem, so stemmed
scores from rouge_score can differ slightly from ours. Use --stemmer nltk to see rouge_score's numbers.

Input: JSON Lines with "prediction" and "reference" (other keys ignored; "name" is copied to the output).
Output (stdout): JSON {"stemmer": MODE, "stem": [case, ...], "no_stem": [case, ...]} where each case is
{"name": ..., "rouge1": {"precision", "recall", "f1"}, "rouge2": {...}, "rougeL": {...}}.

    /usr/bin/python3 scripts/rouge_reference.py tests/data/rouge/cases.jsonl > tests/data/rouge/expected.json
"""

import argparse
import collections
import json
import re
import sys

from nltk.stem.porter import PorterStemmer

MODES = {"original": PorterStemmer.ORIGINAL_ALGORITHM, "nltk": PorterStemmer.NLTK_EXTENSIONS}


def tokens(text, stemmer):
    words = re.findall(r"[a-z0-9]+", text.lower())
    if stemmer is None:
        return words
    return [stemmer.stem(w) if len(w) > 3 else w for w in words]


def measures(matches, predicted, wanted):
    precision = matches / predicted if predicted else 0.0
    recall = matches / wanted if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def rouge_n(prediction, reference, n):
    def grams(words):
        return collections.Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))

    p, r = grams(prediction), grams(reference)
    matches = sum((p & r).values())  # Counter intersection keeps the smaller count: clipping
    return measures(matches, sum(p.values()), sum(r.values()))


def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            table[i][j] = table[i - 1][j - 1] + 1 if x == y else max(table[i - 1][j], table[i][j - 1])
    return table[len(a)][len(b)]


def rouge_l(prediction, reference):
    if not prediction or not reference:
        return measures(0, 0, 0)
    return measures(lcs(prediction, reference), len(prediction), len(reference))


def score(record, stemmer):
    p, r = tokens(record["prediction"], stemmer), tokens(record["reference"], stemmer)
    return {"name": record.get("name", ""), "rouge1": rouge_n(p, r, 1), "rouge2": rouge_n(p, r, 2),
            "rougeL": rouge_l(p, r)}


def read_records(path):
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            for field in ("prediction", "reference"):
                if not isinstance(record.get(field), str):
                    sys.exit(f"{path}: line {number}: field \"{field}\": expected a string")
            records.append(record)
    return records


def write_json(out, stream):
    """The result with one case per line: readable, and diffs of expected.json stay small."""
    stream.write("{\n" + f' "stemmer": {json.dumps(out["stemmer"])},\n')
    for key in ("stem", "no_stem"):
        cases = ",\n".join("  " + json.dumps(case, ensure_ascii=False) for case in out[key])
        stream.write(f' "{key}": [\n{cases}\n ]' + (",\n" if key == "stem" else "\n"))
    stream.write("}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cases", help="JSON Lines file of {prediction, reference}")
    parser.add_argument("--stemmer", choices=sorted(MODES), default="original",
                        help="original: NLTK's ORIGINAL_ALGORITHM (agrees with Snowball porter); "
                             "nltk: NLTK_EXTENSIONS (rouge_score's)")
    args = parser.parse_args()
    records = read_records(args.cases)
    stemmer = PorterStemmer(mode=MODES[args.stemmer])
    out = {"stemmer": args.stemmer,
           "stem": [score(r, stemmer) for r in records],
           "no_stem": [score(r, None) for r in records]}
    write_json(out, sys.stdout)


if __name__ == "__main__":
    main()
