#!/bin/sh
# run-case.sh: Postfix's SMTP client (smtp(8)) as an smtpsim client target, one private
# Postfix instance per case.
#
# Usage (smtpsim fills in the placeholders; see the *.json target files next to this script):
#   sh run-case.sh LEVEL WRAPPER HOST PORT SERVER_NAME CA_FILE FROM TO TOKEN CASE_DIR
#     LEVEL    smtp_tls_security_level: may | encrypt | verify | secure
#     WRAPPER  yes | no: smtp_tls_wrappermode (implicit TLS, RFC 8314)
#
# What it does, every wait bounded:
#   1. writes main.cf and a minimal master.cf for a private instance in a fresh folder under
#      ${TMPDIR:-/tmp} (so that the postfix user can reach it wherever {case_dir} is), with
#      relayhost = [SERVER_NAME]:PORT (a name, so that verify/secure can match the certificate;
#      SERVER_NAME must resolve to HOST through /etc/hosts), no listening sockets at all
#      (master.cf has no inet service; inet_interfaces = loopback-only), no DNS, no local
#      delivery, no connection cache;
#   2. starts it (postfix -c DIR start; Postfix must be started as root);
#   3. injects one message with sendmail -C DIR and flushes the queue (postqueue -c DIR -f);
#   4. waits until the log shows the delivery attempt is over (status=sent|deferred|bounced)
#      and no connection to PORT is left open;
#   5. stops the instance (postfix -c DIR stop, then waits for the master to exit, then
#      SIGKILL), copies its log and configuration into CASE_DIR/postfix/ and removes the folder.
# When smtpsim ends the case early (SIGTERM to the process group) the trap sends SIGTERM to the
# instance's master at once (the master runs in its own session, outside the group, so the
# harness cannot reach it). As a last resort (the script killed with SIGKILL) a small reaper,
# started in its own session, stops the instance once this script's process is gone.
#
# Exit status: 0 when the message was sent, 75 (EX_TEMPFAIL) when deferred, 1 when bounced,
# 70 on an internal problem (the instance did not start, no status within the bound).
set -eu

if [ $# -ne 10 ]; then
  echo "usage: sh run-case.sh LEVEL WRAPPER HOST PORT SERVER_NAME CA_FILE FROM TO TOKEN CASE_DIR" >&2
  exit 64
fi
level=$1 wrapper=$2 host=$3 port=$4 server_name=$5 ca_file=$6 from=$7 to=$8 token=$9
shift 9
case_dir=$1

case $level in may|encrypt|verify|secure) ;; *) echo "bad LEVEL $level" >&2; exit 64 ;; esac
case $wrapper in yes|no) ;; *) echo "bad WRAPPER $wrapper" >&2; exit 64 ;; esac

# Bounds (seconds).
START_BOUND=${POSTFIX_CASE_START_BOUND:-20}
DELIVERY_BOUND=${POSTFIX_CASE_DELIVERY_BOUND:-40}
STOP_BOUND=${POSTFIX_CASE_STOP_BOUND:-10}

PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH

if [ "$(id -u)" != 0 ]; then
  echo "run-case.sh: Postfix's master must be started as root (running as uid $(id -u))" >&2
  exit 70
fi

# The relay host is given by name; check that the name leads to HOST without DNS.
resolved=$(getent ahostsv4 "$server_name" 2>/dev/null | awk 'NR == 1 { print $1 }') || true
if [ "$resolved" != "$host" ]; then
  echo "run-case.sh: $server_name resolves to '${resolved}', not $host (needed: relayhost = [$server_name]:$port)" >&2
  exit 70
fi

base=$(mktemp -d "${TMPDIR:-/tmp}/smtpsim-postfix.XXXXXX")
chmod 755 "$base"
conf=$base/etc
spool=$base/spool
data=$base/data
log=$base/maillog
mkdir -p "$conf" "$spool" "$data" "$case_dir/postfix"
chown postfix "$data"
: > "$log"
echo "$base" > "$case_dir/postfix/instance-dir"

