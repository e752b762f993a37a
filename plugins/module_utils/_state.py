# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-hub migration state file: which of the eleven steps are done, when, and what they returned.

A JSON file (mode 0600) written atomically. A rerun reads it to resume at the first step not done and never
repeat a completed destructive step. Pure functions plus load/save; the module migration_state is a thin shell.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import os
import time

from ansible_collections.blackduck.hub.plugins.module_utils._command import write_json_atomic

FORMAT = "blackduck.hub/migration-state"
STEPS = (
    (1, "disk_space", "check disk space"),
    (2, "stop_hub", "bring the Hub down"),
    (3, "start_old_migration", "start the old version in migration mode"),
    (4, "dump", "dump the databases and roles"),
    (5, "stop_old_migration", "bring the old migration containers down"),
    (6, "start_new_migration", "start the new version in migration mode"),
    (7, "restore", "restore and verify exactly"),
    (8, "stop_new_migration", "bring the new migration containers down"),
    (9, "start_hub", "start the new Hub"),
    (10, "verify", "verify the running new Hub"),
    (11, "remove_old_data", "remove the old data"),
)
STEP_NAMES = dict((n, name) for n, name, dummy in STEPS)
STEP_NUMBERS = dict((name, n) for n, name, dummy in STEPS)


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_state(hub):
    return {"format": FORMAT, "hub": hub, "created": now(), "steps": {}, "status": "pending"}


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        state = json.load(f)
    if state.get("format") != FORMAT:
        raise ValueError("%s is not a blackduck.hub migration state file" % path)
    return state


def save(path, state):
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    write_json_atomic(path, state)


def step_key(step):
    """'4' or 4 or 'dump' -> 'dump'."""
    if isinstance(step, int) or str(step).isdigit():
        n = int(step)
        if n not in STEP_NAMES:
            raise ValueError("step %s: the steps are 1 to 11" % step)
        return STEP_NAMES[n]
    if step not in STEP_NUMBERS:
        raise ValueError("step %r: one of %s" % (step, ", ".join(STEP_NUMBERS)))
    return step


def done(state, step):
    return bool(state and state.get("steps", {}).get(step_key(step), {}).get("status") == "done")


def apply(state, step, status, data=None, message=None):
    """Record a step's start, completion or failure; returns the new state (the input is not modified)."""
    state = json.loads(json.dumps(state))
    key = step_key(step)
    entry = dict(state["steps"].get(key, {}))
    entry["number"] = STEP_NUMBERS[key]
    entry["status"] = status
    stamp = now()
    if status == "started":
        entry["started"] = stamp
        entry.pop("finished", None)
        entry.pop("message", None)
    else:
        entry["finished"] = stamp
        if entry.get("started"):
            t0 = calendar.timegm(time.strptime(entry["started"], "%Y-%m-%dT%H:%M:%SZ"))
            t1 = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
            entry["seconds"] = int(t1 - t0)
    if data:
        entry.setdefault("data", {}).update(data)
    if message:
        entry["message"] = message
    state["steps"][key] = entry
    state["updated"] = stamp
    finished = [k for k, v in state["steps"].items() if v.get("status") == "done"]
    state["last_done"] = max([STEP_NUMBERS[k] for k in finished] or [0])
    if status == "failed":
        state["status"] = "failed"
        state["failed_step"] = STEP_NUMBERS[key]
    elif status == "done":
        state["status"] = "in progress"
        state.pop("failed_step", None) if state.get("failed_step") == STEP_NUMBERS[key] else None
    return state


def next_step(state):
    for n, name, dummy in STEPS:
        if not done(state, name):
            return n
    return None
