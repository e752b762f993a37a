# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a step of the migration runs now: the resume rule, written once (module_utils/_state.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.blackduck.hub.plugins.module_utils import _state


def step_due(step, state, options=None, run_tags=None, skip_tags=None):
    return _state.due(step, state, options, run_tags or ["all"], skip_tags or [])


def plan_line(step, done, what):
    """The check-mode plan's line for a step of the table: done, not needed (a later step it serves is done), or
    what it would do now (what[name])."""
    if step["name"] in done:
        text = "done"
    elif any(u in done for u in step["until"]):
        text = "not needed"
    else:
        text = " ".join(str(what.get(step["name"], "")).split())
    return "step %d %s: %s" % (step["number"], step["name"], text)


class FilterModule(object):
    def filters(self):
        return {"step_due": step_due, "plan_line": plan_line}
