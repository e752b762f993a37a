"""One run per hub, and every failure explained (issue: a lock, and the fault cases that still mislead).

On a Compose lab hub:
1. two runs on one hub: while a run migrates it, a second run - with the same dump folder, or another, or with
   hub_break_lock (the first is seen running) - refuses before doing anything and names who holds the lock; the
   first completes, verified; its state file is its own;
2. the hub migrated, a run with another dump folder changes nothing and says so (never takes a migrated Hub down);
3. a lock left by a run that is gone (this controller, its process ended) is taken over with a warning (check mode
   says it will be, and takes nothing); a lock held from another controller, or from another container of this host
   name, refuses, unless hub_break_lock; every run releases its lock at the end; an inventory that names the hub
   twice: one host holds the lock, the other stops before anything; the migrated new Hub then stopped, a run with a
   fresh dump folder and hub_rollback_on_failure: its restore refuses the other run's data, and it does not go back
   (the old Hub stays down, the new data as it was); rollback_hub with that inventory refuses as well, the database
   down, unless hub_rollback_beside_dump names that run's dump (check mode).
On another hub, still up, each refused before the Hub goes down, with its message, the old data unchanged:
4. a leftover second database container with the hub's labels (step 1 names both);
5. a bundle whose docker-compose.yml is not YAML (the file named);
6. a dump folder that is a file;
7. the drain before step 2: a job still running, hub_drain_on_timeout refuse - refused at step 2, the Hub still up;
   check mode says what runs and what the drain would do;
8. the drain waits: step 2 holds the Hub up while the job runs, goes on when it ends (the reporting transfer, which
   the migration restarts itself, is not waited for), and the report says what ran.
And the faults: the mounted dump folder's file system full mid-dump; a database container removed mid-dump, then
mid-restore (streamed and mounted), and the old one removed mid-stream (hub_transfer: stream), each resumed by the
next run and verified exact.
"""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

import ansible_run
import dbcheck
import kills
import labhub
from ansible_collections.blackduck.hub.plugins.module_utils import _lock

pytestmark = pytest.mark.usefixtures("docker_lab")

LOCK_DIR = labhub.LOCK_DIR  # the collection's default hub_lock_dir


def lock_file(hub):
    engine = labhub.run(["docker", "info", "--format", "{{.ID}}"]).strip()
    return _lock.lock_path(LOCK_DIR, "docker:%s/compose:%s" % (engine, hub["project"]))


def containers(hub):
    out = labhub.run(["docker", "ps", "-a", "--no-trunc", "--filter", "label=com.docker.compose.project=%s" % hub["project"],
                      "--format", "{{.ID}} {{.Names}} {{.State}}"])
    return sorted(out.splitlines())


start_playbook = ansible_run.playbook_in_background


