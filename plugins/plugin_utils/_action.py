# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's action plugins share: they run on the controller, talk to the managed host through modules
(controller_files reaches none: it writes the controller's own files), work in check mode, never run async, and
validate their arguments from one declared spec."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase


class HubAction(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC = {}

    def begin(self, tmp, task_vars):
        """(result, args): the base result of the task and its arguments, validated against ARGUMENT_SPEC."""
        result = super(HubAction, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        return result, args
