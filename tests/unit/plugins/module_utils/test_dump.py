"""module_utils/_dump.py: pg_dump options, versions, the same-source check, and the files of a dump directory."""
import hashlib
import os
import stat
import threading
import time

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _dump, _manifest, _query
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, DiskFullError
from ansible_collections.blackduck.hub.plugins.module_utils._progress import Progress

MiB = 1024 * 1024


# ------------------------------------------------------------------------------------------------ compress_arg

@pytest.mark.parametrize("compression, level, major, arg", [
    ("none", None, 9, "0"),
    ("none", 5, 17, "0"),  # a level means nothing without compression
    ("gzip", None, 9, "6"),
    ("gzip", 0, 15, "0"),
    ("gzip", 1, 15, "1"),
    ("gzip", 9, 9, "9"),
    ("lz4", None, 16, "lz4"),
    ("lz4", 3, 17, "lz4:3"),
    ("zstd", None, 16, "zstd"),
    ("zstd", 19, 16, "zstd:19"),
    ("zstd", 3, None, "zstd:3"),  # version unknown: let pg_dump judge
])
def test_compress_arg(compression, level, major, arg):
    assert _dump.compress_arg(compression, level, major) == arg


@pytest.mark.parametrize("compression, major", [("lz4", 15), ("zstd", 9), ("zstd", 11)])
def test_compress_arg_refuses_lz4_zstd_before_16(compression, major):
    with pytest.raises(_dump.DumpError) as info:
        _dump.compress_arg(compression, None, major)
    assert str(info.value) == ("compression %s needs pg_dump 16 or later; the dump tool here is %s. Use none or gzip, "
                               "or a newer client." % (compression, major))


def test_pg_dump_argv_tail():
    assert _dump.pg_dump_argv_tail("bds_hub", "6") == ["--format", "custom", "--compress", "6", "--dbname=bds_hub"]
    assert _dump.pg_dump_argv_tail("bdio", "0") == ["--format", "custom", "--compress", "0", "--dbname=bdio"]


def test_dump_file():
    assert _dump.dump_file("bds_hub_report") == "bds_hub_report.dump"


# ------------------------------------------------------------------------------------------------ tool_major

@pytest.mark.parametrize("text, major", [
    ("pg_dump (PostgreSQL) 9.4.11", 9),
    ("pg_dump (PostgreSQL) 9.6.24", 9),
    ("pg_dump (PostgreSQL) 11.13", 11),
    ("pg_dump (PostgreSQL) 15.18 (Debian 15.18-1.pgdg120+1)", 15),
    ("15.18 (Debian 15.18-1.pgdg120+1)", 15),
    ("pg_restore (PostgreSQL) 17.2", 17),
    ("pg_dump (PostgreSQL) 16", 16),
    (None, None),
    ("", None),
    ("pg_dump (PostgreSQL)", None),
])
def test_tool_major(text, major):
    assert _dump.tool_major(text) == major


# ------------------------------------------------------------------------------------------------ same_source

def fp(version="9.4.11", **sizes):
    return {"server_version": version, "databases": sizes}


def test_fingerprint():
    server = {"version": "9.4.11", "num": 90411, "major": "9.4"}
    dbs = {"bds_hub": {"size_bytes": 100}, "bdio": {"size_bytes": 7}, "postgres": {"size_bytes": 1}}
    assert _dump.fingerprint(server, dbs, ["bds_hub", "bdio"]) == fp(bds_hub=100, bdio=7)


def test_same_source_identical_and_within_tolerance():
    old = fp(bds_hub=10000 * MiB, bdio=50 * MiB)
    assert _dump.same_source(old, fp(bds_hub=10000 * MiB, bdio=50 * MiB))
    # 2 % (200 MiB) either way
    assert _dump.same_source(old, fp(bds_hub=10200 * MiB, bdio=50 * MiB))
    assert _dump.same_source(old, fp(bds_hub=9800 * MiB, bdio=50 * MiB))
    # small databases get 1 MiB of slack (autovacuum, statistics), more than their 2 %
    small = fp(bds_hub=10000 * MiB, bdio=10 * MiB)
    assert _dump.same_source(small, fp(bds_hub=10000 * MiB, bdio=11 * MiB))
    assert _dump.same_source(small, fp(bds_hub=10000 * MiB, bdio=9 * MiB))
    assert not _dump.same_source(small, fp(bds_hub=10000 * MiB, bdio=11 * MiB + 1))


