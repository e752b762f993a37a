"""The vendor's real bundles, as the lab uses them (lab only).

The unmodified hub-docker-<version> folders the vendor published are the ground truth of the conformance suite:
they live outside this repository (../shared/vendor, or HUB_VENDOR_BUNDLES=<folder>) and are never edited.
A hub is deployed from a copy in the hub's own lab folder; on that copy, and only there, the lab changes what its
machine cannot run, each change a small patch that is printed and kept beside the copy (lab-patch.diff):

- Swarm (docker-swarm/): the lab kernel has no IPVS, so every service gets `endpoint_mode: dnsrr` and published
  ports become host-mode ports (both need compose file format 3.2, so the version line says 3.2); the CPU
  reservations (3 cores in all) become 0.25 of a core each, as the lab machine has 2.
- Kubernetes (kubernetes/): the pods' CPU requests (3 cores in all) become 100m each, for the same reason.
- Compose (docker-compose/): published ports are bound to 127.0.0.1 ('443:8443' -> '127.0.0.1:443:8443'): the
  project's tests listen on loopback only, and the engine's --ip covers its default bridge, not the networks
  Compose makes. (Swarm's host-mode ports go through docker_gwbridge, which the lab makes with loopback binding:
  no patch.)

Everything else (compose file versions, links, mem_limit, users, health checks, env files, the Kubernetes List of
apps/v1beta1 objects, pods.env as a ConfigMap, duplicate keys) stays as the vendor wrote it.
"""
import difflib
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
# Where the bundles are looked for without HUB_VENDOR_BUNDLES: shared/vendor beside the repository or beside one of
# its parent folders (../shared/vendor from a checkout), then this workplace's shared folder.
CANDIDATES = []
for _path in (os.path.join(os.path.dirname(REPO), "shared", "vendor"),
              os.path.join(os.path.dirname(os.path.dirname(REPO)), "shared", "vendor"), "/work/shared/vendor"):
    if _path not in CANDIDATES:
        CANDIDATES.append(_path)
FOLDERS = {"compose": "docker-compose", "swarm": "docker-swarm", "kubernetes": "kubernetes"}
PATCH_FILE = "lab-patch.diff"


class VendorError(Exception):
    pass


def root():
    """The folder holding the vendor's hub-docker-<version> bundles."""
    given = os.environ.get("HUB_VENDOR_BUNDLES")
    for path in [given] if given else CANDIDATES:
        if os.path.isdir(path):
            return path
    raise VendorError("the vendor's bundles are not at %s: set HUB_VENDOR_BUNDLES to the folder that holds the "
                      "hub-docker-<version> folders" % (given or " nor ".join(CANDIDATES)))


def versions():
    """The versions whose bundles are there, oldest first."""
    found = [d[len("hub-docker-"):] for d in os.listdir(root()) if d.startswith("hub-docker-")]
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


def bundle(version):
    path = os.path.join(root(), "hub-docker-%s" % version)
    if not os.path.isdir(path):
        raise VendorError("no bundle hub-docker-%s in %s (there are: %s)" % (version, root(), ", ".join(versions())))
    return path


def _services(lines):
    """{service: (header line index, indent of its keys, has a deploy key)} of a compose file's services block."""
    found, in_services, current = {}, False, None
    for i, line in enumerate(lines):
        if re.match(r"^services:\s*$", line):
            in_services = True
            continue
        if in_services and re.match(r"^\S", line):
            in_services = False
        if not in_services:
            continue
        m = re.match(r"^(\s+)([A-Za-z0-9_.-]+):\s*$", line)
        if m and (current is None or len(m.group(1)) <= found[current][1] - 2):
            current = m.group(2)
            found[current] = [i, len(m.group(1)) + 2, False]
        elif current and re.match(r"^\s+deploy:\s*$", line) and len(line) - len(line.lstrip()) == found[current][1]:
            found[current][2] = True
    return found


def patch_swarm(text):
    """A Swarm stack file the lab kernel can run: dnsrr endpoints, host-mode ports, small CPU reservations."""
    lines = text.splitlines()
    services = _services(lines)
    headers = {i: (indent, has) for i, indent, has in services.values()}
    out, in_reservations, res_indent = [], False, 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if re.match(r"^version:\s*['\"]?3(\.[01])?['\"]?\s*$", line):
            line = "version: '3.2'"
        m = re.match(r"^(\s*)ports:\s*\[(.*)\]\s*$", line)
        if m:
            longs = []
            for p in (p.strip().strip("'\"") for p in m.group(2).split(",") if p.strip()):
                published, target = p.split(":")[-2:]
                longs.append("{target: %s, published: %s, mode: host}" % (target, published))
            line = "%sports: [%s]" % (m.group(1), ", ".join(longs))
        if in_reservations and stripped and indent <= res_indent:
            in_reservations = False
        if re.match(r"^\s*reservations:", line):
            in_reservations, res_indent = True, indent
        if in_reservations:
            line = re.sub(r"cpus:\s*'[0-9.]+'", "cpus: '0.25'", line)
        out.append(line)
        if i in headers and not headers[i][1]:
            out.append(" " * headers[i][0] + "deploy: {endpoint_mode: dnsrr}")
        if re.match(r"^\s*deploy:\s*$", line):
            out.append(" " * (indent + 2) + "endpoint_mode: dnsrr")
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def patch_kubernetes(text):
    """A manifest whose pods fit the lab's 2 cores: CPU requests of 100m."""
    out, in_requests, req_indent = [], False, 0
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if in_requests and stripped and indent <= req_indent:
            in_requests = False
        if re.match(r"^\s*requests:\s*$", line):
            in_requests, req_indent = True, indent
        elif in_requests:
            line = re.sub(r"^(\s*cpu:\s*)['\"]?[0-9.]+m?['\"]?\s*$", r"\g<1>100m", line)
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def patch_compose(text):
    """Compose ports published on loopback only."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(\s*)ports:\s*\[(.*)\]\s*$", line)
        if m:
            ports = [p.strip().strip("'\"") for p in m.group(2).split(",") if p.strip()]
            line = "%sports: [%s]" % (m.group(1), ", ".join(
                "'%s'" % (p if p.count(":") >= 2 else "127.0.0.1:" + p) for p in ports))
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


PATCHES = {"docker-compose": patch_compose, "docker-swarm": patch_swarm, "kubernetes": patch_kubernetes}


def copy_bundle(version, dest_root):
    """Copy hub-docker-<version> into dest_root and apply the lab's patches there; return (path, unified diff)."""
    src = bundle(version)
    dest = os.path.join(dest_root, "hub-docker-%s" % version)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(src, dest, symlinks=True)
    diffs = []
    for folder, fn in sorted(PATCHES.items()):
        d = os.path.join(dest, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".yml"):
                continue
            path = os.path.join(d, name)
            with open(path) as f:
                before = f.read()
            after = fn(before)
            if after != before:
                with open(path, "w") as f:
                    f.write(after)
                rel = "hub-docker-%s/%s/%s" % (version, folder, name)
                diffs.extend(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                                  "vendor/" + rel, "lab/" + rel, n=0))
    patch = "".join(diffs)
    with open(os.path.join(dest, PATCH_FILE), "w") as f:
        f.write(patch or "# no lab patch: the vendor's files run as they are\n")
    return dest, patch
