"""module_utils/_disk.py: the arithmetic of the disk space check, du, and where a not-yet-existing path would live."""
import os
import subprocess

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _disk

GiB = 1024 ** 3
MiB = 1024 ** 2


def fs(dev, path, free, total=100 * GiB, mountpoint=None):
    return {"path": path, "existing": path, "dev": dev, "device": "254:%d" % dev,
            "mountpoint": mountpoint or path, "total": total, "free": free}


# ------------------------------------------------------------------------------------------------------ plan

def test_same_filesystem_adds_up_to_the_vendors_two_and_a_half():
    root = fs(0, "/", free=30 * GiB)
    dump, vol = dict(root, path="/var/backups/mig"), dict(root, path="/var/lib/docker/volumes")
    (entry,) = _disk.plan(10 * GiB, dump, vol)
    assert entry["for"] == ["dump", "new_volume"]
    assert entry["paths"] == ["/var/backups/mig", "/var/lib/docker/volumes"]
    assert entry["needs"] == {"dump": 15 * GiB, "new_volume": 10 * GiB}
    assert entry["need"] == 25 * GiB  # 2.5 x
    assert (entry["free"], entry["total"], entry["short_by"], entry["ok"]) == (30 * GiB, 100 * GiB, 0, True)
    assert entry["device"] == "254:0" and entry["mountpoint"] == "/"


def test_same_filesystem_same_path_is_listed_once():
    root = fs(0, "/srv", free=30 * GiB)
    (entry,) = _disk.plan(GiB, root, root)
    assert entry["paths"] == ["/srv"] and entry["need"] == int(2.5 * GiB)


def test_separate_filesystems_each_need_their_part():
    dump, vol = fs(1, "/backup", free=16 * GiB), fs(2, "/var/lib/docker", free=9 * GiB)
    a, b = _disk.plan(10 * GiB, dump, vol)
    assert (a["for"], a["paths"], a["need"], a["short_by"], a["ok"]) == (["dump"], ["/backup"], 15 * GiB, 0, True)
    assert (b["for"], b["paths"], b["need"]) == (["new_volume"], ["/var/lib/docker"], 10 * GiB)
    assert (b["short_by"], b["ok"]) == (GiB, False)


def test_stream_needs_no_dump_space():
    vol = fs(2, "/var/lib/docker", free=11 * GiB)
    (only,) = _disk.plan(10 * GiB, None, vol, stream=True)
    assert only["for"] == ["new_volume"] and only["need"] == 10 * GiB and only["ok"]
    # a dump directory given anyway is not counted
    (only,) = _disk.plan(10 * GiB, fs(1, "/tiny", free=0), vol, stream=True)
    assert only["for"] == ["new_volume"] and only["paths"] == ["/var/lib/docker"]


def test_no_dump_filesystem_without_stream_is_an_error():
    with pytest.raises(ValueError):
        _disk.plan(GiB, None, fs(0, "/", free=GiB))


def test_factors_and_rounding_up():
    root = fs(0, "/", free=10)
    (entry,) = _disk.plan(3, root, root)  # 4.5 -> 5, 3 -> 3
    assert entry["needs"] == {"dump": 5, "new_volume": 3} and entry["need"] == 8 and entry["ok"]
    (entry,) = _disk.plan(3, root, root, dump_factor=2.0, volume_factor=2.0)
    assert entry["need"] == 12 and entry["short_by"] == 2 and not entry["ok"]
    (entry,) = _disk.plan(3, root, root, dump_factor=0, volume_factor=0)
    assert entry["need"] == 0 and entry["ok"]


def test_short_by_figures_and_human_units():
    root = fs(0, "/", free=20 * GiB, total=50 * GiB)
    (entry,) = _disk.plan(10 * GiB, root, root)
    assert entry["need"] == 25 * GiB and entry["short_by"] == 5 * GiB and entry["ok"] is False
    assert entry["total_human"] == "50.0 GiB"
    assert entry["free_human"] == "20.0 GiB"
    assert entry["need_human"] == "25.0 GiB"
    assert entry["short_by_human"] == "5.0 GiB"
    assert entry["needs_human"] == {"dump": "15.0 GiB", "new_volume": "10.0 GiB"}
    ok = _disk.plan(MiB, root, root)[0]
    assert ok["short_by"] == 0 and ok["short_by_human"] == "0 B" and ok["need_human"] == "2.5 MiB"


def test_exactly_enough_is_ok():
    root = fs(0, "/", free=25 * GiB)
    (entry,) = _disk.plan(10 * GiB, root, root)
    assert entry["short_by"] == 0 and entry["ok"]


def test_shortage_message_names_each_short_filesystem_and_what_to_do():
    dump, vol = fs(1, "/backup", free=GiB, mountpoint="/backup"), fs(2, "/var/lib/docker", free=100 * GiB)
    filesystems = _disk.plan(10 * GiB, dict(dump, path="/backup/mig"), vol)
    msg = _disk.shortage_message(filesystems, 10 * GiB)
    assert "/backup (device 254:1, for the dump at /backup/mig)" in msg
    assert "needs 15.0 GiB" in msg and "has 1.0 GiB free: short by 14.0 GiB" in msg
    assert "choose a dump_dir on another filesystem" in msg
    assert "/var/lib/docker" not in msg  # that one has room
    root = fs(0, "/", free=GiB)
    msg = _disk.shortage_message(_disk.plan(10 * GiB, root, root), 10 * GiB)
    assert "15.0 GiB for the dump + 10.0 GiB for the new database volume" in msg
    assert "short by 24.0 GiB" in msg and "dump_dir" in msg and "new_volume_path" in msg


