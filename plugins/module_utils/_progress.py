# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of a long dump or restore: written to a small JSON file by the module, read and shown by the role.

A module cannot print while it runs, so db_dump and db_restore write a progress file (atomically, mode 0600) and
log a line; the async_progress action plugin, on the controller, polls the running job and prints describe() of
that file, so a terminal and an AWX job both see it.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

from ansible_collections.blackduck.hub.plugins.module_utils._command import human, unlink_quietly, utc_stamp, write_json_atomic


class Progress:
    """Aggregates the bytes of one task's parallel streams; writes the progress file and calls log().

    Used as a context manager: a file left by an earlier, interrupted run is removed on entry, and the file is
    removed on exit, however the task ends, so a watcher never shows stale figures."""

    def __init__(self, path, log, action, expected_bytes=None, exact=False):
        """path: the progress file (None: log only). action: "dump" or "restore". expected_bytes: what the whole task should move (exact=True when it is
        known exactly, as for a restore, which reads files of known size; a dump only knows the databases' size)."""
        self.path = path
        self.log = log
        self.action = action
        self.expected = expected_bytes
        self.exact = exact
        self.lock = threading.Lock()
        self.done = {}
        self.phases = {}
        self.start = time.monotonic()

    def _state(self, name):
        total = sum(self.done.values())
        elapsed = time.monotonic() - self.start
        state = {"action": self.action, "file": name, "bytes": self.done.get(name, 0), "total_bytes": total,
                 "total_human": human(total), "rate_bytes_per_s": int(total / max(elapsed, 1e-6)),
                 "elapsed_s": round(elapsed, 1),
                 "phase": ", ".join(self.phases[k] for k in sorted(self.phases)) or None,
                 "updated": utc_stamp()}
        if self.expected:
            state.update(expected_bytes=self.expected, expected_exact=self.exact)
        return state

    def update(self, name, done, rate=None):
        """name has moved done bytes so far (rate is accepted for the stream callbacks and not used: the rate shown
        is the task's overall one)."""
        with self.lock:
            self.done[name] = done
            self.phases.pop(name, None)
            state = self._state(name)
            self._write(state)

    def phase(self, name, text):
        """What the task does for name now that no bytes move (for example taking the checksums)."""
        with self.lock:
            self.phases[name] = text
            state = self._state(None)
            self._write(state)

    def _write(self, state):
        if self.path:
            try:
                write_json_atomic(self.path, state, durable=False)
            except (IOError, OSError):  # its file system full (the dump's, often): no figures shown rather than
                self.remove()  # stale ones; the task goes on (and fails on its own, saying why, if it cannot)
        self.log(describe(state))

    def __enter__(self):
        self.remove()
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def remove(self):
        if self.path:
            unlink_quietly(self.path)
            unlink_quietly(self.path + ".tmp")


def poll_delay(elapsed, interval):
    """Seconds until the watcher asks again whether a job ended: every second at first, so a short job is not kept
    waiting for a whole progress interval, then less often as the job ages (a tenth of its age), at most every
    interval seconds, so a long job costs few polls."""
    return min(float(interval), max(1.0, elapsed / 10.0))


def describe(state):
    """One line for a person watching: what moved so far, how fast, and what the task does now."""
    action = state.get("action") or "dump"
    total = state.get("total_bytes") or 0
    line = "%s progress: %s so far (%s/s)" % (action, human(total), human(state.get("rate_bytes_per_s") or 0))
    expected = state.get("expected_bytes")
    if expected and state.get("expected_exact"):
        line += ", %d%% of %s" % (min(100, int(100.0 * total / expected)), human(expected))
    elif expected:
        line += ", from %s of databases" % human(expected)
    if state.get("phase"):
        line += "; now %s" % state["phase"]
    elif state.get("file"):
        line += "; %s: %s" % (state["file"], human(state.get("bytes") or 0))
    if state.get("elapsed_s") is not None:
        line += " [%ds]" % int(state["elapsed_s"])
    return line
