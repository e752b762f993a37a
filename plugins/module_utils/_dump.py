# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dump every Hub database and the globals from a target into a dump directory, streamed and checksummed.

Layout of a dump directory (0700; every file 0600):
  globals.sql            pg_dumpall --globals-only (roles, their attributes and memberships)
  <database>.dump        pg_dump custom format, one per database
  manifest.json          written last, atomically: its presence means the dump is complete
  progress.json          bytes so far and rate while a dump runs (for a role to show)
Files are written as ``<name>.partial`` and renamed when complete; a directory with partial files and no
manifest is what an interrupted run left, and is replaced.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import time
import uuid
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory
from ansible_collections.blackduck.hub.plugins.module_utils import _manifest as manifest
from ansible_collections.blackduck.hub.plugins.module_utils._command import (
    ArgFormat, CommandError, DiskFullError, argv_tool, build_argv, human, run, sha256_file, stream_from_file, stream_to_file, utc_stamp, why)
from ansible_collections.blackduck.hub.plugins.module_utils._progress import Progress
from ansible_collections.blackduck.hub.plugins.module_utils._target import (
    APPLICATION_NAME, TargetError, stopped_because, tool_version, tools_folder)

DEFAULT_DATABASES = ["bds_hub", "bds_hub_report", "bdio"]
GLOBALS_FILE = "globals.sql"
PROGRESS_FILE = "progress.json"

PG_DUMP_FORMATS = {
    "format": ArgFormat("opt", "--format"),
    "jobs": ArgFormat("opt", "--jobs"),
    "file": ArgFormat("opt", "--file"),
    "compress": ArgFormat("opt", "--compress"),
    "dbname": ArgFormat("eq", "--dbname"),
}


# How a dump is made: db_dump's options of the same names (the manifest records them).
DumpOptions = namedtuple("DumpOptions", ["format", "compression", "compression_level", "jobs", "checksums", "globals",
                                         "no_role_passwords", "progress_interval"],
                         defaults=["custom", "none", None, 2, "full", True, False, 10])


class DumpError(Exception):
    pass


class StoppedError(DumpError):
    """A dump that failed because its database's container or pod went away while it ran (stopped_under)."""
    gone_asked = True


def dump_file(database, fmt="custom"):
    return "%s.%s" % (database, "dir" if fmt == "directory" else "dump")


def compress_arg(compression, level, tool_major):
    """pg_dump's --compress value: a level (all versions), or method[:level] (pg_dump 16+ for lz4/zstd)."""
    if compression == "none":
        return "0"
    if compression == "gzip":
        return str(level if level is not None else 6)
    if tool_major is not None and tool_major < 16:
        raise DumpError("compression %s needs pg_dump 16 or later; the dump tool here is %s. Use none or gzip, or a "
                        "newer client." % (compression, tool_major))
    return "%s:%d" % (compression, level) if level is not None else compression


def pg_dump_argv_tail(database, compress, fmt="custom", jobs=None, path=None):
    values = {"format": fmt, "compress": compress, "dbname": database}
    if fmt == "directory":
        values.update(jobs=jobs, file=path)
    return build_argv([], PG_DUMP_FORMATS, values)


def directory_files(path):
    """{relative name: {bytes, sha256}} of every file in a directory-format dump."""
    files = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        os.chmod(full, 0o600)
        files[name] = {"bytes": os.path.getsize(full), "sha256": sha256_file(full)}
    os.chmod(path, 0o700)
    return files


