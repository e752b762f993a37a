# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command lines from declared option formats, and processes whose output is streamed, never held.

Private to the collection. Two pieces:

* ``ArgFormat`` / ``build_argv``: each option of a tool is declared once with a format (a flag, an option with a
  value, a repeated option); argv is assembled from the declarations, never by joining strings.
* ``stream_to_file`` / ``stream_from_file`` / ``stream_between``: run an argv with its stdout written to a file (or
  a file fed to its stdin, or another argv's stdout fed to it) in fixed-size chunks, computing sha256 and byte counts
  on the way, so memory stays bounded whatever the size. Disk-full is reported with how much was written, and the partial file is removed.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import errno
import hashlib
import json
import os
import re
import stat
import subprocess
import tempfile
import threading
import time

CHUNK = 1024 * 1024


class CommandError(Exception):
    """A command failed; ``message`` says what to do, ``stderr`` holds its last words."""

    def __init__(self, message, rc=None, stderr=""):
        super(CommandError, self).__init__(message)
        self.message = message
        self.rc = rc
        self.stderr = stderr


class DiskFullError(CommandError):
    def __init__(self, path, written, what="file"):
        free = _free_bytes(os.path.dirname(path) or ".")
        super(DiskFullError, self).__init__(
            "the filesystem holding %s is full: %s written before it filled (%s still free there). Free space "
            "or choose another dump directory; the partial %s was removed." % (path, human(written), human(free), what))
        self.path = path
        self.written = written


def human(n):
    n = float(n or 0)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return "%.1f PiB" % n  # pragma: no cover


def _free_bytes(path):
    try:
        st = os.statvfs(path)
        return st.f_bavail * st.f_frsize
    except OSError:
        return 0


# --------------------------------------------------------------------------------------------- the run's log

_LOG = {"path": None, "lock": threading.Lock()}


def set_log(path):
    """Keep a log of every command this module runs (argv, exit code, time, everything it wrote on stderr) in path,
    appended, mode 0600 - so a failure can be diagnosed after the fact. Neither stdin (SQL, roles' password hashes)
    nor stdout (the dump) is logged; no secret is ever on argv (passwords go through a passfile)."""
    _LOG["path"] = path
    if path:
        directory = os.path.dirname(path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, 0o700)


def read_json_of_format(path, fmt, not_it):
    """A JSON file the collection wrote (its "format" says which), or None when there is no such file.
    Raises ValueError(not_it % path) when the file is another kind of JSON, and says which file is not JSON at all."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as exc:
            raise ValueError("%s is not valid JSON (%s): it was cut short or changed by hand" % (path, exc))
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise ValueError(not_it % path)
    return data


def options_of(kind, params):
    """A module's options, as the namedtuple kind that holds them for module_utils (_dump.DumpOptions,
    _restore.RestoreOptions): each field from the option of the same name."""
    return kind(**dict((name, params[name]) for name in kind._fields))


STAMP = "%Y-%m-%dT%H:%M:%SZ"  # how the collection writes a time: UTC, to the second


def utc_stamp(seconds=None):
    """A time (now, or seconds since the epoch) as the state file, the manifest, the logs and the locks write it."""
    return time.strftime(STAMP, time.gmtime(seconds))


def epoch(stamp):
    """Seconds since the epoch of a time written so (utc_stamp's, or the Kubernetes API's: the same format); None for
    anything else (missing, malformed)."""
    try:
        return calendar.timegm(time.strptime(stamp, STAMP))
    except (TypeError, ValueError):
        return None


def _append(path, text, strict=False):
    """Append text to a log, made 0600 when missing; one writer at a time (the module's threads). strict: a line that
    cannot be written raises (the caller says so). Else it is lost, never the task (the log's file system full, as
    when the dump fills the disk it shares with the log): the task's own result says what happened, the next line
    that can be written says how many were lost and why, and lost_lines() tells the module, to warn."""
    with _LOG["lock"]:
        lost = _LOG.get("lost")
        if lost:
            text = "%s  (%d line(s) of this log could not be written: %s)\n%s" % (utc_stamp(), lost[0], lost[1], text)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as f:
                f.write(text)
            _LOG["lost"] = None
        except (IOError, OSError) as exc:
            if strict:
                raise
            _LOG["lost"] = ((lost[0] if lost else 0) + 1, exc.strerror or str(exc))


def lost_lines():
    """A warning when lines of this module's log (set_log) could not be written since the last one that could; None."""
    lost = _LOG.get("lost")
    if lost and _LOG["path"]:
        return "%d line(s) of the run's log %s could not be written: %s" % (lost[0], _LOG["path"], lost[1])
    return None


def warn_lost_log_lines(module):
    """The module's warning of lost_lines(), if any (before it exits, however it ends)."""
    lost = lost_lines()
    if lost:
        module.warn(lost)


def log_line(path, text):
    """Append a line to a run's log (made 0600, its folder 0700, when missing); raises when it cannot."""
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    _append(path, "%s  %s\n" % (utc_stamp(), text), strict=True)


_PASSWORD_LITERAL = re.compile(r"(\bPASSWORD\s+E?)'(?:[^'\n]|'')*(?:'|$)", re.I | re.M)
# a line that quotes a statement: psql's LINE n: (cut around the error, after "..."), the server log's STATEMENT:,
# pg_restore's Command was:, the error's "at or near" token
_QUOTED_STATEMENT = re.compile(r"^(.*?(?:\bLINE \d+:|\bSTATEMENT:|\bCommand was:|\bat or near\b).*)$", re.M)
_ANY_LITERAL = re.compile(r"(E?)'(?:[^'\n]|'')*(?:'|$)")


def hide_passwords(text):
    """The text with every PASSWORD '...' literal (a role's password or its hash, as psql quotes the statement it
    failed on: LINE 1: ALTER ROLE ... PASSWORD 'md5...') shown as PASSWORD '(hidden)', also where the line is cut -
    and, as a line that quotes a statement may be cut before the word PASSWORD (psql: LINE 1: ...WORD 'md5...'), every
    literal of such a line shown as '(hidden)'."""
    text = _PASSWORD_LITERAL.sub(r"\1'(hidden)'", text or "")
    return _QUOTED_STATEMENT.sub(lambda m: _ANY_LITERAL.sub(r"\1'(hidden)'", m.group(1)), text)


# What the container tools quote of a file's values in their errors (the files hold passwords):
# - kubectl apply: "error when applying patch:\n<patch>\nto:\n<object>\nfor:", "creating patch with:\noriginal:...
#   modified:... current:...\nfor:", "retrieving original configuration from:\n...\nfor:", "serializing current
#   configuration from:\n...\nfor:" (the object's data, its last-applied configuration); the API server's
#   Invalid value: "..." (or a Go value);
# - docker compose (compose-go): an env file's unterminated quoted value "... (to the end of the line) and
#   Invalid template: "...", a Compose file's invalid interpolation format for <key>: "..." (older) or ...another $.\n
#   <value> (newer);
# - docker (an env file): no variable name on line '...', variable '...' contains whitespaces, invalid utf8 bytes at
#   line n: [...].
# Each keeps the tool's words around the value; a text hidden once is left as it is (hide_values twice: a role's
# message, then failure_reason).
_SHOWN = r"(?!\(not shown)"
_STRING = r'"(?:[^"\\\n]|\\.)*"?'
_TOOL_VALUES = [
    (re.compile(r"(applying patch|creating patch with|retrieving original configuration from|serializing current "
                r"configuration from):?\n.*?\n(for:)", re.S), r"\1 (not shown: it holds the object's data) \2"),
    (re.compile(r"(Invalid value: )" + _SHOWN + "(?:" + _STRING + r"|[^\n]*?(?=: |$))", re.M), r"\1(not shown)"),
    (re.compile(r"(unterminated quoted value )" + _SHOWN + ".*$", re.M), r"\1(not shown: it may be a password)"),
    (re.compile(r"(Invalid template: |invalid interpolation format for [^\n]*?: )" + _STRING),
     r"\1(not shown: it may be a password)"),
    (re.compile(r"(You may need to escape any \$ with another \$\.)\n.*$", re.M), r"\1 (the value not shown)"),
    (re.compile(r"(on line )'.*$", re.M), r"\1(not shown: it may be a password)"),
    (re.compile(r"(variable )'.*?'( contains whitespaces)"), r"\1(not shown: it may be a password)\2"),
    (re.compile(r"(invalid utf8 bytes at line \d+: )" + _SHOWN + ".*$", re.M), r"\1(not shown: it may be a password)"),
    (re.compile(r"(unexpected character )" + _SHOWN + _STRING + r"( in variable name)(?: near " + _STRING + ")?"),
     r"\1(not shown)\2 (the rest of the file not shown: it may hold passwords)"),
    # Compose interpolates env files too: a value's $ followed by letters reads as a variable, which it names
    (re.compile(r'(The \\?")(?!\(not shown)[^"\\\n]*(\\?" variable is not set)'), r"\1(not shown: it may be part of a value)\2"),
]


# A NAME=value (or name: value) whose name says it is a secret, as a container's log may print it - an entrypoint
# under set -x, a settings dump, a JDBC URL's password=... or a proxy URL's user:password@ - for the log tails a
# failed step keeps (state file, reports, the run's log, the step's message).
_SECRET_ASSIGNMENT = re.compile(r"(\b[\w.-]*(?:password|passwd|pwd|secret|token|credential)[\w.-]*[ \t]*[=:][ \t]*)"
                                r"(?!\(not shown)(\"[^\"\n]*\"?|'[^'\n]*'?|[^\s&;,\"']+)", re.I)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?!\(not shown)[^@\s/]+(@)", re.I)


def hide_log_secrets(text):
    """A container's log lines with what may be a secret in them hidden: hide_values (the tools' quotes, PASSWORD
    '...' literals), each NAME=value or name: value whose name says password, secret, token or credential, and the
    password of a URL's user:password@."""
    text = _SECRET_ASSIGNMENT.sub(r"\1(not shown)", hide_values(text))
    return _URL_CREDENTIALS.sub(r"\1(not shown)\2", text)


def hide_values(text):
    """A container tool's error (kubectl, docker compose, docker) with what it quotes of a file's values hidden, and
    every PASSWORD '...' literal (hide_passwords): for a message that shows what a no_log command said."""
    text = hide_passwords(text)
    for pattern, replacement in _TOOL_VALUES:
        text = pattern.sub(replacement, text)
    return text


def _said(data):
    """A tool's stderr as text, its password literals hidden: every stderr this module hands on (to a caller, a
    message, the run's log) is read through here, so none of them can quote a password."""
    return hide_passwords(data.decode("utf-8", "replace"))


def log_command(argv, rc, stderr, seconds):
    path = _LOG["path"]
    if not path:
        return
    said = "".join("    " + line + "\n" for line in (stderr or "").splitlines())
    _append(path, "%s  exit %s  %.1fs  %s\n%s" % (utc_stamp(), rc, seconds, " ".join(argv), said))


SIGNALS = {9: "SIGKILL", 15: "SIGTERM", 2: "SIGINT", 1: "SIGHUP", 6: "SIGABRT"}


def why(rc, stderr):
    """What a failed tool said (its last words), or, when it said nothing, what its exit code tells."""
    said = (stderr or "").strip()[-2000:]
    if said:
        return said
    sig = rc - 128 if rc > 128 else (-rc if rc < 0 else None)
    if sig in SIGNALS:
        return ("it was killed (%s) without a word: was its container or pod stopped or removed while it ran (docker "
                "rm, a redeploy, kubectl delete), or did the out-of-memory killer end it (dmesg)?" % SIGNALS[sig])
    if rc in (126, 127):
        return "the tool could not be run (exit %d: not found or not executable where it was started)" % rc
    return "it ended with exit code %d and said nothing" % rc


# --------------------------------------------------------------------------------------------- argv formats

class ArgFormat:
    """How one option becomes argv items: ``flag`` (present when true), ``opt`` (``--x value``), ``eq``
    (``--x=value``), ``repeat`` (``--x v`` per item of a list), ``fixed`` (given items when true)."""

    def __init__(self, kind, name=None, items=None):
        if kind not in ("flag", "opt", "eq", "repeat", "fixed"):
            raise ValueError("unknown ArgFormat kind %r" % kind)
        self.kind, self.name, self.items = kind, name, list(items or [])

    def render(self, value):
        if value is None or value is False:
            return []
        if self.kind == "flag":
            return [self.name]
        if self.kind == "fixed":
            return list(self.items)
        if self.kind == "opt":
            return [self.name, str(value)]
        if self.kind == "eq":
            return ["%s=%s" % (self.name, value)]
        out = []
        for v in value:
            out += [self.name, str(v)]
        return out


def build_argv(head, formats, values, order=None):
    """``head`` + each declared option present in ``values``, in declaration order (or ``order``)."""
    argv = list(head)
    for key in order or formats:
        if key in values:
            argv += formats[key].render(values[key])
    return argv


# ------------------------------------------------------------------------------------------------ processes

def run(argv, env=None, stdin_data=None, timeout=None):
    """Run argv; return (rc, stdout, stderr) as text. For small outputs only (queries, versions)."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(stdin_data.encode("utf-8") if stdin_data is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        log_command(argv, "timeout", "", time.monotonic() - started)
        raise CommandError("timed out after %ss: %s" % (timeout, argv[0]))
    err = _said(err)
    log_command(argv, proc.returncode, err, time.monotonic() - started)
    return proc.returncode, out.decode("utf-8", "replace"), err


class _Progress:
    """Calls ``callback(bytes_so_far, rate_bytes_per_s)`` at most every ``every`` seconds."""

    def __init__(self, callback, every):
        self.callback, self.every = callback, every
        self.start = self.last = time.monotonic()

    def tick(self, done, final=False):
        now = time.monotonic()
        if self.callback and (final or now - self.last >= self.every):
            self.last = now
            self.callback(done, done / max(now - self.start, 1e-6))


def _stderr_tail(f, limit=8192):
    """The last ``limit`` bytes of a tool's stderr, from the first whole line on when it was cut (a literal cut in
    two would no longer say it is a password)."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - limit))
    data = f.read()
    if size > limit:
        data = data.partition(b"\n")[2]
    return _said(data)


