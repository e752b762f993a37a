# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the database is, and how its client tools are run: one class per backend.

* ``DockerTarget``: a container (by name or id, or found by the Hub's image labels); the tools run inside it
  with ``docker exec`` (no TTY: it works from cron, Ansible and AWX) as its ``postgres`` OS user, on its socket.
* ``KubectlTarget``: a pod (by name or label selector) and container; the tools run with ``kubectl exec`` as the
  pod's ``postgres`` OS user: ``kubectl exec`` has no user option, so where the container runs as root (as the
  vendor's manifests leave it) the tools are started through ``su postgres`` (the socket's peer authentication
  admits the ``postgres`` role only for that OS user).
* ``TcpTarget``: a server reached over TCP (external databases such as RDS, or a published port); the tools
  run on the managed host; the password goes through a mode-0600 passfile, never argv. Its queries go through
  psycopg2 where the managed host has it (``sql_params``; _query.py).

Every target answers ``tool_argv(tool, args, stdin=False)`` -> argv and ``env`` for that argv, so the modules
never care which backend they talk to. ``tools_see(dump_dir, path)`` says where the tools find a file of the dump
folder: the same path for TCP, the path under ``connection.dump_mount`` for a container or pod that has the folder
mounted, None when they cannot see it (then the files are streamed); ``tools_folder`` lends such a folder to them.
More than one matching container or pod is an error that lists them; none is an error that says what was searched.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os
import posixpath
import re
import shutil
import tempfile
import time

from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, run, set_log
from ansible_collections.blackduck.hub.plugins.module_utils._query import query

PASSFILE_DIR_PREFIX = "bdhub-"  # <tmp>/bdhub-<pid>-<random>/pgpass: a TCP target's passfile, 0600 in a 0700 folder
_PASSFILE_DIR = re.compile(r"^%s(\d+)-\w+$" % PASSFILE_DIR_PREFIX)

# Every session the collection's tools open carries this application name, so a session of another run (or of a
# killed run's background job) is told apart from a Hub process that still writes.
APPLICATION_NAME = "blackduck.hub"
HUB_IMAGE_LABEL = "com.blackducksoftware.hub.image"
HUB_VERSION_LABEL = "com.blackducksoftware.hub.version"

