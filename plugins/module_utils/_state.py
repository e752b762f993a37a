# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-hub migration state file: which of the eleven steps are done, when, and what they returned.

A JSON file (mode 0600) written atomically. A rerun reads it to resume at the first step not done and never
repeat a completed destructive step. Pure functions plus load/save; the module migration_state is a thin shell.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible_collections.blackduck.hub.plugins.module_utils import _manifest as manifest
from ansible_collections.blackduck.hub.plugins.module_utils import _report as report
from ansible_collections.blackduck.hub.plugins.module_utils._command import (
    epoch, log_line, read_json_of_format, utc_stamp, write_json_atomic)

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

# When each step runs, and where. A step runs while none of the steps in ``until`` is done (a step that only
# re-establishes what the next one needs - the old database for the dump, the new one for the restore - runs again
# until that next step is done), once every step in ``after`` is done, and when its ``option`` (a setting of the
# upgrade role) is true. ``side``: which version's orchestration runs it (old: hub_orchestration, new:
# hub_new_orchestration), None for the data steps. ``entry``: the orchestration contract's entry point that is all of
# the step's work (the role runs it on the step's side: steps/orchestrate.yml), None where the step has a task file
# of its own (steps/<name>.yml). ``destructive``: what cannot be undone by running again. ``goes_back``: whether a
# failure of the step brings the old version back (hub_rollback_on_failure): the steps between the Hub going down and
# the old data deleted, the two destructive steps on the old side, which run with the old Hub down and its data whole.
# ``timeout``: the upgrade role's setting that bounds the step's waits (named when one runs out), None where the
# step's waits have none of their own or several.
RULES = {
    "disk_space": {"until": ["disk_space", "dump"]},
    "stop_hub": {"side": "old", "destructive": "the Hub goes down", "timeout": "hub_stop_timeout"},
    "start_old_migration": {"until": ["dump"], "side": "old", "entry": "start_migration",
                            "timeout": "hub_migration_timeout"},
    "dump": {},
    # the steps after the dump stand on it: a run that skips step 4 (--tags step6, --skip-tags dump) must not start
    # the new database (on Kubernetes on the old one's hostPath, the old data moved aside) nor restore; and step 8
    # stands on the restore, or it would be recorded done with the new database left to run at step 9
    "stop_old_migration": {"after": ["dump"], "side": "old", "entry": "stop_migration", "timeout": "hub_stop_timeout"},
    "start_new_migration": {"until": ["restore"], "after": ["dump"], "side": "new", "entry": "start_migration",
                            "timeout": "hub_migration_timeout"},
    "restore": {"after": ["dump"], "destructive": "the new database is filled"},
    "stop_new_migration": {"after": ["restore"], "side": "new", "entry": "stop_migration", "timeout": "hub_stop_timeout"},
    "start_hub": {"after": ["restore"], "side": "new", "entry": "start", "timeout": "hub_start_timeout"},
    "verify": {"after": ["start_hub"]},
    "remove_old_data": {"after": ["verify"], "option": "hub_remove_old_data", "side": "old",
                        "destructive": "the old data is deleted"},
}


def step_table():
    """The eleven steps, each a dict: number, name, title, until, after, option, side, entry, destructive, goes_back,
    timeout, tags."""
    down, deleted = STEP_NUMBERS["stop_hub"], STEP_NUMBERS["remove_old_data"]
    out = []
    for n, name, title in STEPS:
        rule = RULES.get(name, {})
        out.append({"number": n, "name": name, "title": title, "until": list(rule.get("until", [name])),
                    "after": list(rule.get("after", [])), "option": rule.get("option"), "side": rule.get("side"),
                    "entry": rule.get("entry"), "destructive": rule.get("destructive"), "goes_back": down < n < deleted,
                    "timeout": rule.get("timeout"), "tags": ["step%d" % n, name]})
    return out


