"""The stream transfer's decisions (_stream.record) and one database piped from a fake source into a fake target
(_restore.stream_database). Against real servers: tests/integration/modules/test_db_modules.py."""
import json
import os

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _manifest, _restore, _stream

MiB = 1024 * 1024
DBS = {"bds_hub": {"owner": "blackduck", "encoding": "UTF8", "collate": "C", "ctype": "C", "size_bytes": 100 * MiB,
                   "comment": None},
       "bdio": {"owner": "blackduck", "encoding": "UTF8", "collate": "C", "ctype": "C", "size_bytes": 8 * MiB,
                "comment": None}}


@pytest.fixture
def source(fake_target, monkeypatch):
    monkeypatch.setattr(_stream.inventory, "server_version", lambda t: {"version": "9.4.11", "num": 90411, "major": "9.4"})
    monkeypatch.setattr(_stream.inventory, "databases", lambda t: DBS)
    monkeypatch.setattr(_stream.inventory, "roles_with_passwords", lambda t: {"blackduck": {"password": "digest"}})
    monkeypatch.setattr(_stream.inventory, "roles", lambda t: {"blackduck": {"password": None}})
    monkeypatch.setattr(_stream.inventory, "superusers", lambda t: ["postgres"])
    return fake_target([{"match": "--version", "stdout": "pg_dump (PostgreSQL) 9.4.11\n"}])


def test_a_new_record_lists_each_database_streamed_with_no_file(source, tmp_path):
    d = str(tmp_path / "dump")
    data, new = _stream.record(source, d, ["bds_hub", "bdio"], no_role_passwords=False)
    assert new is True and _manifest.streamed(data)
    assert data["databases"]["bds_hub"] == {"file": None, "format": "stream", "bytes": 0, "sha256": None,
                                            "owner": "blackduck", "encoding": "UTF8", "collate": "C", "ctype": "C",
                                            "size_bytes": 100 * MiB}
    assert data["roles"] == {"blackduck": {"password": "digest"}} and data["superusers"] == ["postgres"]
    assert _manifest.files_of(data) == []  # nothing on disk to check
    assert _stream.uncounted(data) == ["bdio", "bds_hub"]
    assert not os.path.exists(d)  # not written until the transfer begins
    data, dummy = _stream.record(source, d, ["bds_hub"], no_role_passwords=True)
    assert data["roles"] == {"blackduck": {"password": None}} and data["options"]["no_role_passwords"] is True


def test_a_rerun_reuses_the_record_of_this_source_and_refuses_any_other(source, tmp_path):
    d = str(tmp_path)
    data, dummy = _stream.record(source, d, ["bds_hub", "bdio"], no_role_passwords=False)
    _manifest.write(d, data)
    again, new = _stream.record(source, d, ["bdio", "bds_hub"], no_role_passwords=False)
    assert new is False and again["dump_id"] == data["dump_id"]
    with pytest.raises(_restore.RestoreError, match="holds the record of a stream from another source or of other "
                                                    "data .* stream with another dump_dir. Nothing was changed."):
        _stream.record(source, d, ["bds_hub"], no_role_passwords=False)
    DBS["bds_hub"]["size_bytes"] += 10 * MiB  # another source's database, or the old data changed since
    try:
        with pytest.raises(_restore.RestoreError, match="from another source or of other data"):
            _stream.record(source, d, ["bds_hub", "bdio"], no_role_passwords=False)
    finally:
        DBS["bds_hub"]["size_bytes"] -= 10 * MiB


def test_a_dump_folder_or_a_missing_database_is_refused(source, tmp_path):
    with pytest.raises(_restore.RestoreError, match=r"database bds_hub_report not found on the source the fake server "
                                                    r"\(it has: bdio, bds_hub\)"):
        _stream.record(source, str(tmp_path), ["bds_hub", "bds_hub_report"], no_role_passwords=False)
    _manifest.write(str(tmp_path), {"dump_id": "d-1", "created": "2026-12-02T10:00:00Z", "options": {"format": "custom"},
                                    "databases": {}})
    with pytest.raises(_restore.RestoreError, match="holds a dump \\(dump d-1, taken 2026-12-02T10:00:00Z\\): restore it "
                                                    "without source"):
        _stream.record(source, str(tmp_path), ["bds_hub"], no_role_passwords=False)


