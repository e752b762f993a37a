# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is there disk space for the migration? Step 1 of the vendor's upgrade steps, as figures.

The vendor's rule: "approximately 2.5 times your original database volume size to hold the database dump and the
new 4.2 database volume". Split into its two parts, each on the filesystem where it will really be written:

* the dump: ``dump_factor`` (1.5) times the database size, on the filesystem of the dump directory;
* the new database volume: ``volume_factor`` (1.0) times the database size, on the filesystem where the new
  volume will live (Docker's data root, a Kubernetes hostPath...).

When both are on one filesystem the needs add up (the vendor's 2.5x). When the dump is streamed straight into the
new server there are no dump files and only the new volume needs space.

Only reads: ``statvfs``, ``lstat`` and ``/proc/self/mountinfo``. Nothing here writes anything.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import stat

from ansible_collections.blackduck.hub.plugins.module_utils import _inventory as inventory
from ansible_collections.blackduck.hub.plugins.module_utils._command import human, run

DUMP_FACTOR = 1.5
VOLUME_FACTOR = 1.0
MOUNTINFO = "/proc/self/mountinfo"


class DiskError(Exception):
    pass


def nearest_existing(path):
    """``path`` itself if it exists, else its nearest existing parent (where it would be created)."""
    current = os.path.abspath(path)
    while not os.path.exists(current):
        parent = os.path.dirname(current)
        if parent == current:  # pragma: no cover - "/" always exists
            break
        current = parent
    return current


def fs_info(path, mountinfo=MOUNTINFO):
    """The filesystem that holds ``path``, or would hold it once created: device, mount point, total and free bytes.

    ``free`` is what an unprivileged writer may use (``f_bavail``), not counting the blocks reserved for root: the
    database server in the new volume does not write as root.
    """
    existing = nearest_existing(path)
    try:
        sv = os.statvfs(existing)
        dev = os.stat(existing).st_dev
    except OSError as exc:
        raise DiskError("cannot read the filesystem of %s (checked %s): %s" % (path, existing, exc))
    real = os.path.realpath(existing)
    return {
        "path": path,
        "existing": existing,
        "dev": dev,
        "device": "%d:%d" % (os.major(dev), os.minor(dev)),
        "mountpoint": mountpoint(real, dev, mountinfo),
        "total": sv.f_blocks * sv.f_frsize,
        "free": sv.f_bavail * sv.f_frsize,
    }


def _unescape(field):
    """mountinfo writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and len(field[i + 1:i + 4]) == 3 and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def read_mountinfo(mountinfo=MOUNTINFO):
    """[(mount point, "major:minor")] from /proc/self/mountinfo; [] where there is none (not Linux)."""
    try:
        with open(mountinfo) as f:
            lines = f.read().splitlines()
    except (IOError, OSError):
        return []
    mounts = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 5:
            mounts.append((_unescape(fields[4]), fields[2]))
    return mounts


def _under(path, mount):
    return mount == "/" or path == mount or path.startswith(mount.rstrip("/") + "/")


def mountpoint(real_path, dev=None, mountinfo=MOUNTINFO):
    """The longest mount point that is a prefix of ``real_path`` (one of its device's, when the device is known)."""
    mounts = [(m, d) for m, d in read_mountinfo(mountinfo) if _under(real_path, m)]
    if dev is not None:
        same = [(m, d) for m, d in mounts if d == "%d:%d" % (os.major(dev), os.minor(dev))]
        mounts = same or mounts  # btrfs subvolumes and the like report another st_dev than mountinfo
    return max((m[0] for m in mounts), key=len) if mounts else None


def du(path):
    """Bytes really used under ``path``: st_blocks * 512 of every file and directory, the directory included.

    Like ``du -s``: symlinks are not followed (a symlink counts its own blocks only), each inode is counted once
    (hard links), sparse files count their allocated blocks, not their length. Entries that vanish while it walks
    (a running server removes files) are skipped.
    """
    try:
        top = os.lstat(path)
    except OSError as exc:
        raise DiskError("cannot measure %s: %s" % (path, exc))
    if not stat.S_ISDIR(top.st_mode):
        raise DiskError("cannot measure %s: not a directory" % path)
    seen = {(top.st_dev, top.st_ino)}
    total = top.st_blocks * 512
    stack = [path]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DiskError("cannot measure %s: %s (run it as a user that can read the whole directory, for "
                            "example with become)" % (path, exc))
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise DiskError("cannot measure %s: %s" % (path, exc))
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            total += st.st_blocks * 512
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)
    return total


def need_bytes(size, factor):
    return int(math.ceil(size * factor))


def plan(db_size, dump_path_fs, volume_path_fs, dump_factor=DUMP_FACTOR, volume_factor=VOLUME_FACTOR, stream=False):
    """What each filesystem must hold, against what it has free.

    ``dump_path_fs`` and ``volume_path_fs`` are ``fs_info()`` of the dump directory and of the new volume's place
    (``dump_path_fs`` may be None when ``stream``). Filesystems are told apart by device: the dump and the new
    volume on the same one add up. Returns one dict per filesystem, in the order dump, new volume.
    """
    uses = []
    if not stream:
        if dump_path_fs is None:
            raise ValueError("the dump directory's filesystem is needed unless the dump is streamed")
        uses.append(("dump", dump_path_fs, need_bytes(db_size, dump_factor)))
    uses.append(("new_volume", volume_path_fs, need_bytes(db_size, volume_factor)))

    filesystems = []
    by_dev = {}
    for what, fs, need in uses:
        entry = by_dev.get(fs["dev"])
        if entry is None:
            entry = by_dev[fs["dev"]] = {
                "paths": [], "for": [], "needs": {}, "device": fs["device"], "mountpoint": fs.get("mountpoint"),
                "total": fs["total"], "free": fs["free"], "need": 0}
            filesystems.append(entry)
        if fs["path"] not in entry["paths"]:
            entry["paths"].append(fs["path"])
        entry["for"].append(what)
        entry["needs"][what] = need
        entry["need"] += need
    for entry in filesystems:
        entry["short_by"] = max(0, entry["need"] - entry["free"])
        entry["ok"] = entry["short_by"] == 0
        for key in ("total", "free", "need", "short_by"):
            entry[key + "_human"] = human(entry[key])
        entry["needs_human"] = dict((k, human(v)) for k, v in entry["needs"].items())
    return filesystems


WHAT = {"dump": "the dump", "new_volume": "the new database volume"}


def describe(entry):
    """``/srv (device 254:0, for the dump and the new database volume at /srv/dump, /srv/docker/volumes)``."""
    where = entry["mountpoint"] or entry["paths"][0]
    uses = " and ".join(WHAT[w] for w in entry["for"])
    return "%s (device %s, for %s at %s)" % (where, entry["device"], uses, ", ".join(entry["paths"]))


def shortage_message(filesystems, db_size):
    """Why the migration does not fit, per short filesystem, and what to do."""
    parts = []
    for entry in filesystems:
        if entry["ok"]:
            continue
        needs = " + ".join("%s for %s" % (human(entry["needs"][w]), WHAT[w]) for w in entry["for"])
        todo = []
        if "dump" in entry["for"]:
            todo.append("choose a dump_dir on another filesystem with enough free space (hub_dump_dir)")
        if "new_volume" in entry["for"]:
            todo.append("put the new database volume on another filesystem (new_volume_path; with the upgrade role, "
                        "where the engine keeps its volumes or the node its data)")
        parts.append("%s needs %s (%s) but has %s free: short by %s. Free at least %s there, or %s."
                     % (describe(entry), entry["need_human"], needs, entry["free_human"], entry["short_by_human"],
                        entry["short_by_human"], ", or ".join(todo)))
    return "not enough free disk space for the migration of a %s database: %s" % (human(db_size), " ".join(parts))


def summary_message(filesystems, db_size):
    return "enough free disk space for the migration of a %s database: %s" % (human(db_size), "; ".join(
        "%s needs %s, has %s free" % (describe(e), e["need_human"], e["free_human"]) for e in filesystems))


def database_size(source, docker_cli=None, volume=None, data_path=None, server=None):
    """(bytes, what was measured) of the old database: source volume (the Docker volume volume), path (the folder
    data_path) or server (its databases' sizes; server: a callable opening its session, a context manager)."""
    if source == "volume":
        where = docker_volume_mountpoint(docker_cli, volume)
        return du(where), "Docker volume %s (%s)" % (volume, where)
    if source == "path":
        return du(data_path), "folder %s" % data_path
    with server() as target:
        dbs = inventory.databases(target)
        return sum(d["size_bytes"] for d in dbs.values()), "databases %s on %s" % (", ".join(sorted(dbs)), target.describe())


def space_for_migration(result, dump_dir, new_volume_path, dump_factor, volume_factor, stream, source, docker_cli=None,
                        volume=None, data_path=None, server=None):
    """disk_space's work, into its result (returned): the old database measured (database_size's source, volume,
    data_path, server), the free space where the dump (dump_dir; none with stream) and the new data (new_volume_path,
    by default Docker's data root's volumes) go, each against what it needs (plan). ok: whether there is room; msg:
    the summary, or what is short."""
    if not new_volume_path:
        root = docker_root(docker_cli)
        if not root:
            raise DiskError("new_volume_path is required: no Docker engine answered on the managed host to default it "
                            "to Docker's data root. Set it to where the new database volume will live (for example the "
                            "new Kubernetes hostPath).")
        new_volume_path = os.path.join(root, "volumes")
    result["new_volume_path"] = new_volume_path
    size, measured = database_size(source, docker_cli, volume, data_path, server)
    result.update(database_size=size, database_size_human=human(size), measured=measured)
    filesystems = plan(size, fs_info(dump_dir) if dump_dir else None, fs_info(new_volume_path), dump_factor,
                       volume_factor, stream)
    ok = all(fs["ok"] for fs in filesystems)
    result.update(filesystems=filesystems, ok=ok,
                  msg=summary_message(filesystems, size) if ok else shortage_message(filesystems, size))
    return result


# ------------------------------------------------------------------------------------------------------- docker

def docker_volume_mountpoint(cli, name):
    """Where a Docker volume's data is on the host (``docker volume inspect``)."""
    rc, out, err = run([cli, "volume", "inspect", "-f", "{{.Mountpoint}}", name])
    if rc != 0:
        raise DiskError("no Docker volume %r on this Docker engine (%s). List them with 'docker volume ls': the Hub's "
                        "database volume before 4.2 is <project>_data-volume (Compose) or <stack>_data-volume (Swarm)."
                        % (name, err.strip()))
    where = out.strip()
    if not where or not os.path.isdir(where):
        raise DiskError("the mount point of Docker volume %s (%r) is not a folder on this host: the Docker engine must "
                        "be the managed host's own. Measure with data_path or connection instead." % (name, where))
    return where


def docker_root(cli):
    """Docker's data root (``docker info``), or None when no Docker engine answers."""
    if not cli:
        return None
    rc, out, err = run([cli, "info", "-f", "{{.DockerRootDir}}"])
    return out.strip() or None if rc == 0 else None
