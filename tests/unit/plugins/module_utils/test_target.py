"""module_utils/_target.py: finding the database (docker, kubectl, tcp) and the argv/env its tools run with.

The docker and kubectl CLIs are fakes: small scripts that log their argv and answer from canned rules."""
import json
import os
import stat
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.blackduck.hub.plugins.module_utils import _query, _target
from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError
from ansible_collections.blackduck.hub.plugins.module_utils._target import TargetError

IMAGE = "label=com.blackducksoftware.hub.image=postgres"

FAKE_CLI = r'''#!%s
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
name = os.path.basename(__file__)
args = sys.argv[1:]
with open(os.path.join(here, name + ".log"), "a") as f:
    f.write(json.dumps({"args": args, "PGPASSWORD": os.environ.get("PGPASSWORD"),
                        "PGPASSFILE": os.environ.get("PGPASSFILE")}) + "\n")
with open(os.path.join(here, name + ".rules")) as f:
    rules = json.load(f)
for rule in rules:
    if all(m in args for m in rule.get("match", [])) and not any(m in args for m in rule.get("unless", [])):
        sys.stdout.write(rule.get("stdout", ""))
        sys.stderr.write(rule.get("stderr", ""))
        sys.exit(rule.get("rc", 0))
sys.exit(0)
''' % sys.executable


class FakeCli:
    def __init__(self, directory, name, rules):
        self.path = os.path.join(directory, name)
        with open(self.path, "w") as f:
            f.write(FAKE_CLI)
        os.chmod(self.path, 0o755)
        with open(self.path + ".rules", "w") as f:
            json.dump(rules, f)

    def calls(self):
        if not os.path.exists(self.path + ".log"):
            return []
        with open(self.path + ".log") as f:
            return [json.loads(line) for line in f]


@pytest.fixture
def cli(tmp_path):
    """cli(name, rules) -> FakeCli: a rule is {match: [argv items all present], unless?, stdout?, stderr?, rc?}."""
    def make(name, rules):
        return FakeCli(str(tmp_path), name, rules)
    return make


def filters(call):
    return [call["args"][i + 1] for i, a in enumerate(call["args"]) if a == "--filter"]


# ------------------------------------------------------------------------------------------------ docker

def docker_params(cli_path, **kw):
    return dict({"type": "docker", "docker_cli": cli_path}, **kw)


def test_docker_named_container(cli):
    docker = cli("docker", [{"match": ["inspect", "hub_postgres_1"], "stdout": "0123abcd true /hub_postgres_1\n"}])
    t = _target.make_target(docker_params(docker.path, container="hub_postgres_1"))
    assert isinstance(t, _target.DockerTarget)
    assert (t.container, t.name, t.describe()) == ("0123abcd", "hub_postgres_1", "container hub_postgres_1")
    assert docker.calls()[0]["args"] == ["inspect", "-f", "{{.Id}} {{.State.Running}} {{.Name}} {{index .Config.Labels "
                                         "\"com.blackducksoftware.hub.version\"}}", "hub_postgres_1"]


def test_docker_named_container_of_the_version_asked(cli):
    docker = cli("docker", [{"match": ["inspect", "postgres"], "stdout": "0123abcd true /postgres 4.2.0\n"}])
    t = _target.DockerTarget(docker_params(docker.path, container="postgres", hub_version="4.2.0"))
    assert (t.container, t.name) == ("0123abcd", "postgres")


def test_docker_named_container_of_another_version(cli):
    # a docker-run hub's database is always "postgres": the old version's must not be taken for the new one's
    docker = cli("docker", [{"match": ["inspect", "postgres"], "stdout": "0123abcd true /postgres 4.1.4\n"}])
    with pytest.raises(TargetError) as info:
        _target.DockerTarget(docker_params(docker.path, container="postgres", hub_version="4.2.0"))
    assert str(info.value) == ("container postgres runs the database of Hub 4.1.4, not 4.2.0: bring it down and start "
                               "the database of Hub 4.2.0 in migration mode")


def test_docker_named_container_not_running(cli):
    docker = cli("docker", [{"match": ["inspect"], "stdout": "0123abcd false /hub_postgres_1\n"}])
    with pytest.raises(TargetError, match="container hub_postgres_1 is not running: start the Hub's database"):
        _target.DockerTarget(docker_params(docker.path, container="hub_postgres_1"))


def test_docker_named_container_missing(cli):
    docker = cli("docker", [{"match": ["inspect"], "rc": 1, "stderr": "Error: No such object: nope\n"}])
    with pytest.raises(TargetError) as info:
        _target.DockerTarget(docker_params(docker.path, container="nope"))
    assert str(info.value).startswith("no container 'nope' on this Docker engine (Error: No such object: nope).")


