#!/usr/bin/env bash
# The whole lab, one command: make lab (up), make lab-down (down), make lab-status.
# up is idempotent: what already runs is left as it is.
source "$(dirname "$0")/lib.sh"
case "${1:-up}" in
  up)
    t0=$SECONDS
    bash "$LAB_DIR/venv.sh"
    bash "$LAB_DIR/docker.sh" up
    bash "$LAB_DIR/ssh.sh" up
    bash "$LAB_DIR/images/build.sh"
    bash "$LAB_DIR/k8s/build.sh"
    bash "$LAB_DIR/k8s/up.sh"
    log "lab up in $((SECONDS - t0)) s: docker $(docker version -f '{{.Server.Version}}'), $(docker compose version --short), swarm $(docker info -f '{{.Swarm.LocalNodeState}}'), kubeconfig $KUBECONFIG_LAB"
    ;;
  down)
    for h in "$LAB_HOME"/hubs/*; do
      [ -e "$h" ] || continue
      "$LAB_VENV/bin/python" "$LAB_DIR/labhub.py" remove "$(basename "$h")" || true
    done
    if [ -x "$LAB_DIR/k8s/down.sh" ]; then bash "$LAB_DIR/k8s/down.sh" || true; fi
    bash "$LAB_DIR/docker.sh" down
    bash "$LAB_DIR/ssh.sh" down
    ;;
  status)
    docker info -f 'docker {{.ServerVersion}} swarm={{.Swarm.LocalNodeState}} containers={{.ContainersRunning}}' 2>/dev/null || echo "docker: down"
    KUBECONFIG=$KUBECONFIG_LAB kubectl get nodes 2>/dev/null || echo "kubernetes: down"
    "$LAB_VENV/bin/python" "$LAB_DIR/labhub.py" list 2>/dev/null || true
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
