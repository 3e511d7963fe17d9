#!/usr/bin/env bash
# Builds rlhf against a CUDA LibTorch 2.x, on a machine without a package manager.
#   scripts/build_cuda.sh [--libtorch DIR]   # default: the LibTorch inside the Python `torch` install
# The non-LibTorch libraries come from deps/debs/*.deb (made by scripts/fetch_debian_deps.sh on a
# Debian machine), unpacked with `dpkg -x` into deps/prefix (never into /). Build: build-cuda/.
set -euo pipefail
cd "$(dirname "$0")/.."

libtorch=""
while (($#)); do
  case "$1" in
    --libtorch) libtorch="$2"; shift 2 ;;
    *) echo "build_cuda.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
if [[ -z "$libtorch" ]]; then
  libtorch=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
fi

prefix="$PWD/deps/prefix"
if compgen -G "deps/debs/*.deb" >/dev/null; then
  mkdir -p "$prefix"
  for deb in deps/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
fi
multiarch="$prefix/usr/lib/x86_64-linux-gnu"
export PKG_CONFIG_PATH="$multiarch/pkgconfig:$prefix/usr/share/pkgconfig:${PKG_CONFIG_PATH:-}"
export LD_LIBRARY_PATH="$multiarch:${LD_LIBRARY_PATH:-}"

cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$libtorch;$prefix/usr;$multiarch/cmake" \
  -DCMAKE_CUDA_ARCHITECTURES=90
cmake --build build-cuda -j"$(nproc)"
echo "built build-cuda/rlhf; run with LD_LIBRARY_PATH=$multiarch"
echo "tests: LD_LIBRARY_PATH=$multiarch ctest --test-dir build-cuda --output-on-failure"
