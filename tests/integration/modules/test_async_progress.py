"""async_progress on a real dump: progress lines while db_dump runs in the background, its result at the end.

A lab hub of the old version (database only, enough data for a dump of several seconds) is dumped by db_dump with
async and poll 0, and watched by async_progress, through ansible-playbook as a user runs it. The play's output must
show the job start, lines with the bytes so far read from the dump's progress file, and the end; the registered
result must be db_dump's own (as without async); a failing dump must fail the watching task with db_dump's message;
in check mode (no async) the result passes through.
"""
import json
import os
import sys

import pytest
import yaml

import ansible_run
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")

SCALE = 60.0  # MB of Hub-like data: a dump of a few seconds on these machines


@pytest.fixture(scope="module")
def source_hub():
    hub = labhub.deploy("it-prog", "compose", version="old", scale=SCALE, seed=3, full=False)
    yield hub
    labhub.remove(hub["name"])


def play(tmp_path, dump_dir, databases=None, check=False, timeout=None):
    dump_args = {"connection": {"type": "docker", "project": "it-prog", "hub_version": labhub.OLD},
                 "dump_dir": dump_dir, "progress_interval": 0.2, "jobs": 1}
    if databases:
        dump_args["databases"] = databases
    tasks = [
        {"name": "Dump", "blackduck.hub.db_dump": dump_args, "async": 600, "poll": 0, "register": "job"},
        {"name": "Watch", "register": "dump",
         "blackduck.hub.async_progress": {"job": "{{ job }}", "interval": 0.5, "label": "the dump",
                                          "progress_file": os.path.join(dump_dir, "progress.json"),
                                          **({"timeout": timeout} if timeout else {})}},
        {"name": "Keep the result", "ansible.builtin.copy": {"content": "{{ dump | to_json }}",
                                                             "dest": str(tmp_path / "result.json"), "mode": "0600"},
         "check_mode": False},
    ]
    if check:  # async is refused in check mode: a role turns it off there, and the watcher passes the result on
        tasks[0]["async"] = "{{ 0 if ansible_check_mode else 600 }}"
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    inv = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}
    args = ["--check"] if check else []
    rc, out, dummy = ansible_run.playbook(inv, *args, name=str(path), tmpdir=str(tmp_path))
    result = json.loads((tmp_path / "result.json").read_text()) if (tmp_path / "result.json").exists() else None
    return rc, out, result


def test_progress_lines_while_the_dump_runs_then_its_result(source_hub, tmp_path):
    dump_dir = str(tmp_path / "dump")
    rc, out, result = play(tmp_path, dump_dir)
    assert rc == 0, out
    lines = [ln for ln in out.splitlines() if ln.startswith("[localhost] the dump: ")]
    assert lines[0].startswith("[localhost] the dump: started (job ")
    progress = [ln for ln in lines if "dump progress: " in ln]
    assert progress, out  # bytes so far, read from the progress file while the dump ran
    assert all(" so far (" in ln and "/s)" in ln for ln in progress)
    assert any("; now " in ln or "bds_hub" in ln for ln in progress)
    assert lines[-1].startswith("[localhost] the dump: done after ")
    # the registered result is db_dump's own, without the async bookkeeping
    assert result["changed"] is True and sorted(result["databases"]) == ["bdio", "bds_hub", "bds_hub_report"]
    assert "ansible_job_id" not in result and "finished" not in result
    assert os.path.exists(os.path.join(dump_dir, "manifest.json"))
    assert not os.path.exists(os.path.join(dump_dir, "progress.json"))  # removed when the dump ended
    jid = lines[0].split("(job ", 1)[1].split(")", 1)[0]
    assert not os.path.exists(os.path.expanduser("~/.ansible_async/%s" % jid))  # the job's status file is cleaned up

    # a second run finds the complete dump: the watcher reports db_dump's changed=false
    rc, out, again = play(tmp_path, dump_dir)
    assert rc == 0 and again["changed"] is False and again["dump_id"] == result["dump_id"], out


def test_a_watch_that_times_out_leaves_the_job_running_and_askable(source_hub, tmp_path):
    """The watcher's own timeout ends the watch, not the job: the dump runs on, its status file is kept (so that
    async_status can still be asked, as the message says), and the dump completes."""
    dump_dir = str(tmp_path / "dump")
    said = "the dump did not end within 1s: it may still run on localhost (job "
    rc, out, result = play(tmp_path, dump_dir, timeout=1)
    assert rc != 0 and said in out, out
    status = os.path.expanduser("~/.ansible_async/%s" % out.split(said, 1)[1].split(";", 1)[0])
    assert os.path.exists(status), out

    def ended():  # async_wrapper's file: {"started": 1, "finished": 0, ...} while the job runs, then its result
        try:
            with open(status) as f:
                return "started" not in json.load(f)
        except ValueError:  # being rewritten
            return False

    labhub.wait("the dump to end", ended, timeout=300)
    with open(status) as f:
        assert json.load(f)["changed"] is True
    assert os.path.exists(os.path.join(dump_dir, "manifest.json"))
    os.unlink(status)


def test_a_failing_dump_fails_the_watcher_with_its_message(source_hub, tmp_path):
    rc, out, result = play(tmp_path, str(tmp_path / "dump"), databases=["bds_hub", "no_such_db"])
    assert rc != 0
    assert "database no_such_db not found on" in out
    assert "[localhost] the dump: failed after " in out
    assert result is None  # the play stopped at the watcher


def test_check_mode_passes_the_result_through(source_hub, tmp_path):
    dump_dir = str(tmp_path / "dump")
    rc, out, result = play(tmp_path, dump_dir, check=True)
    assert rc == 0, out
    assert result["changed"] is True and result["msg"].startswith("would dump bds_hub, bds_hub_report, bdio")
    assert "started (job" not in out
    assert not os.path.exists(dump_dir)
