"""The lab's pid-file rules (tests/lab/lib.sh): a machine used again after its processes were killed keeps the lab's
pid files, and their pids may belong to other processes by then. pid_of names a daemon only if the pid is alive and
still that program; drop_stale_pidfile removes any other pid file, which dockerd would refuse to start beside
("pid file found") and the lab would take for a running daemon."""
import os
import subprocess
import sys

import pytest

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lab", "lib.sh")


def lab_sh(tmp_path, script):
    env = dict(os.environ, LAB_HOME=str(tmp_path / "home"), LAB_CACHE=str(tmp_path / "cache"))
    return subprocess.run(["bash", "-c", 'source "$0"; ' + script, LIB], env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "300"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def script_process(tmp_path):
    """A process an interpreter runs (as cluster-dns.py is): named by its script."""
    script = tmp_path / "fake-daemon.py"
    script.write_text("import time\ntime.sleep(300)\n")
    proc = subprocess.Popen([sys.executable, str(script)])
    yield proc.pid
    proc.kill()
    proc.wait()


def write_pid(tmp_path, pid):
    f = tmp_path / "d.pid"
    f.write_text("%d\n" % pid)
    return f


def test_pid_of_names_the_live_program(tmp_path, sleeper):
    f = write_pid(tmp_path, sleeper)
    r = lab_sh(tmp_path, 'pid_of "%s" sleep' % f)
    assert r.returncode == 0 and r.stdout.strip() == str(sleeper)


def test_pid_of_names_a_script_by_its_name(tmp_path, script_process):
    f = write_pid(tmp_path, script_process)
    assert lab_sh(tmp_path, 'pid_of "%s" fake-daemon.py' % f).stdout.strip() == str(script_process)


def test_a_reused_pid_is_not_the_daemon_and_its_file_goes(tmp_path, sleeper):
    f = write_pid(tmp_path, sleeper)  # alive, but a sleep, not dockerd: the pid was given to another process
    r = lab_sh(tmp_path, 'pid_of "%s" dockerd' % f)
    assert r.returncode != 0 and r.stdout == ""
    r = lab_sh(tmp_path, 'drop_stale_pidfile "%s" dockerd' % f)
    assert r.returncode == 0, r.stderr
    assert not f.exists()
    assert "stale pid file" in r.stderr and str(sleeper) in r.stderr
    os.kill(sleeper, 0)  # the process that holds the pid now is left alone


def test_a_dead_pid_file_goes(tmp_path):
    proc = subprocess.Popen(["true"])
    proc.wait()
    f = write_pid(tmp_path, proc.pid)
    assert lab_sh(tmp_path, 'drop_stale_pidfile "%s" true' % f).returncode == 0
    assert not f.exists()


def test_the_live_daemons_file_stays(tmp_path, sleeper):
    f = write_pid(tmp_path, sleeper)
    r = lab_sh(tmp_path, 'drop_stale_pidfile "%s" sleep' % f)
    assert r.returncode == 0 and r.stderr == ""
    assert f.read_text().strip() == str(sleeper)


@pytest.mark.parametrize("content", ["", "not-a-pid\n", "12 34\n"])
def test_a_file_without_one_pid_names_nothing(tmp_path, content):
    f = tmp_path / "d.pid"
    f.write_text(content)
    assert lab_sh(tmp_path, 'pid_of "%s" sleep' % f).returncode != 0
    assert lab_sh(tmp_path, 'drop_stale_pidfile "%s" sleep' % f).returncode == 0
    assert not f.exists()