def two_fakes(fake_target, tmp_path, src_rules, dst_rules):
    dst = fake_target(dst_rules)
    os.mkdir(str(tmp_path / "src"))
    return type(dst)(str(tmp_path / "src"), src_rules), dst


def test_stream_database_pipes_pg_dump_into_pg_restore(fake_target, tmp_path):
    src, dst = two_fakes(fake_target, tmp_path, [{"tool": "pg_dump", "stdout": "PGDMP the archive"}],
                         [{"tool": "pg_restore", "rc": 0}])
    res = _restore.stream_database(src, dst, "bds_hub", clean=True)
    assert (res["rc"], res["src_rc"], res["bytes"]) == (0, 0, len("PGDMP the archive"))
    (dumped,), (restored,) = src.calls(), dst.calls()
    assert dumped["args"] == ["--format", "custom", "--compress", "0", "--dbname=bds_hub"]  # nothing kept: no compression
    assert restored["stdin"] == "PGDMP the archive"
    assert restored["args"] == ["--dbname=bds_hub", "--clean", "--if-exists"]


def test_a_failed_or_vanished_source_says_which(fake_target, tmp_path):
    src, dst = two_fakes(fake_target, tmp_path, [{"tool": "pg_dump", "rc": 1, "stderr": "pg_dump: error: query failed"}],
                         [{"tool": "pg_restore", "rc": 1, "stderr": "pg_restore: error: input file is too short"}])
    with pytest.raises(_restore.RestoreError, match=r"pg_dump of bdio on the fake server failed \(exit 1: pg_dump: error: "
                                                    r"query failed\): nothing of it is kept as restored"):
        _restore.stream_database(src, dst, "bdio", clean=False)
    src.gone_reason = "the database container hub-postgres-1 was removed"
    with pytest.raises(_restore.RestoreError) as info:
        _restore.stream_database(src, dst, "bdio", clean=False)
    assert str(info.value).startswith("the stream of bdio stopped because the database container hub-postgres-1 was "
                                      "removed while it ran (exit 1: pg_dump: error: query failed). The old data is "
                                      "untouched; start the old database again")


def test_a_record_is_no_dump_for_db_dump(tmp_path):
    data = {"dump_id": "s-1", "created": "2026-12-02T10:00:00Z", "options": {"format": "stream"},
            "databases": {"bds_hub": {"file": None, "format": "stream"}}}
    with pytest.raises(_stream.dump.DumpError, match="holds the record of a stream into the new server .*dump s-1.* "
                                                     "It is kept: use another dump_dir, or force=true"):
        _stream.dump.complete_dump_to_keep(str(tmp_path), data, ["bds_hub"], {}, force=False)
    assert _stream.dump.complete_dump_to_keep(str(tmp_path), data, ["bds_hub"], {}, force=True) is False
    assert json.dumps(_manifest.files_of(data)) == "[]"


class Here:
    """A target that is still there (the failure is the restore's own), or, with a reason, one that went away."""

    def __init__(self, gone_reason=""):
        self.gone_reason = gone_reason

    def gone(self):
        return self.gone_reason

    def describe(self):
        return "the old server"


