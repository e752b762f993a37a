# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reason a task failed, in words, whatever the task was: never an empty string; and a tool's error with the
values it quotes hidden."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.blackduck.hub.plugins.module_utils._command import hide_values


def _last_lines(text, n=5):
    lines = [ln.strip() for ln in hide_values(text or "").strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def _ran_out(result, msg):
    """Whether the result is a wait's whose condition never held: blackduck.hub.hub_wait's (wait_timed_out), or an
    until/retries loop's, which Ansible fails without a message, with ``attempts`` and the command's own success."""
    return result.get("wait_timed_out") is True or (
        bool(result.get("attempts")) and not msg and result.get("rc") in (None, 0) and not result.get("results"))


def _out_of_time(result, task, timeout):
    """A wait that ran out, in words: which task (its name, as docs/troubleshooting.md lists it), the setting that
    bounds it, and its last output (hub_wait's on pods: a line per pod) unless that is a JSON document's tail (an
    until loop over kubectl get -o json)."""
    name = str(task.get("name") or "").strip() if isinstance(task, dict) else ""
    said = "timed out: %s" % (("'%s' gave up" % name) if name else "a wait gave up")
    waited = str(result.get("msg") or "").strip() or "its retries ran out"  # hub_wait says how long, how often
    said += (" (%s: raise it if it was only slow)" % timeout) if timeout else " (%s)" % waited
    out = "" if result.get("_ansible_no_log") else _last_lines(result.get("stdout"), 3)
    if out and not out.startswith(("{", "[")) and not out.endswith(("}", "]")):
        said += "; its last output: %s" % out
    err = "" if result.get("_ansible_no_log") else _last_lines(result.get("stderr"), 2)
    if err and result.get("rc") not in (None, 0):  # hub_wait's last check failed (a hiccup, or a hung command)
        said += "; its last check failed: %s" % err
    return said


def failure_reason(result, task=None, timeout=""):
    """_reason with what a container tool quotes of a file's values, and password literals, hidden (hide_values): the
    reason goes to the state file, the reports, the log and the host's journal."""
    return hide_values(_reason(result, task, timeout))


def _reason(result, task=None, timeout=""):
    """Why a task failed: its msg, else the last lines of its stderr, else its exit code; a loop's failed items. A
    wait that ran out of retries (``task``: the failed task, ansible_failed_task; ``timeout``: the setting that bounds
    it) is said to have timed out, with its name. A result of a no_log task gives its msg and exit code only, never its
    output: ansible_failed_result is not censored, and the reason goes to the state file, the reports and the log."""
    if not isinstance(result, dict):
        return str(result).strip() or "failed, without a message"
    parts = []
    msg = str(result.get("msg") or "").strip()
    if _ran_out(result, msg):
        return _out_of_time(result, task, timeout)
    if msg and not msg.startswith("One or more items failed"):
        parts.append(msg)
    for item in result.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            parts.append(_reason(item))
    hidden = bool(result.get("_ansible_no_log"))
    stderr = "" if hidden else _last_lines(result.get("stderr"))
    # a tool's own words when the task only said that it failed (a command's "non-zero return code")
    if stderr and stderr not in msg and (not msg or msg == "non-zero return code"):
        parts.append("stderr: %s" % stderr)
    if not parts:
        stdout = "" if hidden else _last_lines(result.get("stdout"))
        if stdout:
            parts.append("output: %s" % stdout)
        elif hidden and (result.get("stderr") or result.get("stdout")):
            parts.append("its output is hidden (no_log: it may hold a password)")
    if result.get("rc") not in (None, 0) and not any("exit" in p for p in parts):
        parts.append("exit code %s" % result["rc"])
    return "; ".join(parts) or "failed, without a message (run again with -v to see the task's result)"


class FilterModule(object):
    def filters(self):
        return {"failure_reason": failure_reason, "hide_values": hide_values}
