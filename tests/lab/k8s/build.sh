#!/usr/bin/env bash
# Build kube-apiserver, controller-manager, scheduler and kubelet from Debian's source package (1.20),
# once, into $LAB_CACHE/k8s/bin. Also the pause image's binary. See ../README.md.
source "$(dirname "$0")/../lib.sh"
OUT="$LAB_CACHE/k8s/bin"
BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet pause)
have_all() { for b in "${BINS[@]}"; do [ -x "$OUT/$b" ] || return 1; done; }
if have_all; then log "kubernetes binaries cached in $OUT"; exit 0; fi

apt_install golang-go rsync jq golang-github-modern-go-reflect2-dev etcd-server dpkg-dev gcc libc6-dev make
SRC="$LAB_CACHE/k8s/src"
mkdir -p "$SRC" "$OUT"
if [ ! -d "$SRC/tree" ]; then
  list=/etc/apt/sources.list.d/bdlab-src.sources
  if [ ! -f "$list" ]; then
    printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$(debian_mirror)" "$(debian_suite)" > "$list"
    apt-get update -qq
  fi
  (cd "$SRC" && apt-get source --download-only kubernetes >/dev/null)
  dsc=$(find "$SRC" -maxdepth 1 -name 'kubernetes_*.dsc' | sort | head -n1)
  rm -rf "$SRC/tree.tmp" && dpkg-source --no-check -x "$dsc" "$SRC/tree.tmp" >/dev/null
  mv "$SRC/tree.tmp" "$SRC/tree"
fi
cd "$SRC/tree" || exit
# 1) reflect2 1.0.1 breaks with Go >= 1.18: put Debian's 1.0.2 sources in its vendored place
#    (the module version recorded in go.mod/modules.txt stays, so -mod=vendor accepts it).
R2=vendor/github.com/modern-go/reflect2
if [ ! -f "$R2/.bdlab-patched" ]; then
  rm -rf "$R2" && mkdir -p "$R2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2/. "$R2/"
  rm -f "$R2"/*_test.go "$R2/go.mod"
  touch "$R2/.bdlab-patched"
fi
# 2) The VM lacks CAP_SYS_RESOURCE: no negative OOM score adjustments for sandboxes and guaranteed pods.
sed -i 's/^\(\s*defaultSandboxOOMAdj int = \)-998/\10/' pkg/kubelet/dockershim/docker_sandbox.go
sed -i 's/^\(\s*guaranteedOOMScoreAdj int = \)-997/\10/' pkg/kubelet/qos/policy.go
grep -q 'defaultSandboxOOMAdj int = 0' pkg/kubelet/dockershim/docker_sandbox.go || die "could not patch defaultSandboxOOMAdj"
grep -q 'guaranteedOOMScoreAdj int = 0' pkg/kubelet/qos/policy.go || die "could not patch guaranteedOOMScoreAdj"
log "building kubernetes (about 8 minutes on 2 cores)"
export GOPROXY=off GOFLAGS=-mod=vendor GO111MODULE=on
make WHAT='cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet' >"$LAB_CACHE/k8s/build.log" 2>&1 \
  || { tail -30 "$LAB_CACHE/k8s/build.log" >&2; die "kubernetes build failed (log: $LAB_CACHE/k8s/build.log)"; }
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet; do
  cp "_output/local/bin/linux/amd64/$b" "$OUT/$b.tmp" && mv "$OUT/$b.tmp" "$OUT/$b"
done
gcc -static -O2 -o "$OUT/pause.tmp" build/pause/linux/pause.c -DVERSION=3.2 && mv "$OUT/pause.tmp" "$OUT/pause"
log "kubernetes binaries built into $OUT"
