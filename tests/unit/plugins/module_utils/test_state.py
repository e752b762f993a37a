"""module_utils/_state.py: the migration state file, its steps and their transitions."""
import json
import os
import stat
import time

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _manifest, _state


@pytest.fixture
def clock(monkeypatch):
    """_state.now() returns the stamps pushed here, in order; the last one again once they run out."""
    stamps = []
    monkeypatch.setattr(_state, "now", lambda: stamps.pop(0) if len(stamps) > 1 else stamps[0])
    return stamps


def test_steps_are_numbered_one_to_eleven():
    assert [n for n, dummy, dummy2 in _state.STEPS] == list(range(1, 12))
    assert _state.STEP_NAMES[4] == "dump" and _state.STEP_NUMBERS["restore"] == 7
    assert len(set(_state.STEP_NUMBERS)) == 11


def test_new_state(clock):
    clock.append("2024-01-02T03:04:05Z")
    assert _state.new_state("hub1") == {"format": "blackduck.hub/migration-state", "hub": "hub1",
                                        "created": "2024-01-02T03:04:05Z", "steps": {}, "status": "pending"}


def test_now_format():
    stamp = _state.now()
    assert len(stamp) == 20 and stamp[4] == "-" and stamp[10] == "T" and stamp.endswith("Z")


@pytest.mark.parametrize("step, key", [
    (1, "disk_space"), ("1", "disk_space"), (4, "dump"), ("4", "dump"), ("dump", "dump"), (11, "remove_old_data"),
    ("11", "remove_old_data"), ("restore", "restore"),
])
def test_step_key(step, key):
    assert _state.step_key(step) == key


@pytest.mark.parametrize("step, message", [
    (0, "step 0: the steps are 1 to 11"),
    (12, "step 12: the steps are 1 to 11"),
    ("12", "step 12: the steps are 1 to 11"),
    ("dumping", "step 'dumping': one of disk_space, stop_hub,"),
    ("", "step '': one of"),
])
def test_step_key_errors(step, message):
    with pytest.raises(ValueError) as info:
        _state.step_key(step)
    assert str(info.value).startswith(message)


def test_started_then_done_with_seconds(clock):
    clock += ["2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z", "2024-01-01T10:02:05Z"]
    s0 = _state.new_state("hub1")
    s1 = _state.apply(s0, 4, "started")
    assert s0["steps"] == {}  # the input is not modified
    assert s1["steps"]["dump"] == {"number": 4, "status": "started", "started": "2024-01-01T10:00:00Z"}
    assert s1["last_done"] == 0 and s1["status"] == "pending" and s1["updated"] == "2024-01-01T10:00:00Z"
    assert not _state.done(s1, 4)
    s2 = _state.apply(s1, "dump", "done", data={"dump_id": "abc"})
    entry = s2["steps"]["dump"]
    assert entry["status"] == "done" and entry["finished"] == "2024-01-01T10:02:05Z"
    assert entry["seconds"] == 125
    assert entry["data"] == {"dump_id": "abc"}
    assert s2["last_done"] == 4 and s2["status"] == "in progress"
    assert _state.done(s2, 4) and _state.done(s2, "4") and _state.done(s2, "dump")


@pytest.fixture
def berlin(monkeypatch):
    """The process's local time zone is one with daylight saving time."""
    if not os.path.exists("/usr/share/zoneinfo/Europe/Berlin"):
        pytest.skip("no tzdata for Europe/Berlin")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_seconds_across_a_local_dst_change(clock, berlin):
    # 2024-03-31 01:00 UTC is when Berlin moves its clocks forward; the step ran for three hours.
    clock += ["2024-03-31T00:00:00Z", "2024-03-31T00:30:00Z", "2024-03-31T03:30:00Z"]
    s = _state.apply(_state.apply(_state.new_state("h"), 4, "started"), 4, "done")
    assert s["steps"]["dump"]["seconds"] == 3 * 3600


def test_done_without_started_has_no_seconds(clock):
    clock.append("2024-01-01T10:00:00Z")
    s = _state.apply(_state.new_state("h"), 1, "done")
    assert "seconds" not in s["steps"]["disk_space"] and s["steps"]["disk_space"]["finished"]


