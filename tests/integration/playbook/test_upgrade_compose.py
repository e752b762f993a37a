"""ansible-playbook blackduck.hub.upgrade_hub on Compose lab hubs: the eleven steps end to end on a real engine.

Scenarios (issue: upgrade_hub playbook and the Compose role):
1. old hub -> playbook -> new hub on the newer major, version endpoint new, exact verification for all three
   databases, checked independently (old data before the dump == new data before the Hub starts, apart from the
   documented fixups); the old volume is still there. Check mode first, on the fresh old hub, changes nothing; the
   data moves through the dump folder mounted into the containers (hub_dump_mount's default): a directory-format dump
   written by pg_dump --jobs inside the old container, read by pg_restore --jobs inside the new one, root's files 0600
   in 0700 folders. A step chosen out of its order (--tags step6 before any dump) runs nothing.
2. a rerun changes nothing; going back (rollback_hub): check mode says what it would do and changes nothing; going
   back that does not end blocks the upgrade (the old Hub may serve again) until a rollback ends; the
   rollback brings the old version back on its untouched data (exactly as dumped, apart from the rows the old Hub
   writes again), the new data kept; a second rollback changes nothing; an upgrade run then starts from step 1 with a
   new dump, replacing the rolled-back attempt's data: asked at a wrong hub_url it fails at step 10, and a rerun with
   hub_rollback_on_failure fails there too without going back (an earlier run started the new Hub), and so does one
   after a run killed during step 9 (it begins step 9 again itself); the next completes.
   (The wrong hub_url answers at once with a version no Hub has, so that these runs fail at the check of the version,
   not after the 30 s of asking a Hub that does not answer.)
3. hub_remove_old_data removes the old volume, and only then; going back is then refused, nothing changed.
4. a fleet of five with one failing at the dump and one at step 9 with hub_rollback_on_failure: the first
   completes; the one failing at the dump keeps its data intact, and a rerun after the fix completes it from where it
   stopped; the one failing at step 9 goes back to its old version (the cause named), and the rerun completes it
   from step 1. In the same runs, the new version started without migrating (empty): the data arrives; started and
   used, it holds Hub data: step 1 refuses it while it serves, and the way docs/compose.md gives, run as written,
   completes the upgrade.
"""
import json
import os

import pytest

import ansible_run
import dbcheck
import hubgen
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")

SCALE = 2.0


state = ansible_run.state


def volumes(project):
    return set(labhub.run(["docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=%s" % project]).split())


def containers_snapshot(hub):
    out = labhub.run(["docker", "ps", "-a", "--no-trunc", "--filter", "label=com.docker.compose.project=%s" % hub["project"],
                      "--format", "{{.ID}} {{.Names}} {{.State}}"])
    return sorted(out.splitlines())


