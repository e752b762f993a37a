#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_dump
short_description: Dump every Black Duck Hub database and the roles, streamed, checksummed and inventoried
version_added: 0.1.0
description:
  - Step 4 of the Hub 4.2 migration. Dumps each listed database (by default C(bds_hub), C(bds_hub_report) and
    C(bdio)) with C(pg_dump) in custom format, and the roles and grants with C(pg_dumpall --globals-only), into
    O(dump_dir) on the managed host.
  - Output streams from the container, pod or server straight into the file on the host, in fixed-size chunks -
    never through the container's filesystem and never held in memory. The sha256 of every file is computed while
    it streams; afterwards C(pg_restore --list) must read every file.
  - Writes C(manifest.json) beside the files, last and atomically - source server version, per-database size,
    per-table row counts and content checksums taken at dump time, sequence values, large objects, object counts,
    roles, file checksums, tool versions and times. C(blackduck.hub.db_verify) compares a restored database with it.
  - Files and manifest are mode 0600, the directory 0700.
  - While it runs it writes C(progress.json) (bytes so far, rate) in O(dump_dir) and logs a progress line every
    O(progress_interval) seconds, for a role or an AWX job to show.
  - Idempotent - a complete dump of the same source whose files still match the manifest gives C(changed=false).
    Files left by an interrupted run (no manifest) are detected and replaced. A complete dump is never overwritten
    unless O(force=true); a complete dump of a different or changed source is refused.
  - Which client makes the dump is a choice - by default the source's own tools (inside its container or pod, the
    vendor's way). PostgreSQL recommends the newer release's pg_dump for major upgrades; to use it, connect with
    O(connection.type=tcp) and O(connection.tools_path) pointing at the newer tools.
  - Defaults are chosen for speed - O(compression=none), because pg_dump's default compression made dumps about
    7 times slower in our benchmark, for files about 3 to 4 times larger. Choose V(gzip) when disk space is short.
author:
  - blackduck.hub contributors (!UNKNOWN)
extends_documentation_fragment:
  - blackduck.hub.connection
options:
  dump_dir:
    description: The folder on the managed host for the dump files and the manifest. Created (mode 0700) if missing.
    type: path
    required: true
  databases:
    description: The databases to dump. Each must exist on the source.
    type: list
    elements: str
    default: [bds_hub, bds_hub_report, bdio]
  globals:
    description: Also dump the roles and their grants (C(pg_dumpall --globals-only)) into C(globals.sql).
    type: bool
    default: true
  no_role_passwords:
    description:
      - Dump the roles without their passwords (C(--no-role-passwords), pg_dumpall 10 or later). Needed when the
        connecting role is not a superuser, as on Amazon RDS; the restored roles then need their passwords set.
    type: bool
    default: false
  format:
    description:
      - V(custom) - one file per database, streamed from the server's side (any connection type).
      - V(directory) - a folder per database written by C(pg_dump --jobs) O(jobs) itself; the fastest for large
        databases, and C(pg_restore --jobs) can read it in parallel. Needs O(connection.type=tcp) (the managed
        host's C(pg_dump) writes it) or O(connection.dump_mount) (the container's C(pg_dump) writes it into the
        dump folder mounted there).
    type: str
    default: custom
    choices: [custom, directory]
  compression:
    description:
      - Compression of the dump files. V(none) is fastest; V(gzip) is pg_dump's own; V(lz4) and V(zstd) need
        pg_dump 16 or later.
    type: str
    default: none
    choices: [none, gzip, lz4, zstd]
  compression_level:
    description: The compression level (for V(gzip) 1 to 9, default 6).
    type: int
  jobs:
    description:
      - V(custom) format - how many databases are dumped at the same time.
      - V(directory) format - the workers of C(pg_dump --jobs) for each database (the databases one after the other).
    type: int
    default: 2
  checksums:
    description:
      - V(full) takes a content checksum of every table at dump time (one extra read of each table); V(count)
        takes row counts only.
    type: str
    default: full
    choices: [full, count]
  allow_active_sessions:
    description:
      - Dump even if other client sessions are connected to the databases. By default that is refused, since it
        means the Hub is still running and writing.
    type: bool
    default: false
  force:
    description: Replace a complete dump that is already in O(dump_dir).
    type: bool
    default: false
  progress_interval:
    description: Seconds between progress lines while the dump runs.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    description: Reports what would be dumped (databases, sizes) and changes nothing.
  diff_mode:
    support: none
    description: Returns no diff.
  idempotent:
    support: full
    description: A complete dump of the same source whose files still match the manifest gives C(changed=false).
