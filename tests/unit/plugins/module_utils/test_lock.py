"""module_utils/_lock.py: one migration at a time per hub."""
import os

from ansible_collections.blackduck.hub.plugins.module_utils import _lock as lock

KEY = "docker:ENGINE:compose:hub"


def holder(run, **kw):
    return dict({"run": run, "controller": "c1", "pid": 1}, **kw)


def test_one_holder_at_a_time(tmp_path):
    path = lock.lock_path(str(tmp_path / "locks"), KEY)
    assert lock.acquire(path, KEY, holder("a")) == ("acquired", None)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600" and oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    assert lock.read(path) == (KEY, holder("a"))
    assert lock.acquire(path, KEY, holder("a")) == ("held", holder("a"))  # idempotent for its holder
    assert lock.acquire(path, KEY, holder("b")) == ("busy", holder("a"))
    assert lock.release(path, holder("b")) == "held_by_another" and os.path.exists(path)
    assert lock.release(path, holder("a")) == "released" and not os.path.exists(path)
    assert lock.release(path, holder("a")) == "not_held"


def test_the_key_names_the_file_not_the_dump_folder(tmp_path):
    d = str(tmp_path)
    assert lock.lock_path(d, KEY) == lock.lock_path(d, KEY)
    assert lock.lock_path(d, KEY) != lock.lock_path(d, KEY + "2")
    assert os.path.basename(lock.lock_path(d, "a/b c")).startswith("hub-")


def test_take_over_only_the_stale_holder_named(tmp_path):
    path = lock.lock_path(str(tmp_path), KEY)
    lock.acquire(path, KEY, holder("dead"))
    assert lock.acquire(path, KEY, holder("b"), take_over="someone-else") == ("busy", holder("dead"))
    assert lock.acquire(path, KEY, holder("b"), take_over="dead") == ("taken_over", holder("dead"))
    assert lock.read(path)[1] == holder("b")
    assert lock.acquire(path, KEY, holder("c"), take_over="dead") == ("busy", holder("b"))  # too late
    assert [f for f in os.listdir(str(tmp_path)) if "stale" in f] == []


def test_a_lock_is_never_seen_half_written(tmp_path, monkeypatch):
    """The same hub twice in one inventory, its hosts in parallel: the second reads the first's lock while it is being
    written - it must find no lock yet, or the whole holder (which names that run), never an empty file."""
    path = lock.lock_path(str(tmp_path), KEY)
    seen = []
    dump = lock.json.dump

    def dump_and_look(obj, f, **kw):
        seen.append(lock.read(path))  # another run, right now
        dump(obj, f, **kw)
        f.flush()
        seen.append(lock.read(path))

    monkeypatch.setattr(lock.json, "dump", dump_and_look)
    assert lock.acquire(path, KEY, holder("a")) == ("acquired", None)
    assert seen == [(None, None), (None, None)]
    monkeypatch.undo()
    assert lock.read(path) == (KEY, holder("a")) and os.listdir(str(tmp_path)) == [os.path.basename(path)]
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert lock.acquire(path, KEY, holder("b")) == ("busy", holder("a"))
    assert os.listdir(str(tmp_path)) == [os.path.basename(path)]  # the loser's file beside is gone too


def test_a_file_that_is_not_a_lock_is_never_free(tmp_path):
    path = lock.lock_path(str(tmp_path), KEY)
    with open(path, "w") as f:
        f.write("garbage")
    status, who = lock.acquire(path, KEY, holder("b"))
    assert status == "busy" and "unreadable lock file" in who["run"]


def test_call_takes_all_or_none_and_check_mode_only_looks(tmp_path):
    """hub_lock's work (_lock.call, the module's and the action plugin's in its own process): a key held by another
    run makes the call give back what it took of the others; check mode says free, held or busy and writes nothing;
    absent gives back only this run's."""
    d = str(tmp_path)
    me, other = holder("run-me"), holder("run-other")
    assert lock.call(["b"], "present", other, lock_dir=d)["changed"] is True
    seen = lock.call(["a", "b"], "present", me, lock_dir=d, check_mode=True)
    assert [e["status"] for e in seen["locks"]] == ["free", "busy"] and not seen["changed"]
    assert not os.path.exists(lock.lock_path(d, "a"))  # only looked
    busy = lock.call(["a", "b"], "present", me, lock_dir=d)
    assert busy["busy"] is True and [e["status"] for e in busy["locks"]] == ["acquired", "busy"]
    assert busy["locks"][1]["holder"]["run"] == "run-other" and not os.path.exists(lock.lock_path(d, "a"))  # given back
    assert lock.call(["b"], "absent", me, lock_dir=d)["changed"] is False  # not this run's: kept
    assert lock.read(lock.lock_path(d, "b"))[1]["run"] == "run-other"
    taken = lock.call(["a"], "present", me, lock_dir=d)
    assert taken == {"changed": True, "busy": False, "locks": [dict(key="a", path=lock.lock_path(d, "a"),
                                                                    status="acquired", holder=taken["locks"][0]["holder"])]}
    assert lock.call(["a"], "present", me, lock_dir=d, check_mode=True)["locks"][0]["status"] == "held"


def test_call_says_what_to_do_when_the_folder_cannot_be_used(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    try:
        lock.call(["a"], "present", holder("run-me"), lock_dir=str(blocker / "locks"))
    except lock.LockError as exc:
        assert str(exc).startswith("the hub's lock in %s cannot be used: " % (blocker / "locks"))
        assert str(exc).endswith("The folder must be writable (run as root, become: true) or set hub_lock_dir.")
        assert exc.result == {"locks": []}
    else:
        raise AssertionError("no LockError")
