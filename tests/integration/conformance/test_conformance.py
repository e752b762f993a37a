"""The conformance matrix: hubs deployed from the vendor's real bundles (../shared/vendor, or HUB_VENDOR_BUNDLES),
upgraded by ansible-playbook blackduck.hub.upgrade_hub, judged by an exact comparison.

Each case deploys an old Hub from the vendor's unmodified files (a copy; the lab's printed patch only: Swarm's
endpoint mode and CPU reservations, loopback ports) with Hub-like data, as its README says, and an administrator's
password on the reporting role (the vendor's hub_reportdb_changepassword.sh). Then the playbook runs in three parts:
- steps 1-4: the Hub is down, the old database in migration mode: its exact fingerprint (every table, sequence, large
  object, role attribute and role password digest; the tables the Hub's fixups change, on what they keep);
- steps 5-7: the new database, restored and verified, before any Hub process starts: the same fingerprint;
- the rest: the new Hub serves the new version through its front door (its webserver), its webapp writes, the
  reporting role logs in with the password it had, and the fingerprint is still the same (apart from the table the
  running webapp writes).

The matrix: docker-run (the vendor's docker-run/docker-hub.sh) 4.1.4 -> 4.2.0 (check mode and a rerun change nothing;
afterwards the vendor's script still manages the hub: -s, -u), and docker-run 4.1.4 -> Compose 4.2.0 (and back:
rollback_hub); Compose 4.1.4 -> 4.2.0, 4.0.0 -> 4.2.1 (streamed: the old database runs apart, under a project of its
own on the hub's volumes, beside the new one), 3.7.1 -> 4.2.1 (no hub-postgres.env); Swarm 4.1.4 -> 4.2.0; and
across orchestrations an old Compose hub 4.1.4 -> a new Kubernetes hub 4.2.0 from the vendor's kubernetes/ files
(the vendor's own Kubernetes path: there is no Kubernetes bundle before 4.2), which then goes back to the old
Compose Hub (rollback_hub) and compares the old data again - once with a dump, once streamed (hub_transfer: stream:
step 4 starts the new pod beside the old container and pipes each database into it; no dump file). That streamed
case is also the kill on the vendor's files: its new pod deleted while pg_restore copies rows, step 4 fails naming
the pod, and the next run resumes the stream.
"""
import json
import os

import pytest

import ansible_run
import dbcheck
import kills
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")

SCALE = 1.0
LIVE = ("st.hub_heartbeat",)  # the running webapp writes here
MATRIX = [
    ("docker_run", "4.1.4", "4.2.0", "docker_run"),  # first: docker-hub.sh mistakes other containers for its own
    ("docker_run", "4.1.4", "4.2.0", "compose"),
    ("compose", "4.1.4", "4.2.0", "compose"),
    ("compose", "4.0.0", "4.2.1", "compose", "stream"),  # hub_transfer: stream, the old database apart beside the new
    ("compose", "3.7.1", "4.2.1", "compose"),
    ("swarm", "4.1.4", "4.2.0", "swarm"),
    ("compose", "4.1.4", "4.2.0", "kubernetes"),
    ("compose", "4.1.4", "4.2.0", "kubernetes", "stream"),  # hub_transfer: stream, the new pod beside the old container
]
# By default (hub_dump_mount: auto) the dump folder is mounted into the vendor's own postgres containers (user
# postgres:root; docker-run: the script's docker run line with a --volume added) and, on Kubernetes, into the vendor's
# postgres pod (as root: the tools run as postgres through su) as a hostPath. These cases stream (hub_dump_mount: false), so the vendor's Compose files are
# also upgraded through docker exec.
STREAMED = {("compose", "4.1.4", "4.2.0", "compose"), ("compose", "3.7.1", "4.2.1", "compose")}
# A kill on the vendor's files: this case's new pod deleted while the stream's pg_restore copies rows into it (more
# data, so that the stream lasts long enough to be caught); step 4 fails naming the pod, and the next run streams
# again over its own interrupted stream - the Deployment has started another pod - before the case goes on as the others.
KILLED = {("compose", "4.1.4", "4.2.0", "kubernetes", "stream"): 60.0}


