# Shared helpers for the tools/ scripts. Source it; do not run it.
# shellcheck shell=bash
set -euo pipefail

SMTPSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SMTPSIM_ROOT

log() { printf '\n== %s ==\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# as_root CMD...: runs CMD as root (directly when we are root, through sudo otherwise).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ncpu: build parallelism.
ncpu() { nproc 2>/dev/null || echo 2; }

# configure_and_build PRESET [TARGET...]: configures once, then builds (all, or the targets).
configure_and_build() {
  local preset="$1"; shift
  cd "$SMTPSIM_ROOT"
  if [ ! -f "build/$preset/CMakeCache.txt" ]; then
    cmake --preset "$preset" >/dev/null
  fi
  if [ "$#" -gt 0 ]; then
    local args=()
    for t in "$@"; do args+=(--target "$t"); done
    cmake --build --preset "$preset" "${args[@]}"
  else
    cmake --build --preset "$preset"
  fi
}
