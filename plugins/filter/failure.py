# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reason a task failed, in words, whatever the task was: never an empty string."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _last_lines(text, n=5):
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def failure_reason(result):
    """Why a task failed: its msg, else the last lines of its stderr, else its exit code; a loop's failed items."""
    if not isinstance(result, dict):
        return str(result).strip() or "failed, without a message"
    parts = []
    msg = str(result.get("msg") or "").strip()
    if msg and not msg.startswith("One or more items failed"):
        parts.append(msg)
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            parts.append(failure_reason(item))
    stderr = _last_lines(result.get("stderr"))
    # a tool's own words when the task only said that it failed (a command's "non-zero return code")
    if stderr and stderr not in msg and (not msg or msg == "non-zero return code"):
        parts.append("stderr: %s" % stderr)
    if not parts:
        stdout = _last_lines(result.get("stdout"))
        if stdout:
            parts.append("output: %s" % stdout)
    if result.get("rc") not in (None, 0) and not any("exit" in p for p in parts):
        parts.append("exit code %s" % result["rc"])
    return "; ".join(parts) or "failed, without a message (run again with -v to see the task's result)"


class FilterModule(object):
    def filters(self):
        return {"failure_reason": failure_reason}