# The argument spec shared by every module (documented once in doc_fragments/connection.py).
CONNECTION_SPEC = dict(
    type=dict(type="str", required=True, choices=["docker", "kubectl", "tcp"]),
    container=dict(type="str"),
    hub_version=dict(type="str"),
    project=dict(type="str"),
    namespace=dict(type="str", default="default"),
    pod=dict(type="str"),
    selector=dict(type="str", default="app=postgres"),
    kubeconfig=dict(type="path"),
    context=dict(type="str"),
    host=dict(type="str"),
    port=dict(type="int"),
    user=dict(type="str"),
    password=dict(type="str", no_log=True),
    password_file=dict(type="path", no_log=False),
    sslmode=dict(type="str", default="prefer",
                 choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
    tools_path=dict(type="path"),
    docker_cli=dict(type="path"),
    kubectl_cli=dict(type="path"),
    dump_mount=dict(type="str"),
)


def connection_argument_spec():
    """The options every module that reaches a database takes (documented in doc_fragments/connection.py)."""
    return dict(connection=dict(type="dict", required=True, options=CONNECTION_SPEC),
                wait_timeout=dict(type="int", default=300),
                log_file=dict(type="path"))


class TargetError(Exception):
    pass


def stopped_because(target, message, detail, error=TargetError, **values):
    """The error for something that failed because the target's container or pod went away while it ran: message
    formatted with gone (why: 'the container x was removed'), detail (what failed under it, cut to 500 characters)
    and values; None while the database is still there (the failure is then its own, to be raised as it is). Asking
    waits up to 10 s for a database still there (target.gone). message is a literal template (docs/troubleshooting.md
    quotes it): every value goes in through %(name)s, never into the template itself."""
    gone = target.gone()
    if not gone:
        return None
    return error(message % dict(values, gone=gone, detail=detail[:500]))


def make_target(params, which=None):
    """Build the target for a module's ``connection`` option."""
    kind = params["type"]
    if kind == "docker":
        return DockerTarget(params, which)
    if kind == "kubectl":
        return KubectlTarget(params, which)
    return TcpTarget(params)


class _Target:
    kind = None
    default_user = "postgres"

    def __init__(self, params):
        self.params = params
        self.port = params.get("port")
        self.user = params.get("user") or self.default_user
        self.dump_mount = params.get("dump_mount")
        self._tmpdir = None
        # database, or (database, session) for a further session, -> open psycopg2 connection (_query.py)
        self.sql_connections = {}

    # The libpq options every tool takes, as argv items.
    def conn_args(self, database=None):
        args = []
        if self.port:
            args += ["-p", str(self.port)]
        args += ["-U", self.user]
        return args

    @property
    def env(self):
        return dict(os.environ, LC_ALL="C", PGCONNECT_TIMEOUT="10", PGAPPNAME=APPLICATION_NAME)

    def describe(self):
        raise NotImplementedError

    def sql_params(self, database):
        """psycopg2.connect() arguments for database, or None: the target's queries run with psql."""
        return None

    def tools_reach(self, seen, write=False):
        """Whether the tools' user in the container or pod can use the folder ``seen`` there (as tools_see says they
        see it): True, False (it is not mounted there, or not open to them), None when it cannot be told (no
        ``test`` in the image)."""
        args = ["-d", seen, "-a", "-r", seen, "-a", "-x", seen] + (["-a", "-w", seen] if write else [])
        rc, dummy, dummy2 = run(self.tool_argv("test", args, conn=False), env=self.env, timeout=60)
        return True if rc == 0 else False if rc == 1 else None

    def tools_see(self, dump_dir, path):
        """path (dump_dir or a file under it) as the tools find it: under connection.dump_mount, where the dump
        folder is mounted in the container or pod; None without a mount (the tools cannot see the folder)."""
        if not self.dump_mount:
            return None
        rel = os.path.relpath(path, dump_dir)
        if rel == os.curdir:
            return self.dump_mount
        if rel.startswith(os.pardir):
            raise TargetError("%s is not in the dump folder %s" % (path, dump_dir))
        return posixpath.join(self.dump_mount, *rel.split(os.sep))

    def tools_owner(self):
        """(uid, gid) the tools run as in the container or pod, to own a folder they write or read."""
        ids = []
        for flag in ("-u", "-g"):
            rc, out, err = run(self.tool_argv("id", [flag], conn=False), env=self.env, timeout=60)
            if rc != 0 or not out.strip().isdigit():
                raise TargetError("cannot tell which user the database tools run as in %s (id %s: %s)"
                                  % (self.describe(), flag, _first_line(err) or out.strip() or "no answer"))
            ids.append(int(out.strip()))
        return tuple(ids)

    def own_pids(self):
        """The server's process ids of this module's open psycopg2 sessions: its own, never another run's."""
        return sorted(c.get_backend_pid() for c in self.sql_connections.values() if not c.closed)

    def close_sql(self, database=None):
        """Close the psycopg2 sessions on database (a key of sql_connections: that session only; every session
        without one)."""
        for key in list(self.sql_connections):
            if database is not None and key != database and not (isinstance(key, tuple) and key[0] == database):
                continue
            connection = self.sql_connections.pop(key, None)
            if connection is not None:
                connection.close()

    def cleanup(self):
        self.close_sql()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def identity(self):
        """What the target is, for manifests and messages (no secrets)."""
        return {"type": self.kind, "where": self.describe()}

    def gone(self, settle=10.0, interval=0.5):
        """Why the database's container or pod is no longer there ('the container x was removed'), or '' while it
        runs (a server over TCP: always ''). A tool killed with its container may end before the engine or the API
        says the container stopped: ask again for up to `settle` seconds (monotonic clock) before saying ''."""
        end = time.monotonic() + settle
        while True:
            why = self._gone()
            if why or time.monotonic() >= end:
                return why
            time.sleep(interval)

    def _gone(self):
        return ""


class DockerTarget(_Target):
    kind = "docker"

    def __init__(self, params, which=None):
        super(DockerTarget, self).__init__(params)
        self.cli = params.get("docker_cli") or shutil.which("docker")
        if not self.cli:
            raise TargetError("the docker CLI was not found on the managed host: install it or set connection.docker_cli")
        self.container = self._find(params, which)

    def _find(self, params, which):
        if params.get("container"):
            rc, out, err = run([self.cli, "inspect", "-f", "{{.Id}} {{.State.Running}} {{.Name}} {{index .Config.Labels %s}}"
                                % json.dumps(HUB_VERSION_LABEL), params["container"]])
            if rc != 0:
                raise TargetError("no container %r on this Docker engine (%s). Start the Hub's database in migration "
                                  "mode first, or name the right container." % (params["container"], err.strip()))
            cid, running, name, version = (out.split() + [""])[:4]
            if running != "true":
                raise TargetError("container %s is not running: start the Hub's database in migration mode first"
                                  % name.lstrip("/"))
            if params.get("hub_version") and version != params["hub_version"]:
                # a container found by its name (docker-run hubs: always "postgres") may be another version's
                raise TargetError("container %s runs the database of Hub %s, not %s: bring it down and start the "
                                  "database of Hub %s in migration mode" % (name.lstrip("/"), version or "(no version label)",
                                                                            params["hub_version"], params["hub_version"]))
            self.name = name.lstrip("/")
            return cid
        filters = ["%s=postgres" % HUB_IMAGE_LABEL]
        if params.get("hub_version"):
            filters.append("%s=%s" % (HUB_VERSION_LABEL, params["hub_version"]))
        if params.get("project"):
            # a Compose project or a Swarm stack
            filters_c = filters + ["com.docker.compose.project=%s" % params["project"]]
            filters_s = filters + ["com.docker.stack.namespace=%s" % params["project"]]
            found = self._ps(filters_c) + self._ps(filters_s)
        else:
            found = self._ps(filters)
        searched = "running containers labelled %s" % " and ".join(
            filters + (["in Compose project or stack %s" % params["project"]] if params.get("project") else []))
        if not found:
            raise TargetError("no database container found: searched %s. Start the Hub's database in migration mode, "
                              "or set connection.container (with the upgrade role: hub_old_db_container, for the old "
                              "side)." % searched)
        if len(found) > 1:
            raise TargetError("more than one database container matches (%s): %s. Set connection.container, "
                              "connection.project or connection.hub_version to choose one (with the upgrade role: "
                              "hub_old_db_container), or remove the one that is not the Hub's."
                              % (searched, ", ".join(sorted(n for dummy, n in found))))
        self.name = found[0][1]
        return found[0][0]

    def _ps(self, filters):
        argv = [self.cli, "ps", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]
        for f in filters:
            argv += ["--filter", "label=" + f]
        rc, out, err = run(argv)
        if rc != 0:
            raise TargetError("docker ps failed: %s" % err.strip())
        return [tuple(line.split(None, 1)) for line in out.splitlines() if line.strip()]

    def describe(self):
        return "container %s" % self.name

    def _gone(self):
        rc, out, dummy = run([self.cli, "inspect", "-f", "{{.State.Running}}", self.container], timeout=60)
        if rc != 0:
            return "the database container %s was removed" % self.name
        if out.strip() != "true":
            return "the database container %s was stopped" % self.name
        return ""

    def identity(self):
        d = super(DockerTarget, self).identity()
        rc, out, dummy = run([self.cli, "inspect", "-f", "{{json .Config.Labels}}", self.container])
        labels = json.loads(out) if rc == 0 and out.strip() else {}
        d.update(container=self.name, hub_version=(labels or {}).get(HUB_VERSION_LABEL))
        return d

    def tool_argv(self, tool, args, stdin=False, conn=True):
        argv = [self.cli, "exec"] + (["-i"] if stdin else []) + ["-u", "postgres", "-e", "PGAPPNAME=" + APPLICATION_NAME,
                                                                 self.container, tool]
        return argv + (self.conn_args() if conn else []) + list(args)


class KubectlTarget(_Target):
    kind = "kubectl"

    def __init__(self, params, which=None):
        super(KubectlTarget, self).__init__(params)
        self.cli = params.get("kubectl_cli") or shutil.which("kubectl")
        if not self.cli:
            raise TargetError("kubectl was not found on the managed host: install it or set connection.kubectl_cli")
        self.namespace = params.get("namespace") or "default"
        self.pod_container = params.get("container")
        self.pod = self._find(params)
        self._as_postgres = None

    def base(self):
        argv = [self.cli]
        if self.params.get("kubeconfig"):
            argv += ["--kubeconfig", self.params["kubeconfig"]]
        if self.params.get("context"):
            argv += ["--context", self.params["context"]]
        return argv + ["-n", self.namespace]

    def _find(self, params):
        if params.get("pod"):
            rc, out, err = run(self.base() + ["get", "pod", params["pod"], "-o", "json"])
            if rc != 0:
                raise TargetError("no pod %r in namespace %s: %s" % (params["pod"], self.namespace, err.strip()))
            pods = [json.loads(out)]
            searched = "pod %s" % params["pod"]
        else:
            selector = params.get("selector") or "app=postgres"
            rc, out, err = run(self.base() + ["get", "pods", "-l", selector, "-o", "json"])
            if rc != 0:
                raise TargetError("kubectl get pods failed in namespace %s: %s" % (self.namespace, err.strip()))
            pods = json.loads(out).get("items", [])
            searched = "pods with labels %s in namespace %s" % (selector, self.namespace)
        running = [p for p in pods if p.get("status", {}).get("phase") == "Running"
                   and not p["metadata"].get("deletionTimestamp")]
        if not running:
            raise TargetError("no running database pod found: searched %s. Start the Hub's database (migration mode) "
                              "first, or set connection.pod / connection.selector." % searched)
        if len(running) > 1:
            raise TargetError("more than one database pod matches (%s): %s. Set connection.pod or a narrower "
                              "connection.selector." % (searched, ", ".join(sorted(p["metadata"]["name"] for p in running))))
        return running[0]["metadata"]["name"]

    def describe(self):
        return "pod %s/%s" % (self.namespace, self.pod)

    def _gone(self):
        rc, out, dummy = run(self.base() + ["get", "pod", self.pod, "-o", "json"], timeout=60)
        if rc != 0:
            return "the database pod %s/%s was deleted" % (self.namespace, self.pod)
        pod = json.loads(out)
        if pod["metadata"].get("deletionTimestamp") or pod.get("status", {}).get("phase") != "Running":
            return "the database pod %s/%s was stopped" % (self.namespace, self.pod)
        return ""

    def _exec(self, stdin=False):
        argv = self.base() + ["exec"] + (["-i"] if stdin else []) + [self.pod]
        if self.pod_container:
            argv += ["-c", self.pod_container]
        return argv + ["--"]

    def runs_as_root(self):
        """Whether kubectl exec runs as root in the database container (asked once)."""
        if self._as_postgres is None:
            rc, out, dummy = run(self._exec() + ["id", "-u"], timeout=60)
            self._as_postgres = rc == 0 and out.strip() == "0"
        return self._as_postgres

    def tool_argv(self, tool, args, stdin=False, conn=True):
        command = ["env", "PGAPPNAME=" + APPLICATION_NAME, tool] + (self.conn_args() if conn else []) + list(args)
        if self.runs_as_root():
            # su runs the shell as postgres; the shell execs the tool with the arguments as they are ($0 "$@"),
            # never re-parsed. "--" ends su's options, so a tool argument such as -U is not taken for one of them
            # (util-linux and busybox su both pass the words after the user to the shell of -c CMD).
            command = ["su", "-s", "/bin/sh", "-c", 'exec "$0" "$@"', "--", "postgres"] + command
        return self._exec(stdin) + command


class TcpTarget(_Target):
    kind = "tcp"
    default_user = "blackduck"

    def __init__(self, params):
        super(TcpTarget, self).__init__(params)
        if not params.get("host"):
            raise TargetError("connection.host is required when connection.type is tcp")
        self.host = params["host"]
        self.port = params.get("port") or 5432
        self.tools_path = params.get("tools_path")
        password = params.get("password")
        if password is None and params.get("password_file"):
            try:
                with open(params["password_file"]) as f:
                    password = f.read().strip()
            except (IOError, OSError) as exc:
                raise TargetError("cannot read connection.password_file %s: %s" % (params["password_file"], exc))
        self._passfile = None
        self._password = password
        if password is not None:
            sweep_passfiles(tempfile.gettempdir())
            self._tmpdir = tempfile.mkdtemp(prefix="%s%d-" % (PASSFILE_DIR_PREFIX, os.getpid()))
            self._passfile = os.path.join(self._tmpdir, "pgpass")
            fd = os.open(self._passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("*:*:*:*:%s\n" % password.replace("\\", "\\\\").replace(":", "\\:"))

    def conn_args(self, database=None):
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]

    @property
    def env(self):
        env = dict(super(TcpTarget, self).env, PGSSLMODE=self.params.get("sslmode") or "prefer")
        env.pop("PGPASSWORD", None)
        if self._passfile:
            env["PGPASSFILE"] = self._passfile
        return env

    def describe(self):
        return "%s:%s as %s" % (self.host, self.port, self.user)

    def tools_see(self, dump_dir, path):
        return path  # the tools run on the managed host

    def tools_owner(self):
        return None  # as this module's own user

    def sql_params(self, database):
        params = dict(host=self.host, port=self.port, user=self.user, dbname=database, connect_timeout=10,
                      sslmode=self.params.get("sslmode") or "prefer", application_name=APPLICATION_NAME,
                      # a session kept idle through a long dump must outlive NAT and load-balancer idle timeouts
                      keepalives=1, keepalives_idle=60, keepalives_interval=10, keepalives_count=6)
        if self._password is not None:
            params["password"] = self._password
        return params

    def identity(self):
        d = super(TcpTarget, self).identity()
        d.update(host=self.host, port=self.port, user=self.user)
        return d

    def tool(self, name):
        if self.tools_path:
            path = os.path.join(self.tools_path, name)
            if not os.access(path, os.X_OK):
                raise TargetError("%s not found in connection.tools_path %s (with the upgrade role: "
                                  "hub_postgres_tools_path): point it at the bin folder of a PostgreSQL client "
                                  "installation" % (name, self.tools_path))
            return path
        found = shutil.which(name)
        if not found:
            raise TargetError("%s was not found on the managed host: install the PostgreSQL client tools (for example "
                              "the postgresql-client package) or set connection.tools_path (with the upgrade role: "
                              "hub_postgres_tools_path)" % name)
        return found

    def tool_argv(self, tool, args, stdin=False, conn=True):
        return [self.tool(tool)] + (self.conn_args() if conn else []) + list(args)


def sweep_passfiles(tmp):
    """Remove the passfile folders (<tmp>/bdhub-<pid>-...) of module runs that are gone: a job killed by its async
    timeout (SIGKILL), the OOM killer or a reboot never reaches its cleanup. Only a folder whose process no longer
    exists is removed; one of a running module (this or another run) is left alone."""
    try:
        names = os.listdir(tmp)
    except OSError:
        return
    for name in names:
        match = _PASSFILE_DIR.match(name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)
        except OSError:
            pass  # it runs, as another user


@contextlib.contextmanager
def target_session(params, wait_timeout, log_file=None):
    """The module's target, ready to answer queries; its temporary files (passfile) removed afterwards. With
    log_file, every command run (argv, exit code, stderr) is appended to it."""
    set_log(log_file)
    target = make_target(params)
    try:
        wait_ready(target, wait_timeout)
        yield target
    finally:
        target.cleanup()


def tool_version(target, tool):
    """``pg_dump (PostgreSQL) 11.13`` and the like, from the tool that would run."""
    rc, out, err = run(target.tool_argv(tool, ["--version"], conn=False), env=target.env)
    return out.strip() if rc == 0 else None


def wait_ready(target, timeout, interval=2.0):
    """Wait until the server accepts a query (it may still be starting or recovering)."""
    end = time.monotonic() + timeout
    while True:
        try:
            if query(target, "postgres", "SELECT 1;", "asking whether the server is ready", timeout=60) == [["1"]]:
                return
            err = "it answered SELECT 1 with something else"
        except CommandError as exc:
            err = exc.stderr or exc.message
        if "password authentication failed" in err or "no password supplied" in err:
            raise TargetError("the server at %s refused the credentials: %s. Check connection.user and the password "
                              "(with the upgrade role: hub_postgres_admin and hub_postgres_admin_password_file or "
                              "hub_postgres_admin_password, else the AWX credential's HUB_NEW_POSTGRES_ADMIN_PASSWORD_FILE; "
                              "for an old external server the hub_old_postgres_ ones and HUB_OLD_POSTGRES_ADMIN_PASSWORD_FILE)."
                              % (target.describe(), _first_line(err)))
        if time.monotonic() >= end:
            raise TargetError("the database server at %s was not ready after %ss: %s"
                              % (target.describe(), timeout, _first_line(err) or "no answer"))
        time.sleep(interval)


def _first_line(text):
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def check_call(target, tool, args, what, stdin_data=None, timeout=None):
    """Run a small client command on the target; return stdout or raise CommandError with a clear message."""
    rc, out, err = run(target.tool_argv(tool, args, stdin=stdin_data is not None), env=target.env,
                       stdin_data=stdin_data, timeout=timeout)
    if rc != 0:
        raise CommandError("%s on %s failed: %s" % (what, target.describe(), err.strip()[-2000:]), rc=rc, stderr=err)
    return out


@contextlib.contextmanager
def tools_folder(target, dump_dir, path, write=False):
    """Lend path (a folder in dump_dir, made when missing) to the target's tools for the time of the block: owned
    by the user they run as in the container (the postgres user), dump_dir passable (0711) but not readable by it;
    refused when the tools cannot reach it there (write: write into it too). Yields path as the tools see it.
    Afterwards, whatever happened, everything is this module's user's again: folders 0700, files 0600, dump_dir 0700.
    Over TCP nothing needs lending: the tools are this host's."""
    seen = target.tools_see(dump_dir, path)
    if seen is None:
        raise TargetError("the database tools in %s cannot see %s: set connection.dump_mount to where the dump folder "
                          "is mounted in the container or pod" % (target.describe(), dump_dir))
    owner = target.tools_owner()
    if not os.path.isdir(path):
        os.mkdir(path, 0o700)
    if owner is None:
        yield seen
        return
    try:
        _own_tree(path, owner[0], owner[1])
    except OSError as exc:
        raise TargetError("cannot lend %s to the database tools in %s (uid %s): %s. The dump folder is lent by changing "
                          "its owner, which needs root (become: true) on a file system that allows it; else stream "
                          "the dump (hub_dump_mount: false)." % (path, target.describe(), owner[0], exc))
    try:
        os.chmod(dump_dir, 0o711)
        if target.tools_reach(seen, write) is False:
            raise TargetError(
                "the database tools in %s cannot %s %s, where connection.dump_mount says the dump folder is: the "
                "container or pod was started without it mounted there (the upgrade role mounts it at steps 3 and 6: "
                "run again without --tags that leave them out), or may not use it (SELinux, user namespaces: set "
                "hub_dump_mount: false to stream the dump instead). Nothing was written."
                % (target.describe(), "write into" if write else "read", seen))
        yield seen
    finally:
        os.chmod(dump_dir, 0o700)  # as a dump folder always is (also after a run killed while it was lent)
        if os.path.isdir(path):
            _own_tree(path, os.getuid(), os.getgid(), 0o700, 0o600)


def _own_tree(path, uid, gid, dir_mode=None, file_mode=None):
    for root, dirs, files in os.walk(path):
        for name in [root] + [os.path.join(root, f) for f in files]:
            os.lchown(name, uid, gid)
            mode = dir_mode if name == root else file_mode
            if mode is not None and not os.path.islink(name):
                os.chmod(name, mode)