def test_same_source_beyond_tolerance():
    old = fp(bds_hub=10000 * MiB, bdio=50 * MiB)
    assert not _dump.same_source(old, fp(bds_hub=10200 * MiB + 1, bdio=50 * MiB))
    assert not _dump.same_source(old, fp(bds_hub=9800 * MiB - 1, bdio=50 * MiB))
    assert not _dump.same_source(old, fp(bds_hub=10000 * MiB, bdio=51 * MiB + 1))


def test_same_source_custom_tolerance():
    old = fp(bds_hub=1000 * MiB)
    assert not _dump.same_source(old, fp(bds_hub=1050 * MiB))
    assert _dump.same_source(old, fp(bds_hub=1050 * MiB), tolerance=0.1)


def test_same_source_version_or_databases_differ():
    assert not _dump.same_source(fp(bds_hub=1), fp(version="9.4.12", bds_hub=1))
    assert not _dump.same_source(fp(bds_hub=1), fp(bds_hub=1, bdio=1))
    assert not _dump.same_source(fp(bds_hub=1, bdio=1), fp(bds_hub=1))
    assert not _dump.same_source(fp(bds_hub=1), fp(bdio=1))


# ------------------------------------------------------------------------------------------------ verify_files

def make_dump(tmp_path):
    files = {"globals.sql": b"CREATE ROLE blackduck;\n", "bds_hub.dump": os.urandom(70000), "bdio.dump": b"PGDMP..."}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    data = {"globals": {"file": "globals.sql", "bytes": len(files["globals.sql"]),
                        "sha256": hashlib.sha256(files["globals.sql"]).hexdigest()},
            "databases": {n[:-5]: {"file": n, "bytes": len(files[n]), "sha256": hashlib.sha256(files[n]).hexdigest()}
                          for n in ("bds_hub.dump", "bdio.dump")}}
    return str(tmp_path), data, files


def complete(tmp_path, **sizes):
    d, data, files = make_dump(tmp_path)
    data.update(dump_id="d-1", created="2026-12-01T10:00:00Z", source={"where": "postgres of hub a"},
                fingerprint=fp(**(sizes or {"bds_hub": 100, "bdio": 7})))
    return d, data


def test_complete_dump_to_keep_only_this_sources_intact_dump(tmp_path):
    d, data = complete(tmp_path)
    this = fp(bds_hub=100, bdio=7)
    assert _dump.complete_dump_to_keep(d, None, ["bds_hub", "bdio"], this, force=False) is False  # nothing there
    assert _dump.complete_dump_to_keep(d, data, ["bdio", "bds_hub"], this, force=False) is True   # a rerun: kept
    assert _dump.complete_dump_to_keep(d, data, ["bds_hub"], this, force=True) is False           # force replaces


def test_complete_dump_of_another_source_is_never_replaced_without_force(tmp_path):
    d, data = complete(tmp_path)
    for names, this in ((["bds_hub"], fp(bds_hub=100)), (["bds_hub", "bdio"], fp(bds_hub=100 + 2 * MiB, bdio=7)),
                        (["bds_hub", "bdio"], fp("9.6.24", bds_hub=100, bdio=7))):
        with pytest.raises(_dump.DumpError) as info:
            _dump.complete_dump_to_keep(d, data, names, this, force=False)
        assert str(info.value) == (
            "%s already holds a complete dump of another source or of different data (dump d-1 of postgres of hub a, "
            "taken 2026-12-01T10:00:00Z). It is never overwritten: use another dump_dir, or force=true to replace it." % d)