notes:
  - The source database server must be running (the Hub in migration mode); the module waits up to
    O(wait_timeout) seconds for it.
seealso:
  - module: blackduck.hub.db_restore
  - module: blackduck.hub.db_verify
"""

EXAMPLES = r"""
- name: Dump the old Hub's databases from its container (found by the Hub's labels)
  blackduck.hub.db_dump:
    connection:
      type: docker
      hub_version: 4.1.4
      project: hub
    dump_dir: /var/backups/hub-4.2-migration

- name: Dump from a pod of the old Hub on Kubernetes
  blackduck.hub.db_dump:
    connection:
      type: kubectl
      namespace: hub
      selector: app=postgres
    dump_dir: /var/backups/hub-4.2-migration

- name: Dump an external database (for example Amazon RDS) with the newer client tools
  blackduck.hub.db_dump:
    connection:
      type: tcp
      host: hub-db.example.com
      user: blackduck
      password_file: /etc/blackduck/HUB_POSTGRES_ADMIN_PASSWORD_FILE
      sslmode: require
      tools_path: /usr/lib/postgresql/15/bin
    no_role_passwords: true
    dump_dir: /var/backups/hub-4.2-migration
"""

RETURN = r"""
dump_dir:
  description: The dump folder.
  returned: always
  type: str
dump_id:
  description: The unique id of the dump (also recorded in each restored database by db_restore).
  returned: success
  type: str
  sample: 0b6f7f9e-1f0c-4c8e-8d9b-3f0a5c1d2e4f
manifest:
  description: Path of the manifest.
  returned: success
  type: str
databases:
  description: Per database - file, bytes, sha256, number of tables, total rows, seconds.
  returned: success
  type: dict
  sample: {"bds_hub": {"file": "bds_hub.dump", "bytes": 1048576, "sha256": "9f86d0...", "tables": 27, "rows": 120345,
           "seconds": 3.2}}
globals:
  description: The globals file - file, bytes, sha256.
  returned: success and O(globals=true)
  type: dict
source:
  description: The source server - how it was reached, its version.
  returned: success
  type: dict
tools:
  description: Versions of pg_dump, pg_dumpall and pg_restore that made and checked the dump.
  returned: success
  type: dict
total_bytes:
  description: Bytes of all dump files.
  returned: success
  type: int
removed_partial:
  description: Files of an interrupted earlier run that were removed before dumping.
  returned: always
  type: list
  elements: str
reason:
  description: Why nothing was done, when nothing was done.
  returned: when changed is false
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils import _dump as dump
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, options_of, warn_lost_log_lines, within
from ansible_collections.blackduck.hub.plugins.module_utils._target import (
    TargetError, connection_argument_spec, target_session)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        dump_dir=dict(type="path", required=True),
        databases=dict(type="list", elements="str", default=list(dump.DEFAULT_DATABASES)),
        globals=dict(type="bool", default=True),
        format=dict(type="str", default="custom", choices=["custom", "directory"]),
        no_role_passwords=dict(type="bool", default=False),
        compression=dict(type="str", default="none", choices=["none", "gzip", "lz4", "zstd"]),
        compression_level=dict(type="int"),
        jobs=dict(type="int", default=2),
        checksums=dict(type="str", default="full", choices=["full", "count"]),
        allow_active_sessions=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        progress_interval=dict(type="float", default=10),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    dump_dir = p["dump_dir"]
    result = dict(changed=False, dump_dir=dump_dir, removed_partial=[])
    try:
        with target_session(p["connection"], p["wait_timeout"], p["log_file"]) as target:
            dump.dump_databases(target, dump_dir, list(p["databases"]), options_of(dump.DumpOptions, p), result, force=p["force"],
                                allow_active_sessions=p["allow_active_sessions"], check_mode=module.check_mode,
                                log=module.log)
        warn_lost_log_lines(module)
        module.exit_json(**result)
    except (TargetError, CommandError, dump.DumpError, ValueError) as exc:
        warn_lost_log_lines(module)
        module.fail_json(msg=str(exc), **result)
    except (IOError, OSError) as exc:  # a file the module writes itself (the manifest, globals.sql), or the system's
        warn_lost_log_lines(module)
        if within(exc, dump_dir):
            module.fail_json(msg="writing the dump folder %s failed (%s): free space there or fix its permissions, then "
                                 "run again: a dump without its manifest is never taken for a complete one."
                                 % (dump_dir, exc), **result)
        module.fail_json(msg="the dump stopped on an error of the system (%s): mend its cause and run again; a dump "
                             "without its manifest is never taken for a complete one." % exc, **result)


if __name__ == "__main__":
    main()
