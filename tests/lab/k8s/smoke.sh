#!/usr/bin/env bash
# Smoke test of the lab cluster (k8s/up.sh first): a Deployment with a hostPath volume reaches Running,
# `kubectl exec` works (with bdlab/base:bookworm if that image exists), scaling to 0 removes the pod.
# Cleans up after itself (namespace bdlab-smoke, hostPath dir under $LAB_HOME/kube/smoke).
source "$(dirname "$0")/common.sh"
export KUBECONFIG="$KUBECONFIG_LAB"
NS=bdlab-smoke
HP="$KUBE/smoke"
image=$PAUSE_IMAGE cmd='' exec_image=no
if docker image inspect bdlab/base:bookworm >/dev/null 2>&1; then
  image=bdlab/base:bookworm cmd='command: ["sleep", "infinity"]' exec_image=yes
fi
cleanup() { kubectl delete ns "$NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT
kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True \
  || die "node $NODE_NAME is not Ready"
kubectl create ns "$NS" >/dev/null
mkdir -p "$HP"
t0=$SECONDS
kubectl apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: smoke, namespace: $NS}
spec:
  replicas: 1
  selector: {matchLabels: {app: smoke}}
  template:
    metadata: {labels: {app: smoke}}
    spec:
      nodeSelector: {blackduck.hub.postgres: "true"}
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: false
      containers:
      - name: main
        image: $image
        imagePullPolicy: Never
        $cmd
        volumeMounts: [{name: data, mountPath: /data}]
      volumes:
      - name: data
        hostPath: {path: $HP, type: Directory}
EOF
kubectl -n "$NS" wait --for=condition=Available deploy/smoke --timeout=30s >/dev/null \
  || { kubectl -n "$NS" describe pods >&2; die "smoke pod not Running within 30 s"; }
pod=$(kubectl -n "$NS" get pod -l app=smoke -o jsonpath='{.items[0].metadata.name}')
log "pod $pod Running after $((SECONDS - t0)) s ($image)"
if [ "$exec_image" = yes ]; then
  kubectl -n "$NS" exec "$pod" -- sh -c 'echo smoke-ok > /data/probe'
  [ "$(cat "$HP/probe")" = smoke-ok ] || die "kubectl exec / hostPath write failed"
  log "kubectl exec works, hostPath written"
else
  # No shell in the pause image: an exec that reaches the container runtime fails with exit code 126/127.
  rc=0; kubectl -n "$NS" exec "$pod" -- /nonexistent >/dev/null 2>&1 || rc=$?
  [ "$rc" -ge 126 ] || die "kubectl exec did not reach the runtime (rc $rc)"
  log "kubectl exec reaches the runtime (no shell in $image)"
fi
t0=$SECONDS
kubectl -n "$NS" scale deploy/smoke --replicas=0 >/dev/null
kubectl -n "$NS" wait --for=delete "pod/$pod" --timeout=60s >/dev/null || die "pod did not go away after scale to 0"
log "scaled to 0: pod gone after $((SECONDS - t0)) s"
kubectl delete ns "$NS" --wait=true >/dev/null
rm -rf "$HP"
trap - EXIT
log "smoke test passed"
