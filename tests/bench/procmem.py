"""Run a command and measure it: wall time, and the peak memory of every process of its tree, read from /proc.

What is measured, and why this way:

* Each process's own peak resident set size is its ``VmHWM`` ("high water mark") in ``/proc/<pid>/status``. The
  kernel keeps it exact; a watcher thread reads it for every process of the tree every ``interval`` seconds, so
  the only thing that can be missed is growth in the last interval before a process exits.
* Processes are told apart by their command line: the Ansible module process is the one running
  ``AnsiballZ_<module>.py`` (Ansible runs a module in that one Python process, in-process via runpy, when
  pipelining is off, as the bench sets it), the controller is ``ansible`` / ``ansible-playbook``, the rest by
  the name of their program (``docker``, ``pg_dump``, ``sh``, forked Ansible workers as ``ansible-worker``).
* ``tree_rss_peak`` is the largest sum of the tree's current RSS seen in one sample. Forked Ansible workers share
  pages with the controller, so this sum counts shared pages more than once: an upper bound, not a footprint.
* Processes that run inside containers (the server's pg_dump and pg_restore behind ``docker exec``) are not in
  the tree: they are children of the container runtime, not of the command. They are the same for every path
  that runs the tools in the container.

The command may be wrapped in GNU time (``/usr/bin/time -v``): its "Maximum resident set size" is what
``wait4`` reports for the waited child, which on Linux is the largest single process among that child and the
descendants it waited for (not a sum, and not the module on its own) - kept as a cross-check.
"""
import os
import subprocess
import threading
import time

ANSIBLE = ("ansible", "ansible-playbook")


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _ppids():
    """{pid: (ppid, start time)} of every process on the machine."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = _read("/proc/%s/stat" % name)
        if not stat:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses; the last ')' ends it
        fields = stat[stat.rfind(b")") + 2:].split()
        out[int(name)] = (int(fields[1]), int(fields[19]))
    return out


def _status_kb(pid):
    """(VmHWM, VmRSS) in KiB, or None when the process is gone (or a zombie without memory)."""
    text = _read("/proc/%d/status" % pid)
    if text is None:
        return None
    hwm = rss = None
    for line in text.splitlines():
        if line.startswith(b"VmHWM:"):
            hwm = int(line.split()[1])
        elif line.startswith(b"VmRSS:"):
            rss = int(line.split()[1])
    if hwm is None:
        return None
    return hwm, rss or 0


def label_of(cmdline):
    """What kind of process an argv (list of str) is, for the report."""
    for arg in cmdline:
        base = os.path.basename(arg)
        if base.startswith("AnsiballZ_") and base.endswith(".py"):
            return "module:" + base[len("AnsiballZ_"):-3]
    names = [os.path.basename(a) for a in cmdline[:3]]
    for n in names:
        if n in ("ansible", "ansible-playbook"):
            return n
    return names[0] if names else "?"


def _is_module(pid):
    raw = _read("/proc/%d/cmdline" % pid) or b""
    return b"AnsiballZ_" in raw


class TreeWatch(threading.Thread):
    """Polls the process trees under ``roots`` (pids) and keeps the peaks per label and per process.

    A module run with ``async`` leaves the tree: Ansible's async_wrapper daemonizes it (its parent becomes init). So
    every ``AnsiballZ_`` process that was not there at the first sample is watched too, with its own tree."""

    def __init__(self, roots, interval=0.2):
        super().__init__(daemon=True)
        self.roots = list(roots)
        self.interval = interval
        self.stop_event = threading.Event()
        self.pids = {}  # (pid, start time) -> {"label", "hwm_kb", "first", "last"}
        self.tree_rss_peak_kb = 0
        self.samples = 0
        self.started = time.monotonic()
        self.preexisting = None

    def run(self):
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def sample(self):
        ppids = _ppids()
        children = {}
        for pid, (ppid, dummy) in ppids.items():
            children.setdefault(ppid, []).append(pid)
        if self.preexisting is None:
            self.preexisting = set(ppids)
        detached = [pid for pid in ppids if pid not in self.preexisting and _is_module(pid)]
        todo, tree, seen = list(self.roots) + detached, [], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            if pid in ppids:
                tree.append(pid)
            todo.extend(children.get(pid, []))
        now = time.monotonic() - self.started
        total = 0
        for pid in tree:
            mem = _status_kb(pid)
            if mem is None:
                continue
            hwm, rss = mem
            total += rss
            key = (pid, ppids[pid][1])  # a pid may be reused by another process during a long run
            rec = self.pids.get(key)
            if rec is None:
                raw = _read("/proc/%d/cmdline" % pid) or b""
                argv = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
                if not argv:
                    continue
                label = label_of(argv)
                ppid = ppids[pid][0]
                parent = self.pids.get((ppid, ppids.get(ppid, (0, 0))[1]), {}).get("label")
                if label in ANSIBLE and parent in ANSIBLE + ("ansible-worker",):
                    label = "ansible-worker"  # a fork of the controller: the same command line, another process
                rec = self.pids[key] = {"label": label, "hwm_kb": 0, "first": now, "last": now}
            rec["hwm_kb"] = max(rec["hwm_kb"], hwm)
            rec["last"] = now
        self.tree_rss_peak_kb = max(self.tree_rss_peak_kb, total)
        self.samples += 1

    def stop(self):
        self.stop_event.set()
        self.join()

    def peaks_mb(self):
        """{label: peak MB over the processes of that label}."""
        out = {}
        for rec in self.pids.values():
            out[rec["label"]] = max(out.get(rec["label"], 0.0), rec["hwm_kb"] / 1024.0)
        return {k: round(v, 1) for k, v in sorted(out.items())}

    def lifetimes(self, label):
        """[(first_seen_s, last_seen_s)] of the processes with that label, in order."""
        return sorted((r["first"], r["last"]) for r in self.pids.values() if r["label"] == label)


def time_v_max_rss_mb(path):
    """"Maximum resident set size" from a GNU time -v output file, in MB (None if absent)."""
    text = _read(path)
    if not text:
        return None
    for line in text.decode("utf-8", "replace").splitlines():
        if "Maximum resident set size" in line:
            return round(int(line.rsplit(":", 1)[1]) / 1024.0, 1)
    return None


GNU_TIME = "/usr/bin/time"


def run_measured(argv, env=None, stdout=None, stderr=None, stdin=None, timeout=None, interval=0.2, time_file=None):
    """Run argv (under GNU time when time_file is given) with a TreeWatch; return a result dict.

    stdout/stderr are paths (files are written) or None (discarded). Returns dict(rc, seconds, peaks_mb,
    tree_rss_peak_mb, time_v_max_rss_mb, watch).
    """
    if time_file:
        argv = [GNU_TIME, "-v", "-o", time_file] + list(argv)
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL
    try:
        started = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                stdout=out, stderr=err)
        watch = TreeWatch([proc.pid], interval)
        watch.start()
        try:
            rc = proc.wait(timeout=timeout)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            watch.stop()
        seconds = time.monotonic() - started
    finally:
        for f in (out, err):
            if f is not subprocess.DEVNULL:
                f.close()
    return {"rc": rc, "seconds": round(seconds, 3), "peaks_mb": watch.peaks_mb(),
            "tree_rss_peak_mb": round(watch.tree_rss_peak_kb / 1024.0, 1),
            "time_v_max_rss_mb": time_v_max_rss_mb(time_file) if time_file else None, "watch": watch}
