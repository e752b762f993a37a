# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_state: the state file is read or written in the controller's own process when the managed host is the
controller (the local connection, without become: HubAction.runs_here) - the upgrade role calls it about 25 times
per run, each otherwise a Python process of its own - and by the module of the same name everywhere else. Both run
module_utils/_state.call with the same validated arguments, so the result is the same."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.blackduck.hub.plugins.module_utils import _state
from ansible_collections.blackduck.hub.plugins.plugin_utils._action import HubAction


class ActionModule(HubAction):

    ARGUMENT_SPEC = _state.ARGUMENT_SPEC
    ARGUMENT_RULES = _state.ARGUMENT_RULES

    def run(self, tmp=None, task_vars=None):
        result, args = self.begin(tmp, task_vars)
        found = self.here_or_module("blackduck.hub.migration_state", self._task.args, task_vars,
                                    lambda: _state.call(args, bool(self._task.check_mode)), _state.CallError)
        warnings = found.pop("warnings", None)
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        result.update(found)
        return result
