#!/usr/bin/env bash
# verify-by-hand.sh: the manual check of a real-MTA target, profile by profile.
#
# Usage: verify-by-hand.sh MTA OUTDIR [PROFILE...]     (MTA = exim | opensmtpd; default all four
#        profiles good authleak openrelay notls)
#
# For each profile: `MTA/ctl start` (timed), one `smtpsim run` against a plain target file with
# the listeners ctl opened (no setup/teardown fields, so a binary older than started targets
# works too), swaks checks of relaying into lib/plain-sink.py, `MTA/ctl stop` (timed), and a
# check that nothing is left listening or running. Writes OUTDIR/PROFILE/{start,run,swaks}.txt,
# the run's report in OUTDIR/PROFILE/report/ and a table in OUTDIR/summary.txt.
#
# Environment: SMTPSIM (default: build/ci/harness/smtpsim of this tree), SMTPSIM_SCENARIOS (a
# scenarios folder, default the binary's own), VERIFY_PORT_BASE (default 15000; uses BASE+25,
# +26, +87, +65 and +99).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export mta_prog=verify-by-hand
# shellcheck source=mta-lib.sh
. "$here/mta-lib.sh"

[ $# -ge 2 ] || { sed -n '4,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 64; }
mta=$1 out=$2
shift 2
profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(good authleak openrelay notls)
ctl=$here/../$mta/ctl
[ -x "$ctl" ] || mta_die "no $ctl"
smtpsim=${SMTPSIM:-$here/../../../build/ci/harness/smtpsim}
[ -x "$smtpsim" ] || mta_die "no smtpsim binary at $smtpsim (set SMTPSIM)"
command -v swaks >/dev/null || mta_die "swaks is not installed"
mkdir -p "$out"
out=$(cd "$out" && pwd)
base=${VERIFY_PORT_BASE:-15000}
sink=$((base + 25)) p25=$((base + 26)) p587=$((base + 87)) p465=$((base + 65))
pki=$out/pki
[ -f "$pki/fingerprints.txt" ] || "$smtpsim" pki --out "$pki" >/dev/null
scen=()
[ -z "${SMTPSIM_SCENARIOS:-}" ] || scen=(--scenarios "$SMTPSIM_SCENARIOS")

sink_log=$out/sink.log
: >"$sink_log"
mta_port_open "$sink" && mta_die "sink port $sink is in use"
python3 "$here/plain-sink.py" "$sink" "$sink_log" &
sink_pid=$!
trap 'kill "$sink_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do mta_port_open "$sink" && break; sleep 0.05; done

now_ms() { echo $(($(date +%s%N) / 1000000)); }
sink_count() { grep -c '^--- message' "$sink_log" || true; }

# swaks_check NAME EXPECT ARGS...: EXPECT = accept | reject; records the last reply line.
swaks_check() {
  local name=$1 expect=$2 rc=0 last got
  shift 2
  timeout 30 swaks --server 127.0.0.1 --from probe-sender@x.test --timeout 10 \
    --header "X-Check: $name" "$@" >"$dir/swaks-$name.txt" 2>&1 || rc=$?
  last=$(grep -E '^ *(<~?\*?|\*\*\*)' "$dir/swaks-$name.txt" | grep -vE '221 |^ *<~? +250 (OK|Accepted)' | tail -n 1 | sed 's/^ *//')
  if [ $rc -eq 0 ]; then got=accept; else got=reject; fi
  printf '%-28s expect %-6s got %-6s (swaks %s) %s\n' "$name" "$expect" "$got" "$rc" \
    "$([ "$got" = "$expect" ] && echo ok || echo MISMATCH) ${last:0:110}" >>"$dir/swaks.txt"
}

printf '%-10s %-10s %-8s %-8s %-60s %s\n' MTA profile start_ms stop_ms "verdicts (smtpsim run)" "swaks/sink/leftovers" >"$out/summary.txt"
for profile in "${profiles[@]}"; do
  dir=$out/$profile inst=$out/$profile/instance
  rm -rf "$dir"
  mkdir -p "$dir"
  t0=$(now_ms)
  rc=0
  "$ctl" start "$profile" "$inst" "$pki" "$sink" "$p25" "$p587" "$p465" >"$dir/start.txt" 2>&1 || rc=$?
  start_ms=$(($(now_ms) - t0))
  if [ $rc -ne 0 ]; then
    printf '%-10s %-10s %-8s %-8s %s\n' "$mta" "$profile" "exit $rc" - "$(tail -n 1 "$dir/start.txt")" >>"$out/summary.txt"
    "$ctl" stop "$inst" >/dev/null 2>&1 || true
    continue
  fi
  # The plain target file: what ctl opened, named as the scenarios expect.
  {
    printf '{\n  "name": "%s-%s",\n  "listeners": {\n' "$mta" "$profile"
    printf '    "starttls": "smtp://127.0.0.1:%s",\n' "$p25"
    [ "$profile" != authleak ] || printf '    "plaintext_auth": "smtp://127.0.0.1:%s",\n' "$p25"
    if [ "$profile" != notls ]; then
      printf '    "tls_required": "smtp://127.0.0.1:%s",\n' "$p587"
      printf '    "auth_required": "smtp://127.0.0.1:%s",\n' "$p587"
      printf '    "wrapper": "smtps://127.0.0.1:%s",\n' "$p465"
    fi
    printf '    "submission": "smtp://127.0.0.1:%s"\n  },\n' "$p587"
    printf '  "traits": ["public_mx"],\n'
    printf '  "vars": {"local_rcpt": "postmaster@mx.test", "foreign_rcpt": "victim@foreign.test", "auth_user": "probe@mx.test", "auth_password": "Probe-Pass-2026"},\n'
    printf '  "tls": {"server_name": "mx.test", "ca_file": "%s/ca.pem"}\n}\n' "$pki"
  } >"$dir/target.json"
  t1=$(now_ms)
  "$smtpsim" run "${scen[@]}" --target "$dir/target.json" --out "$dir/report" --progress plain >"$dir/run.txt" 2>&1 || true
  run_ms=$(($(now_ms) - t1))
  verdicts=$(grep -E '^[0-9]+ cases in' "$dir/run.txt" | tail -n 1 || true)
  [ -n "$verdicts" ] || verdicts="run failed: $(tail -n 1 "$dir/run.txt")"

  before=$(sink_count)
  : >"$dir/swaks.txt"
  swaks_check local-plaintext accept --port "$p25" --to postmaster@mx.test
  if [ "$profile" = openrelay ]; then e=accept; else e=reject; fi
  swaks_check relay-plaintext-noauth "$e" --port "$p25" --to victim@foreign.test
  if [ "$profile" = authleak ]; then e=accept; else e=reject; fi
  swaks_check auth-plaintext "$e" --port "$p25" --to victim@foreign.test \
    --auth PLAIN --auth-user probe@mx.test --auth-password Probe-Pass-2026
  if [ "$profile" != notls ]; then
    swaks_check relay-tls-auth-submission accept --port "$p587" --tls --to victim@foreign.test \
      --auth LOGIN --auth-user probe@mx.test --auth-password Probe-Pass-2026
    swaks_check relay-wrapper-auth accept --port "$p465" --tlsc --to victim@foreign.test \
      --auth PLAIN --auth-user probe@mx.test --auth-password Probe-Pass-2026
    if [ "$profile" = good ]; then
      swaks_check relay-tls-client1 accept --port "$p25" --tls --to victim@foreign.test \
        --tls-cert "$pki/client1.pem" --tls-key "$pki/client1.key"
      swaks_check relay-tls-client2 reject --port "$p25" --tls --to victim@foreign.test \
        --tls-cert "$pki/client2.pem" --tls-key "$pki/client2.key"
    fi
  fi
  # Let the MTA pass on what it accepted.
  accepted=$(grep -c 'got accept' "$dir/swaks.txt" || true)
  for _ in $(seq 1 100); do
    [ $(($(sink_count) - before)) -ge "$accepted" ] && break
    sleep 0.1
  done
  delivered=$(($(sink_count) - before))
  mismatches=$(grep -c MISMATCH "$dir/swaks.txt" || true)

  t2=$(now_ms)
  "$ctl" stop "$inst" >"$dir/stop.txt" 2>&1 || echo "stop exit $?" >>"$dir/stop.txt"
  stop_ms=$(($(now_ms) - t2))
  left=""
  for p in "$p25" "$p587" "$p465"; do
    if mta_port_open "$p"; then left="$left port:$p"; fi
  done
  if [ -f "$inst/ctl.pid" ]; then left="$left ctl.pid-left"; fi
  printf '%-10s %-10s %-8s %-8s %-60s swaks %s/%s as expected, sink got %s of %s accepted, run %s ms, leftovers:%s\n' \
    "$mta" "$profile" "$start_ms" "$stop_ms" "$verdicts" \
    "$(($(wc -l <"$dir/swaks.txt") - mismatches))" "$(wc -l <"$dir/swaks.txt")" \
    "$delivered" "$accepted" "$run_ms" "${left:- none}" >>"$out/summary.txt"
done
cat "$out/summary.txt"
