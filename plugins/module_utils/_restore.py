# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a dump made by db_dump into a target: roles from the globals, databases as needed, each database
streamed into pg_restore next to the server, errors classified, the Hub's fixups applied, and a marker left in
each restored database (its comment) naming the dump, so a repeated restore is recognised.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible_collections.blackduck.hub.plugins.module_utils import _dump as dump
from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory
from ansible_collections.blackduck.hub.plugins.module_utils import _manifest as manifest
from ansible_collections.blackduck.hub.plugins.module_utils import _restore_errors as restore_errors
from ansible_collections.blackduck.hub.plugins.module_utils._command import (
    ArgFormat, CommandError, build_argv, run, stream_between, stream_from_file, utc_stamp, why)
from ansible_collections.blackduck.hub.plugins.module_utils._progress import Progress
from ansible_collections.blackduck.hub.plugins.module_utils._query import query
from ansible_collections.blackduck.hub.plugins.module_utils._target import check_call, stopped_because, tools_folder

PG_RESTORE_FORMATS = {
    "dbname": ArgFormat("eq", "--dbname"),
    "jobs": ArgFormat("opt", "--jobs"),
    "clean": ArgFormat("fixed", items=["--clean", "--if-exists"]),
    "exit_on_error": ArgFormat("flag", "--exit-on-error"),
}


# How a restore (or a stream) is made: db_restore's options of the same names.
RestoreOptions = namedtuple("RestoreOptions", ["globals", "role_passwords", "jobs", "force", "fixups", "analyze",
                                               "allowed_errors", "progress_file"],
                            defaults=[True, "dump", 2, False, True, True, (), None])


class RestoreError(Exception):
    pass


class OtherDataError(RestoreError):
    """The target's bds_hub holds Hub data that another run's migration put there (its restore marker names another
    dump, not a rolled-back attempt's): not restored over, and not a reason to go back to the old version either -
    that migrated Hub may have served. A new Hub started without migrating (its data never came from the old Hub's,
    used or not) is a plain RestoreError: going back restores what served before. ``marker``: that run's restore
    marker (its dump_id, dump_dir, restored), which db_restore returns as other_restore."""

    def __init__(self, message, marker=None):
        super(OtherDataError, self).__init__(message)
        self.marker = marker or {}


class TargetFullError(RestoreError):
    """The new server's disk (not the dump folder's: _command.DiskFullError) filled during the restore."""


def check_no_other_run(target, names):
    """Refuse (RestoreError) while blackduck.hub's own tools hold sessions on the databases to restore: another run,
    or the background restore of a killed run. Two restores into one database spoil each other (step 7's exact check
    would tell, afterwards); this says so before anything is written."""
    said = inventory.another_run(inventory.active_sessions(target, names)) if names else None
    if said:
        raise RestoreError(said)


def disk_full_error(found, streamed, others=()):
    """The new server's disk filled (found: what said so, per database or from a query): what to do, and what is kept;
    others: the other databases' failures, if any, after it."""
    return TargetFullError(
        "the new database server ran out of disk space (%s): make room where it keeps its data - the new Hub's "
        "database volume, its claim or the server's disk - or move it to a larger one, then run again. The databases "
        "not restored completely are restored again from the start (their partial data is dropped first); the %s is "
        "untouched, and the databases that completed are kept.%s"
        % (found, "old data" if streamed else "dump", " Other errors: %s" % " | ".join(others) if others else ""))


def check_files(dump_dir, data):
    problems = manifest.verify_files(dump_dir, data)
    if problems:
        raise RestoreError("the dump in %s cannot be restored: %s. Make the dump again (db_dump) or restore another "
                           "copy; nothing was changed on the target." % (dump_dir, "; ".join(problems)))


def other_run(marker):
    """Which other restore put the data there, from its marker (bds_hub's, or None): ' (it was restored from dump ...,
    on ..., whose dump folder is ... by another run)', or ''."""
    if not marker:
        return ""
    return " (it was restored from dump %s%s%s by another run)" % (
        marker.get("dump_id"), ", on %s" % marker["restored"] if marker.get("restored") else "",
        ", whose dump folder is %s" % marker["dump_dir"] if marker.get("dump_dir") else "")


