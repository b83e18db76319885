#!/bin/sh
# ctl.sh: a tiny started server target for tests/started_target_test.cpp: `smtpsim serve` on the
# ports the harness allocated, passing every accepted message on to the harness's capture sink.
#
#   sh ctl.sh start SMTPSIM INSTANCE_DIR STARTTLS_PORT WRAPPER_PORT SINK_PORT
#   sh ctl.sh stop INSTANCE_DIR
#
# start checks that INSTANCE_DIR is empty, starts the server in its own session (so that it
# outlives this script's process group) and returns once it runs; the harness then waits for the
# ports.
# Marker files in INSTANCE_DIR tell the test what ran.
set -eu

# alive PID: the process exists and is not a zombie waiting for its parent.
alive() {
  [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
}

case ${1:-} in
  start)
    [ $# -eq 6 ] || { echo "usage: ctl.sh start SMTPSIM INSTANCE_DIR STARTTLS_PORT WRAPPER_PORT SINK_PORT" >&2; exit 64; }
    smtpsim=$2 inst=$3
    [ -d "$inst" ] && [ -z "$(ls -A "$inst")" ] || { echo "ctl.sh: $inst is not an empty folder" >&2; exit 1; }
    setsid "$smtpsim" serve --port "starttls=$4" --port "wrapper=$5" --relay-port "$6" \
      </dev/null >"$inst/serve.out" 2>&1 &
    echo $! > "$inst/serve.pid"
    # Return once the server is up: what is left in this script's process group when it exits
    # is ended by the harness, and the forked child may not have reached setsid yet.
    i=0
    until grep -q 'Ctrl-C to stop' "$inst/serve.out" 2>/dev/null; do
      i=$((i + 1))
      [ "$i" -lt 400 ] || { echo "ctl.sh: smtpsim serve did not start" >&2; cat "$inst/serve.out" >&2; exit 1; }
      sleep 0.05
    done
    echo "$4 $5 $6" > "$inst/setup-ran" ;;
  stop)
    [ $# -eq 2 ] || { echo "usage: ctl.sh stop INSTANCE_DIR" >&2; exit 64; }
    inst=$2
    if [ -s "$inst/serve.pid" ]; then
      pid=$(cat "$inst/serve.pid")
      kill -TERM "$pid" 2>/dev/null || true
      i=0
      while alive "$pid" && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo stopped > "$inst/teardown-ran" ;;
  *) echo "usage: ctl.sh start|stop ..." >&2; exit 64 ;;
esac