def why_not_back(step, ran_here, failure=None, state_before=None, state_now=None):
    """Why a failure of ``step`` (a row of step_table() whose ``goes_back`` is true) does not bring the old version
    back now, or '' when it does. Going back would lose what the new database holds when that may have served:
    after the new Hub started (step 10) in an earlier run (``ran_here``: the names of the steps this run began); at
    step 9 or 10 when an earlier run began step 9 and did not end it (``state_before``, the state as this run found
    it: step 9 started or failed - that run was killed during the new Hub's start, or failed there without going
    back, and the Hub may have come up and served since); or when the restore refused because the new database holds
    Hub data that did not come from this run's dump (``failure``, the failed task's result: db_restore's
    target_holds_other_data; or an earlier run's, still recorded in ``state_now``, the state with this failure
    recorded: other_data()) - another run's migration, whose Hub may have served, perhaps stopped now."""
    if (failure or {}).get("target_holds_other_data") or other_data(state_now):  # now, or in an earlier run
        return ("the new database holds Hub data that did not come from this run's dump (another run migrated this hub: "
                "its restore marker), and going back would start the old Hub on older data beside it")
    if step["number"] < STEP_NUMBERS["start_hub"]:
        return ""
    earlier = ((state_before or {}).get("steps") or {}).get("start_hub") or {}
    if earlier.get("status") in ("started", "failed"):
        return ("an earlier run began step 9 (the new Hub's start, on %s) and left it %s: the new Hub may have come up "
                "and served since, and going back would lose what it was given" % (
                    earlier.get("started") or "?", earlier["status"]))
    if step["number"] > STEP_NUMBERS["start_hub"] and "start_hub" not in (ran_here or ()):
        return ("the new Hub started in an earlier run and may have served since, and going back would lose what it "
                "was given")
    return ""


def goes_back_now(step, ran_here, failure=None, state_before=None, state_now=None):
    """Whether a failure of ``step`` brings the old version back now: its ``goes_back`` (the steps between the Hub
    going down and the old data deleted), unless why_not_back() has a reason."""
    return bool(step.get("goes_back")) and not why_not_back(step, ran_here, failure, state_before, state_now)


def due(step, state, options=None, run_tags=("all",), skip_tags=()):
    """Whether a step of step_table() runs now: not done (by its rule), its prerequisites done, its option on, and
    chosen by the run's tags (--tags step4 or --tags dump; 'all' without --tags). No step while a rollback has not
    ended (rollback_unfinished)."""
    if rollback_unfinished(state):
        return False
    if any(done(state, s) for s in step["until"]):
        return False
    if not all(done(state, s) for s in step["after"]):
        return False
    if step.get("option") and not (options or {}).get(step["option"]):
        return False
    tags = set(step["tags"]) | {"always"}
    if tags & set(skip_tags or ()):
        return False
    run = set(run_tags or ("all",))
    return "all" in run or bool(tags & run)


def now():
    return utc_stamp()


def new_state(hub):
    return {"format": FORMAT, "hub": hub, "created": now(), "steps": {}, "status": "pending"}


def load(path):
    return read_json_of_format(path, FORMAT, "%s is not a blackduck.hub migration state file")


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
        entry.get("data", {}).pop("services", None)  # what ran when it last failed
    else:
        entry["finished"] = stamp
        if status == "done":
            entry.get("data", {}).pop("other_data", None)  # the refusal other_data() reads: past, once done
        if entry.get("started"):
            entry["seconds"] = int(epoch(stamp) - epoch(entry["started"]))
    if data:
        if data.get("other_data"):  # a refusal found now (other_data() names when)
            data = dict(data, other_data=dict(data["other_data"], found=stamp))
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


def attempt_dump_id(state):
    """The dump id of the current attempt (its dump, or its restore), or None."""
    steps = (state or {}).get("steps", {})
    for step in ("dump", "restore"):
        dump_id = steps.get(step, {}).get("data", {}).get("dump_id")
        if dump_id:
            return dump_id
    return None


def archived_dump_id(folder):
    """The dump id of the manifest in an attempt's dump folder (as moved aside), or None. A stream's record is written
    before its first database streams, so an attempt that stopped mid-stream - no dump_id in its step records - has
    one: the new database's restore markers name it."""
    try:
        return ((manifest.load(folder) if folder else None) or {}).get("dump_id")
    except (IOError, OSError, ValueError):
        return None


def rolled_back_dumps(state):
    """The dump ids of the attempts rolled back: the new database may hold their data, which a new attempt replaces."""
    return [a["dump_id"] for a in (state or {}).get("attempts", []) if a.get("dump_id")]


