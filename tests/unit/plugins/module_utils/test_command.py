"""module_utils/_command.py: argv from declared formats, and processes streamed to and from files."""
import hashlib
import os
import resource
import stat
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _command
from ansible_collections.blackduck.hub.plugins.module_utils._command import (
    ArgFormat, CommandError, DiskFullError, build_argv)

PY = sys.executable
MiB = 1024 * 1024

# A child that writes a deterministic byte pattern of N bytes (argv[1]) to stdout.
WRITER = ("import sys\n"
          "n = int(sys.argv[1])\n"
          "block = bytes(range(256)) * 4096\n"
          "while n > 0:\n"
          "    piece = block[:n]\n"
          "    sys.stdout.buffer.write(piece)\n"
          "    n -= len(piece)\n")


def pattern(n):
    block = bytes(range(256)) * 4096
    out = b""
    while len(out) < n:
        out += block[:n - len(out)]
    return out


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ------------------------------------------------------------------------------------------------ ArgFormat

@pytest.mark.parametrize("fmt, value, expected", [
    (ArgFormat("flag", "--exit-on-error"), True, ["--exit-on-error"]),
    (ArgFormat("flag", "--exit-on-error"), False, []),
    (ArgFormat("flag", "--exit-on-error"), None, []),
    (ArgFormat("opt", "--format"), "custom", ["--format", "custom"]),
    (ArgFormat("opt", "--compress"), 0, ["--compress", "0"]),  # 0 is a value, not "absent"
    (ArgFormat("opt", "--jobs"), 4, ["--jobs", "4"]),
    (ArgFormat("opt", "--format"), None, []),
    (ArgFormat("eq", "--dbname"), "bds_hub", ["--dbname=bds_hub"]),
    (ArgFormat("eq", "--dbname"), "a b", ["--dbname=a b"]),  # one argv item, never split
    (ArgFormat("eq", "--dbname"), False, []),
    (ArgFormat("repeat", "--table"), ["st.a", "st.b"], ["--table", "st.a", "--table", "st.b"]),
    (ArgFormat("repeat", "--table"), [], []),
    (ArgFormat("repeat", "--n"), (1, 2), ["--n", "1", "--n", "2"]),
    (ArgFormat("fixed", items=["--clean", "--if-exists"]), True, ["--clean", "--if-exists"]),
    (ArgFormat("fixed", items=["--clean", "--if-exists"]), False, []),
])
def test_argformat_render(fmt, value, expected):
    assert fmt.render(value) == expected


def test_argformat_unknown_kind():
    with pytest.raises(ValueError, match="unknown ArgFormat kind 'bogus'"):
        ArgFormat("bogus", "--x")


def test_fixed_items_are_copied():
    items = ["--clean"]
    fmt = ArgFormat("fixed", items=items)
    items.append("--oops")
    out = fmt.render(True)
    out.append("--more")
    assert fmt.render(True) == ["--clean"]


FORMATS = {
    "format": ArgFormat("opt", "--format"),
    "verbose": ArgFormat("flag", "-v"),
    "dbname": ArgFormat("eq", "--dbname"),
    "schema": ArgFormat("repeat", "-n"),
    "clean": ArgFormat("fixed", items=["--clean", "--if-exists"]),
}


def test_build_argv_declaration_order_whatever_the_values_order():
    values = {"clean": True, "schema": ["st", "public"], "dbname": "bds_hub", "verbose": True, "format": "custom"}
    head = ["pg_restore"]
    argv = build_argv(head, FORMATS, values)
    assert argv == ["pg_restore", "--format", "custom", "-v", "--dbname=bds_hub", "-n", "st", "-n", "public",
                    "--clean", "--if-exists"]
    assert head == ["pg_restore"]  # the head is not modified


def test_build_argv_explicit_order():
    values = {"clean": True, "dbname": "bds_hub", "format": "custom"}
    argv = build_argv([], FORMATS, values, order=["dbname", "clean", "format"])
    assert argv == ["--dbname=bds_hub", "--clean", "--if-exists", "--format", "custom"]