def roles_restored_as(live, names, dump_id):
    """How the roles' passwords were last restored from dump dump_id ('dump' or 'target', db_restore's role_passwords),
    from the restore markers of names in live (inventory.databases: the latest complete one that says, else one of an
    interrupted restore, written once its roles were restored), or None when none says - markers of an older release,
    or no roles restored."""
    said = [m for m in (inventory.read_marker(live.get(n, {}).get("comment")) for n in names)
            if m and m.get("dump_id") == dump_id and m.get("role_passwords")]
    return max(said, key=lambda m: m.get("restored") or "")["role_passwords"] if said else None


def roles_mode(options, data, live):
    """How this restore leaves the roles' passwords, as its markers record it ('dump' or 'target'), or None when it
    restores no roles. With role_passwords=target the roles the target has keep their passwords - those an earlier
    restore of the same dump gave them from the old server included: 'dump' still."""
    if not (options.globals and data.get("globals")):
        return None
    if options.role_passwords == "target" and roles_restored_as(live, list(data["databases"]), data["dump_id"]) == "dump":
        return "dump"
    return options.role_passwords


def plan(target, data, names, force, replace_empty_hub=False, hub_data_tables=(), replace_dumps=()):
    """Which databases need a restore, and which are to be dropped first: an empty Hub's, or those restored from one
    of replace_dumps (rolled-back attempts: the data of an earlier dump of the same hub, replaced by this one).

    Raises RestoreError when the target holds Hub data that did not come from this dump.
    """
    live = inventory.databases(target)
    todo, done, ours, replace, earlier = [], [], [], [], []
    for name in names:
        marker = inventory.read_marker(live.get(name, {}).get("comment"))
        if marker and marker.get("dump_id") == data["dump_id"]:
            (done if marker.get("complete") else ours).append(name)
        elif marker and marker.get("dump_id") in (replace_dumps or ()):
            earlier.append(name)
        if name not in done:
            todo.append(name)
    if "bds_hub" in todo and "bds_hub" in live and "bds_hub" not in ours + earlier and not force:
        n = inventory.hub_table_count(target)
        if n:
            # another run's migration (its marker): not restored over, and no reason to go back either - unlike a new
            # Hub started without migrating (used or not), whose data the old Hub's never came from
            marker = inventory.read_marker(live["bds_hub"].get("comment"))
            by_other_run = other_run(marker)

            def refused(message):
                return OtherDataError(message, marker) if by_other_run else RestoreError(message)
            if not replace_empty_hub:
                raise refused("the target's bds_hub already holds Hub data (%d tables in schema st) that did not "
                              "come from this dump: refusing to restore over it. If it is an empty Hub started "
                              "by mistake, set replace_empty_hub=true (hub_replace_empty_hub: true with the upgrade role, its default); "
                              "to replace any data, force=true (hub_force_restore: true)." % n)
            holding = inventory.rows_held(inventory.hub_data_rows(target, hub_data_tables))
            if holding:
                raise refused("the target's bds_hub holds Hub data (%s) that did not come from this dump%s: "
                              "refusing to restore over it. Nothing was changed. If that data may be lost, set "
                              "force=true (hub_force_restore: true with the upgrade role)."
                              % (holding, by_other_run))
            # The new version was started without migrating: an empty Hub, replaced by the migrated data.
            replace = [n_ for n_ in todo if n_ in live and n_ not in ours + earlier]
    return todo, done, ours, replace + earlier, live


GLOBALS_MAX = 16 * 1024 * 1024
# the attributes of pg_dumpall's ALTER ROLE ... WITH: only a superuser may name the first three, even to deny them (they
# are the defaults: left out); only a superuser may grant the last two (left out, and said)
_SUPERUSER_ONLY = ("NOSUPERUSER", "NOREPLICATION", "NOBYPASSRLS")
_SUPERUSER_GRANTS = ("REPLICATION", "BYPASSRLS")


