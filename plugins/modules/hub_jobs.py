#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hub_jobs
short_description: List the jobs a running Black Duck Hub works on, and wait until none runs (the drain)
version_added: 0.3.0
description:
  - Before step 2 of the Hub 4.2 migration takes the Hub down, the jobs its jobrunners work on (scans, reports,
    the reporting transfer) are cut off. This module reads them from the Hub's own database (C(st.job_instances)
    of C(bds_hub), status C(RUNNING)) and, with O(drain_timeout), waits until none runs.
  - Jobs that only wait in the queue (C(SCHEDULED), C(DISPATCHED)) are not waited for - the Hub picks them up
    again after its restart.
  - A database without C(st.job_instances) has nothing to wait for - RV(table) is V(false) and RV(jobs) empty.
  - Only reads; never changes anything, and never stops a job. In check mode it waits too, when O(drain_timeout) asks it to.
author:
  - blackduck.hub contributors (!UNKNOWN)
extends_documentation_fragment:
  - blackduck.hub.read_only
  - blackduck.hub.connection
options:
  database:
    description: The Hub's database.
    type: str
    default: bds_hub
  drain_timeout:
    description:
      - Wait up to this many seconds until no job runs; V(0) only lists them. When jobs still run at the end,
        RV(drained) is V(false) and the module still succeeds - the caller decides whether to go on or refuse.
    type: int
    default: 0
  interval:
    description: Seconds between two looks while waiting.
    type: int
    default: 10
  ignore_job_types:
    description:
      - Job types not waited for. The default is the one the migration restarts itself - the restore's fixup marks
        a running C(ReportingDatabaseTransferJob) failed and the new Hub starts it afresh.
    type: list
    elements: str
    default: [ReportingDatabaseTransferJob]
seealso:
  - module: blackduck.hub.db_dump
"""

EXAMPLES = r"""
- name: Wait up to ten minutes for the Hub's running jobs to end
  blackduck.hub.hub_jobs:
    connection:
      type: docker
      project: hub
    drain_timeout: 600
  register: hub_jobs

- name: Refuse to take the Hub down while jobs still run
  ansible.builtin.fail:
    msg: "{{ hub_jobs.msg }}"
  when: not hub_jobs.drained
"""

RETURN = r"""
jobs:
  description:
    - The jobs that run at the end (after the wait) - id, job_type, status, node (the jobrunner), started_at
      (UTC, ISO 8601), seconds (how long it has run).
  returned: always
  type: list
  elements: dict
jobs_at_start:
  description: The jobs that ran when the module started, like RV(jobs).
  returned: always
  type: list
  elements: dict
drained:
  description: Whether no job runs at the end.
  returned: always
  type: bool
waited:
  description: Seconds waited for the jobs to end, from the first look (0 with no O(drain_timeout)).
  returned: always
  type: int
table:
  description: Whether the database has C(st.job_instances) at all.
  returned: always
  type: bool
msg:
  description: What runs, in a sentence.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.blackduck.hub.plugins.module_utils import _jobs as jobs
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError
from ansible_collections.blackduck.hub.plugins.module_utils._target import (
    TargetError, connection_argument_spec, target_session)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        database=dict(type="str", default="bds_hub"),
        drain_timeout=dict(type="int", default=0),
        interval=dict(type="int", default=10),
        ignore_job_types=dict(type="list", elements="str", default=list(jobs.RESTARTED_BY_THE_MIGRATION)),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if p["drain_timeout"] < 0 or p["interval"] < 1:
        module.fail_json(msg="drain_timeout must be 0 or more and interval 1 or more (seconds)", changed=False)
    try:
        with target_session(p["connection"], p["wait_timeout"], p["log_file"]) as target:
            found = jobs.drain(target, p["database"], p["drain_timeout"], p["interval"], p["ignore_job_types"])
    except (TargetError, CommandError) as exc:
        module.fail_json(msg=str(exc), changed=False)
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
