"""Check mode proves what the real run will apply, on the vendor's real files: every Compose file through
docker compose config (with the env files it names) and its images on the engine, every Kubernetes manifest -
converted as the run converts it - through the API server. A file that would fail at step 6 or 9 fails in check mode
(and in step 1), before the Hub goes down; a good bundle passes and the plan says what the conversion changes.

No Hub needs to run for this: check mode on a hub that is not there yet changes nothing either.
"""
import base64
import os
import sys

import pytest

import ansible_run
import labhub
import vendor

pytestmark = [pytest.mark.usefixtures("docker_lab"), pytest.mark.no_containers]


def inventory(name, old, new, dump_root, **extra):
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "hub_orchestration": "compose",
            "hub_project": name, "hub_old_bundle": old, "hub_new_bundle": new, "hub_dump_dir": os.path.join(dump_root, name),
            "hub_compose_pull": "never",
            "hub_fleet_report_dir": os.path.join(dump_root, "fleet")}  # not the working folder (the checkout)
    host.update(extra)
    return {"all": {"hosts": {name: host}}}


def nothing_of(name):
    assert labhub.run(["docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=%s" % name]).strip() == ""
    assert labhub.run(["docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=%s" % name]).strip() == ""


def test_compose_files_and_images_are_proven(tmp_path):
    old, dummy = vendor.copy_bundle("4.1.4", str(tmp_path))
    new, dummy = vendor.copy_bundle("4.2.0", str(tmp_path))
    rc, out, recap = ansible_run.playbook(inventory("cf-proof", old, new, str(tmp_path)), "--check")
    assert rc == 0 and recap["cf-proof"]["changed"] == 0, out
    assert "checked: 4 files of the bundles as the steps will use them" in out
    nothing_of("cf-proof")

    # the new bundle's webserver settings file is missing: step 9 would fail; check mode says so now
    os.unlink(os.path.join(new, "docker-compose", "hub-webserver.env"))
    rc, out, recap = ansible_run.playbook(inventory("cf-proof", old, new, str(tmp_path)), "--check")
    assert rc != 0, out
    assert "%s/docker-compose/docker-compose.yml cannot be used: docker compose says" % new in out
    assert "hub-webserver.env" in out and "the Hub was not touched" in out
    nothing_of("cf-proof")

    # a proxy password whose quote is not closed in the new bundle's hub-proxy.env: refused, the file and line named,
    # the value not shown (docker compose quotes it from the quote on)
    old3, dummy = vendor.copy_bundle("4.1.4", str(tmp_path / "y"))
    new3, dummy = vendor.copy_bundle("4.2.0", str(tmp_path / "y"))
    with open(os.path.join(new3, "docker-compose", "hub-proxy.env"), "a") as f:
        f.write('HUB_PROXY_PASSWORD="pr0xy-s3cret\n')
    rc, out, recap = ansible_run.playbook(inventory("cf-proof", old3, new3, str(tmp_path)), "--check", "-v")
    assert rc != 0 and "hub-proxy.env: line" in out and "unterminated quoted value (not shown" in out, out
    assert "pr0xy-s3cret" not in out

    # an image that is not on the engine, with pulling off: refused, named
    old2, dummy = vendor.copy_bundle("4.1.4", str(tmp_path / "x"))
    new2, dummy = vendor.copy_bundle("4.2.0", str(tmp_path / "x"))
    path = os.path.join(new2, "docker-compose", "docker-compose.yml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("hub-solr:4.2.0", "hub-solr:9.9.9"))
    rc, out, recap = ansible_run.playbook(inventory("cf-proof", old2, new2, str(tmp_path)), "--check")
    assert rc != 0 and "these images are not on this engine and the run may not pull them" in out, out
    assert "blackducksoftware/hub-solr:9.9.9" in out
    assert not os.path.exists(os.path.join(str(tmp_path), "cf-proof"))


def test_kubernetes_manifests_are_proven_by_the_api_server(tmp_path, k8s_lab):
    old, dummy = vendor.copy_bundle("4.1.4", str(tmp_path))
    new, dummy = vendor.copy_bundle("4.2.0", str(tmp_path))
    extra = {"hub_new_orchestration": "kubernetes", "hub_namespace": "cf-proof-k8s", "hub_kubeconfig": labhub.KUBECONFIG}
    rc, out, recap = ansible_run.playbook(inventory("cf-proof-k8s", old, new, str(tmp_path), **extra), "--check")
    assert rc == 0 and recap["cf-proof-k8s"]["changed"] == 0, out
    assert "compose -> kubernetes" in out
    assert "Deployment postgres: apps/v1beta1 -> apps/v1" in out and "duplicate key 'kind'" in out
    assert labhub.run(["kubectl", "--kubeconfig", labhub.KUBECONFIG, "get", "namespace", "cf-proof-k8s",
                       "--ignore-not-found", "-o", "name"]).strip() == ""  # nothing made

    # a manifest the API server would refuse: named, in check mode, before anything runs
    path = os.path.join(new, "kubernetes", "kubernetes-post-db.yml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("    replicas: 1\n", "    replicas: many\n", 1))
    rc, out, recap = ansible_run.playbook(inventory("cf-proof-k8s", old, new, str(tmp_path), **extra), "--check")
    assert rc != 0 and "%s would not apply" % path in out, out
    assert "the Hub was not touched" in out

    # kubectl quotes the object's data when it cannot patch what the namespace holds (here: a hub-config whose
    # last-applied configuration is not JSON) - the new pods.env's proxy password among it: refused, not shown
    with open(path, "w") as f:
        f.write(text)
    with open(os.path.join(new, "kubernetes", "pods.env"), "a") as f:
        f.write("\nHUB_PROXY_PASSWORD=pr0xy-k8s-s3cret\n")
    kubectl = ["kubectl", "--kubeconfig", labhub.KUBECONFIG]
    labhub.run(kubectl + ["create", "namespace", "cf-proof-k8s"])
    try:
        labhub.run(kubectl + ["-n", "cf-proof-k8s", "create", "configmap", "hub-config", "--from-literal=A=1"])
        labhub.run(kubectl + ["-n", "cf-proof-k8s", "annotate", "configmap", "hub-config",
                              "kubectl.kubernetes.io/last-applied-configuration={not json"])
        rc, out, recap = ansible_run.playbook(inventory("cf-proof-k8s", old, new, str(tmp_path), **extra), "--check", "-v")
        assert rc != 0 and "%s would not apply (server-side dry run)" % os.path.join(new, "kubernetes", "pods.env") in out, out
        assert "(not shown: it holds the object's data)" in out, out
        assert "pr0xy-k8s-s3cret" not in out
        with open(os.path.join(new, "kubernetes", "kubernetes-pre-db.yml"), "rb") as f:  # read by discover, not shown
            assert base64.b64encode(f.read()).decode()[:60] not in out
    finally:
        labhub.run(kubectl + ["delete", "namespace", "cf-proof-k8s"])