def dump_directory(target, dump_dir, name, jobs, compress, progress):
    """pg_dump --format directory --jobs N where the tools see dump_dir (the managed host's own tools over TCP, or
    the container's through connection.dump_mount): the tool writes the files itself, no byte through a pipe; then
    pg_restore --list reads them back there. The files end up this module's user's, 0600 in a 0700 folder."""
    path = os.path.join(dump_dir, dump_file(name, "directory"))
    partial = path + ".partial"
    if os.path.isdir(partial):
        shutil.rmtree(partial)
    started = time.monotonic()
    try:
        with tools_folder(target, dump_dir, partial, write=True) as seen:
            rc, dummy, err = run(target.tool_argv("pg_dump", pg_dump_argv_tail(name, compress, "directory", jobs, seen)),
                                 env=target.env)
            if rc != 0 and "No space left on device" in err:  # written by pg_dump itself: the same words as a stream's
                raise DiskFullError(partial, sum(os.path.getsize(os.path.join(d, f))
                                                 for d, dummy, fs in os.walk(partial) for f in fs), "folder")
            if rc != 0:
                raise stopped_under(target, "pg_dump", name, "exit %d: %s" % (rc, why(rc, err)), DumpError(
                    "pg_dump of %s failed (exit %d): %s" % (name, rc, why(rc, err))))
            progress.phase(name, "reading %s back with pg_restore --list" % dump_file(name, "directory"))
            toc_entries = restore_list(target, seen, folder=True, shown=dump_file(name, "directory"))
    except Exception:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.rename(partial, path)
    files = directory_files(path)
    total = sum(f["bytes"] for f in files.values())
    progress.update(dump_file(name, "directory"), total, 0)
    digest = hashlib.sha256("".join("%s %s\n" % (n, f["sha256"]) for n, f in sorted(files.items())).encode()).hexdigest()
    return {"bytes": total, "sha256": digest, "files": files, "seconds": round(time.monotonic() - started, 3),
            "toc_entries": toc_entries}


def tool_major(version_text):
    """11 from 'pg_dump (PostgreSQL) 11.13', 9.4 -> 9."""
    if not version_text:
        return None
    for word in version_text.split():
        if word[:1].isdigit():
            return int(word.split(".")[0])
    return None


def source_facts(target, server, no_role_passwords):
    """What a manifest records of its source, a dump's or a stream's (_stream.py): where and which server it is,
    its roles (each password as a digest of its stored hash, unless they are not read) and its superusers."""
    return {"source": dict(target.identity(), server_version=server["version"], server_version_num=server["num"],
                           server_major=server["major"]),
            "roles": inventory.roles(target) if no_role_passwords else inventory.roles_with_passwords(target),
            "superusers": inventory.superusers(target)}


def database_facts(db):
    """What a manifest records of one database as the source has it (inventory.databases' entry)."""
    return dict((k, db[k]) for k in ("owner", "encoding", "collate", "ctype", "size_bytes"))


def fingerprint(server, dbs, names):
    """What must be the same for an existing dump to count as a dump of this source."""
    return {"server_version": server["version"],
            "databases": {n: dbs[n]["size_bytes"] for n in names}}


def same_source(old, new, tolerance=0.02):
    if old.get("server_version") != new.get("server_version"):
        return False
    if set(old.get("databases", {})) != set(new.get("databases", {})):
        return False
    for name, size in new["databases"].items():
        before = old["databases"][name]
        if abs(size - before) > max(tolerance * before, 1024 * 1024):
            return False
    return True


def complete_dump_to_keep(dump_dir, existing, names, fp, force):
    """Whether dump_dir's complete dump (its manifest: existing) is this source's, to keep as it is (a rerun
    resumes after it). False when there is none, or with force. A complete dump that is not this one is never
    replaced without force: DumpError says why (its files changed, or another source or other data)."""
    if not existing or force:
        return False
    if manifest.streamed(existing):
        raise DumpError("%s holds the record of a stream into the new server (db_restore with source; dump %s, begun "
                        "%s), not a dump. It is kept: use another dump_dir, or force=true to replace it with a dump "
                        "(with the upgrade role: keep hub_transfer: stream, which began it, or go back with "
                        "blackduck.hub.rollback_hub, which sets it aside)." % (dump_dir, existing["dump_id"], existing["created"]))
    problems = manifest.verify_files(dump_dir, existing)
    if problems:
        raise DumpError("%s holds a complete dump whose files no longer match its manifest: %s. It is kept as it is; "
                        "use another dump_dir, or force=true to replace it." % (dump_dir, "; ".join(problems)))
    if sorted(existing.get("databases", {})) != sorted(names) or not same_source(existing["fingerprint"], fp):
        raise DumpError("%s already holds a complete dump of another source or of different data (dump %s of %s, "
                        "taken %s). It is never overwritten: use another dump_dir, or force=true to replace it."
                        % (dump_dir, existing["dump_id"], existing["source"].get("where"), existing["created"]))
    return True


