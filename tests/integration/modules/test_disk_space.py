"""blackduck.hub.disk_space for real, through ansible-core: an 8 MiB tmpfs as the dump's filesystem, a folder of
about 2 MiB as the old database, and a Docker volume of the lab's engine. The module must only read: every test
checks that nothing under its paths changed.
"""
import json
import math
import os
import subprocess
import tempfile
import uuid

import pytest

import ansible_run

MiB = 1024 ** 2


@pytest.fixture
def tmpfs():
    """An 8 MiB tmpfs: the filesystem of the dump directory."""
    where = tempfile.mkdtemp(prefix="bdhub-disk-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "bdhub-test-disk", where], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", where], check=True)
        os.rmdir(where)


@pytest.fixture
def data_path(tmp_path):
    """About 2 MiB of files, shaped like a PostgreSQL data folder."""
    data = tmp_path / "pgdata"
    for i, (sub, size) in enumerate([("base/1", 700 * 1024), ("base/16384", 900 * 1024), ("global", 200 * 1024),
                                     ("pg_wal", 256 * 1024)]):
        (data / sub).mkdir(parents=True, exist_ok=True)
        with open(str(data / sub / str(1000 + i)), "wb") as f:
            f.write(os.urandom(size))
            f.flush()
            os.fsync(f.fileno())
    return str(data)


def du(path):
    return int(subprocess.check_output(["du", "-s", "-B1", path]).split()[0])


def statvfs(path):
    sv = os.statvfs(path)
    return sv.f_blocks * sv.f_frsize, sv.f_bavail * sv.f_frsize


def snapshot(*roots):
    """Every path under roots with its type, size, mode and times: what a write would change."""
    seen = {}
    for root in roots:
        for dirpath, dirs, files in os.walk(root):
            for name in [dirpath] + [os.path.join(dirpath, n) for n in dirs + files]:
                st = os.lstat(name)
                seen[name] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    return seen


def test_enough_space_figures_match_du_and_statvfs(tmpfs, data_path, tmp_path):
    dump_dir = os.path.join(tmpfs, "migration", "dump")
    new_volume = str(tmp_path / "volumes" / "postgres96")
    before = snapshot(tmpfs, str(tmp_path))
    args = {"data_path": data_path, "dump_dir": dump_dir, "new_volume_path": new_volume}

    r, out = ansible_run.module_output("disk_space", args)
    assert not r.get("failed"), out
    size = du(data_path)
    assert 2 * MiB <= size < 3 * MiB
    assert (r["changed"], r["ok"], r["database_size_from"], r["database_size"]) == (False, True, "path", size)
    assert r["database_size_human"].endswith(" MiB") and r["measured"] == "folder %s" % data_path

    dump_fs, vol_fs = r["filesystems"]
    total, free = statvfs(tmpfs)
    assert dump_fs["for"] == ["dump"] and dump_fs["paths"] == [dump_dir] and dump_fs["mountpoint"] == tmpfs
    assert (dump_fs["total"], dump_fs["free"]) == (total, free) == (8 * MiB, 8 * MiB)
    assert dump_fs["need"] == math.ceil(1.5 * size) and dump_fs["short_by"] == 0 and dump_fs["ok"]
    assert dump_fs["total_human"] == "8.0 MiB" and dump_fs["short_by_human"] == "0 B"
    st = os.stat(tmpfs)
    assert dump_fs["device"] == "%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev))

    root_total, root_free = statvfs(str(tmp_path))
    st = os.stat(str(tmp_path))
    assert vol_fs["for"] == ["new_volume"] and vol_fs["paths"] == [new_volume]
    assert vol_fs["device"] == "%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev))
    assert vol_fs["total"] == root_total and abs(vol_fs["free"] - root_free) < 256 * MiB  # a shared disk moves
    assert vol_fs["need"] == size and vol_fs["ok"]
    assert "enough free disk space" in r["msg"]

    rc, out = ansible_run.module_output("disk_space", args, check=True)  # check mode: the same read-only run
    assert not rc.get("failed") and rc["changed"] is False and rc["database_size"] == size, out
    assert [f["need"] for f in rc["filesystems"]] == [f["need"] for f in r["filesystems"]]

    assert snapshot(tmpfs, str(tmp_path)) == before
    assert not os.path.exists(os.path.join(tmpfs, "migration")) and not os.path.exists(str(tmp_path / "volumes"))
    assert statvfs(tmpfs) == (total, free)


def test_dump_and_new_volume_on_one_filesystem_add_up(tmpfs, data_path, tmp_path):
    before = snapshot(tmpfs, str(tmp_path))
    args = {"data_path": data_path, "dump_dir": os.path.join(tmpfs, "dump"),
            "new_volume_path": os.path.join(tmpfs, "volumes")}
    r, out = ansible_run.module_output("disk_space", args)
    assert not r.get("failed"), out
    size = du(data_path)
    (only,) = r["filesystems"]
    assert only["for"] == ["dump", "new_volume"] and only["mountpoint"] == tmpfs
    assert only["needs"] == {"dump": math.ceil(1.5 * size), "new_volume": size}
    assert only["need"] == math.ceil(1.5 * size) + size and only["ok"] and r["ok"]

    r, out = ansible_run.module_output("disk_space", dict(args, stream=True, dump_dir=None))  # no dump files at all
    assert not r.get("failed"), out
    (only,) = r["filesystems"]
    assert only["for"] == ["new_volume"] and only["need"] == size and r["dump_dir"] is None
    assert snapshot(tmpfs, str(tmp_path)) == before


