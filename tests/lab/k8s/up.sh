#!/usr/bin/env bash
# A single-node Kubernetes 1.20 for the lab: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a
# kubelet (dockershim) on the lab's Docker engine. Everything listens on 127.0.0.1 only; nothing is ever pulled
# (pods use imagePullPolicy: Never). Idempotent: with everything up it only checks, in a few seconds.
# A daemon whose command line differs from the one below is restarted. Stop with k8s/down.sh.
source "$(dirname "$0")/common.sh"

kc() { kubectl --kubeconfig "$KUBECONFIG_LAB" "$@"; }

# ---------------------------------------------------------------- prerequisites
docker info >/dev/null 2>&1 \
  || die "the lab's Docker engine does not answer ('docker info' failed): start it with tests/lab/docker.sh up"
[ -S /var/run/docker.sock ] || die "/var/run/docker.sock is missing: the kubelet needs the lab's dockerd there"
# the machine's kubectl, else Debian's (kubernetes-client: the same 1.20 as the cluster, from the same source)
command -v kubectl >/dev/null || apt_install kubernetes-client
command -v kubectl >/dev/null || die "kubectl is not on PATH, even after apt-get install kubernetes-client"
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet pause; do
  if [ ! -x "$K8S_BIN/$b" ]; then
    log "kubernetes binaries missing in $K8S_BIN: running k8s/build.sh"
    "$LAB_DIR/k8s/build.sh"
    break
  fi
done
[ -x /usr/bin/etcd ] || apt_install etcd-server
[ -x /usr/bin/openssl ] || apt_install openssl
mkdir -p "$KUBE" "$PKI" "$RUN" "$LOGS"
chmod 0700 "$KUBE" "$PKI"

# ---------------------------------------------------------------- pause image (from the static binary)
if ! docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1; then
  log "importing $PAUSE_IMAGE from $K8S_BIN/pause"
  tmp=$(mktemp -d)
  install -m 0755 "$K8S_BIN/pause" "$tmp/pause"
  tar --owner=0 --group=0 -C "$tmp" -c pause \
    | docker import --change 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
  rm -rf "$tmp"
fi

