"""plugins/action/controller_files.py: the run's own files written on the controller, whole, with their modes, and left
alone when they are so already."""
import os
import stat

import pytest

from ansible.errors import AnsibleActionFail
from ansible_collections.blackduck.hub.plugins.action import controller_files as action


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_folder_and_files_made_then_left_alone(tmp_path):
    where = str(tmp_path / "a" / "fleet")
    files = {"fleet.json": '{"hubs": []}\n', "fleet.md": "# Hub fleet report\n"}
    assert action.write(where, files, 0o600, 0o700, check=True) == [where] + [os.path.join(where, n) for n in sorted(files)]
    assert not os.path.exists(where)  # check mode wrote nothing
    assert action.write(where, files, 0o600, 0o700) == [where] + [os.path.join(where, n) for n in sorted(files)]
    assert mode(where) == mode(str(tmp_path / "a")) == 0o700 and all(mode(os.path.join(where, n)) == 0o600 for n in files)
    assert open(os.path.join(where, "fleet.md")).read() == "# Hub fleet report\n"
    assert action.write(where, files, 0o600, 0o700) == []  # so already: nothing written
    assert sorted(os.listdir(where)) == ["fleet.json", "fleet.md"]  # no temporary file left


def test_a_changed_content_or_mode_is_written_again(tmp_path):
    where = str(tmp_path)
    path = os.path.join(where, "fleet.md")
    action.write(where, {"fleet.md": "one\n"}, 0o600, 0o700)
    before = os.stat(path).st_ino
    assert action.write(where, {"fleet.md": "two\n"}, 0o600, 0o700) == [path]
    assert open(path).read() == "two\n" and os.stat(path).st_ino != before  # a new file renamed over it
    os.chmod(path, 0o644)
    os.chmod(where, 0o755)
    assert action.write(where, {"fleet.md": "two\n"}, 0o600, 0o700, check=True) == [where, path]
    assert mode(path) == 0o644 and mode(where) == 0o755
    assert action.write(where, {"fleet.md": "two\n"}, 0o600, 0o700) == [where, path]
    assert mode(path) == 0o600 and mode(where) == 0o700


@pytest.mark.parametrize("name", ["", ".", "..", "sub/fleet.md", "/etc/passwd", "nul\0", 7])
def test_a_path_for_a_name_is_refused_before_anything(tmp_path, name):
    with pytest.raises(AnsibleActionFail, match="not a file name"):
        action.write(str(tmp_path / "fleet"), {"fleet.md": "x", name: "y"}, 0o600, 0o700)
    assert not os.path.exists(str(tmp_path / "fleet"))


@pytest.mark.parametrize("bad", ["rw", True, 0o10000, -1, "0800"])
def test_modes_as_the_task_gives_them(bad):
    assert action.octal("0600", "mode") == 0o600 and action.octal(384, "mode") == 0o600
    with pytest.raises(AnsibleActionFail, match="mode must be an octal mode such as 0600"):
        action.octal(bad, "mode")


def test_a_folder_given_with_a_trailing_slash(tmp_path):
    """As the file module took it: the folder made once, its file written (the first run failed on it)."""
    where = str(tmp_path / "a" / "fleet") + "/"
    assert action.write(where, {"fleet.md": "x\n"}, 0o600, 0o700) == [where.rstrip("/"), where + "fleet.md"]
    assert action.write(where, {"fleet.md": "x\n"}, 0o600, 0o700) == []