def globals_for_non_superuser(text):
    """Rewrite pg_dumpall's role statements so a non-superuser (CREATEROLE, as on Amazon RDS) can run them:
    statements about superuser roles (the server's own) are left out, and the attributes only a superuser may
    name, even to deny them, are dropped (they are the defaults); so are REPLICATION and BYPASSRLS, which only a
    superuser may grant. Returns the text, the superusers left out and {role: [attributes it does not get]}."""
    out, skipped, lost = [], [], {}
    name = r'("[^"]+"|[^ ;"]+)'  # a role name as pg_dumpall writes it: quoted (may hold spaces) or plain
    superusers = set(re.findall(r'^ALTER ROLE %s WITH SUPERUSER\b' % name, text, re.M))
    for line in text.splitlines():
        m = re.match(r'^(?:CREATE|ALTER) ROLE %s' % name, line)
        if m and m.group(1) in superusers:
            skipped.append(m.group(1).strip('"'))
            continue
        # only the words after WITH, up to the first that is not an attribute (a password, VALID UNTIL's date)
        m = re.match(r'^(ALTER ROLE %s WITH)((?: [A-Z]+)*)(.*)$' % name, line)
        if m:
            words = m.group(3).split()
            for word in words:
                if word in _SUPERUSER_GRANTS:
                    lost.setdefault(m.group(2).strip('"'), []).append(word)
            kept = [w for w in words if w not in _SUPERUSER_ONLY + _SUPERUSER_GRANTS]
            line = m.group(1) + "".join(" " + w for w in kept) + m.group(4)
        out.append(line)
    return "\n".join(out) + "\n", sorted(set(skipped)), lost


_PASSWORD = re.compile(r" PASSWORD '(?:[^']|'')*'")


def keep_existing_passwords(text, existing):
    """Leave out the password of every role named in existing (that already exists on the target, with
    role_passwords=target; or the role this restore connects as, which must keep working)."""
    out, kept = [], []
    for line in text.splitlines():
        m = re.match(r'^ALTER ROLE ("[^"]+"|[^ ;"]+)', line)
        if m and m.group(1).strip('"') in existing and _PASSWORD.search(line):
            line = _PASSWORD.sub("", line)
            kept.append(m.group(1).strip('"'))
        out.append(line)
    if not kept:
        return text, []
    return "\n".join(out) + "\n", sorted(set(kept))


def globals_text(dump_dir, data, source=None):
    """The roles' script: the dump's globals.sql, or what pg_dumpall --globals-only of the source writes (a stream:
    _stream.py). Small either way, held in memory."""
    if source is not None:
        args = ["--globals-only"] + (["--no-role-passwords"] if data["options"].get("no_role_passwords") else [])
        try:
            text = check_call(source, "pg_dumpall", args, "dumping the roles (pg_dumpall --globals-only)")
        except CommandError as exc:
            raise source_stopped(source, "pg_dumpall --globals-only (the roles)", str(exc), "run again.") or exc
        where = "pg_dumpall --globals-only on %s" % source.describe()
    else:
        where = os.path.join(dump_dir, data["globals"]["file"])
        if os.path.getsize(where) > GLOBALS_MAX:
            raise RestoreError("%s is larger than %d bytes: not a globals file" % (where, GLOBALS_MAX))
        with open(where) as f:
            text = f.read()
    if len(text) > GLOBALS_MAX:
        raise RestoreError("%s gave more than %d bytes: not a roles' script" % (where, GLOBALS_MAX))
    return text


def restore_globals(target, text, superuser, existing=()):
    """Run the roles' script; the passwords of the roles in existing are left as the target has them."""
    argv = target.tool_argv("psql", ["-X", "-q", "-d", "postgres", "-f", "-"], stdin=True)
    warnings = []
    if not superuser:
        text, skipped, lost = globals_for_non_superuser(text)
        if skipped:
            warnings.append("roles left as the target has them (superusers, which only a superuser may change): %s"
                            % ", ".join(skipped))
        if lost:
            warnings.append("roles restored without what only a superuser may grant (on Amazon RDS, GRANT "
                            "rds_replication TO the role where it replicates): %s"
                            % ", ".join("%s (%s)" % (role, " ".join(words)) for role, words in sorted(lost.items())))
    text, kept = keep_existing_passwords(text, set(existing))
    if kept:
        warnings.append("roles that keep the passwords they have on the target: %s" % ", ".join(kept))
    rc, dummy, stderr = run(argv, env=target.env, stdin_data=text)
    errors, harmless, dummy = restore_errors.classify(stderr)
    if rc != 0 and not errors:
        errors = [stderr.strip()[-1000:] or "psql exited with %d" % rc]
    return errors, warnings + harmless


