# shellcheck shell=bash
# mta-lib.sh: helpers shared by the real-MTA target scripts (exim/ctl, opensmtpd/ctl,
# their fetch scripts). Source it from bash; it defines functions only.
#
# What lives here:
#   mta_die / mta_note          messages on stderr, prefixed with the calling script's name
#   mta_fetch PKG BIN           apt-get download + dpkg -x into the private prefix (idempotent)
#   mta_check_args ...          the common `ctl start` argument checks
#   mta_port_open PORT          is something accepting on 127.0.0.1:PORT?
#   mta_ns_prepare DIR USER...  private copies of /etc/passwd, /etc/group, /etc/hosts for a
#                               mount namespace, with the MTA's compiled-in users added
#   mta_ns_launch DIR LOG BIND... -- CMD...
#                               starts CMD in the background, in its own session and a private
#                               mount namespace (unshare -m) where each BIND (SRC:DEST) is
#                               bind-mounted; records the pid and the namespace in DIR/ctl.pid
#   mta_wait_ready DIR SECONDS PORT...
#                               waits until every port accepts, or the process died
#   mta_stop DIR                ends everything in the instance's namespace (idempotent)
#
# Nothing here touches the system's /etc or /var: the passwd/group copies are bind-mounted
# inside the private namespace only.

mta_prog=${mta_prog:-$(basename "$0")}

mta_die() {
  printf '%s: %s\n' "$mta_prog" "$*" >&2
  exit "${MTA_DIE_STATUS:-1}"
}

mta_note() {
  printf '%s: %s\n' "$mta_prog" "$*" >&2
}

mta_prefix() {
  printf '%s\n' "${SMTPSIM_MTA_PREFIX:-/var/cache/smtpsim/mta}"
}

# mta_fetch PACKAGE BINARY   (BINARY is the path inside the package, e.g. usr/sbin/exim4)
# Prints the absolute path of the unpacked binary. Exit 2 when apt has no such package or a
# shared library is missing (the message names the apt packages to install).
mta_fetch() {
  local pkg=$1 bin=$2 prefix version dest tmp deb missing deps
  prefix=$(mta_prefix)
  command -v apt-cache >/dev/null || MTA_DIE_STATUS=2 mta_die "apt-cache not found: fetching needs Debian's apt"
  version=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
  if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    MTA_DIE_STATUS=2 mta_die "apt has no package '$pkg' (run 'apt-get update' first; Debian 12 has it in main)"
  fi
  dest=$prefix/$pkg/$version
  mkdir -p "$prefix/$pkg"
  (
    # Serialise concurrent fetches of the same package (parallel `ctl start`s).
    exec 9>"$prefix/$pkg/.lock"
    flock -w 120 9 || mta_die "timed out waiting for another fetch of $pkg"
    if [ -f "$dest/.unpacked" ] && [ -x "$dest/root/$bin" ]; then
      exit 0
    fi
    tmp=$(mktemp -d "$prefix/$pkg/.fetch.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    # apt drops to _apt for downloads; let it write here (else it warns and downloads as root).
    if id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
    if ! (cd "$tmp" && apt-get download -q "$pkg=$version" >"$tmp/apt.log" 2>&1); then
      cat "$tmp/apt.log" >&2
      MTA_DIE_STATUS=2 mta_die "apt-get download $pkg=$version failed (see above)"
    fi
    deb=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n 1)
    [ -n "$deb" ] || MTA_DIE_STATUS=2 mta_die "apt-get download $pkg left no .deb"
    rm -rf "$dest"
    mkdir -p "$dest/root"
    dpkg -x "$deb" "$dest/root"
    # The unpacked tree is for private instances started by root: no set-uid/set-gid programs
    # lying around in the cache.
    find "$dest/root" -type f -perm /6000 -exec chmod ug-s {} +
    [ -x "$dest/root/$bin" ] || MTA_DIE_STATUS=2 mta_die "$pkg $version has no $bin"
    printf '%s\n' "$version" >"$dest/.unpacked"
    ln -sfn "$version" "$prefix/$pkg/current"
  ) || exit $?
  missing=$(ldd "$dest/root/$bin" 2>/dev/null | awk '/not found/ { print $1 }' | tr '\n' ' ')
  if [ -n "$missing" ]; then
    deps=$(apt-cache depends "$pkg=$version" 2>/dev/null |
      awk '$1 == "Depends:" && $2 ~ /^lib/ { print $2 }' | sort -u | tr '\n' ' ')
    MTA_DIE_STATUS=2 mta_die "missing shared libraries for $dest/root/$bin: ${missing}-- install them with: apt-get install -y ${deps}"
  fi
  printf '%s\n' "$dest/root/$bin"
}

