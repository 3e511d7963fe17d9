#!/usr/bin/env bash
# On a Debian 12 machine with apt (no root needed): downloads the .deb files of everything rlhf needs to
# build and run besides LibTorch and a compiler, into deps/debs/ (git-ignored), so they can travel with the
# working tree to a GPU machine that has no package manager (docs/gpu.md). There scripts/build_cuda.sh
# unpacks them into deps/prefix/ (never into /). Prints the total size: the device tool carries at most
# 64 MiB with the working tree.
#   scripts/fetch_debian_deps.sh            # skips files already there
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p deps/debs
cd deps/debs

# Headers, CMake configs, .pc files and the link-time symlinks (-dev), and the shared libraries they point
# to. libssl is only for libcrypto (SHA-1); pkgconf in case the machine has no pkg-config.
packages=(
  libcli11-dev nlohmann-json3-dev
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
  libpcre2-dev libpcre2-8-0
  libsentencepiece-dev libsentencepiece0
  libstemmer-dev libstemmer0d
  libssl-dev libssl3
  libgtest-dev libgmock-dev
  pkgconf pkgconf-bin libpkgconf3
)
missing=()
for p in "${packages[@]}"; do
  compgen -G "${p}_*.deb" >/dev/null || missing+=("$p")
done
if ((${#missing[@]})); then
  # Pinned to amd64: the GPU machine is x86-64 whatever this one is.
  apt-get download -o APT::Architecture=amd64 "${missing[@]}"
fi
total=$(du -cb ./*.deb | tail -1 | cut -f1)
echo "deps/debs: ${#packages[@]} packages, $((total / 1024)) KiB in all"
if ((total > 48 * 1024 * 1024)); then
  echo "fetch_debian_deps.sh: more than 48 MiB; the device tool carries at most 64 MiB with the tree" >&2
  exit 1
fi