def test_docker_found_by_labels(cli):
    docker = cli("docker", [{"match": ["ps"], "stdout": "f00dfeed hub_postgres.1.xyz\n"}])
    t = _target.DockerTarget(docker_params(docker.path, hub_version="4.1.4"))
    assert (t.container, t.name) == ("f00dfeed", "hub_postgres.1.xyz")
    (call,) = docker.calls()
    assert call["args"][:4] == ["ps", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]
    assert filters(call) == [IMAGE, "label=com.blackducksoftware.hub.version=4.1.4"]


def test_docker_none_found_says_what_was_searched(cli):
    docker = cli("docker", [{"match": ["ps"], "stdout": ""}])
    with pytest.raises(TargetError) as info:
        _target.DockerTarget(docker_params(docker.path, hub_version="4.2.0"))
    assert str(info.value) == (
        "no database container found: searched running containers labelled com.blackducksoftware.hub.image="
        "postgres and com.blackducksoftware.hub.version=4.2.0. Start the Hub's database in migration mode, or set "
        "connection.container (with the upgrade role: hub_old_db_container, for the old side).")


def test_docker_several_found_are_listed(cli):
    docker = cli("docker", [{"match": ["ps"], "stdout": "bbb hub_postgres_1\naaa other_postgres_1\n\n"}])
    with pytest.raises(TargetError) as info:
        _target.DockerTarget(docker_params(docker.path))
    msg = str(info.value)
    assert msg.startswith("more than one database container matches (running containers labelled "
                          "com.blackducksoftware.hub.image=postgres): hub_postgres_1, other_postgres_1. Set ")
    assert "connection.project" in msg


def test_docker_project_searches_compose_and_stack(cli):
    docker = cli("docker", [
        {"match": ["label=com.docker.compose.project=hub"], "stdout": "c1 hub_postgres_1\n"},
        {"match": ["label=com.docker.stack.namespace=hub"], "stdout": ""},
    ])
    t = _target.DockerTarget(docker_params(docker.path, project="hub"))
    assert t.container == "c1"
    compose, stack = docker.calls()
    assert filters(compose) == [IMAGE, "label=com.docker.compose.project=hub"]
    assert filters(stack) == [IMAGE, "label=com.docker.stack.namespace=hub"]


def test_docker_project_none_found(cli):
    docker = cli("docker", [{"match": ["ps"], "stdout": ""}])
    with pytest.raises(TargetError, match="searched running containers labelled com.blackducksoftware.hub."
                                          "image=postgres and in Compose project or stack hub\\."):
        _target.DockerTarget(docker_params(docker.path, project="hub"))


def test_docker_project_found_twice(cli):
    docker = cli("docker", [
        {"match": ["label=com.docker.compose.project=hub"], "stdout": "c1 hub_postgres_1\n"},
        {"match": ["label=com.docker.stack.namespace=hub"], "stdout": "s1 hub_postgres.1.abc\n"},
    ])
    with pytest.raises(TargetError, match=r"more than one .*: hub_postgres.1.abc, hub_postgres_1\. Set"):
        _target.DockerTarget(docker_params(docker.path, project="hub"))


def test_docker_ps_failure(cli):
    docker = cli("docker", [{"match": ["ps"], "rc": 1, "stderr": "Cannot connect to the Docker daemon\n"}])
    with pytest.raises(TargetError, match="^docker ps failed: Cannot connect to the Docker daemon$"):
        _target.DockerTarget(docker_params(docker.path))


def test_docker_tool_argv(cli):
    docker = cli("docker", [{"match": ["ps"], "stdout": "cid123 hub_postgres_1\n"}])
    t = _target.DockerTarget(docker_params(docker.path))
    head = [docker.path, "exec"]
    tail = ["-u", "postgres", "-e", "PGAPPNAME=blackduck.hub", "cid123"]
    assert t.tool_argv("pg_dump", ["--dbname=bds_hub"]) == head + tail + ["pg_dump", "-U", "postgres",
                                                                          "--dbname=bds_hub"]
    assert t.tool_argv("pg_restore", ["--list"], stdin=True) == head + ["-i"] + tail + ["pg_restore", "-U",
                                                                                        "postgres", "--list"]
    assert t.tool_argv("pg_restore", ["--list"], stdin=True, conn=False) == head + ["-i"] + tail + ["pg_restore",
                                                                                                    "--list"]
    assert "-t" not in t.tool_argv("psql", [], stdin=True)  # never a TTY: works from cron and AWX