# ---------------------------------------------------------------- PKI and tokens
umask 077
# leaf NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]: a key and a certificate signed by the lab CA.
leaf() {
  local name=$1 subj=$2 eku=$3 san=${4:-}
  [ -s "$PKI/$name.crt" ] && [ -s "$PKI/$name.key" ] && return 0
  local ext; ext=$(mktemp)
  { echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$san" ] || echo "subjectAltName=$san"; } > "$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$ext" "$PKI/$name.csr"
}
if [ ! -s "$PKI/ca.crt" ] || [ ! -s "$PKI/ca.key" ]; then
  log "creating the cluster CA in $PKI"
  rm -f "$PKI"/*.crt "$PKI"/*.key
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -subj "/CN=bdlab-kubernetes-ca" \
    -days 3650 -sha256 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out "$PKI/ca.crt" 2>/dev/null
fi
# API server serving certificate: loopback, the 'kubernetes' service cluster IP and its names.
leaf apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
# The API server's client certificate towards the kubelet (exec, logs, port-forward).
leaf apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
# The kubelet's serving certificate (the API server verifies it against the CA).
leaf kubelet "/CN=$NODE_NAME" serverAuth "IP:127.0.0.1,DNS:$NODE_NAME,DNS:localhost"
# Service-account token signing key pair.
if [ ! -s "$PKI/sa.key" ] || [ ! -s "$PKI/sa.pub" ]; then
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
fi
# Static bearer tokens (token,user,uid,"groups"): admin in system:masters, the kubelet as a node
# (Node authorizer + NodeRestriction), and the controller-manager and scheduler with their RBAC identities.
if [ ! -s "$PKI/tokens.csv" ]; then
  { echo "$(openssl rand -hex 24),admin,admin,\"system:masters\""
    echo "$(openssl rand -hex 24),system:node:$NODE_NAME,system:node:$NODE_NAME,\"system:nodes\""
    echo "$(openssl rand -hex 24),system:kube-controller-manager,system:kube-controller-manager"
    echo "$(openssl rand -hex 24),system:kube-scheduler,system:kube-scheduler"
  } > "$PKI/tokens.csv.new"
  mv -f "$PKI/tokens.csv.new" "$PKI/tokens.csv"  # whole or absent: a file cut short is never made again
fi
token_of() { awk -F, -v u="$1" '$2 == u {print $1}' "$PKI/tokens.csv"; }
# patch_node_status JSON: a merge patch of the node's status through the API itself, as the admin - any
# kubectl (kubectl patch --subresource needs 1.24; Debian's is 1.20); the token in a 0600 header file, not in argv
patch_node_status() {
  local hdr
  hdr=$(mktemp)
  printf 'Authorization: Bearer %s\nContent-Type: application/merge-patch+json\n' "$(token_of admin)" > "$hdr"
  curl -sf --noproxy '*' --max-time 10 --cacert "$PKI/ca.crt" -H @"$hdr" -X PATCH --data "$1" \
    "$API_URL/api/v1/nodes/$NODE_NAME/status" >/dev/null || { rm -f "$hdr"; die "patching node $NODE_NAME's status failed"; }
  rm -f "$hdr"
}

# write_kubeconfig FILE USER CONTEXT: a kubeconfig using USER's static token; rewritten only if it changed.
write_kubeconfig() {
  local file=$1 user=$2 ctx=$3 tok tmp
  tok=$(token_of "$user"); [ -n "$tok" ] || die "no token for $user in $PKI/tokens.csv"
  tmp=$(mktemp "$file.XXXXXX")
  cat > "$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: bdlab
  cluster:
    server: $API_URL
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
    token: $tok
contexts:
- name: $ctx
  context:
    cluster: bdlab
    user: $user
current-context: $ctx
EOF
  chmod 0600 "$tmp"
  if cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv -f "$tmp" "$file"; fi
}
write_kubeconfig "$KUBECONFIG_LAB" admin bdlab
write_kubeconfig "$KUBE/controller-manager.kubeconfig" system:kube-controller-manager bdlab
write_kubeconfig "$KUBE/scheduler.kubeconfig" system:kube-scheduler bdlab
write_kubeconfig "$KUBE/kubelet.kubeconfig" "system:node:$NODE_NAME" bdlab
# Pods without cluster DNS get the kubelet's resolv.conf: point it at loopback so no pod ever asks an outside server.
[ -f "$KUBE/resolv.conf" ] || echo "nameserver 127.0.0.1" > "$KUBE/resolv.conf"
umask 022

# ---------------------------------------------------------------- daemons
STARTED=()   # the daemons this run (re)started
# start_daemon NAME [VAR=VALUE...] -- BINARY ARGS...: start it in its own session unless it already runs with
# exactly this command line; restart it if the command line changed.
start_daemon() {
  local name=$1 pid; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  if pid=$(daemon_pid "$name"); then
    if [ "$(sha256sum < "/proc/$pid/cmdline")" = "$(printf '%s\0' "$@" | sha256sum)" ]; then
      return 0
    fi
    log "$name: command line changed, restarting"
    stop_daemon "$name"
  fi
  local logf="$LOGS/$name.log"
  if [ -f "$logf" ] && [ "$(stat -c %s "$logf")" -gt $((64 * 1024 * 1024)) ]; then mv -f "$logf" "$logf.1"; fi
  log "starting $name (log: $logf)"
  STARTED+=("$name")
  echo "===== $(date -Is) starting $name" >> "$logf"
  rm -f "$RUN/$name.pid"
  # The inner sh writes its own pid, then execs the daemon: the pid file names the daemon itself.
  # shellcheck disable=SC2016  # $$, $0 and $@ are the inner sh's
  env "${envs[@]}" setsid sh -c 'echo $$ > "$0"; exec "$@"' "$RUN/$name.pid" "$@" >> "$logf" 2>&1 < /dev/null &
  for _ in $(seq 50); do [ -s "$RUN/$name.pid" ] && break; sleep 0.1; done
}

# wait_healthy NAME TIMEOUT CMD...: poll CMD; fail at once (with the log's tail) if the daemon died.
wait_healthy() {
  local name=$1 timeout=$2; shift 2
  local end=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! daemon_pid "$name" >/dev/null; then
      tail -n 25 "$LOGS/$name.log" >&2
      die "$name exited (log: $LOGS/$name.log)"
    fi
    [ $SECONDS -ge $end ] && { tail -n 25 "$LOGS/$name.log" >&2; die "$name not healthy after ${timeout}s (log: $LOGS/$name.log)"; }
    sleep 0.5
  done
}
curl_ok() { [ "$(curl -s --noproxy '*' --max-time 3 "$@")" = ok ]; }

# etcd: loopback only.
mkdir -p "$KUBE/etcd" && chmod 0700 "$KUBE/etcd"
start_daemon etcd -- /usr/bin/etcd \
  --name=bdlab --data-dir="$KUBE/etcd" \
  --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \
  --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
  --initial-cluster=bdlab=http://127.0.0.1:2380 --initial-cluster-state=new \
  --logger=zap --log-outputs=stderr
etcd_ok() { curl -s --noproxy '*' --max-time 3 http://127.0.0.1:2379/health | grep -q '"health":"true"'; }
wait_healthy etcd 60 etcd_ok

# kube-apiserver: loopback only. The 'kubernetes' service endpoint cannot be a loopback address (validation
# refuses 127.0.0.0/8), so the endpoint reconciler is off; nothing in the lab routes to ClusterIPs anyway.
# The API server reaches the kubelet by its InternalIP (127.0.0.1): a Hostname first would make it resolve
# "bdlab-node" through the machine's outside DNS server.
start_daemon kube-apiserver -- "$K8S_BIN/kube-apiserver" \
  --etcd-servers=http://127.0.0.1:2379 \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 --insecure-port=0 \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$PKI/ca.crt" \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --allow-privileged=true --profiling=false --cert-dir="$KUBE/apiserver"
wait_healthy kube-apiserver 90 curl_ok --cacert "$PKI/ca.crt" "$API_URL/readyz"

# kube-controller-manager and kube-scheduler: secure port on loopback, no insecure port, no leader election
# (a restart would otherwise wait for the old lease to expire).
start_daemon kube-controller-manager -- "$K8S_BIN/kube-controller-manager" \
  --kubeconfig="$KUBE/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$KUBE/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$KUBE/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port=10257 --port=0 --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range=10.0.0.0/24 --allocate-node-cidrs=false \
  --cert-dir="$KUBE/controller-manager" --profiling=false
start_daemon kube-scheduler -- "$K8S_BIN/kube-scheduler" \
  --kubeconfig="$KUBE/scheduler.kubeconfig" \
  --authentication-kubeconfig="$KUBE/scheduler.kubeconfig" \
  --authorization-kubeconfig="$KUBE/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port=10259 --port=0 --leader-elect=false \
  --cert-dir="$KUBE/scheduler" --profiling=false
wait_healthy kube-controller-manager 60 curl_ok -k https://127.0.0.1:10257/healthz
wait_healthy kube-scheduler 60 curl_ok -k https://127.0.0.1:10259/healthz

# The cluster's DNS (cluster-dns.py): Service names to their ready pods' addresses, on the Docker bridge's host
# address where the pods reach it. Lab only (no kube-proxy, no CoreDNS); it never forwards a query.
bridge_if=$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')
DNS_ADDR=$(ip -4 -o addr show "${bridge_if:-docker0}" | awk '{print $4; exit}' | cut -d/ -f1)
[ -n "$DNS_ADDR" ] || die "the Docker bridge network has no gateway address for the cluster DNS"
umask 077; token_of admin > "$PKI/dns.token"; umask 022
start_daemon cluster-dns.py -- python3 "$LAB_DIR/k8s/cluster-dns.py" --listen "$DNS_ADDR" --api "$API_URL" \
  --ca "$PKI/ca.crt" --token-file "$PKI/dns.token" --domain cluster.local
dns_ok() {
  python3 - "$DNS_ADDR" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x0akubernetes\x07default\x03svc\x07cluster\x05local\x00\x00\x01\x00\x01", (sys.argv[1], 53))
sys.exit(0 if s.recv(512)[:2] == b"\x00\x07" else 1)
PY
}
wait_healthy cluster-dns.py 30 dns_ok

# kubelet: dockershim on the lab's dockerd, cgroupfs, loopback only. Never pulls (the pause image is local,
# pods use imagePullPolicy: Never), never garbage-collects images (other users share the engine), evicts only
# when the disk is practically full. AWS_EC2_METADATA_DISABLED stops the in-tree AWS credential provider from
# probing the cloud metadata address. Only clients with a certificate from the lab CA may talk to it.
mkdir -p "$KUBE/kubelet" "$KUBE/dockershim" "$KUBE/kubelet-plugins"
kubelet_since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_daemon kubelet AWS_EC2_METADATA_DISABLED=true -- "$K8S_BIN/kubelet" \
  --kubeconfig="$KUBE/kubelet.kubeconfig" \
  --hostname-override="$NODE_NAME" --node-ip=127.0.0.1 --node-labels=blackduck.hub.postgres=true \
  --address=127.0.0.1 --port=10250 --read-only-port=0 --healthz-bind-address=127.0.0.1 --healthz-port=10248 \
  --tls-cert-file="$PKI/kubelet.crt" --tls-private-key-file="$PKI/kubelet.key" \
  --anonymous-auth=false --client-ca-file="$PKI/ca.crt" --authorization-mode=AlwaysAllow \
  --container-runtime=docker --docker-endpoint=unix:///var/run/docker.sock --network-plugin= \
  --pod-infra-container-image="$PAUSE_IMAGE" \
  --cgroup-driver=cgroupfs --fail-swap-on=false --oom-score-adj=0 \
  --root-dir="$KUBE/kubelet" --cert-dir="$KUBE/kubelet/pki" \
  --experimental-dockershim-root-directory="$KUBE/dockershim" --volume-plugin-dir="$KUBE/kubelet-plugins" \
  --resolv-conf="$KUBE/resolv.conf" --cloud-provider= \
  --cluster-dns="$DNS_ADDR" --cluster-domain=cluster.local \
  --eviction-hard='memory.available<10Mi,nodefs.available<100Mi,nodefs.inodesFree<1%,imagefs.available<100Mi' \
  --image-gc-high-threshold=100 --image-gc-low-threshold=99 \
  --make-iptables-util-chains=false
wait_healthy kubelet 60 curl_ok http://127.0.0.1:10248/healthz

# ---------------------------------------------------------------- node
# Ready, and if this run (re)started the kubelet, reported by the new kubelet (not a stale status).
node_ready() {
  local st
  st=$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null) || return 1
  [ "${st%% *}" = True ] || return 1
  [[ " ${STARTED[*]} " == *" kubelet "* ]] || return 0
  [[ ! "${st#* }" < "$kubelet_since" ]]
}
wait_healthy kubelet 120 kc get node "$NODE_NAME"
# The kubelet refuses a loopback --node-ip ("nodeIP can't be loopback address") and then reports no address at
# all, so the API server could not reach it for exec/logs. Without --node-ip it would look its name up in the
# machine's DNS. So the admin sets the addresses once; the kubelet's status updates leave them alone.
addrs=$(kc get node "$NODE_NAME" -o jsonpath='{range .status.addresses[*]}{.type}={.address},{end}')
if [ "$addrs" != "InternalIP=127.0.0.1,Hostname=$NODE_NAME," ]; then
  patch_node_status "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"},{\"type\":\"Hostname\",\"address\":\"$NODE_NAME\"}]}}"
fi
if [ "$(kc get node "$NODE_NAME" -o jsonpath='{.metadata.labels.blackduck\.hub\.postgres}')" != true ]; then
  kc label node "$NODE_NAME" blackduck.hub.postgres=true --overwrite >/dev/null
fi
wait_healthy kubelet 120 node_ready
log "kubernetes up: node $NODE_NAME Ready (KUBECONFIG=$KUBECONFIG_LAB, context bdlab)"