master_pid() {
  # Prints the master's pid when it is running.
  [ -s "$spool/pid/master.pid" ] || return 1
  p=$(tr -dc 0-9 < "$spool/pid/master.pid")
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

collect() {
  cp -f "$log" "$case_dir/postfix/maillog" 2>/dev/null || true
  cp -f "$conf/main.cf" "$conf/master.cf" "$case_dir/postfix/" 2>/dev/null || true
}

stopped=0
stop_instance() {
  [ "$stopped" = 1 ] && return 0
  stopped=1
  if p=$(master_pid); then
    # What "postfix stop" does, without its one-second polling: SIGTERM to the master, which
    # ends its children and exits; after the bound, SIGKILL to its process group.
    kill -TERM "$p" 2>/dev/null || true
    i=0
    while kill -0 "$p" 2>/dev/null && [ "$i" -lt $((STOP_BOUND * 20)) ]; do
      sleep 0.05
      i=$((i + 1))
    done
    if kill -0 "$p" 2>/dev/null; then
      echo "run-case.sh: the master (pid $p) did not stop within ${STOP_BOUND}s; SIGKILL" >&2
      kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
    fi
  fi
  # The master's children are ended by the master; make sure none outlives it.
  pkill_instance
  collect
  rm -rf "$base"
}

pkill_instance() {
  # Ends the processes of this instance only: Postfix daemons carry MAIL_CONFIG=<its config
  # folder> in their environment (the master passes it on).
  for f in $(grep -lzx "MAIL_CONFIG=$conf" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${f#/proc/}
    pid=${pid%/environ}
    [ "$pid" = $$ ] || kill -KILL "$pid" 2>/dev/null || true
  done
}

on_signal() {
  # smtpsim gives the process group 0.5 s between SIGTERM and SIGKILL: signal the master at
  # once (it ends its children), then clean up as far as time allows.
  trap - TERM INT HUP
  if p=$(master_pid); then kill -TERM "$p" 2>/dev/null || true; fi
  stop_instance
  exit 143
}
trap on_signal TERM INT HUP
trap 'stop_instance' EXIT

# Reaper: outside this process group, so that a SIGKILL of the group cannot stop it. It waits
# (bounded) for this script to be gone, then stops what is left of the instance.
self=$$
reaper_bound=$((START_BOUND + DELIVERY_BOUND + STOP_BOUND + 30))
setsid sh -c '
  self=$1 conf=$2 spool=$3 base=$4 bound=$5 case_dir=$6
  i=0
  while kill -0 "$self" 2>/dev/null && [ "$i" -lt $((bound * 5)) ]; do sleep 0.2; i=$((i + 1)); done
  [ -d "$base" ] || exit 0
  if [ -s "$spool/pid/master.pid" ]; then
    p=$(tr -dc 0-9 < "$spool/pid/master.pid")
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
    sleep 2
    [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
  fi
  cp -f "$base/maillog" "$case_dir/postfix/maillog" 2>/dev/null
  rm -rf "$base"
' reaper "$self" "$conf" "$spool" "$base" "$reaper_bound" "$case_dir" </dev/null >/dev/null 2>&1 &

cp "$ca_file" "$conf/ca.pem"
chmod 644 "$conf/ca.pem"

# Bounces (to the sender's domain) and notices (to postmaster@client.test) are discarded, so the
# fake server only ever sees the one delivery attempt of the case.
from_domain=${from##*@}
if [ "$from_domain" = client.test ] || [ "$from_domain" = "$from" ]; then
  transport_map="inline:{ client.test=discard:sandbox }"
else
  transport_map="inline:{ client.test=discard:sandbox, $from_domain=discard:sandbox }"
fi

cat > "$conf/main.cf" <<EOF
# Private Postfix instance for one smtpsim client case (written by run-case.sh).
compatibility_level = 3.6
config_directory = $conf
queue_directory = $spool
data_directory = $data
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $log
maillog_file_prefixes = $base
myhostname = client.smtpsim.test
mydomain = smtpsim.test
myorigin = client.test
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled in this instance
default_transport = smtp
transport_maps = $transport_map
relayhost = [$server_name]:$port
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtp_connection_cache_on_demand = no
smtp_connect_timeout = 10s
smtp_helo_timeout = 20s
smtp_starttls_timeout = 20s
smtp_tls_security_level = $level
smtp_tls_wrappermode = $wrapper
smtp_tls_CAfile = $conf/ca.pem
smtp_tls_loglevel = 1
smtp_tls_session_cache_database =
smtp_tls_servername = $server_name
smtp_tls_verify_cert_match = hostname
smtp_tls_secure_cert_match = nexthop
biff = no
delay_warning_time = 0
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
EOF

cat > "$conf/master.cf" <<'EOF'
# Minimal master.cf: no listening service; only what delivery with smtp(8) needs.
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

stamp() { echo "run-case.sh: $(date +%T.%N | cut -c1-12) $*"; }
stamp "level=$level wrapper=$wrapper relayhost=[$server_name]:$port instance=$base"

# The queue folders, as "postfix-script check-fatal" would create them from
# /etc/postfix/postfix-files; with them in place the quick-start flag lets "postfix start" skip
# its slow integrity checks (about 4 s).
mkdir -p "$spool"
for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
  mkdir -m 700 "$spool/$d"
  chown postfix:root "$spool/$d"
done
mkdir -m 730 "$spool/maildrop"
chown postfix:postdrop "$spool/maildrop"
mkdir -m 710 "$spool/public"
chown postfix:postdrop "$spool/public"
mkdir -m 755 "$spool/pid"
chmod 755 "$spool"
: > "$spool/quick-start"

# 2. Start (postfix start waits for the master's initialisation; bound it).
if ! timeout "$START_BOUND" postfix -c "$conf" start; then
  echo "run-case.sh: the instance did not start within ${START_BOUND}s" >&2
  collect
  cat "$log" >&2 || true
  exit 70
fi

stamp "started"
# 3. Inject and flush.
{
  printf 'From: smtpsim client <%s>\n' "$from"
  printf 'To: <%s>\n' "$to"
  printf 'Subject: smtpsim client conformance test\n'
  printf 'X-Smtpsim-Token: %s\n' "$token"
  printf '\n'
  printf 'This message was sent by the Postfix smtp(8) client to smtpsim.\n'
} > "$base/message.eml"
timeout 15 sendmail -C "$conf" -f "$from" -- "$to" < "$base/message.eml"
timeout 10 postqueue -c "$conf" -f || true

stamp "injected"
# 4. Wait for the end of the delivery attempt.
i=0
status=
while [ "$i" -lt $((DELIVERY_BOUND * 10)) ]; do
  status=$(sed -n 's/.* postfix\/smtp\[[0-9]*\]: .* status=\([a-z]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$status" ] && break
  sleep 0.1
  i=$((i + 1))
done

stamp "delivery status: ${status:-none}"
# The status is logged when the reply to the end of data (or the failure) arrives; the client
# may still be sending QUIT and closing TLS. Wait (bounded) until no connection to the fake
# server's port is left, so that stopping the instance cuts nothing short.
i=0
while [ "$i" -lt 100 ] && [ -n "$(ss -Htn state established "( dport = :$port )" 2>/dev/null)" ]; do
  sleep 0.1
  i=$((i + 1))
done
# 5. Stop (the EXIT trap would do it too; doing it here keeps the exit status ours).
stop_instance
trap - EXIT
stamp "stopped"
echo "--- Postfix log (smtp, qmgr, tls lines) ---"
grep -E 'postfix/(smtp|qmgr|error)\[|warning|fatal|panic' "$case_dir/postfix/maillog" 2>/dev/null || true
case $status in
  sent) exit 0 ;;
  deferred) exit 75 ;;
  bounced) exit 1 ;;
  *) echo "run-case.sh: no delivery status within ${DELIVERY_BOUND}s" >&2; exit 70 ;;
esac
