"""The work of the thin modules, done in module_utils with explicit arguments: db_dump's (_dump.dump_databases),
db_restore's (_restore_job.fill), db_verify's (_verify.check), disk_space's (_disk.space_for_migration) and what they
decide before any tool runs - the boundaries (the server's answers, the tools) faked; the lab tests run them for real
through the modules."""
import json
import os

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _disk, _dump, _manifest, _restore, _restore_job, _verify

SERVER = {"version": "9.6.24", "num": 90624, "major": "9.6"}
DB = {"owner": "blackduck", "encoding": "UTF8", "collate": "C", "ctype": "C", "size_bytes": 10 * 1024 * 1024,
      "comment": None}


class Server:
    """A target whose answers are given (the inventory's reads replaced by the test)."""
    kind = "fake"

    def __init__(self, where="the fake server"):
        self.where = where

    def describe(self):
        return self.where

    def identity(self):
        return {"type": "fake", "where": self.where}


@pytest.fixture
def server(monkeypatch):
    """The source and target servers' answers: databases (name -> DB-like entry) and the version."""
    dbs = {"bds_hub": dict(DB), "bdio": dict(DB)}
    for module in (_dump, _restore_job, _verify, _restore):
        monkeypatch.setattr(module.inventory, "server_version", lambda target: dict(SERVER))
        monkeypatch.setattr(module.inventory, "databases", lambda target: dbs)
    return dbs


def refuse_tools(monkeypatch):
    """Any tool or query run is a failure of the test: the decision comes first."""
    def ran(*a, **kw):
        raise AssertionError("a tool ran: %r" % (a,))
    monkeypatch.setattr(_dump, "run_dump", ran)
    monkeypatch.setattr(_dump, "check_quiet", ran)
    monkeypatch.setattr(_restore_job.restore, "run_restore", ran)
    monkeypatch.setattr(_restore_job.stream, "transfer", ran)


# ------------------------------------------------------------------------------------------------------ db_dump

def test_a_database_the_server_lacks_is_refused_before_anything_is_written(server, monkeypatch, tmp_path):
    refuse_tools(monkeypatch)
    result = {}
    with pytest.raises(_dump.DumpError, match=r"^database bds_hub_report not found on the fake server \(it has: bdio, "
                                              r"bds_hub\)\. Check the databases option"):
        _dump.dump_databases(Server(), str(tmp_path / "dump"), ["bds_hub", "bds_hub_report"], _dump.DumpOptions(), result)
    assert result == {} and not os.path.exists(str(tmp_path / "dump"))


def test_check_mode_says_what_would_be_dumped_and_what_it_would_clear(server, monkeypatch, tmp_path):
    refuse_tools(monkeypatch)
    out = tmp_path / "dump"
    out.mkdir()
    (out / "bds_hub.dump.partial").write_text("cut short")
    result = _dump.dump_databases(Server(), str(out), ["bds_hub", "bdio"], _dump.DumpOptions(), {}, check_mode=True)
    assert result["changed"] is True and result["removed_partial"] == ["bds_hub.dump.partial"]
    assert result["msg"] == "would dump bds_hub, bdio (20.0 MiB) from the fake server into %s" % out
    assert os.listdir(str(out)) == ["bds_hub.dump.partial"]  # only said


def test_a_complete_dump_of_this_source_is_kept_and_another_sources_refused(server, monkeypatch, tmp_path):
    refuse_tools(monkeypatch)
    out = tmp_path / "dump"
    out.mkdir()
    data = {"dump_id": "d-1", "created": "2026-12-06T10:00:00Z", "source": {"where": "the fake server"},
            "fingerprint": _dump.fingerprint(SERVER, server, ["bds_hub"]),
            "databases": {"bds_hub": {"file": None, "bytes": 0, "sha256": None, "tables": {}}}}
    _manifest.write(str(out), data)
    monkeypatch.setattr(_manifest, "verify_files", lambda dump_dir, data: [])
    result = _dump.dump_databases(Server(), str(out), ["bds_hub"], _dump.DumpOptions(), {"changed": False})
    assert result["changed"] is False and result["dump_id"] == "d-1" and result["reason"].startswith(
        "a complete dump of this source is already in")
    server["bds_hub"]["size_bytes"] *= 3  # other data now: never overwritten without force
    with pytest.raises(_dump.DumpError, match="already holds a complete dump of another source or of different data"):
        _dump.dump_databases(Server(), str(out), ["bds_hub"], _dump.DumpOptions(), {})
    assert json.load(open(str(out / "manifest.json")))["dump_id"] == "d-1"