# mta_check_args PROFILE INSTANCE_DIR PKI_DIR SINK STARTTLS SUBMISSION WRAPPER
# WRAPPER may be 0 with the notls profile (no wrapper listener), as the Postfix target passes.
mta_check_args() {
  local profile=$1 dir=$2 pki=$3 p
  shift 3
  if [ "$profile" = notls ] && [ "${4:-}" = 0 ]; then set -- "$1" "$2" "$3"; fi
  case $profile in good | authleak | openrelay | notls) ;;
  *) mta_die "unknown profile '$profile' (good, authleak, openrelay, notls)" ;;
  esac
  case $dir in /*) ;; *) mta_die "INSTANCE_DIR must be an absolute path: $dir" ;; esac
  case $pki in /*) ;; *) mta_die "PKI_DIR must be an absolute path: $pki" ;; esac
  for p in "$@"; do
    case $p in '' | *[!0-9]*) mta_die "not a port number: '$p'" ;; esac
    if [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then mta_die "port out of range: $p"; fi
  done
  if [ "$(printf '%s\n' "$@" | sort -u | wc -l)" -ne "$#" ]; then
    mta_die "the ports must differ: $*"
  fi
  [ "$(id -u)" = 0 ] || mta_die "must run as root (private mount namespace, port binding as the MTA's users)"
}

# mta_check_pki PKI_DIR FILE...
mta_check_pki() {
  local pki=$1 f
  shift
  for f in "$@"; do
    [ -r "$pki/$f" ] || mta_die "PKI_DIR $pki has no readable $f (make one with: smtpsim pki --out $pki)"
  done
}

# mta_port_open PORT: 0 if something accepts TCP connections on 127.0.0.1:PORT.
mta_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# mta_ns_prepare NSDIR ENTRY...   ENTRY = "user:uid:group:gid"
# Writes NSDIR/passwd, NSDIR/group (system copies plus the entries, unless a name already
# exists) and NSDIR/hosts (system copy plus "127.0.0.1 mx.test").
mta_ns_prepare() {
  local ns=$1 e user uid group gid
  shift
  mkdir -p "$ns"
  cp /etc/passwd "$ns/passwd"
  cp /etc/group "$ns/group"
  if [ -r /etc/hosts ]; then cp /etc/hosts "$ns/hosts"; else : >"$ns/hosts"; fi
  printf '127.0.0.1 mx.test\n' >>"$ns/hosts"
  for e in "$@"; do
    IFS=: read -r user uid group gid <<<"$e"
    if ! grep -q "^$group:" "$ns/group"; then
      printf '%s:x:%s:\n' "$group" "$gid" >>"$ns/group"
    fi
    if ! grep -q "^$user:" "$ns/passwd"; then
      printf '%s:x:%s:%s:smtpsim private %s:/nonexistent:/usr/sbin/nologin\n' \
        "$user" "$uid" "$(awk -F: -v g="$group" '$1 == g { print $3 }' "$ns/group")" "$user" >>"$ns/passwd"
    fi
  done
  chmod 644 "$ns/passwd" "$ns/group" "$ns/hosts"
}

# mta_ns_id NAME NSDIR: numeric uid (or gid with mta_ns_gid) of NAME in the private copies.
mta_ns_uid() { awk -F: -v n="$1" '$1 == n { print $3; exit }' "$2/passwd"; }
mta_ns_gid() { awk -F: -v n="$1" '$1 == n { print $3; exit }' "$2/group"; }

# mta_ns_launch INSTANCE_DIR LOGFILE SRC:DEST... -- CMD ARGS...
mta_ns_launch() {
  local dir=$1 log=$2 pid ns_inode i
  shift 2
  local binds=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    binds+=("$1")
    shift
  done
  [ "${1:-}" = "--" ] || mta_die "internal: mta_ns_launch needs -- before the command"
  shift
  # The inner shell does the bind mounts inside the new namespace, then execs the daemon, so
  # the recorded pid is the daemon's own. setsid: its own session and process group, so that
  # `stop` can signal the whole group and nothing is tied to the caller's terminal.
  # shellcheck disable=SC2016
  setsid unshare -m --propagation private -- /bin/sh -c '
    n=$1; shift
    i=0
    while [ "$i" -lt "$n" ]; do
      src=${1%%:*}; dst=${1#*:}; shift
      mount --bind "$src" "$dst" || { echo "bind mount $src on $dst failed" >&2; exit 111; }
      i=$((i + 1))
    done
    exec "$@"
  ' mta-ns "${#binds[@]}" "${binds[@]}" "$@" </dev/null >>"$log" 2>&1 &
  pid=$!
  # Wait (bounded) until the child is inside its own namespace, to record the namespace.
  ns_inode=""
  for i in $(seq 1 100); do
    if ! mta_alive "$pid"; then break; fi
    ns_inode=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null || true)
    if [ -n "$ns_inode" ] && [ "$ns_inode" != "$(readlink /proc/self/ns/mnt)" ]; then break; fi
    ns_inode=""
    sleep 0.01
  done
  printf 'pid=%s\nmntns=%s\n' "$pid" "$ns_inode" >"$dir/ctl.pid"
  : "$i"
}

# mta_alive PID: the process exists and is not a zombie (a zombie waits for whoever inherited
# it to reap it; it holds no socket any more). No fork.
mta_alive() {
  local st
  st=$(<"/proc/$1/stat") 2>/dev/null || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ]
}

# mta_pids_of DIR: pids of every process in the instance's mount namespace (plus the recorded
# pid itself), whatever their names. The namespace is unique to the instance, so nothing else
# can match.
mta_pids_of() {
  local dir=$1 pid="" mntns=""
  [ -f "$dir/ctl.pid" ] || return 0
  pid=$(sed -n 's/^pid=//p' "$dir/ctl.pid")
  mntns=$(sed -n 's/^mntns=//p' "$dir/ctl.pid")
  if [ -n "$pid" ] && mta_alive "$pid"; then printf '%s\n' "$pid"; fi
  if [ -n "$mntns" ]; then
    # One ls for all processes (a readlink per process costs a fork each).
    # shellcheck disable=SC2012 # the names are /proc/PID/ns/mnt, nothing odd in them
    ls -l /proc/[0-9]*/ns/mnt 2>/dev/null |
      awk -v ns="$mntns" '$NF == ns { split($(NF - 2), a, "/"); print a[3] }' || true
  fi
  return 0
}