def test_one_run_per_hub(lab_hubs, tmp_path):
    hub = lab_hubs("one-run", "compose", scale=2.0, seed=31)
    dumps_a, dumps_b = str(tmp_path / "a"), str(tmp_path / "b")
    inv_a = ansible_run.hub_inventory([hub], dumps_a)
    state_a = os.path.join(dumps_a, "one-run", "state.json")

    # 1. run A migrates; while it runs, B (same dump folder, then another) refuses and names A
    proc = start_playbook(inv_a, str(tmp_path))
    labhub.wait("run A to begin its steps", lambda: os.path.exists(state_a) or proc.poll() is not None, timeout=120)
    holder = _lock.read(lock_file(hub))[1]
    assert holder and holder["dump_dir"] == os.path.join(dumps_a, "one-run") and holder["pid"] == proc.pid
    # A is seen running on this controller: wait for it, or stop it - hub_break_lock (left on in group_vars, say) does
    # not take it over either
    for dumps, settings in ((dumps_a, {}), (dumps_b, {}), (dumps_b, {"hub_break_lock": True})):
        rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dumps, **{"one-run": settings}))
        assert rc != 0 and "another run is migrating this hub: a run by" in out, out
        assert "dump folder %s" % os.path.join(dumps_a, "one-run") in out
        assert "and its process %d still runs on this controller: hub_break_lock does not take over" % proc.pid in out
    assert not os.path.exists(os.path.join(dumps_b, "one-run"))  # B wrote nothing
    assert proc.wait(timeout=900) == 0, open(str(tmp_path / "run-a.log")).read()
    st = ansible_run.state(dumps_a, "one-run")
    assert st["steps"]["verify"]["status"] == "done" and "failed_step" not in st
    assert all("another run" not in (s.get("message") or "") for s in st["steps"].values())
    assert not os.path.exists(lock_file(hub))  # released at the end
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}

    # 2. migrated: a run with another dump folder changes nothing and says so; the Hub keeps running
    running = containers(hub)
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dumps_b))
    assert rc == 0 and recap["one-run"]["changed"] == 0, out
    assert "this hub was migrated by another run" in out and os.path.join(dumps_a, "one-run", "dump") in out
    assert "verified and started" in out and "This run changes nothing." in out
    assert containers(hub) == running
    assert not os.path.exists(os.path.join(dumps_b, "one-run", "state.json"))

    # 3. a lock of this controller whose run is gone: taken over with a warning, then released
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = lock_file(hub)
    stale = {"run": "gone", "controller": os.uname().nodename, "pid": dead.pid, "pid_start": "1",
             "dump_dir": "/somewhere/else", "user": "ops", "started": "2026-11-30T01:00:00Z"}
    with open(path, "w") as f:
        json.dump({"key": "x", "holder": stale}, f)
    rc, out, recap = ansible_run.playbook(inv_a, "--check")  # the plan says what a real run will do, and takes nothing
    assert rc == 0 and "a real run takes it over, with a warning - that run is gone (its process %d is gone" % (
        dead.pid) in out, out
    assert _lock.read(path)[1]["run"] == "gone"
    rc, out, recap = ansible_run.playbook(inv_a)
    assert rc == 0 and recap["one-run"]["changed"] == 0, out
    assert "took over the lock of docker:" in out and "its process %d is gone" % dead.pid in out
    assert not os.path.exists(path)
    # held by a run in another container of this host name (another PID namespace), whose process cannot be seen from
    # here: refused, as from another controller
    with open(path, "w") as f:
        json.dump({"key": "x", "holder": dict(stale, pid_ns="pid:[4026532999]")}, f)
    rc, out, recap = ansible_run.playbook(inv_a)
    assert rc != 0 and "It may still run: it runs in another PID namespace (pid:[4026532999]" in out, out
    assert _lock.read(path)[1]["pid_ns"] == "pid:[4026532999]"
    # held from another controller: refused, and nothing done, unless hub_break_lock
    with open(path, "w") as f:
        json.dump({"key": "x", "holder": dict(stale, controller="ctl-elsewhere")}, f)
    rc, out, recap = ansible_run.playbook(inv_a)
    assert rc != 0 and "It may still run: it runs on another controller (ctl-elsewhere)" in out, out
    assert _lock.read(path)[1]["controller"] == "ctl-elsewhere"
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dumps_a, **{"one-run": {"hub_break_lock": True}}))
    assert rc == 0 and "took over the lock" in out and "hub_break_lock is true" in out, out
    assert not os.path.exists(path)

    # 4. the inventory names the hub twice (a second host of the same run): one holds the lock, the other stops
    # before anything and says so - it does not take the first one's lock for its own
    twice = ansible_run.hub_inventory([hub], dumps_a)
    twice["all"]["hosts"]["one-run-twin"] = dict(twice["all"]["hosts"]["one-run"], hub_name="one-run")
    rc, out, recap = ansible_run.playbook(twice)
    assert rc != 0 and "the inventory names this hub twice: its host one-run" in out, out
    assert sorted(recap[h]["failed"] > 0 for h in ("one-run", "one-run-twin")) == [False, True], out
    assert "List each hub once in the inventory; nothing was done for one-run" in out
    assert not os.path.exists(path) and labhub.version_endpoint(hub) == {"version": labhub.NEW}

    # 5. the migrated new Hub stopped, so that a run with a fresh dump folder cannot see it was migrated: that run's
    # restore refuses the other run's data, and with hub_rollback_on_failure it does not go back (the old Hub would
    # start on older data beside it): the old Hub stays down, the new data as it was
    database = labhub.containers(hub, "postgres")
    labhub.run(["docker", "stop"] + [c for c in labhub.containers(hub) if c not in database])
    migrated = dbcheck.fingerprint(hub)  # nothing writes now
    labhub.run(["docker", "stop"] + database)
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory(
        [hub], str(tmp_path / "c"), **{"one-run": {"hub_rollback_on_failure": True}}))
    assert rc != 0 and "step 7 (restore)" in out and "by another run" in out, out
    assert "not rolled back: the new database holds Hub data that did not come from this run's dump" in out
    assert "with the inventory of the run that migrated it" in out and "rollback_hub to go back all the same" not in out
    assert "rolled back (hub_rollback_on_failure)" not in out and not labhub.containers(hub, "webapp")
    assert "rollback" not in ansible_run.state(str(tmp_path / "c"), "one-run")
    assert dbcheck.fingerprint(hub) == migrated  # read in the new migration containers step 6 started

    # 6. and rollback_hub with that inventory refuses too, though the database is down now (its marker unread): the
    # state recorded which migration the restore refused; only hub_rollback_beside_dump naming that dump lets it go back
    labhub.run(["docker", "stop"] + labhub.containers(hub))
    dump_a = ansible_run.state(dumps_a, "one-run")["steps"]["restore"]["data"]["dump_id"]
    assert ansible_run.state(str(tmp_path / "c"), "one-run")["steps"]["restore"]["data"]["other_data"]["dump_id"] == dump_a
    for settings in ({}, {"hub_rollback_beside_dump": True}):  # a switch left on is no answer
        rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], str(tmp_path / "c"), **{"one-run": settings}),
                                              name="blackduck.hub.rollback_hub")
        assert rc != 0 and "Going back from one-run's upgrade is refused: step 7 (restore) of this run found" in out, out
        assert "another run's migration (dump %s" % dump_a in out and "set hub_rollback_beside_dump: %s." % dump_a in out
    assert not labhub.containers(hub, "webapp") and "rollback" not in ansible_run.state(str(tmp_path / "c"), "one-run")
    assert not os.path.exists(lock_file(hub))  # released, and the report says why there is no way back with it
    with open(os.path.join(str(tmp_path / "c"), "one-run", "report.md")) as f:
        assert "| Going back | refused with this inventory - step 7 (restore) of this run found" in f.read()
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], str(tmp_path / "c"), **{"one-run": {
        "hub_rollback_beside_dump": dump_a}}), "--check", name="blackduck.hub.rollback_hub")
    assert rc == 0 and "is refused" not in out and "check mode, nothing done:" in out, out


