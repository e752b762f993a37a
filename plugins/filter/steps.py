# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a step of the migration runs now (the resume rule, written once in module_utils/_state.py), the
check-mode plan: what each step of the table would do now, in words, and what going back would do."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.blackduck.hub.plugins.module_utils import _state


def step_due(step, state, options=None, run_tags=None, skip_tags=None):
    return _state.due(step, state, options, run_tags or ["all"], skip_tags or [])


def goes_back_now(step, ran_here=None, failure=None, state_before=None, state_now=None):
    return _state.goes_back_now(step, ran_here or [], failure, state_before, state_now)


def why_not_back(step, ran_here=None, failure=None, state_before=None, state_now=None):
    return _state.why_not_back(step, ran_here or [], failure, state_before, state_now)


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


def _drain(run):
    """What step 2 would do about the Hub's jobs (run["jobs_now"]: hub_jobs' result, or a skipped task's)."""
    if int(run.get("drain_timeout") or 0) == 0:
        return "no drain (hub_drain_timeout is 0)"
    jobs_now = run.get("jobs_now") or {}
    if jobs_now.get("jobs") is None:
        return "drain: the jobs cannot be read now (%s)" % (jobs_now.get("msg") or "the Hub is down")
    wait = ", would wait up to %ss for them, then %s" % (
        run["drain_timeout"], "stop them" if run.get("drain_on_timeout") == "stop" else "refuse, the Hub left up")
    return "drain: %s%s" % (jobs_now.get("msg", ""), wait if jobs_now["jobs"] else "")


def _dump_made(state):
    """The format of the dump step 4 made (the restore reads it as it was made, whatever hub_dump_mount says now):
    directory, custom, stream (hub_transfer: stream - no dump: the data is in the new database already), or None
    when there is none yet."""
    dump = ((state.get("state") or {}).get("steps") or {}).get("dump") or {}
    files = [d.get("file") or "" for d in ((dump.get("data") or {}).get("databases") or {}).values()]
    if dump.get("status") != "done" or not files:
        return None
    if (dump.get("data") or {}).get("transfer") == "stream":
        return "stream"
    return "directory" if any(f.endswith(".dir") for f in files) else "custom"