# ---------------------------------------------------------------------------------------------------- db_restore

def test_no_dump_is_refused_before_the_target_is_reached(monkeypatch, tmp_path):
    refuse_tools(monkeypatch)
    reached = []
    result = {"dump_id": None}
    with pytest.raises(_restore.RestoreError, match=r"^no complete dump in .* \(no manifest.json\): run db_dump first"):
        _restore_job.fill(None, lambda: reached.append(1), str(tmp_path), None, _restore.RestoreOptions(), result)
    assert reached == [] and result == {"dump_id": None}


def test_a_stream_into_the_server_it_reads_is_refused(server, monkeypatch, tmp_path):
    refuse_tools(monkeypatch)
    monkeypatch.setattr(_restore_job.stream, "record", lambda *a: ({"dump_id": "s-1", "source": {"where": "x"}}, False))
    monkeypatch.setattr(_restore_job.stream, "same_server", lambda source, target: True)
    with pytest.raises(_restore.RestoreError, match=r"^source and connection reach the same server \(the fake server\)"):
        _restore_job.fill(Server(), Server, str(tmp_path), None, _restore.RestoreOptions(), {})


def test_check_mode_plans_the_restore_and_restores_nothing(server, monkeypatch, tmp_path):
    refuse_tools(monkeypatch)
    data = {"dump_id": "d-2", "databases": {"bds_hub": {}, "bdio": {}}}
    monkeypatch.setattr(_restore_job.manifest, "load", lambda dump_dir: data)
    monkeypatch.setattr(_restore_job.restore, "check_files", lambda dump_dir, data: None)
    monkeypatch.setattr(_restore.inventory, "hub_table_count", lambda target: 0)  # bds_hub there, empty
    server["bdio"]["comment"] = "blackduck.hub restore " + json.dumps({"dump_id": "d-2", "complete": True})  # done
    result = _restore_job.fill(None, Server, str(tmp_path), None, _restore.RestoreOptions(), {}, check_mode=True)
    assert result["already_restored"] == ["bdio"] and result["changed"] is True
    assert result["msg"] == "would restore bds_hub from %s into the fake server" % tmp_path
    assert result["dump_id"] == "d-2" and result["target"]["server_major"] == "9.6"


def test_the_roles_are_reported_as_the_restore_that_last_restored_them(server, monkeypatch, tmp_path):
    """A rerun that restores nothing reports the roles' passwords as the latest restore of that dump set them (its
    markers), not as its own setting; one that restores them, as its own; markers that do not say: None."""
    refuse_tools(monkeypatch)
    data = {"dump_id": "d-3", "globals": {"file": "globals.sql"}, "databases": {"bds_hub": {}, "bdio": {}}}
    monkeypatch.setattr(_restore_job.manifest, "load", lambda dump_dir: data)
    monkeypatch.setattr(_restore_job.restore, "check_files", lambda dump_dir, data: None)

    def marked(name, **marker):
        server[name]["comment"] = "blackduck.hub restore " + json.dumps(dict(marker, dump_id="d-3", complete=True))

    marked("bds_hub", role_passwords="dump", restored="2026-12-01T10:00:00Z")
    marked("bdio", role_passwords="target", restored="2026-12-02T10:00:00Z")  # a later run restored the roles again
    result = _restore_job.fill(None, Server, str(tmp_path), None, _restore.RestoreOptions(role_passwords="dump"), {})
    assert sorted(result["already_restored"]) == ["bdio", "bds_hub"] and result["role_passwords"] == "target"
    marked("bdio", role_passwords="target", restored="2026-11-30T10:00:00Z")
    assert _restore_job.fill(None, Server, str(tmp_path), None, _restore.RestoreOptions(role_passwords="target"),
                             {})["role_passwords"] == "dump"
    marked("bds_hub", restored="2026-12-01T10:00:00Z")  # an older release's markers say nothing of the roles...
    marked("bdio", restored="2026-12-02T10:00:00Z")
    assert _restore_job.fill(None, Server, str(tmp_path), None, _restore.RestoreOptions(), {})["role_passwords"] is None
    server["bdio"]["comment"] = None  # ...and a database to restore (check mode) restores the roles as this run says
    monkeypatch.setattr(_restore.inventory, "hub_table_count", lambda target: 0)
    result = _restore_job.fill(None, Server, str(tmp_path), None, _restore.RestoreOptions(role_passwords="target"), {},
                               check_mode=True)
    assert result["changed"] is True and result["role_passwords"] == "target"
    assert _restore_job.fill(None, Server, str(tmp_path), None, _restore.RestoreOptions(globals=False), {},
                             check_mode=True)["role_passwords"] is None  # no roles restored, none were before
    # an interrupted restore of the dump gave the roles the old server's passwords: with target, they keep those
    server["bdio"]["comment"] = "blackduck.hub restore " + json.dumps({"dump_id": "d-3", "complete": False,
                                                                      "role_passwords": "dump"})
    assert _restore_job.fill(None, Server, str(tmp_path), None, _restore.RestoreOptions(role_passwords="target"), {},
                             check_mode=True)["role_passwords"] == "dump"
    assert _restore_job.fill(None, Server, str(tmp_path), None, _restore.RestoreOptions(globals=False), {},
                             check_mode=True)["role_passwords"] == "dump"  # the roles as that restore left them