def test_a_database_that_fails_leaves_the_others_complete(monkeypatch, tmp_path):
    """run_restore completes each database (fixups, ANALYZE, marker) as soon as its own restore ends, so a rerun
    restores only the one that failed - for a dump and for a stream alike."""
    sent = []
    monkeypatch.setattr(_restore, "query", lambda target, db, sql, what, **kw: sent.append((db, sql, what)) or [])
    monkeypatch.setattr(_restore.inventory, "role_rights", lambda t: {"name": "postgres", "superuser": True})
    monkeypatch.setattr(_restore.inventory, "user_relation_count", lambda t, n: 0)
    monkeypatch.setattr(_restore, "create_database", lambda *a: False)

    def restore_database(target, dump_dir, name, entry, clean, allowed, progress=None, jobs=1, source=None):
        errors = ["relation st.x already exists"] if name == "bdio" else []
        return {"errors": errors, "warnings": [], "ignored_count": 0, "seconds": 0.1, "bytes": 10}

    monkeypatch.setattr(_restore, "restore_database", restore_database)
    data = {"dump_id": "d-7", "options": {"format": "stream"}, "databases": dict(
        (n, {"file": None, "format": "stream", "bytes": 0, "size_bytes": 10}) for n in ("bds_hub", "bdio", "bds_hub_report"))}
    options = _restore.RestoreOptions(globals=False, jobs=2)
    with pytest.raises(_restore.RestoreError, match="pg_restore reported errors .*: bdio: relation st.x already exists"):
        _restore.run_restore(Here(), str(tmp_path), data, ["bds_hub", "bdio", "bds_hub_report"], {}, options, lambda m: None)
    markers = [sql for db, sql, what in sent if what == "recording the restore marker"]
    complete = sorted(m.split()[3].strip('"') for m in markers if '"complete": true' in m)
    assert complete == ["bds_hub", "bds_hub_report"]  # completed; bdio keeps the marker of a restore begun
    assert any("bdio" in m and '"complete": false' in m for m in markers)


def test_the_record_keeps_the_bytes_of_each_stream_that_completed_before_a_failure(monkeypatch, tmp_path):
    """bds_hub and bds_hub_report streamed, bdio failed: the record on disk tells what went through the pipe for the
    two that completed (the rerun streams only bdio, and its report tells all three), and nothing for bdio."""
    monkeypatch.setattr(_restore, "query", lambda target, db, sql, what, **kw: [])
    monkeypatch.setattr(_stream, "query", lambda target, db, sql, what: [])
    monkeypatch.setattr(_restore.inventory, "role_rights", lambda t: {"name": "postgres", "superuser": True})
    monkeypatch.setattr(_restore.inventory, "user_relation_count", lambda t, n: 0)
    monkeypatch.setattr(_restore, "create_database", lambda *a: False)
    monkeypatch.setattr(_stream.inventory, "database_inventory", lambda *a, **kw: {"tables": {}})
    sent = {"bds_hub": 1000, "bds_hub_report": 300}

    def restore_database(target, dump_dir, name, entry, clean, allowed, progress=None, jobs=1, source=None):
        if name == "bdio":
            raise _restore.RestoreError("the stream of bdio stopped because ...")
        return {"errors": [], "warnings": [], "ignored_count": 0, "bytes": sent[name]}

    monkeypatch.setattr(_restore, "restore_database", restore_database)
    data = {"dump_id": "d-10", "options": {"format": "stream"}, "globals": {"file": None, "format": "stream"},
            "databases": dict((n, {"file": None, "format": "stream", "bytes": 0, "size_bytes": 10})
                              for n in ("bds_hub", "bdio", "bds_hub_report"))}
    options = _restore.RestoreOptions(globals=False, jobs=1, fixups=False, analyze=False)
    with pytest.raises(_restore.RestoreError, match="the stream of bdio stopped"):
        _stream.transfer(Here(), Here(), str(tmp_path), data, ["bds_hub", "bdio", "bds_hub_report"], {}, options,
                         lambda m: None)
    kept = json.load(open(str(tmp_path / "manifest.json")))["databases"]
    assert dict((n, d["bytes"]) for n, d in kept.items()) == {"bds_hub": 1000, "bds_hub_report": 300, "bdio": 0}
    assert all(kept[n]["seconds"] >= 0 for n in sent) and "seconds" not in kept["bdio"]


