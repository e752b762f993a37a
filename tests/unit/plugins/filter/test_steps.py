"""plugins/filter/steps.py: the resume rule and the plan's line of a step, as the role uses them."""
from ansible_collections.blackduck.hub.plugins.filter.steps import (
    FilterModule, goes_back_now, going_back_plan, plan_line, plan_lines, step_due, why_not_back)
from ansible_collections.blackduck.hub.plugins.module_utils import _state


def states(*done_steps):
    return {"steps": {name: {"status": "done"} for name in done_steps}}


def test_exported():
    assert sorted(FilterModule().filters()) == ["goes_back_now", "going_back_plan", "plan_line", "plan_lines",
                                                "step_due", "why_not_back"]


def test_the_plan_line_of_each_step():
    table = _state.step_table()
    what = {"dump": "dump   bds_hub\n and more", "start_old_migration": "start 4.1.4"}
    assert plan_line(table[3], [], what) == "step 4 dump: dump bds_hub and more"
    assert plan_line(table[3], ["dump"], what) == "step 4 dump: done"
    assert plan_line(table[2], ["dump"], what) == "step 3 start_old_migration: not needed"
    assert plan_line(table[2], [], what) == "step 3 start_old_migration: start 4.1.4"
    assert step_due(table[3], states()) is True and step_due(table[3], states(), run_tags=["step9"]) is False


def a_run(**kw):
    run = {"hub": "hub-prod", "new_orchestration": "compose", "state_file": "/d/state.json", "source_external": False,
           "facts": {"orchestration": "compose", "project": "hub", "old_version": "4.1.4", "new_version": "4.2.0",
                     "running": ["hub-webapp-1", "hub-postgres-1"]},
           "data": {"old": {"kind": "volume", "name": "hub_data", "label": "hub_data",
                            "remove_hint": "docker volume rm hub_data"},
                    "new": {"kind": "volume", "name": "hub_data96", "label": "hub_data96"}},
           "dump_dir": "/d", "dump_jobs": 2, "dump_format": "custom", "dump_mounts": {"old": "", "new": ""},
           "dump_transfer": "",
           "drain_timeout": 0, "drain_on_timeout": "fail", "jobs_now": {"skipped": True},
           "disk": {"msg": "database 1.2 GB; room enough"}, "url": "", "remove_old_data": False,
           "rollback_on_failure": False, "locks": [{"key": "k", "status": "free"}],
           "preflight": [{"files": ["a.yml", "b.yml"], "notes": []}, {"files": ["c.yml"], "notes": ["converted x"]}]}
    run.update(kw)
    return run


def a_state(*done, **going_back):
    return {"steps": _state.step_table(), "done": list(done),
            "going_back": going_back or {"possible": None, "reason": "this run's upgrade never took the Hub down"}}


def test_the_plan_of_a_hub_not_started():
    lines = plan_lines(a_state(), a_run())
    assert lines[:4] == [
        "hub hub-prod (compose, project hub): 4.1.4 -> 4.2.0",
        "state file /d/state.json: no step done yet",
        "going back: this run's upgrade never took the Hub down",
        "lock: free (a real run takes it first: one run per hub)"]
    assert lines[4:] == [
        "step 1 disk_space: database 1.2 GB; room enough",
        "step 2 stop_hub: no drain (hub_drain_timeout is 0); bring down hub-webapp-1, hub-postgres-1",
        "step 3 start_old_migration: start 4.1.4 database containers only",
        "step 4 dump: dump bds_hub, bds_hub_report, bdio and the roles into /d/dump",
        "step 5 stop_old_migration: bring the old migration containers down",
        "step 6 start_new_migration: start 4.2.0 database containers only (data: hub_data96)",
        "step 7 restore: restore the dump, then compare every table exactly",
        "step 8 stop_new_migration: bring the new migration containers down",
        "step 9 start_hub: start the new Hub 4.2.0 and wait until healthy",
        "step 10 verify: check the running database against the dump, and ask the Hub's webserver for version 4.2.0",
        "step 11 remove_old_data: keep the old data (hub_remove_old_data is false); remove it later with: docker "
        "volume rm hub_data",
        "checked: 3 files of the bundles as the steps will use them: converted x"]


