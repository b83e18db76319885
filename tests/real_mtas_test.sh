#!/bin/sh
# real_mtas_test.sh: runs the server suite against real MTAs that smtpsim starts itself (server
# target files with setup/teardown, harness/targets/MTA/PROFILE.json) and compares each case's
# verdict with the expectation committed in tests/data/real-mtas/MTA-PROFILE.json
# ({"case_id": "VERDICT", ...}). See docs/targets.md, "Server targets".
#
# Usage: tests/real_mtas_test.sh [--update] [--smtpsim PATH] [--jobs N] [NAME...]
#   NAME      MTA-PROFILE, e.g. postfix-good for harness/targets/postfix/good.json. Default:
#             every name that has an expectation file (with --update: every profile of every
#             MTA folder with a ctl script).
#   --update  write the expectation files from this run instead of comparing (check the new
#             verdicts by hand, e.g. with `smtpsim play CASE --target FILE`, before committing).
#   --smtpsim the smtpsim binary (default: $SMTPSIM, else build/snapshot/smtpsim).
#   --jobs    passed to smtpsim run (-j).
#   --scenarios  the scenario folder (default: scenarios/ of this source tree).
# Each run's wall time (start, cases and stop of the MTA) is printed.
#
# Exit status: 0 all compared targets match; 1 a difference or a failed run (also a process of
# the MTA left running after the run); 77 every named target was skipped (its programs are
# missing, or not root): ctest's SKIP code.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
update=0
smtpsim=${SMTPSIM:-$src/build/snapshot/smtpsim}
jobs=
scenarios=$src/scenarios
while [ $# -gt 0 ]; do
  case $1 in
    --update) update=1; shift ;;
    --smtpsim) smtpsim=$2; shift 2 ;;
    --smtpsim=*) smtpsim=${1#--smtpsim=}; shift ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --scenarios=*) scenarios=${1#--scenarios=}; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#--jobs=}; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "real_mtas_test.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
data=$src/tests/data/real-mtas

target_file() {
  mta=${1%%-*}
  profile=${1#*-}
  f=$src/harness/targets/$mta/$profile.json
  [ "$mta" != "$1" ] && [ -f "$f" ] || { echo "real_mtas_test.sh: no target file for $1 ($f)" >&2; return 1; }
  echo "$f"
}

if [ $# -eq 0 ]; then
  if [ "$update" = 1 ]; then
    for ctl in "$src"/harness/targets/*/ctl; do
      dir=$(dirname "$ctl")
      for f in "$dir"/*.json; do set -- "$@" "$(basename "$dir")-$(basename "$f" .json)"; done
    done
  else
    for f in "$data"/*.json; do [ -e "$f" ] && set -- "$@" "$(basename "$f" .json)"; done
  fi
fi

[ -x "$smtpsim" ] || { echo "real_mtas_test.sh: smtpsim binary not found: $smtpsim" >&2; exit 1; }
command -v python3 >/dev/null || { echo "real_mtas_test.sh: python3 is needed" >&2; exit 1; }

failed=0 compared=0 skipped=0
for name in "$@"; do
  file=$(target_file "$name") || { failed=1; continue; }
  missing=$(python3 - "$file" <<'PY'
import json, shutil, sys
t = json.load(open(sys.argv[1]))
print(" ".join(p for p in t.get("requires_programs", []) if shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin") is None))
PY
)
  if [ -n "$missing" ]; then
    echo "SKIP $name: not installed: $missing"
    skipped=$((skipped + 1))
    continue
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP $name: the MTA must be started as root"
    skipped=$((skipped + 1))
    continue
  fi

  out=$(mktemp -d "${TMPDIR:-/tmp}/real-mtas-$name.XXXXXX")
  chmod 755 "$out"  # the MTA's own users reach their instance folder inside it
  start=$(date +%s.%N)
  rc=0
  PATH=/usr/sbin:/sbin:$PATH timeout 870 "$smtpsim" run --scenarios "$scenarios" --target "$file" \
    --out "$out" --progress plain ${jobs:+--jobs "$jobs"} > "$out/progress.txt" 2>&1 || rc=$?
  secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
  case $rc in
    0|1|3) ;;
    *)
      echo "FAIL $name: smtpsim run exited with $rc after ${secs}s (expected 0, 1 or 3); output:"
      tail -n 30 "$out/progress.txt"
      failed=1
      continue ;;
  esac
  # Nothing of the instance may outlive the run: no process with a file open below $out. A
  # process already on its way out (killed at the teardown, not yet reaped) gets 5 s.
  tries=0
  while :; do
    left=$(for p in /proc/[0-9]*; do
             ls -l "$p/cwd" "$p/fd" 2>/dev/null | grep -q -- "$out" && echo "${p#/proc/}"
           done | tr '\n' ' ')
    [ -n "$left" ] && [ "$tries" -lt 50 ] || break
    tries=$((tries + 1))
    sleep 0.1
  done
  if [ -n "$left" ]; then
    echo "FAIL $name: processes left running 5 s after the run: $left"
    ps -o pid,ppid,stat,etime,args -p $left 2>/dev/null || true
    for p in $left; do ls -l "/proc/$p/cwd" "/proc/$p/fd" 2>/dev/null | grep -- "$out" | head -n 3; done
    failed=1
  fi
  expect=$data/$name.json
  result=0
  python3 - "$out/run.json" "$expect" "$update" "$name" "$secs" <<'PY' || result=$?
import json, os, sys
run_file, expect_file, update, name, secs = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4], sys.argv[5]
run = json.load(open(run_file))
got = {c["case_id"]: c["verdict"] for c in run["cases"]}
why = {c["case_id"]: c.get("reason", "") for c in run["cases"]}
by_id = {c["case_id"]: c for c in run["cases"]}


def evidence(case_id):
    # What the peer did, so that a difference in CI explains itself without the run folder.
    c = by_id[case_id]
    lines = [f"    took {c.get('duration_ms', 0)} ms"]
    for j in c.get("judgments", []):
        if j.get("verdict") == c["verdict"] or j.get("verdict") in ("ERROR", "FAIL"):
            lines.append(f"    {j.get('step_pointer', '')}: expected {j.get('expected', '')!r}, observed {j.get('observed', '')!r}")
    for e in c.get("transcript", {}).get("entries", [])[-8:]:
        text = e.get("text", e.get("note", "<base64>"))
        if not isinstance(text, str):
            text = str(text)
        lines.append(f"    {e.get('at_us', 0) / 1000:9.1f} ms {e.get('dir', ''):8} {text[:160]!r}")
    return "\n".join(lines)


counts = {}
for v in got.values():
    counts[v] = counts.get(v, 0) + 1
summary = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
if update:
    os.makedirs(os.path.dirname(expect_file), exist_ok=True)
    with open(expect_file, "w") as f:
        json.dump(dict(sorted(got.items())), f, indent=2)
        f.write("\n")
    print(f"UPDATED {name}: {len(got)} cases ({summary}) in {secs}s wall -> {expect_file}")
    sys.exit(0)
if not os.path.exists(expect_file):
    print(f"FAIL {name}: no expectation file {expect_file} (write it with --update)")
    sys.exit(1)
want = json.load(open(expect_file))
diff = []
for case in sorted(set(want) | set(got)):
    w, g = want.get(case), got.get(case)
    if w == g:
        continue
    if g is None:
        diff.append(f"  {case}: expected {w}, but the case did not run (removed or renamed?)")
    elif w is None:
        diff.append(f"  {case}: new case, got {g} (not in the expectation file): {why[case]}")
    else:
        diff.append(f"  {case}: expected {w}, got {g}: {why[case]}\n{evidence(case)}")
if diff:
    print(f"FAIL {name}: {len(diff)} verdict(s) differ from {os.path.relpath(expect_file)} (run: {run_file}):")
    print("\n".join(diff))
    sys.exit(1)
print(f"OK   {name}: {len(got)} cases as expected ({summary}) in {secs}s wall")
PY
  if [ "$result" = 0 ]; then
    compared=$((compared + 1))
    if [ "$update" = 1 ]; then echo "     run kept for checking: $out"; else rm -rf "$out"; fi
  else
    failed=1
    # The MTA's own log around the difference (the instance folder is inside the run folder).
    find "$out" -path '*/log/*' -type f -size +0 2>/dev/null | head -n 4 | while read -r log; do
      echo "  --- last lines of $log:"
      tail -n 15 "$log" | cut -c1-200 | sed 's/^/    /'
    done
  fi
done

[ "$failed" = 0 ] || exit 1
[ "$compared" -gt 0 ] || [ "$skipped" -eq 0 ] || exit 77
exit 0
