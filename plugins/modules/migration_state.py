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
attributes:
  check_mode:
    support: full
    description: Reads the state; records nothing.
  diff_mode:
    support: none
    description: No diff.
  idempotent:
    support: none
    description: Recording a step or a rollback stamps the time of the call, so it reports a change each time.
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
    to serve (the way back is open, or this hub was rolled back already).
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
      C(finished) (it verified and started the new Hub; else it must be finished with its own inventory). Null
      otherwise. The upgrade role then changes nothing - it never takes a migrated Hub down.
  returned: always
  type: dict
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
from ansible_collections.blackduck.hub.plugins.module_utils._command import log_line


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            hub=dict(type="str"),
            step=dict(type="str"),
            status=dict(type="str", choices=["started", "done", "failed"]),
            data=dict(type="dict"),
            note=dict(type="str"),
            rollback=dict(type="str", choices=["started", "done", "failed"]),
            archive_dump=dict(type="path"),
            old_version=dict(type="str"),
            restored_by=dict(type="dict"),
            log_file=dict(type="path"),
        ),
        required_together=[("step", "status")],
        mutually_exclusive=[("step", "rollback")],
        supports_check_mode=True,
    )
    p = module.params
    try:
        state = _state.check_hub(_state.load(p["path"]), p["hub"], p["path"]) or _state.new_state(p["hub"])
        changed = False
        extra = {}
        if p["step"]:
            state = _state.apply(state, p["step"], p["status"], p["data"], p["note"])
            changed = True
            if not module.check_mode:
                _state.save(p["path"], state)
        if p["rollback"]:
            changed = True
            archived = None
            if p["rollback"] == "done" and p["archive_dump"] and not module.check_mode:
                archived = _state.archive_dump(p["archive_dump"])
            state = _state.rollback(state, p["rollback"], p["note"], archived, p["old_version"])
            extra["archived_dump"] = archived
            if not module.check_mode:
                _state.save(p["path"], state)
    except _state.OtherHubsState as exc:
        module.fail_json(msg=str(exc))
    except (ValueError, IOError, OSError) as exc:
        module.fail_json(msg="migration state %s: %s. Do not delete the file to get past this (it is what makes a rerun "
                             "resume): fix the permission or space; restore a damaged file from report.json's state "
                             "(docs/troubleshooting.md)" % (p["path"], exc))
    if p["log_file"] and changed and not module.check_mode:
        try:  # the state is what counts; a log that cannot be written is said, not a failure
            log_line(p["log_file"], _state.log_text(p["step"], p["status"] or p["rollback"], p["note"], p["data"]))
        except (IOError, OSError) as exc:
            module.warn("the run's log %s was not written: %s" % (p["log_file"], exc))
    possible, reason = _state.going_back(state)
    module.exit_json(
        changed=changed, state=state, next_step=_state.next_step(state),
        going_back=dict(possible=possible, reason=reason, wanted=_state.old_hub_wanted(state)), rolled_back_dumps=_state.rolled_back_dumps(state),
        done=[name for n, name, dummy in _state.STEPS if _state.done(state, name)],
        steps=_state.step_table(), other_run=_state.other_run(p["restored_by"], state),
        rollback_unfinished=_state.rollback_unfinished(state) or "", **extra)


if __name__ == "__main__":
    main()
