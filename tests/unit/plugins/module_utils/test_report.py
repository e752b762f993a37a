"""plugins/module_utils/_report.py: a hub's report (report.json, report.md) from its state, and migration_state's
report_dir, which writes it in the call that reads the final state."""
import json
import os

from ansible_collections.blackduck.hub.plugins.module_utils import _report, _state

FACTS = {"orchestration": "compose", "project": "hub", "old_version": "4.1.4", "new_version": "4.2.0",
         "old_data": "hub_data-volume", "new_data": "hub_data-volume-4.2.0",
         "remove_old_data": "docker volume rm hub_data-volume", "old_data_kind": "volume", "old_data_name": "hub_data-volume"}


def _read(state):
    possible, reason = _state.going_back(state)
    return {"state": state, "steps": _state.step_table(), "going_back": {"possible": possible, "reason": reason}}


def _state_of_a_run():
    steps = {
        "disk_space": {"status": "done", "started": "2026-12-06T10:00:00Z", "seconds": 3,
                       "data": {"summary": "enough free disk space for the migration of a 1.0 MiB database"}},
        "stop_hub": {"status": "done", "started": "2026-12-06T10:00:03Z", "seconds": 9,
                     "message": "2 running job(s) cut off | after\nwaiting 5s",
                     "data": {"jobs_running_before": [{"id": 7}, {"id": 8}], "drain_waited": 5, "jobs_cut_off": [
                         {"id": 7, "job_type": "ScanPurgeJob", "node": "jobrunner-0", "started_at": None, "seconds": 12}]}},
        "dump": {"status": "done", "seconds": 4, "data": {"dump_id": "d-1", "databases": {
            "bds_hub": {"file": "bds_hub.dump", "bytes": 10, "tables": 3, "rows": 30, "sha256": "ab" * 32},
            "Bds_hub_report": {"file": None, "bytes": 5, "tables": 1, "rows": 2, "sha256": ""}}}},
        "restore": {"status": "failed", "message": "x", "data": {"verification": {"bds_hub": {"differences": ["st.a"], "tables": [
            {"table": "st.a", "expected_rows": 2, "rows": 1, "status": "DIFFERENT"},
            {"table": "st.b", "expected_rows": 1, "rows": 1, "status": "ok"},
            {"table": "st.c", "expected_rows": 0, "rows": 0, "status": "ok (empty)"}]}},
            "roles": {"blackduck_user": "equal", "blackduck": "equal"}}},
    }
    return {"hub": "hub1", "status": "failed", "failed_step": 7, "steps": steps}


def test_the_report_says_going_back_is_refused_beside_another_runs_migration():
    st = _state_of_a_run()
    st["steps"]["restore"]["data"]["other_data"] = {"dump_id": "d-9", "found": "2026-12-07T10:00:00Z"}
    read = dict(_read(st), other_data=_state.other_data(st))
    back = [line for line in _report.report_md("hub1", FACTS, read, "/d/state.json").splitlines()
            if line.startswith("| Going back |")]
    assert back == ["| Going back | refused with this inventory - %s |" % read["other_data"]["message"]]
    assert "set hub_rollback_beside_dump: d-9" in back[0]


def test_the_report_says_each_step_and_what_was_found():
    md = _report.report_md("hub1", FACTS, _read(_state_of_a_run()), "/d/state.json")
    lines = md.splitlines()
    assert lines[0] == "# Hub migration report: hub1" and md.endswith("playbook again with `hub_remove_old_data: true`.\n")
    assert "| Orchestration | compose (project `hub`) |" in lines and "| Versions | 4.1.4 -> 4.2.0 |" in lines
    assert "| Status | failed (failed at step 7) |" in lines and "| State file | `/d/state.json` |" in lines
    assert ("| Going back | possible: `ansible-playbook blackduck.hub.rollback_hub -i <inventory> --limit hub1` starts the "
            "old Hub 4.1.4 on its untouched old data (the new data is kept) |") in lines
    assert "| 2 | stop_hub | done | 2026-12-06T10:00:03Z | 9 | 2 running job(s) cut off / after waiting 5s |" in lines
    assert "| 7 | restore | failed |  |  | x |" in lines and "| 8 | stop_new_migration | not run |  |  |  |" in lines
    assert len([line for line in lines if line.startswith("| ") and " | not run | " in line]) == 7  # 3, 5, 6, 8-11
    assert "enough free disk space for the migration of a 1.0 MiB database" in lines
    assert "Cut off after a wait of 5s (look at them in the new Hub, and run again those that need it):" in lines
    assert "| 7 | ScanPurgeJob | jobrunner-0 |  | 12 |" in lines  # a start not known: empty, not None
    assert "## Dump `d-1`" in lines
    dump_rows = [line for line in lines if line.startswith("| bds_hub |") or line.startswith("| Bds_hub_report |")]
    assert dump_rows == ["| bds_hub | bds_hub.dump | 10 | 3 | 30 | `abababababababab...` |",  # sorted as Jinja's dictsort
                         "| Bds_hub_report | (streamed) | 5 | 1 | 2 | - |"]
    assert "3 tables, 2 equal, 1 differences." in lines and "| st.a | 2 | 1 | DIFFERENT |" in lines
    assert lines.index("| blackduck | equal |") < lines.index("| blackduck_user | equal |")
    assert "The old data is kept: `hub_data-volume`." in lines
    assert "## Rolled back" not in lines and "## Earlier attempts (rolled back)" not in lines