def test_docker_tool_argv_port_and_user(cli):
    docker = cli("docker", [{"match": ["ps"], "stdout": "cid123 hub_postgres_1\n"}])
    t = _target.DockerTarget(docker_params(docker.path, port=5433, user="blackduck"))
    assert t.tool_argv("psql", ["-c", "SELECT 1"])[-7:] == ["psql", "-p", "5433", "-U", "blackduck", "-c", "SELECT 1"]
    assert t.tool_argv("psql", ["--version"], conn=False)[-2:] == ["psql", "--version"]


def test_docker_identity_reads_the_version_label(cli):
    docker = cli("docker", [
        {"match": ["ps"], "stdout": "cid123 hub_postgres_1\n"},
        {"match": ["inspect", "{{json .Config.Labels}}"],
         "stdout": json.dumps({"com.blackducksoftware.hub.version": "4.1.4",
                               "com.blackducksoftware.hub.image": "postgres"}) + "\n"},
    ])
    t = _target.DockerTarget(docker_params(docker.path))
    assert t.identity() == {"type": "docker", "where": "container hub_postgres_1", "container": "hub_postgres_1",
                            "hub_version": "4.1.4"}


def test_docker_cli_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TargetError, match="the docker CLI was not found on the managed host"):
        _target.DockerTarget({"type": "docker"})


# ------------------------------------------------------------------------------------------------ kubectl

def pod(name, phase="Running", deleting=False):
    meta = {"name": name, "labels": {"app": "postgres"}}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase}}


def kube_params(cli_path, **kw):
    return dict({"type": "kubectl", "kubectl_cli": cli_path, "namespace": "hub", "selector": "app=postgres"}, **kw)


def test_kubectl_one_running_pod_by_selector(cli):
    items = [pod("postgres-old", deleting=True), pod("postgres-new"), pod("postgres-pending", phase="Pending")]
    kubectl = cli("kubectl", [{"match": ["get", "pods"], "stdout": json.dumps({"items": items})}])
    t = _target.make_target(kube_params(kubectl.path))
    assert isinstance(t, _target.KubectlTarget)
    assert (t.pod, t.describe()) == ("postgres-new", "pod hub/postgres-new")
    assert kubectl.calls()[0]["args"] == ["-n", "hub", "get", "pods", "-l", "app=postgres", "-o", "json"]


def test_kubectl_none_running_says_what_was_searched(cli):
    kubectl = cli("kubectl", [{"match": ["get", "pods"],
                               "stdout": json.dumps({"items": [pod("postgres-x", phase="Pending")]})}])
    with pytest.raises(TargetError) as info:
        _target.KubectlTarget(kube_params(kubectl.path, selector="app=hub-postgres"))
    assert str(info.value) == ("no running database pod found: searched pods with labels app=hub-postgres in namespace "
                               "hub. Start the Hub's database (migration mode) first, or set connection.pod / "
                               "connection.selector.")


def test_kubectl_several_running_are_listed(cli):
    kubectl = cli("kubectl", [{"match": ["get", "pods"],
                               "stdout": json.dumps({"items": [pod("postgres-b"), pod("postgres-a")]})}])
    with pytest.raises(TargetError) as info:
        _target.KubectlTarget(kube_params(kubectl.path))
    assert str(info.value).startswith("more than one database pod matches (pods with labels app=postgres in "
                                      "namespace hub): postgres-a, postgres-b. Set connection.pod")


def test_kubectl_named_pod(cli):
    kubectl = cli("kubectl", [
        {"match": ["get", "pod", "postgres-0"], "stdout": json.dumps(pod("postgres-0"))},
        {"match": ["get", "pod", "postgres-9"], "stdout": json.dumps(pod("postgres-9", phase="Failed"))},
        {"match": ["get", "pod"], "rc": 1, "stderr": 'Error from server (NotFound): pods "nope" not found\n'},
    ])
    t = _target.KubectlTarget(kube_params(kubectl.path, pod="postgres-0", kubeconfig="/etc/kube/config",
                                          context="lab"))
    assert t.pod == "postgres-0"
    assert kubectl.calls()[0]["args"] == ["--kubeconfig", "/etc/kube/config", "--context", "lab", "-n", "hub",
                                          "get", "pod", "postgres-0", "-o", "json"]
    with pytest.raises(TargetError, match="no running database pod found: searched pod postgres-9\\."):
        _target.KubectlTarget(kube_params(kubectl.path, pod="postgres-9"))
    with pytest.raises(TargetError, match='^no pod \'nope\' in namespace hub: Error from server \\(NotFound\\)'):
        _target.KubectlTarget(kube_params(kubectl.path, pod="nope"))


