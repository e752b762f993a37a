"""ansible-playbook blackduck.hub.upgrade_hub on a Kubernetes lab hub: the same playbook, hub_orchestration: kubernetes.

The old and new manifests use the same hostPath (the vendor's 4.2 layout): the old data folder is moved aside
(renamed on the node, never deleted) before the new server initialises, and only step 11 deletes the copy.
A new manifest pinning the database pod to a node that is not this host, or an old one pinning it to a tainted node,
is refused in the plan; check mode changes
nothing; an upgrade after the new version was started without migrating, with verification, and
in the same run another hub's from an untouched old Hub; a rerun changes nothing, and beside it step 11 on the other
(the moved-aside copy deleted, nothing else); a run with a state of its own refused while the migrated Hub is down
(the moved-aside copy says another migration happened); going back (the folders swapped). (Step 11 when the new database is external: test_upgrade_external.)
The same with the data on a PersistentVolumeClaim that both bundles name: the new version gets a claim of its own,
the old claim keeps the old data until step 11 deletes it; a first run failing at step 9 goes back by itself
(hub_rollback_on_failure) to the old claim, and the next run replaces the attempt's data on the new claim.
"""
import contextlib
import json
import os
import re

import pytest

import ansible_run
import dbcheck
import hubgen
import labhub
from ansible_collections.blackduck.hub.plugins.module_utils import _lock

pytestmark = pytest.mark.usefixtures("docker_lab", "k8s_lab")


state = ansible_run.state


def deployments(hub):
    out = json.loads(labhub.kubectl(hub, "get", "deployments", "-o", "json"))
    return sorted((d["metadata"]["name"], d["spec"]["template"]["spec"]["containers"][0]["image"], d["spec"]["replicas"])
                  for d in out["items"])


def pods(hub, selector):
    return json.loads(labhub.kubectl(hub, "get", "pods", "-l", selector, "-o", "json"))["items"]


pg_version = dbcheck.data_folder_major


def webapp_to_nothing(hub):
    """The webapp scaled to nothing and its pod gone: the data holds still for a comparison."""
    labhub.kubectl(hub, "scale", "deployment", "webapp", "--replicas=0")
    labhub.wait("the webapp pod to go", lambda: not pods(hub, "app=webapp"), timeout=90)


def assert_upgraded_in_place(hub, dump_root, name, data, aside):
    """A hostPath hub after a completed run: every table verified without a difference, the new version answering,
    the folder in use holding the new major's data and the old data moved aside intact; the dump made by pg_dump
    --jobs inside the old pod into the dump folder mounted there (the default), a folder per database."""
    st = state(dump_root, name)
    assert st["steps"]["verify"]["status"] == "done"
    with open(os.path.join(dump_root, name, "dump", "manifest.json")) as f:
        databases = json.load(f)["databases"]
    assert set(d["format"] for d in databases.values()) == {"directory"}, databases
    assert all(os.path.isdir(os.path.join(dump_root, name, "dump", d["file"])) for d in databases.values()), databases
    for db, v in st["steps"]["restore"]["data"]["verification"].items():
        assert v["differences"] == [], db
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    assert pg_version(data) == labhub.VERSIONS["PG_NEW_MAJOR"]
    assert pg_version(aside) == labhub.VERSIONS["PG_OLD_MAJOR"]


@contextlib.contextmanager
def a_tainted_node(name, label):
    """A second Node object in the lab's cluster, with no kubelet behind it, carrying label and a taint set by hand
    (as a lone control-plane node carries its own): no pod is scheduled on it - the other tests' pods tolerate nothing
    either, and pin to blackduck.hub.postgres=true. Deleted afterwards."""
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {label: "true"}},
            "spec": {"taints": [{"key": "blackduck.hub/lab", "value": "tainted", "effect": "NoSchedule"}]}}
    labhub.run(["kubectl", "--kubeconfig", labhub.KUBECONFIG, "create", "-f", "-"], input=json.dumps(node))
    try:
        yield
    finally:
        labhub.run(["kubectl", "--kubeconfig", labhub.KUBECONFIG, "delete", "node", name, "--wait=false"])


