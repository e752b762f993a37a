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
