#!/usr/bin/env bash
# deps.sh - install the Debian packages leaklab needs, when missing (root or sudo), else say how; then the pinned npm packages (web/, tests/speedscope/).
set -euo pipefail

# Build and test: compiler, CMake, pkg-config, cmocka; the preload's stacks and symbols (libunwind,
# libdw); the lessons' big integers (GMP); the allocators and tools they are compared with; the
# real programs the end-to-end tests record.
PACKAGES=(
  build-essential cmake pkg-config
  libcmocka-dev
  libunwind-dev libdw-dev libelf-dev
  libgmp-dev
  # the pprof export: protobuf-c and its code generator, google/pprof's profile.proto, zlib
  libprotobuf-c-dev protobuf-c-compiler golang-github-google-pprof-dev zlib1g-dev
  libjemalloc-dev libjemalloc2
  valgrind
  # the outside readers the exports are tested with: `go tool pprof`; speedscope (npm, below)
  # in headless Chromium
  golang-go
  # programs the end-to-end tests record: leaklab must leave their output untouched; Debian's
  # sqlite3 is also the growth verdicts' held-out program (its table grows, its page cache is
  # bounded, its strings are released: tests/e2e/growth_heldout.sh) and the stripped module
  # whose frames read MODULE+0xOFFSET (tests/e2e/symbolize_stripped.sh); Debian's perl is the
  # exit scan's held-out program (its leak kinds equal memcheck's: tests/e2e/reach_heldout.sh)
  python3 perl git xz-utils gzip sqlite3 libc6-dev
  # the HTML report and speedscope: the browser their tests (and tools/screenshots.sh) drive
  # headless
  chromium
)
# the HTML report's page is bundled at build time by node (esbuild from web/node_modules);
# any node >= 18 will do, so one already on PATH (nodesource, nvm) is kept.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
for arg in "$@"; do
  case $arg in
    --bench) PACKAGES+=(heaptrack) ;;
    # test-only: afl++, the fuzzer tools/fuzz.sh runs on the capture readers (outside make test;
    # its findings are replayed by ctest's fuzz_replay without it)
    --fuzz) PACKAGES+=(afl++) ;;
  esac
done

# DIR/node_modules from DIR/package-lock.json exactly (npm ci), when missing or older than the
# lock file; npm keeps a copy of the lock it installed in node_modules/.package-lock.json.
npm_dir() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/$1"
  if [ -f "$dir/node_modules/.package-lock.json" ] &&
     [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    return 0
  fi
  echo "leaklab: installing $1/node_modules (npm ci)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "leaklab: $1/node_modules installed" >&2
}
# web/: the HTML report's page, bundled at build time; tests/speedscope/: the viewer the
# folded-stacks test loads.
web_deps() {
  npm_dir web
  npm_dir tests/speedscope
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  web_deps
  exit 0
fi

echo "leaklab: missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "leaklab: cannot install packages (not root, no password-less sudo). Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "leaklab: installing them with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "leaklab: packages installed" >&2
web_deps
