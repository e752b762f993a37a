#!/usr/bin/env bash
# A hub's host reached as most teams reach theirs: over SSH, as an unprivileged user that becomes root with sudo.
# The lab's own sshd listens on 127.0.0.1:$LAB_SSH_PORT only (its own config, keys and pid file under
# $LAB_HOME/ssh; the system's sshd and its config are left alone), admits the user bdlab-admin by key only, and that
# user may run anything as root through sudo without a password - as an inventory's ansible_become: true expects.
# up: idempotent. down: stops the sshd the lab started.
source "$(dirname "$0")/lib.sh"
SSH_HOME="$LAB_HOME/ssh"
LAB_SSH_PORT=${LAB_SSH_PORT:-2222}
LAB_SSH_USER=bdlab-admin
PIDFILE="$SSH_HOME/sshd.pid"

# The lab's sshd runs: the pid file names a live sshd started with the lab's config (not a process that got
# the pid of one killed before; sshd rewrites its title, so its argv is read as one line).
sshd_up() {
  local pid
  pid=$(live_pid "$PIDFILE") || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "sshd -f $SSH_HOME/sshd_config "
}

# Debian starts the system's sshd, on every address, when it installs openssh-server: where the lab installs it,
# nothing is started (policy-rc.d) and the system's service is left disabled - only the lab's sshd runs, on loopback.
# An openssh-server already installed, and its service, are left as they are.
install_packages() {
  local policy=/usr/sbin/policy-rc.d ours=""
  if dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q 'ok installed'; then
    apt_install openssh-client sudo
    return
  fi
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy" && ours=1
  fi
  apt_install openssh-server openssh-client sudo || { [ -z "$ours" ] || rm -f "$policy"; die "could not install openssh-server"; }
  [ -z "$ours" ] || rm -f "$policy"
  if [ -d /run/systemd/system ]; then
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
  fi
}

up() {
  install_packages
  mkdir -p "$SSH_HOME/authorized_keys" /run/sshd
  chmod 0755 "$SSH_HOME" "$SSH_HOME/authorized_keys"
  if ! id "$LAB_SSH_USER" >/dev/null 2>&1; then
    log "adding the user $LAB_SSH_USER (SSH by key, root through sudo)"
    useradd --create-home --shell /bin/bash "$LAB_SSH_USER"
  fi
  usermod -p '*' "$LAB_SSH_USER"  # no password, and not locked: sshd without PAM refuses a locked account
  printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$LAB_SSH_USER" > /etc/sudoers.d/bdlab-admin
  chmod 0440 /etc/sudoers.d/bdlab-admin
  [ -f "$SSH_HOME/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C bdlab-host -f "$SSH_HOME/host_ed25519"
  [ -f "$SSH_HOME/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C bdlab-controller -f "$SSH_HOME/id_ed25519"
  install -m 0644 "$SSH_HOME/id_ed25519.pub" "$SSH_HOME/authorized_keys/$LAB_SSH_USER"
  cat > "$SSH_HOME/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $LAB_SSH_PORT
HostKey $SSH_HOME/host_ed25519
PidFile $PIDFILE
AuthorizedKeysFile $SSH_HOME/authorized_keys/%u
AllowUsers $LAB_SSH_USER
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
Subsystem sftp internal-sftp
CONF
  if sshd_up && ! cmp -s "$SSH_HOME/sshd_config" "$SSH_HOME/sshd_config.running"; then
    log "the lab's sshd runs with another config: restarting it"
    down
  fi
  if ! sshd_up; then
    log "starting the lab's sshd on 127.0.0.1:$LAB_SSH_PORT (user $LAB_SSH_USER, log: $SSH_HOME/sshd.log)"
    /usr/sbin/sshd -t -f "$SSH_HOME/sshd_config" || die "the lab's sshd config does not pass sshd -t"
    /usr/sbin/sshd -f "$SSH_HOME/sshd_config" -E "$SSH_HOME/sshd.log"
    cp "$SSH_HOME/sshd_config" "$SSH_HOME/sshd_config.running"
  fi
  wait_for 30 "the lab's sshd to let $LAB_SSH_USER in and sudo (log: $SSH_HOME/sshd.log)" \
    ssh -i "$SSH_HOME/id_ed25519" -p "$LAB_SSH_PORT" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$LAB_SSH_USER@127.0.0.1" sudo -n true
}

down() {
  if sshd_up; then
    log "stopping the lab's sshd"
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 30); do sshd_up || break; sleep 1; done
  fi
  rm -f "$SSH_HOME/sshd_config.running"
}

case "${1:-up}" in up) up ;; down) down ;; *) die "usage: $0 up|down" ;; esac
