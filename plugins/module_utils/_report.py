# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hub's migration report, as its dump folder keeps it: report.json (the hub, what the run found of it, the state)
and report.md (the same for people). Private to the collection; written by blackduck.hub.migration_state when it is
given report_dir, in the same call that reads the state (one call, not a read, a copy and a template)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.blackduck.hub.plugins.module_utils._command import same_file, write_atomic

# what report.json's facts hold: what does not change from run to run (not what happens to be running)
FACTS = ("orchestration", "project", "old_version", "new_version", "old_data", "new_data", "remove_old_data")


def _cell(value):
    return "" if value is None else str(value)


def _row(*cells):
    """A table row: each cell as text (None: empty)."""
    return "| %s |" % " | ".join(_cell(c) for c in cells)


def _or(value, fallback):
    """value, or fallback when it is missing or empty (Jinja's default(fallback, true))."""
    return value if value else fallback


def due(state):
    """Whether there is anything to report: a step recorded, or a rollback."""
    return bool(state.get("steps")) or "rollback" in state


def report_json(hub, facts, state):
    return json.dumps({"hub": hub, "facts": dict((k, facts.get(k, "")) for k in FACTS), "state": state},
                      indent=4, sort_keys=True) + "\n"


def _summary(hub, facts, st, going_back, state_file, other_data=None):
    verified = (st.get("steps", {}).get("verify") or {}).get("status") == "done"
    status = "completed" if verified else _cell(st.get("status", ""))
    if "failed_step" in st:
        status += " (failed at step %s)" % st["failed_step"]
    if other_data:  # this attempt's restore found another run's migration: rollback_hub refuses (_state.other_data)
        back = _cell("refused with this inventory - " + other_data["message"])
    elif going_back.get("possible"):
        back = ("possible: `ansible-playbook blackduck.hub.rollback_hub -i <inventory> --limit %s` starts the old Hub %s "
                "on its untouched old data (the new data is kept)" % (hub, facts["old_version"]))
    else:
        back = _cell(going_back.get("reason"))
    return ["# Hub migration report: %s" % hub, "", "| | |", "|---|---|",
            "| Orchestration | %s (project `%s`) |" % (facts["orchestration"], facts["project"]),
            "| Versions | %s -> %s |" % (facts["old_version"], facts["new_version"]),
            "| Status | %s |" % status, "| State file | `%s` |" % state_file, "| Going back | %s |" % back, ""]


def _rollback(facts, st):
    if "rollback" not in st:
        return []
    rb = st["rollback"]
    if rb.get("status") == "done":
        failed = " (the attempt had failed at step %s)" % rb["failed_step"] if rb.get("failed_step") else ""
        text = ("On %s the old Hub %s was started again on its untouched old data%s, after %ss. The new data is kept. "
                "The next upgrade run starts at step 1 with a new dump, and replaces the rolled-back attempt's data in "
                "the new database." % (_cell(rb.get("finished")), _cell(rb.get("old_version", facts["old_version"])),
                                       failed, _cell(rb.get("seconds", "?"))))
    else:
        why = ": %s" % rb["message"] if "message" in rb else ""
        text = ("A rollback began on %s and %s%s. The old data is untouched: fix the cause and run "
                "`blackduck.hub.rollback_hub` again." % (_cell(rb.get("started")), _cell(rb.get("status")), why))
    return ["## Rolled back", "", text, ""]


def _attempts(st):
    if not st.get("attempts"):
        return []
    lines = ["## Earlier attempts (rolled back)", "", "| Rolled back | Dump | Last step done | Failed at step | "
             "Its dump, kept in |", "|---|---|---|---|---|"]
    for a in st["attempts"]:
        lines.append(_row(a.get("rolled_back"), _or(a.get("dump_id"), ""), a.get("last_done"), a.get("failed_step"),
                          "`%s`" % _or(a.get("dump_dir"), "(no dump)")))
    return lines + [""]


def _steps(steps, st):
    lines = ["## Steps", "", "| # | Step | Status | Started | Seconds | Note |", "|---|---|---|---|---|---|"]
    for step in steps:
        s = st.get("steps", {}).get(step["name"], {})
        note = _cell(s.get("message", "")).replace("|", "/").replace("\n", " ")
        lines.append(_row(step["number"], step["name"], s.get("status", "not run"), s.get("started"), s.get("seconds"),
                          note))
    return lines + [""]


def _disk(st):
    disk = st.get("steps", {}).get("disk_space") or {}
    return ["## Disk", "", _cell(disk["data"].get("summary")), ""] if "data" in disk else []