def create_database(target, name, entry, live):
    if name in live:
        return False
    sql = "CREATE DATABASE %s OWNER %s ENCODING %s TEMPLATE template0" % (
        inventory.quote_ident(name), inventory.quote_ident(entry["owner"]), inventory.quote_literal(entry["encoding"]))
    if entry.get("collate") and entry.get("ctype"):
        sql += " LC_COLLATE %s LC_CTYPE %s" % (inventory.quote_literal(entry["collate"]),
                                               inventory.quote_literal(entry["ctype"]))
    query(target, "postgres", sql + ";\n", "creating database %s" % name)
    return True


def stream_database(source, target, name, clean, progress=None):
    """pg_dump of name on the source piped into pg_restore on the target (a stream: no file). The custom format
    uncompressed: nothing is kept, so compressing would only cost time at both ends."""
    argv = target.tool_argv("pg_restore", build_argv([], PG_RESTORE_FORMATS, {"dbname": name, "clean": clean}),
                            stdin=True)
    res = stream_between(source.tool_argv("pg_dump", dump.pg_dump_argv_tail(name, "0")), argv, source.env,
                         target.env, progress=progress)
    if res["src_rc"] != 0 and not res["broken_pipe"]:  # (pg_restore stopping first had pg_dump killed: its own words)
        detail = "exit %d: %s" % (res["src_rc"], why(res["src_rc"], res["src_stderr"]))
        raise source_stopped(source, "the stream of %s" % name, detail, "run again: the interrupted restore is "
                             "recognised, cleaned and done anew.") or RestoreError(
            "pg_dump of %s on %s failed (%s): nothing of it is kept as restored; run again once the cause is mended."
            % (name, source.describe(), detail[:1000]))
    return res


def source_stopped(source, what, detail, then):
    """The error for what failed on a stream's source because the old database's container or pod went away while it
    ran, saying how to go on (then); None while the database is still there (the failure is then its own)."""
    return stopped_because(source, "%(what)s stopped because %(gone)s while it ran (%(detail)s). The old data is "
                           "untouched; start the old database again (a rerun's step 3 does) and %(then)s", detail,
                           RestoreError, what=what, then=then)


def restore_database(target, dump_dir, name, entry, clean, extra_allowed, progress=None, jobs=1, source=None):
    path = os.path.join(dump_dir, entry["file"] or name)
    if entry.get("format") == manifest.STREAM:
        res = stream_database(source, target, name, clean, progress)
    elif entry.get("format") == "directory":
        # pg_restore reads the folder itself, jobs workers at a time: the managed host's over TCP, or the container's
        # where the dump folder is mounted (connection.dump_mount) - no byte through a pipe
        if target.tools_see(dump_dir, path) is None:
            raise RestoreError("%s is a directory-format dump: restore it with connection.type tcp (the host's "
                               "pg_restore reads the folder), or into a container or pod that has the dump folder "
                               "mounted (connection.dump_mount)" % entry["file"])
        started = time.time()
        with tools_folder(target, dump_dir, path) as seen:
            argv = target.tool_argv("pg_restore", build_argv([], PG_RESTORE_FORMATS, {
                "dbname": name, "clean": clean, "jobs": max(1, jobs)}) + [seen])
            rc, out, err = run(argv, env=target.env)
        res = {"rc": rc, "stdout": out, "stderr": err, "seconds": round(time.time() - started, 3),
               "bytes": entry["bytes"]}
    else:
        argv = target.tool_argv("pg_restore", build_argv([], PG_RESTORE_FORMATS, {"dbname": name, "clean": clean}),
                                stdin=True)
        res = stream_from_file(argv, path, env=target.env, progress=progress)
    errors, warnings, ignored = restore_errors.classify(res["stderr"])
    if extra_allowed:
        kept = []
        for e in errors:
            if any(re.search(p, e) for p in extra_allowed):
                warnings.append("ignored error (allowed_errors, or ownership by a superuser of the source that a "
                                "non-superuser cannot restore): %s" % e)
            else:
                kept.append(e)
        errors = kept
    # pg_restore that went through to its end with errors (here all known-harmless, and read) exits with 1 and says
    # how many it ignored; any other end - killed, or its exec's connection lost - left the database partly restored,
    # whatever harmless errors it printed before (a non-superuser's "must be owner of extension plpgsql", every time)
    if res["rc"] != 0 and not errors and not (res["rc"] == 1 and ignored and warnings):
        errors = ["pg_restore exited with %d: %s" % (res["rc"], why(res["rc"], res["stderr"])) if not res["stderr"].strip()
                  else ("pg_restore exited with %d before its end: " % res["rc"] if warnings else "")
                  + res["stderr"].strip()[-1000:]]
    return {"errors": errors, "warnings": warnings, "ignored_count": ignored, "seconds": res["seconds"],
            "bytes": res["bytes"]}