# mta_wait_ready DIR SECONDS LOGFILE PORT...
mta_wait_ready() {
  local dir=$1 secs=$2 log=$3 pid deadline p waiting
  shift 3
  pid=$(sed -n 's/^pid=//p' "$dir/ctl.pid")
  deadline=$((SECONDS + secs))
  while :; do
    if ! mta_alive "$pid"; then
      mta_note "the daemon exited during start-up; last lines of $log:"
      tail -n 15 "$log" >&2 || true
      return 1
    fi
    waiting=""
    for p in "$@"; do
      mta_port_open "$p" || waiting="$waiting $p"
    done
    [ -n "$waiting" ] || return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      mta_note "not listening after ${secs}s on 127.0.0.1:${waiting# }; last lines of $log:"
      tail -n 15 "$log" >&2 || true
      return 1
    fi
    sleep 0.02
  done
}

# mta_watch DIR CTL: a watcher in its own session runs `CTL stop DIR` when the process that ran
# `ctl start` (the harness) is gone without `ctl stop`, e.g. after a SIGKILL, so that no
# instance outlives its run. It polls once a second and ends when DIR/watcher.pid is removed.
mta_watch() {
  local dir=$1 ctl=$2 harness=$PPID
  echo starting >"$dir/watcher.pid"
  # shellcheck disable=SC2016 # expanded by the watcher's shell
  setsid sh -c '
    harness=$1 ctl=$2 dir=$3
    while kill -0 "$harness" 2>/dev/null && [ -s "$dir/watcher.pid" ]; do sleep 1; done
    [ -s "$dir/watcher.pid" ] && exec "$ctl" stop "$dir"
    exit 0
  ' watcher "$harness" "$ctl" "$dir" </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watcher.pid"
}