def step_texts(run):
    """Per step name, what it would do now (plan_lines' ``run``)."""
    facts, old, new = run["facts"], run["data"]["old"], run["data"]["new"]
    external, mounts, jobs = run.get("source_external"), run.get("dump_mounts") or {}, run.get("dump_jobs")
    stream = run.get("dump_format") == "stream"  # hub_transfer: stream
    streamed = run.get("dump_made") == "stream" or (stream and not run.get("dump_made"))

    def through(tool, side, inside):
        made = run.get("dump_made")
        if side == "new" and made and made != run.get("dump_format"):  # read as it was made
            if made == "custom":
                return " (the dump was made in the custom format: streamed)"
            if new["kind"] == "server":  # the dump folder is this host's: no mount needed
                return " (the dump was made in the directory format: pg_restore --jobs %s on this host)" % jobs
            return (" (the dump was made in the directory format, which the new database container reads only "
                    "through the mounted dump folder, and hub_dump_mount does not mount it now: set it as when the "
                    "dump was made, or step 7 refuses)")
        if run.get("dump_format") != "directory":
            return " (%s)" % run["dump_transfer"] if side == "old" and run.get("dump_transfer") else ""
        return " (%s --jobs %s%s)" % (tool, jobs, inside if mounts.get(side) else " on this host")

    return {
        "disk_space": (run.get("disk") or {}).get("msg") or "old data not found: nothing to measure",
        "stop_hub": "%s; bring down %s" % (_drain(run), ", ".join(facts.get("running") or []) or "nothing running"),
        "start_old_migration": "nothing to start: the old database is the external server %s" % old.get("name")
        if external else "start %s database containers only%s" % (facts["old_version"], (
            " - apart, as project %s on the old data, so that the new database runs beside them (hub_transfer: "
            "stream)" % run["old_apart_project"]) if run.get("old_apart_project") else ""),
        "dump": "start the new database beside the old one (data: %s), then stream bds_hub, bds_hub_report, bdio and "
                "the roles from the old database straight into it - no dump file, the record of the old side (every "
                "table's rows and checksum) in %s/dump (hub_transfer: stream); traded for the disk: no dump to restore "
                "again, the old data stays the backup until step 11" % (new["label"], run["dump_dir"])
        if stream else "dump bds_hub, bds_hub_report, bdio and the roles into %s/dump%s" % (run["dump_dir"], through(
            "directory format: pg_dump", "old", " inside the old container, the folder mounted there")),
        "stop_old_migration": "nothing to stop (old external server)" if external
        else "bring the old migration containers down%s" % (
            " (project %s)" % run["old_apart_project"] if run.get("old_apart_project") else ""),
        "start_new_migration": "start %s database containers only (data: %s)" % (facts["new_version"], new["label"]),
        "restore": "nothing to restore (step 4 streamed the data): compare every table of the new database exactly "
                   "with the record of the old side" if streamed else "restore the dump%s, then compare every table "
                   "exactly" % through("pg_restore", "new", " inside the new container, the dump folder mounted there"),
        "stop_new_migration": "bring the new migration containers down",
        "start_hub": "start the new Hub %s and wait until healthy" % facts["new_version"],
        "verify": "check the running database against the dump, and ask %s for version %s" % (
            run["url"] + "/api/current-version" if run.get("url") else "the Hub's webserver", facts["new_version"]),
        "remove_old_data": old["remove_hint"] if external else (
            "remove %s once step 10 passed" % old["label"] if run.get("remove_old_data")
            else "keep the old data (hub_remove_old_data is false); remove it later with: " + old["remove_hint"]),
    }


def _lock_line(locks, break_lock):
    """The plan's lock line: free, or held by another run and what a real run would do about it - take it over when
    that run is gone (or, with hub_break_lock, when it cannot be judged from here), else refuse (hub_lock's check
    mode judges each held lock: judged, why)."""
    busy = [entry for entry in locks if entry.get("status") == "busy"]
    if not busy:
        return "free (a real run takes it first: one run per hub)"
    held = "HELD by another run (%s, dump folder %s)" % (
        ", ".join(str((e.get("holder") or {}).get("controller", "?")) for e in busy),
        ", ".join(str((e.get("holder") or {}).get("dump_dir", "?")) for e in busy))
    judged = set(e.get("judged") for e in busy)
    whys = "; ".join(e["why"] for e in busy if e.get("why"))
    if judged == {"gone"}:
        return "%s: a real run takes it over, with a warning - that run is gone (%s)" % (held, whys)
    if break_lock and "runs" not in judged and None not in judged:
        return "%s: a real run takes it over (hub_break_lock is true; %s)" % (held, whys)
    return "%s: a real run would refuse now%s" % (held, " (%s)" % whys if whys else "")