def test_complete_dump_whose_files_changed_is_kept_and_refused(tmp_path):
    d, data = complete(tmp_path)
    os.unlink(os.path.join(d, "bdio.dump"))
    with pytest.raises(_dump.DumpError, match="holds a complete dump whose files no longer match its manifest: bdio.dump "
                                              "is missing. It is kept as it is; use another dump_dir, or force=true"):
        _dump.complete_dump_to_keep(d, data, ["bds_hub", "bdio"], fp(bds_hub=100, bdio=7), force=False)
    assert os.path.exists(os.path.join(d, "bds_hub.dump"))


def test_verify_files_intact(tmp_path):
    d, data, dummy = make_dump(tmp_path)
    assert _manifest.verify_files(d, data) == []


def test_verify_files_missing(tmp_path):
    d, data, dummy = make_dump(tmp_path)
    os.unlink(os.path.join(d, "bdio.dump"))
    assert _manifest.verify_files(d, data) == ["bdio.dump is missing"]


def test_verify_files_truncated(tmp_path):
    d, data, files = make_dump(tmp_path)
    with open(os.path.join(d, "bds_hub.dump"), "r+b") as f:
        f.truncate(65536)
    assert _manifest.verify_files(d, data) == [
        "bds_hub.dump has 65536 bytes, the manifest says 70000 (truncated or replaced)"]


def test_verify_files_corrupt_same_size(tmp_path):
    d, data, files = make_dump(tmp_path)
    raw = bytearray(files["bds_hub.dump"])
    raw[12345] ^= 0x01
    (tmp_path / "bds_hub.dump").write_bytes(bytes(raw))
    assert _manifest.verify_files(d, data) == ["bds_hub.dump does not match its sha256 in the manifest (corrupt)"]


def test_verify_files_reports_every_problem(tmp_path):
    d, data, dummy = make_dump(tmp_path)
    os.unlink(os.path.join(d, "globals.sql"))
    (tmp_path / "bdio.dump").write_bytes(b"PGDMP!!!")
    (tmp_path / "bds_hub.dump").write_bytes(b"")
    assert _manifest.verify_files(d, data) == [
        "globals.sql is missing",
        "bdio.dump does not match its sha256 in the manifest (corrupt)",
        "bds_hub.dump has 0 bytes, the manifest says 70000 (truncated or replaced)",
    ]


# ------------------------------------------------------------------------------------------------ leftovers

def test_partial_leftovers_and_remove_partial(tmp_path):
    for name in ("bds_hub.dump.partial", "globals.sql.partial", "progress.json", "manifest.json.tmp",
                 "bdio.dump", "globals.sql", "notes.txt", "manifest.json"):
        (tmp_path / name).write_text("x")
    d = str(tmp_path)
    assert _dump.partial_leftovers(d) == ["bds_hub.dump.partial", "globals.sql.partial", "manifest.json.tmp",
                                          "progress.json"]
    removed = _dump.remove_partial(d, ["globals.sql", "bdio.dump", "bds_hub.dump", "bds_hub_report.dump"])
    assert removed == ["bdio.dump", "bds_hub.dump.partial", "globals.sql", "globals.sql.partial",
                       "manifest.json.tmp", "progress.json"]
    assert sorted(os.listdir(d)) == ["manifest.json", "notes.txt"]  # nothing else is touched
    assert _dump.remove_partial(d, []) == []


def test_partial_leftovers_of_a_missing_directory(tmp_path):
    assert _dump.partial_leftovers(str(tmp_path / "nope")) == []


def test_prepare_dir_is_private(tmp_path):
    d = tmp_path / "a" / "dump"
    _dump.prepare_dir(str(d))
    assert stat.S_IMODE(os.stat(str(d)).st_mode) == 0o700
    os.chmod(str(d), 0o755)
    _dump.prepare_dir(str(d))
    assert stat.S_IMODE(os.stat(str(d)).st_mode) == 0o700


# ------------------------------------------------------------------------------------------------ with a fake tool

