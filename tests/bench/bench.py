"""make bench SCALE=<MB>: migration speed, memory and disk of the collection against the raw PostgreSQL tools and the
vendor's way, in one run, on the same data.

    python tests/bench/bench.py --scale 100             # what make bench runs (with the lab's venv Python)
    python tests/bench/bench.py compare A.json B.json   # module peak memory of two runs (e.g. 1000 and 4000): flat?

One old-major lab hub (Compose, migration mode, ``bench-old``) is loaded with SCALE MB of Hub-like data. Each path
then moves bds_hub, bds_hub_report and bdio from it into a fresh new-major lab hub (``bench-new``: empty, migration
mode; removed and deployed again before every path) and db_verify (mode exact) checks the result:

  c        db_dump + db_restore through ansible, default settings (docker connection: the tools in the containers)
  d        the same with their fastest settings: format directory over tcp, jobs N (see module_settings)
  d_custom the same, custom format in the containers, the three databases at once
  a        the vendor's way: pg_dump -Fc to the container's /tmp, docker cp out, delete inside, file into pg_restore
  b_dir    raw, by hand: pg_dump -Fd -j N -Z 0 and pg_restore -j N, host tools over TCP (loopback ports)
  b_stream raw stream, no file: docker exec old pg_dump -Fc -Z 0 | docker exec -i new pg_restore, one database at a time
  b_par    the same stream for the three databases at once
  m        db_dump + db_restore with the dump folder mounted into both containers (hub_dump_mount): pg_dump -Fd -j N
           and pg_restore -j N inside the containers on the files themselves, the modules' other defaults

then (e) the whole playbook (ansible-playbook blackduck.hub.upgrade_hub, all eleven steps) on a full Compose hub at
the same scale (``bench-e``), again with hub_dump_mount (``bench-e-mount``), and on a tiny one (scale 0,
``bench-tiny``) for the orchestration overhead; and (f) a fleet: N tiny hubs (``--fleet N``, default 8;
``bench-fleet-<i>``) upgraded by one playbook run with Ansible's default forks, against the tiny hub alone of the same
run (target: at most 3x its time). --sweep 1,2,4 (make bench) runs b_dir and m again with those -j values: how the
directory paths scale with the number of workers.

Prints a table and the targets of the issue (met or missed), writes JSON to BENCH_OUT or --out (default
tests/bench/results/<time>-scale<N>.json). Every lab hub it makes is named bench-* and removed at the end, whatever
happened. Memory: see procmem.py for what is measured and how.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)
for _p in (os.path.join(TESTS, "integration"), os.path.join(TESTS, "lab", "datagen"), os.path.join(TESTS, "lab", "bundles"),
           os.path.join(TESTS, "lab"), TESTS, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import ansible_run  # noqa: E402  (tests/integration/ansible_run.py)
import labhub  # noqa: E402  (tests/lab/labhub.py)
import phases  # noqa: E402  (tests/bench/phases.py)
import procmem  # noqa: E402  (tests/bench/procmem.py)

DATABASES = ("bds_hub", "bds_hub_report", "bdio")
PATHS = {
    "c": "(c) db_dump + db_restore, defaults",
    "d": "(d) modules fastest: -Fd -j N over TCP",
    "d_custom": "(d) modules, custom format, jobs=3",
    "a": "(a) vendor: -Fc, /tmp, docker cp",
    "b_dir": "(b) raw -Fd -j N -Z 0, pg_restore -j N",
    "b_stream": "(b) raw stream -Fc -Z 0 | pg_restore",
    "b_par": "(b) raw stream, 3 databases at once",
    "m": "(m) modules, folder mounted: -Fd -j N inside",
    "s": "(s) db_restore source: stream, no dump file",
    "e_mount": "(e) playbook, the folder mounted (default)",
    "e": "(e) playbook upgrade_hub, 11 steps, streamed",
    "e_stream": "(e) playbook, hub_transfer: stream (no dump file)",
    "tiny": "(e) playbook on a tiny hub (scale 0)",
    "fleet": "(f) playbook on a fleet of tiny hubs",
}
FLEET_FACTOR = 3.0  # N tiny hubs in one run take at most this many times one tiny hub
ORDER = ("c", "d", "d_custom", "a", "b_dir", "b_stream", "b_par", "s", "m")  # m last: it mounts a folder into the old hub
MODULE_PATHS = ("c", "d", "d_custom", "m", "s")
SWEPT = ("b_dir", "m")  # the directory paths, run again per --sweep value: <path>@<jobs>
B_PATHS = ("b_dir", "b_stream", "b_par")
PLAYBOOK_PATHS = ("e", "e_mount", "e_stream")  # the whole playbook at the run's scale, each on a hub of its own
MEMORY_METHOD = (
    "Peak RSS (VmHWM from /proc/<pid>/status, read every 0.2 s for every process of the command's tree; exact "
    "except growth in the last 0.2 s of a process). module = the Python process running AnsiballZ_<module>.py "
    "(the module runs in that process; pipelining off); ansible = the ansible / ansible-playbook controller process "
    "itself. /usr/bin/time -v is run around every ansible command as a cross-check: its 'Maximum resident set "
    "size' is the largest single process among the waited child and the descendants it reaped (here always the "
    "controller), not the module and not a sum. Tools that run inside the containers are not in the tree.")


class BenchError(Exception):
    pass


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def tail(path, n=3000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def du_bytes(path):
    """Bytes of the files under path (apparent size; what the dump takes)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, dummy, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def restore_errors(stderr_text):
    """The error lines pg_restore printed (it goes on after most errors and exits 1): kept for the record;
    db_verify judges the result."""
    return [ln.strip() for ln in stderr_text.splitlines() if "ERROR:" in ln or ": error:" in ln][:20]