def test_short_filesystem_fails_naming_it_and_by_how_much(tmpfs, data_path, tmp_path):
    dump_dir = os.path.join(tmpfs, "dump")
    before = snapshot(tmpfs, str(tmp_path))
    args = {"data_path": data_path, "dump_dir": dump_dir, "new_volume_path": str(tmp_path), "dump_factor": 5.0}

    r, out = ansible_run.module_output("disk_space", args)
    assert r.get("failed") is True, out
    size = du(data_path)
    dump_fs, vol_fs = r["filesystems"]
    assert dump_fs["need"] == 5 * size > 8 * MiB
    assert dump_fs["short_by"] == dump_fs["need"] - 8 * MiB and dump_fs["ok"] is False
    assert vol_fs["ok"] and r["ok"] is False and r["changed"] is False
    msg = r["msg"]
    assert msg.startswith("not enough free disk space")
    assert tmpfs in msg and dump_dir in msg
    assert "short by %s" % dump_fs["short_by_human"] in msg
    assert "choose a dump_dir on another filesystem" in msg
    assert "new database volume" not in msg and "new_volume_path" not in msg  # that filesystem has room

    r, out = ansible_run.module_output("disk_space", dict(args, fail_on_short=False), check=True)
    assert not r.get("failed"), out
    assert r["ok"] is False and r["filesystems"][0]["short_by"] == dump_fs["short_by"]
    # and warned (the oneline callback drops warnings: the default one shows them)
    proc = subprocess.run([os.path.join(ansible_run.BIN, "ansible"), "localhost", "-m", "blackduck.hub.disk_space",
                           "-a", json.dumps(dict(args, fail_on_short=False))],
                          capture_output=True, text=True, env=ansible_run.ansible_env(), timeout=300, check=False)
    assert proc.returncode == 0 and "[WARNING]: not enough free disk space" in proc.stderr, proc.stdout + proc.stderr
    assert snapshot(tmpfs, str(tmp_path)) == before


def test_server_without_connection_is_refused(tmpfs):
    r, out = ansible_run.module_output("disk_space", {"dump_dir": tmpfs, "new_volume_path": tmpfs})
    assert r.get("failed") is True and "database_size_from=server needs connection" in r["msg"], out


def test_server_that_does_not_answer_fails_clearly(tmpfs):
    args = {"connection": {"type": "tcp", "host": "127.0.0.1", "port": 9}, "wait_timeout": 1,
            "dump_dir": tmpfs, "new_volume_path": tmpfs}
    r, out = ansible_run.module_output("disk_space", args, check=True)
    assert r.get("failed") is True and r["database_size_from"] == "server", out
    assert "127.0.0.1:9" in r["msg"] or "psql was not found" in r["msg"], out


def test_docker_volume(docker_lab, tmpfs, tmp_path):
    name = "bdhub-test-disk-%s" % uuid.uuid4().hex[:12]
    subprocess.run(["docker", "volume", "create", name], check=True, capture_output=True)
    try:
        where = subprocess.check_output(["docker", "volume", "inspect", "-f", "{{.Mountpoint}}", name],
                                        text=True).strip()
        with open(os.path.join(where, "PG_VERSION.data"), "wb") as f:
            f.write(os.urandom(MiB))
            f.flush()
            os.fsync(f.fileno())
        before = snapshot(tmpfs, where)
        root = subprocess.check_output(["docker", "info", "-f", "{{.DockerRootDir}}"], text=True).strip()

        r, out = ansible_run.module_output("disk_space", {"volume": name, "dump_dir": os.path.join(tmpfs, "dump")})
        assert not r.get("failed"), out
        assert r["database_size_from"] == "volume" and r["database_size"] >= MiB
        assert r["database_size"] == du(where)
        assert r["measured"] == "Docker volume %s (%s)" % (name, where)
        assert r["new_volume_path"] == os.path.join(root, "volumes")  # the default: Docker's data root
        assert [f["for"] for f in r["filesystems"]] == [["dump"], ["new_volume"]]
        assert r["filesystems"][1]["need"] == r["database_size"] and r["ok"] and r["changed"] is False
        assert snapshot(tmpfs, where) == before

        r, out = ansible_run.module_output("disk_space", {"volume": name + "-missing", "dump_dir": tmpfs})
        assert r.get("failed") is True and "no Docker volume" in r["msg"], out
    finally:
        subprocess.run(["docker", "volume", "rm", name], check=True, capture_output=True)
