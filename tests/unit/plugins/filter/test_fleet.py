"""plugins/filter/fleet.py: the fleet report's rows and totals, from what each hub's run left."""
from ansible_collections.blackduck.hub.plugins.filter.fleet import fleet_report, fleet_row

FACTS = {"orchestration": "compose", "old_version": "4.1.4", "new_version": "4.2.0"}


def done(number, started, finished, seconds, data=None):
    return {"number": number, "status": "done", "started": started, "finished": finished, "seconds": seconds,
            "data": data or {}}


def migrated_state(removed=False, differences=()):
    steps = {
        "disk_space": done(1, "2026-11-30T10:00:00Z", "2026-11-30T10:00:05Z", 5, {"database_size": "1048576"}),
        "stop_hub": done(2, "2026-11-30T10:00:05Z", "2026-11-30T10:00:35Z", 30),
        "dump": done(4, "2026-11-30T10:01:00Z", "2026-11-30T10:03:00Z", 120),
        "restore": done(7, "2026-11-30T10:04:00Z", "2026-11-30T10:07:00Z", 180, {"verification": {
            "bds_hub": {"tables": ["st.a", "st.b"], "differences": list(differences)},
            "bdio": {"tables": ["public.c"], "differences": []}}}),
        "start_hub": done(9, "2026-11-30T10:08:00Z", "2026-11-30T10:10:05Z", 125),
    }
    if removed:
        steps["remove_old_data"] = done(11, "2026-11-30T10:11:00Z", "2026-11-30T10:11:01Z", 1)
    return {"steps": steps}


def test_a_migrated_hub():
    row = fleet_row(migrated_state(), "hub-a", FACTS, {"report": "/d/hub-a/report.md"})
    assert row["outcome"] == "migrated" and row["detail"] == ""
    assert row["downtime_seconds"] == 600  # 10:00:05 (step 2 began) to 10:10:05 (step 9 done)
    assert (row["dump_seconds"], row["restore_seconds"], row["database_size"]) == (120, 180, 1048576)
    assert row["verification"] == "exact: 2 databases, 3 tables, no difference"
    assert row["old_data"] == "kept" and row["report"] == "/d/hub-a/report.md"
    assert row["steps_done"] == ["disk_space", "stop_hub", "dump", "restore", "start_hub"]
    assert row["line"] == "hub-a: migrated 4.1.4 -> 4.2.0, old data kept"
    assert fleet_row(migrated_state(removed=True), "hub-a", FACTS)["old_data"] == "removed"


def test_failed_planned_already_and_early():
    st = migrated_state(differences=["st.a: 3 rows, expected 4"])
    del st["steps"]["start_hub"]
    row = fleet_row(st, "hub-b", FACTS, {"failed": True, "error": "step 7 (restore): it broke"})
    assert row["outcome"] == "failed" and row["line"] == "hub-b: FAILED at step 7 (restore): it broke"
    assert row["downtime_seconds"] is None and row["verification"] == "differences in bds_hub"
    early = fleet_row({}, "hub-c", {}, {"early_error": "hub_dump_dir is a file", "report": "/x/report.md"})
    assert early["outcome"] == "failed" and early["line"] == "hub-c: FAILED before step 1: hub_dump_dir is a file"
    assert early["report"] == "" and early["old_data"] == ""  # no state: no report to point at
    assert fleet_row({}, "hub-d", FACTS, {"check": True})["outcome"] == "planned"
    stopped = fleet_row({}, "hub-f", {}, {"not_started": "1 hub(s) failed in earlier batches (hub-c)", "check": True})
    assert stopped["outcome"] == "not started" and stopped["line"] == "hub-f: not started: 1 hub(s) failed in earlier batches (hub-c)"
    assert fleet_row({}, "hub-e", FACTS, {"already": "migrated by another run"})["line"] == \
        "hub-e: already migrated: migrated by another run"


def test_the_fleet_names_every_host_and_never_counts_one_outside_the_run_as_failed():
    a = fleet_row(migrated_state(), "hub-a", FACTS)
    b = fleet_row({}, "hub-b", FACTS, {"failed": True, "error": "step 4 (dump): x"})
    report = fleet_report([["hub-a", a], ["hub-b", b], ["hub-z", {}]])
    assert [r["host"] for r in report["hubs"]] == ["hub-a", "hub-b", "hub-z"]
    assert report["hubs"][2]["outcome"] == "not in this run"
    assert report["totals"]["outcomes"] == {"migrated": 1, "failed": 1, "planned": 0, "already migrated": 0,
                                            "not started": 0, "not in this run": 1}
    assert report["totals"]["downtime_seconds_max"] == 600 and report["totals"]["database_size"] == 1048576