def stream_to_file(argv, path, env=None, progress=None, progress_every=10.0, mode=0o600):
    """Run argv and write its stdout to ``path`` (created with ``mode``) chunk by chunk.

    Returns dict(bytes=..., sha256=..., seconds=..., stderr=...). On failure the partial file is removed and
    CommandError (or DiskFullError) is raised.
    """
    digest = hashlib.sha256()
    written = 0
    started = time.monotonic()
    tick = _Progress(progress, progress_every)
    with tempfile.TemporaryFile() as errf:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf, env=env)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = proc.stdout.read(CHUNK)
                    if not chunk:
                        break
                    try:
                        out.write(chunk)
                    except (IOError, OSError) as exc:
                        if exc.errno == errno.ENOSPC:
                            raise DiskFullError(path, written)
                        raise
                    digest.update(chunk)
                    written += len(chunk)
                    tick.tick(written)
                try:
                    out.flush()
                    os.fsync(out.fileno())
                except (IOError, OSError) as exc:
                    if exc.errno == errno.ENOSPC:
                        raise DiskFullError(path, written)
                    raise
            rc = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            unlink_quietly(path)
            raise
        finally:
            proc.stdout.close()
            errf.seek(0)
            log_command(argv, proc.returncode, _said(errf.read()), time.monotonic() - started)
        stderr = _stderr_tail(errf)
    if rc != 0:
        unlink_quietly(path)
        raise CommandError("%s failed (exit %d): %s" % (os.path.basename(argv_tool(argv)), rc, why(rc, stderr)),
                           rc=rc, stderr=stderr)
    tick.tick(written, final=True)
    return {"bytes": written, "sha256": digest.hexdigest(), "seconds": round(time.monotonic() - started, 3),
            "stderr": stderr}


