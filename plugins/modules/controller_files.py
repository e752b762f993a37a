#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: controller_files
short_description: Write files of the run's own output on the controller, without a module run on any host
version_added: 0.4.0
description:
  - Makes a folder on the controller and writes files into it, each whole at once (a temporary file beside it renamed
    over it), with the mode given. A file whose content and mode are already so is left alone.
  - The upgrade role writes the fleet report with it (C(fleet.json), C(fleet.md)). A M(ansible.builtin.copy) or
    M(ansible.builtin.template) task delegated to C(localhost) does the same by running two modules per file, on
    every run; this writes them in the controller's own process.
  - This is an action plugin - it runs on the controller, and reaches no host.
author:
  - blackduck.hub contributors (!UNKNOWN)
options:
  path:
    description: The folder on the controller; made (with its parents) when it is not there.
    type: path
    required: true
  files:
    description:
      - File names (in O(path), not paths) and the text of each.
      - Without it, only the folder is made.
    type: dict
    default: {}
  mode:
    description: The mode of each file, in octal.
    type: raw
    default: '0600'
  dir_mode:
    description: The mode of the folder, in octal (set also when the folder is there already).
    type: raw
    default: '0700'
attributes:
  action:
    support: full
    description: Runs on the controller, and reaches no host.
  check_mode:
    support: full
    description: Says what would change and writes nothing (unless the task sets C(check_mode=false)).
  diff_mode:
    support: none
    description: No diff.
  idempotent:
    support: full
    description: Files whose content and mode are already so, and a folder with its mode, are left alone.
"""

EXAMPLES = r"""
- name: Write the fleet report on the controller
  blackduck.hub.controller_files:
    path: "{{ hub_fleet_report_dir }}"
    files:
      fleet.json: "{{ hub_fleet | to_nice_json }}\n"
      fleet.md: "{{ lookup('ansible.builtin.template', 'fleet.md.j2') }}"
  run_once: true
"""

RETURN = r"""
files:
  description: The paths of the files given, on the controller.
  type: list
  elements: str
  returned: always
  sample: [/srv/ansible/hub-fleet-report/fleet.json, /srv/ansible/hub-fleet-report/fleet.md]
paths:
  description: What changed (or, in check mode, would change) - the folder and the files written.
  type: list
  elements: str
  returned: always
  sample: [/srv/ansible/hub-fleet-report/fleet.md]
"""