def test_end_to_end_rerun_and_removal(lab_hubs, tmp_path, wrong_hub):
    hub = lab_hubs("pb-e2e", "compose", scale=SCALE, seed=5)
    dump_root = str(tmp_path)
    inv = ansible_run.hub_inventory([hub], dump_root)
    old_volume, new_volume = "pb-e2e_data-volume", "pb-e2e_postgres96-data-volume"

    # check mode on the fresh old hub: the plan, and nothing changed - no container, volume, row or folder
    labhub.compose(hub, labhub.OLD, "docker-compose.yml", "stop", "webapp")  # so the data stands still
    snapshot = (containers_snapshot(hub), volumes("pb-e2e"), dbcheck.fingerprint(hub))
    rc, out, recap = ansible_run.playbook(inv, "--check")
    assert rc == 0 and recap["pb-e2e"]["changed"] == 0, out
    assert "step 4 dump: dump bds_hub, bds_hub_report, bdio and the roles into %s/pb-e2e/dump" % dump_root in out
    assert "(directory format: pg_dump --jobs 2 inside the old container, the folder mounted there)" in out
    assert "needs" in out and "free" in out  # the disk figures
    assert "going back: this run's upgrade never took the Hub down" in out
    assert (containers_snapshot(hub), volumes("pb-e2e"), dbcheck.fingerprint(hub)) == snapshot
    assert not os.path.exists(os.path.join(dump_root, "pb-e2e"))
    labhub.compose(hub, labhub.OLD, "docker-compose.yml", "start", "webapp")  # the real run takes a live Hub down
    labhub.wait("the old webapp", lambda: labhub.version_endpoint(hub) == {"version": labhub.OLD}, timeout=60)

    # a step chosen out of its order (--tags step6: the new version's database, before any dump) runs nothing - the
    # step table's prerequisites, not the tags, decide: no step recorded, no container or volume changed
    snapshot = (containers_snapshot(hub), volumes("pb-e2e"))
    rc, out, recap = ansible_run.playbook(inv, "--tags", "step6")
    assert rc == 0 and "Record the start of step" not in out, out  # (its first report is written: a change)
    assert not os.path.exists(os.path.join(dump_root, "pb-e2e", "state.json")) or not state(dump_root, "pb-e2e")["steps"]
    assert (containers_snapshot(hub), volumes("pb-e2e")) == snapshot
    assert labhub.version_endpoint(hub) == {"version": labhub.OLD}

    # steps 1-4 (tags), then the old database is read independently while its migration containers run
    rc, out, recap = ansible_run.playbook(inv, "--tags", "step1,step2,step3,step4")
    assert rc == 0, out
    assert "[pb-e2e] Step 4 dump: started (job " in out and "[pb-e2e] Step 4 dump: done after " in out  # watched
    running = [c.split()[1] for c in containers_snapshot(hub) if c.endswith(" running")]
    assert sorted(running) == ["pb-e2e-cfssl-1", "pb-e2e-logstash-1", "pb-e2e-postgres-1"]  # migration mode only
    before = dbcheck.fingerprint_without_fixups(hub)
    high_mark = dbcheck.heartbeat_high_mark(hub)  # the old Hub is down: nothing writes now
    assert before["bds_hub"]["counts"]["st.project"] == hubgen.expected_row_counts(SCALE, 5)["bds_hub"]["st.project"]

    # steps 5-7: restored into the new major and verified; read the new database before any Hub process starts
    rc, out, recap = ansible_run.playbook(inv, "--tags", "step5,step6,step7")
    assert rc == 0, out
    assert "[pb-e2e] Step 7 restore: done after " in out
    assert not os.path.exists(os.path.join(dump_root, "pb-e2e", "restore-progress.json"))  # removed when done
    assert int(labhub.psql(hub, "SHOW server_version_num", db="postgres")) // 10000 == int(labhub.VERSIONS["PG_NEW_MAJOR"])
    after = dbcheck.fingerprint_without_fixups(hub)
    assert after == before
    active = labhub.psql(hub, "SELECT count(*) FROM st.job_instances WHERE job_type = 'ReportingDatabaseTransferJob' "
                              "AND status IN ('SCHEDULED', 'DISPATCHED', 'RUNNING')").strip()
    assert active == "0"

    # the rest: the run resumes at step 8
    rc, out, recap = ansible_run.playbook(inv)
    assert rc == 0, out
    st = state(dump_root, "pb-e2e")
    assert [s for s, v in sorted(st["steps"].items(), key=lambda kv: kv[1]["number"]) if v["status"] == "done"] == [
        "disk_space", "stop_hub", "start_old_migration", "dump", "stop_old_migration", "start_new_migration", "restore",
        "stop_new_migration", "start_hub", "verify"]
    verification = st["steps"]["restore"]["data"]["verification"]
    assert sorted(verification) == ["bdio", "bds_hub", "bds_hub_report"]
    for db, v in verification.items():
        assert v["differences"] == [], db
        assert v["tables"] and all(t["status"].startswith("ok") for t in v["tables"]), db
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    assert {old_volume, new_volume} <= volumes("pb-e2e")  # the old data is kept
    report = open(os.path.join(dump_root, "pb-e2e", "report.md")).read()
    assert "| 10 | verify | done |" in report and "docker volume rm %s" % old_volume in report
    # the runs' logs: every database tool the modules ran, with its stderr, mode 0600, no password
    logs = sorted(os.listdir(os.path.join(dump_root, "pb-e2e", "logs")))
    assert len(logs) == 3 and all(name.startswith("run-") and name.endswith(".log") for name in logs)
    text = "".join(open(os.path.join(dump_root, "pb-e2e", "logs", name)).read() for name in logs)
    assert " pg_dump " in text and " pg_restore " in text and " psql " in text and "  exit 0  " in text
    assert all(os.stat(os.path.join(dump_root, "pb-e2e", "logs", n)).st_mode & 0o777 == 0o600 for n in logs)
    assert "PASSWORD" not in text.upper().replace("PGPASSFILE", "")
    report_json = json.load(open(os.path.join(dump_root, "pb-e2e", "report.json")))
    assert report_json["facts"]["new_version"] == labhub.NEW
    # the data went through the dump folder mounted into the old, then the new postgres container (an override file
    # beside it, the bundles untouched): pg_dump --jobs wrote a directory per database inside the old one, pg_restore
    # --jobs read it inside the new one; the files root's, 0600 in 0700 folders
    dump_dir = os.path.join(dump_root, "pb-e2e", "dump")
    with open(os.path.join(dump_dir, "manifest.json")) as f:
        manifest = json.load(f)
    assert {db: d["format"] for db, d in manifest["databases"].items()} == dict.fromkeys(
        ("bds_hub", "bds_hub_report", "bdio"), "directory")
    for root, dirs, files in os.walk(dump_dir):
        assert (os.stat(root).st_uid, os.stat(root).st_mode & 0o777) == (0, 0o700), root
        for name in files:
            mode = os.stat(os.path.join(root, name))
            assert (mode.st_uid, mode.st_mode & 0o777) == (0, 0o600), (root, name)
    with open(os.path.join(dump_root, "pb-e2e", "compose-dump-mount.yml")) as f:
        assert "%s:/blackduck-hub-dump" % dump_dir in f.read()
    for version in (labhub.OLD, labhub.NEW):
        assert "blackduck-hub-dump" not in open(labhub.bundle_file(hub, version, "compose", "docker-compose.dbmigrate.yml")).read()
    dumps = [line for line in text.splitlines() if " pg_dump " in line and "--format directory" in line]
    restores = [line for line in text.splitlines() if " pg_restore " in line and "--jobs 2" in line]
    assert len(dumps) == 3 and all(" exec -u postgres " in line and "--file /blackduck-hub-dump/" in line for line in dumps)
    assert len(restores) == 3 and all(" /blackduck-hub-dump/" in line for line in restores)

    # 2: a rerun changes nothing
    rc, out, recap = ansible_run.playbook(inv)
    assert rc == 0 and recap["pb-e2e"]["changed"] == 0 and recap["pb-e2e"]["failed"] == 0, out

    # going back: check mode says what it would do, and does nothing
    rc, out, recap = ansible_run.playbook(inv, "--check", name="blackduck.hub.rollback_hub")
    assert rc == 0 and recap["pb-e2e"]["changed"] == 0, out
    assert "check mode, nothing done: pb-e2e: the old data is untouched" in out and "start %s in full" % labhub.OLD in out
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    # going back that does not end (here: the old Hub starts, but is asked at a wrong hub_url, where something else
    # answers) leaves the old Hub serving while the state still records the upgrade's steps: the upgrade refuses until
    # a rollback ends, and changes nothing
    wrong_url = ansible_run.hub_inventory([hub], dump_root, **{"pb-e2e": {"hub_url": wrong_hub}})
    rc, out, recap = ansible_run.playbook(wrong_url, name="blackduck.hub.rollback_hub")
    assert rc != 0 and "Going back to %s failed for pb-e2e" % labhub.OLD in out, out
    assert "the Hub at %s reports version 0.0.0, expected %s" % (wrong_hub, labhub.OLD) in out, out
    half = state(dump_root, "pb-e2e")
    assert half["rollback"]["status"] == "failed" and half["steps"] == st["steps"]
    assert labhub.version_endpoint(hub) == {"version": labhub.OLD}  # the old Hub serves again, and may write
    rc, out, recap = ansible_run.playbook(inv)
    assert rc != 0 and recap["pb-e2e"]["changed"] == 0, out
    assert "The upgrade of pb-e2e cannot go on: going back to the old version began" in out, out
    assert "run blackduck.hub.rollback_hub again until it ends" in out
    assert state(dump_root, "pb-e2e") == half and labhub.version_endpoint(hub) == {"version": labhub.OLD}
    # the rollback: the old version serves again, on its data exactly as dumped; the new data is kept
    rc, out, recap = ansible_run.playbook(inv, name="blackduck.hub.rollback_hub")
    assert rc == 0 and recap["pb-e2e"]["changed"] > 0, out
    assert labhub.version_endpoint(hub) == {"version": labhub.OLD}
    assert dbcheck.fingerprint_up_to(hub, high_mark) == before
    assert {old_volume, new_volume} <= volumes("pb-e2e")
    rolled = state(dump_root, "pb-e2e")
    assert rolled["status"] == "rolled back" and rolled["steps"] == {} and rolled["rollback"]["old_version"] == labhub.OLD
    attempt = rolled["attempts"][0]
    assert attempt["steps"]["verify"]["status"] == "done" and attempt["dump_id"] == st["steps"]["dump"]["data"]["dump_id"]
    assert os.path.isfile(os.path.join(attempt["dump_dir"], "manifest.json"))  # the attempt's dump, moved aside
    assert not os.path.exists(os.path.join(dump_root, "pb-e2e", "dump"))
    report = open(os.path.join(dump_root, "pb-e2e", "report.md")).read()
    assert "## Rolled back" in report and attempt["dump_dir"] in report
    # a second rollback changes nothing
    rc, out, recap = ansible_run.playbook(inv, name="blackduck.hub.rollback_hub")
    assert rc == 0 and recap["pb-e2e"]["changed"] == 0, out
    assert "The old Hub %s answers already" % labhub.OLD in out
    # an upgrade run afterwards starts at step 1 with a new dump, holding what the old Hub wrote since. Asked at a
    # wrong hub_url, it fails at step 10, the new Hub started; a rerun with hub_rollback_on_failure fails there again
    # and does not go back: an earlier run started the new Hub, which may have served since. The next run completes.
    labhub.psql(hub, "INSERT INTO st.hub_heartbeat (source) VALUES ('after the rollback')")
    rc, out, recap = ansible_run.playbook(wrong_url)
    assert rc != 0 and "step 10 (verify)" in out, out
    assert "reports version 0.0.0, expected %s: the new Hub does not serve the new version" % labhub.NEW in out, out
    assert state(dump_root, "pb-e2e")["steps"]["verify"]["status"] == "failed"
    wrong_url["all"]["hosts"]["pb-e2e"]["hub_rollback_on_failure"] = True
    rc, out, recap = ansible_run.playbook(wrong_url)
    assert rc != 0 and "step 10 (verify)" in out and "rolled back (hub_rollback_on_failure)" not in out, out
    assert "not rolled back: the new Hub started in an earlier run and may have served since" in out
    late = state(dump_root, "pb-e2e")
    assert late["steps"]["start_hub"]["status"] == "done" and late["steps"]["verify"]["status"] == "failed"
    assert late["rollback"] == rolled["rollback"] and len(late["attempts"]) == 1  # no new rollback
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    # a run killed during step 9 left it started (its record, as a kill leaves it): a rerun begins step 9 again
    # itself, and still does not go back when step 10 fails - the new Hub came up, and may have served, before it
    path = os.path.join(dump_root, "pb-e2e", "state.json")
    killed = dict(late, steps=dict(late["steps"], start_hub={"status": "started",
                                                             "started": late["steps"]["start_hub"]["started"]}))
    with open(path, "w") as f:
        json.dump(killed, f)
    rc, out, recap = ansible_run.playbook(wrong_url)
    assert rc != 0 and "step 10 (verify)" in out and "rolled back (hub_rollback_on_failure)" not in out, out
    assert "not rolled back: an earlier run began step 9 (the new Hub's start, on %s) and left it started" % (
        late["steps"]["start_hub"]["started"]) in out
    again = state(dump_root, "pb-e2e")
    assert again["steps"]["start_hub"]["status"] == "done" and again["steps"]["verify"]["status"] == "failed"
    assert again["rollback"] == rolled["rollback"] and len(again["attempts"]) == 1  # no new rollback
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    rc, out, recap = ansible_run.playbook(inv)
    assert rc == 0, out
    st = state(dump_root, "pb-e2e")
    assert st["steps"]["verify"]["status"] == "done" and len(st["attempts"]) == 1
    assert st["steps"]["dump"]["data"]["dump_id"] != attempt["dump_id"]
    assert sorted(st["steps"]["restore"]["data"]["replaced_empty_hub"]) == ["bdio", "bds_hub", "bds_hub_report"]
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    assert labhub.psql(hub, "SELECT count(*) FROM st.hub_heartbeat WHERE source = 'after the rollback'").strip() == "1"

    # 3: the old volume goes only when asked
    assert old_volume in volumes("pb-e2e")
    inv_remove = ansible_run.hub_inventory([hub], dump_root, **{"pb-e2e": {"hub_remove_old_data": True}})
    rc, out, recap = ansible_run.playbook(inv_remove)
    assert rc == 0, out
    assert old_volume not in volumes("pb-e2e") and new_volume in volumes("pb-e2e")
    assert state(dump_root, "pb-e2e")["steps"]["remove_old_data"]["status"] == "done"
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    rc, out, recap = ansible_run.playbook(inv_remove)
    assert rc == 0 and recap["pb-e2e"]["changed"] == 0, out
    # no way back once the old data is gone: refused, nothing changed
    rc, out, recap = ansible_run.playbook(inv_remove, name="blackduck.hub.rollback_hub")
    assert rc != 0 and recap["pb-e2e"]["changed"] == 0, out
    assert "There is no way back for pb-e2e: step 11 removed the old data" in out
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW} and new_volume in volumes("pb-e2e")


