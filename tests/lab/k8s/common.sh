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

# daemon_pid NAME: print the pid from NAME's pid file if that process is alive and is still NAME.
daemon_pid() { pid_of "$RUN/$1.pid" "$1"; }

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
