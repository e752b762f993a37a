# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a db_dump or db_restore started with async, and print its progress lines on the controller."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.utils.display import Display

from ansible_collections.blackduck.hub.plugins.module_utils._progress import describe, poll_delay
from ansible_collections.blackduck.hub.plugins.plugin_utils._action import HubAction

display = Display()


def why_failed(status):
    """The words of a job that failed without a msg: the exception it died of (its last line: the error itself),
    else what it wrote - never an empty reason."""
    exc = status.get("exception")
    if isinstance(exc, dict):
        exc = exc.get("msg") or exc.get("message") or json.dumps(exc, sort_keys=True, default=str)
    lines = [ln for ln in to_text(exc or "").splitlines() if ln.strip()]
    if lines:
        return "it died of an error it did not handle: %s" % lines[-1].strip()
    for key in ("stderr", "module_stderr", "stdout", "module_stdout"):
        if to_text(status.get(key) or "").strip():
            return to_text(status[key]).strip()
    return "it ended without a word (no result, nothing on stdout or stderr)"


def read_local(path):
    """The JSON file at path on this machine (a job's status file, a progress file), read, or None."""
    try:
        with open(path) as f:
            return json.load(f)
    except (IOError, OSError, ValueError):
        return None


def still_running(path):
    """True when the job file at path, on this machine, says that the job still runs; None when it cannot tell (no
    file yet, one this user may not read, or a finished job's result, which async_status must read and decode)."""
    data = read_local(path)
    if isinstance(data, dict) and data.get("started") and not data.get("finished"):
        return True
    return None


# what async_status adds to a finished job's result, not part of the module's own result
ASYNC_KEYS = ("ansible_job_id", "started", "finished", "results_file", "erased", "stdout", "stderr", "stdout_lines",
              "stderr_lines", "_ansible_suppress_tmpdir_delete")

ARGUMENT_SPEC = {
    "job": {"type": "dict", "required": True},
    "progress_file": {"type": "path"},
    "interval": {"type": "float", "default": 10.0},
    "timeout": {"type": "float"},
    "label": {"type": "str"},
}


class ActionModule(HubAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run(self, tmp=None, task_vars=None):
        result, args = self.begin(tmp, task_vars)
        job = args["job"]
        jid = job.get("ansible_job_id")
        if not jid:
            # the task ran synchronously (check mode, or async off): its result is already final
            result.update(dict((k, v) for k, v in job.items() if k not in ASYNC_KEYS))
            return result
        if job.get("failed"):
            result.update(job, failed=True, msg=job.get("msg") or "the job did not start")
            return result
        if args["interval"] <= 0:
            raise AnsibleActionFail("interval must be more than 0 seconds (it is %s)" % args["interval"])

        host = (task_vars or {}).get("inventory_hostname", "?")
        label = args.get("label") or "job %s" % jid
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        started = last_line = time.monotonic()
        shown = None
        # with the local connection the job's files are this machine's: a job still running is seen by reading its
        # file, without a module (async_status, slurp: a Python process each); its result is read by async_status
        local = self.is_local()
        display.display("[%s] %s: started (job %s), progress every %ds" % (host, label, jid, int(args["interval"])))
        ended = False  # only an ended job's status file is removed: one still running stays askable (async_status)
        try:
            while True:
                if local and still_running(os.path.join(async_dir, jid)):
                    status = {"started": True, "finished": False}
                else:
                    status = self._execute_module(module_name="ansible.legacy.async_status", task_vars=task_vars,
                                                  module_args={"jid": jid, "mode": "status", "_async_dir": async_dir})
                if status.get("finished"):
                    ended = True
                    break
                if status.get("failed") and not status.get("started"):
                    # async_status itself failed (its module, its interpreter): nothing is known of the job
                    raise AnsibleActionFail("%s: its status could not be read (%s): it may still run on %s (job %s; "
                                            "see ansible.builtin.async_status). Nothing was removed."
                                            % (label, status.get("msg") or why_failed(status), host, jid))
                now = time.monotonic()
                elapsed = now - started
                if args.get("timeout") and elapsed > args["timeout"]:
                    raise AnsibleActionFail("%s did not end within %ds: it may still run on %s (job %s; see "
                                            "ansible.builtin.async_status). Nothing was removed."
                                            % (label, int(args["timeout"]), host, jid))
                if now - last_line >= args["interval"]:
                    line = self._progress_line(args.get("progress_file"), task_vars, local)
                    if line is None or line == shown:
                        line = "still running, %ds" % int(elapsed)
                    else:
                        shown = line
                    display.display("[%s] %s: %s" % (host, label, line))
                    last_line = now
                time.sleep(poll_delay(elapsed, args["interval"]))
        finally:
            if ended:
                self._execute_module(module_name="ansible.legacy.async_status", task_vars=task_vars,
                                     module_args={"jid": jid, "mode": "cleanup", "_async_dir": async_dir})
            self._remove_tmp_path(self._connection._shell.tmpdir)

        final = dict((k, v) for k, v in status.items() if k not in ASYNC_KEYS)
        if final.get("failed") and not final.get("msg"):
            final["msg"] = "%s failed: %s" % (label, why_failed(status))
        display.display("[%s] %s: %s after %ds" % (host, label, "failed" if final.get("failed") else "done",
                                                   int(time.monotonic() - started)))
        result.update(final)
        return result

    def _progress_line(self, path, task_vars, local=False):
        """describe() of the progress file on the managed host, or None if there is none (yet, or any more)."""
        if not path:
            return None
        state = read_local(path) if local else None
        if isinstance(state, dict):
            return describe(state)
        res = self._execute_module(module_name="ansible.legacy.slurp", module_args={"src": path}, task_vars=task_vars)
        if res.get("failed") or "content" not in res:
            return None
        try:
            return describe(json.loads(base64.b64decode(res["content"])))
        except ValueError:  # caught between two writes cannot happen (atomic rename); a foreign file can
            return None