def secret_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def ensure_gnu_time():
    if os.access(procmem.GNU_TIME, os.X_OK):
        return
    log("installing GNU time (Debian package time) for /usr/bin/time -v")
    subprocess.run(["apt-get", "install", "-y", "-q", "time"], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


class Bench:
    def __init__(self, args):
        self.args = args
        self.scale = args.scale
        self.seed = args.seed
        self.jobs = args.jobs or max(2, os.cpu_count() or 2)
        self.prefix = args.prefix
        self.work = tempfile.mkdtemp(prefix="bdhub-bench-", dir=os.environ.get("BENCH_WORK") or "/var/tmp")
        os.chmod(self.work, 0o700)
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs)
        self.seq = 0
        self.deployed = []
        self.old = None
        self.ref_dir = None  # a dump manifest of the source (from c, full checksums): what db_verify compares with
        # the lab hubs' password (tests/lab/images/postgres), in 0600 files: the raw tools' passfile, the modules' password_file
        self.passfile = secret_file(os.path.join(self.work, "pgpass"), "127.0.0.1:*:*:blackduck:blackduck\n")
        self.pwfile = secret_file(os.path.join(self.work, "password"), "blackduck\n")
        self.results = {}

    # ------------------------------------------------------------------------------------------------ lab hubs

    def name(self, what):
        name = self.prefix + what
        if not name.startswith("bench-"):
            raise BenchError("lab hubs of the benchmark are named bench-*: %r" % name)
        return name

    def deploy(self, what, **kw):
        name = self.name(what)
        if name not in self.deployed:
            self.deployed.append(name)
        started = time.monotonic()
        hub = labhub.deploy(name, "compose", seed=self.seed, **kw)
        log("lab hub %s deployed (%s, %s) in %.1f s" % (name, hub["deployed_version"], hub["mode"], time.monotonic() - started))
        return hub, time.monotonic() - started

    def remove(self, what):
        name = self.name(what)
        labhub.remove(name)
        if name in self.deployed:
            self.deployed.remove(name)

    def cleanup(self):
        for name in list(self.deployed):
            try:
                labhub.remove(name)
            except Exception as exc:  # go on removing the others; say which one is left
                log("could not remove lab hub %s: %s (remove it with: make lab-hub-rm NAME=%s)" % (name, exc, name))
        if os.environ.get("BENCH_KEEP"):
            log("work folder kept: %s" % self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    @staticmethod
    def container(hub):
        cs = labhub.containers(hub, "postgres")
        if len(cs) != 1:
            raise BenchError("expected one postgres container for %s, found %d" % (hub["name"], len(cs)))
        return cs[0]

    # -------------------------------------------------------------------------------------------- running things

    def logfiles(self, what):
        self.seq += 1
        base = os.path.join(self.logs, "%03d-%s" % (self.seq, re.sub(r"[^a-z0-9_.-]+", "-", what.lower())))
        return base + ".out", base + ".err", base + ".time"

    def run(self, what, argv, env=None, stdin_path=None, ok_codes=(0,), timed=False):
        out, err, tfile = self.logfiles(what)
        stdin = open(stdin_path, "rb") if stdin_path else None
        try:
            res = procmem.run_measured(argv, env=env, stdout=out, stderr=err, stdin=stdin, time_file=tfile if timed else None)
        finally:
            if stdin:
                stdin.close()
        res.update(out=out, err=err)
        if res["rc"] not in ok_codes:
            raise BenchError("%s failed (exit %d): %s\n%s" % (what, res["rc"], " ".join(argv), tail(err)))
        return res

    def ansible_env(self, extra=None):
        env = ansible_run.ansible_env({"ANSIBLE_PIPELINING": "False", "ANSIBLE_NOCOLOR": "1"})
        env.update(extra or {})
        return env

    def module(self, name, params):
        """Run blackduck.hub.<name> through ansible (ad hoc, on localhost), measured; return (result, measure)."""
        argv = [os.path.join(ansible_run.BIN, "ansible"), "localhost", "-o", "-m", "blackduck.hub.%s" % name,
                "-a", json.dumps(params)]
        m = self.run("ansible-" + name, argv, env=self.ansible_env(), ok_codes=(0, 2, 4), timed=True)
        with open(m["out"]) as f:
            lines = [ln for ln in f.read().splitlines() if ln.startswith("localhost | ")]
        if not lines:
            raise BenchError("ansible %s gave no result (exit %d):\n%s" % (name, m["rc"], tail(m["err"])))
        status, body = lines[0].split(" => ", 1)
        result = json.loads(body)
        result["failed"] = "FAILED" in status or "UNREACHABLE" in status
        return result, m

    def tcp_env(self):
        return dict(os.environ, PGPASSFILE=self.passfile, PGSSLMODE="disable", PGCONNECT_TIMEOUT="10")

    @staticmethod
    def host_tool(tool):
        """The newest PostgreSQL client on the host (the binary itself, not Debian's pg_wrapper script)."""
        majors = sorted((int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit()), reverse=True) \
            if os.path.isdir("/usr/lib/postgresql") else []
        for major in majors:
            path = "/usr/lib/postgresql/%d/bin/%s" % (major, tool)
            if os.access(path, os.X_OK):
                return path
        found = shutil.which(tool)
        if not found:
            raise BenchError("%s is not on this host: apt-get install postgresql-client" % tool)
        return found

    # ----------------------------------------------------------------------------------------------- verification

    def verify(self, target, own_dump=None):
        """db_verify, mode exact, through ansible: against the path's own dump (marker required) or the reference
        manifest of the source (raw paths leave no marker)."""
        params = {"connection": self.docker_conn(target, labhub.NEW), "mode": "exact"}
        if own_dump:
            params["dump_dir"] = own_dump
        else:
            params.update(dump_dir=self.ref_dir, require_marker=False)
        r, m = self.module("db_verify", params)
        diffs = r.get("differences") or []
        return {"passed": bool(r.get("verified")) and not r["failed"], "seconds": m["seconds"], "mode": "exact",
                "module_peak_mib": m["peaks_mb"].get("module:db_verify"),
                "against": "its own dump" if own_dump else "the reference manifest of the source (from c)",
                "differences": len(diffs), "first_differences": diffs[:5], "msg": r.get("msg") if r["failed"] else None}

    @staticmethod
    def docker_conn(hub, version):
        return {"type": "docker", "project": hub["project"], "hub_version": version}

    def tcp_conn(self, hub):
        return {"type": "tcp", "host": "127.0.0.1", "port": hub["pg_port"], "user": "blackduck",
                "password_file": self.pwfile, "sslmode": "disable",
                "tools_path": os.path.dirname(self.host_tool("pg_dump"))}

    def module_settings(self, key, target, jobs=None):
        """(db_dump options, db_restore options) of a module path, connections included.

        c:        the defaults (docker: the tools inside the containers; custom format; jobs=2; checksums=full;
                  analyze=true).
        d:        the fastest: format=directory over tcp with the host's newest client (pg_dump --jobs N,
                  pg_restore --jobs N, as b_dir does), checksums=count (row counts only: one read of every table
                  less), analyze=false (the raw paths run no ANALYZE either); no_role_passwords, since the dump
                  connects as blackduck, not a superuser (the new image's roles keep their passwords anyway).
        d_custom: custom format in the containers, the three databases at once (jobs=3), checksums=count,
                  analyze=false.
        m:        the dump folder mounted into both containers (connection.dump_mount, as hub_dump_mount does):
                  format=directory, jobs N (pg_dump --jobs N and pg_restore --jobs N inside the containers), every other
                  option at its default (checksums=full, analyze=true).
        """
        jobs = jobs or self.jobs
        if key == "m":
            return ({"connection": dict(self.docker_conn(self.old, labhub.OLD), dump_mount=labhub.DUMP_MOUNT),
                     "format": "directory", "jobs": jobs},
                    {"connection": dict(self.docker_conn(target, labhub.NEW), dump_mount=labhub.DUMP_MOUNT), "jobs": jobs})
        if key == "c":
            return ({"connection": self.docker_conn(self.old, labhub.OLD)},
                    {"connection": self.docker_conn(target, labhub.NEW)})
        if key == "d":
            return ({"connection": self.tcp_conn(self.old), "format": "directory", "jobs": self.jobs, "checksums": "count",
                     "no_role_passwords": True},
                    {"connection": self.tcp_conn(target), "jobs": self.jobs, "analyze": False})
        return ({"connection": self.docker_conn(self.old, labhub.OLD), "jobs": 3, "checksums": "count"},
                {"connection": self.docker_conn(target, labhub.NEW), "jobs": 3, "analyze": False})

    # ---------------------------------------------------------------------------------------------------- paths

    def mounted_folder(self, target):
        """m's dump folder, empty, mounted into the old hub (once) and into this target: the containers are made again
        with the bind mount, on the same data volumes (not timed)."""
        folder = os.path.join(self.work, "m", "dump")
        if os.path.isdir(folder):  # the same folder stays mounted in the old container: empty it, keep it
            for entry in os.listdir(folder):
                path = os.path.join(folder, entry)
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        else:
            os.makedirs(folder, 0o700)
        if not self.old.get("dump_mounted"):
            labhub.mount_dump_folder(self.old, labhub.OLD, folder)
            self.old["dump_mounted"] = True
        labhub.mount_dump_folder(target, labhub.NEW, folder)
        return folder

    def path_modules(self, key, target, dump_opts, restore_opts):
        dump_dir = self.mounted_folder(target) if key == "m" else os.path.join(self.work, key, "dump")
        r1, m1 = self.module("db_dump", dict(dump_opts, dump_dir=dump_dir))
        if r1["failed"]:
            raise BenchError("db_dump failed: %s" % r1.get("msg"))
        r2, m2 = self.module("db_restore", dict(restore_opts, dump_dir=dump_dir))
        if r2["failed"]:
            raise BenchError("db_restore failed: %s" % r2.get("msg"))
        if key == "c":  # defaults: full checksums; its manifest is the reference for the paths that leave none
            self.ref_dir = os.path.join(self.work, "reference")
            os.makedirs(self.ref_dir, 0o700)
            shutil.copy(os.path.join(dump_dir, "manifest.json"), self.ref_dir)
        size = du_bytes(dump_dir)
        out = {
            "dump_s": m1["seconds"], "restore_s": m2["seconds"], "total_s": round(m1["seconds"] + m2["seconds"], 3),
            "bytes_on_disk": size, "peak_disk_bytes": size,
            "module_peak_mib": {"db_dump": m1["peaks_mb"].get("module:db_dump"),
                                "db_restore": m2["peaks_mb"].get("module:db_restore")},
            "ansible_peak_mib": max(m1["peaks_mb"].get("ansible", 0), m2["peaks_mb"].get("ansible", 0)),
            "time_v_max_rss_mib": max(m1["time_v_max_rss_mb"] or 0, m2["time_v_max_rss_mb"] or 0),
            "tree_rss_peak_mib": max(m1["tree_rss_peak_mb"], m2["tree_rss_peak_mb"]),
            "peaks_by_process_mib": {"db_dump": m1["peaks_mb"], "db_restore": m2["peaks_mb"]},
            "settings": {"db_dump": dump_opts, "db_restore": restore_opts},
            "breakdown": self.module_breakdown(r1, m1, r2, m2),
            "warnings": r2.get("warnings_ignored", []),
        }
        out["verify"] = self.verify(target, own_dump=dump_dir if key == "c" else None)
        if key != "m":  # m's folder stays mounted in the old container
            shutil.rmtree(os.path.join(self.work, key), ignore_errors=True)
        return out

    def path_stream_module(self, target):
        """hub_transfer: stream's module: db_restore with source (the three databases at once, as b_par; the source's
        tables counted beside), then step 7's exact comparison with the record (db_verify, jobs N) - in total_s, as
        the target for a stream counts it; the raw stream paths verify nothing."""
        dump_dir = os.path.join(self.work, "s", "dump")
        r, m = self.module("db_restore", {"source": self.docker_conn(self.old, labhub.OLD), "dump_dir": dump_dir,
                                          "connection": self.docker_conn(target, labhub.NEW), "jobs": 3})
        if r["failed"]:
            raise BenchError("db_restore with source failed: %s" % r.get("msg"))
        out = {"dump_s": None, "restore_s": m["seconds"], "bytes_on_disk": du_bytes(dump_dir),
               "peak_disk_bytes": du_bytes(dump_dir), "module_peak_mib": {"db_dump": None,
                                                                          "db_restore": m["peaks_mb"].get("module:db_restore")},
               "ansible_peak_mib": m["peaks_mb"].get("ansible", 0), "settings": {"db_restore": {"jobs": 3}},
               "pg_restore_stream_s": {n: v.get("seconds") for n, v in sorted(r.get("restored", {}).items())},
               "warnings": r.get("warnings_ignored", [])}
        out["verify"] = self.verify(target, own_dump=dump_dir)  # against the stream's own record, marker required
        out["total_s"] = round(m["seconds"] + out["verify"]["seconds"], 3)
        out["how"] = ("restore_s: db_restore streaming (pg_dump in the old container | pg_restore in the new, the source "
                      "counted beside); total_s adds db_verify exact against the record (%s s)" % out["verify"]["seconds"])
        shutil.rmtree(os.path.join(self.work, "s"), ignore_errors=True)
        return out

    @staticmethod
    def module_breakdown(r1, m1, r2, m2):
        """Where the module paths' time goes: ansible around the module, the module itself, and inside it the
        pg_dump / pg_restore streams (per database; they overlap when jobs > 1)."""
        def lifetime(m, label):
            spans = m["watch"].lifetimes(label)
            return round(sum(b - a for a, b in spans), 2) if spans else None

        d_life, r_life = lifetime(m1, "module:db_dump"), lifetime(m2, "module:db_restore")
        dbs = r1.get("databases", {})
        restored = r2.get("restored", {})
        return {
            "db_dump": {"wall_s": m1["seconds"], "module_process_s": d_life,
                        "ansible_around_module_s": round(m1["seconds"] - d_life, 2) if d_life else None,
                        "module_reported_s": r1.get("seconds"),
                        "pg_dump_stream_s": {n: v.get("seconds") for n, v in sorted(dbs.items())},
                        "note": "module_reported_s - streams = pg_restore --list pass over each file, the per-table "
                                "row counts (and checksums) taken at dump time, catalog reads, manifest"},
            "db_restore": {"wall_s": m2["seconds"], "module_process_s": r_life,
                           "ansible_around_module_s": round(m2["seconds"] - r_life, 2) if r_life else None,
                           "pg_restore_stream_s": {n: v.get("seconds") for n, v in sorted(restored.items())},
                           "note": "module_process_s - streams = sha256 of every dump file before restoring, roles "
                                   "(globals.sql), create database, markers, fixups, ANALYZE"},
        }

    def path_vendor(self, target):
        old_c, new_c = self.container(self.old), self.container(target)
        folder = os.path.join(self.work, "a")
        os.makedirs(folder)
        started = time.monotonic()
        host_bytes, peak, peaks = 0, 0, {}
        for db in DATABASES:
            inside = "/tmp/%s.dump" % db
            # The vendor's script runs pg_dump -U blackduck on the Hub's certificate login; the lab's socket login is
            # peer, so the postgres OS user runs it as postgres. Default compression (-Fc), as the vendor's.
            m = self.run("a-dump-" + db, ["docker", "exec", "-u", "postgres", old_c, "pg_dump", "-U", "postgres", "-Fc",
                                          "-f", inside, db])
            peaks = merge_peaks(peaks, m["peaks_mb"])
            path = os.path.join(folder, "%s.dump" % db)
            m = self.run("a-cp-" + db, ["docker", "cp", "%s:%s" % (old_c, inside), path])
            peaks = merge_peaks(peaks, m["peaks_mb"])
            size = os.path.getsize(path)
            peak = max(peak, host_bytes + 2 * size)  # the copy in the container's /tmp and the one on the host
            host_bytes += size
            self.run("a-rm-" + db, ["docker", "exec", "-u", "postgres", old_c, "rm", "-f", inside])
        dump_s = time.monotonic() - started
        started = time.monotonic()
        errors = []
        for db in DATABASES:
            m = self.run("a-restore-" + db, ["docker", "exec", "-i", "-u", "postgres", new_c, "pg_restore", "-U", "postgres",
                                             "-Fc", "--verbose", "--clean", "--if-exists", "-d", db],
                         stdin_path=os.path.join(folder, "%s.dump" % db), ok_codes=(0, 1))
            peaks = merge_peaks(peaks, m["peaks_mb"])
            errors += restore_errors(tail(m["err"], 200000))
        restore_s = time.monotonic() - started
        shutil.rmtree(folder, ignore_errors=True)
        return self.raw_result(dump_s, restore_s, dump_s + restore_s, host_bytes, peak, peaks, errors, target, None,
                               "pg_dump -Fc inside the old container to /tmp, docker cp, rm inside; pg_restore -Fc --verbose "
                               "--clean --if-exists inside the new container, fed the file on stdin; databases one after "
                               "the other. Left out: the vendor's guard query and its two reporting-job statements "
                               "(milliseconds; without a restore marker db_verify would count their deletions as "
                               "differences).")

    def path_dir(self, target, jobs=None):
        env = self.tcp_env()
        jobs = jobs or self.jobs
        pg_dump, pg_restore = self.host_tool("pg_dump"), self.host_tool("pg_restore")
        folder = os.path.join(self.work, "b_dir")
        shutil.rmtree(folder, ignore_errors=True)  # a failed run before this one may have left it
        os.makedirs(folder)
        conn_old = ["-h", "127.0.0.1", "-p", str(self.old["pg_port"]), "-U", "blackduck"]
        conn_new = ["-h", "127.0.0.1", "-p", str(target["pg_port"]), "-U", "blackduck"]
        peaks, errors, per_db = {}, [], {db: {} for db in DATABASES}
        started = time.monotonic()
        for db in DATABASES:
            argv = [pg_dump] + conn_old + ["-Fd", "-j", str(jobs), "-Z", "0", "-f", os.path.join(folder, db), db]
            m = self.run("b-dir-dump-" + db, argv, env=env)
            per_db[db]["dump_s"] = m["seconds"]
            peaks = merge_peaks(peaks, m["peaks_mb"])
        dump_s = time.monotonic() - started
        size = du_bytes(folder)
        started = time.monotonic()
        for db in DATABASES:
            # --clean --if-exists: the new image made bds_hub with an empty schema st (the vendor's restore does the same)
            argv = [pg_restore] + conn_new + ["-j", str(jobs), "--clean", "--if-exists", "-d", db,
                                              os.path.join(folder, db)]
            m = self.run("b-dir-restore-" + db, argv, env=env, ok_codes=(0, 1))
            per_db[db]["restore_s"] = m["seconds"]
            per_db[db]["bytes"] = du_bytes(os.path.join(folder, db))
            peaks = merge_peaks(peaks, m["peaks_mb"])
            errors += restore_errors(tail(m["err"], 200000))
        restore_s = time.monotonic() - started
        shutil.rmtree(folder, ignore_errors=True)
        return self.raw_result(dump_s, restore_s, dump_s + restore_s, size, size, peaks, errors, target, per_db,
                               "host tools (PostgreSQL %s client) over TCP to the hubs' loopback ports as blackduck "
                               "(password from a 0600 passfile); -j %d; databases one after the other"
                               % (tool_major(pg_dump), jobs))

    def path_stream(self, target, parallel):
        old_c, new_c = self.container(self.old), self.container(target)
        batches = [list(DATABASES)] if parallel else [[db] for db in DATABASES]
        dump_s = restore_s = 0.0
        peaks, errors, per_db = {}, [], {}
        started = time.monotonic()
        for batch in batches:
            d, r, p, e = self.pipelines(old_c, new_c, batch)
            dump_s, restore_s = dump_s + d, restore_s + r
            peaks = merge_peaks(peaks, p)
            errors += e
            if len(batch) == 1:
                per_db[batch[0]] = {"dump_s": round(d, 3), "restore_s": round(r, 3)}
        total = time.monotonic() - started
        return self.raw_result(dump_s, restore_s, total, 0, 0, peaks, errors, target, per_db or None,
                               "docker exec old pg_dump -Fc -Z 0 | docker exec -i new pg_restore, no file; %s. dump_s and "
                               "restore_s run at the same time (each is how long that side ran): total_s is the wall "
                               "time" % ("the three databases at once" if parallel else "databases one after the other"))

    def pipelines(self, old_c, new_c, dbs):
        """Run one stream per database at the same time; return (dump seconds, restore seconds, peaks, errors),
        the seconds being the longest of the batch."""
        procs, files = [], []
        started = time.monotonic()
        for db in dbs:
            out, err_dump, dummy = self.logfiles("stream-dump-" + db)
            dummy, err_restore, dummy = self.logfiles("stream-restore-" + db)
            fd, fr = open(err_dump, "wb"), open(err_restore, "wb")
            files += [fd, fr]
            dump = subprocess.Popen(["docker", "exec", "-u", "postgres", old_c, "pg_dump", "-U", "postgres", "-Fc", "-Z", "0",
                                     db], stdout=subprocess.PIPE, stderr=fd, stdin=subprocess.DEVNULL)
            restore = subprocess.Popen(["docker", "exec", "-i", "-u", "postgres", new_c, "pg_restore", "-U", "postgres",
                                        "--clean", "--if-exists", "-d", db], stdin=dump.stdout, stdout=subprocess.DEVNULL,
                                       stderr=fr)
            dump.stdout.close()  # pg_restore holds the pipe; pg_dump sees EPIPE if it stops
            procs.append((db, dump, restore, err_dump, err_restore))
        watch = procmem.TreeWatch([p.pid for dummy, a, b, dummy2, dummy3 in procs for p in (a, b)])
        watch.start()
        ends_dump, ends_restore, failures, errors = [], [], [], []
        try:
            for db, dump, restore, err_dump, err_restore in procs:
                rc_d = dump.wait()
                ends_dump.append(time.monotonic() - started)
                rc_r = restore.wait()
                ends_restore.append(time.monotonic() - started)
                if rc_d != 0:
                    failures.append("pg_dump %s exit %d: %s" % (db, rc_d, tail(err_dump)))
                if rc_r not in (0, 1):
                    failures.append("pg_restore %s exit %d: %s" % (db, rc_r, tail(err_restore)))
                errors += restore_errors(tail(err_restore, 200000))
        finally:
            watch.stop()
            for f in files:
                f.close()
        if failures:
            raise BenchError("stream failed: %s" % " | ".join(failures))
        return max(ends_dump), max(ends_restore), watch.peaks_mb(), errors

    def raw_result(self, dump_s, restore_s, total_s, size, peak_disk, peaks, errors, target, per_db, how):
        out = {"dump_s": round(dump_s, 3), "restore_s": round(restore_s, 3), "total_s": round(total_s, 3),
               "bytes_on_disk": size, "peak_disk_bytes": peak_disk, "module_peak_mib": None, "ansible_peak_mib": None,
               "host_tools_peak_mib": peaks, "how": how, "restore_errors": errors}
        if per_db:
            out["per_database"] = per_db
        out["verify"] = self.verify(target)
        return out

    # ------------------------------------------------------------------------------------------------- playbook

    def playbook(self, key, scale):
        hub, deploy_s = self.deploy(key.replace("_", "-"), version="old", scale=scale, full=True)
        dump_root = os.path.join(self.work, key)
        os.makedirs(dump_root)
        settings = {"hub_remove_old_data": True}
        if key == "e_mount":  # the default (hub_dump_mount: auto), with the run's -j
            settings.update(hub_dump_jobs=self.jobs)
        elif key == "e_stream":  # the old database apart beside the new one, each database piped: no dump file
            settings.update(hub_transfer="stream", hub_dump_jobs=self.jobs)
        else:  # streamed through docker exec (hub_dump_mount: false)
            settings.update(hub_dump_mount=False)
        inv = ansible_run.hub_inventory([hub], dump_root, **{hub["name"]: settings})
        inv_path = os.path.join(self.work, key + "-inventory.json")
        with open(inv_path, "w") as f:
            json.dump(inv, f)
        env = self.ansible_env({"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                                "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all", "PROFILE_TASKS_SORT_ORDER": "none"})
        versions = self.results["run"]["versions"]
        versions.setdefault("postgresql_old_server", labhub.psql(hub, "SHOW server_version", db="postgres").strip())
        m = self.run("playbook-" + key, [os.path.join(ansible_run.BIN, "ansible-playbook"), "-i", inv_path,
                                         "blackduck.hub.upgrade_hub"], env=env, ok_codes=(0, 2, 4), timed=True)
        with open(m["out"]) as f:
            output = f.read()
        tasks = profile_tasks(output)
        steps = per_step(tasks)
        dumping, restoring = moving(tasks, DUMP_TASKS), moving(tasks, RESTORE_TASKS)
        state_path = os.path.join(dump_root, hub["name"], "state.json")
        state = json.load(open(state_path)) if os.path.exists(state_path) else {}
        done = sorted((v.get("number", 0), k) for k, v in state.get("steps", {}).items() if v.get("status") == "done")
        verification = state.get("steps", {}).get("restore", {}).get("data", {}).get("verification", {})
        passed = m["rc"] == 0 and len(done) == 11 and bool(verification) and all(
            not v.get("differences") for v in verification.values())
        if m["rc"] == 0:
            versions.setdefault("postgresql_new_server", labhub.psql(hub, "SHOW server_version", db="postgres").strip())
        dump_dir = os.path.join(dump_root, hub["name"], "dump")
        # the dump's own files: not the record of what it holds (manifest.json, a few KB; all a stream leaves)
        size = du_bytes(dump_dir) - du_bytes(os.path.join(dump_dir, "manifest.json")) if os.path.isdir(dump_dir) else 0
        out = {
            "scale": scale, "deploy_s": round(deploy_s, 1), "rc": m["rc"], "settings": settings,
            # each step starts its job in the background and waits for it (async_progress): both tasks count
            "dump_s": dumping[0], "restore_s": restoring[0], "moving_tasks": dumping[1] + restoring[1],
            "total_s": m["seconds"], "bytes_on_disk": size, "peak_disk_bytes": size, "dump_dir_bytes": du_bytes(dump_root),
            "module_peak_mib": {k.split(":", 1)[1]: v for k, v in m["peaks_mb"].items() if k.startswith("module:")},
            "ansible_peak_mib": m["peaks_mb"].get("ansible-playbook"),
            "ansible_worker_peak_mib": m["peaks_mb"].get("ansible-worker"),
            "time_v_max_rss_mib": m["time_v_max_rss_mb"], "tree_rss_peak_mib": m["tree_rss_peak_mb"],
            "steps_s": steps, "steps_done": [k for dummy, k in done], "tasks_run": len(tasks),
            "verify": {"passed": passed, "mode": "exact at step 7 (before the Hub starts) and live at step 10, inside "
                       "the playbook", "seconds": task_seconds(tasks, "Verify every table against the dump"),
                       "databases": sorted(verification)},
        }
        if m["rc"] != 0:
            out["verify"]["msg"] = tail(m["out"], 4000)
        self.remove(key.replace("_", "-"))
        return out

    def fleet(self, n):
        """(f) n tiny hubs upgraded by one playbook run with Ansible's default forks (all eleven steps, as the tiny
        hub's run), read back from each hub's state and the run's fleet report."""
        hubs, deploy_s = [], 0.0
        for i in range(1, n + 1):
            hub, seconds = self.deploy("fleet-%d" % i, version="old", scale=0, full=True)
            hubs.append(hub)
            deploy_s += seconds
        dump_root = os.path.join(self.work, "fleet")
        os.makedirs(dump_root)
        inv = ansible_run.hub_inventory(hubs, dump_root, **dict((h["name"], {"hub_remove_old_data": True}) for h in hubs))
        inv_path = os.path.join(self.work, "fleet-inventory.json")
        with open(inv_path, "w") as f:
            json.dump(inv, f)
        env = self.ansible_env({"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                                "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all", "PROFILE_TASKS_SORT_ORDER": "none"})
        env.pop("ANSIBLE_FORKS", None)
        m = self.run("playbook-fleet", [os.path.join(ansible_run.BIN, "ansible-playbook"), "-i", inv_path,
                                        "blackduck.hub.upgrade_hub"], env=env, ok_codes=(0, 2, 4), timed=True)
        with open(m["out"]) as f:
            tasks = profile_tasks(f.read())
        report_path = os.path.join(dump_root, "fleet", "fleet.json")
        fleet = json.load(open(report_path)) if os.path.exists(report_path) else {"hubs": []}
        rows = dict((h["host"], h) for h in fleet["hubs"])
        migrated = [h["name"] for h in hubs if rows.get(h["name"], {}).get("outcome") == "migrated"
                    and len(rows[h["name"]].get("steps_done", [])) == 11]
        out = {
            "scale": 0, "hubs": n, "forks": "ansible default (5)", "deploy_s": round(deploy_s, 1), "rc": m["rc"],
            "dump_s": moving(tasks, DUMP_TASKS)[0], "restore_s": moving(tasks, RESTORE_TASKS)[0],
            "total_s": m["seconds"], "steps_s": per_step(tasks), "tasks_run": len(tasks),
            "downtime_s": dict((k, v.get("downtime_seconds")) for k, v in sorted(rows.items())),
            "module_peak_mib": {k.split(":", 1)[1]: v for k, v in m["peaks_mb"].items() if k.startswith("module:")},
            "ansible_peak_mib": m["peaks_mb"].get("ansible-playbook"),
            "verify": {"passed": m["rc"] == 0 and len(migrated) == n, "mode": "each hub migrated, all eleven steps done "
                       "(its row of the run's fleet report)", "migrated": len(migrated)},
        }
        if m["rc"] != 0:
            out["verify"]["msg"] = tail(m["out"], 4000)
        for i in range(1, n + 1):
            self.remove("fleet-%d" % i)
        return out

    def one_path(self, key):
        """Deploy a fresh empty new-major target and move the data by path ``key`` (``<path>@<jobs>``: a swept path
        with that -j) into it."""
        target, dummy = self.deploy("new", version="new", load=False, full=False)
        self.results["run"]["versions"].setdefault("postgresql_new_server", labhub.psql(
            target, "SHOW server_version", db="postgres").strip())
        key, dummy, jobs = key.partition("@")
        jobs = int(jobs) if jobs else None
        if key == "s":
            return self.path_stream_module(target)
        if key in MODULE_PATHS:
            return self.path_modules(key, target, *self.module_settings(key, target, jobs))
        if key == "a":
            return self.path_vendor(target)
        if key == "b_dir":
            return self.path_dir(target, jobs)
        return self.path_stream(target, parallel=key == "b_par")

    def phases(self):
        """db_dump's and db_restore's work phase by phase, one database at a time (phases.py), into a fresh target."""
        log("phases: the modules' work, phase by phase")
        target, dummy = self.deploy("new", version="new", load=False, full=False)
        try:
            return phases.measure(self.old, target, os.path.join(self.work, "phases"), DATABASES, labhub.OLD, labhub.NEW)
        except Exception as exc:  # the timings are an explanation, not a path: record the failure and go on
            log("phases failed: %s" % exc)
            return {"error": str(exc)}
        finally:
            shutil.rmtree(os.path.join(self.work, "phases"), ignore_errors=True)
            self.remove("new")

    # ------------------------------------------------------------------------------------------------------ run

    def main(self):
        ensure_gnu_time()
        res = self.results
        res["run"] = run_facts(self)
        res["memory_method"] = MEMORY_METHOD
        res["paths"] = {}
        # c always runs, first: its manifest (full checksums) is what db_verify compares the raw paths with
        paths = run_order(self.args.paths, self.args.sweep, self.jobs)
        try:
            if self.args.paths:
                self.old, load_s = self.deploy("old", version="old", scale=self.scale, full=False)
                res["data"] = data_facts(self.old, load_s, self.scale, self.seed)
                res["run"]["versions"]["postgresql_old_server"] = res["data"].pop("server_version")
                for key in paths:
                    log("path %s: %s" % (key, label(key)))
                    try:
                        out = self.one_path(key)
                    except (BenchError, labhub.LabError) as exc:  # recorded, and the other paths still run
                        out = {"error": str(exc)}
                        log("path %s failed: %s" % (key, exc))
                    finally:
                        self.remove("new")
                    out["label"] = label(key)
                    res["paths"][key] = out
                    log("path %s: %s" % (key, summary_line(out)))
                if self.args.phases:
                    res["phases"] = self.phases()
                self.remove("old")
            for key, scale, wanted in [(k, self.scale, self.args.playbook) for k in PLAYBOOK_PATHS] + [
                    ("tiny", 0, self.args.tiny)]:
                if not wanted:
                    res["paths"][key] = {"label": PATHS[key], "skipped": self.args.skip_reason.get(key, "not asked for")}
                    log("path %s skipped: %s" % (key, res["paths"][key]["skipped"]))
                    continue
                log("path %s: %s" % (key, PATHS[key]))
                try:
                    out = self.playbook(key, scale)
                except (BenchError, labhub.LabError) as exc:
                    out = {"error": str(exc)}
                out["label"] = PATHS[key]
                res["paths"][key] = out
                log("path %s: %s" % (key, summary_line(out)))
            if self.args.fleet > 0:
                log("path fleet: %s (%d hubs)" % (PATHS["fleet"], self.args.fleet))
                try:
                    out = self.fleet(self.args.fleet)
                except (BenchError, labhub.LabError) as exc:
                    out = {"error": str(exc)}
            else:
                out = {"skipped": "--fleet 0 given"}
            out["label"] = PATHS["fleet"] + (" (%d)" % self.args.fleet if self.args.fleet > 0 else "")
            res["paths"]["fleet"] = out
            log("path fleet: %s" % summary_line(out))
        finally:
            self.cleanup()
        res["run"]["finished"] = now_utc()
        ratios(res)
        res["targets"] = targets(res, self.scale)
        return res


# ------------------------------------------------------------------------------------------------ helpers

def run_order(paths, sweep, jobs):
    """The paths in the order they run: c first (its manifest is the reference), then ORDER, each directory path
    followed by its --sweep runs (-j values other than the run's own: <path>@<jobs>), before m mounts a folder into the
    old hub (its container made again: a cold cache for what follows)."""
    out = []
    for p in ORDER:
        if p == "c" or p in paths:
            out.append(p)
            if p in SWEPT:
                out += ["%s@%d" % (p, j) for j in sweep if j != jobs]
    return out


def label(key):
    base, dummy, jobs = key.partition("@")
    return PATHS[base] + (" (-j %s)" % jobs if jobs else "")


def merge_peaks(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = max(out.get(k, 0), v)
    return out


def tool_major(path):
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"(\d+)(?:\.\d+)+", out)
    return m.group(1) if m else "?"


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


TASK_LINE = re.compile(r"^(.+?) -* ?(\d+\.\d+)s$")


def profile_tasks(output):
    """[(task name, seconds)] in the order they ran, from ansible.posix.profile_tasks' recap (sort order none)."""
    tasks, recap = [], False
    for line in output.splitlines():
        if line.startswith("TASKS RECAP"):
            recap = True
            continue
        if recap:
            m = TASK_LINE.match(line.strip())
            if m:
                tasks.append((m.group(1).strip(), float(m.group(2))))
    return tasks


def in_steps(tasks):
    """(bucket, name, seconds) per task: a task counts for the last task of the step runner before it ('Step | <n>
    <title>' of step_if_due.yml, 'Step | Record the start of step <n>', 'Step | <n> <name>'; a step's own tasks and
    the orchestration role's have names of their own); before step 1 is 'setup' (discover, state), the report and
    the summary play are 'report'."""
    out, current = [], "setup"
    for name, seconds in tasks:
        m = re.search(r"Step \| (?:Record the start of step )?(\d+)\b", name)
        if m:
            current = "step %02d" % int(m.group(1))
        out.append(("report" if re.search(r"Report \||Summary \||Write the report|Fail when a step failed", name)
                    else current, name, seconds))
    return out


def per_step(tasks):
    """Seconds per step (in_steps' buckets)."""
    steps = {}
    for bucket, dummy, seconds in in_steps(tasks):
        steps[bucket] = round(steps.get(bucket, 0) + seconds, 2)
    return steps


# The tasks that move the data, each with the task that waits for its job: step 4's dump, or with hub_transfer: stream
# step 4's db_restore from the old database (restore_data.yml, "Restore - ..."); step 7's db_restore from the dump
# (the same file; nothing with a stream, whose step 7 only compares).
DUMP_TASKS = ("step 04", ("Dump every database and the roles", "Wait for the dump, showing", "Restore - "))
RESTORE_TASKS = ("step 07", ("Restore - ",))


def moving(tasks, which):
    """(seconds, the names counted) of the tasks of DUMP_TASKS or RESTORE_TASKS; seconds None when none ran."""
    step, prefixes = which
    found = [(n, s) for b, n, s in in_steps(tasks) if b == step and any(p in n for p in prefixes)]
    return (round(sum(s for n, s in found), 3) if found else None), [n for n, s in found]


def task_seconds(tasks, *prefixes):
    found = [s for n, s in tasks if any(p in n for p in prefixes)]
    return round(sum(found), 3) if found else None


def run_facts(bench):
    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30).stdout.strip()
        except OSError:
            return None

    mem = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            mem[k] = int(v.split()[0]) * 1024
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    docker_root = cmd(["docker", "info", "-f", "{{.DockerRootDir}}"]) or "/var/lib/docker"
    disks = {}
    for what, path in (("work", bench.work), ("docker", docker_root)):
        df = cmd(["df", "-B1", "--output=source,fstype,size,avail,target", path]).splitlines()[-1].split()
        disks[what] = {"path": path, "device": df[0], "fstype": df[1], "size_bytes": int(df[2]), "avail_bytes": int(df[3]),
                       "mount": df[4]}
    ansible_v = cmd([os.path.join(ansible_run.BIN, "ansible"), "--version"]).splitlines()[0]
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        coll = re.search(r"^version:\s*(\S+)", f.read(), re.M).group(1)
    return {
        "started": now_utc(), "scale_mb": bench.scale, "seed": bench.seed, "raw_jobs": bench.jobs,
        "command": "make bench SCALE=%s" % fmt_scale(bench.scale), "argv": sys.argv,
        "order": run_order(bench.args.paths, bench.args.sweep, bench.jobs),
        "module_settings": Bench.module_settings.__doc__,
        "machine": {"nproc": os.cpu_count(), "cpu": cpu, "mem_total_bytes": mem.get("MemTotal"), "disks": disks,
                    "kernel": platform.release()},
        "versions": {"docker": cmd(["docker", "version", "-f", "{{.Server.Version}}"]),
                     "compose": cmd(["docker", "compose", "version", "--short"]),
                     "postgresql_host_client": cmd(["pg_dump", "--version"]),
                     "ansible_core": ansible_v, "python": platform.python_version(), "collection": coll},
    }


def data_facts(hub, load_s, scale, seed):
    sizes = {}
    for db in DATABASES:
        sizes[db] = int(labhub.psql(hub, "SELECT pg_database_size(current_database())", db=db).strip())
    return {"deploy_and_load_s": round(load_s, 1), "scale_mb": scale, "seed": seed, "database_bytes": sizes,
            "total_database_bytes": sum(sizes.values()),
            "server_version": labhub.psql(hub, "SHOW server_version", db="postgres").strip()}


def fmt_scale(s):
    return ("%g" % s)


def ratios(res):
    """Each path's time against the fastest raw path of the run's own -j (the swept rows are not candidates: the
    targets compare like with like)."""
    b = {k: v["total_s"] for k, v in res["paths"].items() if k in B_PATHS and v.get("total_s")}
    if not b:
        res["fastest_b"] = None
        return
    fastest = min(b, key=b.get)
    res["fastest_b"] = {"path": fastest, "total_s": b[fastest]}
    for v in res["paths"].values():
        if v.get("total_s"):
            v["ratio_to_fastest_b"] = round(v["total_s"] / b[fastest], 2)


def module_peak(path):
    """The largest peak of the module processes of a path (MiB), or None."""
    peaks = [v for k, v in ((path or {}).get("module_peak_mib") or {}).items() if v and k in DATA_MODULES]
    return max(peaks) if peaks else None


DATA_MODULES = ("db_dump", "db_restore")  # the modules whose work grows with the data
FLAT_MIB = 10.0  # "flat": the module's peak grows by at most this much between the two scales


def targets(res, scale):
    p = res["paths"]
    out = []

    def add(name, goal, value, met, note=""):
        out.append({"target": name, "goal": goal, "value": value, "met": met, "note": note})

    fb = res.get("fastest_b")
    c, a = p.get("c", {}), p.get("a", {})
    if fb and c.get("total_s"):
        value = "%.2fx (%s s vs %s s, %s)" % (c["total_s"] / fb["total_s"], c["total_s"], fb["total_s"], fb["path"])
        add("(c) vs fastest (b)", "<= 1.10x", value, c["total_s"] <= 1.10 * fb["total_s"])
    else:
        add("(c) vs fastest (b)", "<= 1.10x", None, None, "not measured")
    if a.get("total_s") and c.get("total_s"):
        value = "(a) takes %.2fx of (c) (%s s vs %s s)" % (a["total_s"] / c["total_s"], a["total_s"], c["total_s"])
        add("(c) vs (a)", ">= 3x faster", value, a["total_s"] >= 3 * c["total_s"])
    else:
        add("(c) vs (a)", ">= 3x faster", None, None, "not measured")
    m, b_dir = p.get("m", {}), p.get("b_dir", {})
    if m.get("total_s") and b_dir.get("total_s"):
        value = "%.2fx (%s s vs %s s)" % (m["total_s"] / b_dir["total_s"], m["total_s"], b_dir["total_s"])
        add("(m) vs raw -Fd -j N", "<= 1.10x", value, m["total_s"] <= 1.10 * b_dir["total_s"],
            "the modules' defaults with the folder mounted, same -j")
    else:
        add("(m) vs raw -Fd -j N", "<= 1.10x", None, None, "not measured")
    streams = [k for k in ("b_stream", "b_par") if p.get(k, {}).get("total_s")]
    fastest_stream = min(streams, key=lambda k: p[k]["total_s"]) if streams else None  # the raw stream to beat
    s = p.get("s", {})
    if s.get("total_s") and fastest_stream:
        fastest = fastest_stream
        add("(s) stream + exact verify vs raw stream", "<= 1.10x", "%.2fx (%s s vs %s s, %s); %s bytes on disk" % (
            s["total_s"] / p[fastest]["total_s"], s["total_s"], p[fastest]["total_s"], fastest, s["bytes_on_disk"]),
            s["total_s"] <= 1.10 * p[fastest]["total_s"], "db_restore's source with its exact comparison; the record only "
                                                          "on disk")
    else:
        add("(s) stream + exact verify vs raw stream", "<= 1.10x", None, None, "not measured")
    for key in ("e", "e_mount"):
        e = p.get(key, {})
        name = "(%s) steps 4 + 7 vs fastest (b)" % ("e" if key == "e" else "e, mounted")
        if fb and e.get("dump_s") and e.get("restore_s") and e.get("rc") == 0:
            # step 7 with its exact verification (the task after the restore), as a run with defaults does it
            moved = e["dump_s"] + e["restore_s"] + ((e.get("verify") or {}).get("seconds") or 0)
            add(name, "<= 1.15x", "%.2fx (%.1f s vs %s s, %s)" % (moved / fb["total_s"], moved, fb["total_s"], fb["path"]),
                moved <= 1.15 * fb["total_s"], "steps 4 and 7, step 7's exact verification included")
            if a.get("total_s"):
                add("(a) vs (%s) steps 4 + 7" % ("e" if key == "e" else "e, mounted"), ">= 2x slower",
                    "(a) takes %.2fx (%s s vs %.1f s)"
                    % (a["total_s"] / moved, a["total_s"], moved), a["total_s"] >= 2 * moved)
        else:
            add(name, "<= 1.15x", None, None, e.get("skipped") or e.get("error") or "not measured")
    e = p.get("e_stream", {})
    name, goal = "(e, stream) steps 3-7 vs raw stream", "<= 1.10x, 0 bytes of dump"
    if fastest_stream and e.get("steps_s") and e.get("rc") == 0:
        fastest = fastest_stream
        moved = sum(e["steps_s"].get("step %02d" % n, 0) for n in range(3, 8))
        dump = e.get("bytes_on_disk") or 0
        value = "%.2fx (%.1f s vs %s s, %s)" % (moved / p[fastest]["total_s"], moved, p[fastest]["total_s"], fastest)
        add(name, goal, value + "; %d bytes of dump, %d bytes in the dump folder (the record, the state, the report)"
            % (dump, e.get("dump_dir_bytes") or 0),
            moved <= 1.10 * p[fastest]["total_s"] and dump == 0,
            "steps 3-7: the old database up apart, the new one beside it, the streams, both down, the exact comparison")
    else:
        add(name, goal, None, None, e.get("skipped") or e.get("error") or "not measured")
    peaks = {k: module_peak(p.get(k)) for k in MODULE_PATHS + PLAYBOOK_PATHS}
    peaks = {k: v for k, v in peaks.items() if v}
    if peaks:
        worst = max(peaks.values())
        add("module peak memory", "<= 100 MiB", "%.1f MiB (%s)" % (worst, ", ".join("%s %.1f" % kv for kv in sorted(peaks.items()))),
            worst <= 100)
    else:
        add("module peak memory", "<= 100 MiB", None, None, "not measured")
    tiny, at_scale = module_peak(p.get("tiny")), module_peak(p.get("c"))
    if tiny and at_scale:
        add("module peak memory flat", "+%g MiB at most" % FLAT_MIB,
            "%.1f MiB at scale 0 (playbook), %.1f MiB at scale %s (c)" % (tiny, at_scale, fmt_scale(scale)),
            at_scale - tiny <= FLAT_MIB,
            "between SCALE=1000 and 4000: python tests/bench/bench.py compare <1000.json> <4000.json>")
    else:
        add("module peak memory flat", "+%g MiB at most" % FLAT_MIB, None, None, "needs (c) and the tiny playbook run")
    t = p.get("tiny", {})
    if t.get("total_s"):
        add("playbook overhead on a tiny hub", "<= 60 s", "%.1f s (all eleven steps, scale 0)" % t["total_s"],
            t["total_s"] <= 60 and t.get("rc") == 0)
    else:
        add("playbook overhead on a tiny hub", "<= 60 s", None, None, t.get("skipped") or t.get("error") or "not measured")
    f = p.get("fleet", {})
    goal = "<= %gx one tiny hub" % FLEET_FACTOR
    if f.get("total_s") and t.get("total_s"):
        worst = max(f.get("steps_s", {}).items(), key=lambda kv: kv[1], default=("-", 0))
        add("fleet of tiny hubs", goal, "%.2fx (%d hubs in %.1f s, one in %.1f s)" % (
            f["total_s"] / t["total_s"], f["hubs"], f["total_s"], t["total_s"]),
            f["total_s"] <= FLEET_FACTOR * t["total_s"] and f.get("rc") == 0,
            "the longest step over the fleet: %s %.1f s; forks bound how many hubs run a task at once" % worst)
    else:
        add("fleet of tiny hubs", goal, None, None, f.get("skipped") or f.get("error") or "needs the tiny and the fleet runs")
    for t_ in out:
        t_["scale_mb"] = scale
        t_["small_scale"] = scale < 1000  # the issue sets the targets at SCALE=1000 and 4000
    return out


# ------------------------------------------------------------------------------------------------ reporting

def mb(n):
    return "-" if n is None else "%.1f" % (n / 1e6)


def num(v, fmt="%.1f"):
    return "-" if v is None else fmt % v


def summary_line(out):
    if out.get("error"):
        return "FAILED: %s" % out["error"][:300]
    if out.get("skipped"):
        return "skipped: %s" % out["skipped"]
    return "dump %s s, restore %s s, total %s s, verify %s" % (num(out.get("dump_s")), num(out.get("restore_s")),
                                                               num(out.get("total_s")),
                                                               "passed" if out.get("verify", {}).get("passed") else "FAILED")


def table(res):
    head = ("path", "dump s", "restore s", "total s", "x fastest b", "disk MB", "peak disk MB", "module MiB (dump/restore)",
            "ansible MiB", "db_verify")
    rows, spans = [], []
    swept = sorted((k for k in res["paths"] if "@" in k), key=lambda k: (k.partition("@")[0], int(k.partition("@")[2])))
    for key in ORDER + tuple(swept) + PLAYBOOK_PATHS + ("tiny", "fleet"):
        v = res["paths"].get(key)
        if v is None:
            continue
        if v.get("error") or v.get("skipped"):
            spans.append((v["label"], "FAILED: %s" % v["error"][:200] if v.get("error") else "skipped: %s" % v["skipped"]))
            continue
        mp = v.get("module_peak_mib")
        if mp:
            mods = "%s/%s" % (num(mp.get("db_dump")), num(mp.get("db_restore")))
        else:
            mods = "- (host: %s)" % num(max(v.get("host_tools_peak_mib", {}).values() or [0]))
        rows.append((v["label"], num(v.get("dump_s")), num(v.get("restore_s")), num(v.get("total_s")),
                     num(v.get("ratio_to_fastest_b"), "%.2f"), mb(v.get("bytes_on_disk")), mb(v.get("peak_disk_bytes")), mods,
                     num(v.get("ansible_peak_mib")), "passed" if v.get("verify", {}).get("passed") else "FAILED"))
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [head] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["%s  %s" % (label.ljust(widths[0]), text) for label, text in spans]
    return "\n".join(lines)


def report(res, path):
    run = res["run"]
    print()
    print("blackduck.hub benchmark, SCALE=%s MB (%s), %s cores, %.1f GiB memory; PostgreSQL %s -> %s; %s" % (
        fmt_scale(run["scale_mb"]), run["command"], run["machine"]["nproc"], run["machine"]["mem_total_bytes"] / 2 ** 30,
        run["versions"].get("postgresql_old_server", "?"), run["versions"].get("postgresql_new_server", "?"),
        run["versions"]["ansible_core"]))
    if res.get("data"):
        print("data: %s MB in the three databases (pg_database_size), loaded in %s s" % (
            mb(res["data"]["total_database_bytes"]), res["data"]["deploy_and_load_s"]))
    print()
    print(table(res))
    print()
    print("stream paths: dump and restore run at the same time (total is the wall time). (b) raw -j N: N=%d. "
          "(d): directory format over TCP, jobs N, checksums=count, analyze=false; (d) custom: jobs=3, checksums=count, "
          "analyze=false." % run["raw_jobs"])
    ph = res.get("phases")
    if ph and not ph.get("error"):
        d, r, f = ph["dump_total"], ph["restore_total"], ph["fixed"]
        print("where the modules' time goes (phases.py: their own code, one database at a time, each phase alone):")
        print("  db_dump:    stream %.2f s (%s MB), pg_restore --list %.2f s, row counts %.2f s or row counts + checksums "
              "%.2f s; preflight %.2f s, tool versions %.2f s, globals %.2f s" % (
                  d["stream"], mb(sum(ph["bytes"].values())), d["list"], d["rows"], d["checksums"], f["dump preflight"],
                  f["dump tool versions"], f["dump globals"]))
        print("  db_restore: sha256 of the files %.2f s, stream into pg_restore %.2f s, fixups %.2f s, ANALYZE %.2f s; "
              "preflight %.2f s, globals %.2f s" % (r["sha256"], r["stream"], r["fixups"], r["analyze"],
                                                    f["restore preflight"], f["restore globals"]))
    elif ph:
        print("phase timings failed: %s" % ph["error"][:300])
    t = res["paths"].get("tiny", {})
    if t.get("steps_s"):
        print("tiny hub, seconds per step (%d tasks): %s" % (t["tasks_run"], ", ".join("%s %.1f" % kv for kv in t["steps_s"].items())))
    f = res["paths"].get("fleet", {})
    if f.get("steps_s"):
        print("fleet of %d tiny hubs, seconds per step over the fleet: %s" % (
            f["hubs"], ", ".join("%s %.1f" % kv for kv in f["steps_s"].items())))
    print()
    print("TARGETS%s:" % (" (the issue sets them at SCALE=1000 and 4000; this is a small-scale run)"
                          if run["scale_mb"] < 1000 else ""))
    for t_ in res["targets"]:
        state = "not measured" if t_["met"] is None else ("met" if t_["met"] else "MISSED")
        print("  %-32s %-16s %-12s %s" % (t_["target"], t_["goal"], state, t_["value"] or t_["note"]))
    missed = [t_["target"] for t_ in res["targets"] if t_["met"] is False]
    print()
    print("missed: %s" % (", ".join(missed) if missed else "none"))
    failed = [k for k, v in res["paths"].items() if v.get("error") or (v.get("verify") and not v["verify"].get("passed"))]
    if failed:
        print("FAILED paths (error or db_verify): %s" % ", ".join(failed))
    print("JSON: %s" % path)


def compare(a_path, b_path):
    """Module peak memory of two runs (say SCALE=1000 and 4000): flat when it grows by FLAT_MIB at most."""
    a, b = json.load(open(a_path)), json.load(open(b_path))
    ok = True
    print("module peak memory, MiB: %s (SCALE=%s) -> %s (SCALE=%s)" % (a_path, a["run"]["scale_mb"], b_path, b["run"]["scale_mb"]))
    for key in MODULE_PATHS + PLAYBOOK_PATHS:
        pa, pb = (a["paths"].get(key) or {}).get("module_peak_mib") or {}, (b["paths"].get(key) or {}).get("module_peak_mib") or {}
        for mod in sorted(set(pa) | set(pb)):
            va, vb = pa.get(mod), pb.get(mod)
            if va is None or vb is None:
                continue
            flat = vb - va <= FLAT_MIB and max(va, vb) <= 100
            ok = ok and flat
            print("  %-5s %-11s %7.1f %7.1f  %s" % (key, mod, va, vb, "flat" if flat else "NOT FLAT (or over 100 MiB)"))
    print("flat and within 100 MiB: %s" % ("yes" if ok else "NO"))
    return 0 if ok else 1


def parse(argv):
    if argv and argv[0] == "compare":
        ap = argparse.ArgumentParser(prog="bench.py compare")
        ap.add_argument("cmd")
        ap.add_argument("a")
        ap.add_argument("b")
        return ap.parse_args(argv)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=100.0, help="MB of Hub-like data (default 100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=0, help="N for the raw pg_dump/pg_restore -j (default: cores, at least 2)")
    ap.add_argument("--paths", default=",".join(ORDER), help="which of %s (default all; c always runs: its manifest is "
                                                             "the reference for db_verify)" % ",".join(ORDER))
    ap.add_argument("--sweep", default="", help="-j values to run %s again with, e.g. 1,2,4 (make bench); the run's "
                                                "own --jobs is not repeated" % " and ".join(SWEPT))
    ap.add_argument("--no-playbook", action="store_true",
                    help="leave out (e) at SCALE, plain and mounted (recorded as skipped)")
    ap.add_argument("--no-tiny", action="store_true", help="leave out the playbook on a tiny hub (recorded as skipped)")
    ap.add_argument("--fleet", type=int, default=8, help="N tiny hubs upgraded in one playbook run, against the tiny hub "
                    "alone (default 8; 0 leaves it out)")
    ap.add_argument("--no-phases", action="store_true", help="leave out the phase timings of the modules' work (phases.py)")
    ap.add_argument("--prefix", default="bench-", help="prefix of the lab hubs' names (must start with bench-)")
    ap.add_argument("--out", default=os.environ.get("BENCH_OUT"), help="JSON file (default BENCH_OUT, else "
                                                                       "tests/bench/results/<time>-scale<N>.json)")
    a = ap.parse_args(argv)
    a.cmd = "run"
    a.paths = [p.strip() for p in a.paths.split(",") if p.strip()]
    unknown = [p for p in a.paths if p not in ORDER]
    if unknown:
        ap.error("unknown path %s (choose from %s)" % (", ".join(unknown), ", ".join(ORDER)))
    if not a.prefix.startswith("bench-"):
        ap.error("--prefix must start with bench-")
    try:
        a.sweep = sorted(set(int(j) for j in a.sweep.split(",") if j.strip()))
    except ValueError:
        ap.error("--sweep takes -j values separated by commas, such as 1,2,4")
    if any(j < 1 for j in a.sweep):
        ap.error("--sweep values are 1 or more")
    a.playbook, a.tiny, a.phases = not a.no_playbook, not a.no_tiny, not a.no_phases
    a.skip_reason = dict([(k, "--no-playbook given") for k in PLAYBOOK_PATHS] + [("tiny", "--no-tiny given")])
    return a


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.cmd == "compare":
        return compare(args.a, args.b)
    out = args.out or os.path.join(HERE, "results", "%s-scale%s.json" % (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                                                                         fmt_scale(args.scale)))
    bench = Bench(args)
    res = bench.main()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(res, f, indent=2, sort_keys=True, default=str)
    report(res, out)
    bad = [k for k, v in res["paths"].items() if v.get("error") or (v.get("verify") and not v["verify"].get("passed"))]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
