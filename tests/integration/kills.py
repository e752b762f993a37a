"""Faults in the middle of moving the data, for the tests that make them (on the lab's hubs and the vendor's bundles):
the database killed while a tool copies rows, as a failing node or an operator would, and the dump folder's file
system full; each checked to fail its step saying what happened, with nothing of it kept."""
import contextlib
import os
import re
import shutil
import subprocess

import ansible_run
import dbcheck
import labhub


def untouched(hub):
    """bds_hub's row counts but of the tables the running Hub writes and of the one the Hub's post-restore fixups
    change (the reporting transfer's keys): step 7's exact verification compares those two with the dump."""
    return dict((t, n) for t, n in dbcheck.counts(hub, "bds_hub").items()
                if t not in ("st.hub_heartbeat", "st.policy_setting"))


@contextlib.contextmanager
def small_dump_filesystem(path, size="3m"):
    """hub_dump_dir (the state file, the logs, the dump) on a file system of its own, too small for the dump; yields
    a function that grows it in place, keeping what is on it. At the end the state file, the logs and the report are
    kept beside it (path-kept: a failed test's evidence, whether it failed inside this block or after it, as when an
    ExitStack closes it), the rest goes with the file system."""
    os.makedirs(path)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "bdhub-test-full", path], check=True)
    try:
        yield lambda new_size: subprocess.run(["mount", "-o", "remount,size=%s" % new_size, path], check=True)
    finally:
        try:
            shutil.copytree(path, path + "-kept", ignore=shutil.ignore_patterns("dump"), dirs_exist_ok=True)
        finally:
            subprocess.run(["umount", "-l", path], check=False)


def fill_the_dump_folder(hub, dumps, settings=None):
    """A run on a hub whose dump folder fills mid-dump (issue 18: disk full in file mode refuses cleanly): step 1's
    rule let through (hub_disk_dump_factor far too low - an estimate that was wrong, or a disk something else fills
    meanwhile); step 4 fails saying the file system is full and what to do, nothing of the dump kept (no partial
    folder, no manifest), the old data as it was. Returns the state the run left (its state file, read)."""
    name = hub["name"]
    before = untouched(hub)
    low = dict(settings or {}, hub_disk_dump_factor=0.0001)
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dumps, **{name: low}))
    assert rc != 0, out
    st = ansible_run.state(dumps, name)
    assert st["failed_step"] == 4, st
    message = st["steps"]["dump"]["message"]
    assert "is full" in message and "Free space or choose another dump directory" in message, message
    assert "the partial folder was removed" in message, message
    folder = os.path.join(dumps, name, "dump")
    assert not os.path.exists(os.path.join(folder, "manifest.json"))
    assert not [e for e in os.listdir(folder) if e.endswith(".partial")], os.listdir(folder)
    assert untouched(labhub.side(hub, "old")) == before  # the old database, in migration mode, as it was
    return st


def kill_the_database(hub):
    """The database as a failing node or an operator would take it: the Swarm task's container removed (docker rm -f,
    killed first), the Kubernetes pod deleted at once (no grace period). Returns what the message will name."""
    if hub["orchestration"] == "swarm":
        [container] = labhub.containers(hub, "postgres")
        labhub.run(["docker", "rm", "-f", container])
        return r"the database container \S+ was (removed|stopped)"
    pod = labhub.postgres_pod(hub)
    labhub.kubectl(hub, "delete", "pod", pod, "--grace-period=0", "--force", "--wait=false")
    # the API forgets the pod at once; its container (the lab's kubelet runs them on the Docker engine) must be gone
    # too before anything starts a database on the same data folder again, as a node's would be
    labhub.wait("the deleted pod's containers to end", lambda: not labhub.run(
        ["docker", "ps", "-q", "--filter", "label=io.kubernetes.pod.name=%s" % pod]).split(), timeout=120)
    return r"the database pod %s/%s was (deleted|stopped)" % (hub["namespace"], pod)


# What each tool's sessions run while it moves rows (the collection names all its sessions alike, PGAPPNAME)
COPYING = {"pg_dump": "COPY %% TO stdout%%", "pg_restore": "COPY %% FROM stdin%%"}


def tool_running(hub, proc, tool):
    """Whether the tool (pg_dump, pg_restore) copies rows on the hub's database now (pg_stat_activity)."""
    if proc.poll() is not None:
        return True
    try:
        return int(labhub.psql(hub, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%s'" % COPYING[tool],
                               db="postgres").strip() or 0) > 0
    except (labhub.LabError, ValueError):  # the database between two versions: not yet
        return False


def step_started(dumps, name, step):
    """Whether the run's state file says that the step runs now: read from the file, no process started (asking the
    database what runs is a docker or kubectl exec each time, too dear to ask five times a second for minutes)."""
    try:
        return ansible_run.state(dumps, name)["steps"].get(step, {}).get("status") == "started"
    except (IOError, OSError, ValueError, KeyError):
        return False


def kill_while(hub, proc, dumps, name, step, tool):
    """Kill the database once the step's tool runs; the run (proc, in the background) must fail at that step.
    Returns its message. The run is stopped if the test fails first: it never goes on beside the next one."""
    try:
        labhub.wait("step %s to start" % step, lambda: proc.poll() is not None or step_started(dumps, name, step),
                    timeout=600, interval=0.2)
        labhub.wait("%s to run" % tool, lambda: tool_running(hub, proc, tool), timeout=600, interval=0.2)
        assert proc.poll() is None, "the run ended before its %s could be caught running" % tool
        what = kill_the_database(hub)
        assert proc.wait(timeout=600) != 0
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    st = ansible_run.state(dumps, name)
    assert st["failed_step"] == {"dump": 4, "restore": 7}[step], st
    message = st["steps"][step]["message"]
    assert re.search(what, message), message
    return message