def plan_lines(state, run):
    """The check-mode plan: the hub, its state file, the way back, the lock, a line per step of the table
    (plan_line), what was checked. ``state`` is migration_state's result; ``run`` what the role knows (see
    plan_lines.yml)."""
    facts, done, back = run["facts"], state.get("done") or [], state.get("going_back") or {}
    new_orchestration = run.get("new_orchestration") or facts["orchestration"]
    going_back = ("possible now - blackduck.hub.rollback_hub would bring down what runs and start %s on %s (%s)" % (
        facts["old_version"], run["data"]["old"]["label"], back.get("reason")) if back.get("possible")
        else back.get("reason"))
    refused = (state.get("other_data") or {}).get("message")  # this attempt's restore found another run's migration
    if refused:
        going_back = "refused with this inventory - " + refused
    elif run.get("rollback_on_failure") and back.get("possible") is not False:
        start_hub = [s for s in state["steps"] if s["name"] == "start_hub"][0]
        earlier = _state.why_not_back(start_hub, ["start_hub"], None, state.get("state"))  # as a real run reads it
        going_back += "; a failure after step 2 goes back by itself (hub_rollback_on_failure)%s" % (
            ", but not at step 9 or 10: " + earlier if earlier else
            ", but not at step 10: an earlier run started the new Hub" if "start_hub" in done else "")
    found = run.get("preflight") or []
    files = [f for entry in found for f in entry.get("files") or []]
    notes = [n for entry in found for n in entry.get("notes") or []]
    return [
        "hub %s (%s%s, project %s): %s -> %s" % (
            run["hub"], facts["orchestration"], "" if new_orchestration == facts["orchestration"]
            else " -> " + new_orchestration, facts["project"], facts["old_version"], facts["new_version"]),
        "state file %s: %s" % (run["state_file"], "steps done: " + ", ".join(done) if done else "no step done yet"),
        "going back: %s" % going_back,
        "lock: " + _lock_line(run.get("locks") or [], run.get("break_lock")),
    ] + [plan_line(step, done, step_texts(dict(run, dump_made=_dump_made(state)))) for step in state["steps"]] + [
        "checked: %d files of the bundles as the steps will use them%s" % (
            len(files), ": " + "; ".join(notes) if notes else ""),
    ]


def going_back_plan(back, run):
    """What going back does now (go_back.yml): ``back`` is migration_state's result, ``run`` what the role knows -
    hub, facts, data (hub_data), orchestrations (the old and the new one), dump_dir, seen (the version the old Hub
    answers now, '' when not asked or silent). Returns record (a rollback to record: the way back is open), start
    (the old Hub to start: it is to serve and does not yet), stop (the orchestrations whose Hub goes down first, the
    new one's first: each, before the old Hub starts; only the new version's other orchestration when the old Hub
    answers already - it must not serve beside it) and plan (in words)."""
    facts, possible, wanted = run["facts"], back["going_back"]["possible"] is True, back["going_back"]["wanted"]
    serving = (run.get("seen") or "") == facts["old_version"]
    start = wanted and not serving
    orchestrations = sorted(set(run["orchestrations"]), key=run["orchestrations"].index)  # the old one first
    others = orchestrations[1:]  # where only the new version runs
    stop = orchestrations[::-1] if start else (others[::-1] if wanted and serving else [])
    words = ["%s: %s." % (run["hub"], back["going_back"]["reason"])]
    if serving:
        words.append("The old Hub %s answers already%s." % (facts["old_version"], "; bring down what runs of the hub "
                     "on %s (the new version's)" % " and ".join(stop) if stop else ""))
    if start:
        words.append("Going back: bring down what runs of the hub (%s, project %s), start %s in full on its old data "
                     "(%s) and wait until it answers %s." % (
                         " and ".join(orchestrations), facts["project"], facts["old_version"],
                         run["data"]["old"]["label"], facts["old_version"]))
    words.append("Record it: the attempt (steps done: %s) and its dump, moved aside from %s/dump, are kept; the next "
                 "upgrade run starts at step 1 with a new dump. The new data (%s) is kept until then: that run's restore "
                 "(step 7, or step 4 of a stream) replaces it (back it up first if what the new Hub was given must be "
                 "kept)." % (
                     ", ".join(back["done"]) or "none", run["dump_dir"], run["data"]["new"]["label"])
                 if possible else "Nothing to record." if stop else "Nothing to do.")
    return {"record": possible, "start": start, "stop": stop, "plan": " ".join(words)}


class FilterModule(object):
    def filters(self):
        return {"step_due": step_due, "plan_line": plan_line, "plan_lines": plan_lines,
                "going_back_plan": going_back_plan, "goes_back_now": goes_back_now,
                "why_not_back": why_not_back}