def new_version_started_empty(hub):
    """The vendor's warning: the new version started on its new, empty volume (the old Hub down first)."""
    labhub.compose(hub, labhub.OLD, "docker-compose.yml", "down", "-t", "5")
    labhub.compose(hub, labhub.NEW, "docker-compose.yml", "up", "-d", "--pull", "never", "--wait", "--wait-timeout", "240")


def ssh_logins():
    """How many times the lab's sshd (tests/lab/ssh.sh) has let bdlab-admin in."""
    with open(os.path.join(labhub.LAB_HOME, "ssh", "sshd.log")) as f:
        return sum(1 for line in f if "Accepted publickey for bdlab-admin " in line)


def test_fleet_with_one_failure_then_resume(lab_hubs, tmp_path):
    """Five hubs in one run (ansible's default forks): a completes; c fails at the dump and b at step 9 (going back
    by itself); pb-empty had its new version started without migrating (empty, and running), and completes; pb-refuse's
    new version was started, then used (it holds Hub data), and runs: step 1 refuses it before anything is taken down,
    the new Hub serving on. The causes fixed - for pb-refuse the way docs/compose.md gives, run as written - the next
    run completes each from where it should. Hub a's host is reached as most teams reach theirs: over SSH, as a user
    that becomes root with sudo (the others: local)."""
    hubs = [lab_hubs("pb-fleet-%s" % x, "compose", scale=0.5, seed=i) for i, x in enumerate("abc")]
    empty, refuse = lab_hubs("pb-empty", "compose", scale=0.5, seed=4), lab_hubs("pb-refuse", "compose", scale=0.5, seed=6)
    dump_root = str(tmp_path)
    new_version_started_empty(empty)
    assert labhub.psql(empty, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'st'").strip() == "1"
    new_version_started_empty(refuse)
    labhub.psql(refuse, "CREATE TABLE st.project (id int); INSERT INTO st.project VALUES (1);")  # now it holds a project
    # hub c fails at the dump: a compression its old pg_dump does not have
    bad = {"pb-fleet-c": {"hub_dump_compression": "lz4"}, "pb-fleet-b": {"hub_rollback_on_failure": True},
           "pb-fleet-a": ansible_run.OVER_SSH}
    # hub b fails at step 9, going back by itself: its new webapp never gets healthy - its health check prints a
    # setting with a password, which the failure's "What runs" says hidden
    b_file = labhub.bundle_file(hubs[1], labhub.NEW, "compose", "docker-compose.yml")
    b_text = open(b_file).read()
    head, webapp = b_text.split("\n  webapp:\n", 1)
    sick = webapp.replace("test: [CMD, /usr/local/bin/docker-healthcheck.sh]",
                          "test: [CMD, sh, -c, 'echo HUB_PROXY_PASSWORD=pr0xy-in-health; false']", 1)
    assert sick != webapp and "retries: 5" in sick
    with open(b_file, "w") as f:
        f.write(head + "\n  webapp:\n" + sick.replace("retries: 5", "retries: 1", 1))
    logins = ssh_logins()
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory(hubs + [empty, refuse], dump_root, **bad))
    assert rc != 0
    assert ssh_logins() > logins, out  # hub a: its tasks ran over SSH, and (its files are root's) as root
    # pb-empty: the data arrives into the new version's empty databases
    expected = hubgen.expected_row_counts(0.5, 4)["bds_hub"]
    got = dbcheck.counts(empty, "bds_hub")
    assert got["st.project"] == expected["st.project"] and got["st.bom_entry"] == expected["st.bom_entry"]
    assert state(dump_root, "pb-empty")["steps"]["restore"]["data"]["replaced_empty_hub"] == [
        "bdio", "bds_hub", "bds_hub_report"]
    assert labhub.version_endpoint(empty) == {"version": labhub.NEW}
    assert "holds an empty Hub" in state(dump_root, "pb-empty")["steps"]["disk_space"]["message"]  # step 1's gate let it be
    # pb-refuse: stopped at step 1 with its cause named, before anything was taken down: the new Hub serves on with
    # what it was given, the old data safe (a used new Hub that was not running: step 7 refuses it, the Swarm case in
    # test_upgrade_swarm)
    assert "pb-refuse: FAILED at step 1 (disk_space): " in out, out
    assert "holds the data of a Hub in use (st.project has 1 rows) that no migration put there" in out, out
    st = state(dump_root, "pb-refuse")
    assert st["failed_step"] == 1 and "st.project has 1 rows" in st["steps"]["disk_space"]["message"]
    assert sorted(st["steps"]) == ["disk_space"]
    assert labhub.version_endpoint(refuse) == {"version": labhub.NEW}
    assert labhub.psql(refuse, "SELECT count(*) FROM st.project").strip() == "1"
    assert "pb-refuse_data-volume" in volumes("pb-refuse")
    assert "pb-fleet-c: FAILED at step 4 (dump)" in out
    assert state(dump_root, "pb-fleet-a")["steps"]["verify"]["status"] == "done"
    assert labhub.version_endpoint(hubs[0]) == {"version": labhub.NEW}
    assert os.stat(os.path.join(dump_root, "pb-fleet-a", "state.json")).st_uid == 0
    with open(os.path.join(dump_root, "fleet", "pb-fleet-a", "report.md")) as f:  # fetched over SSH, read as root
        assert "pb-fleet-a" in f.read()
    # b: the original cause named, and the old Hub serves again on its untouched old data
    assert "pb-fleet-b: FAILED at step 9 (start_hub): " in out and "unhealthy" in out, out
    assert "its health check said: HUB_PROXY_PASSWORD=(not shown)" in out and "pr0xy-in-health" not in out, out
    assert "rolled back (hub_rollback_on_failure): the old Hub %s serves again" % labhub.OLD in out
    assert labhub.version_endpoint(hubs[1]) == {"version": labhub.OLD}
    b_state = state(dump_root, "pb-fleet-b")
    assert b_state["status"] == "rolled back" and b_state["attempts"][0]["failed_step"] == 9
    assert b_state["rollback"]["failed_step"] == 9 and b_state["rollback"]["status"] == "done"
    with open(b_file, "w") as f:
        f.write(b_text)
    failed = state(dump_root, "pb-fleet-c")
    assert failed["failed_step"] == 4 and "pg_dump 16" in failed["steps"]["dump"]["message"]
    c = hubs[2]
    assert labhub.containers(c, "postgres") and "pb-fleet-c_postgres96-data-volume" not in volumes("pb-fleet-c")
    intact = dbcheck.fingerprint(c)  # the old data, untouched (its migration containers still run)
    assert intact["bds_hub"]["counts"]["st.project"] == hubgen.expected_row_counts(0.5, 2)["bds_hub"]["st.project"]
    started_before = {k: v["started"] for k, v in failed["steps"].items() if v["status"] == "done"}
    assert sorted(started_before) == ["disk_space", "start_old_migration", "stop_hub"]

    # pb-refuse: the way on docs/compose.md gives (the data entered in the new Hub may go), run as written, from
    # another folder
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "compose.md")) as f:
        page = f.read()
    block = page.split("remove the new volume and run again:", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands[0].startswith("docker compose") and commands[1].startswith("docker volume rm")
    assert commands[2].startswith("ansible-playbook blackduck.hub.upgrade_hub")
    new_dir = os.path.join(refuse["bundles"][labhub.NEW])
    for command in commands[:2]:
        argv = command.replace("<new>", new_dir).replace(" hub_", " pb-refuse_").replace("-p hub ", "-p pb-refuse ").split()
        labhub.run(argv, cwd="/")

    # the causes fixed, a rerun completes hub c from where it stopped, hub b from step 1 (a new dump: its old Hub
    # served again) and pb-refuse; a and pb-empty change nothing
    over_ssh = {"pb-fleet-a": ansible_run.OVER_SSH}
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory(hubs + [empty, refuse], dump_root, **over_ssh))
    assert rc == 0, out
    assert recap["pb-fleet-a"]["changed"] == 0 and recap["pb-empty"]["changed"] == 0, out
    assert dbcheck.counts(refuse, "bds_hub")["st.project"] == hubgen.expected_row_counts(0.5, 6)["bds_hub"]["st.project"]
    assert "pb-refuse_data-volume" in volumes("pb-refuse")
    b_done = state(dump_root, "pb-fleet-b")
    assert b_done["steps"]["verify"]["status"] == "done" and labhub.version_endpoint(hubs[1]) == {"version": labhub.NEW}
    assert b_done["steps"]["dump"]["data"]["dump_id"] != b_state["attempts"][0]["dump_id"]
    done = state(dump_root, "pb-fleet-c")
    assert done["steps"]["verify"]["status"] == "done"
    # the completed steps 1 and 2 are not repeated; step 3 only re-ensures the old migration containers for the dump
    assert {k: done["steps"][k]["started"] for k in ("disk_space", "stop_hub")} == {
        k: started_before[k] for k in ("disk_space", "stop_hub")}
    assert labhub.version_endpoint(c) == {"version": labhub.NEW}