def apply_fixups(target, name):
    """The Hub's post-restore statements (reset the reporting transfer job), in one transaction."""
    fixups = inventory.FIXUPS.get(name, [])
    if not fixups:
        return []
    query(target, name, ["BEGIN;\n"] + ["%s;\n" % f["sql"] for f in fixups] + ["COMMIT;\n"],
          "applying the Hub's post-restore fixups")
    return [f["sql"] for f in fixups]


def analyze(target, name):
    query(target, name, "ANALYZE;\n", "analyzing %s" % name)


def stopped_under(target, detail, streamed=False):
    """The error for a restore that failed because the new database's container or pod went away while it ran (what
    failed under it in brackets); None while the database is still there (the failure is the restore's own). A
    stream's has no dump to speak of: the old data is what the rerun streams again."""
    return stopped_because(target, (
        "the stream stopped because %(gone)s while it ran (%(detail)s). The old data is untouched; start the new "
        "database again (a rerun's step 4 does, before it streams) and run again: the interrupted stream is "
        "recognised, cleaned and done anew.") if streamed else (
        "the restore stopped because %(gone)s while it ran (%(detail)s). The dump is untouched; start the new database "
        "again (a rerun's step 6 does) and run again: the interrupted restore is recognised, cleaned and done anew."),
        detail, RestoreError)


def nothing_restored():
    """run_restore's result before anything is restored (and of a stream with nothing left to stream)."""
    return {"databases": {}, "warnings": [], "created": [], "replaced": []}


def run_restore(target, dump_dir, data, todo, live, options, log, ours=(), replace=(), source=None):
    """Restore the databases todo and the roles from the dump in dump_dir (data: its manifest) - or stream them from
    source (data: the stream's record). live: the target's databases (inventory.databases); ours: those holding an
    earlier restore of this dump, cleaned; replace: those dropped first (plan's). A query of the new server that
    failed on its full disk - a CREATE DATABASE, an ANALYZE, a fixup, a marker - is told as such (disk_full_error),
    like pg_restore's."""
    try:
        return _restore_all(target, dump_dir, data, todo, live, options, log, ours, replace, source)
    except CommandError as exc:  # _query.failed's words: "<what> on <the new server> (database <name>) failed: ..."
        found = restore_errors.disk_full(str(exc).splitlines()[:1]) if target and (
            " on %s (database " % target.describe()) in str(exc) else None
        if not found:
            raise
        err = disk_full_error(found, manifest.streamed(data))
        err.__cause__ = exc
        raise err


