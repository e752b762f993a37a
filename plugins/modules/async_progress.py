#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: async_progress
short_description: Wait for a long db_dump or db_restore and show its progress while it runs
version_added: 0.2.0
description:
  - Waits for a task started with C(async) and C(poll=0) - typically M(blackduck.hub.db_dump) or
    M(blackduck.hub.db_restore) - and prints a line every O(interval) seconds while it runs - the bytes so far,
    the rate, and what it does now, read from the task's progress file on the managed host - so that a person at
    a terminal and an AWX or Tower job (whose output shows these lines as they come) both see a multi-hour dump
    move.
  - Each poll is a short new connection to the managed host, so no connection sits idle for the length of the
    dump, and nothing in between (SSH, a bastion, a load balancer) times it out.
  - With the C(local) connection the job's files are the controller's own, so a job still running is seen by
    reading its status file and the progress line by reading the progress file, without a module each time; the
    job's result is still read by M(ansible.builtin.async_status).
  - Returns the job's own result, as if the task had run without C(async) - C(changed), C(failed), C(msg) and
    every return value of the module, without what the async machinery adds to it (C(ansible_job_id),
    C(finished), C(results_file), its C(stdout) and C(stderr) lines) - and, once the job has ended, removes its
    status file (a watch that gives up, O(timeout), leaves it for M(ansible.builtin.async_status)).
  - When the task did not run asynchronously (a role that turns C(async) off in check mode, as the upgrade role
    does), O(job) is returned without those same keys.
  - This is an action plugin - it runs on the controller.
author:
  - blackduck.hub contributors (!UNKNOWN)
options:
  job:
    description: The registered result of the task started with C(async) and C(poll=0) (it holds C(ansible_job_id)).
    type: dict
    required: true
  progress_file:
    description:
      - The progress file the job writes on the managed host - C(progress.json) in the O(blackduck.hub.db_dump#module:dump_dir)
        of M(blackduck.hub.db_dump), or the O(blackduck.hub.db_restore#module:progress_file) of M(blackduck.hub.db_restore).
      - Without it (or while the job has not written it yet) the lines only say the job is still running.
    type: path
  interval:
    description:
      - Seconds between two progress lines.
      - Whether the job ended is asked every second at first, so a short job is not kept waiting for a whole
        interval, then less often as the job ages (a tenth of its age), at most every O(interval) seconds.
    type: float
    default: 10
  timeout:
    description:
      - Give up waiting after this many seconds (the job itself is not stopped; its own C(async) limit still
        applies). Without it, wait as long as the job's C(async) limit lets it run.
    type: float
  label:
    description: What the lines call the job (for example C(Step 4 dump)).
    type: str
attributes:
  action:
    support: full
    description: Runs on the controller and polls the managed host.
  async:
    support: none
    description: It is the waiting part of an asynchronous task.
  check_mode:
    support: full
    description: In check mode the watched task ran synchronously; its result is returned.
  diff_mode:
    support: none
    description: No diff.
  idempotent:
    support: N/A
    description: Reports what the watched job reported.
notes:
  - The lines go to the controller's output through Ansible's display, which AWX and Tower record as job events.
seealso:
  - module: ansible.builtin.async_status
  - module: blackduck.hub.db_dump
  - module: blackduck.hub.db_restore
"""

EXAMPLES = r"""
- name: Dump the Hub's databases, in the background
  blackduck.hub.db_dump:
    connection:
      type: docker
      hub_version: 4.1.4
    dump_dir: /var/backups/hub-4.2-migration/dump
  async: 86400
  poll: 0
  register: dump_job

- name: Wait for the dump, showing its progress every 30 seconds
  blackduck.hub.async_progress:
    job: "{{ dump_job }}"
    progress_file: /var/backups/hub-4.2-migration/dump/progress.json
    interval: 30
    label: dump
  register: dump
"""

RETURN = r"""
changed:
  description: What the job reported.
  returned: always
  type: bool
msg:
  description: The job's message; when it failed, why.
  returned: when the job returned one
  type: str
"""
