# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hub's jobs as its own database records them (st.job_instances of bds_hub): which of them run now, for the
drain before step 2. Reads only."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.blackduck.hub.plugins.module_utils._inventory import quote_literal
from ansible_collections.blackduck.hub.plugins.module_utils._query import query

TABLE = "st.job_instances"
# RUNNING: a job a jobrunner works on now, cut off if the Hub goes down. SCHEDULED and DISPATCHED wait in the
# queue: the Hub picks them up after its restart, so the drain does not wait for them.
RUNNING = ("RUNNING",)
# The jobs the migration itself restarts: the restore's fixup marks a running reporting transfer FAILED, and the
# new Hub starts it afresh (hub-facts: "Hub post-restore fixups"). Nothing is lost by cutting it off.
RESTARTED_BY_THE_MIGRATION = ("ReportingDatabaseTransferJob",)


def _seconds(text):
    try:
        return int(float(text))
    except ValueError:
        return 0


def running_jobs(target, database="bds_hub", statuses=RUNNING, ignore_types=RESTARTED_BY_THE_MIGRATION):
    """The jobs in one of `statuses` but not of `ignore_types`, oldest first: [{id, job_type, status, node,
    started_at, seconds}]; None when the database has no st.job_instances (nothing the drain can wait for)."""
    exists = query(target, database, "SELECT to_regclass(%s) IS NOT NULL;" % quote_literal(TABLE),
                   "looking for %s" % TABLE)
    if not exists or exists[0][0] != "t":
        return None
    rows = query(target, database,
                 "SELECT id, job_type, status, coalesce(node, ''), coalesce(to_char(started_at AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), extract(epoch FROM now() - coalesce(started_at, created_at)) "
                 "FROM %s WHERE status IN (%s)%s ORDER BY coalesce(started_at, created_at), id;"
                 % (TABLE, ", ".join(quote_literal(s) for s in statuses),
                    " AND job_type NOT IN (%s)" % ", ".join(quote_literal(t) for t in ignore_types) if ignore_types else ""),
                 "listing the running jobs")
    return [{"id": int(r[0]), "job_type": r[1], "status": r[2], "node": r[3], "started_at": r[4] or None,
             "seconds": max(0, _seconds(r[5]))} for r in rows]


def duration(seconds):
    """3725 -> '1h 2m 5s', 65 -> '1m 5s', 4 -> '4s'."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return " ".join(p for p in ("%dh" % h if h else "", "%dm" % m if h or m else "", "%ds" % s) if p)


def listing(jobs, limit=10):
    """The jobs for people: 'ScanJob #12 on jobrunner-1 for 5m 3s, ReportJob #14 for 4s' (and 'N more' past limit)."""
    parts = ["%s #%d%s for %s" % (j["job_type"], j["id"], " on %s" % j["node"] if j["node"] else "",
                                  duration(j["seconds"])) for j in jobs[:limit]]
    more = " and %d more" % (len(jobs) - limit) if len(jobs) > limit else ""
    return ", ".join(parts) + more


def describe(jobs, limit=10):
    """One line for people: '2 jobs run: ScanJob #12 on jobrunner-1 for 5m 3s, ...' (or 'no job runs')."""
    if not jobs:
        return "no job runs"
    return "%d job%s run%s: %s" % (len(jobs), "" if len(jobs) == 1 else "s", "s" if len(jobs) == 1 else "",
                                   listing(jobs, limit))


def drain(target, database="bds_hub", timeout=0, interval=10, ignore_types=RESTARTED_BY_THE_MIGRATION,
          clock=time.monotonic, sleep=time.sleep):
    """hub_jobs' work: the running jobs (running_jobs), then - with a timeout (seconds) - a look every interval
    seconds until none runs or the time is up. Returns {jobs (at the end), jobs_at_start, drained, waited (seconds,
    from the first look: a slow query is no wait), table (whether the database has st.job_instances), msg}."""
    deadline = clock() + timeout
    first = now = running_jobs(target, database, ignore_types=ignore_types)
    looked = clock()
    while now and clock() < deadline:
        sleep(min(interval, max(0.0, deadline - clock())))
        now = running_jobs(target, database, ignore_types=ignore_types)
    waited = int(round(clock() - looked))
    table = first is not None
    first, now = first or [], now or []
    if not table:
        msg = "%s has no %s: no job to wait for" % (database, TABLE)
    elif first and not now:
        msg = "no job runs now (waited %ds for %s)" % (waited, listing(first))
    else:
        msg = describe(now) + (" (still, after %ds)" % waited if now and waited else "")
    return dict(jobs=now, jobs_at_start=first, drained=not now, waited=waited, table=table, msg=msg)