def prepare_dir(dump_dir):
    if not os.path.isdir(dump_dir):
        os.makedirs(dump_dir, 0o700)
    os.chmod(dump_dir, 0o700)


def partial_leftovers(dump_dir):
    if not os.path.isdir(dump_dir):
        return []
    return sorted(f for f in os.listdir(dump_dir) if f.endswith(".partial") or f == PROGRESS_FILE
                  or f == manifest.MANIFEST + ".tmp")


def remove_partial(dump_dir, names):
    """Remove what an interrupted run left: partial files, and complete-looking files of a dump without manifest."""
    removed = []
    for f in sorted(set(partial_leftovers(dump_dir)) | set(n for n in names if os.path.exists(os.path.join(dump_dir, n)))):
        path = os.path.join(dump_dir, f)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
        removed.append(f)
    return removed


def stopped_under(target, tool, name, detail, otherwise):
    """The error to raise for a tool that failed: a StoppedError when its database's container or pod went away while
    it ran (the tool's own words, often none, matter less than what happened under it); else otherwise, as it is,
    marked as asked (gone_asked: run_dump does not ask again, which waits up to 10 s each time)."""
    stopped = stopped_because(target, "%(tool)s of %(name)s stopped because %(gone)s while it ran (%(detail)s). Nothing "
                              "of it was kept; start the database again (a rerun's step 3 does) and run again.", detail,
                              StoppedError, tool=tool, name=name)
    if stopped:
        return stopped
    otherwise.gone_asked = True
    return otherwise


def dump_one(target, dump_dir, name, argv, progress, interval):
    path = os.path.join(dump_dir, name)
    partial = path + ".partial"
    try:
        res = stream_to_file(argv, partial, env=target.env, progress=lambda d, r: progress.update(name, d, r),
                             progress_every=interval)
    except CommandError as exc:
        raise stopped_under(target, argv_tool(argv), name, exc.message, exc)
    os.rename(partial, path)
    return res


def restore_list(target, path, folder=False, shown=None):
    """pg_restore --list of a dump: number of TOC entries. A file on the managed host is streamed to the tool next to
    the server; with folder, path is a directory-format dump as the tool sees it (it reads the folder itself)."""
    if folder:
        rc, out, err = run(target.tool_argv("pg_restore", ["--list", path], conn=False), env=target.env)
        res = {"rc": rc, "stdout": out, "stderr": err}
    else:
        argv = target.tool_argv("pg_restore", ["--list"], stdin=True, conn=False)
        res = stream_from_file(argv, path, env=target.env)
    if res["rc"] != 0:
        shown = shown or os.path.basename(path)
        said = why(res["rc"], res["stderr"])[-1000:]
        raise stopped_under(target, "pg_restore --list", shown, "exit %d: %s" % (res["rc"], said), DumpError(
            "pg_restore --list cannot read %s: %s. The dump is not usable; it was not kept." % (shown, said)))
    return sum(1 for line in res["stdout"].splitlines() if line and not line.startswith(";"))


def check_format(target, fmt, dump_dir):
    if fmt == "directory" and target.tools_see(dump_dir, dump_dir) is None:
        raise DumpError("the directory format needs connection.type tcp or connection.dump_mount: its files are "
                        "written by pg_dump itself, where it runs - on the managed host over TCP, or in the container "
                        "or pod into the dump folder mounted there. Mount dump_dir into the database container and set "
                        "connection.dump_mount to where, or use format custom.")


