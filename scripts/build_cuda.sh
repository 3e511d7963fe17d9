#!/usr/bin/env bash
# Builds rlhf against a CUDA LibTorch 2.x on a machine without a package manager or network (the lent GPU
# machine: docs/gpu.md). LibTorch comes from the Python `torch` install (or --libtorch DIR); everything
# else from deps/debs/*.deb (made by scripts/fetch_debian_deps.sh on a Debian 12 machine), unpacked into
# deps/prefix/ with `dpkg -x` (or Python, where dpkg is missing), never into /.
#   scripts/build_cuda.sh [--libtorch DIR] [--build-dir DIR] [--jobs N] [TARGET...]
#     default build dir build-cuda/, default targets: rlhf rlhf_device_tests
# Afterwards run the binaries with the environment that `scripts/build_cuda.sh --print-env` prints.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

libtorch="" build_dir=build-cuda jobs=$(nproc) print_env=0 targets=()
while (($#)); do
  case "$1" in
    --libtorch) libtorch="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --print-env) print_env=1; shift ;;
    -*) echo "build_cuda.sh: unknown option '$1'" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(rlhf rlhf_device_tests)

prefix="$root/deps/prefix"
multiarch="$prefix/usr/lib/x86_64-linux-gnu"
if ((print_env)); then
  echo "export LD_LIBRARY_PATH=$multiarch\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  exit 0
fi

# ---- the Debian libraries, unpacked once per set of .deb files
compgen -G "deps/debs/*.deb" >/dev/null || {
  echo "build_cuda.sh: no deps/debs/*.deb; run scripts/fetch_debian_deps.sh on a Debian 12 machine first" >&2
  exit 1
}
stamp="$prefix/.unpacked"
listing=$(ls -l deps/debs/*.deb | md5sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$listing" ]]; then
  rm -rf "$prefix" && mkdir -p "$prefix"
  for deb in deps/debs/*.deb; do
    if command -v dpkg >/dev/null; then
      dpkg -x "$deb" "$prefix"
    else
      # A .deb is an ar archive; its data.tar.* holds the files.
      python3 - "$deb" "$prefix" <<'PY'
import io, sys, tarfile
deb, dest = sys.argv[1], sys.argv[2]
data = open(deb, "rb").read()
assert data[:8] == b"!<arch>\n", deb + ": not a .deb"
pos = 8
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/")
    size = int(data[pos + 48:pos + 58])
    body = data[pos + 60:pos + 60 + size]
    pos += 60 + size + (size % 2)
    if name.startswith("data.tar"):
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            tar.extractall(dest)
        break
else:
    sys.exit(deb + ": no data.tar member")
PY
    fi
  done
  echo "$listing" >"$stamp"
  echo "build_cuda.sh: unpacked $(ls deps/debs/*.deb | wc -l) packages into $prefix"
fi

# ---- pkg-config over the prefix: the .pc files say prefix=/usr, the sysroot maps that into deps/prefix
export PKG_CONFIG_LIBDIR="$multiarch/pkgconfig:$prefix/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$prefix"
pkg_config=$(command -v pkg-config || true)
if [[ -z "$pkg_config" ]]; then
  pkg_config="$prefix/pkg-config"
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$multiarch" "$prefix/usr/bin/pkgconf" >"$pkg_config"
  chmod +x "$pkg_config"
fi

# ---- LibTorch and CUDA
if [[ -z "$libtorch" ]]; then
  libtorch=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
fi
[[ -d /usr/local/cuda/bin ]] && export PATH="/usr/local/cuda/bin:$PATH"
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"  # Hopper (H100/H200); LibTorch's config asks

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DRLHF_WITH_CUDA=ON \
  -DCMAKE_PREFIX_PATH="$libtorch;$prefix/usr" -DPKG_CONFIG_EXECUTABLE="$pkg_config" \
  -DCMAKE_CUDA_ARCHITECTURES=90
cmake --build "$build_dir" -j"$jobs" --target "${targets[@]}"
echo "build_cuda.sh: built ${targets[*]} in $build_dir; run them after: $(scripts/build_cuda.sh --print-env)"