def test_a_failed_transfer_stops_the_count_of_the_source(monkeypatch, tmp_path):
    """The stream failed: the count of the source's tables (a checksum of every row) is cancelled, not waited for."""
    cancelled = []
    monkeypatch.setattr(_stream.inventory, "database_inventory", lambda *a, **kw: {"tables": {}})
    monkeypatch.setattr(_stream, "query", lambda target, db, sql, what: cancelled.append((db, sql)) or [])

    def fails(*a, **kw):
        raise _restore.RestoreError("the stream of bds_hub stopped because ...")

    monkeypatch.setattr(_stream.restore, "run_restore", fails)
    data = {"dump_id": "d-8", "options": {"format": "stream"}, "databases": {"bds_hub": {"format": "stream"}}}
    with pytest.raises(_restore.RestoreError, match="the stream of bds_hub stopped"):
        _stream.transfer(Here(), Here(), str(tmp_path), data, ["bds_hub"], {}, _restore.RestoreOptions(), None)
    (db, sql), = cancelled
    assert db == "postgres" and "pg_cancel_backend(pid)" in sql and "application_name = 'blackduck.hub'" in sql
    assert "datname IN ('bds_hub')" in sql
    assert os.listdir(str(tmp_path)) == ["manifest.json"]  # the record was written before the stream began


@pytest.mark.parametrize("reason", ["the database container hub-postgres-1 was removed", ""], ids=["gone", "there"])
def test_a_count_that_failed_after_the_streams_says_whether_the_old_database_went(monkeypatch, tmp_path, reason):
    """The streams ended, then the count of the source's tables (beside them) failed: under an old database removed
    meanwhile, the step says so and that a rerun only counts; with the database still there, the count's own error.
    The counts that ended before are kept in the record (a rerun counts only the others), the others stopped."""
    failed = _stream.CommandError("counting the tables on the old server (database bds_hub_report) failed: exit 137")

    def count(target, name, **kw):
        if name == "bds_hub_report":  # the last of the three the one worker counts
            raise failed
        return {"tables": {"st.x": {"rows": 3, "checksum": "c"}}}

    cancelled = []
    monkeypatch.setattr(_stream.inventory, "database_inventory", count)
    monkeypatch.setattr(_stream, "query", lambda target, db, sql, what: cancelled.append(sql) or [])
    monkeypatch.setattr(_stream.restore, "run_restore", lambda *a: {"databases": {}, "warnings": []})
    data = {"dump_id": "d-9", "options": {"format": "stream"},
            "databases": dict((n, {"format": "stream"}) for n in ("bdio", "bds_hub", "bds_hub_report"))}
    with pytest.raises(Exception) as info:
        _stream.transfer(Here(reason), Here(), str(tmp_path), data, ["bdio"], {}, _restore.RestoreOptions(), None)
    assert len(cancelled) == 1 and "pg_cancel_backend(pid)" in cancelled[0]  # what still counts is stopped, not waited for
    if not reason:
        assert info.value is failed
        return
    assert str(info.value) == (
        "the count of the tables of bds_hub_report stopped because the database container hub-postgres-1 was removed "
        "while it ran (counting the tables on the old server (database bds_hub_report) failed: exit 137). The old data "
        "is untouched; start the old database again (a rerun's step 3 does) and run again: the streams that ended are "
        "kept, and the rerun counts what was not counted.")
    kept = json.load(open(str(tmp_path / "manifest.json")))["databases"]
    assert "tables" not in kept["bds_hub_report"]  # counted by the rerun
    for name in ("bdio", "bds_hub"):  # counted before: kept, not counted again
        assert kept[name]["tables"] == {"st.x": {"rows": 3, "checksum": "c"}}, name


@pytest.mark.parametrize("reason", ["the database container hub-postgres-1 was removed", ""], ids=["gone", "there"])
def test_the_roles_read_from_an_old_database_gone_say_so(monkeypatch, reason):
    """pg_dumpall --globals-only of the stream's source failed: the removal named, or the tool's own error."""
    failed = _restore.CommandError("dumping the roles (pg_dumpall --globals-only) failed: exit 137")

    def check_call(*a):
        raise failed

    monkeypatch.setattr(_restore, "check_call", check_call)
    with pytest.raises(Exception) as info:
        _restore.globals_text("/nowhere", {"options": {}}, Here(reason))
    if not reason:
        assert info.value is failed
        return
    assert isinstance(info.value, _restore.RestoreError) and str(info.value).startswith(
        "pg_dumpall --globals-only (the roles) stopped because the database container hub-postgres-1 was removed while "
        "it ran (dumping the roles (pg_dumpall --globals-only) failed: exit 137). The old data is untouched; start the "
        "old database again (a rerun's step 3 does) and run again.")