def dump_databases(target, dump_dir, names, options, result, force=False, allow_active_sessions=False,
                   check_mode=False, log=None):
    """db_dump's work, into its result (returned): the databases names of target dumped into dump_dir - unless it
    holds a complete dump of this source already (kept: a rerun resumes after it; another source's is refused
    without force), or in check mode (what would be dumped). What an interrupted run left is removed first, and the
    databases must be quiet. Raises DumpError (and the errors of the target, the tools and the file system)."""
    check_format(target, options.format, dump_dir)
    server = inventory.server_version(target)
    dbs = inventory.databases(target)
    missing = [d for d in names if d not in dbs]
    if missing:
        raise DumpError("database %s not found on %s (it has: %s). Check the databases option and that this is the "
                        "Hub's database server." % (", ".join(missing), target.describe(), ", ".join(sorted(dbs)) or "none"))
    existing = manifest.load(dump_dir)
    if complete_dump_to_keep(dump_dir, existing, names, fingerprint(server, dbs, names), force):
        result.update(summary(existing), manifest=manifest.manifest_path(dump_dir),
                      reason="a complete dump of this source is already in %s and its files match the manifest" % dump_dir)
        return result
    leftovers = partial_leftovers(dump_dir)
    if check_mode:
        result.update(changed=True, databases={n: {"size_bytes": dbs[n]["size_bytes"]} for n in names},
                      removed_partial=leftovers, msg="would dump %s (%s) from %s into %s" % (
                          ", ".join(names), human(sum(dbs[n]["size_bytes"] for n in names)), target.describe(), dump_dir))
        return result
    check_quiet(target, names, allow_active_sessions)
    old_files = ([manifest.MANIFEST, GLOBALS_FILE] + [dump_file(n) for n in names]
                 + [dump_file(n, "directory") for n in names])
    if existing and force:
        os.unlink(manifest.manifest_path(dump_dir))  # no manifest: the dump is incomplete until rewritten
    result["removed_partial"] = remove_partial(dump_dir, old_files) if os.path.isdir(dump_dir) else []
    data = run_dump(target, dump_dir, names, server, dbs, options, log)
    result.update(summary(data), changed=True, manifest=manifest.manifest_path(dump_dir))
    return result


def run_dump(target, dump_dir, names, server, dbs, options, log):
    """Make the dump of the databases names (dbs: inventory.databases of the server, server: its version) into
    dump_dir. Returns the manifest data."""
    started = time.time()
    versions = {t: tool_version(target, t) for t in ("pg_dump", "pg_dumpall", "pg_restore")}
    compress = compress_arg(options.compression, options.compression_level, tool_major(versions["pg_dump"]))
    prepare_dir(dump_dir)
    try:
        with Progress(os.path.join(dump_dir, PROGRESS_FILE), log, "dump",
                      expected_bytes=sum(dbs[n]["size_bytes"] for n in names) or None) as progress:
            return _dump_all(target, dump_dir, names, server, dbs, options, progress, started, versions, compress)
    except DiskFullError:
        raise
    except (CommandError, DumpError, TargetError) as exc:
        # anything else that failed under a database that went away (the rows' counting, a tool's helper command, the
        # roles read at the end) says so, as the tools themselves do: its own words are rarely about the cause. A
        # tool's failure was asked about where it ran (a StoppedError, or marked): not again.
        if getattr(exc, "gone_asked", False):
            raise
        raise stopped_under(target, "the dump", ", ".join(names), str(exc)[:500], exc)


