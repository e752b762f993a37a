#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: disk_space
short_description: Check that there is disk space for the Black Duck Hub 4.2 migration, per filesystem
version_added: 0.1.0
description:
  - Step 1 of the Hub 4.2 migration. The vendor asks for free space of about 2.5 times the database volume's size,
    to hold the database dump and the new 4.2 database volume. This module measures the database and checks each
    part on the filesystem where it will really be written - O(dump_factor) (1.5) times the size for the dump on
    the filesystem of O(dump_dir), O(volume_factor) (1.0) times the size for the new volume on the filesystem of
    O(new_volume_path). When both are on the same filesystem (told apart by device), their needs add up to the
    vendor's 2.5 times. With O(stream=true) there are no dump files and only the new volume needs space.
  - The database size is measured in one of three ways (O(database_size_from)) - the real disk usage of the old
    database's Docker volume (O(volume)), of a folder such as a Kubernetes hostPath (O(data_path)), or the sum of
    C(pg_database_size) over all databases, asked of the running server (O(connection)). A volume or a folder
    is measured like C(du -s) - allocated blocks, each hard-linked file once, symlinks not followed.
  - Free space is what an unprivileged writer may use (C(f_bavail)), without the blocks reserved for root. A path
    that does not exist yet is measured at its nearest existing parent, on whose filesystem it would be created.
  - Fails when a filesystem is short (unless O(fail_on_short=false)), naming each short filesystem, by how much,
    and what to do.
  - Never changes anything - it only reads (C(statvfs), C(lstat), C(docker volume inspect), C(docker info), and
    a query of the server), in check mode as in a normal run.
author:
  - blackduck.hub contributors (!UNKNOWN)
extends_documentation_fragment:
  - blackduck.hub.read_only
  - blackduck.hub.connection