def test_data_is_merged_and_message_kept(clock):
    clock += ["2024-01-01T00:00:0%dZ" % i for i in range(3)]
    s = _state.apply(_state.new_state("h"), 7, "started", data={"a": 1})
    s = _state.apply(s, 7, "failed", data={"b": 2}, message="pg_restore reported errors")
    entry = s["steps"]["restore"]
    assert entry["data"] == {"a": 1, "b": 2}
    assert entry["message"] == "pg_restore reported errors"
    # a new start clears the message and the finish time
    s = _state.apply(s, 7, "started")
    assert "message" not in s["steps"]["restore"] and "finished" not in s["steps"]["restore"]
    assert s["steps"]["restore"]["data"] == {"a": 1, "b": 2}


def test_failed_step_set_then_cleared_when_that_step_completes(clock):
    clock += ["2024-01-01T00:00:%02dZ" % i for i in range(10)]
    s = _state.new_state("h")
    for n in (1, 2, 3):
        s = _state.apply(s, n, "done")
    s = _state.apply(s, 4, "started")
    s = _state.apply(s, 4, "failed", message="disk full")
    assert s["status"] == "failed" and s["failed_step"] == 4 and s["last_done"] == 3
    assert _state.next_step(s) == 4
    s = _state.apply(s, 4, "started")
    assert s["failed_step"] == 4  # still failed until it completes
    s = _state.apply(s, 4, "done")
    assert "failed_step" not in s and s["status"] == "in progress" and s["last_done"] == 4
    assert _state.next_step(s) == 5


def test_another_step_done_does_not_clear_the_failure(clock):
    clock += ["2024-01-01T00:00:%02dZ" % i for i in range(5)]
    s = _state.apply(_state.new_state("h"), 5, "failed")
    s = _state.apply(s, 2, "done")
    assert s["failed_step"] == 5 and s["last_done"] == 2


def test_last_done_is_the_highest_done_step(clock):
    clock += ["2024-01-01T00:00:%02dZ" % i for i in range(5)]
    s = _state.new_state("h")
    s = _state.apply(s, 6, "done")
    s = _state.apply(s, 2, "done")
    s = _state.apply(s, 9, "started")
    assert s["last_done"] == 6
    assert _state.next_step(s) == 1  # the first step not done, not the one after last_done


def test_next_step_and_done_edge_cases(clock):
    clock.append("2024-01-01T00:00:00Z")
    assert _state.next_step(None) == 1 and _state.next_step(_state.new_state("h")) == 1
    assert _state.done(None, 1) is False and _state.done({}, "dump") is False
    s = {"steps": {name: {"status": "done"} for dummy, name, dummy2 in _state.STEPS}}
    assert _state.next_step(s) is None
    s["steps"]["verify"]["status"] = "failed"
    assert _state.next_step(s) == 10


def test_apply_rejects_unknown_steps(clock):
    with pytest.raises(ValueError):
        _state.apply({"steps": {}}, 13, "done")


def test_save_load_round_trip(tmp_path, clock):
    clock += ["2024-01-01T00:00:00Z"] * 3
    s = _state.apply(_state.new_state("hub1"), 1, "done", data={"free": 123})
    path = str(tmp_path / "sub" / "dir" / "hub1.json")
    _state.save(path, s)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / "sub" / "dir")).st_mode) & 0o077 == 0
    assert os.listdir(str(tmp_path / "sub" / "dir")) == ["hub1.json"]
    assert _state.load(path) == s
    s2 = _state.apply(s, 2, "done")
    _state.save(path, s2)
    assert _state.load(path)["last_done"] == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_load_missing_is_none(tmp_path):
    assert _state.load(str(tmp_path / "none.json")) is None


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"format": "blackduck.hub/dump-manifest"}))
    with pytest.raises(ValueError, match="not a blackduck.hub migration state file"):
        _state.load(str(path))


# ------------------------------------------------------------------------------------------ the table and the rule

def states(*done_steps):
    return {"steps": {name: {"status": "done"} for name in done_steps}}


def due_now(state, options=None, run_tags=("all",), skip_tags=()):
    return [s["name"] for s in _state.step_table() if _state.due(s, state, options, run_tags, skip_tags)]