def test_the_report_of_a_rollback_its_attempts_and_the_old_data():
    st = _state_of_a_run()
    st["rollback"] = {"status": "done", "finished": "2026-12-06T11:00:00Z", "failed_step": 7, "seconds": 20}
    st["attempts"] = [{"rolled_back": "2026-12-06T11:00:00Z", "dump_id": "d-1", "last_done": 6, "failed_step": 7,
                       "dump_dir": "/d/dump-rolled-back-1"}, {"rolled_back": "t2", "dump_id": None, "last_done": 2}]
    lines = _report.report_md("hub1", FACTS, _read(st), "/d/state.json").splitlines()
    assert ("On 2026-12-06T11:00:00Z the old Hub 4.1.4 was started again on its untouched old data (the attempt had failed "
            "at step 7), after 20s.") in lines[lines.index("## Rolled back") + 2]
    assert "| 2026-12-06T11:00:00Z | d-1 | 6 | 7 | `/d/dump-rolled-back-1` |" in lines
    assert "| t2 |  | 2 |  | `(no dump)` |" in lines
    st["rollback"] = {"status": "failed", "started": "t3", "message": "the old Hub did not answer"}
    lines = _report.report_md("hub1", FACTS, _read(st), "/d/state.json").splitlines()
    assert ("A rollback began on t3 and failed: the old Hub did not answer. The old data is untouched: fix the cause and "
            "run `blackduck.hub.rollback_hub` again.") in lines
    server = dict(FACTS, old_data_kind="server", old_data_name="db.old:5432")
    md = _report.report_md("hub1", server, _read(st), "/d/state.json")
    assert "The old Hub's databases stay on the old external server `db.old:5432`, untouched: this playbook never\n" in md
    st["steps"]["remove_old_data"] = {"status": "done"}
    assert "## Old data" not in _report.report_md("hub1", FACTS, _read(st), "/d/state.json")


def test_the_drain_said_when_no_job_was_cut_off():
    st = _state_of_a_run()
    st["steps"]["stop_hub"]["data"]["jobs_cut_off"] = []
    md = _report.report_md("hub1", FACTS, _read(st), "/d/state.json")
    assert "2 job(s) ran; step 2 waited 5s until they had ended: none was cut off." in md
    st["steps"]["stop_hub"]["data"]["jobs_running_before"] = []
    assert "No job of the Hub ran: none was cut off." in _report.report_md("hub1", FACTS, _read(st), "/d/state.json")


def _params(path, **kw):
    p = dict((k, None) for k in _state.ARGUMENT_SPEC)
    p.update(path=path, hub="hub1", **kw)
    return p


def test_migration_state_writes_the_report_from_the_state_it_reads(tmp_path):
    path, folder = str(tmp_path / "state.json"), str(tmp_path)
    read = _params(path, report_dir=folder, report_facts=FACTS)
    result = _state.call(read, False)
    assert result["reports"] == [] and result["changed"] is False  # nothing recorded yet: nothing to report
    assert not os.path.exists(os.path.join(folder, "report.md"))
    _state.call(_params(path, step="disk_space", status="started"), False)
    assert _state.call(read, True)["changed"] is False and not os.path.exists(os.path.join(folder, "report.md"))  # check mode
    result = _state.call(read, False)
    assert result["changed"] is True and result["reports"] == [os.path.join(folder, "report.json"),
                                                               os.path.join(folder, "report.md")]
    for name in ("report.json", "report.md"):
        assert oct(os.stat(os.path.join(folder, name)).st_mode & 0o777) == "0o600"
    with open(os.path.join(folder, "report.json")) as f:
        saved = json.load(f)
    assert saved["hub"] == "hub1" and saved["state"] == result["state"]
    assert saved["facts"] == dict((k, FACTS[k]) for k in _report.FACTS)  # what the report.md alone needs is not kept
    with open(os.path.join(folder, "report.md")) as f:
        assert "| 1 | disk_space | started | " in f.read()
    again = _state.call(read, False)
    assert again["changed"] is False and again["reports"] == []  # the same content: left alone
    _state.call(_params(path, step="disk_space", status="done"), False)
    assert _state.call(read, False)["reports"] == [os.path.join(folder, "report.json"), os.path.join(folder, "report.md")]


def test_a_report_that_cannot_be_written_is_a_warning_not_a_failure(tmp_path):
    path = str(tmp_path / "state.json")
    _state.call(_params(path, step="disk_space", status="started"), False)
    result = _state.call(_params(path, report_dir=str(tmp_path / "missing" / "folder"), report_facts=FACTS), False)
    assert result["changed"] is False and result["reports"] == [] and len(result["warnings"]) == 1, result
    assert result["warnings"][0].startswith("the report in %s was not written: " % (tmp_path / "missing" / "folder"))
    assert "The state file is as it was" in result["warnings"][0]
    assert result["state"]["steps"]["disk_space"]["status"] == "started"  # the state, read all the same


def test_a_report_opened_up_is_made_0600_again_and_a_fact_not_given_is_empty(tmp_path):
    path, folder = str(tmp_path / "state.json"), str(tmp_path)
    _state.call(_params(path, step="disk_space", status="started"), False)
    facts = dict((k, v) for k, v in FACTS.items() if k != "project")
    read = _params(path, report_dir=folder, report_facts=facts)
    _state.call(read, False)
    with open(os.path.join(folder, "report.md")) as f:
        assert "| Orchestration | compose (project ``) |" in f.read()
    os.chmod(os.path.join(folder, "report.md"), 0o644)
    result = _state.call(read, False)
    assert result["changed"] is True and result["reports"] == [os.path.join(folder, "report.md")]
    assert oct(os.stat(os.path.join(folder, "report.md")).st_mode & 0o777) == "0o600"
