# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: one row per hub of the inventory from what its run left (state, facts, outcome), and the
fleet's totals. Read by the summary play of upgrade_hub and written on the controller (fleet.json, fleet.md)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.blackduck.hub.plugins.module_utils._state import epoch

OUTCOMES = ("migrated", "failed", "planned", "already migrated", "not started", "not in this run")


def _int(value):
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _downtime(steps):
    """Seconds from step 2's start (the Hub going down) to the end of step 9 (the new Hub answering); None when the
    Hub did not go down in this migration, or has not come back."""
    down = epoch((steps.get("stop_hub") or {}).get("started"))
    up = epoch((steps.get("start_hub") or {}).get("finished")) if (steps.get("start_hub") or {}).get(
        "status") == "done" else None
    return up - down if down is not None and up is not None and up >= down else None


def _verification(steps):
    databases = ((steps.get("restore") or {}).get("data") or {}).get("verification") or {}
    if not databases:
        return ""
    differing = sorted(db for db, v in databases.items() if (v or {}).get("differences"))
    tables = sum(len((v or {}).get("tables") or {}) for v in databases.values())
    if differing:
        return "differences in %s" % ", ".join(differing)
    plural = "" if len(databases) == 1 else "s"
    return "exact: %d database%s%s, no difference" % (len(databases), plural, ", %d tables" % tables if tables else "")


def fleet_row(state, host, facts=None, outcome=None):
    """One hub's row. `state` is its state file (migration_state's state, {} when none was read); `facts` its
    hub_facts; `outcome`: failed (bool), error (str: the failed step and cause), early_error (str: why it stopped
    before step 1), already (str: migrated by another run), not_started (str: why the rollout did not start it,
    hub_max_failures), check (bool: check mode), report (the path of its report.md on its host)."""
    state, facts, outcome = state or {}, facts or {}, outcome or {}
    steps = state.get("steps") or {}
    if outcome.get("not_started"):
        kind, detail = "not started", outcome["not_started"]
    elif outcome.get("early_error"):
        kind, detail = "failed", "before step 1: %s" % outcome["early_error"]
    elif outcome.get("failed"):
        kind, detail = "failed", "at %s" % outcome.get("error", "an unknown step")
    elif outcome.get("already"):
        kind, detail = "already migrated", outcome["already"]
    elif outcome.get("check"):
        kind, detail = "planned", "check mode"
    else:
        kind, detail = "migrated", ""
    restore = steps.get("restore") or {}
    removed = (steps.get("remove_old_data") or {}).get("status") == "done"
    row = {
        "host": host,
        "outcome": kind,
        "detail": detail,
        "orchestration": facts.get("orchestration", ""),
        "old_version": facts.get("old_version", ""),
        "new_version": facts.get("new_version", ""),
        "database_size": _int(((steps.get("disk_space") or {}).get("data") or {}).get("database_size")),
        "downtime_seconds": _downtime(steps),
        "dump_seconds": (steps.get("dump") or {}).get("seconds"),
        "restore_seconds": restore.get("seconds"),
        "verification": _verification(steps),
        "old_data": "removed" if removed else ("kept" if steps else ""),
        "steps_done": sorted((s for s, v in steps.items() if (v or {}).get("status") == "done"),
                             key=lambda s: (steps[s] or {}).get("number", 0)),
        "report": outcome.get("report") if steps else "",
    }
    if kind == "migrated":
        line = "migrated %s -> %s, old data %s" % (row["old_version"] or "?", row["new_version"] or "?",
                                                   row["old_data"] or "kept")
    elif kind == "planned":
        line = "planned (check mode)"
    elif kind == "failed":
        line = "FAILED " + detail
    else:
        line = "%s: %s" % (kind, detail)
    row["line"] = "%s: %s" % (host, line)
    return row


def fleet_report(hosts_rows):
    """[(host, its row or {} when the host had none)] -> {hubs: rows (hosts without a row: 'not in this run'),
    totals}. A host without a row was outside --limit or hub_hosts, or never reached."""
    rows = []
    for host, row in hosts_rows:
        if row:
            rows.append(row)
        else:
            rows.append({"host": host, "outcome": "not in this run", "detail": "outside --limit, or never reached",
                         "line": "%s: not in this run (outside --limit, or never reached)" % host})
    counts = dict((o, sum(1 for r in rows if r["outcome"] == o)) for o in OUTCOMES)
    downtimes = [r["downtime_seconds"] for r in rows if r.get("downtime_seconds") is not None]
    sizes = [r["database_size"] for r in rows if r.get("database_size") is not None]
    totals = {"hubs": len(rows), "outcomes": counts, "database_size": sum(sizes),
              "downtime_seconds_max": max(downtimes) if downtimes else None,
              "downtime_seconds_total": sum(downtimes)}
    return {"hubs": rows, "totals": totals}


class FilterModule(object):
    def filters(self):
        return {"fleet_row": fleet_row, "fleet_report": fleet_report}
