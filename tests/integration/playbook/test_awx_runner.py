"""upgrade_hub through ansible-runner, the way an AWX job template runs it.

A private data directory as AWX writes it: the inventory, extra variables (with the survey's answers of docs/awx.md,
as AWX passes them), and the external database's admin
password passed as the credential type of docs/awx.md passes it - a file in the private data directory named by
an environment variable - never as an extra variable. Checks the runner's status and return code, the job events
(every step ran, the hub was migrated), and that the secret is in no event and no artifact.
"""
import json
import os

import pytest

import ansible_run
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner is in tests/requirements.txt")


def test_job_template_run_with_a_credential(lab_hubs, tmp_path):
    hub = lab_hubs("pb-awx", "compose", scale=0.5, seed=31)
    target = labhub.external_server("pb-awx", "new", 26521)
    try:
        secret = "Awx-Cred3ntial-Pw"
        labhub.run(["docker", "exec", "-u", "postgres", target["container"], "psql", "-X", "-q", "-c",
                    "ALTER ROLE blackduck PASSWORD '%s'" % secret])
        env_file = labhub.bundle_file(hub, labhub.NEW, "compose", "hub-postgres.env")
        with open(env_file) as f:
            lines = [ln for ln in f.read().splitlines() if not ln.startswith(("HUB_POSTGRES_HOST=", "HUB_POSTGRES_PORT="))]
        with open(env_file, "w") as f:
            # the new Hub's own settings for the external server (the real Hub reads its password from a file)
            f.write("\n".join(lines + ["HUB_POSTGRES_HOST=%s" % target["host"], "HUB_POSTGRES_PORT=%d" % target["port"],
                                       "HUB_POSTGRES_ADMIN_PASSWORD=%s" % secret]) + "\n")

        pdd = tmp_path / "private"
        for d in ("inventory", "env", "env/credentials"):
            (pdd / d).mkdir(parents=True)
        cred = pdd / "env" / "credentials" / "new_admin_password"
        cred.write_text(secret)
        cred.chmod(0o600)
        inv = ansible_run.hub_inventory([hub], str(tmp_path / "dumps"))
        (pdd / "inventory" / "hosts.json").write_text(json.dumps(inv))
        (pdd / "env" / "extravars").write_text(json.dumps({
            "hub_database": "external", "hub_postgres_host": target["host"], "hub_postgres_port": target["port"],
            "hub_postgres_required_major": labhub.VERSIONS["PG_NEW_MAJOR"],
            # the survey of docs/awx.md answered, as AWX passes the answers (multiple choice as strings)
            "hub_serial": "1", "hub_max_failures": 0, "hub_remove_old_data": "false"}))
        envvars = dict(ansible_run.ansible_env(), HUB_NEW_POSTGRES_ADMIN_PASSWORD_FILE=str(cred))
        (pdd / "env" / "envvars").write_text(json.dumps(
            {k: v for k, v in envvars.items() if k.startswith(("ANSIBLE_", "HUB_")) or k == "PATH"}))
        r = ansible_runner.run(private_data_dir=str(pdd), playbook="blackduck.hub.upgrade_hub", quiet=True,
                               envvars=None, settings={"suppress_ansible_output": True})
        events = list(r.events)
        assert r.status == "successful" and r.rc == 0, [e.get("stdout") for e in events][-30:]
        ok_tasks = {e["event_data"].get("task") for e in events if e["event"] == "runner_on_ok"}
        for n in (1, 4, 7, 9, 10):  # the step runner's last task of each step
            assert "Step | Record as done step %d" % n in ok_tasks, (n, sorted(t for t in ok_tasks if t)[:40])
        summary = [e for e in events if e["event"] == "runner_on_ok"
                   and e["event_data"].get("task") == "Summary | Show every hub's outcome"]
        assert summary and "pb-awx: migrated %s -> %s" % (labhub.OLD, labhub.NEW) in json.dumps(summary[0]["event_data"])
        assert r.stats["failures"] == {} and r.stats["ok"].get("pb-awx", 0) > 50
        # the fleet's figures are the job's artifacts (set_stats), as AWX keeps them
        stats = [e for e in events if e["event"] == "playbook_on_stats"]
        fleet = stats[0]["event_data"]["artifact_data"]["hub_fleet"]
        assert [(h["host"], h["outcome"]) for h in fleet["hubs"]] == [("pb-awx", "migrated")], fleet
        assert fleet["totals"]["outcomes"]["migrated"] == 1 and fleet["hubs"][0]["downtime_seconds"] > 0
        # the dump's and the restore's progress lines reach the job's output as events, as they come
        progress = [e.get("stdout", "") for e in events if e["event"] == "verbose"]
        for line in ("[pb-awx] Step 4 dump: started (job ", "[pb-awx] Step 4 dump: done after ",
                     "[pb-awx] Step 7 restore: started (job ", "[pb-awx] Step 7 restore: done after "):
            assert any(line in p for p in progress), (line, progress[-20:])
        # the secret is nowhere: not in an event, not in the artifacts (stdout, job events, command line)
        assert not [e["uuid"] for e in events if secret in json.dumps(e)]
        for root, dummy, files in os.walk(str(pdd / "artifacts")):
            for name in files:
                with open(os.path.join(root, name), errors="replace") as f:
                    assert secret not in f.read(), os.path.join(root, name)
        assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
        st = ansible_run.state(str(tmp_path / "dumps"), "pb-awx")
        assert "remove_old_data" not in st["steps"]  # the survey's "false", a string, kept the old data
    finally:
        labhub.remove_external_server("pb-awx")
