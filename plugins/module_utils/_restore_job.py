# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""db_restore's work: the new databases filled from a dump (_restore), or straight from the old server (a stream,
_stream) - what to fill checked and planned against the target, nothing written in check mode."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.blackduck.hub.plugins.module_utils import _dump as dump
from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory
from ansible_collections.blackduck.hub.plugins.module_utils import _manifest as manifest
from ansible_collections.blackduck.hub.plugins.module_utils import _restore as restore
from ansible_collections.blackduck.hub.plugins.module_utils import _stream as stream


def what_to_restore(dump_dir, databases):
    """The dump in dump_dir (its manifest) and the databases of it to restore (databases, or all of them), its files
    checked. Raises RestoreError when there is no complete dump, it lacks one of databases, or it is a stream's record."""
    data = manifest.load(dump_dir)
    if data is None:
        raise restore.RestoreError("no complete dump in %s (no manifest.json): run db_dump first, or point dump_dir at "
                                   "the folder it wrote." % dump_dir)
    names = databases or sorted(data["databases"])
    unknown = [n for n in names if n not in data["databases"]]
    if unknown:
        raise restore.RestoreError("database %s is not in the dump (it has: %s)" % (
            ", ".join(unknown), ", ".join(sorted(data["databases"]))))
    if manifest.streamed(data):
        raise restore.RestoreError("%s holds the record of a stream (dump %s), not a dump: give the source it streams "
                                   "from (option source), or use a dump_dir db_dump wrote." % (dump_dir, data["dump_id"]))
    restore.check_files(dump_dir, data)
    return data, names


def fill(source, connect_target, dump_dir, databases, options, result, replace_empty_hub=False, hub_data_tables=(),
         replace_dumps=(), no_role_passwords=False, check_mode=False, log=None):
    """Fill the target (connect_target(): its session, opened once the dump or the source is checked) from the dump in
    dump_dir, or - with source (the old server's session) - stream into it, the stream's record in dump_dir. Into
    result (returned): dump_id, target, what was restored or would be (check mode), warnings_ignored. A target that
    holds the dump already is left as it is; see _restore.plan for what is refused."""
    if source:
        names = databases or list(dump.DEFAULT_DATABASES)
        data, new = stream.record(source, dump_dir, names, no_role_passwords)
        result["source"] = data["source"]
        if new and not check_mode:
            dump.prepare_dir(dump_dir)
    else:
        data, names = what_to_restore(dump_dir, databases)
    result["dump_id"] = data["dump_id"]
    target = connect_target()
    if source and stream.same_server(source, target):
        raise restore.RestoreError("source and connection reach the same server (%s): a stream goes from the old server "
                                   "into another one. Nothing was changed." % target.describe())
    server = inventory.server_version(target)
    result["target"] = dict(target.identity(), server_version=server["version"], server_major=server["major"])
    todo, done, ours, replace, live = restore.plan(target, data, names, options.force, replace_empty_hub,
                                                   hub_data_tables, replace_dumps)
    result.update(already_restored=done, restored={}, created=[], warnings_ignored=[], replaced_empty_hub=replace,
                  role_passwords=(todo and restore.roles_mode(options, data, live))
                  or restore.roles_restored_as(live, names, data["dump_id"]))
    if not todo and not (source and stream.uncounted(data)):
        result["msg"] = "the target already holds dump %s" % data["dump_id"]
        if source:
            result["record"] = dump.summary(data)
        return result
    if check_mode:
        result.update(changed=bool(todo), msg="would %s %s from %s into %s%s" % (
            "stream" if source else "restore", ", ".join(todo) or "nothing (count the source's tables)",
            source.describe() if source else dump_dir, target.describe(),
            " (replacing %s)" % ", ".join(replace) if replace else ""))
        return result
    if source:  # nothing writes to the old databases, no other run reads them
        dump.check_quiet(source, names, False)
    restore.check_no_other_run(target, todo)
    done = (stream.transfer(source, target, dump_dir, data, todo, live, options, log, ours, replace) if source
            else restore.run_restore(target, dump_dir, data, todo, live, options, log, ours, replace))
    result.update(changed=bool(todo), restored=done["databases"], created=done["created"],
                  warnings_ignored=done["warnings"])
    if source:
        result["record"] = dump.summary(data)
    return result
