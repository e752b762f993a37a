# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The attributes of the modules that only read (db_verify, disk_space, hub_jobs, hub_services).
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Only reads - the same run as without check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  idempotent:
    support: full
    description: Only reads; always C(changed=false).
"""
