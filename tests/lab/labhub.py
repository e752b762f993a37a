"""Lab hubs: deploy an old (or new) Hub stand-in with generated data on Compose, Swarm or Kubernetes.

    python3 labhub.py deploy NAME --orch compose|swarm|kubernetes [--version old|new|X.Y.Z] [--scale MB] [--seed N]
                             [--k8s-storage hostpath|claim]
    python3 labhub.py remove NAME        # containers, stack or namespace, volumes or hostPath data: all of it
    python3 labhub.py info NAME          # JSON: where the hub is, its bundles, ports, versions
    python3 labhub.py list

Each hub gets its own folder under $LAB_HOME/hubs/NAME with both vendor-shaped bundles rendered
(hub-docker-<old>/ and hub-docker-<new>/), its own Compose project / stack / namespace named NAME and its own
loopback ports, so several hubs run side by side on one engine. A deploy is like a real install that has lived:
the database starts first (migration-mode file), the Hub-like data is loaded, then the whole Hub starts and its
webapp stand-in begins writing. The tests import this module for the same operations.
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "bundles"))
sys.path.insert(0, os.path.join(HERE, "datagen"))

import render  # noqa: E402  (tests/lab/bundles/render.py)
import vendor  # noqa: E402  (tests/lab/vendor.py)

LAB_HOME = os.environ.get("LAB_HOME", "/var/lib/bdlab")
HUBS = os.path.join(LAB_HOME, "hubs")
KUBECONFIG = os.path.join(LAB_HOME, "kube", "kubeconfig")
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
ORCHESTRATIONS = ("compose", "swarm", "kubernetes")
# The vendor's bundles also have docker-run/docker-hub.sh (plain docker run; no lab bundle of its own).
VENDOR_ORCHESTRATIONS = ORCHESTRATIONS + ("docker_run",)
# The containers docker-hub.sh names (one such Hub per engine), as every vendor version names them.
DOCKER_RUN_NAMES = ("webserver", "jobrunner", "webapp", "solr", "zookeeper", "registration", "postgres", "logstash",
                    "cfssl", "documentation")


def versions():
    out = {}
    with open(os.path.join(HERE, "versions.env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out[k] = v
    return out


VERSIONS = versions()
OLD, NEW = VERSIONS["HUB_OLD_VERSION"], VERSIONS["HUB_NEW_VERSION"]
# Every port the lab listens on sits below Linux's ephemeral range (32768-60999 by default): a port inside it can be
# held at any moment by the local end of some client's loopback connection (kubelet -> API server, docker-proxy...),
# and then publishing it fails with "address already in use". That is why the vendor's 55436 is not used here.
LAB_PG_PORT = 25436


def outside_ephemeral_range(port, range_file="/proc/sys/net/ipv4/ip_local_port_range"):
    """Return port; raise LabError if the kernel may hand it out as the local end of an outgoing connection."""
    try:
        with open(range_file) as f:
            low, high = (int(x) for x in f.read().split())
    except OSError:
        low, high = 32768, 60999
    if low <= port <= high:
        raise LabError("port %d lies in the ephemeral port range %d-%d, where any loopback client may hold it: "
                       "choose a lab port below %d" % (port, low, high, low))
    return port


class LabError(Exception):
    pass


def run(argv, check=True, capture=True, input=None, env=None, timeout=600, cwd=None):
    """Run an argv list; return stdout (text). Raise LabError with stderr on failure."""
    full_env = dict(os.environ, KUBECONFIG=KUBECONFIG)
    if env:
        full_env.update(env)
    proc = subprocess.run(argv, input=input, capture_output=capture, text=True, env=full_env, timeout=timeout, check=False,
                          cwd=cwd)
    if check and proc.returncode != 0:
        raise LabError("command failed (%d): %s\n%s" % (proc.returncode, " ".join(argv), (proc.stderr or "").strip()))
    return proc.stdout if capture else ""


def wait(what, predicate, timeout=180, interval=1.0):
    """Poll predicate() until it returns a true value; return that value."""
    end = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # keep polling; report the last error on timeout
            last_exc = exc
        if time.monotonic() >= end:
            raise LabError("timed out after %ss waiting for %s%s" % (timeout, what, ": %s" % last_exc if last_exc else ""))
        time.sleep(interval)


# ----------------------------------------------------------------------------------------------- hub records

def hub_dir(name):
    return os.path.join(HUBS, name)


def load(name):
    path = os.path.join(hub_dir(name), "hub.json")
    if not os.path.exists(path):
        raise LabError("no lab hub named %r (make lab-hub NAME=%s ... deploys one)" % (name, name))
    with open(path) as f:
        return json.load(f)


def save(hub):
    os.makedirs(hub_dir(hub["name"]), exist_ok=True)
    path = os.path.join(hub_dir(hub["name"]), "hub.json")
    with open(path + ".tmp", "w") as f:  # whole or not at all: another test process may read it meanwhile
        json.dump(hub, f, indent=2, sort_keys=True)
    os.replace(path + ".tmp", path)


def all_hubs():
    """The lab hubs' records; a hub that another test process removes meanwhile is left out."""
    if not os.path.isdir(HUBS):
        return []
    out = []
    for name in sorted(os.listdir(HUBS)):
        try:
            out.append(load(name))
        except (LabError, OSError, ValueError):
            continue
    return out


