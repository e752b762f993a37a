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


def test_a_file_that_is_not_a_lock_is_never_free(tmp_path):
    path = lock.lock_path(str(tmp_path), KEY)
    with open(path, "w") as f:
        f.write("garbage")
    status, who = lock.acquire(path, KEY, holder("b"))
    assert status == "busy" and "unreadable lock file" in who["run"]