def test_kubernetes_early_start_then_upgrade_rerun_and_back(lab_hubs, tmp_path):
    """One hostPath for both versions. Check mode changes nothing and names what step 11 would delete. The new
    version applied without migrating: its server refuses the old data (a different major), the Hub does not come up,
    the data stays safe; the playbook then migrates it, verified, the old folder moved aside intact; a rerun changes
    nothing; with the Hub down, a run with a state of its own is refused before anything; going back swaps the folders.
    Beside it in the same runs, a second hub from an untouched running old Hub (its webapp scaled to nothing, so that
    its data holds still): the upgrade, verified, the old folder moved aside intact; then step 11 on request deletes
    the moved-aside copy and nothing else (the folder in use keeps the new data)."""
    hub = lab_hubs("pb-k8s", "kubernetes", scale=0.5, seed=13)
    e2e = lab_hubs("pb-k8s-e2e", "kubernetes", scale=1.0, seed=12)
    dump_root = str(tmp_path)
    data = hub["hostpath"]
    aside = data + ".blackduck-hub-" + labhub.OLD
    e2e_data = e2e["hostpath"]
    e2e_aside = e2e_data + ".blackduck-hub-" + labhub.OLD
    webapp_to_nothing(e2e)
    e2e_expected = dbcheck.fingerprint_without_fixups(e2e)

    # a new manifest whose database pod is pinned to a node no node is, and an old one pinned to a node that is tainted
    # (a second Node object, with no kubelet behind it): both refused in the plan, nothing touched (the pod would never
    # start, or start where the hostPath is not this host's folder)
    pre_dbs = [labhub.bundle_file(hub, v, "kubernetes", "kubernetes-pre-db.yml") for v in (labhub.NEW, labhub.OLD)]
    shipped = {}
    for path in pre_dbs:
        with open(path) as f:
            shipped[path] = f.read()
        assert shipped[path].count('blackduck.hub.postgres: "true"') == 1, path
    try:
        for path, label in zip(pre_dbs, ("blackduck.hub.postgres-elsewhere", "blackduck.hub.postgres-tainted")):
            with open(path, "w") as f:
                f.write(shipped[path].replace('blackduck.hub.postgres: "true"', '%s: "true"' % label))
        with a_tainted_node("bdlab-tainted", "blackduck.hub.postgres-tainted"):
            rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root), "--check")
        said = " ".join(out.split())
        assert rc != 0 and recap.get("pb-k8s", {}).get("changed") == 0, out
        assert ("would not run where its data is: no schedulable node carries the labels the database pod is pinned "
                "to (nodeSelector blackduck.hub.postgres-elsewhere=true)") in said, out
        # (the controller may by then have tainted that node, which no kubelet keeps alive, unreachable too)
        assert ("no schedulable node carries the labels the database pod is pinned to (nodeSelector "
                "blackduck.hub.postgres-tainted=true); bdlab-tainted carries them but is tainted "
                "blackduck.hub/lab=tainted:NoSchedule") in said, out
        assert "kubectl taint node bdlab-tainted blackduck.hub/lab=tainted:NoSchedule-" in said, out
    finally:
        for path in pre_dbs:
            with open(path, "w") as f:
                f.write(shipped[path])

    # check mode changes nothing (the webapp scaled to nothing first: the data holds still)
    webapp_to_nothing(hub)
    before = deployments(hub), dbcheck.fingerprint(hub)
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root), "--check")
    assert rc == 0 and recap["pb-k8s"]["changed"] == 0, out
    assert "rm -rf %s" % aside in out  # the plan says how the moved-aside copy would be removed
    assert (deployments(hub), dbcheck.fingerprint(hub)) == before
    assert not os.path.exists(aside)
    expected = dbcheck.fingerprint_without_fixups(hub)

    for f in ("kubernetes-pre-db.yml", "kubernetes-post-db.yml"):
        labhub.kubectl(hub, "apply", "-f", labhub.bundle_file(hub, labhub.NEW, "kubernetes", f))

    def new_pod_failing():
        pods = json.loads(labhub.kubectl(hub, "get", "pods", "-l", "app=postgres", "-o", "json"))["items"]
        new = [p for p in pods if p["spec"]["containers"][0]["image"].endswith(":" + labhub.NEW)]
        return new and any(c.get("restartCount", 0) > 0 or c.get("state", {}).get("waiting")
                           for p in new for c in p["status"].get("containerStatuses", []))

    labhub.wait("the new database to refuse the old data", new_pod_failing, timeout=120)
    assert pg_version(data) == labhub.VERSIONS["PG_OLD_MAJOR"]  # the data is safe
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub, e2e], dump_root))
    assert rc == 0, out
    assert_upgraded_in_place(hub, dump_root, "pb-k8s", data, aside)
    assert {d[1] for d in deployments(hub)} == {"blackducksoftware/hub-%s:%s" % (n, labhub.NEW)
                                                for n in ("cfssl", "logstash", "postgres", "webapp")}
    got = dbcheck.counts(hub, "bds_hub")
    assert got["st.project"] == hubgen.expected_row_counts(0.5, 13)["bds_hub"]["st.project"]
    assert got["st.bom_entry"] == expected["bds_hub"]["counts"]["st.bom_entry"]
    assert_upgraded_in_place(e2e, dump_root, "pb-k8s-e2e", e2e_data, e2e_aside)
    counts = dbcheck.counts(e2e, "bds_hub")
    assert counts["st.project"] == hubgen.expected_row_counts(1.0, 12)["bds_hub"]["st.project"]
    assert counts["st.bom_entry"] == e2e_expected["bds_hub"]["counts"]["st.bom_entry"]

    # a rerun changes nothing; beside it, step 11 on request deletes the other hub's moved-aside copy, nothing else
    remove = {"pb-k8s-e2e": {"hub_remove_old_data": True}}
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub, e2e], dump_root, **remove))
    assert rc == 0 and recap["pb-k8s"]["changed"] == 0 and recap["pb-k8s-e2e"]["changed"] > 0, out
    assert os.path.exists(aside)
    assert state(dump_root, "pb-k8s-e2e")["steps"]["remove_old_data"]["status"] == "done"
    assert not os.path.exists(e2e_aside) and pg_version(e2e_data) == labhub.VERSIONS["PG_NEW_MAJOR"]
    assert labhub.version_endpoint(e2e) == {"version": labhub.NEW}

    # the migrated Hub down, a run with a state of its own (another hub_dump_dir, going back on failure): its database
    # cannot be asked for the restore marker, but the moved-aside copy says a migration it does not record happened -
    # refused before anything: no folder moved (going back would have swapped them), nothing started
    labhub.kubectl(hub, "scale", "deployment", "--all", "--replicas=0")
    labhub.wait("the hub's pods to go", lambda: not pods(hub, "app"), timeout=120)
    down = deployments(hub)
    other = {"pb-k8s": {"hub_rollback_on_failure": True}}
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], os.path.join(dump_root, "other"), **other))
    said = " ".join(out.split())
    assert rc != 0 and recap["pb-k8s"]["changed"] == 0, out
    assert ("pb-k8s's data folder %s holds a migration that this run's state (%s) does not record: its old data was "
            "moved aside to %s by another run's step 6" % (data, os.path.join(dump_root, "other", "pb-k8s", "state.json"),
                                                           aside)) in said, out
    assert pg_version(data) == labhub.VERSIONS["PG_NEW_MAJOR"] and pg_version(aside) == labhub.VERSIONS["PG_OLD_MAJOR"]
    assert not [p for p in os.listdir(os.path.dirname(data)) if p.startswith("data.blackduck-hub-%s-" % labhub.NEW)]
    assert deployments(hub) == down and not pods(hub, "app")
    # rollback_hub with that inventory refuses the same way: going back would put the older data in the folder's place
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], os.path.join(dump_root, "other")),
                                          name="blackduck.hub.rollback_hub")
    assert rc != 0 and "holds a migration that this run's state (%s) does not record" % os.path.join(
        dump_root, "other", "pb-k8s", "state.json") in " ".join(out.split()), out
    assert pg_version(data) == labhub.VERSIONS["PG_NEW_MAJOR"] and pg_version(aside) == labhub.VERSIONS["PG_OLD_MAJOR"]
    assert deployments(hub) == down and not pods(hub, "app")

    # going back: the new data folder moved aside (kept), the old one back in its place, the old Hub serving on it
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root), name="blackduck.hub.rollback_hub")
    assert rc == 0, out
    assert labhub.version_endpoint(hub) == {"version": labhub.OLD}
    assert pg_version(data) == labhub.VERSIONS["PG_OLD_MAJOR"] and not os.path.exists(aside)
    kept = [p for p in os.listdir(os.path.dirname(data)) if p.startswith("data.blackduck-hub-%s-" % labhub.NEW)]
    assert len(kept) == 1 and pg_version(os.path.join(os.path.dirname(data), kept[0])) == labhub.VERSIONS["PG_NEW_MAJOR"]
    assert {d[1] for d in deployments(hub)} == {"blackducksoftware/hub-%s:%s" % (n, labhub.OLD)
                                                for n in ("cfssl", "logstash", "postgres", "webapp")}
    assert dbcheck.counts(hub, "bds_hub")["st.project"] == got["st.project"]