def test_dump_one_renames_the_partial_when_complete(tmp_path, fake_target):
    out = "PGDMP" + "x" * 5000
    target = fake_target([{"tool": "pg_dump", "stdout": out}])
    d = tmp_path / "dump"
    d.mkdir()
    res = _dump.dump_one(target, str(d), "bds_hub.dump", target.tool_argv("pg_dump", ["--dbname=bds_hub"]),
                         Progress(str(d / "progress.json"), lambda m: None, "dump"), 10)
    assert sorted(os.listdir(str(d))) == ["bds_hub.dump", "progress.json"]
    assert (d / "bds_hub.dump").read_text() == out
    assert res["bytes"] == len(out) and res["sha256"] == hashlib.sha256(out.encode()).hexdigest()


def test_dump_one_failure_leaves_no_file(tmp_path, fake_target):
    target = fake_target([{"tool": "pg_dump", "stdout": "PGDMP", "rc": 1,
                           "stderr": "pg_dump: error: query failed: ERROR:  permission denied"}])
    d = tmp_path / "dump"
    d.mkdir()
    with pytest.raises(CommandError) as info:
        _dump.dump_one(target, str(d), "bds_hub.dump", target.tool_argv("pg_dump", []),
                       Progress(str(d / "progress.json"), lambda m: None, "dump"), 10)
    assert "permission denied" in str(info.value)
    assert os.listdir(str(d)) == []


def test_restore_list_counts_toc_entries(tmp_path, fake_target):
    listing = (";\n; Archive created at 2024-01-01 00:00:00 UTC\n;     dbname: bds_hub\n;\n"
               "; Selected TOC Entries:\n;\n"
               "3; 2615 2200 SCHEMA - public postgres\n"
               "2456; 0 0 COMMENT - SCHEMA public postgres\n"
               "215; 1259 16390 TABLE st project blackduck\n\n"
               "2300; 0 16390 TABLE DATA st project blackduck\n")
    target = fake_target([{"tool": "pg_restore", "match": "--list", "stdout": listing}])
    path = tmp_path / "bds_hub.dump"
    path.write_bytes(b"PGDMP" + b"\0" * 1000)
    assert _dump.restore_list(target, str(path)) == 4
    (call,) = target.calls()
    assert call["args"] == ["--list"] and call["bytes"] == 1005  # the file went through stdin


def test_restore_list_unreadable_dump(tmp_path, fake_target):
    target = fake_target([{"tool": "pg_restore", "rc": 1,
                           "stderr": "pg_restore: error: input file does not appear to be a valid archive\n"}])
    path = tmp_path / "bds_hub.dump"
    path.write_bytes(b"garbage")
    with pytest.raises(_dump.DumpError, match="pg_restore --list cannot read bds_hub.dump: pg_restore: error: input "
                                              "file does not appear to be a valid archive. The dump is not usable"):
        _dump.restore_list(target, str(path))


def test_check_quiet(fake_target):
    s = _query.SEP
    target = fake_target([{"stdout": "bds_hub%sblackduck_user%sjobrunner%s172.18.0.5/32\n" % (s, s, s) +
                           "bds_hub%sblackduck%s%slocal\n" % (s, s, s)}])
    with pytest.raises(_dump.DumpError) as info:
        _dump.check_quiet(target, ["bds_hub"], allow=False)
    assert str(info.value).startswith(
        "the databases still have client sessions: blackduck@bds_hub from local (?), "
        "blackduck_user@bds_hub from 172.18.0.5/32 (jobrunner). Bring the Hub down")
    assert len(_dump.check_quiet(target, ["bds_hub"], allow=True)) == 2
    target.set_rules([{"stdout": ""}])
    assert _dump.check_quiet(target, ["bds_hub"], allow=False) == []
    # sessions of the collection's own tools: another run, or a killed run's background job - said so
    target.set_rules([{"stdout": "bds_hub%spostgres%sblackduck.hub%slocal\n" % (s, s, s)}])
    with pytest.raises(_dump.DumpError, match=r"^the databases have sessions of blackduck.hub itself \(postgres@bds_hub\): "
                                              "another run is working on this hub, or the background job of a killed"):
        _dump.check_quiet(target, ["bds_hub"], allow=False)


