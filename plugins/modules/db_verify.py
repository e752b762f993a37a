#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_verify
short_description: Compare a live Black Duck Hub database server with a db_dump manifest, table by table
version_added: 0.1.0
description:
  - Steps 7 and 10 of the Hub 4.2 migration. Reads the server's version, the restore marker, roles, and per
    database the row counts and content checksums of every table, sequences, large objects and object counts,
    and compares them with the manifest written by M(blackduck.hub.db_dump).
  - O(mode=exact) belongs right after the restore, before any Hub process starts (a live Hub writes at once) -
    every table's rows and checksum, sequences, large objects, indexes, views, functions and constraints must be
    equal; those of an extension (pgcrypto in the Hub's C(bds_hub)) are the new server's version of it, so each
    extension of the dump must be there, and its own objects are not counted. Where the Hub's post-restore fixups
    ran (the restore marker says so), C(st.policy_setting) and C(st.job_instances) are compared on the rows the
    fixups do not touch, and checked for the fixups' effect.
  - O(mode=live) is for a running Hub (step 10) - what can still be confirmed - the server version, the restore
    marker naming this dump, and that every table of the manifest is there with at least its rows.
  - Can require a server major version (O(require_major)), the gate for a Hub 4.2 external database (9.6).
  - Returns a per-table summary and every difference; fails on any difference unless O(fail_on_mismatch=false).
  - Only reads; never changes anything.
author:
  - blackduck.hub contributors (!UNKNOWN)
extends_documentation_fragment:
  - blackduck.hub.read_only
  - blackduck.hub.connection
options:
  dump_dir:
    description: The folder holding the dump's C(manifest.json). Without it only the server facts are read.
    type: path
  databases:
    description: The databases to compare (default is every database in the manifest).
    type: list
    elements: str
  mode:
    description: V(exact) right after a restore; V(live) once the new Hub runs.
    type: str
    default: exact
    choices: [exact, live]
  roles:
    description:
      - Also check that every role of the dump exists with its attributes (login, createdb and createrole; also
        superuser and inherit when the connecting role is a superuser, as a restore by one sets them all) and,
        where the dump holds the passwords and the connecting role may read them, the same password (compared
        as digests of the stored hashes, never shown). The role the restore connected as is not compared on its
        password (it keeps its own).
    type: bool
    default: true
  role_passwords:
    description:
      - Compare the roles' passwords (O(roles=true)). V(false) when the restore kept the target's passwords
        (M(blackduck.hub.db_restore) with O(blackduck.hub.db_restore#module:role_passwords=target)).
    type: bool
    default: true
    version_added: 0.3.0
  require_marker:
    description: Require each database's restore marker to name the manifest's dump.
    type: bool
    default: true
  checksums:
    description: Compare content checksums (V(exact) mode); with V(false) only row counts are compared.
    type: bool
    default: true
  jobs:
    description:
      - How many sessions read each database's tables at the same time, the tables shared between them by size
        (the largest first). V(1) (or less) reads the whole database in one snapshot. With more, each session has its own
        snapshot - right for a database nobody writes, as after a restore before the Hub starts (step 7), where
        the exact comparison is then up to that many times faster on a server with the cores for it.
    type: int
    default: 1
    version_added: 0.3.0
  require_major:
    description:
      - Fail unless the server's major version is this one (for example V(9.6) for Hub 4.2, V(15)).
    type: str
  require_create:
    description:
      - Fail unless the connecting role may create databases and roles (a superuser, or CREATEDB and CREATEROLE),
        as a restore into an external server needs.
    type: bool
    default: false
  require_no_hub_data:
    description:
      - Fail if the server's C(bds_hub) already holds tables in schema C(st) (a target for a migration must not),
        unless that data is a rolled-back attempt's (O(accept_dumps)).
    type: bool
    default: false
  accept_dumps:
    description:
      - With O(require_no_hub_data), the dump ids of rolled-back attempts
        (RV(blackduck.hub.migration_state#module:rolled_back_dumps)) - Hub data is accepted (RV(rolled_back_data))
        when the restore markers of every Hub database there (C(bds_hub), C(bds_hub_report), C(bdio)) name the same
        one of them, as the next restore replaces it
        (M(blackduck.hub.db_restore)'s O(blackduck.hub.db_restore#module:replace_dumps)); with O(allow_empty_hub),
        when C(bds_hub)'s marker alone names one of them, as the restore itself decides.
    type: list
    elements: str
    default: []
    version_added: 0.4.0
  allow_empty_hub:
    description:
      - With O(require_no_hub_data), accept the tables of an empty Hub (RV(empty_hub)) - the new version started
        without migrating created its schema but holds none of its users' data (no rows in C(st.project) and
        C(st.code_location), counted in RV(hub_data_rows)), which M(blackduck.hub.db_restore)'s
        O(blackduck.hub.db_restore#module:replace_empty_hub=true) replaces. A Hub whose tables hold rows has been used,
        and is refused (before its Hub is taken down, when this is step 1's gate).
    type: bool
    default: false
    version_added: 0.4.0
  fail_on_mismatch:
    description: Fail when anything differs. With V(false) the differences are only returned.
    type: bool
    default: true
seealso:
  - module: blackduck.hub.db_dump
  - module: blackduck.hub.db_restore
"""

EXAMPLES = r"""
- name: Exact comparison right after the restore, before the new Hub starts
  blackduck.hub.db_verify:
    connection:
      type: docker
      hub_version: 4.2.0
      project: hub
    dump_dir: /var/backups/hub-4.2-migration

- name: Once the new Hub runs
  blackduck.hub.db_verify:
    connection:
      type: docker
      hub_version: 4.2.0
      project: hub
    dump_dir: /var/backups/hub-4.2-migration
    mode: live

- name: Gate - an external database for Hub 4.2 must be PostgreSQL 9.6
  blackduck.hub.db_verify:
    connection:
      type: tcp
      host: hub-db96.example.com
      password_file: /etc/blackduck/HUB_POSTGRES_ADMIN_PASSWORD_FILE
    require_major: "9.6"
"""

RETURN = r"""
server:
  description: The server's version - num (e.g. 150018), version, major (C(9.6), C(15)).
  returned: always
  type: dict
verified:
  description: Whether everything compared equal (and the version requirement held).
  returned: always
  type: bool
databases:
  description:
    - Per database - marker (the restore marker found), tables (a per-table list of table, expected_rows, rows,
      status), differences.
  returned: when O(dump_dir) is given
  type: dict
role:
  description: The connecting role's rights - name, superuser, createdb, createrole.
  returned: when O(require_create=true)
  type: dict
hub_tables:
  description: The number of tables in schema st of bds_hub (0 when bds_hub does not exist).
  returned: when O(require_no_hub_data=true)
  type: int
rolled_back_data:
  description: The dump id of the rolled-back attempt (one of O(accept_dumps)) whose data the server holds.
  returned: when O(require_no_hub_data=true) found such data
  type: str
  version_added: 0.4.0
hub_data_rows:
  description: Per table of C(st.project) and C(st.code_location) that exists, how many rows it holds.
  returned: when O(allow_empty_hub=true) and the server holds Hub tables that no rolled-back attempt put there
  type: dict
  version_added: 0.4.0
empty_hub:
  description: The server holds an empty Hub's tables (O(allow_empty_hub)), which a restore replaces.
  returned: when O(allow_empty_hub=true) found an empty Hub
  type: bool
  version_added: 0.4.0
restore_markers:
  description:
    - Per database of the server, the restore marker M(blackduck.hub.db_restore) left in its comment (dump_id,
      complete, restored, dump_dir, source_version), or null. Tells which migration, if any, filled the server.
  returned: always
  type: dict
  version_added: 0.3.0
roles:
  description: Per role of the dump, how its password compared (C(equal), C(differs), or why it was not compared).
  returned: when O(dump_dir) is given and O(roles=true)
  type: dict
  version_added: 0.3.0
differences:
  description: Every difference found - kind, object, expected, actual, detail (database-qualified).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, options_of
from ansible_collections.blackduck.hub.plugins.module_utils._verify import Comparison, VerifyError, check
from ansible_collections.blackduck.hub.plugins.module_utils._target import (
    TargetError, connection_argument_spec, target_session)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        dump_dir=dict(type="path"),
        databases=dict(type="list", elements="str"),
        mode=dict(type="str", default="exact", choices=["exact", "live"]),
        roles=dict(type="bool", default=True),
        role_passwords=dict(type="bool", default=True),
        require_marker=dict(type="bool", default=True),
        checksums=dict(type="bool", default=True),
        jobs=dict(type="int", default=1),
        require_major=dict(type="str"),
        require_create=dict(type="bool", default=False),
        require_no_hub_data=dict(type="bool", default=False),
        accept_dumps=dict(type="list", elements="str", default=[]),
        allow_empty_hub=dict(type="bool", default=False),
        fail_on_mismatch=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    result = dict(changed=False, verified=False, differences=[])
    gate = dict((name, p[name]) for name in ("require_major", "require_create", "require_no_hub_data", "accept_dumps",
                                             "allow_empty_hub"))
    try:
        with target_session(p["connection"], p["wait_timeout"], p["log_file"]) as target:
            check(target, result, gate, p["dump_dir"], options_of(Comparison, p), p["fail_on_mismatch"])
        module.exit_json(**result)
    except (VerifyError, TargetError, CommandError, ValueError) as exc:
        module.fail_json(msg=str(exc), **result)


if __name__ == "__main__":
    main()