def claims(hub):
    items = json.loads(labhub.kubectl(hub, "get", "persistentvolumeclaims", "-o", "json"))["items"]
    return {c["metadata"]["name"]: c for c in items}


def claim_path(hub, claim):
    """The folder on this node of the (lab's hostPath) volume bound to a claim."""
    pv = json.loads(labhub.run(["kubectl", "--kubeconfig", labhub.KUBECONFIG, "get", "persistentvolume",
                                claim["spec"]["volumeName"], "-o", "json"]))
    return pv["spec"]["hostPath"]["path"]


def postgres_claim(hub):
    dep = json.loads(labhub.kubectl(hub, "get", "deployment", "postgres", "-o", "json"))
    return [v["persistentVolumeClaim"]["claimName"] for v in dep["spec"]["template"]["spec"]["volumes"]
            if "persistentVolumeClaim" in v]


def test_kubernetes_data_on_a_claim(lab_hubs, tmp_path):
    hub = lab_hubs("pb-k8s-pvc", "kubernetes", scale=1.0, seed=14, k8s_storage="claim")
    dump_root = str(tmp_path)
    old_claim, new_claim = "blackduck-postgres", "blackduck-postgres-%s" % labhub.NEW
    before = claims(hub)
    assert sorted(before) == [old_claim] and before[old_claim]["status"]["phase"] == "Bound"
    old_path = claim_path(hub, before[old_claim])
    assert pg_version(old_path) == labhub.VERSIONS["PG_OLD_MAJOR"]

    # check mode: the plan names the claim step 11 would delete; nothing changes. The hub's lock is named after the
    # cluster's identity (kube-system's UID), whatever URL a kubeconfig reaches it by: held from another controller
    # under that name, the plan sees it
    uid = labhub.kubectl(hub, "get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}").strip()
    held = _lock.lock_path(labhub.LOCK_DIR, "kubernetes:cluster-%s/namespace:%s" % (uid, hub["namespace"]))
    assert uid and not os.path.exists(held)
    os.makedirs(labhub.LOCK_DIR, exist_ok=True)
    with open(held, "w") as f:
        json.dump({"key": "k", "holder": {"run": "elsewhere/1", "controller": "ctl-elsewhere", "dump_dir": "/x"}}, f)
    try:
        rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root), "--check")
    finally:
        os.unlink(held)
    assert rc == 0 and recap["pb-k8s-pvc"]["changed"] == 0, out
    assert "delete persistentvolumeclaim %s" % old_claim in out
    assert "lock: HELD by another run (ctl-elsewhere, dump folder /x)" in out, out
    assert sorted(claims(hub)) == [old_claim] and postgres_claim(hub) == [old_claim]
    expected = dbcheck.fingerprint_without_fixups(hub)

    # a first run fails at step 9 (the new webapp never gets ready) and goes back by itself: the old Hub serves again
    # on the old claim; the new claim, holding the attempt's data, is kept
    post_db = labhub.bundle_file(hub, labhub.NEW, "kubernetes", "kubernetes-post-db.yml")
    text = open(post_db).read()
    head, webapp = text.split("metadata: {name: webapp,", 1)
    sick = webapp.replace("exec: {command: [/usr/local/bin/docker-healthcheck.sh]}", "exec: {command: [/bin/false]}", 1)
    assert sick != webapp
    with open(post_db, "w") as f:
        f.write(head + "metadata: {name: webapp," + sick)
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root, **{
        "pb-k8s-pvc": {"hub_rollback_on_failure": True, "hub_start_timeout": 45}}))
    with open(post_db, "w") as f:
        f.write(text)
    assert rc != 0
    assert "pb-k8s-pvc: FAILED at step 9 (start_hub): " in out, out
    # the wait that ran out named, with the setting that bounds it (not the tail of kubectl's JSON)
    assert ("timed out: 'Apply | Wait until every deployment of the manifests is ready, alone' gave up "
            "(hub_start_timeout: raise it if it was only slow)") in out, out
    assert "rolled back (hub_rollback_on_failure): the old Hub %s serves again" % labhub.OLD in out, out
    assert labhub.version_endpoint(hub) == {"version": labhub.OLD}
    assert postgres_claim(hub) == [old_claim] and sorted(claims(hub)) == [old_claim, new_claim]
    assert pg_version(claim_path(hub, claims(hub)[new_claim])) == labhub.VERSIONS["PG_NEW_MAJOR"]  # kept
    rolled = state(dump_root, "pb-k8s-pvc")
    assert rolled["status"] == "rolled back" and rolled["attempts"][0]["failed_step"] == 9
    # what ran when it failed, as the rescue asked it (hub_facts.new_services: this namespace's pods)
    seen = rolled["attempts"][0]["steps"]["start_hub"]["data"]["services"]
    assert {"webapp": "not ready"}.items() <= {s["service"]: s["health"] for s in seen}.items(), seen
    assert re.search(r"What runs: [^\n]*webapp \(webapp-", out), out

    # the next run starts at step 1 with a new dump; its restore replaces the attempt's data on the new claim
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root))
    assert rc == 0, out
    st = state(dump_root, "pb-k8s-pvc")
    assert st["steps"]["restore"]["data"]["dump_id"] != rolled["attempts"][0]["dump_id"]
    for db, v in st["steps"]["restore"]["data"]["verification"].items():
        assert v["differences"] == [], db
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    now = claims(hub)
    assert sorted(now) == [old_claim, new_claim] and now[new_claim]["status"]["phase"] == "Bound"
    assert now[new_claim]["spec"]["storageClassName"] == before[old_claim]["spec"]["storageClassName"]
    assert now[new_claim]["metadata"]["annotations"]["blackduck.hub/copied-from"] == old_claim
    assert postgres_claim(hub) == [new_claim]
    assert pg_version(claim_path(hub, now[new_claim])) == labhub.VERSIONS["PG_NEW_MAJOR"]
    assert pg_version(old_path) == labhub.VERSIONS["PG_OLD_MAJOR"]  # the old claim's data, intact
    counts = dbcheck.counts(hub, "bds_hub")
    assert counts["st.bom_entry"] == expected["bds_hub"]["counts"]["st.bom_entry"]

    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root))
    assert rc == 0 and recap["pb-k8s-pvc"]["changed"] == 0, out
    assert old_claim in claims(hub)

    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root,
                                                                    **{"pb-k8s-pvc": {"hub_remove_old_data": True}}))
    assert rc == 0, out
    assert sorted(claims(hub)) == [new_claim] and postgres_claim(hub) == [new_claim]
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW}
    # the old claim is gone: going back is refused, and nothing changes
    rc, out, recap = ansible_run.playbook(ansible_run.hub_inventory([hub], dump_root), name="blackduck.hub.rollback_hub")
    assert rc != 0 and recap["pb-k8s-pvc"]["changed"] == 0, out
    assert "There is no way back for pb-k8s-pvc: step 11 removed the old data" in out
    assert labhub.version_endpoint(hub) == {"version": labhub.NEW} and postgres_claim(hub) == [new_claim]