def test_summary():
    data = {"dump_id": "x", "seconds": 3.5, "source": {"type": "docker"}, "tools": {"pg_dump": "9.4.11"},
            "globals": {"file": "globals.sql", "bytes": 10, "sha256": "g", "seconds": 0.1},
            "databases": {"bds_hub": {"file": "bds_hub.dump", "bytes": 100, "sha256": "h", "seconds": 2,
                                      "tables": {"st.a": {"rows": 3}, "st.b": {"rows": 4}}},
                          "bdio": {"file": "bdio.dump", "bytes": 5, "sha256": "i", "seconds": 1, "tables": {}}}}
    out = _dump.summary(data)
    assert out["total_bytes"] == 115 == sum(size for dummy, size, dummy2 in _manifest.files_of(data))
    assert out["databases"]["bds_hub"] == {"file": "bds_hub.dump", "bytes": 100, "sha256": "h", "tables": 2,
                                           "rows": 7, "seconds": 2}
    assert out["databases"]["bdio"]["rows"] == 0
    assert out["globals"] == {"file": "globals.sql", "bytes": 10, "sha256": "g"}


def test_a_dump_whose_container_went_away_says_so(fake_target, tmp_path):
    target = fake_target([{"tool": "pg_dump", "rc": 126}])
    progress = Progress(None, lambda *a: None, "dump")
    out = tmp_path / "dump"
    out.mkdir()
    with pytest.raises(CommandError, match=r"exit 126"):  # still there: the tool's failure, as it is
        _dump.dump_one(target, str(out), "bds_hub.dump", target.tool_argv("pg_dump", []), progress, 10)
    target.gone_reason = "the database container hub-postgres-1 was removed"
    with pytest.raises(_dump.DumpError) as info:
        _dump.dump_one(target, str(out), "bds_hub.dump", target.tool_argv("pg_dump", []), progress, 10)
    assert str(info.value).startswith("pg_dump of bds_hub.dump stopped because the database container hub-postgres-1 "
                                      "was removed while it ran (pg_dump failed (exit 126)")
    assert os.listdir(str(out)) == []  # nothing of it kept


def test_a_directory_dump_whose_container_went_away_says_so(fake_target, tmp_path):
    """pg_dump --format directory inside the container, the folder mounted: the same words as the streamed dump."""
    target = fake_target([{"tool": "pg_dump", "rc": 137}])
    target.tools_see = lambda dump_dir, path: path
    target.tools_owner = lambda: None
    progress = Progress(None, lambda *a: None, "dump")
    out = tmp_path / "dump"
    out.mkdir()
    with pytest.raises(_dump.DumpError, match=r"^pg_dump of bds_hub failed \(exit 137\): it was killed"):
        _dump.dump_directory(target, str(out), "bds_hub", 2, None, progress)
    target.gone_reason = "the database container hub-postgres-1 was removed"
    with pytest.raises(_dump.DumpError) as info:
        _dump.dump_directory(target, str(out), "bds_hub", 2, None, progress)
    assert str(info.value).startswith("pg_dump of bds_hub stopped because the database container hub-postgres-1 "
                                      "was removed while it ran (exit 137: it was killed")
    assert "run again" in str(info.value) and os.listdir(str(out)) == []  # the partial folder is not kept


def test_a_dump_read_back_after_its_container_went_away_says_so(fake_target, tmp_path):
    """pg_dump ended (0) as the container went: pg_restore --list, which reads the dump back there, fails without a
    word (exit 126). That is not an unusable dump but the database gone, and the message says so (CI's run of stop 41
    said only 'pg_restore --list cannot read bds_hub.dir: .')."""
    target = fake_target([{"tool": "pg_restore", "rc": 126}])
    path = tmp_path / "bds_hub.dump"
    path.write_bytes(b"PGDMP")
    with pytest.raises(_dump.DumpError) as info:  # still there: the dump's own failure, said with the exit code
        _dump.restore_list(target, str(path))
    assert not isinstance(info.value, _dump.StoppedError)
    assert str(info.value) == ("pg_restore --list cannot read bds_hub.dump: the tool could not be run (exit 126: not "
                               "found or not executable where it was started). The dump is not usable; it was not kept.")
    target.gone_reason = "the database container hub-postgres-1 was removed"
    with pytest.raises(_dump.StoppedError) as info:
        _dump.restore_list(target, "/blackduck-hub-dump/bds_hub.dir.partial", folder=True, shown="bds_hub.dir")
    assert str(info.value).startswith("pg_restore --list of bds_hub.dir stopped because the database container "
                                      "hub-postgres-1 was removed while it ran (exit 126: the tool could not be run")
    assert str(info.value).endswith("Nothing of it was kept; start the database again (a rerun's step 3 does) and run "
                                    "again.")