def _slot_of(name):
    """The slot a hub holds: its record's, or the one kept in its folder since allocate_slot chose it."""
    try:
        return load(name)["slot"]
    except (LabError, OSError, ValueError, KeyError):
        pass
    try:
        with open(os.path.join(hub_dir(name), "slot")) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def allocate_slot(name):
    """A small integer per hub, stable across redeploys, unique among the hubs on this machine - also between test
    processes running side by side (make test's workers): chosen under a lock and kept in the hub's folder at once,
    before its record exists."""
    os.makedirs(HUBS, exist_ok=True)
    with open(os.path.join(HUBS, ".slot.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        taken = {}
        for other in sorted(os.listdir(HUBS)):
            slot = _slot_of(other) if os.path.isdir(hub_dir(other)) else None
            if slot is not None:
                taken[slot] = other
        for slot, owner in taken.items():
            if owner == name:
                return slot
        slot = 0
        while slot in taken:
            slot += 1
        os.makedirs(hub_dir(name), exist_ok=True)
        with open(os.path.join(hub_dir(name), "slot"), "w") as f:
            f.write("%d\n" % slot)
        return slot


def new_record(name, orch, version, k8s_storage="hostpath"):
    slot = allocate_slot(name)
    d = hub_dir(name)
    hub = {
        "name": name,
        "orchestration": orch,
        "slot": slot,
        "deployed_version": version,
        "old_version": OLD,
        "new_version": NEW,
        "pg_port": outside_ephemeral_range(LAB_PG_PORT + slot),   # the database published on 127.0.0.1 (the vendor uses 55436)
        "webapp_port": 18080 + slot,
        "k8s_pg_port": 15432 + slot,
        "namespace": name,
        "project": name,
        "hostpath": os.path.join(LAB_HOME, "k8s-data", name, "hub-postgresql", "data"),
        "k8s_storage": k8s_storage,
        "storage_class": "bdlab-%s" % name,
        "bundles": {},
    }
    for v in (OLD, NEW):
        root = render.render(v, d, pg_port=hub["pg_port"], webapp_port=hub["webapp_port"],
                             k8s_pg_port=hub["k8s_pg_port"], hostpath=hub["hostpath"], k8s_storage=k8s_storage,
                             storage_class=hub["storage_class"])
        hub["bundles"][v] = root
    return hub


# --------------------------------------------------------------------------------------------- orchestration

def bundle_file(hub, version, kind, fname):
    folder = {"compose": "docker-compose", "swarm": "docker-swarm", "kubernetes": "kubernetes"}[kind]
    return os.path.join(hub["bundles"][version], folder, fname)


def compose(hub, version, fname, *args):
    return run(["docker", "compose", "-p", hub["project"], "-f", bundle_file(hub, version, "compose", fname)] + list(args))


def kubectl(hub, *args, **kw):
    return run(["kubectl", "--kubeconfig", KUBECONFIG, "-n", hub["namespace"]] + list(args), **kw)


def containers(hub, service=None, all_states=False):
    """Docker containers of this hub (Compose project or Swarm stack), optionally of one service."""
    if hub["orchestration"] == "compose":
        filters = ["--filter", "label=com.docker.compose.project=%s" % hub["project"]]
        if service:
            filters += ["--filter", "label=com.docker.compose.service=%s" % service]
    elif hub["orchestration"] == "swarm":
        filters = ["--filter", "label=com.docker.stack.namespace=%s" % hub["project"]]
        if service:
            filters += ["--filter", "label=com.docker.swarm.service.name=%s_%s" % (hub["project"], service)]
    elif hub["orchestration"] == "docker_run":
        filters = []
        for n in [service] if service else DOCKER_RUN_NAMES:
            filters += ["--filter", "name=^/%s$" % n]
    else:
        raise LabError("containers() is for compose, swarm and docker-run hubs")
    out = run(["docker", "ps", "-q", "--no-trunc"] + (["-a"] if all_states else []) + filters)
    return out.split()


def health(container):
    return run(["docker", "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}",
                container]).strip()


def db_exec_argv(hub, interactive=False):
    """argv prefix that runs a command as the postgres OS user next to the hub's database (or in an external
    server's container: external_server() returns a record with orchestration "external")."""
    if hub["orchestration"] == "external":
        return ["docker", "exec"] + (["-i"] if interactive else []) + ["-u", "postgres", hub["container"]]
    if hub["orchestration"] == "kubernetes":
        pod = postgres_pod(hub)
        # the pods run as root (as the vendor's manifests leave them): the tools run as the postgres OS user
        return ["kubectl", "--kubeconfig", KUBECONFIG, "-n", hub["namespace"], "exec"] + (["-i"] if interactive else []) + [
            pod, "-c", "postgres", "--", "runuser", "-u", "postgres", "--"]
    cs = containers(hub, "postgres")
    if len(cs) != 1:
        raise LabError("expected one running postgres container for hub %s, found %d" % (hub["name"], len(cs)))
    return ["docker", "exec"] + (["-i"] if interactive else []) + ["-u", "postgres", cs[0]]


def postgres_pod(hub):
    out = kubectl(hub, "get", "pods", "-l", "app=postgres", "-o", "json")
    pods = [p for p in json.loads(out)["items"] if p["status"].get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")]
    if len(pods) != 1:
        raise LabError("expected one running postgres pod in namespace %s, found %d" % (hub["namespace"], len(pods)))
    return pods[0]["metadata"]["name"]


def psql(hub, sql, db="bds_hub"):
    """Run SQL through psql next to the hub's database; return unaligned, tuples-only output."""
    port = ["-p", str(hub["k8s_pg_port"])] if hub["orchestration"] == "kubernetes" else []
    return run(db_exec_argv(hub, interactive=True) + ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"] + port +
               ["-d", db, "-f", "-"], input=sql)


def wait_db_ready(hub, timeout=180):
    def ready():
        return psql(hub, "SELECT 1", db="postgres").strip() == "1"

    wait("the database of hub %s" % hub["name"], ready, timeout=timeout)


DUMP_MOUNT = "/blackduck-hub-dump"  # where the upgrade role mounts the dump folder (hub_dump_mount_target)


def mount_dump_folder(hub, version, folder):
    """A Compose hub's migration-mode database brought up again with folder bind-mounted at DUMP_MOUNT (an override
    file beside the folder, never in the bundle), on the same data volume: what hub_dump_mount does, for the module
    tests and the benchmark."""
    override = os.path.join(os.path.dirname(folder), "dump-mount-%s.yml" % hub["name"])
    with open(override, "w") as f:
        f.write("services:\n  postgres:\n    volumes: ['%s:%s']\n" % (folder, DUMP_MOUNT))
    run(["docker", "compose", "-p", hub["project"], "-f", bundle_file(hub, version, "compose", "docker-compose.dbmigrate.yml"),
         "-f", override, "up", "-d", "--pull", "never", "--wait", "--wait-timeout", "240"])
    wait_db_ready(hub)


def wait_healthy(hub, services, timeout=240):
    def ok():
        for s in services:
            cs = containers(hub, s)
            if len(cs) != 1 or health(cs[0]) not in ("healthy",):
                return False
        return True

    wait("services %s of hub %s to be healthy" % (", ".join(services), hub["name"]), ok, timeout=timeout)


def wait_pods_ready(hub, apps, timeout=240):
    def ok():
        pods = json.loads(kubectl(hub, "get", "pods", "-o", "json"))["items"]
        for app in apps:
            mine = [p for p in pods if p["metadata"].get("labels", {}).get("app") == app
                    and not p["metadata"].get("deletionTimestamp")]
            if len(mine) != 1:
                return False
            conds = {c["type"]: c["status"] for c in mine[0]["status"].get("conditions", [])}
            if conds.get("Ready") != "True":
                return False
        return True

    wait("pods %s of hub %s to be ready" % (", ".join(apps), hub["name"]), ok, timeout=timeout)


def side(hub, which):
    """The record of a hub migrated across orchestrations, as seen on one side (old or new): the orchestration
    that runs that side's version, so psql() and the dbcheck functions reach that side's database."""
    orch = hub["orchestration"] if which == "old" else hub.get("new_orchestration") or hub["orchestration"]
    return dict(hub, orchestration=orch)


def front_door(hub):
    """The URL of the Hub's webserver (vendor hubs): the port the vendor's files publish on this machine, or on
    Kubernetes the webserver pod's address (the lab cluster routes no ClusterIP)."""
    if hub["orchestration"] == "kubernetes":
        pods = json.loads(kubectl(hub, "get", "pods", "-l", "app=nginx-webapp-logstash", "-o", "json"))["items"]
        ips = [p["status"].get("podIP") for p in pods if p["status"].get("podIP") and not p["metadata"].get("deletionTimestamp")]
        if len(ips) != 1:
            raise LabError("expected one webserver pod in namespace %s, found %d" % (hub["namespace"], len(ips)))
        return "https://%s:8443" % ips[0]
    return "https://127.0.0.1:%d" % hub["front_door_port"]


def version_endpoint(hub):
    """GET /api/current-version from the hub's webapp (a vendor hub: through its webserver); returns the JSON body."""
    path = "/api/current-version"
    if hub.get("vendor"):
        import ssl
        ctx = ssl._create_unverified_context()  # the Hub's own self-signed root (lab only)
        with urllib.request.urlopen(front_door(hub) + path, timeout=10, context=ctx) as r:
            return json.loads(r.read().decode())
    if hub["orchestration"] == "swarm":  # no published ports in the lab's swarm: ask from inside the task
        cs = containers(hub, "webapp")
        if len(cs) != 1:
            raise LabError("expected one webapp container for hub %s, found %d" % (hub["name"], len(cs)))
        code = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8080%s', timeout=5).read().decode())" % path
        return json.loads(run(["docker", "exec", cs[0], "python3", "-c", code]))
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (hub["webapp_port"], path), timeout=5) as r:
        return json.loads(r.read().decode())


def start_db_only(hub, version):
    orch = hub["orchestration"]
    if orch == "compose":
        compose(hub, version, "docker-compose.dbmigrate.yml", "up", "-d", "--pull", "never", "--wait", "--wait-timeout", "240")
    elif orch == "swarm":
        run(["docker", "stack", "deploy", "--resolve-image", "never", "-c",
             bundle_file(hub, version, "swarm", "docker-compose.dbmigrate.yml"), hub["project"]])
        wait_healthy(hub, ["postgres"])
    else:
        run(["kubectl", "--kubeconfig", KUBECONFIG, "create", "namespace", hub["namespace"]])
        kubectl(hub, "create", "configmap", "hub-config", "--from-env-file=" + bundle_file(hub, version, "kubernetes", "pods.env"))
        kubectl(hub, "apply", "-f", bundle_file(hub, version, "kubernetes", "kubernetes-pre-db.yml"))
        wait_pods_ready(hub, ["cfssl", "postgres"])
    wait_db_ready(hub)


def start_full(hub, version):
    orch = hub["orchestration"]
    if orch == "compose":
        compose(hub, version, "docker-compose.yml", "up", "-d", "--pull", "never", "--wait", "--wait-timeout", "240")
    elif orch == "swarm":
        run(["docker", "stack", "deploy", "--resolve-image", "never", "-c",
             bundle_file(hub, version, "swarm", "docker-compose.yml"), hub["project"]])
        wait_healthy(hub, ["cfssl", "logstash", "postgres", "webapp"])
    else:
        kubectl(hub, "apply", "-f", bundle_file(hub, version, "kubernetes", "kubernetes-post-db.yml"))
        wait_pods_ready(hub, ["cfssl", "postgres", "logstash", "webapp"])
    wait("the version endpoint of hub %s" % hub["name"], lambda: version_endpoint(hub).get("version") == version)


def generator_argv(scale, seed):
    return [sys.executable, os.path.join(HERE, "datagen", "hubgen.py"), "--scale", str(scale), "--seed", str(seed)]


def load_data(hub, scale, seed):
    """Stream the generator's SQL into psql next to the database (as the postgres superuser)."""
    port = ["-p", str(hub["k8s_pg_port"])] if hub["orchestration"] == "kubernetes" else []
    loader = db_exec_argv(hub, interactive=True) + ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"] + port + ["-d", "postgres"]
    gen = subprocess.Popen(generator_argv(scale, seed), stdout=subprocess.PIPE)
    load_proc = subprocess.run(loader, stdin=gen.stdout, capture_output=True, text=True,
                               env=dict(os.environ, KUBECONFIG=KUBECONFIG), check=False)
    gen.stdout.close()
    if gen.wait() != 0 or load_proc.returncode != 0:
        raise LabError("loading generated data into %s failed: %s" % (hub["name"], load_proc.stderr.strip()[-2000:]))


# Kubernetes data on PersistentVolumeClaims: the lab cluster has no dynamic provisioner, so a hub deployed with
# k8s_storage="claim" gets PersistentVolumes made beforehand, as an administrator of such a cluster does: hostPath
# volumes of the hub's own storage class, one for the old version's claim and spares for a new claim.
CLAIM_VOLUMES = ("a", "b")


def make_claim_volumes(hub):
    items = []
    for v in CLAIM_VOLUMES:
        path = os.path.join(LAB_HOME, "k8s-data", hub["name"], "pv-%s" % v)
        items.append({"apiVersion": "v1", "kind": "PersistentVolume",
                      "metadata": {"name": "%s-pv-%s" % (hub["storage_class"], v), "labels": {"bdlab/hub": hub["name"]}},
                      "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"],
                               "persistentVolumeReclaimPolicy": "Retain", "storageClassName": hub["storage_class"],
                               "hostPath": {"path": path, "type": "DirectoryOrCreate"}}})
    manifest = {"apiVersion": "v1", "kind": "List", "items": items}
    run(["kubectl", "--kubeconfig", KUBECONFIG, "apply", "-f", "-"], input=json.dumps(manifest))