def log_text(step, status, message=None, data=None):
    """A record as one line of the run's log: 'step 4 dump FAILED: why | the hub: [...]' (data's services), or
    'rollback DONE' for a step None."""
    key = step_key(step) if step else None
    text = ("step %d %s %s" % (STEP_NUMBERS[key], key, status.upper())) if key else "rollback " + status.upper()
    if message:
        text += ": " + message
    if (data or {}).get("services") is not None:
        text += " | the hub: " + json.dumps(data["services"], sort_keys=True)
    return text


def _stream_begun(state, dump_dir):
    """The dump id of the stream record in dump_dir when this attempt's step 4 began (a stream that stopped before it
    was recorded), else None: a complete dump's manifest there is not evidence enough (a lost state file)."""
    if not dump_dir or "dump" not in ((state or {}).get("steps") or {}):
        return None
    try:
        record = manifest.load(dump_dir)
    except (IOError, OSError, ValueError):
        return None
    return record.get("dump_id") if manifest.streamed(record) else None


def other_run(marker, state, dump_dir=None):
    """Whether another run migrated this hub: ``marker`` is the restore marker the new database holds (db_verify's
    ``restore_markers.bds_hub``). None when there is none, or it is this hub's own (this attempt's dump, or a
    rolled-back attempt's; or the stream record in this attempt's ``dump_dir`` once its step 4 began: a stream that
    stopped before step 4 was recorded leaves complete markers of the databases it finished); else what that run did, from its state
    file beside its dump folder: {message, finished} (finished: it started the new Hub and verified it - step 10 done;
    else it must be run again with its own inventory, which resumes it)."""
    marker = marker or {}
    dump_id = marker.get("dump_id") or ""
    own = attempt_dump_id(state) or _stream_begun(state, dump_dir) or ""
    if not marker.get("complete") or not marker.get("dump_dir") or dump_id == own or dump_id in rolled_back_dumps(state):
        return None
    folder = os.path.dirname(marker["dump_dir"].rstrip("/"))
    try:
        theirs = load(os.path.join(folder, "state.json"))
    except (ValueError, IOError, OSError):
        theirs = None
    steps = [name for dummy, name, dummy2 in STEPS if theirs and done(theirs, name)]
    finished = "verify" in steps  # the new Hub started and verified (step 10): started alone is not finished
    what = (", verified and started (its state: steps %s)" % ", ".join(steps) if finished else
            ", which has not finished (its state: steps done %s): run that inventory again (hub_dump_dir %s) to "
            "finish it" % (", ".join(steps) or "unknown", folder))
    return {"finished": finished,
            "message": "this hub was migrated by another run (dump %s restored %s, dump folder %s)%s. This run changes "
                       "nothing." % (dump_id, marker.get("restored") or "?", marker["dump_dir"], what)}


def other_data(state):
    """Whether a step of this attempt failed on another run's migration in the new database, and has not been done
    since: {dump_id, message} (that run's restore marker, as the main role's rescue recorded it from db_restore's
    other_restore), or None. Going back with this run's inventory would start the old Hub beside that migration - on
    older data - while the database holding it may be down now, or its restore incomplete (setup's other_run() sees
    only a complete marker in a database that answers)."""
    for n, name, dummy in STEPS:
        entry = ((state or {}).get("steps") or {}).get(name) or {}
        marker = (entry.get("data") or {}).get("other_data")
        if marker and entry.get("status") != "done":
            dump_id = marker.get("dump_id") or "?"
            return {"dump_id": dump_id, "message": (
                "step %d (%s) of this run found, on %s, that the new database holds another run's migration (dump %s%s%s"
                "): going back with this run's inventory would start the old Hub beside it, on older data. Go back with "
                "that run's inventory (its hub_dump_dir), not this one; if that run's Hub never served and going back "
                "is wanted all the same, set hub_rollback_beside_dump: %s." % (
                    n, name, marker.get("found") or "?", dump_id,
                    ", restored %s" % marker["restored"] if marker.get("restored") else "",
                    ", dump folder %s" % marker["dump_dir"] if marker.get("dump_dir") else "", dump_id))}
    return None