def test_the_table_is_the_eleven_steps_in_order():
    table = _state.step_table()
    assert [(s["number"], s["name"]) for s in table] == [(n, name) for n, name, dummy in _state.STEPS]
    old = ["stop_hub", "start_old_migration", "stop_old_migration", "remove_old_data"]
    assert [s["name"] for s in table if s["side"] == "old"] == old
    assert [s["name"] for s in table if s["side"] == "new"] == ["start_new_migration", "stop_new_migration", "start_hub"]
    assert table[3]["tags"] == ["step4", "dump"] and table[10]["option"] == "hub_remove_old_data"
    # the steps that are only an entry point of the orchestration contract, on their side
    assert [(s["number"], s["entry"], s["side"]) for s in table if s["entry"]] == [
        (3, "start_migration", "old"), (5, "stop_migration", "old"), (6, "start_migration", "new"),
        (8, "stop_migration", "new"), (9, "start", "new")]
    # a failure goes back (hub_rollback_on_failure) only between the Hub going down and the old data deleted
    assert [s["number"] for s in table if s["goes_back"]] == list(range(3, 11))
    # the setting a step's waits run out against, named when one does (none where a step has several, or none)
    assert dict((s["number"], s["timeout"]) for s in table if s["timeout"]) == {
        2: "hub_stop_timeout", 3: "hub_migration_timeout", 5: "hub_stop_timeout", 6: "hub_migration_timeout",
        8: "hub_stop_timeout", 9: "hub_start_timeout"}


def run_through(state, options=None, run_tags=("all",), skip_tags=()):
    """The steps one run does, as the runner asks before each step (each due step then recorded done)."""
    ran = []
    for step in _state.step_table():
        if _state.due(step, state, options, run_tags, skip_tags):
            ran.append(step["name"])
            state = _state.apply(state, step["name"], "done")
    return ran


def test_the_resume_rule(clock):
    clock.extend(["2024-01-02T03:00:00Z"] * 40)
    everything_but_removal = [n for dummy, n, dummy2 in _state.STEPS][:-1]
    assert run_through(states()) == everything_but_removal  # a first run; removal is off by default
    # what stands on the dump (steps 5 to 7), the new Hub (9, 10) and removal (11) wait for the steps before them,
    # which this same run does first: the runner asks again before each step
    assert due_now(states(), {"hub_remove_old_data": True}) == everything_but_removal[:4]
    assert run_through(states(), {"hub_remove_old_data": True}) == everything_but_removal + ["remove_old_data"]
    # failed at the dump: step 1 and 2 are not repeated; step 3 re-establishes the old database for the dump
    assert run_through(states("disk_space", "stop_hub", "start_old_migration")) == everything_but_removal[2:]
    # the dump done: step 1 is not needed any more even if it was never recorded, nor step 3
    assert run_through(states("stop_hub", "dump")) == [
        "stop_old_migration", "start_new_migration", "restore", "stop_new_migration", "start_hub", "verify"]
    # failed at step 9: the new database is not started again in migration mode (the restore is done)
    assert run_through(states(*everything_but_removal[:8])) == ["start_hub", "verify"]
    # removal only once verify is done, and only when asked
    assert run_through(states(*everything_but_removal)) == []
    assert run_through(states(*everything_but_removal), {"hub_remove_old_data": True}) == ["remove_old_data"]
    assert due_now(states(*everything_but_removal[:9]), {"hub_remove_old_data": True}) == ["verify"]
    assert run_through(states(*[n for dummy, n, dummy2 in _state.STEPS]), {"hub_remove_old_data": True}) == []


def test_tags_never_skip_what_a_later_step_stands_on(clock):
    """The new Hub starts only on a restore that passed its exact check (step 7), step 10 checks only a started Hub,
    and step 11 follows step 10: skipping step 7 (its check failed) must not lead to step 11 deleting the old data."""
    clock.extend(["2024-01-02T03:00:00Z"] * 40)
    before_restore = [n for dummy, n, dummy2 in _state.STEPS][:6]
    assert run_through(states(*before_restore), {"hub_remove_old_data": True}, skip_tags=["restore"]) == [
        "start_new_migration"]  # the new database up for a restore: nothing more (step 8 stands on the restore)
    assert run_through(states(*before_restore), run_tags=["step9", "step10", "step11"]) == []
    assert [(s["number"], s["after"]) for s in _state.step_table() if s["after"]] == [
        (5, ["dump"]), (6, ["dump"]), (7, ["dump"]), (8, ["restore"]), (9, ["restore"]), (10, ["start_hub"]),
        (11, ["verify"])]
    # nor what the dump stands on: without a dump, the new database is not started (on Kubernetes on the old one's
    # hostPath, that moves the old data aside) nor restored into, whatever the tags
    before_dump = [n for dummy, n, dummy2 in _state.STEPS][:3]
    assert run_through(states(*before_dump), run_tags=["step5", "step6", "step7"]) == []
    assert run_through(states(*before_dump), skip_tags=["dump"]) == ["start_old_migration"]
    assert run_through(states(), skip_tags=["step4"]) == ["disk_space", "stop_hub", "start_old_migration"]
    # a run with the restore skipped leaves step 8 to the run that restores: never recorded done before it, so the
    # new database's migration containers go down before step 9 starts the new Hub
    skipped = states(*before_dump + ["dump", "stop_old_migration", "start_new_migration"])
    assert run_through(skipped, skip_tags=["restore"]) == ["start_new_migration"]
    assert run_through(skipped) == ["start_new_migration", "restore", "stop_new_migration", "start_hub", "verify"]