def test_kubectl_get_pods_failure(cli):
    kubectl = cli("kubectl", [{"match": ["get"], "rc": 1, "stderr": "error: You must be logged in to the server\n"}])
    with pytest.raises(TargetError, match="^kubectl get pods failed in namespace hub: error: You must be logged in"):
        _target.KubectlTarget(kube_params(kubectl.path))


def test_kubectl_tool_argv(cli):
    kubectl = cli("kubectl", [{"match": ["get", "pods"], "stdout": json.dumps({"items": [pod("postgres-1")]})}])
    t = _target.KubectlTarget(kube_params(kubectl.path, kubeconfig="/k", context="c", container="postgres"))
    base = [kubectl.path, "--kubeconfig", "/k", "--context", "c", "-n", "hub", "exec"]
    app = ["env", "PGAPPNAME=blackduck.hub"]
    assert t.tool_argv("pg_dump", ["--dbname=bds_hub"]) == base + ["postgres-1", "-c", "postgres", "--"] + app + [
        "pg_dump", "-U", "postgres", "--dbname=bds_hub"]
    assert t.tool_argv("pg_restore", ["--list"], stdin=True, conn=False) == base + [
        "-i", "postgres-1", "-c", "postgres", "--"] + app + ["pg_restore", "--list"]


def test_kubectl_tool_argv_defaults(cli):
    kubectl = cli("kubectl", [{"match": ["get", "pods"], "stdout": json.dumps({"items": [pod("postgres-1")]})}])
    t = _target.KubectlTarget({"type": "kubectl", "kubectl_cli": kubectl.path})
    assert kubectl.calls()[0]["args"][:2] == ["-n", "default"]
    assert "app=postgres" in kubectl.calls()[0]["args"]
    assert t.tool_argv("psql", ["-c", "x"], stdin=True) == [kubectl.path, "-n", "default", "exec", "-i", "postgres-1",
                                                            "--", "env", "PGAPPNAME=blackduck.hub", "psql", "-U",
                                                            "postgres", "-c", "x"]


def test_kubectl_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TargetError, match="kubectl was not found on the managed host"):
        _target.KubectlTarget({"type": "kubectl"})


# ------------------------------------------------------------------------------------------------ tcp

@pytest.fixture
def tools(tmp_path, monkeypatch):
    """A tools_path with fake psql, pg_dump and pg_restore (answers set per test through FakeCli rules), on a
    managed host without psycopg2, so a TCP target's queries go through that psql too."""
    monkeypatch.setattr(_query, "psycopg2", None)
    d = tmp_path / "bin"
    d.mkdir()

    def make(rules_by_tool=None):
        rules_by_tool = rules_by_tool or {}
        return {name: FakeCli(str(d), name, rules_by_tool.get(name, [])) for name in ("psql", "pg_dump", "pg_restore")}
    make.path = str(d)
    return make


def test_tcp_passfile_escaping_mode_and_env(tools, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "from-the-environment")
    tools()
    password = "s3:cr\\et:"
    t = _target.make_target({"type": "tcp", "host": "db.example.com", "password": password, "tools_path": tools.path,
                             "sslmode": "require"})
    try:
        assert isinstance(t, _target.TcpTarget)
        env = t.env
        passfile = env["PGPASSFILE"]
        assert "PGPASSWORD" not in env
        assert env["PGSSLMODE"] == "require" and env["LC_ALL"] == "C"
        with open(passfile) as f:
            assert f.read() == "*:*:*:*:s3\\:cr\\\\et\\:\n"
        assert stat.S_IMODE(os.stat(passfile).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(passfile)).st_mode) == 0o700
        for tool in ("psql", "pg_dump", "pg_restore"):
            for kw in ({}, {"stdin": True}, {"conn": False}):
                argv = t.tool_argv(tool, ["-d", "postgres"], **kw)
                assert not any(password in a or "s3" in a for a in argv)
        assert password not in json.dumps(t.identity())
    finally:
        t.cleanup()
    assert not os.path.exists(passfile) and not os.path.exists(os.path.dirname(passfile))
    t.cleanup()  # twice is harmless