def test_refusals_and_the_drain_before_the_hub_goes_down(lab_hubs, tmp_path):
    hub = lab_hubs("refuse-early", "compose", scale=0.5, seed=32)
    labhub.compose(hub, labhub.OLD, "docker-compose.yml", "stop", "webapp")  # so the data stands still
    before = dbcheck.fingerprint(hub)

    def up_and_unchanged():
        assert len(labhub.containers(hub, "postgres")) == 1
        assert dbcheck.fingerprint(hub) == before
        assert not os.path.exists(lock_file(hub))

    # 4. a leftover second database container of the old version, with the hub's labels
    labhub.run(["docker", "run", "-d", "--name", "refuse-early-leftover", "--label",
                "com.docker.compose.project=refuse-early", "blackducksoftware/hub-postgres:%s" % labhub.OLD])
    try:
        for check in (["--check"], []):
            rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], str(tmp_path)), *check)
            assert rc != 0 and "more than one database container of Hub %s runs in refuse-early" % labhub.OLD in out, out
            assert "refuse-early-leftover" in out and "refuse-early-postgres-1" in out and "hub_old_db_container" in out
            up_and_unchanged()
    finally:
        labhub.run(["docker", "rm", "-f", "-v", "refuse-early-leftover"], check=False)
    st = ansible_run.state(str(tmp_path), "refuse-early")
    assert st["failed_step"] == 1 and "stop_hub" not in st["steps"]  # refused at step 1, the Hub still up

    # 5. a new bundle whose docker-compose.yml is not YAML: the file is named
    broken = str(tmp_path / "broken-bundle")
    shutil.copytree(hub["bundles"][labhub.NEW], broken)
    with open(os.path.join(broken, "docker-compose", "docker-compose.yml"), "a") as f:
        f.write("\nservices: [not: yaml\n")
    inv = ansible_run.hub_inventory([hub], str(tmp_path), **{"refuse-early": {"hub_new_bundle": broken}})
    rc, out, recap = ansible_run.playbook(inv)
    assert rc != 0 and "%s/docker-compose/docker-compose.yml cannot be read as a Compose file: not a YAML" % broken in out, out
    up_and_unchanged()

    # 6. a dump folder that is a file
    a_file = str(tmp_path / "a-file")
    with open(a_file, "w") as f:
        f.write("x")
    inv = ansible_run.hub_inventory([hub], str(tmp_path), **{"refuse-early": {"hub_dump_dir": a_file}})
    rc, out, recap = ansible_run.playbook(inv)
    assert rc != 0 and "hub_dump_dir %s is a file, not a folder" % a_file in out, out
    up_and_unchanged()

    # 7. a scan still running: with hub_drain_on_timeout refuse, step 2 refuses, the Hub left up
    job = int(labhub.psql(hub, "INSERT INTO st.job_instances (id, job_type, status, created_at, started_at, node) "
                               "SELECT max(id) + 1, 'ScanJob', 'RUNNING', now() - interval '5 minutes', "
                               "now() - interval '5 minutes', 'jobrunner-lab' FROM st.job_instances RETURNING id;").split()[0])
    labhub.psql(hub, "UPDATE st.job_instances SET status = 'COMPLETED' WHERE status = 'RUNNING' AND id <> %d "
                     "AND job_type <> 'ReportingDatabaseTransferJob';" % job)
    assert labhub.psql(hub, "SELECT count(*) FROM st.job_instances WHERE status = 'RUNNING' "
                            "AND job_type = 'ReportingDatabaseTransferJob';").strip() != "0"  # ignored by the drain
    before = dbcheck.fingerprint(hub)
    refuse = {"refuse-early": {"hub_drain_timeout": 3, "hub_drain_on_timeout": "refuse"}}
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], str(tmp_path), **refuse), "--check")
    assert rc == 0, out
    assert re.search(r"drain: 1 job runs: ScanJob #%d on jobrunner-lab for 5m \d+s, would wait up to 3s for them, "
                     r"then refuse, the Hub left up; bring down " % job, out), out
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], str(tmp_path), **refuse))
    assert rc != 0 and "1 job runs: ScanJob #%d on jobrunner-lab" % job in out, out
    assert "the Hub was left up and serving (hub_drain_on_timeout is refuse)" in out
    assert "ReportingDatabaseTransferJob" not in out
    assert ansible_run.state(str(tmp_path), "refuse-early")["failed_step"] == 2
    assert len(labhub.containers(hub, "cfssl")) == 1
    up_and_unchanged()

    # 8. the drain waits: the Hub stays up while the scan runs, and goes down once it ends; step 2 completes (the
    # steps after it are every other test's)
    proc = start_playbook(ansible_run.hub_inventory([hub], str(tmp_path), **{"refuse-early": {"hub_drain_timeout": 600}}),
                          str(tmp_path), "--tags", "step1,step2")
    labhub.wait("step 2 to begin", lambda: kills.step_started(str(tmp_path), "refuse-early", "stop_hub")
                or proc.poll() is not None, timeout=300)
    labhub.wait("the drain's first look", lambda: proc.poll() is not None or "Drain | Wait until no job runs" in open(
        os.path.join(str(tmp_path), "run-a.log")).read(), timeout=60)
    time.sleep(3)
    assert proc.poll() is None and len(labhub.containers(hub, "postgres")) == 1  # held: the Hub still up
    assert len(labhub.containers(hub, "cfssl")) == 1
    labhub.psql(hub, "UPDATE st.job_instances SET status = 'COMPLETED', finished_at = now() WHERE id = %d;" % job)
    assert proc.wait(timeout=900) == 0, open(os.path.join(str(tmp_path), "run-a.log")).read()[-5000:]
    st = ansible_run.state(str(tmp_path), "refuse-early")
    assert st["steps"]["stop_hub"]["status"] == "done" and "dump" not in st["steps"]
    data = st["steps"]["stop_hub"]["data"]
    assert [j["id"] for j in data["jobs_running_before"]] == [job] and data["jobs_cut_off"] == []
    assert int(data["drain_waited"]) >= 3
    with open(os.path.join(str(tmp_path), "refuse-early", "report.md")) as f:
        report = f.read()
    assert "1 job(s) ran; step 2 waited %ss until they had ended: none was cut off." % data["drain_waited"] in report


