# shellcheck shell=bash
# Shared by scripts/download_*.sh (sourced, not run). Needs curl or wget.
#   fetch_file URL DEST    download unless DEST already has the size the server announces; the bytes go
#                          to DEST.part (resumed when possible) and are renamed to DEST only when complete
#   report_files FILE...   prints each file with its size
# RLHF_DOWNLOAD_QUIET=1 hides the progress bars.

if ! command -v curl >/dev/null && ! command -v wget >/dev/null; then
  echo "download: needs curl or wget (apt-get install curl)" >&2
  exit 1
fi

# The size in bytes the server announces for URL after redirects (the last Content-Length), or nothing.
remote_size() {
  local headers
  if command -v curl >/dev/null; then
    headers=$(curl -sIL --retry 2 --max-time 60 "$1" 2>/dev/null) || return 0
  else
    headers=$(wget --spider -S --timeout=60 "$1" 2>&1) || return 0
  fi
  printf '%s\n' "$headers" | tr -d '\r' | awk 'tolower($1) == "content-length:" { n = $2 } END { if (n != "") print n }'
}

file_size() { stat -c %s "$1"; }

# Appends to (or starts) $2 from $1; on a server that cannot resume, starts over.
download_to() {
  local quiet=()
  if [[ ${RLHF_DOWNLOAD_QUIET:-0} == 1 ]]; then quiet=(-sS); fi
  if command -v curl >/dev/null; then
    curl -fL --retry 3 "${quiet[@]}" -C - -o "$2" "$1" ||
      { echo "download: restarting $2 from the beginning"; rm -f "$2"; curl -fL --retry 3 "${quiet[@]}" -o "$2" "$1"; }
  else
    if [[ ${RLHF_DOWNLOAD_QUIET:-0} == 1 ]]; then quiet=(-q); fi
    wget "${quiet[@]}" -c -O "$2" "$1" ||
      { echo "download: restarting $2 from the beginning"; rm -f "$2"; wget "${quiet[@]}" -O "$2" "$1"; }
  fi
}

fetch_file() {
  local url=$1 dest=$2 expected
  expected=$(remote_size "$url")
  if [[ -f $dest ]]; then
    if [[ -z $expected ]]; then
      echo "$dest: already there (size not checked: no answer from $url)"
      return 0
    fi
    if [[ $(file_size "$dest") == "$expected" ]]; then
      echo "$dest: already there ($expected bytes)"
      return 0
    fi
    echo "$dest: $(file_size "$dest") bytes, but the server has $expected: downloading it again"
  fi
  mkdir -p "$(dirname "$dest")"
  local part="$dest.part"
  if [[ -n $expected && -f $part && $(file_size "$part") -gt $expected ]]; then rm -f "$part"; fi
  if [[ -z $expected || ! -f $part || $(file_size "$part") != "$expected" ]]; then
    echo "downloading $url${expected:+ ($expected bytes)}"
    download_to "$url" "$part"
  fi
  if [[ -n $expected && $(file_size "$part") != "$expected" ]]; then
    echo "download: $part has $(file_size "$part") bytes, expected $expected; run again to resume" >&2
    return 1
  fi
  mv -f "$part" "$dest"
}

human_size() {
  if command -v numfmt >/dev/null; then numfmt --to=iec-i --suffix=B --format=%.1f "$1"; else echo "$1 bytes"; fi
}

report_files() {
  local f
  for f in "$@"; do
    if [[ -f $f ]]; then
      printf '  %-64s %14s bytes  %s\n' "$f" "$(file_size "$f")" "$(human_size "$(file_size "$f")")"
    else
      printf '  %-64s missing\n' "$f"
    fi
  done
}