def case_id(case):
    orch, old, new, new_orch = case[:4]
    return "%s%s-%s-to-%s%s" % ("stream-" if case[4:] == ("stream",) else "", orch, old, new,
                                "" if new_orch == orch else "-" + new_orch)


def reporter_logs_in(hub, password):
    """The reporting role logs in over TCP with its password, as a reporting client does."""
    argv = labhub.db_exec_argv(hub) + ["env", "PGPASSWORD=" + password, "psql", "-X", "-A", "-t", "-h", "127.0.0.1",
                                       "-U", "blackduck_reporter", "-d", "bds_hub_report", "-c", "SELECT current_user"]
    return labhub.run(argv, check=False).strip() == "blackduck_reporter"


def heartbeats(hub):
    return int(labhub.psql(hub, "SELECT count(*) FROM st.hub_heartbeat").strip())


PROXY_PASSWORD = "pr0xy$ecret w"  # docker-run: a password in the new bundle's docker-hub.sh, in single quotes
# Compose: a password in the new bundle's hub-proxy.env. Compose interpolates env files: it warns that the "variable"
# ecr3tword is not set, naming that part of the password, at step 9
COMPOSE_PROXY_PASSWORD = "pr0xy$ecr3tword"


# docker-run cases run alone (make test: exclusive); the others of this file one after another on one worker (the
# vendor's files publish fixed ports: tests/integration/conftest.py)
@pytest.mark.parametrize("case", [pytest.param(c, marks=[pytest.mark.exclusive] if c[0] == "docker_run" else [])
                                  for c in MATRIX], ids=[case_id(c) for c in MATRIX])