def remove_the_database_while(hub, name, proc, dumps, step, running):
    """Once running() says the step's work runs, the hub's database container removed (docker rm -f: killed first,
    then removed); the run must fail at that step: its message."""
    labhub.wait("the %s to run" % step, running, timeout=600, interval=0.1)
    assert proc.poll() is None, "the run ended before its %s could be caught running" % step
    labhub.run(["docker", "rm", "-f"] + labhub.containers(hub, "postgres"))
    assert proc.wait(timeout=600) != 0
    st = ansible_run.state(dumps, name)
    message = st["steps"][step]["message"]
    assert st["failed_step"] == {"dump": 4, "restore": 7}[step], message
    return message


@pytest.mark.parametrize("mount", [False, "auto"], ids=["streamed", "mounted"])
def test_database_container_removed_mid_dump_then_mid_restore(lab_hubs, tmp_path, mount, request):
    """The old database container removed while the dump runs - streamed out of it through docker exec, or written
    by pg_dump --jobs inside it into the mounted dump folder (the default): the step fails saying what happened
    (never an empty reason), the old data is unchanged, nothing of the dump is kept. The rerun's new database
    container removed while the restore reads the dump (streamed in, or pg_restore --jobs on the mounted folder):
    step 7 fails saying so, the dump untouched and root's again. A third run restores over its own interrupted
    restore and completes, exact. With the mounted folder, before all that, the folder's file system fills while
    pg_dump writes there (kills.fill_the_dump_folder), then grows."""
    name = "mid-dump-m" if mount else "mid-dump"
    hub = lab_hubs(name, "compose", scale=120.0, seed=33)
    expected = dbcheck.counts(hub, "bds_hub")["st.project"]
    dumps = str(tmp_path)
    folder = os.path.join(dumps, name, "dump")
    inv = ansible_run.hub_inventory([hub], dumps, **{name: {"hub_dump_mount": mount}})
    if mount:
        faults = contextlib.ExitStack()
        request.addfinalizer(faults.close)
        grow = faults.enter_context(kills.small_dump_filesystem(os.path.join(dumps, name)))
        kills.fill_the_dump_folder(hub, dumps, {"hub_dump_mount": mount})
        grow("2g")
    proc = start_playbook(inv, str(tmp_path))

    def dumping():
        try:
            if mount:  # pg_dump writes bds_hub's files into its partial folder itself
                return any(os.listdir(os.path.join(folder, e)) for e in os.listdir(folder) if e.endswith(".partial"))
            with open(os.path.join(folder, "progress.json")) as f:
                return json.load(f).get("bytes", 0) > 0
        except (IOError, OSError, ValueError):
            return proc.poll() is not None

    message = remove_the_database_while(hub, name, proc, dumps, "dump", dumping)
    assert re.search(r"stopped because the database container %s-postgres-1 was (removed|stopped) while it ran"
                     % name, message), message  # docker rm -f: killed first, then removed
    assert "run again" in message
    assert not os.path.exists(os.path.join(folder, "manifest.json"))
    assert not [e for e in os.listdir(folder) if e.endswith(".partial")]

    proc = start_playbook(inv, str(tmp_path))  # step 3 brings the old database back; the dump is made anew

    def restoring():  # pg_restore runs in the new database container (docker exec, as docker top shows)
        if proc.poll() is not None:
            return True
        if not kills.step_started(dumps, name, "restore"):
            return False
        db = labhub.containers(hub, "postgres")
        return bool(db) and "pg_restore" in labhub.run(["docker", "top", db[0]], check=False)

    message = remove_the_database_while(hub, name, proc, dumps, "restore", restoring)
    assert re.search(r"(?s)the restore stopped because the database container %s-postgres-1 was (removed|stopped) while "
                     r"it ran \(.+\)\. The dump is untouched" % name, message), message
    assert os.path.exists(os.path.join(folder, "manifest.json"))
    for top, dirs, files in os.walk(folder):  # a folder lent to the container's postgres user is given back
        for entry in dirs + files:
            assert os.stat(os.path.join(top, entry)).st_uid == 0, os.path.join(top, entry)

    rc, out, recap = ansible_run.playbook(inv)  # step 6 starts the new database again
    assert rc == 0, out
    assert dbcheck.counts(hub, "bds_hub")["st.project"] == expected
    st = ansible_run.state(dumps, name)
    assert st["steps"]["verify"]["status"] == "done"
    assert st["steps"]["restore"]["data"]["verification"]["bds_hub"]["differences"] == []
    with open(os.path.join(folder, "manifest.json")) as f:
        formats = set(d["format"] for d in json.load(f)["databases"].values())
    assert formats == {"directory" if mount else "custom"}