@pytest.mark.parametrize("raised", [lambda: CommandError("counting the rows on container hub-postgres-1 (database "
                                                         "bds_hub) failed: exit 137", rc=137, stderr=""),
                                    lambda: _dump.DumpError("pg_restore --list cannot read bds_hub.dump: x")])
def test_whatever_fails_under_a_database_that_went_away_says_so(fake_target, tmp_path, monkeypatch, raised):
    """Not only the tools: the counting beside them, their helper commands, the roles read at the end - each fails
    in its own words when the database goes, and the dump's error names what happened; while the database is still
    there, the error is the one raised, as it was; a stop said already, or a full disk, is not asked again. (raised:
    a new error each run, as each run raises its own.)"""
    target = fake_target([])
    monkeypatch.setattr(_dump, "tool_version", lambda target, tool: "pg_dump (PostgreSQL) 9.6.24")
    dbs = {"bds_hub": {"size_bytes": 1}, "bdio": {"size_bytes": 1}}

    def run_dump(exc):
        def fail(*a):
            raise exc
        monkeypatch.setattr(_dump, "_dump_all", fail)
        with pytest.raises(Exception) as info:
            _dump.run_dump(target, str(tmp_path / "dump"), ["bds_hub", "bdio"], {}, dbs, _dump.DumpOptions(),
                           lambda *a: None)
        return info.value

    first = raised()
    assert run_dump(first) is first
    target.gone_reason = "the database container hub-postgres-1 was removed"
    out = run_dump(raised())
    assert isinstance(out, _dump.StoppedError), out
    assert str(out).startswith("the dump of bds_hub, bdio stopped because the database container hub-postgres-1 was "
                               "removed while it ran (%s)" % raised())
    said = _dump.StoppedError("pg_dump of bds_hub stopped because the database container hub-postgres-1 was removed")
    assert run_dump(said) is said
    full = DiskFullError(str(tmp_path), 10, "file")
    assert run_dump(full) is full


def test_a_tool_that_failed_beside_a_database_still_there_is_asked_about_once(fake_target, tmp_path, monkeypatch):
    """Whether the database went is asked where the tool failed (each ask waits up to 10 s for the engine or the API
    to tell); run_dump does not ask again about the error it raised."""
    target = fake_target([{"tool": "pg_dump", "rc": 1, "stderr": "pg_dump: error: query failed"}])
    asked = []
    target.gone = lambda: asked.append(1) or ""
    monkeypatch.setattr(_dump, "tool_version", lambda target, tool: "pg_dump (PostgreSQL) 9.6.24")
    out = tmp_path / "dump"

    def dump_all(target, dump_dir, names, server, dbs, options, progress, *a):
        _dump.dump_one(target, str(out), "bds_hub.dump", target.tool_argv("pg_dump", []), progress, 10)

    monkeypatch.setattr(_dump, "_dump_all", dump_all)
    with pytest.raises(CommandError, match="query failed"):
        _dump.run_dump(target, str(out), ["bds_hub"], {}, {"bds_hub": {"size_bytes": 1}}, _dump.DumpOptions(),
                       lambda *a: None)
    assert len(asked) == 1


def test_a_directory_dump_that_fills_the_file_system_says_so(fake_target, tmp_path):
    said = "pg_dump: error: could not write to file \"/m/bds_hub.dir.partial/3001.dat\": No space left on device\n"
    target = fake_target([{"tool": "pg_dump", "rc": 1, "stderr": said}])
    target.tools_see = lambda dump_dir, path: path
    target.tools_owner = lambda: None
    out = tmp_path / "dump"
    out.mkdir()
    with pytest.raises(CommandError) as info:
        _dump.dump_directory(target, str(out), "bds_hub", 2, None, Progress(None, lambda *a: None, "dump"))
    assert str(info.value).startswith("the filesystem holding %s is full: 0 B written before it filled ("
                                      % (out / "bds_hub.dir.partial"))
    assert str(info.value).endswith("Free space or choose another dump directory; the partial folder was removed.")
    assert os.listdir(str(out)) == []