def test_the_plan_halfway_with_a_way_back_the_lock_held_and_the_dump_folder_mounted():
    run = a_run(new_orchestration="kubernetes", dump_format="directory", dump_mounts={"old": "/m", "new": ""},
                drain_timeout=30, drain_on_timeout="stop", rollback_on_failure=True, url="https://hub.example.com",
                remove_old_data=True, disk={}, preflight=[],
                jobs_now={"jobs": [{"id": 1}], "msg": "1 job runs: ScanJob #1"},
                locks=[{"status": "busy", "holder": {"controller": "ctl2", "dump_dir": "/e"}}, {"status": "free"}])
    lines = plan_lines(a_state("disk_space", "stop_hub", "start_old_migration", "dump", possible=True,
                               reason="the old data is untouched"), run)
    assert lines[0] == "hub hub-prod (compose -> kubernetes, project hub): 4.1.4 -> 4.2.0"
    assert lines[1] == "state file /d/state.json: steps done: disk_space, stop_hub, start_old_migration, dump"
    assert lines[2] == ("going back: possible now - blackduck.hub.rollback_hub would bring down what runs and start "
                        "4.1.4 on hub_data (the old data is untouched); a failure after step 2 goes back by itself "
                        "(hub_rollback_on_failure)")
    assert lines[3] == "lock: HELD by another run (ctl2, dump folder /e): a real run would refuse now"
    assert lines[4:8] == ["step 1 disk_space: done", "step 2 stop_hub: done", "step 3 start_old_migration: done",
                          "step 4 dump: done"]
    assert lines[10] == "step 7 restore: restore the dump (pg_restore --jobs 2 on this host), then compare every table exactly"
    assert lines[13] == ("step 10 verify: check the running database against the dump, and ask "
                         "https://hub.example.com/api/current-version for version 4.2.0")
    assert lines[14] == "step 11 remove_old_data: remove hub_data once step 10 passed"
    assert lines[15] == "checked: 0 files of the bundles as the steps will use them"
    before = plan_lines(a_state(possible=True, reason="r"), run)
    assert before[4] == "step 1 disk_space: old data not found: nothing to measure"
    assert before[5] == ("step 2 stop_hub: drain: 1 job runs: ScanJob #1, would wait up to 30s for them, then stop "
                         "them; bring down hub-webapp-1, hub-postgres-1")
    assert before[7] == ("step 4 dump: dump bds_hub, bds_hub_report, bdio and the roles into /d/dump (directory "
                         "format: pg_dump --jobs 2 inside the old container, the folder mounted there)")
    served = plan_lines(a_state("disk_space", "stop_hub", "dump", "restore", "start_hub", possible=True, reason="r"), run)
    assert served[2].endswith("a failure after step 2 goes back by itself (hub_rollback_on_failure), but not at step "
                              "10: an earlier run started the new Hub")  # step 10 does not go back (goes_back_now)
    refused = plan_lines(a_state(possible=False, reason="step 11 removed the old data"), run)
    assert refused[2] == "going back: step 11 removed the old data"  # no promise of going back by itself


def test_the_plan_says_what_a_real_run_makes_of_a_held_lock():
    """hub_lock's check mode judges each lock held by another run: gone - taken over; seen running - refused, with
    hub_break_lock too; cannot be judged here - refused, or taken over with hub_break_lock."""
    def line(judged, why, break_lock=False):
        locks = [{"status": "busy", "holder": {"controller": "ctl", "dump_dir": "/d"}, "judged": judged, "why": why}]
        return plan_lines(a_state(), a_run(locks=locks, break_lock=break_lock))[3]
    held = "lock: HELD by another run (ctl, dump folder /d): "
    assert line("gone", "its process 7 is gone") == (
        held + "a real run takes it over, with a warning - that run is gone (its process 7 is gone)")
    assert line("gone", "its process 7 is gone", True).startswith(held + "a real run takes it over, with a warning")
    assert line("runs", "its process 7 still runs") == held + "a real run would refuse now (its process 7 still runs)"
    assert line("runs", "its process 7 still runs", True) == line("runs", "its process 7 still runs")
    assert line("unknown", "it runs on another controller (ctl)") == (
        held + "a real run would refuse now (it runs on another controller (ctl))")
    assert line("unknown", "it runs on another controller (ctl)", True) == (
        held + "a real run takes it over (hub_break_lock is true; it runs on another controller (ctl))")


def test_the_plan_says_why_the_dump_is_streamed():
    run = a_run(dump_transfer="streamed, custom format (the old database is an external server)")
    lines = plan_lines(a_state(), run)
    assert lines[7] == ("step 4 dump: dump bds_hub, bds_hub_report, bdio and the roles into /d/dump (streamed, custom "
                        "format (the old database is an external server))")
    assert lines[10] == "step 7 restore: restore the dump, then compare every table exactly"


