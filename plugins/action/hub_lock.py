# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take or release a hub's lock: who this run is, and whether a lock found held belongs to a run that is gone,
are known only here, on the controller; the lock file is on the managed host (module blackduck.hub.hub_lock, or -
when that host is this controller - module_utils/_lock.call in this process, the same work)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import getpass
import hashlib
import hmac
import os
import socket

from ansible.utils.display import Display

from ansible_collections.blackduck.hub.plugins.module_utils import _lock as lock
from ansible_collections.blackduck.hub.plugins.module_utils._command import utc_stamp
from ansible_collections.blackduck.hub.plugins.plugin_utils._action import HubAction

display = Display()

ARGUMENT_SPEC = {
    "keys": {"type": "list", "elements": "str", "required": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "dump_dir": {"type": "str"},
    "break_lock": {"type": "bool", "default": False},
    "lock_dir": {"type": "path"},
}


def _first_line(*paths):
    for path in paths:
        try:
            with open(path) as f:
                found = f.read().strip()
        except (IOError, OSError):
            continue
        if found:
            return found
    return ""


def _boot_id():
    return _first_line("/proc/sys/kernel/random/boot_id")


def _machine_id():
    """This machine's id (systemd's, or D-Bus's) as a keyed hash of it - the id itself is confidential (machine-id(5)),
    and the lock file, the task's result and a refusal show this: two machines of one host name (cloned VMs that got
    ids of their own) tell apart by it. '' where it cannot be read."""
    found = _first_line("/etc/machine-id", "/var/lib/dbus/machine-id")
    if not found:
        return ""
    return hmac.new(b"blackduck.hub lock", found.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _pid_ns():
    """The PID namespace this run's processes are in ('pid:[4026531836]' on a host): a container of its own has
    another, and its processes cannot be seen from here (nor ours from there)."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except (IOError, OSError):
        return ""


def process_start(pid):
    """The start time of a process (clock ticks since boot, from /proc), '' where it cannot be read."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (IOError, OSError, IndexError, ValueError):
        return ""


def this_run(host=""):
    """This ansible-playbook run for one inventory host: the controller (host name and boot), the process that runs
    the play (the parent of this worker) and its start time, so that a pid reused later is not taken for it, and the
    inventory host (two hosts of one run naming the same hub are two holders, never one)."""
    pid = os.getppid()
    controller, boot_id, pid_ns, pid_start = socket.gethostname(), _boot_id(), _pid_ns(), process_start(pid)
    return {"run": "%s/%s/%s/%d/%s%s" % (controller, boot_id, pid_ns, pid, pid_start, "/" + host if host else ""),
            "controller": controller, "host": host, "machine_id": _machine_id(), "pid_ns": pid_ns,
            "boot_id": boot_id, "pid": pid, "pid_start": pid_start, "user": getpass.getuser(),
            "started": utc_stamp(),
            "awx_job": os.environ.get("JOB_ID") or os.environ.get("AWX_JOB_ID") or ""}


def judge(holder):
    """Whether the run that holds a lock is known to have ended ('gone'), is seen running ('runs'), or cannot be judged
    from here ('unknown'), and why. Gone: it ran on this controller (its host name, its machine id where both are
    known, and its PID namespace: not another container of the same host name), since its last boot, and its process
    is no longer there (or is another process with the same pid). Runs: the same, and its process is there, with its
    start time. Unknown: another controller, or a run this one cannot see. A lock written before the machine id and
    the namespace were recorded is judged by the rest."""
    if not holder or holder.get("controller") != socket.gethostname():
        return "unknown", "it runs on another controller (%s)" % (holder or {}).get("controller", "?")
    machine_id = _machine_id()
    if holder.get("machine_id") and machine_id and holder["machine_id"] != machine_id:
        return "unknown", "it runs on another machine of the same host name %s (machine id hash %s)" % (
            holder["controller"], holder["machine_id"])
    if holder.get("pid_ns") and holder["pid_ns"] != _pid_ns():
        return "unknown", ("it runs in another PID namespace (%s: another container of the same host name %s), "
                           "whose processes cannot be seen from here" % (holder["pid_ns"], holder["controller"]))
    if holder.get("boot_id") and holder["boot_id"] != _boot_id():
        return "gone", "this controller has restarted since"
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return "unknown", "it names no process"
    try:
        os.kill(pid, 0)  # signal 0: only whether the process is there (seen or not in /proc: hidepid, no /proc)
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return "gone", "its process %d is gone" % pid
        if exc.errno != errno.EPERM:  # EPERM: there, another user's
            return "unknown", "whether its process %d runs cannot be told here (%s)" % (pid, exc)
    if holder.get("pid_start"):
        start = process_start(pid)
        if not start:
            return "unknown", ("its process %d is there, but its start time cannot be read here (another user's "
                               "processes hidden), so it may be another process with that pid" % pid)
        if start != holder["pid_start"]:
            return "gone", "its process %d is gone (the pid is another process's now)" % pid
    return "runs", "its process %d still runs" % pid


def same_run_other_host(holder, me):
    """Whether a lock is held by this very ansible-playbook run for another of its inventory hosts: the inventory
    names one hub twice."""
    keys = ("controller", "machine_id", "boot_id", "pid_ns", "pid", "pid_start")
    return bool(holder) and all(holder.get(k) == me.get(k) for k in keys) and holder.get("host") != me.get("host")


def describe(holder):
    h = holder or {}
    return "a run by %s on %s (pid %s%s), started %s, dump folder %s" % (
        h.get("user", "?"), h.get("controller", "?"),
        h.get("pid", "?"), ", AWX job %s" % h["awx_job"] if h.get("awx_job") else "", h.get("started", "?"),
        h.get("dump_dir") or "?")


def judged(locks):
    """Check mode's locks (looked at, not taken) with what a real run would make of each held by another run: its
    judge() as ``judged`` ('gone', 'runs' or 'unknown') and ``why`` - the plan says whether a real run would take it
    over or refuse."""
    return [dict(entry, **dict(zip(("judged", "why"), judge(entry.get("holder")))))
            if entry.get("status") == "busy" else entry for entry in locks]


class ActionModule(HubAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def _lock(self, module_args, task_vars):
        """The module's work on the managed host - in this process when the managed host is this controller, reached
        as this process's own user (runs_here: no Python process of its own), else by the module."""
        return self.here_or_module(
            "blackduck.hub.hub_lock", module_args, task_vars,
            lambda: lock.call(module_args["keys"], module_args["state"], module_args["holder"],
                              module_args.get("take_over"), module_args.get("lock_dir") or lock.LOCK_DIR,
                              bool(self._task.check_mode)), lock.LockError)

    def run(self, tmp=None, task_vars=None):
        result, args = self.begin(tmp, task_vars)
        holder = dict(this_run(task_vars.get("inventory_hostname", "")), dump_dir=args.get("dump_dir") or "")
        module_args = {"keys": args["keys"], "state": args["state"], "holder": holder}
        if args.get("lock_dir"):
            module_args["lock_dir"] = args["lock_dir"]
        res = self._lock(module_args, task_vars)
        if self._task.check_mode and not res.get("failed"):
            res["locks"] = judged(res.get("locks") or [])
        if res.get("failed") or not res.get("busy"):
            result.update(res, run=holder)
            return result
        take_over, reasons = {}, {}
        for dummy in args["keys"]:  # each held key found in turn (the module stops at the first busy one)
            busy = [entry for entry in res["locks"] if entry["status"] == "busy"][-1]
            if same_run_other_host(busy["holder"], holder):
                result.update(res, run=holder, failed=True, msg=(
                    "the inventory names this hub twice: its host %s in this same run migrates it already (lock %s, "
                    "for %s). List each hub once in the inventory; nothing was done for %s." % (
                        busy["holder"].get("host") or "?", busy["path"], busy["key"], holder["host"] or "this host")))
                return result
            state, why = judge(busy["holder"])
            is_gone = state == "gone"
            if state == "runs":  # with hub_break_lock or without: wait for it, or stop it
                result.update(res, run=holder, failed=True, msg=(
                    "another run is migrating this hub: %s (lock %s on %s, for %s), and its process %s still runs on "
                    "this controller: hub_break_lock does not take over a run seen running. Wait for it to end, or "
                    "stop that process and run again. Nothing was done." % (
                        describe(busy["holder"]), busy["path"], task_vars.get("inventory_hostname", "the hub's host"),
                        busy["key"], busy["holder"].get("pid"))))
                return result
            if not (is_gone or args["break_lock"]):
                result.update(res, run=holder, failed=True, msg=(
                    "another run is migrating this hub: %s (lock %s on %s, for %s). It may still run: %s. Wait for it "
                    "to end; if it no longer runs, run again with hub_break_lock=true. Nothing was done." % (
                        describe(busy["holder"]), busy["path"], task_vars.get("inventory_hostname", "the hub's host"),
                        busy["key"], why)))
                return result
            if take_over.get(busy["key"]) == busy["holder"].get("run"):
                break  # the same holder again: another run got in between
            take_over[busy["key"]] = busy["holder"].get("run")
            reasons[busy["key"]] = why if is_gone else "hub_break_lock is true"
            module_args["take_over"] = take_over
            res = self._lock(module_args, task_vars)
            if res.get("failed") or not res.get("busy"):
                break
        if res.get("busy"):
            result.update(res, run=holder, failed=True, msg="another run took the lock of this hub first: %s. "
                                                            "Nothing was done: run again once that run has ended." % describe(res["locks"][-1]["holder"]))
            return result
        for entry in res.get("locks", []):
            if entry["status"] == "taken_over":
                entry["why"] = reasons.get(entry["key"], "")
                display.warning("took over the lock of %s from a run that is gone (%s): %s" % (
                    entry["key"], entry["why"], describe(entry["holder"])))
        result.update(res, run=holder)
        return result
