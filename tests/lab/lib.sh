# shellcheck shell=bash
# Common settings for the lab scripts. Sourced, not run.
# Everything the lab keeps lives outside the repository, so a clean clone stays clean.
set -euo pipefail
LAB_HOME=${LAB_HOME:-/var/lib/bdlab}          # state: docker data root, kube state, hubs
LAB_CACHE=${LAB_CACHE:-/var/cache/bdlab}      # heavy builds: kubernetes binaries, rootfs
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034  # used by the scripts that source this file
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
export KUBECONFIG_LAB="$LAB_HOME/kube/kubeconfig"
mkdir -p "$LAB_HOME" "$LAB_CACHE"

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# apt_install PKG...: install the packages that are missing, updating the lists once.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt: installing ${missing[*]}"
  if [ ! -f "$LAB_HOME/.apt-updated" ] || [ -n "$(find "$LAB_HOME/.apt-updated" -mmin +720)" ]; then
    apt-get update -qq && touch "$LAB_HOME/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# alive PID: the process exists and is not a zombie (pid 1 of this VM reaps orphans only after a second or two).
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# live_pid FILE: print the pid FILE holds if it is one pid and that process is alive (whatever it runs).
live_pid() {
  local pid
  [ -s "$1" ] && pid=$(cat "$1") && [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  echo "$pid"
}

# pid_of FILE NAME: print the pid FILE holds if that process is alive and is still NAME (its program, or the
# script its interpreter runs). A pid file left by a killed daemon may name a pid the system has given to
# another process since: that one is not NAME.
pid_of() {
  local name=$2 pid argv
  pid=$(live_pid "$1") || return 1
  mapfile -t argv < <(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | head -n2)
  [ "$(basename "${argv[0]:-}")" = "$name" ] || [ "$(basename "${argv[1]:-}")" = "$name" ] || return 1
  echo "$pid"
}

# drop_stale_pidfile FILE NAME: remove FILE unless its process is NAME, alive. A daemon that finds its pid file
# naming a live process refuses to start (dockerd) or takes it for itself (dockerd's containerd).
drop_stale_pidfile() {
  if [ -e "$1" ] && ! pid_of "$1" "$2" >/dev/null; then
    log "removing the stale pid file $1 (no $2 runs under pid $(cat "$1" 2>/dev/null))"
    rm -f "$1"
  fi
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD until it succeeds.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local end=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && die "timed out after ${timeout}s waiting for $what"
    sleep 1
  done
}

# The machine's own Debian mirror and suite, read at run time (never hard-coded).
debian_mirror() { awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources; }
debian_suite() { awk '/^Suites:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources; }
LAB_VENV=${LAB_VENV:-$LAB_CACHE/venv}          # Python for tests and Ansible (requirements: tests/requirements.txt)