def going_back(state):
    """Whether the old Hub can be brought back, and why: (possible, reason).

    possible: True (the Hub was taken down and the old data is untouched), False (step 11 removed the old data) or
    None (nothing to go back from: this attempt never took the Hub down)."""
    steps = (state or {}).get("steps", {})
    kept = steps.get("remove_old_data", {}).get("data", {}).get("old_data_kept")  # an old external server: untouched
    if not kept and (done(state, "remove_old_data") or steps.get("remove_old_data", {}).get("status") in ("started", "failed")):
        when = steps["remove_old_data"].get("finished") or steps["remove_old_data"].get("started") or "?"
        return False, "step 11 removed the old data (%s): there is no old Hub to go back to" % when
    if "stop_hub" not in steps:
        rolled = (state or {}).get("rollback", {})
        if rolled.get("status") == "done":
            return None, "rolled back on %s: the old Hub serves on its old data" % rolled.get("finished", "?")
        return None, "this run's upgrade never took the Hub down: the old Hub was not touched"
    return True, "the old data is untouched: the old version can start on it again"


def rollback_unfinished(state):
    """Why no upgrade step may run, or None: a rollback began and did not end (it failed, or was stopped midway). The
    old Hub may serve, and write, again, while the attempt's step records still say where the upgrade was: resuming
    would start the new Hub on a dump the old Hub has moved past, and step 11 would delete the data it runs on."""
    rolled = (state or {}).get("rollback") or {}
    if rolled.get("status") not in ("started", "failed"):
        return None
    return ("going back to the old version began %s and %s%s. The old Hub may serve (and write) again, so this "
            "attempt's dump and new data are no longer what it holds: run blackduck.hub.rollback_hub again until it "
            "ends (it is safe to repeat; the old data is untouched). The next upgrade run then starts at step 1 with a "
            "new dump" % (rolled.get("started") or "?", "failed" if rolled["status"] == "failed" else "did not end",
                          (" (" + rolled["message"].rstrip(".") + ")") if rolled.get("message") else ""))


class OtherHubsState(ValueError):
    pass


def check_hub(state, hub, path):
    """Refuse a state file of another hub (OtherHubsState): two hubs sharing a hub_dump_dir would take each other's steps
    for their own - and step 11 would delete data that was never migrated."""
    if hub and state and state.get("hub") and state["hub"] != hub:
        raise OtherHubsState("%s is the state of hub %s, not %s: each hub needs a hub_dump_dir of its own. Give this hub "
                             "its own hub_dump_dir (or, if it is the same hub renamed, set hub_name to %s). "
                             "Nothing was changed" % (path, state["hub"], hub, state["hub"]))
    return state


def old_hub_wanted(state):
    """Whether the old Hub is to serve: the way back is open now, or this hub was rolled back already (going back
    then only starts it where it does not answer)."""
    return going_back(state)[0] is True or (state or {}).get("rollback", {}).get("status") == "done"


def rollback(state, status, message=None, archived_dump=None, old_version=None):
    """Record a rollback (started, done, failed); returns the new state (the input is not modified).

    done: the attempt's step records move to ``attempts`` (with its dump id, its dump folder as moved aside, and
    when), so the next upgrade run starts at step 1 with a new dump of the old Hub, which has served since."""
    state = json.loads(json.dumps(state))
    stamp = now()
    record = dict(state.get("rollback", {})) if status != "started" else {}
    record["status"] = status
    if status == "started":
        record["started"] = stamp
        record["from_step"] = state.get("last_done", 0)
        record["failed_step"] = state.get("failed_step")
    else:
        record["finished"] = stamp
        if record.get("started"):
            record["seconds"] = int(epoch(stamp) - epoch(record["started"]))
    if message:
        record["message"] = message
    if old_version:
        record["old_version"] = old_version
    if status == "done":
        attempt = {"steps": state.get("steps", {}), "dump_id": attempt_dump_id(state) or archived_dump_id(archived_dump),
                   "status": state.get("status"),
                   "last_done": state.get("last_done", 0), "rolled_back": stamp}
        if state.get("failed_step"):
            attempt["failed_step"] = state["failed_step"]
        if archived_dump:
            attempt["dump_dir"] = archived_dump
        record["dump_dir"] = archived_dump
        state.setdefault("attempts", []).append(attempt)
        state["steps"] = {}
        state["status"] = "rolled back"
        state["last_done"] = 0
        state.pop("failed_step", None)
    state["rollback"] = record
    state["updated"] = stamp
    return state