def test_vendor_bundles(case, vendor_hubs, tmp_path, request):
    orch, old, new, new_orch = case[:4]
    stream = case[4:] == ("stream",)
    if "kubernetes" in (orch, new_orch):
        request.getfixturevalue("k8s_lab")
    name = "cf-" + case_id(case).replace(".", "").replace("_", "-")[:28]
    hub = vendor_hubs(name, orch, old, new, scale=KILLED.get(case, SCALE), seed=21, new_orch=new_orch)
    old_side, new_side = labhub.side(hub, "old"), labhub.side(hub, "new")
    password = "reports-%s" % name  # set by the administrator on the old Hub
    labhub.psql(old_side, "ALTER ROLE blackduck_reporter WITH PASSWORD '%s';" % password, db="postgres")
    assert reporter_logs_in(old_side, password)
    if new_orch == "docker_run":  # a password given as the vendor's README allows, with a $ bash leaves as it is
        script = os.path.join(hub["bundles"][new], "docker-run", "docker-hub.sh")
        with open(script) as f:
            text = f.read()
        assert "--name webapp " in text
        with open(script, "w") as f:
            f.write(text.replace("--name webapp ", "--name webapp -e HUB_PROXY_PASSWORD='%s' " % PROXY_PASSWORD, 1))
    if orch == new_orch == "compose" and not stream:  # a proxy password with a $, as the vendor's env file allows
        with open(os.path.join(hub["bundles"][new], "docker-compose", "hub-proxy.env"), "a") as f:
            f.write("HUB_PROXY_PASSWORD=%s\n" % COMPOSE_PROXY_PASSWORD)
    dump_root = str(tmp_path)
    inv = ansible_run.hub_inventory([hub], dump_root, **({name: {"hub_dump_mount": False}} if case in STREAMED else
                                                         {name: {"hub_transfer": "stream"}} if stream else {}))

    if orch == "docker_run":  # check mode changes nothing: the old Hub's containers run on, none is added
        running = labhub.run(["docker", "ps", "--no-trunc", "--format", "{{.ID}} {{.Image}}"])
        rc, out, recap = ansible_run.playbook(inv, "--check")
        assert rc == 0 and recap[name]["changed"] == 0, out
        assert "(docker_run" in out, out
        assert labhub.run(["docker", "ps", "--no-trunc", "--format", "{{.ID}} {{.Image}}"]) == running

    if case in KILLED:
        proc = ansible_run.playbook_in_background(inv, dump_root, "--tags", "step1,step2,step3,step4")
        message = kills.kill_while(new_side, proc, dump_root, name, "dump", "pg_restore")
        assert "The old data is untouched" in message and "run again" in message, message
        with open(os.path.join(dump_root, name, "dump", "manifest.json")) as f:
            record = json.load(f)
    # Swarm: at -v every result is shown (as in an AWX job's events); step 1 reads the swarm through the Swarm API,
    # whose answer holds the swarm's join tokens (a manager's lets anyone join as a manager): they show nowhere
    rc, out, recap = ansible_run.playbook(inv, "--tags", "step1,step2,step3,step4", *(["-v"] if orch == "swarm" else []))
    assert rc == 0, out
    if orch == "swarm":
        reads = [task for task in out.split("\nTASK [")[1:] if "Read the swarm's nodes" in task.split("\n")[0]]
        assert reads and all("censored" in task for task in reads), out  # it ran, its result hidden
        assert "SWMTKN" not in out
    if case in KILLED:  # the same record: the stream resumed, not begun anew
        assert ansible_run.state(dump_root, name)["steps"]["dump"]["data"]["dump_id"] == record["dump_id"]
    old_db = old_side
    if stream and orch == new_orch:  # the old database ran apart, on the old data, beside the new one
        old_db = dict(old_side, project=labhub.apart_project(hub))
        users = labhub.run(["docker", "ps", "-q", "--no-trunc", "--filter", "volume=%s_data-volume" % hub["project"]])
        assert users.split() == labhub.containers(old_db, "postgres") and len(users.split()) == 1  # it alone
        assert len(labhub.containers(new_side, "postgres")) == 1
    before = dbcheck.exact_fingerprint(old_db)
    assert before["roles"]["blackduck_reporter"][-1] != before["roles"]["blackduck_user"][-1]  # its own password

    rc, out, recap = ansible_run.playbook(inv, "--tags", "step5,step6,step7")
    assert rc == 0, out
    assert dbcheck.server_major(new_side) == int(labhub.VERSIONS["PG_NEW_MAJOR"])
    assert dbcheck.exact_fingerprint(new_side) == before  # exact, before any Hub process starts

    # docker-run: at -vvv every module's arguments and the command that runs it are shown (as in an AWX job's events):
    # the wait for the new Hub's containers is given their names and images, and the password of the webapp's
    # -e HUB_PROXY_PASSWORD=... shows nowhere (it reaches docker in an env file, removed after)
    rc, out, recap = ansible_run.playbook(inv, *(["-vvv"] if new_orch == "docker_run" else []))
    assert rc == 0, out
    if orch == new_orch == "compose" and not stream:  # Compose's warning told, the part of the password it names not
        assert "Say what docker compose warned of" in out and "(not shown: it may be part of a value)" in out, out
        assert "ecr3tword" not in out
    if new_orch == "docker_run":
        waits = [task for task in out.split("\nTASK [")[1:] if ": Start | Wait until every container" in task.split("\n")[0]]
        assert waits and all('"until": "docker_run_ready"' in task for task in waits), out  # its arguments shown
        assert PROXY_PASSWORD.split()[0] not in out
        # removed when the containers had started (the webapp was run with it: it holds the password, below)
        assert not os.path.exists(os.path.join(hub["bundles"][new], "docker-run", ".blackduck-hub-env"))
    st = ansible_run.state(dump_root, name)
    assert st["steps"]["verify"]["data"]["version"] == new
    with open(os.path.join(dump_root, name, "dump", "manifest.json")) as f:
        formats = set(d["format"] for d in json.load(f)["databases"].values())
    assert formats == {"stream" if stream else "custom" if case in STREAMED else "directory"}, formats
    if stream:  # no dump file: the record of the old side only
        assert os.listdir(os.path.join(dump_root, name, "dump")) == ["manifest.json"]
    if old_db is not old_side:  # nothing left of the apart project (its own Logstash volume removed), the old data kept
        assert labhub.containers(old_db, all_states=True) == []
        assert labhub.run(["docker", "volume", "ls", "-q", "--filter",
                           "label=com.docker.compose.project=" + old_db["project"]]).split() == []
        assert hub["project"] + "_data-volume" in labhub.run(["docker", "volume", "ls", "-q"]).split()
    assert st["steps"]["restore"]["data"]["roles"] == {
        "blackduck": "equal", "blackduck_reporter": "equal", "blackduck_user": "equal"}
    assert labhub.version_endpoint(new_side) == {"version": new}  # through the webserver
    written = heartbeats(new_side)
    labhub.wait("the new webapp to write", lambda: heartbeats(new_side) > written, timeout=60)
    assert reporter_logs_in(new_side, password)
    assert dbcheck.exact_fingerprint(new_side, live_tables=LIVE) == dbcheck.exact_fingerprint_of(before, LIVE)
    report = open(os.path.join(dump_root, name, "report.md")).read()
    assert "| blackduck_reporter | equal |" in report

    if new_orch == "docker_run":
        # the password reached the webapp whole, through the env file
        env = json.loads(labhub.run(["docker", "inspect", "-f", "{{json .Config.Env}}", "webapp"]))
        assert "HUB_PROXY_PASSWORD=" + PROXY_PASSWORD in env
        assert PROXY_PASSWORD not in open(os.path.join(dump_root, name, "report.md")).read()
        rc, out, recap = ansible_run.playbook(inv)  # a rerun changes nothing
        assert rc == 0 and recap[name]["changed"] == 0, out
        # the vendor's script keeps managing the upgraded hub: it stops it (-s) and starts it again (-u)
        labhub.docker_run_script(hub, new, "stop")
        assert labhub.containers(new_side) == []
        labhub.docker_run_script(hub, new, "up")
        labhub.wait("the webserver to answer %s again" % new, lambda: labhub.version_endpoint(new_side) == {"version": new},
                    timeout=180)
        assert labhub.run(["docker", "inspect", "-f", "{{.Config.Image}}", "postgres"]).strip() == (
            "blackducksoftware/hub-postgres:%s" % new)

    if new_orch != orch:
        # going back across orchestrations: the new Kubernetes Hub scaled to nothing, the old Compose Hub serving
        # again through its webserver, on its data exactly as dumped (apart from what its webapp writes again). The
        # old Hub is asked through its own front door: hub_url, the new Hub's address (here one that answers a
        # version no Hub has), is not asked
        wrong_hub = request.getfixturevalue("wrong_hub")
        inv["all"]["hosts"][name]["hub_url"] = wrong_hub
        rc, out, recap = ansible_run.playbook(inv, name="blackduck.hub.rollback_hub")
        assert rc == 0, out
        assert wrong_hub not in out
        assert labhub.version_endpoint(old_side) == {"version": old}
        assert dbcheck.exact_fingerprint(old_side, live_tables=LIVE) == dbcheck.exact_fingerprint_of(before, LIVE)
        assert reporter_logs_in(old_side, password)
        if new_orch == "kubernetes":
            # nothing of it runs when the run ends - no container of its namespace (the lab's kubelet runs pods on the
            # lab's engine) - and the kubelet removes its pods, whose containers stopped, soon after
            running = labhub.run(["docker", "ps", "--filter", "label=io.kubernetes.pod.namespace=" + new_side["namespace"],
                                  "--format", '{{.Label "io.kubernetes.container.name"}}']).split()
            assert [c for c in running if c != "POD"] == [], running  # (POD: a pod's sandbox, which holds nothing)
            labhub.wait("the new Hub's pods to go", lambda: labhub.kubectl(new_side, "get", "pods", "-o", "name").strip()
                        == "", timeout=90)
        else:
            assert labhub.containers(new_side) == []