def test_passfile_folders_of_runs_that_are_gone_are_swept(tools, tmp_path, monkeypatch):
    """A job killed by its async timeout (SIGKILL) never reaches its cleanup: the next TCP target removes that run's
    passfile folder, and only folders of processes that no longer exist."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    names = ["bdhub-%d-k1ll3d" % gone.pid, "bdhub-1-init", "bdhub-%d-mine" % os.getpid(), "bdhub-collections-x1",
             "bdhub-12345678", "other-%d-x" % gone.pid]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "pgpass").write_text("*:*:*:*:secret\n")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    tools()
    t = _target.make_target({"type": "tcp", "host": "db.example.com", "password": "pw", "tools_path": tools.path})
    try:
        left = sorted(os.listdir(str(tmp_path)))
        assert "bdhub-%d-k1ll3d" % gone.pid not in left
        assert set(names[1:]) <= set(left)
        assert os.path.dirname(t.env["PGPASSFILE"]).startswith(str(tmp_path / ("bdhub-%d-" % os.getpid())))
    finally:
        t.cleanup()


def test_tcp_tool_argv_and_identity(tools):
    tools()
    t = _target.TcpTarget({"type": "tcp", "host": "10.0.0.5", "tools_path": tools.path})
    psql = os.path.join(tools.path, "psql")
    assert t.tool_argv("psql", ["-c", "SELECT 1"]) == [psql, "-h", "10.0.0.5", "-p", "5432", "-U", "blackduck",
                                                       "-c", "SELECT 1"]
    assert t.tool_argv("psql", ["--version"], conn=False) == [psql, "--version"]
    assert t.tool_argv("psql", [], stdin=True) == [psql, "-h", "10.0.0.5", "-p", "5432", "-U", "blackduck"]
    assert t.identity() == {"type": "tcp", "where": "10.0.0.5:5432 as blackduck", "host": "10.0.0.5", "port": 5432,
                            "user": "blackduck"}
    assert t.env["PGSSLMODE"] == "prefer"
    t2 = _target.TcpTarget({"type": "tcp", "host": "h", "port": 55436, "user": "postgres", "tools_path": tools.path})
    assert t2.tool_argv("pg_dump", [])[1:] == ["-h", "h", "-p", "55436", "-U", "postgres"]


def test_tcp_without_password_has_no_passfile(tools, monkeypatch):
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.setenv("PGPASSWORD", "x")
    t = _target.TcpTarget({"type": "tcp", "host": "h"})
    assert "PGPASSFILE" not in t.env and "PGPASSWORD" not in t.env
    t.cleanup()


def test_tcp_password_file(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    t = _target.TcpTarget({"type": "tcp", "host": "h", "password_file": str(pw)})
    try:
        with open(t.env["PGPASSFILE"]) as f:
            assert f.read() == "*:*:*:*:from-file\n"
    finally:
        t.cleanup()
    # an explicit password wins over the file
    t = _target.TcpTarget({"type": "tcp", "host": "h", "password": "explicit", "password_file": str(pw)})
    try:
        with open(t.env["PGPASSFILE"]) as f:
            assert f.read() == "*:*:*:*:explicit\n"
    finally:
        t.cleanup()


def test_tcp_password_file_unreadable(tmp_path):
    with pytest.raises(TargetError, match="cannot read connection.password_file %s" % tmp_path):
        _target.TcpTarget({"type": "tcp", "host": "h", "password_file": str(tmp_path / "missing")})


def test_tcp_host_required():
    with pytest.raises(TargetError, match="connection.host is required when connection.type is tcp"):
        _target.make_target({"type": "tcp"})


def test_tcp_tool_missing_from_tools_path(tmp_path):
    t = _target.TcpTarget({"type": "tcp", "host": "h", "tools_path": str(tmp_path)})
    with pytest.raises(TargetError, match="pg_dump not found in connection.tools_path %s" % tmp_path):
        t.tool_argv("pg_dump", [])


def test_tcp_tool_not_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    t = _target.TcpTarget({"type": "tcp", "host": "h"})
    with pytest.raises(TargetError, match="pg_restore was not found on the managed host: install the PostgreSQL "
                                          "client tools"):
        t.tool_argv("pg_restore", [])


# ------------------------------------------------------------------------------------------------ helpers

def test_tool_version(tools):
    fakes = tools({"pg_dump": [{"match": ["--version"], "stdout": "pg_dump (PostgreSQL) 15.18\n"}],
                   "pg_restore": [{"rc": 127, "stderr": "not here"}]})
    t = _target.TcpTarget({"type": "tcp", "host": "h", "tools_path": tools.path})
    assert _target.tool_version(t, "pg_dump") == "pg_dump (PostgreSQL) 15.18"
    assert fakes["pg_dump"].calls()[0]["args"] == ["--version"]  # no connection options
    assert _target.tool_version(t, "pg_restore") is None


def test_check_call_passes_the_passfile_not_the_password(tools, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "leak")
    fakes = tools({"psql": [{"match": ["-c"], "stdout": "ok\n"}]})
    t = _target.TcpTarget({"type": "tcp", "host": "h", "password": "pw", "tools_path": tools.path})
    try:
        assert _target.check_call(t, "psql", ["-c", "SELECT 1"], "testing") == "ok\n"
        (call,) = fakes["psql"].calls()
        assert call["PGPASSWORD"] is None and call["PGPASSFILE"] == t.env["PGPASSFILE"]
        assert "pw" not in call["args"]
    finally:
        t.cleanup()


def test_check_call_failure(tools):
    tools({"psql": [{"rc": 2, "stderr": "psql: error: connection refused\n"}]})
    t = _target.TcpTarget({"type": "tcp", "host": "db", "tools_path": tools.path})
    with pytest.raises(CommandError) as info:
        _target.check_call(t, "psql", ["-c", "x"], "checking the server")
    assert info.value.message == "checking the server on db:5432 as blackduck failed: psql: error: connection refused"
    assert info.value.rc == 2


def test_wait_ready(tools):
    fakes = tools({"psql": [{"match": ["-d", "postgres"], "stdout": "1\n"}]})
    t = _target.TcpTarget({"type": "tcp", "host": "db", "tools_path": tools.path})
    assert _target.wait_ready(t, timeout=5, interval=0.01) is None
    assert len(fakes["psql"].calls()) == 1


def test_wait_ready_bad_credentials_stop_at_once(tools):
    fakes = tools({"psql": [{"rc": 2, "stderr": "\npsql: error: FATAL:  password authentication failed for user "
                                                "\"blackduck\"\n"}]})
    t = _target.TcpTarget({"type": "tcp", "host": "db", "tools_path": tools.path})
    with pytest.raises(TargetError) as info:
        _target.wait_ready(t, timeout=60, interval=0.01)
    assert str(info.value).startswith("the server at db:5432 as blackduck refused the credentials: psql: error: "
                                      "FATAL:  password authentication failed")
    assert len(fakes["psql"].calls()) == 1


class FakeClock(object):
    """time for _target's waits: sleep moves the clock on, nothing else does (a fake tool's own run takes no time of
    it, however slow the machine)."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_ready_times_out(tools, monkeypatch):
    fakes = tools({"psql": [{"rc": 2, "stderr": "psql: error: the database system is starting up\n"}]})
    t = _target.TcpTarget({"type": "tcp", "host": "db", "tools_path": tools.path})
    monkeypatch.setattr(_target, "time", FakeClock())
    with pytest.raises(TargetError, match="was not ready after 0.25s: psql: error: the database system is starting up"):
        _target.wait_ready(t, timeout=0.25, interval=0.0625)
    assert len(fakes["psql"].calls()) == 5  # asked at 0, 1/16, 1/8, 3/16 and 1/4 s: then the time is up


