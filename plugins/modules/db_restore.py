#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_restore
short_description: Restore a Black Duck Hub dump made by db_dump into the new database server
version_added: 0.1.0
description:
  - Step 7 of the Hub 4.2 migration. Restores the roles (from C(globals.sql)) and every database of a dump made
    by M(blackduck.hub.db_dump), creating the databases as needed.
  - Every role gets the password it had on the old server (O(role_passwords=dump), the default), so that
    whatever logged in before (the Hub's C(blackduck_user), a reporting client of C(blackduck_reporter)) logs in
    after; the role the restore connects as keeps its own. With O(role_passwords=target) the roles that already
    exist on the target (made by an external server's DBA, with the passwords the new Hub is configured with)
    keep theirs. Attributes and memberships are restored either way.
  - A database the new server's image made (empty schemas at most, like the Hub's empty schema C(st)) is
    restored with C(--clean --if-exists), so the dump's own schemas replace the empty ones.
  - Before anything is changed, every file's size and sha256 are checked against the manifest; a truncated or
    corrupt dump is refused with a message that says which file.
  - Refuses a target whose C(bds_hub) already holds tables in schema C(st) (the vendor's guard) unless
    O(force=true) - except data restored by an interrupted earlier run of this same dump, which is cleaned and
    restored again.
  - Each dump file streams into C(pg_restore) next to the server (inside the container or pod, or on the managed
    host for V(tcp)), never copied into the container. Databases are restored O(jobs) at a time.
  - Every pg_restore error fails the task, except a documented allowlist of known-harmless ones (the role
    C(blckdck) of dumps from the old appliance, roles that already exist, the drop or comment of extension plpgsql
    or pgcrypto where another role owns it, schema public that already exists), which come back as warnings.
    O(allowed_errors) adds patterns.
  - Applies the Hub's post-restore fixups to C(bds_hub) (reset the reporting transfer job) when O(fixups=true).
  - Records in each restored database (its comment) which dump was restored; a target already restored from the
    same dump gives C(changed=false).
author:
  - blackduck.hub contributors (!UNKNOWN)
extends_documentation_fragment:
  - blackduck.hub.connection
  - blackduck.hub.connection.source
options:
  dump_dir:
    description:
      - The folder holding the dump (C(manifest.json) and the files it lists).
      - With O(source) - where the stream's record (C(manifest.json), no file) is kept; made (0700) when missing.
    type: path
    required: true
  databases:
    description:
      - The databases to restore (default is every database in the dump).
      - With O(source) - the databases to stream (default C(bds_hub), C(bds_hub_report), C(bdio)).
    type: list
    elements: str
  no_role_passwords:
    description:
      - With O(source) - read the roles without their passwords (C(pg_dumpall --no-role-passwords)), for an old
        server whose admin role may not read them (Amazon RDS). The roles are then created without passwords.
    type: bool
    default: false
    version_added: 0.4.0
  globals:
    description: Restore the roles and grants from C(globals.sql) first.
    type: bool
    default: true
  jobs:
    description:
      - A custom-format dump - how many databases are restored at the same time (each streamed into pg_restore).
      - A directory-format dump (restored over O(connection.type=tcp), or with O(connection.dump_mount)) - the
        workers of C(pg_restore --jobs) for each database, the databases one after the other.
    type: int
    default: 2
  role_passwords:
    description:
      - V(dump) - every role of the dump gets its old password (the role the restore connects as keeps its own).
      - V(target) - roles that already exist on the target keep their passwords; only new roles get the dump's.
    type: str
    default: dump
    choices: [dump, target]
    version_added: 0.3.0
  force:
    description:
      - Restore even if the target's C(bds_hub) already holds Hub tables, replacing what the dump holds
        (C(pg_restore --clean --if-exists)).
    type: bool
    default: false
  replace_empty_hub:
    description:
      - When the target's C(bds_hub) holds an empty Hub - the new version was started without migrating, so it
        created its schema but holds none of the Hub's user data (no rows in O(hub_data_tables)) - drop the
        target's Hub databases that did not come from this dump and restore into new ones.
      - A target whose O(hub_data_tables) hold rows is always refused (unless O(force=true)).
    type: bool
    default: false
  replace_dumps:
    description:
      - Dump ids of rolled-back attempts of the same hub (P(blackduck.hub.migration_state#module) returns them as
        RV(blackduck.hub.migration_state#module:rolled_back_dumps)). A database whose restore marker names one of them
        holds the data of that earlier attempt, which is dropped and restored anew from this dump, without
        O(force=true).
    type: list
    elements: str
    default: []
  hub_data_tables:
    description: The tables whose rows mean a Hub holds user data (projects, scanned code locations).
    type: list
    elements: str
    default: [st.project, st.code_location]
  fixups:
    description:
      - Apply the Hub's post-restore statements to C(bds_hub) - delete the reporting transfer's last end time and
        last id from C(st.policy_setting), and mark scheduled, dispatched or running
        C(ReportingDatabaseTransferJob) rows of C(st.job_instances) as failed, so the job starts afresh.
    type: bool
    default: true
  analyze:
    description: Run ANALYZE on each restored database, so the new server has planner statistics at once.
    type: bool
    default: true
  allowed_errors:
    description: Regular expressions of further pg_restore errors to report as warnings instead of failing.
    type: list
    elements: str
    default: []
  progress_file:
    description:
      - A file in which to keep the restore's progress (bytes streamed, rate, percentage, what it does now) while
        it runs, mode 0600, removed when the restore ends. The upgrade role shows it through
        M(blackduck.hub.async_progress).
      - Progress lines also go to the module's log (syslog or journald on the managed host).
    type: path
attributes:
  check_mode:
    support: full
    description: Checks the dump files (or the source) and the target, and reports which databases would be restored.
  diff_mode:
    support: none
    description: Returns no diff.
  idempotent:
    support: full
    description: A target already restored from the same dump gives C(changed=false).
seealso:
  - module: blackduck.hub.db_dump
  - module: blackduck.hub.db_verify
"""

EXAMPLES = r"""
- name: Restore into the new Hub's database container (migration mode)
  blackduck.hub.db_restore:
    connection:
      type: docker
      hub_version: 4.2.0
      project: hub
    dump_dir: /var/backups/hub-4.2-migration

- name: Stream the old Hub's databases into an external PostgreSQL 9.6 server - no dump file
  blackduck.hub.db_restore:
    source:
      type: docker
      hub_version: 4.1.2
    connection:
      type: tcp
      host: hub-db96.example.com
      user: blackduck
      password_file: /etc/blackduck/HUB_POSTGRES_ADMIN_PASSWORD_FILE
    dump_dir: /var/backups/hub-4.2-migration

- name: Restore into an external PostgreSQL 9.6 server
  blackduck.hub.db_restore:
    connection:
      type: tcp
      host: hub-db96.example.com
      user: blackduck
      password_file: /etc/blackduck/HUB_POSTGRES_ADMIN_PASSWORD_FILE
      sslmode: require
    dump_dir: /var/backups/hub-4.2-migration
"""

RETURN = r"""
dump_id:
  description: The id of the dump restored (or found already restored); with O(source), of the stream's record.
  returned: always
  type: str
restored:
  description: Per database restored now - seconds, bytes streamed, warnings, fixups applied, the marker written.
  returned: success
  type: dict
role_passwords:
  description:
    - How the roles' passwords are as this dump restored them - C(dump) or C(target) (O(role_passwords)), that is
      this run's setting when it restored the roles (or would, in check mode) - C(dump) still with O(role_passwords=target) when
      an earlier restore of the same dump gave them the old server's passwords, which they keep - else what an earlier
      restore of the same dump recorded in its restore markers (the latest), so that a rerun with the setting changed
      reports what the target holds. Null when no marker says (no roles restored, or markers of an older release).
  returned: success
  type: str
  sample: dump
  version_added: 0.4.0
already_restored:
  description: Databases that already held this dump (nothing done for them).
  returned: success
  type: list
  elements: str
replaced_empty_hub:
  description: Databases of an empty Hub (started without migrating), or restored from one of O(replace_dumps), that
    were dropped and restored anew.
  returned: success
  type: list
  elements: str
target_holds_other_data:
  description: True when the restore refused because the target's C(bds_hub) holds Hub data that did not come from
    this dump but from another run's migration (its restore marker names another dump) - the upgrade role does not go
    back to the old version on such a failure (C(hub_rollback_on_failure)).
  returned: failure
  type: bool
  sample: true
other_restore:
  description:
    - With RV(target_holds_other_data), that run's restore marker as the target's C(bds_hub) holds it - the upgrade
      role records it in the state file, and M(blackduck.hub.migration_state) returns it as RV(blackduck.hub.migration_state#module:other_data)
      so that going back with this run's inventory is refused.
  returned: failure, when RV(target_holds_other_data) is true
  type: dict
  sample: {"dump_id": "20261130T010203Z-1a2b3c", "complete": true, "restored": "2026-11-30T01:20:00Z",
           "dump_dir": "/var/backups/blackduck-hub/hub1/dump"}
  version_added: 0.4.0
created:
  description: Databases that were created on the target.
  returned: success
  type: list
  elements: str
warnings_ignored:
  description: Known-harmless errors that were ignored, with the reason.
  returned: success
  type: list
  elements: str
target:
  description: The target server - how it was reached, its version.
  returned: success
  type: dict
source:
  description: With O(source) - the old server streamed from (how it was reached, its version).
  returned: success and O(source) was given
  type: dict
  version_added: 0.4.0
record:
  description:
    - With O(source) - the stream's record as a dump's summary - per database its tables, rows, the bytes that went
      through the pipe and the seconds it took (no file, no sha256).
  returned: success and O(source) was given, not in check mode
  type: dict
  version_added: 0.4.0
"""

import contextlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils import _dump as dump
from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory
from ansible_collections.blackduck.hub.plugins.module_utils import _restore as restore
from ansible_collections.blackduck.hub.plugins.module_utils import _restore_job as job
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, options_of, warn_lost_log_lines, within
from ansible_collections.blackduck.hub.plugins.module_utils._target import (
    CONNECTION_SPEC, TargetError, connection_argument_spec, target_session)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        dump_dir=dict(type="path", required=True),
        databases=dict(type="list", elements="str"),
        globals=dict(type="bool", default=True),
        jobs=dict(type="int", default=2),
        force=dict(type="bool", default=False),
        role_passwords=dict(type="str", default="dump", choices=["dump", "target"]),
        replace_empty_hub=dict(type="bool", default=False),
        hub_data_tables=dict(type="list", elements="str", default=list(inventory.HUB_DATA_TABLES)),
        fixups=dict(type="bool", default=True),
        analyze=dict(type="bool", default=True),
        allowed_errors=dict(type="list", elements="str", default=[]),
        progress_file=dict(type="path"),
        replace_dumps=dict(type="list", elements="str", default=[]),
        source=dict(type="dict", options=CONNECTION_SPEC),
        no_role_passwords=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    result = dict(changed=False, dump_id=None)
    try:
        with contextlib.ExitStack() as sessions:
            def session(connection):
                return sessions.enter_context(target_session(connection, p["wait_timeout"], p["log_file"]))

            job.fill(session(p["source"]) if p["source"] else None, lambda: session(p["connection"]), p["dump_dir"],
                     p["databases"], options_of(restore.RestoreOptions, p), result,
                     replace_empty_hub=p["replace_empty_hub"], hub_data_tables=p["hub_data_tables"],
                     replace_dumps=p["replace_dumps"], no_role_passwords=p["no_role_passwords"],
                     check_mode=module.check_mode, log=module.log)
        for warning in result["warnings_ignored"]:
            module.warn(warning)
        warn_lost_log_lines(module)
        module.exit_json(**result)
    except (TargetError, CommandError, restore.RestoreError, dump.DumpError, ValueError) as exc:
        warn_lost_log_lines(module)
        if isinstance(exc, restore.OtherDataError):
            result.update(target_holds_other_data=True, other_restore=exc.marker)
        module.fail_json(msg=str(exc), **result)
    except (IOError, OSError) as exc:  # a file of the dump folder (the dump's, a stream's record), or the system's
        warn_lost_log_lines(module)
        if within(exc, p["dump_dir"]):
            module.fail_json(msg="reading or writing the dump folder %s failed (%s): free space there or fix its "
                                 "permissions, then run again: an interrupted restore is recognised by its marker and "
                                 "done anew." % (p["dump_dir"], exc), **result)
        module.fail_json(msg="the restore stopped on an error of the system (%s): mend its cause and run again; an "
                             "interrupted restore is recognised by its marker and done anew." % exc, **result)


if __name__ == "__main__":
    main()