def test_no_step_while_going_back_has_not_ended(clock):
    """Going back began and failed (or stopped midway): the old Hub may serve and write again, while the step records
    still say where the upgrade was. Resuming would start the new Hub on an old dump; step 11 would delete the data
    the old Hub runs on. Nothing is due until a rollback is recorded done."""
    clock.extend(["2024-01-02T03:00:00Z"] * 40)
    upgraded = states(*[n for dummy, n, dummy2 in _state.STEPS][:10])
    assert _state.rollback_unfinished(upgraded) is None
    for status in ("started", "failed"):
        state = _state.rollback(upgraded, "started")
        if status == "failed":
            state = _state.rollback(state, "failed", message="the old Hub did not answer.")
        assert run_through(state, {"hub_remove_old_data": True}) == []
        why = _state.rollback_unfinished(state)
        assert why.startswith("going back to the old version began 2024-01-02T03:00:00Z and %s"
                              % ("failed (the old Hub did not answer)" if status == "failed" else "did not end"))
        assert "run blackduck.hub.rollback_hub again until it ends" in why
        assert _state.going_back(state)[0] is True  # the rollback itself may run again
        done = _state.rollback(state, "done")
        assert _state.rollback_unfinished(done) is None and run_through(done)[0] == "disk_space"


def test_a_state_file_of_another_hub_is_refused():
    assert _state.check_hub(None, "b", "/d/state.json") is None
    assert _state.check_hub({"hub": "a"}, "a", "/d/state.json") == {"hub": "a"}
    assert _state.check_hub({"hub": "a"}, None, "/d/state.json") == {"hub": "a"}  # read without a name: as it is
    with pytest.raises(_state.OtherHubsState, match=r"^/d/state\.json is the state of hub a, not b: each hub needs a "
                                                    r"hub_dump_dir of its own"):
        _state.check_hub({"hub": "a"}, "b", "/d/state.json")


def test_tags_choose_steps():
    assert due_now(states(), run_tags=["step4"]) == ["dump"]
    assert due_now(states(), run_tags=["step1", "stop_hub", "step3", "dump"]) == [
        "disk_space", "stop_hub", "start_old_migration", "dump"]
    assert due_now(states(), run_tags=["always"]) == due_now(states())  # --tags always: every step due
    assert due_now(states(), skip_tags=["step9", "verify"]) == [
        "disk_space", "stop_hub", "start_old_migration", "dump"]  # 5 to 7 once the dump is done, 8 once the restore
    assert run_through(states(), skip_tags=["step9", "verify"]) == [
        "disk_space", "stop_hub", "start_old_migration", "dump", "stop_old_migration", "start_new_migration",
        "restore", "stop_new_migration"]


def _upgraded_to(last, clock, failed=None):
    clock.extend(["2024-01-02T03:00:00Z", "2024-01-02T03:00:10Z"])
    state = _state.new_state("hub1")
    for n in range(1, last + 1):
        state = _state.apply(state, n, "done", {"dump_id": "d1"} if n == 4 else None)
    if failed:
        state = _state.apply(state, failed, "failed", message="disk full")
    return state