def test_connection_argument_spec():
    spec = _target.connection_argument_spec()["connection"]
    assert spec["required"] and spec["options"]["password"]["no_log"] is True
    assert spec["options"]["type"]["choices"] == ["docker", "kubectl", "tcp"]


def test_kubectl_tools_run_as_postgres_in_a_root_container(cli):
    # the vendor's manifests set no user: kubectl exec runs as root, and the socket admits the postgres role
    # only for the postgres OS user (peer), so the tools go through su
    kubectl = cli("kubectl", [{"match": ["get", "pods"], "stdout": json.dumps({"items": [pod("postgres-1")]})},
                              {"match": ["id", "-u"], "stdout": "0\n"}])
    t = _target.KubectlTarget(kube_params(kubectl.path, container="postgres"))
    head = [kubectl.path, "-n", "hub", "exec", "-i", "postgres-1", "-c", "postgres", "--"]
    su = ["su", "-s", "/bin/sh", "-c", 'exec "$0" "$@"', "--", "postgres"]
    app = ["env", "PGAPPNAME=blackduck.hub"]
    assert t.tool_argv("psql", ["-c", "SELECT 'a b'"], stdin=True) == head + su + app + [
        "psql", "-U", "postgres", "-c", "SELECT 'a b'"]
    assert t.tool_argv("pg_dump", ["--version"], conn=False) == head[:4] + head[5:] + su + app + ["pg_dump", "--version"]
    assert [c["args"][-2:] for c in kubectl.calls()].count(["id", "-u"]) == 1  # asked once