# ------------------------------------------------------------------------------------------------ the checksums beside the dump

NAMES = ["bds_hub", "bds_hub_report", "bdio"]


def dump_all(tmp_path, monkeypatch, dump, counted, fmt):
    """_dump_all on the three databases with each database's dump (dump(name)) and its counting (counted(name))
    replaced. Returns the manifest data, or the exception it raised."""
    monkeypatch.setattr(_dump.inventory, "database_inventory", lambda target, name, **kw: counted(name))
    monkeypatch.setattr(_dump.inventory, "roles", lambda target: {})
    monkeypatch.setattr(_dump.inventory, "superusers", lambda target: [])
    if fmt == "directory":
        monkeypatch.setattr(_dump, "dump_directory", lambda target, dump_dir, name, *a: dump(name))
    else:
        monkeypatch.setattr(_dump, "dump_one", lambda target, dump_dir, fname, *a: dump(fname.split(".")[0]))
        monkeypatch.setattr(_dump, "restore_list", lambda *a, **kw: 3)
    dbs = dict((n, {"size_bytes": 1, "owner": "blackduck", "encoding": "UTF8", "collate": "C", "ctype": "C"})
               for n in NAMES)
    options = _dump.DumpOptions(format=fmt, globals=False, no_role_passwords=True)
    target = type("Where", (), {"identity": lambda self: {"type": "fake", "where": "the fake server"},
                                "tool_argv": lambda self, tool, args, **kw: [tool] + list(args)})()
    try:
        return _dump._dump_all(target, str(tmp_path), NAMES, {"version": "11.13", "num": 110013, "major": 11}, dbs,
                               options, Progress(None, lambda *a: None, "dump"), 0, {}, "0")
    except Exception as exc:  # pylint: disable=broad-except
        return exc


@pytest.mark.parametrize("fmt", ["custom", "directory"])
def test_the_rows_are_counted_while_the_databases_are_dumped(tmp_path, monkeypatch, fmt):
    counting = threading.Event()
    waited = []

    def dump(name):
        if name == "bds_hub":  # the first dump goes on only once the counting has begun: it runs beside the dumps
            waited.append(counting.wait(10))
        return {"bytes": 1, "sha256": "x", "seconds": 0.1, "toc_entries": 3, "files": {}}

    def counted(name):
        counting.set()
        return {"tables": {"st." + name: {"rows": 1}}}

    data = dump_all(tmp_path, monkeypatch, dump, counted, fmt)
    assert waited == [True], "the counting did not start while the first database was dumped"
    assert not isinstance(data, Exception), data
    assert dict((n, d["tables"]) for n, d in data["databases"].items()) == dict(
        (n, {"st." + n: {"rows": 1}}) for n in NAMES)  # each database with its own counts
    assert data["databases"]["bds_hub"]["toc_entries"] == 3 and os.path.exists(_manifest.manifest_path(str(tmp_path)))


def test_a_failed_dump_does_not_wait_for_the_others(tmp_path, monkeypatch):
    counted_names, dumped_names = [], []

    def dump(name):
        dumped_names.append(name)
        raise CommandError("pg_dump of %s failed: disk full" % name, rc=1, stderr="")

    def counted(name):
        counted_names.append(name)
        time.sleep(0.2)
        return {"tables": {}}

    started = time.monotonic()
    out = dump_all(tmp_path, monkeypatch, dump, counted, "directory")
    assert isinstance(out, CommandError) and "disk full" in str(out)
    assert counted_names == ["bds_hub"] and time.monotonic() - started < 2  # the rest cancelled, not waited for
    assert dumped_names == ["bds_hub"]  # nor the other databases dumped after the failure
    assert not os.path.exists(_manifest.manifest_path(str(tmp_path)))