def _restore_all(target, dump_dir, data, todo, live, options, log, ours, replace, source):
    result = nothing_restored()
    me = inventory.role_rights(target)  # the connecting role: its name, and whether it is a superuser
    superuser = me["superuser"]
    # the roles are restored with the databases, each time; their markers say how (db_restore's role_passwords)
    mode = roles_mode(options, data, live)
    roles = {"role_passwords": mode} if mode else {}
    if options.globals and data.get("globals"):
        # role_passwords=dump: every role gets the password it had on the old server (the restore's own role keeps
        # its password, or the restore could not go on); =target: roles the target already has keep theirs
        keep = {me["name"]}
        if options.role_passwords == "target":
            keep |= set(inventory.roles(target)) | set(inventory.superusers(target))
        errors, warnings = restore_globals(target, globals_text(dump_dir, data, source), superuser, keep)
        result["warnings"] += warnings
        no_room = restore_errors.disk_full(errors)
        if no_room:
            where = "the roles: %s" % no_room
            raise disk_full_error(where, manifest.streamed(data))
        if errors:
            raise RestoreError("restoring the roles (globals.sql) failed: %s" % "; ".join(errors[:10]))
    for name in replace:
        target.close_sql(name)  # the module's own session on it (psycopg2, from the plan) would block the drop
        query(target, "postgres", "DROP DATABASE %s;\n" % inventory.quote_ident(name),
              "dropping %s (an empty Hub's, or a rolled-back attempt's) to restore it again" % name)
        live.pop(name, None)
        result["replaced"].append(name)
    for name in todo:
        if create_database(target, name, data["databases"][name], live):
            result["created"].append(name)

    for name in todo:  # an interrupted restore of this dump is recognised, and cleaned, on the next run
        query(target, "postgres", inventory.marker_sql(name, dict(roles, dump_id=data["dump_id"], complete=False))
              + "\n", "recording the restore marker")

    allowed = list(options.allowed_errors or [])
    if not superuser:
        # Objects the source's superusers own cannot be given to them by a non-superuser (as on Amazon RDS);
        # the Hub's own objects belong to its admin role and are restored as they were.
        allowed += ['must be member of role "%s"' % re.escape(r) for r in data.get("superusers", [])]

    streamed = manifest.streamed(data)  # only the databases' size is known beforehand, not what pg_dump will send
    with Progress(options.progress_file, log, "restore", exact=not streamed, expected_bytes=sum(
            data["databases"][n]["size_bytes" if streamed else "bytes"] for n in todo) or None) as progress:

        # a database the new server's image made (empty schemas at most, like the Hub's empty schema st) is
        # restored with --clean --if-exists, so the dump's own CREATE SCHEMA replaces the empty one
        fresh = [n for n in todo if n in live and n not in ours
                 and inventory.user_relation_count(target, n) == 0]

        def one(name):
            entry = data["databases"][name]
            clean = name in live and (options.force or name in ours or name in fresh)
            started = time.time()
            res = restore_database(target, dump_dir, name, entry, clean, allowed, jobs=options.jobs,
                                   progress=lambda d, r: progress.update(entry["file"] or name, d, r), source=source)
            res["seconds"] = round(time.time() - started, 3)
            return name, res

        def finish(name):  # each database completed (fixups, ANALYZE, its marker) as soon as its own restore ends
            progress.phase(name, "applying the Hub's fixups to %s" % name)
            fixed = apply_fixups(target, name) if options.fixups else []
            if options.analyze:
                progress.phase(name, "analyzing %s" % name)
                analyze(target, name)
            marker = dict(roles, dump_id=data["dump_id"], complete=True, fixups=bool(fixed), restored=utc_stamp(),
                          source_version=data.get("source", {}).get("server_version"),
                          dump_dir=os.path.abspath(dump_dir))
            query(target, "postgres", inventory.marker_sql(name, marker) + "\n", "recording the restore marker")
            result["databases"][name].update(fixups=fixed, marker=marker)
            if streamed:  # what went through the pipe, in the stream's record (_stream.transfer writes it)
                data["databases"][name].update(bytes=result["databases"][name]["bytes"],
                                               seconds=result["databases"][name]["seconds"])

        # full: each database's first error that says the disk is full; others: the other databases' errors
        failures, raised, full, others = [], [], [], []
        # custom format and streams: jobs databases at a time; directory format: one at a time, each with pg_restore
        # --jobs. A database that fails leaves the others to complete: a rerun restores only what is not complete.
        directory = any(data["databases"][n].get("format") == "directory" for n in todo)
        try:
            with ThreadPoolExecutor(max_workers=1 if directory else max(1, min(options.jobs, len(todo) or 1))) as pool:
                futures = dict((pool.submit(one, n), n) for n in todo)
                for future in as_completed(futures):
                    try:
                        name, res = future.result()
                    except Exception as exc:  # kept, and raised once the others are done
                        raised.append(exc)
                        continue
                    result["databases"][name] = res
                    result["warnings"] += ["%s: %s" % (name, w) for w in res["warnings"]]
                    if res["errors"]:
                        said = "%s: %s" % (name, "; ".join(res["errors"][:10]))
                        failures.append(said)
                        no_room = restore_errors.disk_full(res["errors"])
                        if no_room:
                            full.append("%s: %s" % (name, no_room))
                        else:
                            others.append(said)
                    else:
                        finish(name)
            if raised:
                raise raised[0]
            if full:
                raise disk_full_error("; ".join(sorted(full)), streamed, sorted(others))
            if failures:
                raise RestoreError("pg_restore reported errors (the target is left as it is for inspection; the %s "
                                   "is untouched): %s" % ("old data" if streamed else "dump", " | ".join(sorted(failures))))
        except TargetFullError:
            raise
        except Exception as exc:  # a tool or a query that failed under a container that went away: say so
            stopped = stopped_under(target, str(exc), streamed)
            if stopped:
                raise stopped
            raise
    return result