def _dump_all(target, dump_dir, names, server, dbs, options, progress, started, versions, compress):
    fmt, interval, jobs = options.format, options.progress_interval, max(1, options.jobs)
    files = {}

    if options.globals:
        argv = target.tool_argv("pg_dumpall", ["--globals-only"])
        if options.no_role_passwords:
            argv.append("--no-role-passwords")
        res = dump_one(target, dump_dir, GLOBALS_FILE, argv, progress, interval)
        files[GLOBALS_FILE] = res

    def one(name):
        if fmt == "directory":
            res = dump_directory(target, dump_dir, name, jobs, compress, progress)
        else:
            argv = target.tool_argv("pg_dump", pg_dump_argv_tail(name, compress))
            res = dump_one(target, dump_dir, dump_file(name), argv, progress, interval)
            progress.phase(name, "reading %s back with pg_restore --list" % dump_file(name))
            res["toc_entries"] = restore_list(target, os.path.join(dump_dir, dump_file(name)))
        return res

    def counted(name):
        return inventory.database_inventory(target, name, checksums=options.checksums == "full",
                                            fixups=inventory.FIXUPS.get(name))

    results = {}
    # The row counts and checksums of every database are taken by one worker of their own while the dumps run (the
    # databases are quiet: check_quiet, so they count what the dump holds), off the dump's critical path. Custom
    # format: the databases are dumped jobs at a time; directory format: one at a time, each with jobs workers.
    with ThreadPoolExecutor(max_workers=1) as counting, \
            ThreadPoolExecutor(max_workers=1 if fmt == "directory" else (min(jobs, len(names)) or 1)) as pool:
        counts = dict((name, counting.submit(counted, name)) for name in names)
        dumps = [(name, pool.submit(one, name)) for name in names]
        try:
            for name, dumped in dumps:
                res = dumped.result()
                if not counts[name].done():
                    progress.phase(name, "counting the rows of %s and taking their checksums" % name)
                results[name] = (res, counts[name].result())
        except BaseException:
            for future in list(counts.values()) + [dumped for dummy, dumped in dumps]:
                future.cancel()  # a failure: what has not begun yet is not waited for
            raise

    data = {
        "dump_id": str(uuid.uuid4()),
        "created": utc_stamp(started),
        "completed": utc_stamp(),
        "seconds": round(time.time() - started, 3),
        "fingerprint": fingerprint(server, dbs, names),
        "tools": versions,
        "options": {"format": fmt, "compression": options.compression, "compress_arg": compress,
                    "jobs": jobs, "checksums": options.checksums},
        "databases": {},
    }
    data.update(source_facts(target, server, options.no_role_passwords))  # the roles' digests for db_verify
    if GLOBALS_FILE in files:
        g = files[GLOBALS_FILE]
        data["globals"] = {"file": GLOBALS_FILE, "bytes": g["bytes"], "sha256": g["sha256"], "seconds": g["seconds"]}
    for name in names:
        res, inv = results[name]
        entry = dict(database_facts(dbs[name]), file=dump_file(name, fmt), format=fmt, bytes=res["bytes"],
                     sha256=res["sha256"], seconds=res["seconds"], toc_entries=res["toc_entries"])
        if fmt == "directory":
            entry["files"] = res["files"]
        entry.update(inv)
        data["databases"][name] = entry
    manifest.write(dump_dir, data)
    return data


def summary(data):
    """The part of a manifest a task result shows."""
    dbs = {}
    for name, d in sorted(data.get("databases", {}).items()):
        dbs[name] = {"file": d["file"], "bytes": d["bytes"], "sha256": d["sha256"], "tables": len(d.get("tables", {})),
                     "rows": sum(t["rows"] for t in d.get("tables", {}).values()), "seconds": d.get("seconds")}
    out = {"dump_id": data["dump_id"], "databases": dbs, "source": data.get("source"), "tools": data.get("tools"),
           "total_bytes": sum(size for dummy, size, dummy in manifest.files_of(data)) + sum(  # and through a stream's pipe
               d["bytes"] for d in data.get("databases", {}).values() if d.get("format") == manifest.STREAM),
           "seconds": data.get("seconds")}
    if (data.get("globals") or {}).get("file"):  # a stream's roles went through a pipe: no file
        out["globals"] = {k: data["globals"][k] for k in ("file", "bytes", "sha256")}
    return out


def check_quiet(target, names, allow):
    sessions = inventory.active_sessions(target, names)
    if sessions and not allow:
        if all(s["application"] == APPLICATION_NAME for s in sessions):
            raise DumpError(inventory.another_run(sessions))
        who = ", ".join(sorted(set("%s@%s from %s (%s)" % (s["user"], s["database"], s["client"], s["application"] or "?")
                                   for s in sessions if s["application"] != APPLICATION_NAME)))
        raise DumpError("the databases still have client sessions: %s. Bring the Hub down (only the database in "
                        "migration mode may run) before dumping, or set allow_active_sessions." % who)
    return sessions