def test_the_plan_of_an_old_external_server_and_a_drain_that_cannot_read_the_jobs():
    run = a_run(source_external=True, drain_timeout=30, jobs_now={"failed": True, "msg": "the Hub is down"},
                data={"old": {"kind": "server", "name": "db94:5432", "label": "db94:5432",
                              "remove_hint": "nothing on this host: retire the old external server db94:5432"},
                      "new": {"kind": "server", "name": "db96:5432", "label": "db96:5432"}})
    lines = plan_lines(a_state(), run)
    assert lines[5].startswith("step 2 stop_hub: drain: the jobs cannot be read now (the Hub is down); bring down")
    assert lines[6] == "step 3 start_old_migration: nothing to start: the old database is the external server db94:5432"
    assert lines[8] == "step 5 stop_old_migration: nothing to stop (old external server)"
    assert lines[14] == "step 11 remove_old_data: nothing on this host: retire the old external server db94:5432"
    quiet = plan_lines(a_state(), a_run(drain_timeout=30, jobs_now={"jobs": [], "msg": "no job runs"}))
    assert quiet[5].startswith("step 2 stop_hub: drain: no job runs; bring down")


def a_back(possible, reason, rolled_back=None, done=()):
    return {"going_back": {"possible": possible, "reason": reason, "wanted": possible is True or rolled_back == "done"},
            "done": list(done), "state": {"rollback": {"status": rolled_back}} if rolled_back else {}}


def test_going_back_plan():
    run = {"hub": "hub-prod", "facts": a_run()["facts"], "data": a_run()["data"], "dump_dir": "/d",
           "orchestrations": ["compose", "kubernetes", "compose"], "seen": ""}
    out = going_back_plan(a_back(True, "the old data is untouched", done=["disk_space", "stop_hub"]), run)
    assert out == {"record": True, "start": True, "stop": ["kubernetes", "compose"], "plan": (
        "hub-prod: the old data is untouched. Going back: bring down what runs of the hub (compose and kubernetes, "
        "project hub), start 4.1.4 in full on its old data (hub_data) and wait until it answers 4.1.4. Record it: the "
        "attempt (steps done: disk_space, stop_hub) and its dump, moved aside from /d/dump, are kept; the next upgrade "
        "run starts at step 1 with a new dump. The new data (hub_data96) is kept until then: that run's restore (step 7, "
        "or step 4 of a stream) replaces it (back it up first if what the new Hub was given must be kept).")}
    out = going_back_plan(a_back(True, "r"), dict(run, seen="4.1.4"))  # the old Hub answers: record only
    assert (out["record"], out["start"], out["stop"]) == (True, False, ["kubernetes"])  # the new Hub not beside it
    assert out["plan"].startswith("hub-prod: r. The old Hub 4.1.4 answers already; bring down what runs of the hub on "
                                  "kubernetes (the new version's). Record it: the attempt (steps done: none)")
    again = going_back_plan(a_back(None, "rolled back on x", rolled_back="done"), dict(run, seen="4.1.4"))
    assert (again["record"], again["start"], again["stop"]) == (False, False, ["kubernetes"])
    assert again["plan"].endswith("on kubernetes (the new version's). Nothing to record.")
    one = going_back_plan(a_back(True, "r"), dict(run, seen="4.1.4", orchestrations=["compose", "compose"]))
    assert one["stop"] == [] and one["plan"].startswith("hub-prod: r. The old Hub 4.1.4 answers already. Record it")
    out = going_back_plan(a_back(None, "rolled back on x", rolled_back="done"), run)  # rolled back, the Hub is down
    assert (out["record"], out["start"]) == (False, True) and out["plan"].endswith("answers 4.1.4. Nothing to record.")
    out = going_back_plan(a_back(False, "step 11 removed the old data"), run)
    assert out == {"record": False, "start": False, "stop": [],
                   "plan": "hub-prod: step 11 removed the old data. Nothing to do."}


