#!/bin/sh
# msmtp-send.sh: runs msmtp for one smtpsim client case without a shell pipeline.
#
# smtpsim starts client commands with stdin from /dev/null, and msmtp reads the message only
# from stdin, so this wrapper writes a small message (with the case token, $SMTPSIM_TOKEN) into
# the current folder (smtpsim runs the client in {case_dir}) and runs msmtp with stdin from it.
#
# Usage: sh msmtp-send.sh [--password=PASSWORD] FROM TO MSMTP-OPTION...
#   --password=PASSWORD  written to ./msmtp-password (mode 600) and handed to msmtp with
#                        --passwordeval (msmtp takes no password on its command line)
#   FROM TO              envelope sender and recipient
#   MSMTP-OPTION...      passed to msmtp as they are (e.g. --host=... --port=... --tls=on)
set -eu

password=
password_set=0
case ${1-} in
  --password=*) password=${1#--password=}; password_set=1; shift ;;
esac
if [ $# -lt 2 ]; then
  echo "usage: sh msmtp-send.sh [--password=PASSWORD] FROM TO MSMTP-OPTION..." >&2
  exit 2
fi
from=$1
to=$2
shift 2

umask 077
{
  printf 'From: smtpsim client <%s>\n' "$from"
  printf 'To: <%s>\n' "$to"
  printf 'Subject: smtpsim client conformance test\n'
  printf 'X-Smtpsim-Token: %s\n' "${SMTPSIM_TOKEN:-none}"
  printf '\n'
  printf 'This message was sent by msmtp to smtpsim'"'"'s fake server.\n'
} > ./message.eml

if [ "$password_set" = 1 ]; then
  printf '%s\n' "$password" > ./msmtp-password
  set -- --passwordeval="cat msmtp-password" "$@"
fi

# --host (among the options) makes msmtp ignore every configuration file; -v puts the SMTP
# dialogue into client.out.
exec msmtp -v --from="$from" "$@" -- "$to" < ./message.eml
