#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hub_lock
short_description: One migration at a time per Black Duck Hub - take, check or release the hub's lock
version_added: 0.3.0
description:
  - A lock file on the hub's host, named after the hub itself (O(keys) - its Docker engine and Compose project, its
    swarm and stack, its cluster and namespace, and each external database server it migrates from or into), not
    after the dump folder - so a second run on the same hub refuses before doing anything, whatever its dump folder,
    and says who holds the lock (the controller, the process, the user, since when, the dump folder).
  - A lock whose run has ended without releasing it (killed) is taken over, with a warning saying so - when the
    run was on this same controller and its process is gone. A lock held from another controller is taken over
    only with O(break_lock=true), since this controller cannot tell whether that run still goes on - and so is one
    held from a controller of the same host name that is not this one (another machine id, or another PID namespace -
    a cloned VM that got a machine id of its own, a container run with the same C(--hostname)).
  - Each key is locked on its own (a migration across orchestrations locks both hubs); all or none.
  - This is an action plugin - it works out on the controller who this run is, and takes the lock on the managed
    host.
author:
  - blackduck.hub contributors (!UNKNOWN)
options:
  keys:
    description: What names the hub (any text; the same hub must give the same text in every run).
    type: list
    elements: str
    required: true
  state:
    description: V(present) takes the lock (or finds it this run's already), V(absent) releases it (if this run holds it).
    type: str
    default: present
    choices: [present, absent]
  dump_dir:
    description: This run's dump folder, recorded in the lock for whoever finds it held.
    type: str
  break_lock:
    description: Take the lock over even from a run that may still go on (held from another controller). Never from a
      run seen running on this controller (its process is there), whatever this says.
    type: bool
    default: false
  lock_dir:
    description: The folder of the lock files on the managed host.
    type: path
    default: /var/lib/blackduck-hub/locks
  holder:
    description: Internal - who this run is; the action plugin fills it in on the controller. Do not set it.
    type: dict
  take_over:
    description: Internal - per key, the run of a stale holder whose lock may be replaced; set by the action plugin.
    type: dict
attributes:
  check_mode:
    support: full
    description: Says whether the lock is free, held by this run, or by which other run; takes and releases nothing.
  diff_mode:
    support: none
    description: No diff.
  idempotent:
    support: full
    description: Taking a lock this run holds, or releasing one it does not hold, changes nothing.
  action:
    support: full
    description: Runs on the controller, and the lock module on the managed host.
"""

EXAMPLES = r"""
- name: Take the hub's lock before anything else
  blackduck.hub.hub_lock:
    keys: ["docker:{{ engine_id }}:compose:hub"]
    dump_dir: /var/backups/hub-4.2-migration

- name: Release it, whatever happened
  blackduck.hub.hub_lock:
    keys: ["docker:{{ engine_id }}:compose:hub"]
    state: absent
"""

RETURN = r"""
locks:
  description:
    - Per key - key, path (the lock file), status (acquired, held, taken_over, busy, free, released, not_held,
      held_by_another), holder (who holds it now, or held it before a take-over) and, after a take-over, why.
    - In check mode, a lock held by another run (busy) also says what a real run would make of its holder - judged
      (V(gone), taken over with a warning; V(runs), seen running here, refused; V(unknown), refused unless
      O(break_lock)) and why.
  returned: always
  type: list
  elements: dict
run:
  description: This run, as the lock records it (controller, a keyed hash of its machine id, its PID namespace, boot
    id, pid, process start, user, started, dump_dir).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils import _lock as lock


def main():
    module = AnsibleModule(
        argument_spec=dict(
            keys=dict(type="list", elements="str", required=True, no_log=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            dump_dir=dict(type="str"),
            break_lock=dict(type="bool", default=False),
            lock_dir=dict(type="path", default=lock.LOCK_DIR),
            holder=dict(type="dict"),
            take_over=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["holder"] or not p["holder"].get("run"):
        module.fail_json(msg="hub_lock runs through its action plugin, which says who this run is: call it as "
                             "blackduck.hub.hub_lock, not with ansible.legacy or a module path")
    try:
        found = lock.call(p["keys"], p["state"], p["holder"], p["take_over"], p["lock_dir"], module.check_mode)
    except lock.LockError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    module.exit_json(**found)


if __name__ == "__main__":
    main()
