#!/usr/bin/env bash
# Stop the lab's Kubernetes (what k8s/up.sh started, by pid file) and remove the pod containers the kubelet
# left on the lab's Docker engine (names k8s_*; nothing else on the shared engine is touched).
# The state ($LAB_HOME/kube: pki, etcd data, kubeconfigs) stays, so up.sh restarts the same cluster.
# Idempotent.
source "$(dirname "$0")/common.sh"

for d in "${DAEMONS[@]}"; do stop_daemon "$d"; done

if docker info >/dev/null 2>&1; then
  mapfile -t ids < <(docker ps -a --format '{{.ID}} {{.Names}}' | awk '$2 ~ /^k8s_/ {print $1}')
  if [ ${#ids[@]} -gt 0 ]; then
    log "removing ${#ids[@]} kubelet container(s) (k8s_*)"
    docker rm -f "${ids[@]}" >/dev/null
  fi
else
  log "docker engine not answering: kubelet containers (k8s_*) not removed"
fi

# Secret volumes are tmpfs mounts under the kubelet's root, and the kubelet bind-mounts its root onto itself;
# unmount them so the state directory can be removed. The kubelet mounts them again when it starts.
if [ -d "$KUBE/kubelet" ]; then
  awk -v root="$KUBE/kubelet" '$2 == root || index($2, root "/") == 1 {print $2}' /proc/self/mounts | sort -r \
    | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
fi
log "kubernetes down (state kept in $KUBE)"
