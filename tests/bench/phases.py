"""Where the modules' time goes: db_dump's and db_restore's work, phase by phase, one database at a time.

The bench calls ``measure(old_hub, new_hub, folder)`` after the paths: it runs the same module_utils functions the
modules run (the collection's own code, not a copy), in the modules' order, but one database at a time and each
phase timed on its own, from the same old hub into a fresh new hub. Phases (seconds per database):

  dump:    stream (pg_dump -Fc -Z 0 in the container -> docker exec -> Python, sha256 -> file, fsync),
           list (pg_restore --list over the file), rows (row counts of every table),
           checksums (row counts and content checksums: what checksums=full does instead of rows)
  restore: sha256 (every dump file read and hashed before anything changes), stream (file -> docker exec -i ->
           pg_restore, one process per database: a stream cannot be restored in parallel), fixups, analyze
  fixed:   preflight (wait_ready, versions, databases, sessions), tool versions, globals dump and restore

Every figure is the wall time of that one call; nothing runs concurrently here, so they add up to the
modules' work with jobs=1 (the modules overlap databases with jobs=2 or 3).
"""
import os
import time

import collection_root

collection_root.install_on_sys_path()

from ansible_collections.blackduck.hub.plugins.module_utils import _dump as dump  # noqa: E402
from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory  # noqa: E402
from ansible_collections.blackduck.hub.plugins.module_utils import _restore as restore  # noqa: E402
from ansible_collections.blackduck.hub.plugins.module_utils._progress import Progress  # noqa: E402
from ansible_collections.blackduck.hub.plugins.module_utils._target import make_target, tool_version, wait_ready  # noqa: E402


class _Clock:
    def __init__(self):
        self.times = {}

    def __call__(self, key, fn, *args, **kw):
        started = time.monotonic()
        value = fn(*args, **kw)
        self.times[key] = round(self.times.get(key, 0) + time.monotonic() - started, 3)
        return value


def measure(old_hub, new_hub, folder, databases, old_version, new_version):
    """Time every phase; return {"dump": {...}, "restore": {...}, "fixed": {...}, "bytes": {...}}."""
    src = make_target({"type": "docker", "project": old_hub["project"], "hub_version": old_version})
    dst = make_target({"type": "docker", "project": new_hub["project"], "hub_version": new_version})
    os.makedirs(folder, 0o700)
    fixed, per_dump, per_restore, sizes = _Clock(), {}, {}, {}
    try:
        def preflight():
            wait_ready(src, 60)
            inventory.server_version(src)
            inventory.databases(src)
            dump.check_quiet(src, list(databases), False)

        fixed("dump preflight", preflight)
        fixed("dump tool versions", lambda: [tool_version(src, t) for t in ("pg_dump", "pg_dumpall", "pg_restore")])
        progress = Progress(os.path.join(folder, dump.PROGRESS_FILE), lambda msg: None, "dump")
        fixed("dump globals", dump.dump_one, src, folder, dump.GLOBALS_FILE, src.tool_argv("pg_dumpall", ["--globals-only"]),
              progress, 3600)
        for db in databases:
            clock = per_dump[db] = _Clock()
            argv = src.tool_argv("pg_dump", dump.pg_dump_argv_tail(db, "0"))
            res = clock("stream", dump.dump_one, src, folder, dump.dump_file(db), argv, progress, 3600)
            sizes[db] = res["bytes"]
            clock("list", dump.restore_list, src, os.path.join(folder, dump.dump_file(db)))
            clock("rows", inventory.database_inventory, src, db, checksums=False, fixups=inventory.FIXUPS.get(db))
            clock("checksums", inventory.database_inventory, src, db, checksums=True, fixups=inventory.FIXUPS.get(db))

        data = {"databases": {db: {"file": dump.dump_file(db), "bytes": sizes[db],
                                   "sha256": dump.sha256_file(os.path.join(folder, dump.dump_file(db)))} for db in databases},
                "globals": {"file": dump.GLOBALS_FILE, "bytes": os.path.getsize(os.path.join(folder, dump.GLOBALS_FILE))}}

        def preflight_restore():
            wait_ready(dst, 60)
            inventory.server_version(dst)
            restore.plan(dst, {"dump_id": "bench", "databases": data["databases"]}, list(databases), False)

        fixed("restore preflight", preflight_restore)
        fixed("restore globals", restore.restore_globals, dst, restore.globals_text(folder, data), inventory.role_rights(dst)["superuser"])
        for db in databases:
            clock = per_restore[db] = _Clock()
            path = os.path.join(folder, dump.dump_file(db))
            clock("sha256", dump.sha256_file, path)
            # clean: the new image made bds_hub with an empty schema st, which the dump creates (as the module does)
            res = clock("stream", restore.restore_database, dst, folder, db, data["databases"][db], True, [])
            if res["errors"]:
                raise RuntimeError("restoring %s for the phase timings failed: %s" % (db, "; ".join(res["errors"][:5])))
            clock("fixups", restore.apply_fixups, dst, db)
            clock("analyze", restore.analyze, dst, db)
    finally:
        src.cleanup()
        dst.cleanup()

    def totals(per):
        out = {}
        for clock in per.values():
            for k, v in clock.times.items():
                out[k] = round(out.get(k, 0) + v, 3)
        return out

    return {"dump": {db: c.times for db, c in per_dump.items()}, "restore": {db: c.times for db, c in per_restore.items()},
            "dump_total": totals(per_dump), "restore_total": totals(per_restore), "fixed": fixed.times, "bytes": sizes}