options:
  connection:
    description:
      - Where the database server is and how its client tools are reached, as for the other modules of the
        collection (V(docker), V(kubectl) or V(tcp)).
      - Used only when O(database_size_from=server), and then required. The server must be running (the Hub in
        migration mode).
    required: false
  database_size_from:
    description:
      - How the size of the old database is measured.
      - V(volume) - the disk usage of the Docker volume O(volume) on the managed host.
      - V(path) - the disk usage of the folder O(data_path) on the managed host.
      - V(server) - the sum of C(pg_database_size) of every database of the server at O(connection).
      - Default is V(volume) when O(volume) is set, V(path) when O(data_path) is set, else V(server).
    type: str
    choices: [volume, path, server]
  volume:
    description:
      - The old database's Docker volume (for example C(hub_data-volume) for a Compose project C(hub)). Its
        mount point on the host comes from C(docker volume inspect); the Docker engine must be the managed
        host's own.
    type: str
  data_path:
    description:
      - The folder holding the old database's data on the managed host, for example the Kubernetes hostPath
        C(/var/lib/hub-postgresql/data) on the database's node.
    type: path
  docker_cli:
    description: The docker CLI to use for O(volume) and for the default of O(new_volume_path) (default is the first on E(PATH)).
    type: path
  wait_timeout:
    description: With O(database_size_from=server), seconds to wait for the server to accept connections before failing.
    type: int
    default: 60
  dump_dir:
    description:
      - The folder where the dump will be written (O(blackduck.hub.db_dump#module:dump_dir)). It need not exist
        yet. Required unless O(stream=true), when it is not used.
    type: path
  new_volume_path:
    description:
      - Where the new 4.2 database volume will live, for example a Kubernetes hostPath or a mount.
      - Default is the C(volumes) folder of Docker's data root (C(docker info)), when a Docker engine answers on
        the managed host; required otherwise.
    type: path
  dump_factor:
    description: The dump's need, in times the database size.
    type: float
    default: 1.5
  volume_factor:
    description: The new database volume's need, in times the database size.
    type: float
    default: 1.0
  stream:
    description:
      - The dump is streamed straight into the new server (no dump files) - only the new volume needs space and
        O(dump_dir) is not used.
    type: bool
    default: false
  fail_on_short:
    description: Fail when a filesystem is short. With V(false), report it (RV(ok=false)) and warn.
    type: bool
    default: true
notes:
  - The vendor's rule of thumb is that a database volume at least 60% free has enough room; this module checks
    the filesystems that will really be written instead.
  - A volume or folder is measured as it is on disk, with its write-ahead log and free space inside tables; a
    dump is usually smaller than that, so the figures err on the safe side. Tablespaces outside the data folder
    (symlinks in C(pg_tblspc)) are not followed; measure with O(database_size_from=server) if there are any.
seealso:
  - module: blackduck.hub.db_dump
  - module: blackduck.hub.db_restore
"""

EXAMPLES = r"""
- name: Check the disk space for a Docker Compose Hub (project hub), new volume in Docker's data root
  blackduck.hub.disk_space:
    volume: hub_data-volume
    dump_dir: /var/backups/hub-4.2-migration

- name: Check a Kubernetes Hub whose database is on a hostPath, the new one on another hostPath
  blackduck.hub.disk_space:
    data_path: /var/lib/hub-postgresql/data
    new_volume_path: /var/lib/hub-postgresql-96/data
    dump_dir: /var/backups/hub-4.2-migration

- name: Ask the running server (an external database) for its size, without failing, and show the figures
  blackduck.hub.disk_space:
    connection:
      type: tcp
      host: hub-db.example.com
      user: blackduck
      password_file: /etc/blackduck/HUB_POSTGRES_ADMIN_PASSWORD_FILE
    dump_dir: /var/backups/hub-4.2-migration
    new_volume_path: /var/lib/postgresql
    fail_on_short: false
  register: disk

- name: Show each filesystem's figures
  ansible.builtin.debug:
    msg: "{{ item.mountpoint }}: needs {{ item.need_human }}, has {{ item.free_human }} free"
  loop: "{{ disk.filesystems }}"
"""

RETURN = r"""
database_size:
  description: The measured size of the old database, in bytes.
  returned: success or when a filesystem is short
  type: int
  sample: 10737418240
database_size_human:
  description: RV(database_size) in binary units.
  returned: success or when a filesystem is short
  type: str
  sample: 10.0 GiB
database_size_from:
  description: How the size was measured - V(volume), V(path) or V(server).
  returned: always
  type: str
  sample: volume
measured:
  description: What was measured - the volume and its mount point, the folder, or the server.
  returned: success or when a filesystem is short
  type: str
  sample: Docker volume hub_data-volume (/var/lib/docker/volumes/hub_data-volume/_data)
dump_dir:
  description: The dump folder checked (null with O(stream=true)).
  returned: always
  type: str
new_volume_path:
  description: Where the new volume was checked (O(new_volume_path) or its default).
  returned: success or when a filesystem is short
  type: str
  sample: /var/lib/docker/volumes
filesystems:
  description:
    - One entry per filesystem that must hold something, in the order dump, new volume; every figure in bytes
      and, in the key with a C(_human) suffix, in binary units.
    - C(paths) - the checked paths on it; C(for) - V(dump) and/or V(new_volume); C(needs) - bytes per use;
      C(device) - major:minor; C(mountpoint); C(total), C(free) (for unprivileged writers), C(need) (the sum
      of C(needs)), C(short_by) (0 when enough) and C(ok).
  returned: success or when a filesystem is short
  type: list
  elements: dict
  sample:
    - paths: [/var/backups/hub-4.2-migration, /var/lib/docker/volumes]
      for: [dump, new_volume]
      needs: {dump: 16106127360, new_volume: 10737418240}
      needs_human: {dump: 15.0 GiB, new_volume: 10.0 GiB}
      device: "254:0"
      mountpoint: /
      total: 107374182400
      total_human: 100.0 GiB
      free: 21474836480
      free_human: 20.0 GiB
      need: 26843545600
      need_human: 25.0 GiB
      short_by: 5368709120
      short_by_human: 5.0 GiB
      ok: false
ok:
  description: Whether every filesystem has enough free space.
  returned: success or when a filesystem is short
  type: bool
msg:
  description: The verdict, with each filesystem's figures, or for each short one what to do.
  returned: always
  type: str
"""

import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils import _disk as disk
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, set_log
from ansible_collections.blackduck.hub.plugins.module_utils._target import (
    CONNECTION_SPEC, TargetError, target_session)


def main():
    argument_spec = dict(
        connection=dict(type="dict", required=False, options=CONNECTION_SPEC),
        database_size_from=dict(type="str", choices=["volume", "path", "server"]),
        volume=dict(type="str"),
        data_path=dict(type="path"),
        docker_cli=dict(type="path"),
        wait_timeout=dict(type="int", default=60),
        log_file=dict(type="path"),
        dump_dir=dict(type="path"),
        new_volume_path=dict(type="path"),
        dump_factor=dict(type="float", default=disk.DUMP_FACTOR),
        volume_factor=dict(type="float", default=disk.VOLUME_FACTOR),
        stream=dict(type="bool", default=False),
        fail_on_short=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("volume", "data_path")],
                           required_if=[("stream", False, ["dump_dir"])])
    set_log(module.params["log_file"])
    p = module.params
    source = p["database_size_from"] or ("volume" if p["volume"] else "path" if p["data_path"] else "server")
    dump_dir = None if p["stream"] else p["dump_dir"]
    result = dict(changed=False, database_size_from=source, dump_dir=dump_dir)
    needed = {"volume": ("volume", "the Docker volume of the old database"),
              "path": ("data_path", "the folder of the old database's data"),
              "server": ("connection", "the old database server")}[source]
    if not p[needed[0]]:
        module.fail_json(msg="database_size_from=%s needs %s (%s). Set volume, data_path or connection to say how the "
                             "database is measured." % (source, needed[0], needed[1]), **result)
    if p["dump_factor"] < 0 or p["volume_factor"] < 0:
        module.fail_json(msg="dump_factor and volume_factor must not be negative", **result)
    docker_cli = p["docker_cli"] or ((p["connection"] or {}).get("docker_cli")) or shutil.which("docker")
    try:
        disk.space_for_migration(
            result, dump_dir, p["new_volume_path"], p["dump_factor"], p["volume_factor"], p["stream"], source,
            docker_cli=docker_cli, volume=p["volume"], data_path=p["data_path"],
            server=lambda: target_session(p["connection"], p["wait_timeout"], p["log_file"]))
        if not result["ok"] and p["fail_on_short"]:
            module.fail_json(**result)
        if not result["ok"]:
            module.warn(result["msg"])
        module.exit_json(**result)
    except (TargetError, CommandError, disk.DiskError, ValueError) as exc:
        module.fail_json(msg=str(exc), **result)


if __name__ == "__main__":
    main()