def test_kubectl_tools_run_as_is_in_a_postgres_container(cli):
    kubectl = cli("kubectl", [{"match": ["get", "pods"], "stdout": json.dumps({"items": [pod("postgres-1")]})},
                              {"match": ["id", "-u"], "stdout": "999\n"}])
    t = _target.KubectlTarget(kube_params(kubectl.path))
    assert t.tool_argv("psql", [])[-6:] == ["--", "env", "PGAPPNAME=blackduck.hub", "psql", "-U", "postgres"]


def test_gone_asks_again_until_the_engine_says_the_container_stopped(monkeypatch):
    """A tool killed with its container can end before the engine says so: gone() asks again, then gives the reason;
    a container that keeps running is '' after the settle time."""
    answers = iter(["", "", "the database container hub-postgres-1 was stopped"])
    target = _target._Target.__new__(_target._Target)
    monkeypatch.setattr(target, "_gone", lambda: next(answers))
    assert target.gone(settle=5, interval=0) == "the database container hub-postgres-1 was stopped"
    asked = []
    monkeypatch.setattr(target, "_gone", lambda: asked.append(1) or "")
    monkeypatch.setattr(_target, "time", FakeClock())
    assert target.gone(settle=0.5, interval=0.125) == ""
    assert len(asked) == 5  # at 0, 1/8, 1/4, 3/8 and 1/2 s of the settle time


# ------------------------------------------------------------------------------------------------ dump_mount

class Lender(_target._Target):
    """A container target whose tools run as uid/gid 65534 (nobody) and see the dump folder at /mnt/dump."""
    kind = "docker"

    def __init__(self, mount="/mnt/dump", owner=(65534, 65534), reach=True):
        super(Lender, self).__init__({"type": "docker", "dump_mount": mount})
        self.owner = owner
        self.reach = reach
        self.asked = []

    def tools_owner(self):
        return self.owner

    def tools_reach(self, seen, write=False):
        self.asked.append((seen, write))
        return self.reach

    def describe(self):
        return "container db"


def test_tools_see_the_dump_folder_through_the_mount_only(tmp_path):
    d = str(tmp_path / "dump")
    assert Lender().tools_see(d, d) == "/mnt/dump"
    assert Lender().tools_see(d, os.path.join(d, "bds_hub.dir", "toc.dat")) == "/mnt/dump/bds_hub.dir/toc.dat"
    assert Lender(mount=None).tools_see(d, d) is None  # no mount: the files are streamed
    tcp = _target.TcpTarget({"type": "tcp", "host": "h"})
    assert tcp.tools_see(d, os.path.join(d, "x")) == os.path.join(d, "x") and tcp.tools_owner() is None
    with pytest.raises(TargetError, match="is not in the dump folder"):
        Lender().tools_see(d, str(tmp_path / "elsewhere"))


@pytest.mark.skipif(os.geteuid() != 0, reason="lending a folder to another user needs root, as the modules run")
@pytest.mark.parametrize("fails", [False, True])
def test_tools_folder_lends_and_takes_back(tmp_path, fails):
    d = tmp_path / "dump"
    d.mkdir(mode=0o700)
    (d / "manifest.json").write_text("{}")
    os.chmod(str(d / "manifest.json"), 0o600)
    folder = d / "bds_hub.dir.partial"
    try:
        with _target.tools_folder(Lender(), str(d), str(folder)) as seen:
            assert seen == "/mnt/dump/bds_hub.dir.partial"
            st = os.stat(str(folder))
            assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o700)
            assert stat.S_IMODE(os.stat(str(d)).st_mode) == 0o711  # passable, not readable, for the tools
            assert os.stat(str(d / "manifest.json")).st_uid == 0  # nothing else of the folder is lent
            (folder / "toc.dat").write_text("as the tools would")
            os.chown(str(folder / "toc.dat"), 65534, 65534)
            os.chmod(str(folder / "toc.dat"), 0o644)
            if fails:
                raise RuntimeError("pg_dump died")
    except RuntimeError:
        assert fails
    assert stat.S_IMODE(os.stat(str(d)).st_mode) == 0o700
    for path, mode in ((folder, 0o700), (folder / "toc.dat", 0o600)):
        st = os.stat(str(path))
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, mode), path