def deploy(name, orch, version="old", scale=10.0, seed=1, load=True, full=True, k8s_storage="hostpath"):
    """Deploy a lab hub. load=False leaves the databases as the image creates them (empty); full=False leaves
    the hub in migration mode (database containers only). k8s_storage="claim" puts a Kubernetes hub's data on a
    PersistentVolumeClaim instead of the vendor's hostPath."""
    if not NAME_RE.match(name):
        raise LabError("hub name %r: use lowercase letters, digits and dashes (it names a project, stack and namespace)" % name)
    if orch not in ORCHESTRATIONS:
        raise LabError("orchestration %r: choose one of %s" % (orch, ", ".join(ORCHESTRATIONS)))
    version = {"old": OLD, "new": NEW}.get(version, version)
    if version not in (OLD, NEW):
        raise LabError("version %r: the lab has %s (old) and %s (new)" % (version, OLD, NEW))
    if os.path.exists(os.path.join(hub_dir(name), "hub.json")):
        remove(name)
    if k8s_storage != "hostpath" and orch != "kubernetes":
        raise LabError("k8s_storage=%s is for a kubernetes hub" % k8s_storage)
    hub = new_record(name, orch, version, k8s_storage)
    hub.update(scale=scale if load else None, seed=seed, mode="full" if full else "migration")
    save(hub)
    if k8s_storage == "claim":
        make_claim_volumes(hub)
    start_db_only(hub, version)
    if load:
        load_data(hub, scale, seed)
    if full:
        start_full(hub, version)
    hub["deployed_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save(hub)
    return hub


# ----------------------------------------------------------------------------------- the vendor's real bundles

VENDOR_HOSTPATH = "/var/lib/hub-postgresql/data"  # where the vendor's kubernetes-pre-db.yml keeps the data


def vendor_record(name, orch, old, new, new_orch=None):
    """A hub record for the vendor's real bundles: copies of hub-docker-<old> and hub-docker-<new> (with the lab's
    printed patch only), the project / stack / namespace NAME, the ports the vendor's files publish."""
    for o in (orch, new_orch or orch):
        if o not in VENDOR_ORCHESTRATIONS:
            raise LabError("orchestration %r: choose one of %s" % (o, ", ".join(VENDOR_ORCHESTRATIONS)))
    if orch == "kubernetes":
        raise LabError("there is no Kubernetes bundle before 4.2: an old vendor hub runs on Compose, Swarm or docker-run")
    hub = {"name": name, "orchestration": orch, "new_orchestration": new_orch or orch, "vendor": True,
           "slot": allocate_slot(name), "deployed_version": old, "old_version": old, "new_version": new,
           "project": name, "namespace": name, "pg_port": 55436, "front_door_port": 443, "k8s_pg_port": 5432,
           "hostpath": VENDOR_HOSTPATH, "bundles": {}, "patches": {}}
    for v in (old, new):
        path, patch = vendor.copy_bundle(v, hub_dir(name))
        hub["bundles"][v] = path
        hub["patches"][v] = patch
        print("labhub: %s: hub-docker-%s copied from %s, %s" % (
            name, v, vendor.root(), "with the lab patch in %s" % os.path.join(path, vendor.PATCH_FILE) if patch
            else "unmodified"), file=sys.stderr)
    return hub


def heartbeats(hub):
    return int(psql(hub, "SELECT count(*) FROM st.hub_heartbeat").strip() or 0)


def deploy_vendor(name, orch, old, new, scale=1.0, seed=1, new_orch=None):
    """Deploy an old Hub from the vendor's real bundle (Compose, Swarm or docker-run) as its README says - the migration-mode
    file first, the Hub-like data loaded, then the whole Hub - with the new version's bundle copied beside it.

    It does not wait for the vendor's health checks (30 s apart): the hub is up once its webapp writes and its
    webserver answers the old version."""
    if not NAME_RE.match(name):
        raise LabError("hub name %r: use lowercase letters, digits and dashes" % name)
    if os.path.exists(os.path.join(hub_dir(name), "hub.json")):
        remove(name)
    os.makedirs(hub_dir(name), exist_ok=True)
    hub = vendor_record(name, orch, old, new, new_orch)
    hub.update(scale=scale, seed=seed, mode="full")
    save(hub)
    if orch == "docker_run":
        docker_run_script(hub, old, "migrate")
    else:
        start_vendor(hub, old, "docker-compose.dbmigrate.yml")
    wait_db_ready(hub)
    load_data(hub, scale, seed)
    if orch == "docker_run":
        docker_run_script(hub, old, "up")
    else:
        start_vendor(hub, old, "docker-compose.yml")
    before = heartbeats(hub)
    wait("the webapp of %s to write" % name, lambda: heartbeats(hub) > before, timeout=180)
    wait("the webserver of %s to answer %s" % (name, old), lambda: version_endpoint(hub).get("version") == old,
         timeout=180)
    hub["deployed_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save(hub)
    return hub


def start_vendor(hub, version, fname):
    """docker compose up -d / docker stack deploy of one of the vendor's files, as its README says."""
    if hub["orchestration"] == "compose":
        compose(hub, version, fname, "up", "-d", "--pull", "never")
    else:
        folder = os.path.dirname(bundle_file(hub, version, "swarm", fname))
        run(["docker", "stack", "deploy", "--resolve-image", "never", "-c", fname, hub["project"]], cwd=folder)
        wait("the database of stack %s" % hub["project"], lambda: len(containers(hub, "postgres")) == 1, timeout=180)


def docker_run_in_the_way():
    """docker ps -a lines that docker-hub.sh's `docker ps -a | grep <name>` would take for its own containers."""
    lines = run(["docker", "ps", "-a", "--no-trunc"]).splitlines()[1:]
    return [line for line in lines if any(n in line for n in DOCKER_RUN_NAMES)]


def docker_run_script(hub, version, what):
    """The vendor's docker-run/docker-hub.sh of a copy of the bundle, as its README says (from its folder):
    "migrate" starts the database containers as -m does - the script's restore is not used (it is given no dump,
    and fails there): the lab loads its own generated data -, "up" is -r <version> -u, "stop" -s, "down" -d -v.

    The script decides by `docker ps -a | grep <name>` whether a container exists: any container whose line names
    one of its containers (a leftover of another test, a dead Kubernetes container) makes it start the wrong one
    or none. The lab waits for those to go, and refuses to run it beside them."""
    folder = os.path.join(hub["bundles"][version], "docker-run")
    if what in ("migrate", "up") and not containers(hub, all_states=True):
        try:
            wait("containers that docker-hub.sh would take for its own to go", lambda: not docker_run_in_the_way(),
                 timeout=120)
        except LabError as exc:
            raise LabError("%s; still there:\n%s" % (exc, "\n".join(docker_run_in_the_way())))
    args = {"migrate": ["-r", version, "-m", "/dev/null"], "up": ["-r", version, "-u"], "stop": ["-s"],
            "down": ["-d", "-v"]}[what]
    out = run(["bash", "./docker-hub.sh"] + args, cwd=folder, check=what not in ("migrate", "down"))
    if what == "migrate":
        wait("the database container of %s" % hub["name"], lambda: len(containers(hub, "postgres")) == 1, timeout=60)
    return out


def remove_volume(vol):
    run(["docker", "volume", "rm", "-f", vol], check=False)
    return vol not in run(["docker", "volume", "ls", "-q"]).split()


def apart_project(hub):
    """The project the collection runs a Compose hub's old database under, apart, for hub_transfer: stream."""
    return hub["project"] + "-old-db"


def remove(name):
    """Remove everything of the hub, whatever state a test left it in."""
    path = os.path.join(hub_dir(name), "hub.json")
    if not os.path.exists(path):
        return
    hub = load(name)
    orchs = {hub["orchestration"], hub.get("new_orchestration") or hub["orchestration"]}
    if "compose" in orchs:
        # the old database a stream ran apart (hub_transfer: stream), on the hub's volumes: down before them
        run(["docker", "compose", "-p", apart_project(hub), "down", "-v", "--remove-orphans", "-t", "5"], check=False)
        for v in sorted(hub["bundles"]):
            for f in ("docker-compose.yml", "docker-compose.dbmigrate.yml", "docker-compose.externaldb.yml"):
                if os.path.exists(bundle_file(hub, v, "compose", f)):
                    run(["docker", "compose", "-p", hub["project"], "-f", bundle_file(hub, v, "compose", f),
                         "down", "-v", "--remove-orphans", "-t", "5"], check=False)
    if "docker_run" in orchs:
        for v in sorted(hub["bundles"]):  # each version's volumes; the containers are the same names
            docker_run_script(hub, v, "down")
    if "swarm" in orchs:
        run(["docker", "stack", "rm", hub["project"]], check=False)
        swarm_hub = dict(hub, orchestration="swarm")
        wait("the stack %s to be gone" % hub["project"], lambda: not containers(swarm_hub, all_states=True),
             timeout=120)
        run(["docker", "stack", "rm", hub["project"]], check=False)  # a network a stopping task held (moby#31068)
    if "kubernetes" in orchs:
        k = ["kubectl", "--kubeconfig", KUBECONFIG]
        run(k + ["delete", "namespace", hub["namespace"], "--ignore-not-found", "--wait=false"], check=False)
        # a lab hub's pods hold nothing worth a graceful stop: end them now (a terminating namespace takes no new
        # pod), so that the namespace goes at once instead of after every pod's grace period
        run(k + ["delete", "pods", "--all", "-n", hub["namespace"], "--grace-period=0", "--force", "--ignore-not-found",
                 "--wait=false"], check=False)
        run(k + ["wait", "--for=delete", "namespace/%s" % hub["namespace"], "--timeout=120s"], check=False)
        run(["kubectl", "--kubeconfig", KUBECONFIG, "delete", "persistentvolumes", "-l", "bdlab/hub=%s" % hub["name"],
             "--ignore-not-found", "--wait=true", "--timeout=60s"], check=False)
        if hub.get("vendor"):  # the vendor's hostPath, and what a migration moved aside beside it
            parent = os.path.dirname(hub["hostpath"])
            for entry in os.listdir(parent) if os.path.isdir(parent) else []:
                if entry == os.path.basename(hub["hostpath"]) or entry.startswith(os.path.basename(hub["hostpath"]) + "."):
                    shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
        else:
            shutil.rmtree(os.path.dirname(os.path.dirname(hub["hostpath"])), ignore_errors=True)
    # Containers a test made by hand under the hub's Compose projects (docker run/create with the project's label):
    # compose down leaves them, as they carry no config hash of its own.
    for project in (hub["project"], apart_project(hub)):
        made = run(["docker", "ps", "-a", "-q", "--filter", "label=com.docker.compose.project=%s" % project],
                   check=False).split()
        if made:
            run(["docker", "rm", "-f", "-v"] + made, check=False)
    # Volumes of the project or stack, whatever version made them (a migrated hub has both).
    for label in ("com.docker.compose.project=%s" % hub["project"], "com.docker.stack.namespace=%s" % hub["project"],
                  "com.docker.compose.project=%s" % apart_project(hub)):
        vols = run(["docker", "volume", "ls", "-q", "--filter", "label=%s" % label], check=False).split()
        for vol in vols:  # a swarm task's container may still hold it for a moment after the stack is gone
            wait("volume %s to be removed" % vol, lambda vol=vol: remove_volume(vol), timeout=60)
    shutil.rmtree(hub_dir(name), ignore_errors=True)


# An external database server (the stand-in for Amazon RDS or any PostgreSQL outside the Hub): a database
# container of its own on the host's network, listening only on the Docker bridge's host address, so that both
# the host (the modules' tcp connection) and the Hub's containers reach it, and nothing outside this machine does.
# (A published port would not do: Docker isolates one bridge network's containers from another's.)
EXTERNAL_ADDRESS = "172.17.0.1"


def external_server(name, version, port):
    """Start an external PostgreSQL server named bdlab-ext-NAME of the given Hub version's image; return its address."""
    version = {"old": OLD, "new": NEW}.get(version, version)
    outside_ephemeral_range(port)
    remove_external_server(name)
    run(["docker", "run", "-d", "--name", "bdlab-ext-%s" % name, "--label", "org.bdlab.external=%s" % name,
         "--network", "host", "-e", "HUB_POSTGRES_LISTEN=%s" % EXTERNAL_ADDRESS, "-e", "PGPORT=%d" % port,
         "blackducksoftware/hub-postgres:%s" % version])
    ready = ["docker", "exec", "-u", "postgres", "bdlab-ext-%s" % name, "psql", "-X", "-A", "-t", "-c", "SELECT 1"]
    wait("the external server %s" % name, lambda: run(ready, check=False).strip() == "1")
    # psql(), load_data() and the dbcheck functions take this record as they take a hub's
    return {"name": "bdlab-ext-%s" % name, "orchestration": "external", "host": EXTERNAL_ADDRESS, "port": port,
            "container": "bdlab-ext-%s" % name}


def point_bundle_at(hub, version, server, fname=None):
    """Make a bundle's settings name an external server, as a user configures the Hub for one: hub-postgres.env
    (Compose, Swarm) or pods.env (Kubernetes, the ConfigMap hub-config) - or the file fname of the bundle's folder
    whose ConfigMap hub-config holds the settings (kubernetes-external-rds.yml, which the vendor ships with one)."""
    orch = hub["orchestration"]
    if fname:
        path = bundle_file(hub, version, orch, fname)
        with open(path) as f:
            text = f.read()
        for key, value in (("HUB_POSTGRES_HOST", server["host"]), ("HUB_POSTGRES_PORT", '"%d"' % server["port"])):
            text, n = re.subn(r"(?m)^(\s+%s:).*$" % key, r"\g<1> %s" % value, text)
            if n != 1:
                raise LabError("%s: expected one %s in its ConfigMap hub-config, found %d" % (path, key, n))
        with open(path, "w") as f:
            f.write(text)
        return
    env = bundle_file(hub, version, orch, "pods.env" if orch == "kubernetes" else "hub-postgres.env")
    with open(env) as f:
        lines = [ln for ln in f.read().splitlines() if not ln.startswith(("HUB_POSTGRES_HOST=", "HUB_POSTGRES_PORT="))]
    with open(env, "w") as f:
        f.write("\n".join(lines + ["HUB_POSTGRES_HOST=%s" % server["host"], "HUB_POSTGRES_PORT=%d" % server["port"]]) + "\n")


def run_on_external_server(hub, version, server):
    """Turn a Compose lab hub into one that runs on an external server: its own database container and volume go,
    and the version's docker-compose.externaldb.yml runs, its webapp writing to the server."""
    for f in ("docker-compose.yml", "docker-compose.dbmigrate.yml"):
        compose(hub, version, f, "down", "-t", "5")
    wait("the data volume of %s to be removed" % hub["name"],
         lambda: remove_volume("%s_%s" % (hub["project"], render.data_volume(version))), timeout=60)
    point_bundle_at(hub, version, server)
    compose(hub, version, "docker-compose.externaldb.yml", "up", "-d", "--pull", "never", "--wait", "--wait-timeout", "240")
    wait("the version endpoint of hub %s" % hub["name"], lambda: version_endpoint(hub).get("version") == version)


def remove_external_server(name):
    run(["docker", "rm", "-f", "-v", "bdlab-ext-%s" % name], check=False)


# What a killed run's tests leave beside the hubs: a file system mounted over a volume's data (a database on a small
# disk), Node objects with no kubelet behind them, and the locks it made as if held from another controller.
VOLUMES = os.path.join(LAB_HOME, "docker", "volumes")
LAB_NODE = "bdlab-node"
LOCK_DIR = "/var/lib/blackduck-hub/locks"


def mounts_over_volumes(mounts="/proc/self/mounts"):
    """The mount points under the engine's volumes (a test's tmpfs over a volume's _data), deepest first: the engine
    cannot remove a volume with a file system mounted in it ("device or resource busy")."""
    with open(mounts) as f:
        points = [line.split()[1].replace("\\040", " ") for line in f if len(line.split()) > 1]
    return sorted((p for p in points if p.startswith(VOLUMES + os.sep)), key=len, reverse=True)


def stray_nodes():
    """Node objects of the lab's cluster other than its one node (a test makes them, with no kubelet behind)."""
    out = run(["kubectl", "--kubeconfig", KUBECONFIG, "get", "nodes", "-o", "name", "--request-timeout=10s"], check=False)
    return [n.split("/", 1)[1] for n in out.split() if n.startswith("node/") and n != "node/" + LAB_NODE]


def foreign_locks(lock_dir=LOCK_DIR):
    """Locks of the collection held, as their files say, from a controller other than this machine: only a test makes
    them on the lab (a run of this machine that was killed is taken over by the next run, as the collection does)."""
    found = []
    for entry in sorted(os.listdir(lock_dir)) if os.path.isdir(lock_dir) else []:
        path = os.path.join(lock_dir, entry)
        try:
            with open(path) as f:
                holder = json.load(f).get("holder") or {}
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(holder, dict) and holder.get("controller") not in (None, os.uname().nodename):
            found.append(path)
    return found


def leftovers():
    """Remove every lab hub and external server a run left behind (one that was killed does not clean up), and say
    which: the test suite starts from an empty lab, since docker-hub.sh takes any container whose line names one of
    its own for its own. For tests/run.sh, which holds the suite's lock meanwhile."""
    for point in mounts_over_volumes():
        print("labhub: unmounting %s, mounted over a volume by a run that did not end" % point, file=sys.stderr)
        run(["umount", point], check=False)
        if os.path.ismount(point):  # busy: detached now, freed when its last user goes
            run(["umount", "-l", point], check=False)
    for node in stray_nodes():
        print("labhub: deleting the Node %s, made by a run that did not end" % node, file=sys.stderr)
        run(["kubectl", "--kubeconfig", KUBECONFIG, "delete", "node", node, "--ignore-not-found", "--wait=false"],
            check=False)
    for path in foreign_locks():
        print("labhub: removing the lock %s, made by a run that did not end" % path, file=sys.stderr)
        os.remove(path)
    names = sorted(n for n in (os.listdir(HUBS) if os.path.isdir(HUBS) else [])
                   if not n.startswith(".") and os.path.isdir(hub_dir(n)))  # not the slot lock
    for name in names:
        print("labhub: removing lab hub %s, left by a run that did not end" % name, file=sys.stderr)
        remove(name)
        shutil.rmtree(hub_dir(name), ignore_errors=True)  # remove() leaves a folder without hub.json (a killed deploy)
    servers = run(["docker", "ps", "-a", "-q", "--filter", "label=org.bdlab.external"]).split()
    for cid in servers:
        print("labhub: removing external server %s, left by a run that did not end" % cid[:12], file=sys.stderr)
        run(["docker", "rm", "-f", "-v", cid], check=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Lab hubs for blackduck.hub tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("deploy")
    d.add_argument("name")
    d.add_argument("--orch", default="compose", choices=ORCHESTRATIONS)
    d.add_argument("--version", default="old")
    d.add_argument("--scale", type=float, default=10.0)
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--k8s-storage", default="hostpath", choices=["hostpath", "claim"])
    r = sub.add_parser("remove")
    r.add_argument("name")
    i = sub.add_parser("info")
    i.add_argument("name")
    sub.add_parser("list")
    sub.add_parser("leftovers", help="remove every hub and external server left by a run that did not end")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "deploy":
            t0 = time.monotonic()
            hub = deploy(a.name, a.orch, a.version, a.scale, a.seed, k8s_storage=a.k8s_storage)
            print(json.dumps(hub, indent=2, sort_keys=True))
            print("hub %s (%s, Hub %s) is up in %.0f s; version endpoint: %s" % (
                hub["name"], hub["orchestration"], hub["deployed_version"], time.monotonic() - t0,
                version_endpoint(hub)), file=sys.stderr)
        elif a.cmd == "remove":
            remove(a.name)
        elif a.cmd == "leftovers":
            leftovers()
        elif a.cmd == "info":
            print(json.dumps(load(a.name), indent=2, sort_keys=True))
        else:
            for h in all_hubs():
                print("%-20s %-11s %s slot %d" % (h["name"], h["orchestration"], h["deployed_version"], h["slot"]))
    except LabError as exc:
        print("labhub: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