def stream_from_file(argv, path, env=None, progress=None, progress_every=10.0):
    """Run argv with ``path`` fed to its stdin chunk by chunk; return dict(rc, stdout, stderr, bytes, seconds).

    The caller judges rc and stderr (pg_restore reports ignorable errors with a non-zero code).
    """
    started = time.monotonic()
    sent = 0
    tick = _Progress(progress, progress_every)
    with tempfile.TemporaryFile() as outf, tempfile.TemporaryFile() as errf:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=outf, stderr=errf, env=env)
        broken = False
        try:
            with open(path, "rb") as src:
                while True:
                    chunk = src.read(CHUNK)
                    if not chunk:
                        break
                    try:
                        proc.stdin.write(chunk)
                    except (IOError, OSError) as exc:
                        if exc.errno == errno.EPIPE:
                            broken = True  # the tool stopped reading: its exit code and stderr say why
                            break
                        raise
                    sent += len(chunk)
                    tick.tick(sent)
            try:
                proc.stdin.close()
            except (IOError, OSError):
                broken = True
            rc = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        outf.seek(0)
        stdout = outf.read(1024 * 1024).decode("utf-8", "replace")
        errf.seek(0)
        stderr = _said(errf.read())
        log_command(argv, rc, stderr, time.monotonic() - started)
    tick.tick(sent, final=True)
    return {"rc": rc, "stdout": stdout, "stderr": stderr, "bytes": sent, "broken_pipe": broken,
            "seconds": round(time.monotonic() - started, 3)}


