# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One migration at a time per hub: a lock file on the hub's host, named after the hub itself (its engine and
project, its swarm and stack, its cluster and namespace, or its external server), not after the dump folder, so a
second run refuses whatever its dump folder or controller.

The file is created whole, by a hard link (exactly one creator wins), and holds who holds it: the run (controller,
pid of its ansible-playbook and that process's start time), the user, when, the dump folder. A stale lock (its run is gone) is
taken over by renaming it aside first - a rename of the same file succeeds for one taker only - then creating anew.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import tempfile

LOCK_DIR = "/var/lib/blackduck-hub/locks"


def lock_path(directory, key):
    """The lock file of a hub: a digest of its key, so any key makes a valid file name."""
    return os.path.join(directory, "hub-%s.lock" % hashlib.sha256(key.encode("utf-8")).hexdigest()[:24])


def read(path):
    """(key, holder) of a lock file, or (None, None) when there is none. A file that is not a lock reads as held by
    an unknown run, so it is never taken for free."""
    try:
        with open(path) as f:
            data = json.load(f)
        return data.get("key"), data.get("holder") or {}
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None, None
        raise
    except ValueError:
        return None, {"run": "unreadable lock file %s" % path}


def _create(path, key, holder):
    """Create the lock file with who holds it in it, at once; False if it exists. It is written beside first, then
    hard-linked to its name (a link, like O_EXCL, succeeds for one creator only): another run - the same hub named
    twice in one inventory, its hosts in parallel - never reads it empty, which it would take for an unknown holder."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd, written = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"key": key, "holder": holder}, f, sort_keys=True)
        try:
            os.link(written, path)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                return False
            raise
        return True
    finally:
        os.unlink(written)


def acquire(path, key, holder, take_over=None):
    """Take the lock for holder. take_over: the run of a stale holder whose lock may be replaced.

    Returns (status, previous holder): acquired, held (holder already holds it), taken_over, or busy (someone
    else holds it; previous is who)."""
    if _create(path, key, holder):
        return "acquired", None
    dummy, current = read(path)
    if current is None:  # released in between: try once more
        return ("acquired", None) if _create(path, key, holder) else ("busy", read(path)[1])
    if current.get("run") == holder["run"]:
        return "held", current
    if take_over is None or current.get("run") != take_over:
        return "busy", current
    aside = "%s.stale-%s" % (path, hashlib.sha256(holder["run"].encode("utf-8")).hexdigest()[:12])
    try:
        os.rename(path, aside)  # only one taker renames this file; another finds it gone
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return "busy", read(path)[1]
        raise
    dummy, moved = read(aside)
    if (moved or {}).get("run") != take_over:  # a new holder got in between: give it its lock back
        os.rename(aside, path)
        return "busy", moved
    os.unlink(aside)
    if _create(path, key, holder):
        return "taken_over", current
    return "busy", read(path)[1]


def release(path, holder):
    """Remove the lock if holder holds it. Returns released, not_held (no lock) or held_by_another."""
    dummy, current = read(path)
    if current is None:
        return "not_held"
    if current.get("run") != holder["run"]:
        return "held_by_another"
    os.unlink(path)
    return "released"


class LockError(Exception):
    """The lock folder cannot be used; result: the locks done before (the all-or-none rule gave back what was taken),
    for the task's result."""

    def __init__(self, message, locks):
        super(LockError, self).__init__(message)
        self.result = {"locks": locks}


def call(keys, state, holder, take_over=None, lock_dir=LOCK_DIR, check_mode=False):
    """hub_lock's work (its module, or its action plugin in the controller's own process): the locks of keys taken
    for holder (state present; all or none: a busy one gives back what this call took), given back (absent), or -
    in check mode - only looked at. take_over: per key, the run whose stale lock may be taken over. Returns
    {changed, locks: [{key, path, status, holder}], busy}; raises LockError when the folder cannot be used."""
    take_over = take_over or {}
    out, changed = [], False
    try:
        for key in keys:
            path = lock_path(lock_dir, key)
            if check_mode:
                dummy, found = read(path)
                status = "free" if found is None else ("held" if found.get("run") == holder["run"] else "busy")
            elif state == "present":
                status, found = acquire(path, key, holder, take_over.get(key))
                if status == "busy":  # all or none: give back what this call took
                    for taken in out:
                        if taken["status"] in ("acquired", "taken_over"):
                            release(taken["path"], holder)
                    out.append(dict(key=key, path=path, status=status, holder=found))
                    return dict(changed=False, locks=out, busy=True)
                changed = changed or status in ("acquired", "taken_over")
            else:
                status, found = release(path, holder), None
                changed = changed or status == "released"
            out.append(dict(key=key, path=path, status=status, holder=found))
    except (IOError, OSError) as exc:
        raise LockError("the hub's lock in %s cannot be used: %s. The folder must be writable (run as root, "
                        "become: true) or set hub_lock_dir." % (lock_dir, exc), out)
    return dict(changed=changed, locks=out, busy=False)