def _jobs(st):
    data = (st.get("steps", {}).get("stop_hub") or {}).get("data") or {}
    if "jobs_running_before" not in data:
        return []
    lines = ["## Jobs when the Hub went down (step 2)", ""]
    cut = data.get("jobs_cut_off", [])
    if not data["jobs_running_before"]:
        lines.append("No job of the Hub ran: none was cut off.")
    elif not cut:
        lines.append("%d job(s) ran; step 2 waited %ss until they had ended: none was cut off."
                     % (len(data["jobs_running_before"]), _cell(data.get("drain_waited"))))
    else:
        lines += ["Cut off after a wait of %ss (look at them in the new Hub, and run again those that need it):"
                  % _cell(data.get("drain_waited")), "", "| Job | Type | Node | Started (UTC) | Had run (s) |",
                  "|---|---|---|---|---|"]
        lines += [_row(j.get("id"), j.get("job_type"), j.get("node"), j.get("started_at"), j.get("seconds")) for j in cut]
    return lines + [""]


def _by_name(mapping):
    return sorted((mapping or {}).items(), key=lambda kv: kv[0].lower())  # Jinja's dictsort


def _dump(st):
    dump = st.get("steps", {}).get("dump") or {}
    if "data" not in dump:
        return []
    data = dump["data"]
    title = "Stream (no dump file; the record of the old side)" if data.get("transfer", "") == "stream" else "Dump"
    lines = ["## %s `%s`" % (title, data.get("dump_id")), "", "| Database | File | Bytes | Tables | Rows | sha256 |",
             "|---|---|---|---|---|---|"]
    for db, d in _by_name(data.get("databases")):
        sha = "`%s...`" % d["sha256"][:16] if d.get("sha256") else "-"
        lines.append(_row(db, d.get("file") or "(streamed)", d.get("bytes"), d.get("tables"), d.get("rows"), sha))
    return lines + [""]


def _verification(st):
    restore = st.get("steps", {}).get("restore") or {}
    if "data" not in restore:
        return []
    lines = ["## Verification after the restore (exact)", ""]
    for db, v in _by_name(restore["data"].get("verification")):
        tables = v.get("tables", [])
        equal = len([t for t in tables if re.match("^ok", t.get("status", ""))])
        lines += ["### %s" % db, "", "%d tables, %d equal, %d differences." % (len(tables), equal, len(v.get("differences", []))),
                  "", "| Table | Rows in dump | Rows restored | Status |", "|---|---|---|---|"]
        lines += [_row(t.get("table"), t.get("expected_rows"), t.get("rows"), t.get("status")) for t in tables]
        lines.append("")
    roles = restore["data"].get("roles", {})
    if roles:
        lines += ["### Roles", "", "| Role | Password |", "|---|---|"]
        lines += [_row(role, how) for role, how in _by_name(roles)]
        lines.append("")
    return lines


def _old_data(facts, st):
    if facts.get("old_data_kind") == "server":
        return ["## Old data", "", "The old Hub's databases stay on the old external server `%s`, untouched: this playbook "
                "never" % facts.get("old_data_name"), "removes them. Retire that server when you are satisfied with the new Hub."]
    if (st.get("steps", {}).get("remove_old_data") or {}).get("status") == "done":
        return []
    return ["## Old data", "", "The old data is kept: `%s`." % facts["old_data"],
            "Once you are satisfied with the new Hub, remove it with `%s`, or run the" % facts["remove_old_data"],
            "playbook again with `hub_remove_old_data: true`."]


def report_md(hub, facts, read, state_file):
    """report.md of hub: facts as report.json holds them (and old_data_kind: volume, path, claim or server, and
    old_data_name: the server's name, for a server), read
    migration_state's answer (state, steps - the table -, going_back), state_file the state file's path."""
    st = read["state"]
    facts = dict(dict((k, "") for k in FACTS), **facts)  # a fact not given: an empty cell, not an error
    lines = (_summary(hub, facts, st, read["going_back"], state_file, read.get("other_data")) + _rollback(facts, st) + _attempts(st)
             + _steps(read["steps"], st) + _disk(st) + _jobs(st) + _dump(st) + _verification(st) + _old_data(facts, st))
    return "\n".join(lines) + "\n"


def write(directory, hub, facts, read, state_file):
    """report.json and report.md of hub into directory (each whole at once, mode 0600), when there is anything to
    report (due); a file whose content and mode are already so is left alone. Returns the paths written."""
    if not due(read["state"]):
        return []
    written = []
    for name, text in (("report.json", report_json(hub, facts, read["state"])),
                       ("report.md", report_md(hub, facts, read, state_file))):
        path, data = os.path.join(directory, name), text.encode("utf-8")
        if same_file(path, data, 0o600):  # content and mode already so (one opened up is written again, 0600)
            continue
        write_atomic(path, data, 0o600, durable=False)
        written.append(path)
    return written