def test_going_back_follows_the_attempt(clock):
    clock.append("2024-01-02T03:00:00Z")
    assert _state.going_back(_state.new_state("hub1"))[0] is None
    assert _state.going_back(_upgraded_to(1, clock))[0] is None  # the Hub was never taken down
    possible, reason = _state.going_back(_upgraded_to(6, clock, failed=7))
    assert possible is True and "untouched" in reason
    state = _state.apply(_upgraded_to(10, clock), 11, "started")  # step 11 began: the old data may be half gone
    possible, reason = _state.going_back(state)
    assert possible is False and reason.startswith("step 11 removed the old data")
    assert _state.going_back(_state.apply(state, 11, "done"))[0] is False
    # an old external server: step 11 leaves it as it was, so the way back stays open
    kept = _state.apply(state, 11, "done", {"old_data_kept": True})
    assert _state.going_back(kept)[0] is True


def test_a_rollback_keeps_the_attempt_and_starts_the_next_one_at_step_one(clock):
    state = _upgraded_to(6, clock, failed=7)
    clock[:] = ["2024-01-02T04:00:00Z", "2024-01-02T04:01:05Z"]
    started = _state.rollback(state, "started")
    assert started["rollback"] == {"status": "started", "started": "2024-01-02T04:00:00Z", "from_step": 6,
                                   "failed_step": 7}
    assert started["steps"] == state["steps"]  # nothing moves until the old Hub serves again
    rolled = _state.rollback(started, "done", archived_dump="/d/dump-rolled-back-x", old_version="4.1.4")
    assert rolled["steps"] == {} and rolled["status"] == "rolled back" and rolled["last_done"] == 0
    assert "failed_step" not in rolled and _state.next_step(rolled) == 1
    assert rolled["rollback"]["status"] == "done" and rolled["rollback"]["seconds"] == 65
    assert rolled["rollback"]["old_version"] == "4.1.4"
    assert rolled["attempts"] == [{"steps": state["steps"], "dump_id": "d1", "status": "failed", "last_done": 6,
                                   "failed_step": 7, "rolled_back": "2024-01-02T04:01:05Z",
                                   "dump_dir": "/d/dump-rolled-back-x"}]
    assert _state.rolled_back_dumps(rolled) == ["d1"]
    assert _state.going_back(rolled)[0] is None and "rolled back on" in _state.going_back(rolled)[1]
    # the next attempt records its steps afresh; the history stays
    again = _state.apply(rolled, 1, "done")
    assert _state.done(again, 1) and not _state.done(again, 4) and again["attempts"] == rolled["attempts"]
    assert _state.rolled_back_dumps(_state.new_state("x")) == []


def test_a_failed_rollback_keeps_the_attempt_for_another_try(clock):
    state = _state.rollback(_upgraded_to(9, clock), "started")
    failed = _state.rollback(state, "failed", message="the old Hub did not start")
    assert failed["steps"] == state["steps"] and failed["rollback"]["status"] == "failed"
    assert failed["rollback"]["message"] == "the old Hub did not start" and "attempts" not in failed
    assert _state.going_back(failed)[0] is True


def test_archive_dump_moves_the_folder_aside_never_over_another(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "gmtime", lambda *a: time.struct_time((2024, 1, 2, 3, 4, 5, 1, 2, 0)))
    assert _state.archive_dump(str(tmp_path / "dump")) is None
    for n in (1, 2):
        (tmp_path / "dump").mkdir()
        (tmp_path / "dump" / "manifest.json").write_text(str(n))
        moved = _state.archive_dump(str(tmp_path / "dump") + "/")
        assert moved == str(tmp_path / "dump-rolled-back-20240102T030405Z") + ("" if n == 1 else "-2")
        assert open(os.path.join(moved, "manifest.json")).read() == str(n)
    assert not (tmp_path / "dump").exists()