# ----------------------------------------------------------------------------------------------------- db_verify

def test_an_unmet_requirement_is_refused_with_what_was_read(server, monkeypatch):
    result = {"differences": []}
    with pytest.raises(_verify.VerifyError, match=r"runs PostgreSQL 9.6.24; PostgreSQL 11 is required"):
        _verify.check(Server(), result, {"require_major": "11"})
    assert result["server"] == SERVER and result["restore_markers"] == {"bds_hub": None, "bdio": None}


def test_differences_fail_with_the_first_five_or_are_only_told(server, monkeypatch, tmp_path):
    diffs = [{"database": "bds_hub", "object": "st.t%d" % i, "detail": "rows", "expected": i, "actual": 0}
             for i in range(7)]
    seen = []
    monkeypatch.setattr(_verify.manifest, "load", lambda dump_dir: {"dump_id": "d-3"})
    monkeypatch.setattr(_verify, "verify", lambda target, data, how: seen.append(how) or ({}, diffs, None))
    how = _verify.Comparison(mode="live", checksums=False)
    with pytest.raises(_verify.VerifyError) as info:
        _verify.check(Server(), {"differences": []}, {}, str(tmp_path), how)
    assert str(info.value).startswith("the database differs from the dump in 7 place(s), first: bds_hub st.t0 rows "
                                      "(expected 0, found 0); ")
    assert "st.t4" in str(info.value) and "st.t5" not in str(info.value) and seen == [how]
    result = _verify.check(Server(), {"differences": []}, {}, str(tmp_path), how, fail_on_mismatch=False)
    assert result["verified"] is False and result["differences"] == diffs and result["dump_id"] == "d-3"


# ---------------------------------------------------------------------------------------------------- disk_space

def test_the_space_for_a_migration_is_measured_where_each_part_goes(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "base").write_bytes(b"x" * 4096)
    result = _disk.space_for_migration({}, str(tmp_path), str(tmp_path), 1.5, 1.0, False, "path", data_path=str(data))
    assert result["ok"] is True and result["database_size"] >= 4096 and result["msg"].startswith(
        "enough free disk space for the migration of a ")
    assert result["measured"] == "folder %s" % data and result["new_volume_path"] == str(tmp_path)
    short = _disk.space_for_migration({}, str(tmp_path), str(tmp_path), 1e15, 1.0, False, "path", data_path=str(data))
    assert short["ok"] is False and short["msg"] == _disk.shortage_message(short["filesystems"], short["database_size"])


def test_without_a_new_volume_path_nor_a_docker_engine_it_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.setattr(_disk, "docker_root", lambda cli: None)
    with pytest.raises(_disk.DiskError, match="^new_volume_path is required: no Docker engine answered"):
        _disk.space_for_migration({}, str(tmp_path), None, 1.5, 1.0, False, "path", data_path=str(tmp_path))


def test_a_server_is_measured_by_its_databases(server, monkeypatch, tmp_path):
    class Session:
        def __enter__(self):
            return Server("the old server")

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(_disk.inventory, "databases", lambda target: server)
    size, measured = _disk.database_size("server", server=Session)
    assert size == 20 * 1024 * 1024 and measured == "databases bdio, bds_hub on the old server"