@pytest.mark.skipif(os.geteuid() != 0, reason="lending a folder to another user needs root, as the modules run")
def test_tools_folder_refuses_a_folder_the_tools_cannot_reach_and_gives_it_back(tmp_path):
    d = tmp_path / "dump"
    d.mkdir(mode=0o700)
    lender = Lender(reach=False)  # a container started without the mount: nothing at /mnt/dump
    with pytest.raises(TargetError, match=r"^the database tools in container db cannot write into "
                                          r"/mnt/dump/bds_hub.dir.partial, where connection.dump_mount says"):
        with _target.tools_folder(lender, str(d), str(d / "bds_hub.dir.partial"), write=True):
            raise AssertionError("the block must not run")
    assert lender.asked == [("/mnt/dump/bds_hub.dir.partial", True)]
    st = os.stat(str(d / "bds_hub.dir.partial"))
    assert (st.st_uid, stat.S_IMODE(os.stat(str(d)).st_mode)) == (0, 0o700)  # given back
    for unknown in (True, None):  # reachable, or no way to tell (no test in the image): the tools go on
        with _target.tools_folder(Lender(reach=unknown), str(d), str(d / "bds_hub.dir")) as seen:
            assert seen == "/mnt/dump/bds_hub.dir"


def test_tools_reach_asks_the_container(cli):
    docker = cli("docker", [{"match": ["ps"], "stdout": "c0ffee db\n"}, {"match": ["/mnt/dump/a"], "rc": 1},
                            {"match": ["/mnt/dump/b"], "rc": 0}, {"match": ["/mnt/dump/c"], "rc": 127}])
    t = _target.DockerTarget({"type": "docker", "docker_cli": docker.path, "dump_mount": "/mnt/dump"})
    assert [t.tools_reach("/mnt/dump/%s" % x, write=True) for x in "abc"] == [False, True, None]
    call = [c["args"] for c in docker.calls() if "test" in c["args"]][0]
    assert call[:3] == ["exec", "-u", "postgres"] and call[-12:] == [
        "test", "-d", "/mnt/dump/a", "-a", "-r", "/mnt/dump/a", "-a", "-x", "/mnt/dump/a", "-a", "-w", "/mnt/dump/a"]


def test_tools_folder_refuses_a_container_that_cannot_see_the_folder(tmp_path):
    with pytest.raises(TargetError, match="cannot see .*: set connection.dump_mount"):
        with _target.tools_folder(Lender(mount=None), str(tmp_path), str(tmp_path / "x")):
            pass
    assert not (tmp_path / "x").exists()


def test_tools_owner_asks_the_container(cli):
    docker = cli("docker", [{"match": ["ps"], "stdout": "c0ffee db\n"},
                            {"match": ["id", "-g"], "stdout": "998\n"}, {"match": ["id"], "stdout": "999\n"}])
    t = _target.DockerTarget({"type": "docker", "docker_cli": docker.path, "dump_mount": "/mnt/dump"})
    assert t.tools_owner() == (999, 998)
    assert [c["args"][:4] for c in docker.calls() if "id" in c["args"]] == [["exec", "-u", "postgres", "-e"]] * 2
    bad = cli("docker", [{"match": ["ps"], "stdout": "c0ffee db\n"}, {"match": ["id"], "rc": 1, "stderr": "no such user"}])
    t = _target.DockerTarget({"type": "docker", "docker_cli": bad.path})
    with pytest.raises(TargetError, match=r"cannot tell which user the database tools run as in container db \(id -u: no such user\)"):
        t.tools_owner()


def test_tools_folder_without_root_says_so(tmp_path, monkeypatch):
    d = tmp_path / "dump"
    d.mkdir(mode=0o700)

    def refuse(path, uid, gid):
        raise PermissionError(1, "Operation not permitted", path)
    monkeypatch.setattr(_target.os, "lchown", refuse)
    with pytest.raises(TargetError, match=r"cannot lend .*bds_hub.dir to the database tools in container db \(uid 65534\): "
                                          r".*Operation not permitted.*needs root \(become: true\).*"
                                          r"\(hub_dump_mount: false\)\.$"):
        with _target.tools_folder(Lender(), str(d), str(d / "bds_hub.dir")):
            pass
    assert stat.S_IMODE(os.stat(str(d)).st_mode) == 0o700  # never opened to the container


def test_own_pids_are_the_open_psycopg2_sessions_only(tools):
    """The server's process ids of the module's own open sessions (left out of the client sessions a dump or a
    restore refuses); a closed one is no longer the module's."""
    class Session:
        def __init__(self, pid, closed=0):
            self.pid, self.closed = pid, closed

        def get_backend_pid(self):
            return self.pid

    t = _target.TcpTarget({"type": "tcp", "host": "10.0.0.5", "tools_path": tools.path})
    assert t.own_pids() == []
    t.sql_connections.update({"bds_hub": Session(812), ("bds_hub", 1): Session(77), "bdio": Session(90, closed=1)})
    assert t.own_pids() == [77, 812]