def test_another_runs_migration_is_told_apart_from_this_hubs_own(tmp_path, clock):
    clock.append("2024-01-02T03:00:00Z")
    theirs = tmp_path / "other"
    theirs.mkdir()
    marker = {"complete": True, "dump_id": "d-other", "restored": "2024-01-01T10:00:00Z",
              "dump_dir": str(theirs / "dump")}
    mine = _state.apply(_state.new_state("hub1"), "dump", "done", {"dump_id": "d-mine"})
    assert _state.other_run(None, mine) is None and _state.other_run({}, mine) is None
    assert _state.other_run(dict(marker, dump_id="d-mine"), mine) is None  # this attempt's own restore
    assert _state.other_run(dict(marker, complete=False), mine) is None  # a restore that never finished: not a run's
    restored_only = _state.apply(_state.new_state("hub1"), "restore", "done", {"dump_id": "d-other"})
    assert _state.other_run(marker, restored_only) is None  # this attempt's restore, its dump record gone or never kept
    rolled = dict(mine, attempts=[{"dump_id": "d-other"}])
    assert _state.other_run(marker, rolled) is None  # this hub's own rolled-back attempt: the new restore replaces it
    # a stream that stopped before step 4 was recorded (no dump id in the state), after bds_hub had completed: the
    # stream's record in this attempt's dump folder names the marker - its own, resumed, whoever's state is read
    stopped = _state.apply(_state.apply(_state.new_state("hub1"), "stop_hub", "done"), "dump", "failed")
    mine_dir = tmp_path / "mine" / "dump"
    mine_dir.mkdir(parents=True)
    _manifest.write(str(mine_dir), {"dump_id": "d-other", "options": {"format": "stream"}})
    assert _state.other_run(dict(marker, dump_dir=str(mine_dir)), stopped, str(mine_dir)) is None
    assert _state.other_run(marker, stopped, str(mine_dir)) is None
    assert _state.other_run(marker, stopped, str(tmp_path / "none"))["finished"] is False  # no record: another run's
    # not evidence enough: a state that never began step 4 (a lost state file), or a complete dump's manifest there
    assert _state.other_run(marker, _state.new_state("hub1"), str(mine_dir))["finished"] is False
    _manifest.write(str(mine_dir), {"dump_id": "d-other", "options": {"format": "custom"}})
    assert _state.other_run(marker, stopped, str(mine_dir))["finished"] is False

    out = _state.other_run(marker, mine)  # its state file is missing
    assert out == {"finished": False, "message": (
        "this hub was migrated by another run (dump d-other restored 2024-01-01T10:00:00Z, dump folder %s), which has "
        "not finished (its state: steps done unknown): run that inventory again (hub_dump_dir %s) to finish it. This "
        "run changes nothing." % (theirs / "dump", theirs))}
    state = _state.new_state("hub1")
    for step in range(1, 8):
        state = _state.apply(state, step, "done")
    _state.save(str(theirs / "state.json"), state)
    assert "(its state: steps done disk_space, stop_hub, start_old_migration, dump, stop_old_migration, " \
           "start_new_migration, restore)" in _state.other_run(marker, mine)["message"]
    for step in (8, 9):
        state = _state.apply(state, step, "done")
    _state.save(str(theirs / "state.json"), state)
    # started, not verified (its step 10 failed, say, and it did not go back): not finished - the new Hub serves
    # unverified, and that run's own inventory resumes at step 10
    assert _state.other_run(marker, mine)["finished"] is False
    state = _state.apply(state, 10, "done")
    _state.save(str(theirs / "state.json"), state)
    out = _state.other_run(dict(marker, dump_dir=str(theirs / "dump") + "/"), mine)
    assert out["finished"] is True
    assert out["message"].endswith(", verified and started (its state: steps disk_space, stop_hub, start_old_migration, "
                                   "dump, stop_old_migration, start_new_migration, restore, stop_new_migration, "
                                   "start_hub, verify). This run changes nothing.")
    (theirs / "state.json").write_text("not json")
    assert "steps done unknown" in _state.other_run(marker, mine)["message"]  # unreadable: as good as missing