def _pipe_mover(reader, writer):
    """One step of moving a pipe's bytes into another: a function that moves up to CHUNK bytes and returns how many
    (0 at the end). With os.splice (Linux, Python 3.10+) the kernel moves them from pipe to pipe, never copied through
    this process; else they are read and written in CHUNK pieces."""
    if hasattr(os, "splice"):
        src_fd, dst_fd = reader.fileno(), writer.fileno()
        return lambda: os.splice(src_fd, dst_fd, CHUNK)

    def copy():
        chunk = reader.read(CHUNK)
        if chunk:
            writer.write(chunk)
        return len(chunk)
    return copy


def stream_between(src_argv, dst_argv, src_env=None, dst_env=None, progress=None, progress_every=10.0):
    """Run src_argv with its stdout fed to dst_argv's stdin chunk by chunk (bounded memory, no file between them);
    return dict(rc, stderr: dst_argv's, src_rc, src_stderr, bytes, seconds, broken_pipe). A writer that fails ends
    the reader's input early (its failure explains the reader's); a reader that stops first (broken_pipe) has the
    writer killed, whose exit code then says nothing. The caller judges them in that light."""
    started = time.monotonic()
    sent = 0
    broken = False
    tick = _Progress(progress, progress_every)
    with tempfile.TemporaryFile() as src_err, tempfile.TemporaryFile() as outf, tempfile.TemporaryFile() as errf:
        src = subprocess.Popen(src_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=src_err, env=src_env)
        try:
            dst = subprocess.Popen(dst_argv, stdin=subprocess.PIPE, stdout=outf, stderr=errf, env=dst_env)
        except BaseException:
            src.kill()
            src.wait()
            src.stdout.close()
            raise
        try:
            move = _pipe_mover(src.stdout, dst.stdin)
            while True:
                try:
                    n = move()
                except (IOError, OSError) as exc:
                    if exc.errno == errno.EPIPE:  # the reader stopped: its exit code and stderr say why
                        broken = True
                        src.kill()
                        break
                    raise
                if not n:
                    break
                sent += n
                tick.tick(sent)
            try:
                dst.stdin.close()
            except (IOError, OSError):
                pass
            src_rc, rc = src.wait(), dst.wait()
        except BaseException:
            for proc in (src, dst):
                proc.kill()
                proc.wait()
            raise
        finally:
            src.stdout.close()
        stderr, src_stderr = [_stderr_tail(f, 1024 * 1024) for f in (errf, src_err)]
        log_command(src_argv, src_rc, src_stderr, time.monotonic() - started)
        log_command(dst_argv, rc, stderr, time.monotonic() - started)
    tick.tick(sent, final=True)
    return {"rc": rc, "stderr": stderr, "src_rc": src_rc, "src_stderr": src_stderr, "bytes": sent,
            "broken_pipe": broken, "seconds": round(time.monotonic() - started, 3)}