def test_the_plan_reads_the_dump_as_it_was_made():
    made = a_state("disk_space", "stop_hub", "start_old_migration", "dump", possible=True, reason="r")
    made["state"] = {"steps": {"dump": {"status": "done", "data": {"databases": {
        "bds_hub": {"file": "bds_hub.dump"}, "bdio": {"file": "bdio.dump"}}}}}}
    mounted = a_run(dump_format="directory", dump_mounts={"old": "/m", "new": "/m"})
    assert plan_lines(made, mounted)[10] == ("step 7 restore: restore the dump (the dump was made in the custom format: "
                                             "streamed), then compare every table exactly")
    made["state"]["steps"]["dump"]["data"]["databases"] = {"bds_hub": {"file": "bds_hub.dir"}}
    assert plan_lines(made, mounted)[10] == ("step 7 restore: restore the dump (pg_restore --jobs 2 inside the new "
                                             "container, the dump folder mounted there), then compare every table "
                                             "exactly")  # as it is asked now
    assert plan_lines(made, a_run())[10] == (
        "step 7 restore: restore the dump (the dump was made in the directory format, which the new database container "
        "reads only through the mounted dump folder, and hub_dump_mount does not mount it now: set it as when the dump "
        "was made, or step 7 refuses), then compare every table exactly")
    external = a_run(data={"old": {"kind": "volume", "name": "hub_data", "label": "hub_data", "remove_hint": "x"},
                           "new": {"kind": "server", "name": "db96:5432", "label": "db96:5432"}})
    assert plan_lines(made, external)[10] == (
        "step 7 restore: restore the dump (the dump was made in the directory format: pg_restore --jobs 2 on this "
        "host), then compare every table exactly")


def test_the_plan_of_a_stream():
    stream = a_run(dump_format="stream", dump_transfer="streamed ... (hub_transfer: stream)",
                   data={"old": {"kind": "volume", "name": "hub_data", "label": "hub_data", "remove_hint": "x"},
                         "new": {"kind": "server", "name": "db96:5432", "label": "db96:5432"}})
    lines = plan_lines(a_state(), stream)
    assert lines[7] == ("step 4 dump: start the new database beside the old one (data: db96:5432), then stream bds_hub, "
                        "bds_hub_report, bdio and the roles from the old database straight into it - no dump file, "
                        "the record of the old side (every table's rows and checksum) in /d/dump (hub_transfer: stream); "
                        "traded for the disk: no dump to restore again, the old data stays the backup until step 11")
    assert lines[10] == ("step 7 restore: nothing to restore (step 4 streamed the data): compare every table of the new "
                         "database exactly with the record of the old side")
    # what step 4 did decides step 7, whatever hub_transfer says now: a stream is compared, a dump restored
    made = a_state("disk_space", "stop_hub", "start_old_migration", "dump", possible=True, reason="r")
    made["state"] = {"steps": {"dump": {"status": "done", "data": {"transfer": "stream", "databases": {
        "bds_hub": {"file": None}}}}}}
    assert plan_lines(made, a_run())[10].startswith("step 7 restore: nothing to restore (step 4 streamed the data)")
    made["state"]["steps"]["dump"]["data"] = {"databases": {"bds_hub": {"file": "bds_hub.dump"}}}
    assert plan_lines(made, stream)[10].startswith("step 7 restore: restore the dump")


def test_the_plan_of_a_stream_between_two_compose_hubs():
    run = a_run(dump_format="stream", dump_transfer="streamed ...", old_apart_project="hub-old-db")
    lines = plan_lines(a_state(), run)
    assert lines[6] == ("step 3 start_old_migration: start 4.1.4 database containers only - apart, as project "
                        "hub-old-db on the old data, so that the new database runs beside them (hub_transfer: stream)")
    assert lines[8] == "step 5 stop_old_migration: bring the old migration containers down (project hub-old-db)"
    assert plan_lines(a_state(), a_run())[8] == "step 5 stop_old_migration: bring the old migration containers down"


def test_going_back_from_step_10_only_when_step_9_ran_in_this_run():
    """A new Hub started by an earlier run may have served: a failed step 10 does not go back then (the next
    attempt would replace what it was given); every other step that goes back does, whatever ran before."""
    table = dict((s["name"], s) for s in _state.step_table())
    assert goes_back_now(table["verify"], ["start_hub", "verify"]) is True
    assert goes_back_now(table["verify"], ["verify"]) is False and goes_back_now(table["verify"]) is False
    assert goes_back_now(table["restore"], []) is True and goes_back_now(table["start_hub"], ["start_hub"]) is True
    assert goes_back_now(table["stop_hub"], ["stop_hub"]) is False  # the Hub's own data, nothing to go back from
    assert goes_back_now(table["remove_old_data"], ["start_hub", "remove_old_data"]) is False
    assert why_not_back(table["restore"], []) == "" and why_not_back(table["verify"], ["start_hub"]) == ""
    assert why_not_back(table["verify"], ["verify"]).startswith("the new Hub started in an earlier run")