def test_old_database_removed_mid_stream_then_the_stream_resumes(lab_hubs, tmp_path):
    """hub_transfer: stream between two Compose hubs: the old database runs apart (its own project, on the old data)
    beside the new one; removed while its pg_dump feeds the new database, step 4 fails saying so, the old data
    unchanged, no dump file anywhere. Step 3 again, then with a dump (hub_transfer: file): the old data is only ever
    used by one database (the apart one goes down first), and back. The rerun's step 3 brings the old database back
    apart (the one under the hub's project down first) and step 4 streams again over its own interrupted stream (same
    record), then verified exact, nothing left of the apart project."""
    name = "mid-stream"
    hub = lab_hubs(name, "compose", scale=120.0, seed=34)
    apart = dict(hub, project=labhub.apart_project(hub))
    expected = dbcheck.counts(hub, "bds_hub")["st.project"]
    dumps = str(tmp_path)
    folder = os.path.join(dumps, name, "dump")
    inv = ansible_run.hub_inventory([hub], dumps, **{name: {"hub_transfer": "stream"}})
    # something else under the project name the old database would run apart under: refused before anything is done
    foreign = labhub.run(["docker", "create", "--label", "com.docker.compose.project=" + apart["project"],
                          "blackducksoftware/hub-cfssl:" + labhub.OLD]).strip()
    try:
        rc, out, recap = ansible_run.playbook(inv, "--check")
        assert rc != 0 and re.search(r"The Compose project %s, where the old database of %s runs apart for hub_transfer "
                                     r"stream, holds containers that are not this hub's" % (apart["project"], name), out), out
    finally:
        labhub.run(["docker", "rm", "-f", foreign])
    proc = start_playbook(inv, str(tmp_path))

    def streaming():
        """pg_dump of a database runs in the old container - not pg_dumpall of the roles, nor the pg_dump --version
        the record asks first (the container removed then, the run failed reading the roles, before any stream)."""
        if proc.poll() is not None:
            return True
        if not kills.step_started(dumps, name, "dump"):  # a file read; docker top only once step 4 runs
            return False
        db = labhub.containers(apart, "postgres")
        return bool(db) and re.search(r"\bpg_dump\s.*\b(bds_hub|bds_hub_report|bdio)\b",
                                      labhub.run(["docker", "top", db[0]], check=False)) is not None

    message = remove_the_database_while(apart, name, proc, dumps, "dump", streaming)
    assert re.search(r"(?s)the stream of \w+ stopped because the database container %s-postgres-1 was (removed|stopped) "
                     r"while it ran \(.+\)\. The old data is untouched" % apart["project"], message), message
    record = json.load(open(os.path.join(folder, "manifest.json")))
    assert record["options"]["format"] == "stream" and os.listdir(folder) == ["manifest.json"]
    incomplete = labhub.psql(hub, "SELECT count(*) FROM pg_database WHERE shobj_description(oid, 'pg_database') "
                                  "LIKE '%\"complete\": false%'", db="postgres").strip()  # the new one, the hub's project
    assert int(incomplete) > 0  # what was streamed is marked as not complete

    # The old data is never used by two databases: step 3 again (apart, the stream's way), then with a dump
    # (hub_transfer: file) - the old database apart goes down first and runs under the hub's project instead
    old_volume = "%s_%s" % (hub["project"], labhub.render.data_volume(labhub.OLD))

    def old_data_users():
        return labhub.run(["docker", "ps", "-a", "-q", "--no-trunc", "--filter", "volume=" + old_volume]).split()

    rc, out, recap = ansible_run.playbook(inv, "--tags", "step3")
    assert rc == 0, out
    assert old_data_users() == labhub.containers(apart, "postgres") and len(old_data_users()) == 1
    file_inv = ansible_run.hub_inventory([hub], dumps, **{name: {"hub_transfer": "file"}})
    rc, out, recap = ansible_run.playbook(file_inv, "--tags", "step3")
    assert rc == 0, out
    assert labhub.containers(apart, all_states=True) == []
    assert old_data_users() == labhub.containers(hub, "postgres") and len(old_data_users()) == 1

    rc, out, recap = ansible_run.playbook(inv)  # step 3 brings the old database apart again; step 4 streams again
    assert rc == 0, out
    st = ansible_run.state(dumps, name)
    assert st["steps"]["dump"]["data"]["dump_id"] == record["dump_id"]  # the same record, resumed
    final = json.load(open(os.path.join(folder, "manifest.json")))  # each stream's bytes, from whichever run made it
    assert all(d["bytes"] > 0 for d in final["databases"].values()), final["databases"]
    for db, v in st["steps"]["restore"]["data"]["verification"].items():
        assert v["differences"] == [] and v["tables"], db
    assert dbcheck.counts(hub, "bds_hub")["st.project"] == expected  # (the Hub writes its heartbeats)
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    assert os.listdir(folder) == ["manifest.json"]
    assert labhub.containers(apart, all_states=True) == []  # step 5 brought it down, its own volume removed
    assert old_data_users() == []
    assert labhub.run(["docker", "volume", "ls", "-q", "--filter",
                       "label=com.docker.compose.project=" + apart["project"]]).split() == []
