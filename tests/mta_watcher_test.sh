#!/bin/sh
# mta_watcher_test.sh: an MTA instance never outlives the harness that started it. For each MTA,
# `smtpsim run` starts harness/targets/MTA/good.json; once the first case has finished, the
# harness is killed with SIGKILL, so no teardown runs. The instance's watcher (started by its
# ctl) must then stop it: within 15 s no process may have its working folder or a file open
# below the run's folder.
#
# Usage: tests/mta_watcher_test.sh [--smtpsim PATH] [MTA...]   (default: postfix exim opensmtpd)
# Exit status: 0 every instance was stopped; 1 one outlived its harness (or never started);
# 77 every named MTA was skipped (not root, or its programs are missing): ctest's SKIP code.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
smtpsim=${SMTPSIM:-$src/build/snapshot/smtpsim}
while [ $# -gt 0 ]; do
  case $1 in
    --smtpsim) smtpsim=$2; shift 2 ;;
    --smtpsim=*) smtpsim=${1#--smtpsim=}; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "mta_watcher_test.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- postfix exim opensmtpd
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the MTA targets need root (mount namespaces, the MTAs' own users)"
  exit 77
fi

# held_below DIR: pids of processes whose cwd or an open file is below DIR.
held_below() {
  for p in /proc/[0-9]*; do
    ls -l "$p/cwd" "$p/fd" 2>/dev/null | grep -q -- "$1" && echo "${p#/proc/}"
  done | tr '\n' ' '
}

failed=0
ran=0
for mta in "$@"; do
  file=$src/harness/targets/$mta/good.json
  out=$(mktemp -d "${TMPDIR:-/tmp}/mta-watcher-$mta.XXXXXX")
  chmod 755 "$out"
  PATH=/usr/sbin:/sbin:$PATH "$smtpsim" run --target "$file" --test 'line.*' --jobs 1 \
    --out "$out" --progress plain > "$out/progress.txt" 2>&1 &
  harness=$!
  # Wait (bounded) for the first finished case: the instance is up and in use.
  i=0
  while ! grep -qE '^(PASS|FAIL|WARN|INFO|SKIP|ERROR|XFAIL) ' "$out/progress.txt" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 1800 ] || ! kill -0 "$harness" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if grep -q 'programs are missing\|requires programs' "$out/progress.txt" 2>/dev/null; then
    echo "SKIP $mta: $(head -n 3 "$out/progress.txt")"
    kill -KILL "$harness" 2>/dev/null || true
    wait "$harness" 2>/dev/null || true
    continue
  fi
  if ! kill -0 "$harness" 2>/dev/null; then
    echo "FAIL $mta: the run ended before the harness could be killed; output:"
    tail -n 20 "$out/progress.txt"
    failed=1
    continue
  fi
  ran=$((ran + 1))
  before=$(held_below "$out")
  kill -KILL "$harness"
  wait "$harness" 2>/dev/null || true
  start=$(date +%s.%N)
  tries=0
  while :; do
    left=$(held_below "$out")
    [ -n "$left" ] && [ "$tries" -lt 150 ] || break
    tries=$((tries + 1))
    sleep 0.1
  done
  secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
  if [ -z "$before" ]; then
    echo "FAIL $mta: no process of the instance was running when the harness was killed"
    tail -n 20 "$out/progress.txt"
    failed=1
  elif [ -n "$left" ]; then
    echo "FAIL $mta: processes left running 15 s after the harness was killed: $left"
    ps -o pid,ppid,stat,etime,args -p $left 2>/dev/null || true
    # Clean up for the next test: the instance's own stop.
    inst=$(ls -d "$out"/targets/*/instance 2>/dev/null | head -n 1)
    [ -z "$inst" ] || "$src/harness/targets/$mta/ctl" stop "$inst" >/dev/null 2>&1 || true
    failed=1
  else
    echo "ok $mta: instance (pids $before) stopped ${secs}s after the harness was killed"
    rm -rf "$out"
  fi
done
[ "$failed" -eq 0 ] || exit 1
[ "$ran" -gt 0 ] || exit 77
exit 0
