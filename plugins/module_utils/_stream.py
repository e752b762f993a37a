# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stream transfer (db_restore's source; the upgrade role's hub_transfer: stream): each database piped from the
old server's pg_dump straight into the new server's pg_restore, the roles from pg_dumpall into psql - no dump file.

What a dump's manifest records is recorded all the same, in dump_dir/manifest.json (format ``stream``, no file):
the source, each database's owner and encoding, the roles, and every table's row count and checksum, taken from the
quiet source while the streams run. So db_verify compares the new server with it as with a dump, and a rerun reuses
the record (its dump_id names the restore markers): only the databases whose stream did not complete run again.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.blackduck.hub.plugins.module_utils import _dump as dump
from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory
from ansible_collections.blackduck.hub.plugins.module_utils import _manifest as manifest
from ansible_collections.blackduck.hub.plugins.module_utils import _restore as restore
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, utc_stamp
from ansible_collections.blackduck.hub.plugins.module_utils._query import query
from ansible_collections.blackduck.hub.plugins.module_utils._target import APPLICATION_NAME, TargetError, tool_version


def record(source, dump_dir, names, no_role_passwords):
    """The stream's record for names from source: the one dump_dir holds for this source and data (a rerun), or a
    new one (not yet written; its tables are counted while the streams run). Returns (data, new)."""
    server = inventory.server_version(source)
    dbs = inventory.databases(source)
    missing = [n for n in names if n not in dbs]
    if missing:
        raise restore.RestoreError("database %s not found on the source %s (it has: %s). Check the databases option "
                                   "and that the source is the Hub's old database server."
                                   % (", ".join(missing), source.describe(), ", ".join(sorted(dbs)) or "none"))
    fp = dump.fingerprint(server, dbs, names)
    existing = manifest.load(dump_dir)
    if existing and not manifest.streamed(existing):
        raise restore.RestoreError("%s holds a dump (dump %s, taken %s): restore it without source, or stream with "
                                   "another dump_dir. Nothing was changed." % (dump_dir, existing["dump_id"],
                                                                               existing["created"]))
    if existing:
        if sorted(existing["databases"]) == sorted(names) and dump.same_source(existing["fingerprint"], fp):
            return existing, False
        raise restore.RestoreError("%s holds the record of a stream from another source or of other data (dump %s of "
                                   "%s, begun %s): stream with another dump_dir. Nothing was changed."
                                   % (dump_dir, existing["dump_id"], existing["source"].get("where"), existing["created"]))
    data = {
        "dump_id": str(uuid.uuid4()),
        "created": utc_stamp(),
        "fingerprint": fp,
        "tools": {t: tool_version(source, t) for t in ("pg_dump", "pg_dumpall")},
        "options": {"format": manifest.STREAM, "compression": "none", "compress_arg": "0", "checksums": "full",
                    "no_role_passwords": no_role_passwords},
        "globals": {"file": None, "format": manifest.STREAM},
        "databases": dict((n, dict(dump.database_facts(dbs[n]), file=None, format=manifest.STREAM, bytes=0, sha256=None))
                          for n in names),
    }
    data.update(dump.source_facts(source, server, no_role_passwords))
    return data, True


def stop_counting(source, names):
    """Cancel this module's count of the source's tables (its own sessions there: a stream that failed need not wait
    for it). One run per hub (the lock): no other run's session is ours. Best effort - the source may be gone."""
    try:
        query(source, "postgres", "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = %s "
              "AND pid <> pg_backend_pid() AND datname IN (%s);\n" % (inventory.quote_literal(APPLICATION_NAME), ", ".join(
                  inventory.quote_literal(n) for n in names) or "NULL"), "stopping the count of the source's tables")
    except Exception:  # a source gone, a role that may not see the sessions: the count then ends by itself
        pass


def same_server(source, target):
    """Whether the source and the target are one server (the same container, pod, or host and port)."""
    return source.identity() == target.identity()


def give_up(source, counts, dump_dir, data):
    """A transfer that failed, in its streams or in the count: the counts not begun cancelled, the one running stopped
    (else the failure would wait for a whole checksum pass), and the record kept as far as the transfer got - the
    bytes of each stream that completed (run_restore sets them as each ends) and the tables counted - so that the
    rerun neither streams nor counts them again and its report tells them. Best effort: the failure is what is told."""
    for future in counts.values():
        future.cancel()
    stop_counting(source, sorted(counts))
    try:
        manifest.write(dump_dir, data)
    except (IOError, OSError):
        pass


def uncounted(data):
    """The databases of a stream's record whose tables were not counted yet (a run stopped before it could)."""
    return [n for n in sorted(data["databases"]) if "tables" not in data["databases"][n]]


def transfer(source, target, dump_dir, data, todo, live, options, log, ours=(), replace=()):
    """Stream the databases in todo (restore.run_restore with the source), the record written first so that an
    interrupted transfer is recognised; the tables of the source not yet counted are counted by one worker of their
    own while the streams run (the source is quiet: nothing changes what they count), then the record completed. Each
    stream's bytes and time go into the record as it completes (run_restore), kept there when a later one fails."""
    started = time.time()
    manifest.write(dump_dir, data)
    to_count = uncounted(data)
    with ThreadPoolExecutor(max_workers=1) as counting:
        counts = dict((n, counting.submit(inventory.database_inventory, source, n, checksums=True,
                                          fixups=inventory.FIXUPS.get(n))) for n in to_count)
        try:
            result = (restore.run_restore(target, dump_dir, data, todo, live, options, log, ours, replace, source)
                      if todo else restore.nothing_restored())
        except BaseException:
            give_up(source, counts, dump_dir, data)
            raise
        manifest.write(dump_dir, data)  # each stream's bytes, before the count ends (a count cut short keeps them)
        for name, counted in counts.items():  # in the order the one worker counts them
            try:
                data["databases"][name].update(counted.result())
            except (CommandError, TargetError) as exc:  # the old database went away just as the streams ended?
                give_up(source, counts, dump_dir, data)  # with the counts that ended: the rerun counts only the others
                raise restore.source_stopped(source, "the count of the tables of %s" % name, str(exc), (
                    "run again: the streams that ended are kept, and the rerun counts what was not counted.")) or exc
    data.update(completed=utc_stamp(), seconds=round(time.time() - started, 3))
    manifest.write(dump_dir, data)
    return result