def test_build_argv_order_limits_the_options():
    argv = build_argv(["x"], FORMATS, {"format": "custom", "verbose": True}, order=["verbose"])
    assert argv == ["x", "-v"]


def test_build_argv_absent_false_and_undeclared_values():
    argv = build_argv([], FORMATS, {"verbose": False, "clean": None, "format": "c", "undeclared": "x"})
    assert argv == ["--format", "c"]


# ------------------------------------------------------------------------------------------------ human, argv_tool

@pytest.mark.parametrize("n, text", [
    (0, "0 B"), (None, "0 B"), (1, "1 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
    (MiB, "1.0 MiB"), (int(2.5 * MiB), "2.5 MiB"), (1024 ** 3, "1.0 GiB"), (5 * 1024 ** 4, "5.0 TiB"),
    (2048 * 1024 ** 4, "2048.0 TiB"),
])
def test_human(n, text):
    assert _command.human(n) == text


@pytest.mark.parametrize("argv, tool", [
    (["/usr/bin/docker", "exec", "-i", "-u", "postgres", "0123abcd", "pg_restore", "-U", "postgres"], "pg_restore"),
    (["kubectl", "-n", "hub", "exec", "-i", "postgres-1", "--", "psql", "-U", "postgres"], "psql"),
    (["/usr/lib/postgresql/15/bin/pg_dump", "-h", "db", "--dbname=bds_hub"], "pg_dump"),
    (["docker", "exec", "c", "pg_dumpall", "--globals-only"], "pg_dumpall"),
    (["/usr/bin/python3", "-c", "pass"], "/usr/bin/python3"),
])
def test_argv_tool(argv, tool):
    assert _command.argv_tool(argv) == tool


# ------------------------------------------------------------------------------------------------ run

def test_run_returns_rc_stdout_stderr_and_feeds_stdin():
    rc, out, err = _command.run([PY, "-c", "import sys; d = sys.stdin.read(); print(d.upper()); "
                                           "sys.stderr.write('e'); sys.exit(3)"], stdin_data="héllo")
    assert (rc, out.strip(), err) == (3, "HÉLLO", "e")


def test_run_timeout_is_a_command_error():
    with pytest.raises(CommandError, match="timed out after 0.3s"):
        _command.run([PY, "-c", "import time; time.sleep(30)"], timeout=0.3)


# ------------------------------------------------------------------------------------------------ stream_to_file

def test_stream_to_file_sha_bytes_and_mode(tmp_path):
    n = 3 * MiB + 12345  # several chunks and a short one
    path = str(tmp_path / "out.dump")
    res = _command.stream_to_file([PY, "-c", WRITER, str(n)], path)
    data = pattern(n)
    assert res["bytes"] == n == os.path.getsize(path)
    assert res["sha256"] == hashlib.sha256(data).hexdigest() == _command.sha256_file(path)
    with open(path, "rb") as f:
        assert f.read() == data
    assert mode_of(path) == 0o600
    assert res["seconds"] >= 0 and res["stderr"] == ""


def test_stream_to_file_empty_output(tmp_path):
    path = str(tmp_path / "empty")
    res = _command.stream_to_file([PY, "-c", "pass"], path)
    assert res["bytes"] == 0 and res["sha256"] == hashlib.sha256(b"").hexdigest()
    assert os.path.getsize(path) == 0


def test_stream_to_file_mode_holds_under_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        path = str(tmp_path / "out")
        _command.stream_to_file([PY, "-c", WRITER, "10"], path)
    finally:
        os.umask(old)
    assert mode_of(path) == 0o600


def test_stream_to_file_truncates_an_existing_file(tmp_path):
    path = tmp_path / "out"
    path.write_bytes(b"x" * 100000)
    res = _command.stream_to_file([PY, "-c", WRITER, "10"], str(path))
    assert path.read_bytes() == pattern(10) and res["bytes"] == 10


def test_stream_to_file_keeps_stderr(tmp_path):
    res = _command.stream_to_file([PY, "-c", "import sys; sys.stderr.write('pg_dump: warning: x\\n')"],
                                  str(tmp_path / "out"))
    assert res["stderr"] == "pg_dump: warning: x\n"


def test_stream_to_file_memory_is_bounded(tmp_path):
    """200 MiB go through the test process; its peak RSS grows by far less."""
    n = 200 * MiB
    gen = ("import sys\nb = b'\\xa5' * %d\nfor i in range(%d):\n    sys.stdout.buffer.write(b)\n" % (MiB, n // MiB))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    res = _command.stream_to_file([PY, "-c", gen], str(tmp_path / "big"))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert res["bytes"] == n == os.path.getsize(str(tmp_path / "big"))
    expected = hashlib.sha256()
    block = b"\xa5" * MiB
    for dummy in range(n // MiB):
        expected.update(block)
    assert res["sha256"] == expected.hexdigest()
    assert (after - before) * 1024 < 60 * MiB, "peak RSS grew by %d KiB" % (after - before)


def test_stream_to_file_failure_removes_the_partial_file(tmp_path):
    path = str(tmp_path / "db.dump.partial")
    script = ("import sys\nsys.stdout.buffer.write(b'x' * 3000000)\nsys.stdout.flush()\n"
              "sys.stderr.write('pg_dump: error: connection lost\\n')\nsys.exit(3)\n")
    with pytest.raises(CommandError) as info:
        _command.stream_to_file([PY, "-c", script], path)
    err = info.value
    assert not isinstance(err, DiskFullError)
    assert err.rc == 3
    assert "pg_dump: error: connection lost" in err.stderr
    assert "failed (exit 3)" in err.message and "connection lost" in err.message
    assert not os.path.exists(path)


def test_stream_to_file_failure_names_the_tool_behind_an_exec_prefix(tmp_path):
    # The first argv item that looks like a client tool names the failure.
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "pg_dump"
    fake.write_text("#!%s\nimport sys\nsys.stderr.write('boom')\nsys.exit(2)\n" % PY)
    fake.chmod(0o755)
    with pytest.raises(CommandError, match=r"^pg_dump failed \(exit 2\): boom$"):
        _command.stream_to_file([str(fake), "--dbname=x"], str(tmp_path / "out"))


def test_stream_to_file_progress_is_called_with_bytes_so_far(tmp_path):
    calls = []
    n = 4 * MiB + 7
    res = _command.stream_to_file([PY, "-c", WRITER, str(n)], str(tmp_path / "out"),
                                  progress=lambda done, rate: calls.append((done, rate)), progress_every=0)
    assert len(calls) >= 2
    done = [d for d, dummy in calls]
    assert done == sorted(done) and done[-1] == n == res["bytes"]
    assert all(rate > 0 for dummy, rate in calls)


def test_stream_to_file_progress_final_call_even_with_a_long_interval(tmp_path):
    calls = []
    _command.stream_to_file([PY, "-c", WRITER, str(2 * MiB)], str(tmp_path / "out"),
                            progress=lambda done, rate: calls.append(done), progress_every=3600)
    assert calls == [2 * MiB]


def test_stream_to_file_no_progress_on_failure(tmp_path):
    calls = []
    with pytest.raises(CommandError):
        _command.stream_to_file([PY, "-c", "import sys; sys.exit(1)"], str(tmp_path / "out"),
                                progress=lambda done, rate: calls.append(done), progress_every=3600)
    assert calls == []


@pytest.fixture
def tiny_fs(tmp_path):
    """A 256 KiB tmpfs, unmounted afterwards; skipped where it cannot be mounted."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    try:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    except OSError as exc:
        pytest.skip("cannot run mount: %s" % exc)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs (root needed): %s" % proc.stdout.decode("utf-8", "replace").strip())
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_stream_to_file_disk_full(tiny_fs):
    path = os.path.join(tiny_fs, "bds_hub.dump.partial")
    with pytest.raises(DiskFullError) as info:
        _command.stream_to_file([PY, "-c", WRITER, str(3 * MiB)], path)
    err = info.value
    assert err.path == path
    assert err.written < 3 * MiB
    assert "is full" in err.message and "partial file was removed" in err.message
    assert os.listdir(tiny_fs) == []


def test_stream_to_file_disk_full_after_some_chunks(tiny_fs):
    # The child writes small pieces; whatever fitted is reported, and still removed.
    path = os.path.join(tiny_fs, "out.partial")
    script = "import sys\nfor i in range(64):\n    sys.stdout.buffer.write(b'z' * 65536)\n    sys.stdout.flush()\n"
    with pytest.raises(DiskFullError) as info:
        _command.stream_to_file([PY, "-c", script], path)
    assert info.value.written <= 256 * 1024
    assert _command.human(info.value.written) in info.value.message
    assert not os.path.exists(path)


# ------------------------------------------------------------------------------------------------ stream_from_file

READER = ("import hashlib, sys\nh = hashlib.sha256()\nn = 0\n"
          "while True:\n    b = sys.stdin.buffer.read(65536)\n    if not b:\n        break\n"
          "    h.update(b)\n    n += len(b)\n"
          "print(h.hexdigest(), n)\nsys.stderr.write('done\\n')\n")


def test_stream_from_file_feeds_the_whole_file(tmp_path):
    path = tmp_path / "in.dump"
    data = os.urandom(2 * MiB + 333)
    path.write_bytes(data)
    calls = []
    res = _command.stream_from_file([PY, "-c", READER], str(path), progress=lambda d, r: calls.append(d),
                                    progress_every=0)
    sha, n = res["stdout"].split()
    assert sha == hashlib.sha256(data).hexdigest() == _command.sha256_file(str(path))
    assert int(n) == len(data) == res["bytes"]
    assert (res["rc"], res["stderr"], res["broken_pipe"]) == (0, "done\n", False)
    assert calls[-1] == len(data)


def test_stream_from_file_reports_a_non_zero_exit(tmp_path):
    path = tmp_path / "in"
    path.write_bytes(b"abc")
    res = _command.stream_from_file([PY, "-c", "import sys; sys.stdin.read(); sys.stderr.write('pg_restore: "
                                               "warning: errors ignored on restore: 1'); sys.exit(1)"], str(path))
    assert res["rc"] == 1 and "errors ignored on restore: 1" in res["stderr"]
    assert res["bytes"] == 3 and not res["broken_pipe"]


def test_stream_from_file_process_exits_early(tmp_path):
    path = tmp_path / "in"
    path.write_bytes(b"\0" * (4 * MiB))
    script = ("import sys\nsys.stdin.buffer.read(10)\n"
              "sys.stderr.write('pg_restore: error: input file does not appear to be a valid archive\\n')\n"
              "sys.exit(1)\n")
    res = _command.stream_from_file([PY, "-c", script], str(path))
    assert res["rc"] == 1
    assert res["broken_pipe"] is True
    assert "does not appear to be a valid archive" in res["stderr"]
    assert res["bytes"] < 4 * MiB


def test_stream_from_file_output_is_kept_apart(tmp_path):
    path = tmp_path / "in"
    path.write_bytes(b"")
    token = uuid.uuid4().hex
    res = _command.stream_from_file([PY, "-c", "import sys; print('out-%s'); sys.stderr.write('err-%s')"
                                     % (token, token)], str(path))
    assert res["stdout"] == "out-%s\n" % token and res["stderr"] == "err-%s" % token and res["bytes"] == 0


def test_stream_from_file_missing_input_kills_the_process(tmp_path):
    with pytest.raises(IOError):
        _command.stream_from_file([PY, "-c", "import sys; sys.stdin.read()"], str(tmp_path / "missing"))


PIPE_WRITER = ("import sys\nb = bytes(range(256)) * 4096\nfor i in range(%d):\n    sys.stdout.buffer.write(b)\n"
               "sys.stderr.write('written\\n')\n")


def test_stream_between_pipes_everything_and_keeps_both_stderrs():
    calls = []
    res = _command.stream_between([PY, "-c", PIPE_WRITER % 3], [PY, "-c", READER], progress=lambda d, r: calls.append(d),
                                  progress_every=0)
    expected = hashlib.sha256(bytes(range(256)) * 4096 * 3).hexdigest()
    assert (res["rc"], res["src_rc"], res["bytes"], res["broken_pipe"]) == (0, 0, 3 * MiB, False)
    assert (res["stderr"], res["src_stderr"]) == ("done\n", "written\n")
    assert calls[-1] == 3 * MiB
    # what the reader read is what the writer wrote: its digest went to its stdout, which is not kept - read it back
    res = _command.stream_between([PY, "-c", PIPE_WRITER % 3], [PY, "-c", READER + "sys.stderr.write(h.hexdigest())\n"])
    assert res["stderr"] == "done\n" + expected


def test_stream_between_without_splice_copies_the_same(monkeypatch):
    """Where os.splice is missing (not Linux, Python before 3.10) the bytes are read and written in pieces: the same."""
    monkeypatch.delattr(_command.os, "splice", raising=False)
    res = _command.stream_between([PY, "-c", PIPE_WRITER % 3], [PY, "-c", READER + "sys.stderr.write(h.hexdigest())\n"])
    assert res["stderr"] == "done\n" + hashlib.sha256(bytes(range(256)) * 4096 * 3).hexdigest()
    assert (res["rc"], res["src_rc"], res["bytes"], res["broken_pipe"]) == (0, 0, 3 * MiB, False)
    reader = "import sys\nsys.stdin.buffer.read(10)\nsys.exit(1)\n"
    res = _command.stream_between([PY, "-c", PIPE_WRITER % 100], [PY, "-c", reader])
    assert res["rc"] == 1 and res["broken_pipe"] is True and res["bytes"] < 100 * MiB


def test_stream_between_memory_is_bounded():
    """200 MiB go from one process to the other through the test process; its peak RSS grows by far less."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = _command.stream_between([PY, "-c", PIPE_WRITER % 200], [PY, "-c", READER])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert res["bytes"] == 200 * MiB and res["rc"] == 0
    assert (after - before) * 1024 < 60 * MiB, "peak RSS grew by %d KiB" % (after - before)


def test_stream_between_a_writer_that_fails_ends_the_readers_input():
    script = "import sys\nsys.stdout.buffer.write(b'x' * 1000)\nsys.stderr.write('pg_dump: error: lost')\nsys.exit(1)\n"
    res = _command.stream_between([PY, "-c", script], [PY, "-c", READER])
    assert (res["src_rc"], res["rc"], res["bytes"]) == (1, 0, 1000)
    assert res["src_stderr"] == "pg_dump: error: lost" and res["stderr"] == "done\n"


def test_stream_between_a_reader_that_stops_ends_the_writer():
    reader = "import sys\nsys.stdin.buffer.read(10)\nsys.stderr.write('pg_restore: error: bad archive')\nsys.exit(1)\n"
    res = _command.stream_between([PY, "-c", PIPE_WRITER % 100], [PY, "-c", reader])
    assert res["rc"] == 1 and "bad archive" in res["stderr"]
    assert res["src_rc"] != 0 and res["bytes"] < 100 * MiB  # killed, not left writing into a pipe nobody reads
    assert res["broken_pipe"] is True  # so the writer's exit code is ours, not its own failure


def test_stream_between_a_reader_that_cannot_start_leaves_no_writer(tmp_path):
    marker = tmp_path / "writer-ran"
    writer = "import sys, time\ntime.sleep(1)\nopen(%r, 'w').write('x')\n" % str(marker)
    with pytest.raises(OSError):
        _command.stream_between([PY, "-c", writer], [str(tmp_path / "no-such-pg_restore")])
    time.sleep(1.5)
    assert not marker.exists()  # killed at once, not left running


def test_sha256_file_small_chunks(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789" * 1000)
    assert _command.sha256_file(str(path), chunk=7) == hashlib.sha256(b"0123456789" * 1000).hexdigest()


def test_why_a_tool_failed():
    from ansible_collections.blackduck.hub.plugins.module_utils._command import why
    assert why(1, "  pg_dump: error: connection lost\n") == "pg_dump: error: connection lost"
    assert why(137, "").startswith("it was killed (SIGKILL) without a word: was its container or pod stopped or removed")
    assert why(-15, "").startswith("it was killed (SIGTERM)")
    assert why(127, "") == "the tool could not be run (exit 127: not found or not executable where it was started)"
    assert why(3, "") == "it ended with exit code 3 and said nothing"


PSQL_SAID = ("psql:<stdin>:7: ERROR:  syntax error at or near \"PASSWOR\"\n"
             "LINE 1: ALTER ROLE blackduck_reporter WITH LOGIN PASSWORD 'md5f00d''cafe' VALID UNTIL 'infinity';\n"
             "LINE 1: CREATE ROLE r PASSWORD E'md5b33f\n"  # psql cuts a long line
             "LINE 1: ...r WITH password   'md5c0ffee'\n"
             "LINE 1: ...SWORD 'md5d00dad' VALID UNTIL 'infinity';\n"  # cut before the word PASSWORD
             "ERROR:  syntax error at or near \"'md5beef'\"\n"
             "2026-12-05 07:01:02 UTC [42] STATEMENT:  ALTER ROLE r PASSWORD 'md5feed';\n"
             "pg_restore: error: could not execute query: ERROR:  x\nCommand was: ALTER ROLE r PASSWORD 'md5face';\n")


def test_a_password_a_tool_quotes_never_reaches_a_message_or_the_log(tmp_path):
    """psql quotes the statement it failed on (LINE 1: ...), and the roles' script holds their passwords' hashes:
    every stderr the command functions hand on (returned, in a message, in the run's log) has them hidden."""
    import sys
    hashes = ("f00d", "cafe", "b33f", "c0ffee", "d00dad", "beef", "feed", "face")
    said = _command.hide_passwords(PSQL_SAID)
    assert not any(h in said for h in hashes)
    assert "LOGIN PASSWORD '(hidden)' VALID UNTIL '(hidden)';" in said and "password   '(hidden)'" in said
    assert "LINE 1: ...SWORD '(hidden)' VALID UNTIL '(hidden)';" in said
    assert _command.hide_passwords("ERROR:  role \"r\" does not exist\n") == "ERROR:  role \"r\" does not exist\n"
    log = str(tmp_path / "run.log")
    (tmp_path / "said").write_text(PSQL_SAID)  # not in argv: the log shows each command's argv
    say = "import sys; sys.stdin.read(); sys.stderr.write(open(%r).read()); sys.exit(3)" % str(tmp_path / "said")
    (tmp_path / "in").write_text("x")
    _command.set_log(log)
    try:
        rc, dummy, err = _command.run([sys.executable, "-c", say], stdin_data="")
        with pytest.raises(_command.CommandError) as failed:
            _command.stream_to_file([sys.executable, "-c", say], str(tmp_path / "out"))
        fed = _command.stream_from_file([sys.executable, "-c", say], str(tmp_path / "in"))
        piped = _command.stream_between([sys.executable, "-c", say], [sys.executable, "-c", say])
    finally:
        _command.set_log(None)
    for text in (err, str(failed.value), failed.value.stderr, fed["stderr"], piped["stderr"], piped["src_stderr"],
                 open(log).read()):
        assert "syntax error" in text and not any(h in text for h in hashes)
    assert rc == 3 and "LOGIN PASSWORD '(hidden)'" in err


def test_the_run_log_keeps_every_command_and_its_stderr(tmp_path):
    import stat
    import sys
    from ansible_collections.blackduck.hub.plugins.module_utils import _command
    log = str(tmp_path / "logs" / "run.log")
    _command.set_log(log)
    try:
        script = "import sys; sys.stderr.write('line one\\nline two\\n'); sys.exit(3)"
        assert _command.run([sys.executable, "-c", script], stdin_data="SECRET SQL")[0] == 3
        out = tmp_path / "out"
        _command.stream_to_file([sys.executable, "-c", "print('PAY' + 'LOAD')"], str(out))
        _command.stream_from_file([sys.executable, "-c", "import sys; sys.stdin.read(); sys.stderr.write('w\\n')"],
                                  str(out))
    finally:
        _command.set_log(None)
    text = open(log).read()
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600 and stat.S_IMODE(os.stat(os.path.dirname(log)).st_mode) == 0o700
    lines = text.splitlines()
    assert "  exit 3  " in lines[0] and lines[1:3] == ["    line one", "    line two"]
    assert sum("  exit 0  " in ln for ln in lines) == 2 and "    w" in lines
    assert "SECRET" not in text and "PAYLOAD" not in text  # neither stdin nor the output
    _command.run([sys.executable, "-c", "pass"])  # no log set: nothing more written
    assert open(log).read() == text


def test_log_line_appends_to_a_0600_log_in_a_0700_folder(tmp_path):
    path = str(tmp_path / "logs" / "run.log")
    _command.log_line(path, "step 4 dump STARTED")
    _command.log_line(path, "step 4 dump DONE")
    with open(path) as f:
        lines = f.read().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == ["step 4 dump STARTED", "step 4 dump DONE"]
    assert all(line[:4].isdigit() and line[19] == "Z" for line in lines)  # a UTC time first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(tmp_path / "logs")).st_mode) == 0o700


def test_a_log_line_that_cannot_be_written_is_lost_never_the_task(tmp_path, monkeypatch):
    """The run's log on a file system that fills (the dump's, often): a command's line is lost, no error reaches the
    task, the module can warn (lost_lines), and the next line that can be written says how many were lost and why.
    log_line (the steps' lines, whose module says so itself) raises."""
    import errno
    path = str(tmp_path / "run.log")
    monkeypatch.setitem(_command._LOG, "path", path)
    monkeypatch.setitem(_command._LOG, "lost", None)
    real_open = _command.os.open
    full = {"now": True}

    def open_(p, *a):
        if full["now"] and p == path:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(p, *a)

    monkeypatch.setattr(_command.os, "open", open_)
    _command.log_command(["pg_dump", "bds_hub"], 1, "could not write", 0.5)
    _command.log_command(["pg_dump", "bdio"], 1, "", 0.1)
    assert _command.lost_lines() == "2 line(s) of the run's log %s could not be written: No space left on device" % path
    with pytest.raises(OSError):
        _command.log_line(path, "step 4 dump FAILED")
    full["now"] = False
    _command.log_command(["psql"], 0, "", 0.1)
    with open(path) as f:
        lines = f.read().splitlines()
    assert len(lines) == 2 and lines[0].endswith("(2 line(s) of this log could not be written: No space left on device)")
    assert lines[1].endswith("exit 0  0.1s  psql") and _command.lost_lines() is None


def test_within_tells_an_error_of_a_folder_from_others(tmp_path):
    import errno
    folder = str(tmp_path / "dump")
    assert _command.within(OSError(errno.ENOSPC, "full", folder + "/manifest.json.tmp"), folder)
    assert _command.within(OSError(errno.EACCES, "denied", "/elsewhere", None, folder + "/x"), folder)  # a rename into it
    assert not _command.within(OSError(errno.ENOENT, "missing", "/usr/bin/docker"), folder)
    assert not _command.within(OSError(errno.ENOENT, "missing", folder + "-other/x"), folder)  # a sibling's name
    assert not _command.within(OSError("no path"), folder)


def test_a_cut_stderr_tail_starts_at_a_whole_line():
    """The tail of a long stderr is cut at a byte offset: its first, partial line goes, so that a literal cut in two
    (ORD 'md5...', the word PASSWORD cut off) is not handed on."""
    import tempfile
    line = "LINE 1: ALTER ROLE r PASSWORD 'md5abcdef' VALID UNTIL 'infinity';\n"
    with tempfile.TemporaryFile() as f:
        f.write((("x" * 100 + "\n") * 100 + line + "pg_restore: error: the end\n").encode())
        limit = len(line) - line.index("ORD") + len("pg_restore: error: the end\n")
        tail = _command._stderr_tail(f, limit)
        assert tail == "pg_restore: error: the end\n"
        assert _command._stderr_tail(f, 10 ** 6).endswith("PASSWORD '(hidden)' VALID UNTIL '(hidden)';\npg_restore: error: the end\n")


def test_write_atomic_whole_with_its_mode_and_nothing_left_by_a_failure(tmp_path):
    path = str(tmp_path / "state.json")
    _command.write_json_atomic(path, {"b": 1, "a": [2]})
    assert open(path).read() == '{\n  "a": [\n    2\n  ],\n  "b": 1\n}' and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    _command.write_atomic(path, b"two", 0o640, durable=False, unique=True)
    assert open(path, "rb").read() == b"two" and stat.S_IMODE(os.stat(path).st_mode) == 0o640
    os.mkdir(str(tmp_path / "a-folder"))
    for unique in (False, True):  # a rename over a folder fails: the temporary file goes with the failure
        with pytest.raises(OSError):
            _command.write_atomic(str(tmp_path / "a-folder"), b"x", unique=unique)
    assert sorted(os.listdir(str(tmp_path))) == ["a-folder", "state.json"]


def test_hide_log_secrets_hides_what_a_container_may_print_of_its_settings():
    """A failed step keeps the last lines of each unwell container's log (state file, reports, the step's message):
    what an entrypoint prints of its settings is hidden, the words around it kept."""
    hide = _command.hide_log_secrets
    assert hide("+ export HUB_PROXY_PASSWORD=pr0xy$ecret") == "+ export HUB_PROXY_PASSWORD=(not shown)"
    assert hide("POSTGRES_PASSWORD='a b c' started") == "POSTGRES_PASSWORD=(not shown) started"
    assert hide('hub.token: "abc def" next') == "hub.token: (not shown) next"
    assert hide("url=jdbc:postgresql://db:5432/bds_hub?user=blackduck&password=s3cr3t&ssl=true") == (
        "url=jdbc:postgresql://db:5432/bds_hub?user=blackduck&password=(not shown)&ssl=true")
    assert hide("proxy http://hubuser:pr0xy@proxy.local:3128 refused") == "proxy http://hubuser:(not shown)@proxy.local:3128 refused"
    assert hide("STATEMENT:  ALTER ROLE blackduck_user WITH PASSWORD 'md5f00d';") == (
        "STATEMENT:  ALTER ROLE blackduck_user WITH PASSWORD '(hidden)';")
    kept = 'FATAL:  password authentication failed for user "blackduck_user"\nlistening on 0.0.0.0:8443'
    assert hide(kept) == kept  # no value: nothing hidden
    assert hide("secret:\nnext line") == "secret:\nnext line"  # nothing after it on its line: the next line kept
    once = hide("HUB_POSTGRES_ADMIN_PASSWORD_FILE=/run/secrets/admin and SECRET=x")
    assert once == "HUB_POSTGRES_ADMIN_PASSWORD_FILE=(not shown) and SECRET=(not shown)" and hide(once) == once