def sha256_file(path, chunk=CHUNK):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


def same_file(path, data, mode):
    """Whether path holds data (bytes) already, with mode: a file that need not be written again."""
    try:
        with open(path, "rb") as f:
            return f.read() == data and stat.S_IMODE(os.fstat(f.fileno()).st_mode) == mode
    except FileNotFoundError:
        return False


def write_atomic(path, data, mode=0o600, durable=True, unique=False):
    """Write data (bytes) to path with mode, through a temporary file beside it and a rename: readers see the old or
    the new file, never half of one. The temporary file is path.tmp, for a file only one writer writes at a time (the
    hub's lock); unique=True gives it a name of its own, for a file that two runs may write at once. durable=True
    also fsyncs before the rename (for files that mean "complete"). A failed write removes its temporary file."""
    if unique:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".%s." % os.path.basename(path))
    else:
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        unlink_quietly(tmp)
        raise
    return path


def write_json_atomic(path, data, durable=True):
    """Write data as JSON to path, mode 0600, whole or not at all (write_atomic)."""
    return write_atomic(path, json.dumps(data, indent=2, sort_keys=True).encode("utf-8"), 0o600, durable)


def argv_tool(argv):
    """The client tool an argv runs, past any docker/kubectl exec prefix (for messages)."""
    for item in argv:
        base = os.path.basename(item)
        if base.startswith("pg_") or base in ("psql",):
            return base
    return argv[0]


def within(exc, folder):
    """Whether an OSError is about a path inside folder (its filename, or its second one, a rename's target)."""
    top = os.path.join(os.path.abspath(folder), "")
    return any(name and os.path.abspath(str(name)).startswith(top)
               for name in (getattr(exc, "filename", None), getattr(exc, "filename2", None)))


def unlink_quietly(path):
    """Remove a file if it is there (whatever stops it: the caller has nothing better to do about it)."""
    try:
        os.unlink(path)
    except OSError:
        pass
