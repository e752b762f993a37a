#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_state
short_description: Read or record the steps of a Black Duck Hub migration in its state file
version_added: 0.1.0
description:
  - Keeps the per-hub state file of the eleven-step Hub 4.2 migration - which steps are done, when, how long
    they took, what they returned (for example the dump id) and where a run failed.
  - The upgrade role reads it first, to resume at the first step not done and never repeat a completed
    destructive step, and records each step as it starts, ends or fails.
  - The file is JSON, mode 0600, written atomically.
author:
  - blackduck.hub contributors (!UNKNOWN)
options:
  path:
    description: The state file.
    type: path
    required: true
  hub:
    description: The hub's name, recorded when the file is created; a file recorded for another hub is refused.
    type: str
  step:
    description: The step (1 to 11, or its name such as V(dump)) to record. Without it the state is only read.
    type: str
  status:
    description: What to record for O(step).
    type: str
    choices: [started, done, failed]
  data:
    description:
      - Facts to keep with the step (merged into what it already holds). With O(status=failed), C(services) is what
        ran of the hub then (M(blackduck.hub.hub_services)' RV(blackduck.hub.hub_services#module:services)); it is
        dropped when the step starts again.
    type: dict
  note:
    description: A message to keep with the step (for example why it failed), or with the rollback.
    type: str
  rollback:
    description:
      - Record a rollback to the old version - V(started), V(done) or V(failed) (the upgrade role's C(rollback) entry
        point and O(blackduck.hub.upgrade#role:main:hub_rollback_on_failure) do).
      - V(done) moves the attempt's step records to the C(attempts) of RV(state) (with its dump id and when), so that the next
        upgrade run starts at step 1 with a new dump of the old Hub, which has served since.
    type: str
    choices: [started, done, failed]
  archive_dump:
    description:
      - With O(rollback=done), the attempt's dump folder, moved aside to C(<archive_dump>-rolled-back-<time>) (never
        deleted or overwritten); the next attempt writes a new dump there.
    type: path
  old_version:
    description: With O(rollback), the version the old Hub answered once it served again.
    type: str
  log_file:
    description:
      - The run's log (the upgrade role's C(hub_dump_dir/logs/run-<time>.log)) - what is recorded - a step's start,
        end or failure with its O(note) (and, for a failure, the hub's containers or pods in O(data)'s C(services)),
        or a rollback - is appended to it as a line (made 0600 when missing). Not in check mode.
    type: path
    version_added: 0.3.0
  restored_by:
    description:
      - The restore marker the new database holds (M(blackduck.hub.db_verify)'s RV(blackduck.hub.db_verify#module:restore_markers)
        of C(bds_hub)). When it names another run's dump - not this attempt's, nor a rolled-back attempt's - that run's
        state file (beside its dump folder) is read too, and RV(other_run) says what it did.
    type: dict
    version_added: 0.3.0
  dump_dir:
    description:
      - This attempt's dump folder (the upgrade role's C(hub_dump_dir/dump)). With O(restored_by), once the state
        records step 4 begun, a marker that names the stream record there is this attempt's own, not another run's - a
        stream stopped before step 4 was recorded leaves markers of the databases it completed, and the next run
        resumes it.
    type: path
    version_added: 0.4.0
  report_dir:
    description:
      - Write the hub's migration report into this folder, from the state just read - C(report.json) (O(hub), the
        O(report_facts) and the state) and C(report.md) (the same for people - the steps, the disk, the jobs cut off,
        the dump, the verification table by table, the roles, the old data and how to go back), each mode 0600,
        whole at once; a file whose content is already so is left alone. Nothing is written while no step and no
        rollback is recorded, nor in check mode. Only with a read (no O(step) nor O(rollback)). A report that cannot
        be written is a warning, not a failure (the state is what counts).
      - The upgrade role writes its report so, at the end of every run, in C(hub_dump_dir).
    type: path
    version_added: 0.4.0
  report_facts:
    description:
      - With O(report_dir) (required with it), what the report says of the hub - C(orchestration), C(project),
        C(old_version), C(new_version), C(old_data), C(new_data) (labels of the data), C(remove_old_data) (the
        command that removes the old data) - kept in C(report.json); and, for C(report.md) only, C(old_data_kind)
        (V(volume), V(path), V(claim) or V(server)) and C(old_data_name) (the old server's name, for V(server)).
    type: dict
    version_added: 0.4.0
attributes:
  check_mode:
    support: full
    description: Reads the state; records nothing, writes no report.
  diff_mode:
    support: none
    description: No diff.
  idempotent:
    support: none
    description:
      - Recording a step or a rollback stamps the time of the call, so it reports a change each time.
      - A read with O(report_dir) reports a change only when a report file's content changed.
"""

EXAMPLES = r"""
- name: Read the migration state
  blackduck.hub.migration_state:
    path: /var/backups/hub-4.2-migration/state.json
    hub: hub1
  register: hub_state

- name: Record the dump as done
  blackduck.hub.migration_state:
    path: /var/backups/hub-4.2-migration/state.json
    step: dump
    status: done
    data:
      dump_id: "{{ dump.dump_id }}"

- name: Read the final state and write the report (report.json and report.md) beside it
  blackduck.hub.migration_state:
    path: /var/backups/hub-4.2-migration/state.json
    hub: hub1
    report_dir: /var/backups/hub-4.2-migration
    report_facts:
      orchestration: compose
      project: hub
      old_version: 4.1.4
      new_version: 4.2.0
      old_data: hub_data-volume
      new_data: hub_data-volume-4.2.0
      remove_old_data: docker volume rm hub_data-volume
      old_data_kind: volume

- name: Record that the old Hub serves again, the attempt's dump moved aside
  blackduck.hub.migration_state:
    path: /var/backups/hub-4.2-migration/state.json
    rollback: done
    archive_dump: /var/backups/hub-4.2-migration/dump
    old_version: 4.1.4
"""

RETURN = r"""
state:
  description: The state after the call - hub, status, steps (per step name - number, status, started, finished,
    seconds, data, message), last_done, failed_step; after a rollback, rollback (status, started, finished, from_step,
    failed_step, old_version, dump_dir, message) and attempts (the rolled-back attempts - steps, dump_id, dump_dir,
    rolled_back).
  returned: always
  type: dict
done:
  description: The names of the steps done.
  returned: always
  type: list
  elements: str
next_step:
  description: The first step not done (1 to 11), or null when all are.
  returned: always
  type: int
going_back:
  description: Whether the old Hub can be brought back now - possible (V(true); V(false) once step 11 removed the old
    data; V(null) when this attempt never took the Hub down), and reason, in words; wanted - whether the old Hub is
    to serve (the way back is open, or this hub was rolled back already). The way back may be open and still refused
    with this inventory - see RV(other_data).
  returned: always
  type: dict
rolled_back_dumps:
  description: The dump ids of the rolled-back attempts (the new database may hold their data; a new restore
    replaces it).
  returned: always
  type: list
  elements: str
rollback_unfinished:
  description:
    - Why no upgrade step may run now, in words, or an empty string - going back to the old version began and did not
      end (it failed, or was stopped midway). The old Hub may serve again while the step records still say where the
      upgrade was; the upgrade role refuses until M(blackduck.hub.migration_state) records the rollback done.
  returned: always
  type: str
other_run:
  description:
    - With O(restored_by) naming another run's migration of this hub - C(message) (what it did, in words) and
      C(finished) (it started the new Hub and verified it, step 10; else it must be finished with its own
      inventory). Null otherwise. The upgrade role then changes nothing - it never takes a migrated Hub down.
  returned: always
  type: dict
other_data:
  description:
    - When a step of this attempt failed because the new database holds another run's migration (M(blackduck.hub.db_restore)'s
      RV(blackduck.hub.db_restore#module:other_restore), recorded in that step's data as C(other_data)) and has not
      been done since - C(dump_id) (that run's dump) and C(message) (why going back with this run's inventory is
      refused, and what to do). Null otherwise. The rollback entry point refuses on it unless C(hub_rollback_beside_dump)
      names that dump.
  returned: always
  type: dict
  version_added: 0.4.0
reports:
  description: The report files written (C(report.json), C(report.md)) - those whose content changed.
  returned: with O(report_dir), not in check mode
  type: list
  elements: str
  version_added: 0.4.0
archived_dump:
  description: Where O(archive_dump) was moved, or null when there was no such folder.
  returned: when O(rollback=done)
  type: str
steps:
  description:
    - The eleven steps in order, the one table the upgrade role runs, plans and reports from - number, name, title;
      until (the step runs while none of these steps is done), after (steps that must be done first), option (a
      setting that must be true), side (V(old) or V(new) - which version's orchestration runs it), entry (the
      orchestration contract's entry point that is all of the step's work, or null), destructive
      (what cannot be undone), goes_back (whether the step's failure brings the old version back with the upgrade
      role's C(hub_rollback_on_failure) - steps 3 to 10, run with the old Hub down and its data whole), timeout (the
      upgrade role's setting that bounds the step's waits, or null), tags (C(step<n>) and the name).
    - P(blackduck.hub.step_due#filter) says whether a step runs now.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils import _state


def main():
    module = AnsibleModule(argument_spec=_state.ARGUMENT_SPEC, supports_check_mode=True, **_state.ARGUMENT_RULES)
    try:
        result = _state.call(module.params, module.check_mode)
    except _state.CallError as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings"):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