# mta_unwatch DIR: end the watcher (unless it is the caller: the watcher execs `ctl stop`), and
# wait for it to go (bounded).
mta_unwatch() {
  local dir=$1 w i
  [ -f "$dir/watcher.pid" ] || return 0
  w=$(tr -dc 0-9 <"$dir/watcher.pid")
  rm -f "$dir/watcher.pid"
  [ -n "$w" ] && [ "$w" != "$$" ] || return 0
  kill -TERM "$w" 2>/dev/null || return 0
  for i in $(seq 1 40); do
    mta_alive "$w" || return 0
    sleep 0.05
  done
  : "$i"
}

# mta_stop DIR [GRACE_SECONDS]: SIGTERM to everything in the instance, SIGKILL after the grace.
# Exit 0 when nothing runs (also when DIR has never been started).
mta_stop() {
  local dir=$1 grace=${2:-5} pids pid deadline
  mta_unwatch "$dir"
  pids=$(mta_pids_of "$dir" | sort -u)
  if [ -n "$pids" ]; then
    pid=$(sed -n 's/^pid=//p' "$dir/ctl.pid")
    kill -TERM -- "-$pid" 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while [ -n "$(mta_pids_of "$dir")" ] && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.05
    done
    pids=$(mta_pids_of "$dir" | sort -u)
    if [ -n "$pids" ]; then
      mta_note "still running after ${grace}s, sending SIGKILL to: $(tr "\n" " " <<<"$pids")"
      kill -KILL -- "-$pid" 2>/dev/null || true
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      deadline=$((SECONDS + 5))
      while [ -n "$(mta_pids_of "$dir")" ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.05
      done
      pids=$(mta_pids_of "$dir" | sort -u)
      # shellcheck disable=SC2086
      [ -z "$pids" ] || mta_die "could not end processes:" $pids
    fi
  fi
  rm -f "$dir/ctl.pid"
}

# mta_write_listeners DIR NAME=URL...: the listeners actually opened, one "NAME URL" a line
# (for building a target file).
mta_write_listeners() {
  local dir=$1 kv
  shift
  : >"$dir/listeners.txt"
  for kv in "$@"; do printf '%s %s\n' "${kv%%=*}" "${kv#*=}" >>"$dir/listeners.txt"; done
}

# mta_binary PACKAGE BINARY FETCH_SCRIPT: the unpacked binary of the newest fetched version
# (no apt look-up, so `ctl start` stays fast); runs FETCH_SCRIPT when nothing is unpacked yet.
mta_binary() {
  local pkg=$1 bin=$2 fetch=$3 cur
  cur=$(mta_prefix)/$pkg/current
  if [ -f "$cur/.unpacked" ] && [ -x "$cur/root/$bin" ]; then
    printf '%s\n' "$(cd "$cur" && pwd -P)/root/$bin"
  else
    "$fetch"
  fi
}
