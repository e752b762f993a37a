"""The lab's bundle renderer keeps the vendor's shape: volume names by version, every placeholder filled."""
import os

import pytest
import yaml

import render


def test_data_volume_follows_the_4_2_boundary():
    assert render.data_volume("4.1.4") == "data-volume"
    assert render.data_volume("4.1.10") == "data-volume"
    assert render.data_volume("4.2.0") == "postgres96-data-volume"
    assert render.data_volume("2018.12.0") == "postgres96-data-volume"


def test_unknown_placeholder_is_an_error():
    with pytest.raises(KeyError, match="NOPE"):
        render.render_text("a {{NOPE}} b", {"HUB_VERSION": "1"})


@pytest.mark.parametrize("version,volume", [("4.1.4", "data-volume"), ("4.2.0", "postgres96-data-volume")])
def test_rendered_bundle_has_the_vendor_layout(tmp_path, version, volume):
    root = render.render(version, str(tmp_path), pg_port=25437, webapp_port=18081)
    assert os.path.basename(root) == "hub-docker-%s" % version
    for folder in ("docker-compose", "docker-swarm"):
        for f in ("docker-compose.yml", "docker-compose.dbmigrate.yml", "docker-compose.externaldb.yml",
                  "hub-postgres.env"):
            assert os.path.isfile(os.path.join(root, folder, f)), (folder, f)
        full = yaml.safe_load(open(os.path.join(root, folder, "docker-compose.yml")))
        migrate = yaml.safe_load(open(os.path.join(root, folder, "docker-compose.dbmigrate.yml")))
        external = yaml.safe_load(open(os.path.join(root, folder, "docker-compose.externaldb.yml")))
        assert set(migrate["services"]) == {"cfssl", "logstash", "postgres"}
        assert "postgres" not in external["services"] and "webapp" in external["services"]
        assert full["services"]["postgres"]["image"] == "blackducksoftware/hub-postgres:%s" % version
        assert full["services"]["postgres"]["volumes"] == ["%s:/var/lib/postgresql/data" % volume]
        assert volume in full["volumes"] and volume in migrate["volumes"]
        for svc in full["services"].values():
            assert svc["healthcheck"]["test"] == ["CMD", "/usr/local/bin/docker-healthcheck.sh"]
    compose = yaml.safe_load(open(os.path.join(root, "docker-compose", "docker-compose.yml")))
    assert compose["services"]["postgres"]["ports"] == ["127.0.0.1:25437:5432"]
    assert compose["services"]["webapp"]["ports"] == ["127.0.0.1:18081:8080"]
    swarm = yaml.safe_load(open(os.path.join(root, "docker-swarm", "docker-compose.yml")))
    for svc in swarm["services"].values():
        assert svc["deploy"]["endpoint_mode"] == "dnsrr"
        assert "ports" not in svc  # the lab listens on loopback only; swarm cannot publish on 127.0.0.1
    pre = yaml.safe_load(open(os.path.join(root, "kubernetes", "kubernetes-pre-db.yml")))
    deployments = {i["metadata"]["name"]: i for i in pre["items"] if i["kind"] == "Deployment"}
    assert set(deployments) == {"cfssl", "postgres"}
    pg = deployments["postgres"]["spec"]["template"]["spec"]
    assert pg["nodeSelector"] == {"blackduck.hub.postgres": "true"}
    assert pg["containers"][0]["imagePullPolicy"] == "Never"
    assert pg["volumes"][0]["hostPath"]["path"] == "/var/lib/hub-postgresql/data"
    post = yaml.safe_load(open(os.path.join(root, "kubernetes", "kubernetes-post-db.yml")))
    for item in pre["items"] + post["items"]:
        if item["kind"] == "Deployment":
            assert item["apiVersion"] == "apps/v1" and item["spec"]["selector"]["matchLabels"]
            for c in item["spec"]["template"]["spec"]["containers"]:
                assert c["imagePullPolicy"] == "Never"