def test_summary_message():
    root = fs(0, "/", free=30 * GiB)
    msg = _disk.summary_message(_disk.plan(10 * GiB, root, root), 10 * GiB)
    assert msg.startswith("enough free disk space for the migration of a 10.0 GiB database")
    assert "needs 25.0 GiB, has 30.0 GiB free" in msg


# -------------------------------------------------------------------------------------------------------- du

def _write(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))
        f.flush()
        os.fsync(f.fileno())


def _gnu_du(path):
    return int(subprocess.check_output(["du", "-s", "-B1", str(path)]).split()[0])


def test_du_counts_blocks_once_per_inode_and_follows_no_symlink(tmp_path):
    data = tmp_path / "data"
    (data / "base" / "1").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    _write(str(outside / "big"), 4 * MiB)

    _write(str(data / "base" / "1" / "1259"), 300 * 1024)
    os.link(str(data / "base" / "1" / "1259"), str(data / "base" / "hardlink"))  # same inode: once
    with open(str(data / "sparse"), "wb") as f:  # 64 MiB long, 4 KiB written
        f.seek(64 * MiB - 4096)
        f.write(b"x" * 4096)
    os.symlink(str(outside / "big"), str(data / "link-to-file"))
    os.symlink(str(outside), str(data / "link-to-dir"))

    expected = 0
    seen = set()
    for root, dirs, files in os.walk(str(data)):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            st = os.lstat(name)
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                expected += st.st_blocks * 512

    used = _disk.du(str(data))
    assert used == expected
    assert used == _gnu_du(data)
    assert 300 * 1024 <= used < 300 * 1024 + 4 * MiB  # one copy of the hard-linked file, no symlink target
    assert used < 2 * MiB  # the sparse file counts its allocated blocks, not its 64 MiB
    assert _disk.du(str(outside)) >= 4 * MiB


def test_du_of_an_empty_folder_is_its_own_blocks(tmp_path):
    assert _disk.du(str(tmp_path)) == os.lstat(str(tmp_path)).st_blocks * 512


def test_du_of_a_missing_path_or_a_file_is_an_error(tmp_path):
    with pytest.raises(_disk.DiskError, match="cannot measure"):
        _disk.du(str(tmp_path / "nope"))
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(_disk.DiskError, match="not a directory"):
        _disk.du(str(tmp_path / "f"))


# ----------------------------------------------------------------------------------------- statvfs, walk up

def test_fs_info_of_a_missing_path_is_its_nearest_existing_parent(tmp_path):
    missing = tmp_path / "dump" / "hub" / "4.2"
    info = _disk.fs_info(str(missing))
    sv = os.statvfs(str(tmp_path))
    assert info["path"] == str(missing)
    assert info["existing"] == str(tmp_path)
    assert info["dev"] == os.stat(str(tmp_path)).st_dev
    assert info["device"] == "%d:%d" % (os.major(info["dev"]), os.minor(info["dev"]))
    assert info["total"] == sv.f_blocks * sv.f_frsize
    assert abs(info["free"] - sv.f_bavail * sv.f_frsize) < 64 * MiB  # the machine writes meanwhile
    assert info["mountpoint"] and str(tmp_path).startswith(info["mountpoint"].rstrip("/") + "/")
    assert not (tmp_path / "dump").exists()  # nothing created


def test_fs_info_of_an_existing_path(tmp_path):
    info = _disk.fs_info(str(tmp_path))
    assert info["existing"] == str(tmp_path) and info["dev"] == os.stat(str(tmp_path)).st_dev


def test_nearest_existing_of_a_relative_path(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    assert _disk.nearest_existing("a/b") == str(tmp_path)


def test_plan_of_two_paths_on_one_real_filesystem(tmp_path):
    a, b = _disk.fs_info(str(tmp_path / "dump")), _disk.fs_info(str(tmp_path / "volumes"))
    (entry,) = _disk.plan(MiB, a, b)
    assert entry["paths"] == [str(tmp_path / "dump"), str(tmp_path / "volumes")] and entry["need"] == int(2.5 * MiB)


# ---------------------------------------------------------------------------------------------- mountinfo

MOUNTINFO = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 254:16 / /srv rw,relatime - ext4 /dev/vdb rw
41 40 0:83 / /srv/data rw,relatime - tmpfs tmpfs rw,size=8192k
42 27 254:32 / /mnt/with\\040space rw,relatime - ext4 /dev/vdc rw
43 27 254:0 /var/lib/x /bind rw,relatime - ext4 /dev/vda rw
"""


def test_mountpoint_is_the_longest_prefix(tmp_path):
    mi = tmp_path / "mountinfo"
    mi.write_text(MOUNTINFO)
    mi = str(mi)
    assert _disk.mountpoint("/srv/data/dump", mountinfo=mi) == "/srv/data"
    assert _disk.mountpoint("/srv/data", mountinfo=mi) == "/srv/data"
    assert _disk.mountpoint("/srv/database", mountinfo=mi) == "/srv"
    assert _disk.mountpoint("/srvx", mountinfo=mi) == "/"
    assert _disk.mountpoint("/mnt/with space/x", mountinfo=mi) == "/mnt/with space"
    # a device that does not match the longest prefix (a bind mount of another fs's folder) is passed over
    assert _disk.mountpoint("/srv/data/x", os.makedev(254, 16), mountinfo=mi) == "/srv"
    # no mount of the device at all: the longest prefix all the same
    assert _disk.mountpoint("/srv/data/x", os.makedev(9, 9), mountinfo=mi) == "/srv/data"


def test_mountpoint_without_mountinfo(tmp_path):
    assert _disk.mountpoint("/srv", mountinfo=str(tmp_path / "none")) is None