def test_no_going_back_once_an_earlier_run_began_step_9():
    """An earlier run killed during step 9 (its record: started), or failed there without going back: the new Hub may
    have come up and served since - a rerun that fails at step 9 or 10 does not go back, though it began step 9
    itself; an earlier run's failure before step 9 changes nothing for it."""
    table = dict((s["name"], s) for s in _state.step_table())
    killed = {"steps": {"start_hub": {"status": "started", "started": "2026-12-07T01:00:00Z"}}}
    for step in ("start_hub", "verify"):
        assert goes_back_now(table[step], ["start_hub", "verify"], {}, killed) is False
        assert why_not_back(table[step], ["start_hub"], {}, killed) == (
            "an earlier run began step 9 (the new Hub's start, on 2026-12-07T01:00:00Z) and left it started: the new "
            "Hub may have come up and served since, and going back would lose what it was given")
    failed = {"steps": {"start_hub": {"status": "failed", "started": "2026-12-07T01:00:00Z"}}}
    said = why_not_back(table["start_hub"], ["start_hub"], None, failed)
    assert said.endswith("and left it failed: the new Hub may have come up and served since, and going back would "
                         "lose what it was given")
    assert goes_back_now(table["restore"], ["restore"], {}, killed) is True  # before step 9: as before
    fresh = {"steps": {"restore": {"status": "failed"}}}
    assert goes_back_now(table["start_hub"], ["start_hub"], {}, fresh) is True
    assert goes_back_now(table["verify"], ["start_hub", "verify"], {}, fresh) is True


def test_the_plan_says_a_run_will_not_go_back_after_an_earlier_run_began_step_9():
    found = a_state("disk_space", "stop_hub", "start_old_migration", "dump", "stop_old_migration",
                    "start_new_migration", "restore", "stop_new_migration", possible=True, reason="r")
    found["state"] = {"steps": {"start_hub": {"status": "started", "started": "2026-12-07T01:00:00Z"}}}
    line = plan_lines(found, a_run(rollback_on_failure=True))[2]
    assert line.endswith("a failure after step 2 goes back by itself (hub_rollback_on_failure), but not at step 9 or "
                         "10: an earlier run began step 9 (the new Hub's start, on 2026-12-07T01:00:00Z) and left it "
                         "started: the new Hub may have come up and served since, and going back would lose what it "
                         "was given"), line
    found["state"] = {}
    assert plan_lines(found, a_run(rollback_on_failure=True))[2].endswith("(hub_rollback_on_failure)")


def test_no_going_back_over_data_another_run_restored():
    """A restore (step 7, or step 4 of a stream) that refused because the new database holds Hub data not from this
    run's dump (another run's migration, a new Hub that served) does not go back: the old Hub would start on older
    data beside it. Any other failure of those steps does."""
    table = dict((s["name"], s) for s in _state.step_table())
    other = {"failed": True, "msg": "the target's bds_hub holds Hub data ...", "target_holds_other_data": True}
    for step in ("dump", "restore"):
        assert goes_back_now(table[step], [step], other) is False
        assert why_not_back(table[step], [step], other).startswith("the new database holds Hub data that did not come")
        assert goes_back_now(table[step], [step], {"failed": True, "msg": "pg_restore died"}) is True
        assert goes_back_now(table[step], [step], {"target_holds_other_data": False}) is True
    # nor a later run's failure of another kind (that database down, say) while the state still records the refusal
    marker = {"dump_id": "d-other", "complete": False}
    found = _state.apply(_state.apply(_state.new_state("h"), "restore", "started"), "restore", "failed",
                         {"other_data": marker})
    assert why_not_back(table["restore"], ["restore"], {"failed": True, "msg": "no connection"}, {}, found).startswith(
        "the new database holds Hub data that did not come")
    assert goes_back_now(table["verify"], ["start_hub"], {"failed": True}, {}, found) is False
    # once that step is done (hub_force_restore, say), a later failure goes back again - though the state as the run
    # found it still recorded the refusal
    later = _state.apply(_state.apply(found, "restore", "done"), "stop_new_migration", "failed")
    assert why_not_back(table["stop_new_migration"], ["restore", "stop_new_migration"], {"failed": True}, found,
                        later) == ""
    run = a_run(rollback_on_failure=True)  # and the plan says going back is refused, and why
    said = plan_lines(dict(a_state("restore", possible=True, reason="r"), other_data=_state.other_data(found)), run)[2]
    assert said.startswith("going back: refused with this inventory - step 7 (restore) of this run found, on %s, that "
                           "the new database holds another run's migration (dump d-other)"
                           % found["steps"]["restore"]["data"]["other_data"]["found"])