def archive_dump(dump_dir):
    """Move an attempt's dump folder aside (never deleted, never overwritten): <dump_dir>-rolled-back-<time>.
    Returns the new path, or None when there is no such folder."""
    dump_dir = dump_dir.rstrip("/")
    if not os.path.isdir(dump_dir):
        return None
    base = "%s-rolled-back-%s" % (dump_dir, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    target, n = base, 1
    while os.path.exists(target):
        n += 1
        target = "%s-%d" % (base, n)
    os.rename(dump_dir, target)
    return target


def next_step(state):
    for n, name, dummy in STEPS:
        if not done(state, name):
            return n
    return None


# What blackduck.hub.migration_state takes - the module (on the managed host) and its action plugin (in the
# controller's own process when the managed host is the controller) validate it from here.
ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    hub=dict(type="str"),
    step=dict(type="str"),
    status=dict(type="str", choices=["started", "done", "failed"]),
    data=dict(type="dict"),
    note=dict(type="str"),
    rollback=dict(type="str", choices=["started", "done", "failed"]),
    archive_dump=dict(type="path"),
    old_version=dict(type="str"),
    restored_by=dict(type="dict"),
    dump_dir=dict(type="path"),
    log_file=dict(type="path"),
    report_dir=dict(type="path"),
    report_facts=dict(type="dict"),
)
ARGUMENT_RULES = dict(required_together=[("step", "status"), ("report_dir", "report_facts")],
                      mutually_exclusive=[("step", "rollback"), ("step", "report_dir"), ("rollback", "report_dir")])


class CallError(Exception):
    """migration_state failed: the message says what to do."""


def call(p, check_mode):
    """What migration_state does with its validated parameters p: read the state file, record a step or a rollback
    (not in check mode: then only what would be recorded is returned), append what was recorded to the run's log.
    Returns the module's result (with ``warnings``, a list); raises CallError."""
    warnings = []
    try:
        state = check_hub(load(p["path"]), p["hub"], p["path"]) or new_state(p["hub"])
        changed = False
        extra = {}
        if p["step"]:
            state = apply(state, p["step"], p["status"], p["data"], p["note"])
            changed = True
            if not check_mode:
                save(p["path"], state)
        if p["rollback"]:
            changed = True
            archived = None
            if p["rollback"] == "done" and p["archive_dump"] and not check_mode:
                archived = archive_dump(p["archive_dump"])
            state = rollback(state, p["rollback"], p["note"], archived, p["old_version"])
            extra["archived_dump"] = archived
            if not check_mode:
                save(p["path"], state)
    except OtherHubsState as exc:
        raise CallError(str(exc))
    except (ValueError, IOError, OSError) as exc:
        raise CallError("migration state %s: %s. Do not delete the file to get past this (it is what makes a rerun "
                        "resume): fix the permission or space; restore a damaged file from report.json's state "
                        "(docs/troubleshooting.md)" % (p["path"], exc))
    if p["log_file"] and changed and not check_mode:
        try:  # the state is what counts; a log that cannot be written is said, not a failure
            log_line(p["log_file"], log_text(p["step"], p["status"] or p["rollback"], p["note"], p["data"]))
        except (IOError, OSError) as exc:
            warnings.append("the run's log %s was not written: %s" % (p["log_file"], exc))
    possible, reason = going_back(state)
    result = dict(
        changed=changed, state=state, next_step=next_step(state),
        going_back=dict(possible=possible, reason=reason, wanted=old_hub_wanted(state)),
        rolled_back_dumps=rolled_back_dumps(state),
        done=[name for n, name, dummy in STEPS if done(state, name)],
        steps=step_table(), other_run=other_run(p["restored_by"], state, p["dump_dir"]), other_data=other_data(state),
        rollback_unfinished=rollback_unfinished(state) or "", warnings=warnings, **extra)
    if p["report_dir"] and not check_mode:  # the run's report, from the state just read
        try:
            result["reports"] = report.write(p["report_dir"], p["hub"] or state.get("hub"), p["report_facts"], result,
                                             p["path"])
        except (IOError, OSError) as exc:  # the state is what counts: the run goes on (its lock is released)
            result["reports"] = []
            warnings.append("the report in %s was not written: %s. The state file is as it was; fix the permission "
                            "or space and run again" % (p["report_dir"], exc))
        result["changed"] = bool(result["reports"])
    return result
