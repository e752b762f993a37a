# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this file
# Shared by k8s/up.sh and k8s/down.sh. Sourced, not run.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
K8S_BIN="$LAB_CACHE/k8s/bin"
KUBE="$LAB_HOME/kube"              # all cluster state: pki, etcd data, kubelet root, logs, pid files
PKI="$KUBE/pki"
RUN="$KUBE/run"                     # pid files
LOGS="$KUBE/log"                    # daemon logs
NODE_NAME=bdlab-node
PAUSE_IMAGE=k8s.gcr.io/pause:3.2
API_URL=https://127.0.0.1:6443
# Stop order for down.sh (reverse of the start order).
DAEMONS=(kubelet cluster-dns.py kube-scheduler kube-controller-manager kube-apiserver etcd)

# alive PID: the process exists and is not a zombie (pid 1 of this VM reaps orphans only after a second or two).
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# daemon_pid NAME: print the pid from NAME's pid file if that process is alive and is still NAME (its program,
# or the script its interpreter runs).
daemon_pid() {
  local f="$RUN/$1.pid" pid argv
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  mapfile -t argv < <(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | head -n2)
  [ "$(basename "${argv[0]:-}")" = "$1" ] || [ "$(basename "${argv[1]:-}")" = "$1" ] || return 1
  echo "$pid"
}

# stop_daemon NAME: SIGTERM, wait up to 30 s, then SIGKILL. Quiet if it is not running.
stop_daemon() {
  local name=$1 pid i
  if pid=$(daemon_pid "$name"); then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 300); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      log "$name did not stop after 30 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -f "$RUN/$name.pid"
}