def test_a_restore_refused_over_another_runs_migration_is_kept_until_the_step_is_done(clock):
    """The failed step's other_data (db_restore's other_restore, as the rescue records it) makes other_data() say why
    going back with this inventory is refused - whether or not that database answers later, its marker complete or
    not - through reruns that fail again or are cut off, until that step is done."""
    clock.append("2024-01-02T03:00:00Z")
    state = _state.new_state("hub1")
    for step in range(1, 7):
        state = _state.apply(state, step, "done")
    assert _state.other_data(state) is None
    state = _state.apply(state, "restore", "started")
    marker = {"dump_id": "d-other", "complete": False, "dump_dir": "/other/hub1/dump"}
    clock[:] = ["2024-01-02T03:05:00Z", "2024-01-02T03:10:00Z", "2024-01-02T03:20:00Z"]
    failed = _state.apply(state, "restore", "failed", {"services": [], "other_data": marker}, "refused")
    out = _state.other_data(failed)
    assert out["dump_id"] == "d-other" and failed["steps"]["restore"]["data"]["other_data"]["found"] == "2024-01-02T03:05:00Z"
    assert out["message"].startswith("step 7 (restore) of this run found, on 2024-01-02T03:05:00Z, that the new "
                                     "database holds another run's migration (dump d-other, dump folder /other/hub1/dump)")
    assert out["message"].endswith("set hub_rollback_beside_dump: d-other.")
    assert ", restored 2024-01-01" in _state.other_data(_state.apply(
        state, "restore", "failed", {"other_data": dict(marker, restored="2024-01-01T00:00:00Z")}))["message"]
    again = _state.apply(failed, "restore", "started")  # a rerun, cut off before it fails or ends: still refused
    assert _state.other_data(again)["dump_id"] == "d-other"
    later = _state.apply(again, "restore", "failed", {"services": []})  # failed again, otherwise: when it was found
    assert _state.other_data(later)["dump_id"] == "d-other" and ", on 2024-01-02T03:05:00Z," in _state.other_data(later)["message"]
    done = _state.apply(again, "restore", "done", {"dump_id": "d-mine"})  # restored since (hub_force_restore, say)
    assert _state.other_data(done) is None and "other_data" not in done["steps"]["restore"]["data"]
    assert _state.other_data(_state.apply(state, "restore", "failed", {"services": []})) is None  # another failure


def test_a_failure_keeps_what_ran_until_the_step_starts_again_and_its_log_line(clock):
    clock.extend(["2024-01-02T03:00:00Z"])
    running = [{"name": "hub-postgres-1", "state": "exited"}]
    state = _state.apply(_state.new_state("hub1"), "dump", "failed", {"services": running, "dump_id": "d1"}, "disk full")
    assert state["steps"]["dump"]["data"] == {"services": running, "dump_id": "d1"}
    assert _state.log_text("dump", "failed", "disk full", {"services": running}) == (
        'step 4 dump FAILED: disk full | the hub: [{"name": "hub-postgres-1", "state": "exited"}]')
    assert _state.log_text(2, "started") == "step 2 stop_hub STARTED"
    assert _state.log_text(None, "done") == "rollback DONE"
    again = _state.apply(state, "dump", "started")
    assert again["steps"]["dump"]["data"] == {"dump_id": "d1"} and "message" not in again["steps"]["dump"]
    assert state["steps"]["dump"]["data"]["services"] == running  # the input is not modified


def test_the_old_hub_is_wanted_while_the_way_back_is_open_or_once_rolled_back(clock):
    clock.append("2024-01-02T03:00:00Z")
    assert _state.old_hub_wanted(_state.new_state("hub1")) is False  # never taken down: nothing to bring back
    down = _upgraded_to(2, clock)
    assert _state.old_hub_wanted(down) is True
    clock[:] = ["2024-01-02T04:00:00Z"]
    assert _state.old_hub_wanted(_state.rollback(down, "done")) is True  # serves again; going back only checks it
    removed = _state.apply(_upgraded_to(10, clock), 11, "done")
    assert _state.old_hub_wanted(removed) is False


def test_an_attempt_stopped_mid_stream_is_named_by_its_record(clock, tmp_path):
    """Step 4 of hub_transfer: stream failed (no dump_id in the step records), the record written before the stream
    began names the data in the new database: going back keeps its id, so the next attempt replaces that data."""
    state = _upgraded_to(3, clock, failed=4)
    folder = tmp_path / "dump-rolled-back-x"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"format": "blackduck.hub/dump-manifest", "dump_id": "s-9",
                                                      "options": {"format": "stream"}}))
    clock[:] = ["2024-01-02T04:00:00Z", "2024-01-02T04:01:00Z", "2024-01-02T04:02:00Z"]
    rolled = _state.rollback(_state.rollback(state, "started"), "done", archived_dump=str(folder))
    assert rolled["attempts"][0]["dump_id"] == "s-9" and _state.rolled_back_dumps(rolled) == ["s-9"]
    assert _state.archived_dump_id(str(tmp_path / "none")) is None and _state.archived_dump_id(None) is None


def test_a_damaged_state_file_is_named(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"format": "blackduck.hub/migration-state", "steps": {')  # cut short
    with pytest.raises(ValueError) as info:
        _state.load(str(path))
    assert str(info.value).startswith("%s is not valid JSON (" % path)
    assert str(info.value).endswith("): it was cut short or changed by hand")
    assert path.read_text().endswith('"steps": {')  # left as it was
