# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's action plugins share: they run on the controller, talk to the managed host through modules
(controller_files reaches none: it writes the controller's own files; migration_state and hub_lock none when the
managed host is the controller, runs_here: here_or_module), work in check mode, never run async, and validate their arguments from one declared
spec."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase


class HubAction(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC = {}
    ARGUMENT_RULES = {}  # required_together, mutually_exclusive... as AnsibleModule takes them

    def begin(self, tmp, task_vars):
        """(result, args): the base result of the task and its arguments, validated against ARGUMENT_SPEC."""
        result = super(HubAction, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC, **self.ARGUMENT_RULES)
        return result, args

    def is_local(self):
        """Whether the managed host is this controller (the local connection): its files are this machine's."""
        return getattr(self._connection, "transport", None) == "local"

    def runs_here(self):
        """Whether the managed host is this controller, reached as this process's own user (the local connection,
        without become): then a module whose work is only files can run in this process instead of a Python process
        of its own (about 0.3 s of CPU each: most of it compiling ansible.module_utils.basic anew)."""
        return self.is_local() and not self._play_context.become

    def here_or_module(self, module_name, module_args, task_vars, work, errors=()):
        """The result of a module whose work is only files: work() in this process when runs_here, else the module
        module_name with module_args. An error of errors that work() raises is the task's failure, said as the
        module's fail_json says it: its message, and what the error carries for the result (its `result`, a dict)."""
        if not self.runs_here():
            return self._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
        try:
            return work()
        except errors as exc:
            return dict(getattr(exc, "result", {}), failed=True, msg=str(exc))
