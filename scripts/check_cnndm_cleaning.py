#!/usr/bin/env python3
"""Checks the CNN/Daily Mail fixtures of tests/data/queries/cnndm against an independent Python
implementation of the paper's story cleaning (paper-spec 1.4; rlhf's C++ version is src/data/cnndm.cpp).

  /usr/bin/python3 scripts/check_cnndm_cleaning.py

For every cases/NAME.story it reads the file as Python's text mode does, applies the rules below and
compares with cases/NAME.expected (exact bytes). It also checks that every URL of url_lists/all_test.txt
names an existing stories/{cnn,dailymail}/stories/<sha1>.story. ftfy is left out on purpose, as in rlhf
(docs/paper-deviations.md). Exits 1 on any difference.
"""
import hashlib
import pathlib
import re
import sys

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "queries" / "cnndm"

# Applied in this order; each keeps what follows the last match of its pattern.
KEEP_AFTER_LAST = re.compile(r"\(CNN\) +--")
CNN_TAG = "(CNN)"
LEADING_AND_NAME = re.compile(r"and \w+\n")
UPDATED_HEADER = re.compile(r".*UPDATED:\s+[0-9]{2}:[0-9]{2}.*[2011|2012|2013|2014|2015]")


def after_last_match(pattern, text):
    end = 0
    for match in pattern.finditer(text):
        end = match.end()
    return text[end:]


def drop_byline(text):
    if not text.startswith("By"):
        return text
    lines = text.split("\n")
    return "\n".join(lines[2:])


def drop_cnn_tag_near_start(text, window=100):
    head, tail = text[:window], text[window:]
    position = head.rfind(CNN_TAG)
    if position >= 0:
        head = head[position + len(CNN_TAG):]
    return head + tail


def drop_leading_and_name(text):
    match = LEADING_AND_NAME.match(text)
    return text[match.end():] if match else text


def clean_start(text):
    text = drop_byline(text)
    text = after_last_match(KEEP_AFTER_LAST, text)
    text = drop_cnn_tag_near_start(text)
    text = drop_leading_and_name(text)
    text = after_last_match(UPDATED_HEADER, text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return text.strip()


def collapse_newlines(text):
    out, run = [], 0
    for ch in text + "\0":
        if ch == "\n":
            run += 1
            continue
        out.append("\n" * min(run, 2))
        run = 0
        out.append(ch)
    return "".join(out)[:-1]


def article(story):
    text = collapse_newlines(clean_start(story))
    return text.partition("@highlight")[0].strip()


def story_path(url):
    if any(site in url for site in ("dailymail.co.uk", "mailonsunday.ie", "lib.store.yahoo.net")):
        site = "dailymail"
    elif "cnn.com" in url or "cnn.hk" in url:
        site = "cnn"
    else:
        raise ValueError(f"not a CNN or Daily Mail URL: {url}")
    return f"{site}/stories/{hashlib.sha1(url.encode('utf-8')).hexdigest()}.story"


def main():
    failures = 0
    cases = sorted((FIXTURES / "cases").glob("*.story"))
    for story_file in cases:
        with open(story_file, encoding="utf-8") as f:  # text mode: universal newlines, like the paper's code
            story = f.read()
        expected = story_file.with_suffix(".expected").read_bytes().decode("utf-8")
        got = article(story)
        if got != expected:
            failures += 1
            print(f"MISMATCH {story_file.name}:\n  expected {expected!r}\n  got      {got!r}")
    with open(FIXTURES / "url_lists" / "all_test.txt", encoding="utf-8") as f:
        urls = [line.strip() for line in f if line.strip()]
    for url in urls:
        path = FIXTURES / "stories" / story_path(url)
        if not path.is_file():
            failures += 1
            print(f"MISSING story for {url}: {path}")
    print(f"{len(cases)} stories, {len(urls)} URLs checked, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
