#!/usr/bin/env bash
# On a Debian 12 machine with apt: downloads the .deb files of the libraries rlhf needs besides
# LibTorch (headers and runtime), into deps/debs/, so they can travel to a GPU machine that has no
# package manager. There, scripts/build_cuda.sh unpacks them with `dpkg -x` into deps/prefix/.
# (Untested on a GPU machine so far; see README "Building against a CUDA LibTorch".)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p deps/debs
cd deps/debs
packages=(libcli11-dev nlohmann-json3-dev libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
          libpcre2-dev libpcre2-8-0 libsentencepiece-dev libsentencepiece0 libprotobuf-lite32
          libgtest-dev libgmock-dev)
apt-get download "${packages[@]}"
ls -l
echo "now copy deps/debs/ with the working tree to the GPU machine and run scripts/build_cuda.sh there"
