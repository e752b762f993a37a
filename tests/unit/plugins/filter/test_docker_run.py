"""plugins/module_utils/_docker_run.py (and its filters, plugins/filter/docker_run.py): the vendor's
docker-run/docker-hub.sh read as data - on small scripts for the logic and the errors, then on the vendor's real
scripts of every bundle (../shared/vendor, or HUB_VENDOR_BUNDLES; skipped when they are not there)."""
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.blackduck.hub.plugins.filter.docker_run import (
    FilterModule, docker_run_script, docker_run_version)
from ansible_collections.blackduck.hub.plugins.module_utils._docker_run import (
    DockerRunError, _environment_apart, bundle_version, parse)

FIX = r": give the vendor's docker-run/docker-hub\.sh, unmodified$"

MINI = r"""_EXTERNALDB=
if [ "$_EXTERNALDB" == "" ] ; then
    bdsHubContainers=("webserver" "postgres" "cfssl")
    bdsHubVolumes=("cert-volume" "data-volume" "webserver-volume")
    pg_linkage=("--link postgres")
else
    bdsHubContainers=("webserver" "cfssl")
    bdsHubVolumes=("cert-volume" "webserver-volume")
    pg_linkage=("--env-file hub-postgres.env" "-v ${PWD}:/run/secrets:ro")
fi

function createVolume() {
  for volume in $*; do
    docker volume create -d local --name $volume | sed -e 's/^/Creating volume /'
  done
}

function startCfssl() {
  if [ "$(docker ps -a | grep cfssl)" == "" ]; then
    docker run -it -d --name cfssl -v cert-volume:/etc/cfssl \
    --health-cmd='/usr/local/bin/docker-healthcheck.sh http://localhost:8888/api/v1/cfssl/scaninfo' \
    blackducksoftware/hub-cfssl:$_VERSION | sed -e 's/^/Starting cfssl / ; s/$/.../' || exit 1
  elif [ "$(docker ps | grep cfssl)" == "" ]; then
    docker start cfssl | sed -e 's/^/Starting cfssl / ; s/$/.../' || exit 1
  fi
}

function startPostgres() {
  [ "$_EXTERNALDB" != "" ] && return 0
  docker run -it -d --name postgres --link cfssl -v data-volume:/var/lib/postgresql/data \
    blackducksoftware/hub-postgres:${_VERSION} | sed -e 's/^/Starting postgres /' || exit 1
}

function startWebserver() {
  docker run -it -d --name webserver --link cfssl ${pg_linkage[@]} -p 443:8443 \
    -v webserver-volume:/opt/blackduck/hub/webserver/security \
    blackducksoftware/hub-nginx:$_VERSION | sed -e 's/^/Starting webserver /' || exit 1
}

if [ "$_MIGRATE" != "" ]; then
  createVolume "cert-volume" "data-volume"
  startCfssl
  startPostgres
  ./bin/hub_db_migrate.sh $dump_file
  if [ $migrationResult != 0 ]; then
    exit 1
  fi
fi

if [ "$_UP" != "" ]; then
    createVolume ${bdsHubVolumes[@]}
    startCfssl
    startPostgres
    startWebserver
fi
"""

CFSSL = ["docker", "run", "-it", "-d", "--name", "cfssl", "-v", "cert-volume:/etc/cfssl",
         "--health-cmd=/usr/local/bin/docker-healthcheck.sh http://localhost:8888/api/v1/cfssl/scaninfo",
         "blackducksoftware/hub-cfssl:4.2.0"]
POSTGRES = ["docker", "run", "-it", "-d", "--name", "postgres", "--link", "cfssl",
            "-v", "data-volume:/var/lib/postgresql/data", "blackducksoftware/hub-postgres:4.2.0"]


def webserver(*linkage):
    return (["docker", "run", "-it", "-d", "--name", "webserver", "--link", "cfssl"] + list(linkage)
            + ["-p", "443:8443", "-v", "webserver-volume:/opt/blackduck/hub/webserver/security",
               "blackducksoftware/hub-nginx:4.2.0"])


def test_exported():
    assert sorted(FilterModule().filters()) == ["docker_run_script", "docker_run_version"]


def test_internal_database():
    assert parse(MINI, "4.2.0", "/srv/hub/docker-run") == {
        "containers": {
            "cfssl": {"argv": CFSSL, "image": "blackducksoftware/hub-cfssl:4.2.0", "volumes": ["cert-volume"],
                      "ports": [], "health_check_wrong_port": False, "environment": {}, "image_at": len(CFSSL) - 1},
            "postgres": {"argv": POSTGRES, "image": "blackducksoftware/hub-postgres:4.2.0",
                         "volumes": ["data-volume"], "ports": [], "health_check_wrong_port": False,
                         "environment": {}, "image_at": len(POSTGRES) - 1},
            "webserver": {"argv": webserver("--link", "postgres"), "image": "blackducksoftware/hub-nginx:4.2.0",
                          "volumes": ["webserver-volume"], "ports": [["443", "8443"]],
                          "health_check_wrong_port": False, "environment": {},
                          "image_at": len(webserver("--link", "postgres")) - 1}},
        "up": ["cfssl", "postgres", "webserver"],
        "up_volumes": ["cert-volume", "data-volume", "webserver-volume"],
        "migrate": ["cfssl", "postgres"],
        "migrate_volumes": ["cert-volume", "data-volume"],
        "stop": ["webserver", "postgres", "cfssl"],
        "data_volume": "data-volume",
        "database": "postgres",
        "front_door_port": 443}


def test_external_database():
    found = parse(MINI, "4.2.0", "/srv/my hub/docker-run", external=True)
    # ${PWD} is the workdir, kept one word even with a space in it; the bind mount is no named volume
    assert found["containers"]["webserver"]["argv"] == webserver(
        "--env-file", "hub-postgres.env", "-v", "/srv/my hub/docker-run:/run/secrets:ro")
    assert found["containers"]["webserver"]["volumes"] == ["webserver-volume"]
    assert found["up"] == ["cfssl", "webserver"]  # startPostgres returns at once with $_EXTERNALDB
    assert found["migrate"] == ["cfssl"]
    assert found["up_volumes"] == ["cert-volume", "webserver-volume"]
    assert found["stop"] == ["webserver", "cfssl"]
    assert found["containers"]["postgres"]["argv"] == POSTGRES  # still described; just not started
    assert found["data_volume"] == "data-volume"


def test_a_script_without_external_mode():
    old = MINI.replace("${pg_linkage[@]}", "--link postgres").replace('  [ "$_EXTERNALDB" != "" ] && return 0\n', "")
    old = old[old.index("fi\n") + 3:].replace("_EXTERNALDB=\n", "")
    old = '_VERSION=\nbdsHubContainers=("webserver" "postgres" "cfssl")\nbdsHubVolumes=("cert-volume")\n' + old
    assert "_EXTERNALDB" not in old
    found = parse(old, "3.7.1", "/w")
    assert found["containers"]["webserver"]["argv"][6:10] == ["--link", "cfssl", "--link", "postgres"]
    assert found["up"] == ["cfssl", "postgres", "webserver"] and found["up_volumes"] == ["cert-volume"]
    with pytest.raises(DockerRunError, match=r"^this bundle's docker-hub\.sh has no external-database mode .*"
                                             r"run it with its own database container"):
        parse(old, "3.7.1", "/w", external=True)


def test_no_front_door():
    assert parse(MINI.replace("-p 443:8443 ", ""), "4.2.0", "/w")["front_door_port"] == 0
    assert parse(MINI.replace("-p 443:8443", "-p 127.0.0.1:8443:8443/tcp"), "4.2.0", "/w")["front_door_port"] == 8443


@pytest.mark.parametrize("change,message", [
    (("    startWebserver\nfi", "    startWebserver\n    startSolr\nfi"),
     r"^the _UP block calls startSolr, but docker-hub\.sh has no function startSolr\(\) with a docker run in it"),
    (("function startWebserver", "function startWebServer"),
     r"^the _UP block calls startWebserver, but docker-hub\.sh has no function startWebserver\(\)"),
    (("--link cfssl ${pg_linkage[@]}", "--link cfssl $FOO"),
     r"^the docker run of startWebserver uses \$FOO, which is none of the variables this reads"),
    (("hub-nginx:$_VERSION", "hub-nginx:${HUB_TAG}"), r"^the docker run of startWebserver uses \$\{HUB_TAG\}"),
    (("hub-nginx:$_VERSION", "hub-nginx:$(cat VERSION)"), r"^the docker run of startWebserver uses \$\(cat"),
    (('    pg_linkage=("--link postgres")\n', ""),
     r"^docker-hub\.sh sets no array pg_linkage=\(\.\.\.\) for this mode"),
    (('    bdsHubVolumes=("cert-volume" "data-volume" "webserver-volume")\n', ""),
     r"^docker-hub\.sh sets no array bdsHubVolumes"),
    (('"webserver" "postgres" "cfssl"', '"webserver" "$DB" "cfssl"'),
     r"^the array bdsHubContainers of docker-hub\.sh holds \$DB"),
    (('if [ "$_UP" != "" ]; then', 'if [ "$_START" != "" ]; then'),
     r'^docker-hub\.sh has no block if \[ "\$_UP" != "" \]; then \.\.\. fi'),
    (("-v data-volume:/var/lib/postgresql/data", "-v data-volume:/data"),
     r"^no docker run of docker-hub\.sh mounts a named volume at /var/lib/postgresql/data"),
    (("--name cfssl", "--hostname cfssl"), r"^the docker run of startCfssl has no --name"),
    (("blackducksoftware/hub-nginx:$_VERSION | sed", "-e | sed"), r"^the docker run of startWebserver has no image"),
    (('if [ "$_EXTERNALDB" == "" ] ; then', 'if [ -z "$_EXTERNALDB" ]; then'),
     r"^docker-hub\.sh uses \$_EXTERNALDB but has no block"),
    (("--health-cmd='/usr", "--health-cmd=\"/usr"),
     r"^the docker run of startCfssl has a quote \(\"\) that is not closed"),
    (("--name webserver", "--name 'webserver"),
     r"^the docker run of startWebserver has a quote \('\) that is not closed"),
    (('"data-volume" "webserver-volume")', '"data-volume "webserver-volume")'),
     r"^the array bdsHubVolumes cannot be split into words \(No closing quotation\)"),
])
def test_errors_say_what_is_missing_and_what_to_do(change, message):
    assert change[0] in MINI
    with pytest.raises(DockerRunError, match=message + ".*" + FIX):
        parse(MINI.replace(*change), "4.2.0", "/w")


@pytest.mark.parametrize("given", [
    "-e HUB_PROXY_PASSWORD='pr0xy$ecretPw'",
    "--env=HUB_PROXY_PASSWORD='pr0xy$ecretPw'",
    "-eHUB_PROXY_PASSWORD=pr0xy\\$ecretPw",
    "-e=HUB_PROXY_PASSWORD=pr0xy\\$ecretPw",  # docker reads -e=... as -e ...
    '--env "HUB_PROXY_PASSWORD=pr0xy\\$ecretPw"',
    "-e HUB_PROXY_PASSWORD=first -e HUB_PROXY_PASSWORD='pr0xy$ecretPw'",  # the last one wins, as with docker
])
def test_an_environment_value_is_taken_off_the_command_line(given):
    """-e NAME=value leaves the docker run: its value is in environment (docker_run_actions gives it in an env file),
    no password (the vendor's README allows -e HUB_PROXY_PASSWORD=...) is on a command line while docker runs, and
    image_at still names the image. A $ bash leaves as it is (in single quotes, escaped) is part of the value; a name
    docker itself reads (PATH) is a value like any other."""
    found = parse(MINI.replace("-p 443:8443", given + " -e TZ=UTC -e PATH=/opt/bin -p 443:8443"), "4.2.0", "/w")
    webserver_run = found["containers"]["webserver"]
    assert webserver_run["argv"] == webserver("--link", "postgres")
    assert webserver_run["argv"][webserver_run["image_at"]] == "blackducksoftware/hub-nginx:4.2.0"
    assert webserver_run["environment"] == {"HUB_PROXY_PASSWORD": "pr0xy$ecretPw", "TZ": "UTC", "PATH": "/opt/bin"}
    assert found["containers"]["cfssl"]["environment"] == {}


@pytest.mark.parametrize("value", ["sec\nret", "sec\rret", "sec\x00ret"])
def test_an_environment_value_on_two_lines_is_refused_without_showing_it(value):
    argv = ["docker", "run", "--name", "webapp", "-e", "HUB_PROXY_PASSWORD=" + value, "image:1"]
    with pytest.raises(DockerRunError, match=r"^the value of -e HUB_PROXY_PASSWORD in the docker run of startWebapp "
                                             r"\(not shown: it may be a password\) holds a line break") as info:
        _environment_apart(argv, [5], 6, "startWebapp")
    assert "sec" not in str(info.value)


@pytest.mark.parametrize("name", ["", "#NAME", "A NAME"])
def test_a_name_an_env_file_cannot_hold_is_refused(name):
    """An env file line NAME=value: docker reads a line that starts with # as a comment (the value silently lost),
    and refuses an empty name or one with a space (quoting the line, value and all)."""
    argv = ["docker", "run", "--name", "webapp", "-e", name + "=secret", "image:1"]
    with pytest.raises(DockerRunError, match=r"^the docker run of startWebapp gives -e with the name '%s', which an "
                                             r"env file cannot hold" % name) as info:
        _environment_apart(argv, [5], 6, "startWebapp")
    assert "secret" not in str(info.value)


def test_the_words_after_the_image_are_the_containers_own():
    """-e after the image is an argument of the container's command: kept as it is, never read as docker's."""
    found = parse(MINI.replace("hub-nginx:$_VERSION", "hub-nginx:$_VERSION serve -e X=1 --env=Y=2"), "4.2.0", "/w")
    webserver_run = found["containers"]["webserver"]
    assert webserver_run["argv"][-5:] == ["blackducksoftware/hub-nginx:4.2.0", "serve", "-e", "X=1", "--env=Y=2"]
    assert webserver_run["image_at"] == len(webserver_run["argv"]) - 5
    assert webserver_run["environment"] == {}


@pytest.mark.parametrize("given", ["-e TZ", "--env TZ", "--env=TZ", "-eTZ", "-e=TZ"])
def test_a_name_without_a_value_passes_the_callers_own(given):
    """-e NAME (no =) hands docker the caller's own value: it stays as written, nothing goes to the environment, and
    the words after it are read as before (-eNAME is one word: the published port after it is still seen)."""
    found = parse(MINI.replace("-p 443:8443", given + " -p 443:8443"), "4.2.0", "/w")
    webserver_run = found["containers"]["webserver"]
    at = webserver_run["argv"].index("-p")
    assert webserver_run["argv"][at - len(given.split()):at] == given.split()
    assert webserver_run["environment"] == {}
    assert webserver_run["ports"] == [["443", "8443"]]
    assert webserver_run["argv"][webserver_run["image_at"]] == "blackducksoftware/hub-nginx:4.2.0"


def test_a_variable_as_a_name_is_shown():
    """-e $NAME passes no value: the message quotes the variable (a name, not a password)."""
    with pytest.raises(DockerRunError, match=r"^the docker run of startWebserver uses \$PROXY_VAR, which is none"):
        parse(MINI.replace("-p 443:8443", "-e $PROXY_VAR -p 443:8443"), "4.2.0", "/w")


@pytest.mark.parametrize("given", ["-e HUB_PROXY_PASSWORD=pr0xy$ecretPw", '--env "HUB_PROXY_PASSWORD=pr0xy$ecretPw"',
                                   "--env=HUB_PROXY_PASSWORD=pr0xy${ecretPw}", "-eHUB_PROXY_PASSWORD=pr0xy$ecretPw"])
def test_a_variable_in_an_environment_value_is_refused_without_the_value(given):
    """bash would expand it (to nothing): refused, naming the variable it sets, never its value."""
    with pytest.raises(DockerRunError, match=r"^the docker run of startWebserver uses a variable in the value of -e "
                                             r"HUB_PROXY_PASSWORD \(not shown") as caught:
        parse(MINI.replace("-p 443:8443", given + " -p 443:8443"), "4.2.0", "/w")
    assert "ecret" not in str(caught.value)


def test_nothing_to_read():
    with pytest.raises(DockerRunError, match=r"^docker-hub\.sh has no function start<Name>\(\) \{ \.\.\. docker run"
                                             r" \.\.\. \}" + FIX):
        parse("#!/bin/bash\necho hello\n", "4.2.0", "/w")


def test_bundle_version():
    assert bundle_version("TIMEOUT=${TIMEOUT:-10}\nHUB_VERSION=${HUB_VERSION:-4.2.0}\n") == "4.2.0"
    with pytest.raises(DockerRunError, match=r"^hub_db_migrate\.sh has no line HUB_VERSION=\$\{HUB_VERSION:-<version>\}"
                                             r".*: give the vendor's docker-run/bin/hub_db_migrate\.sh, unmodified$"):
        bundle_version("HUB_VERSION=4.2.0\n")


def test_filters_say_which_folder():
    assert docker_run_script(MINI, "4.2.0", "/w")["up"] == ["cfssl", "postgres", "webserver"]
    assert docker_run_version("HUB_VERSION=${HUB_VERSION:-4.1.4}\n") == "4.1.4"
    with pytest.raises(AnsibleFilterError, match=r"^the docker-run folder of /b/docker-run/docker-hub\.sh cannot be "
                                                 r"used: the docker run of startWebserver uses \$FOO,.*" + FIX):
        docker_run_script(MINI.replace("${pg_linkage[@]}", "$FOO"), "4.2.0", "/w",
                          source="/b/docker-run/docker-hub.sh")
    with pytest.raises(AnsibleFilterError, match=r"^the docker-run folder of docker-hub\.sh cannot be used: this "
                                                 r"bundle's docker-hub\.sh has no external-database mode"):
        docker_run_script(MINI[MINI.index("fi\n") + 3:].replace("_EXTERNALDB", "X"), "3.7.1", "/w", external=True)
    with pytest.raises(AnsibleFilterError, match=r"^the docker-run folder of hub_db_migrate\.sh cannot be used: "
                                                 r"hub_db_migrate\.sh has no line"):
        docker_run_version("")


# The vendor's real scripts.

def _vendor_root():
    try:
        import vendor  # tests/lab/vendor.py, on the path by tests/conftest.py
    except ImportError:
        return None
    try:
        return vendor.root()
    except vendor.VendorError:
        return None


VENDOR = _vendor_root()
VERSIONS = ["3.7.1", "4.0.0", "4.1.4", "4.2.0", "4.2.1"]
WORKDIR = "/srv/hub-docker/docker-run"


def read(version, *parts):
    path = os.path.join(VENDOR or "", "hub-docker-%s" % version, "docker-run", *parts)
    if not VENDOR or not os.path.isfile(path):
        pytest.skip("the vendor's bundle hub-docker-%s is not there (%s)" % (version, path))
    with open(path) as f:
        return f.read()


def external_mode(version):
    return version != "3.7.1"  # --externaldb came with 4.0.0


@pytest.mark.parametrize("version", VERSIONS)
def test_vendor_bundle_version(version):
    assert bundle_version(read(version, "bin", "hub_db_migrate.sh")) == version


@pytest.mark.parametrize("version", VERSIONS)
def test_vendor_script_internal(version):
    found = parse(read(version, "docker-hub.sh"), version, WORKDIR)
    data = "postgres96-data-volume" if version.startswith("4.2.") else "data-volume"
    has_docs = version not in ("3.7.1", "4.0.0")  # the documentation container came with 4.1
    up = ["cfssl", "logstash", "postgres", "registration", "zookeeper", "solr", "webapp", "jobrunner"]
    up += ["documentation", "webserver"] if has_docs else ["webserver"]
    stop = ["webserver", "jobrunner", "webapp", "solr", "zookeeper", "registration", "postgres", "logstash", "cfssl"]
    stop += ["documentation"] if has_docs else []
    assert found["data_volume"] == data and found["database"] == "postgres"
    assert found["up"] == up
    assert sorted(found["containers"]) == sorted(up)
    assert found["stop"] == stop
    assert found["migrate"] == ["cfssl", "logstash", "postgres"]
    assert found["migrate_volumes"] == [("config-volume" if version == "3.7.1" else "cert-volume"), "log-volume", data]
    assert data in found["up_volumes"]
    assert found["front_door_port"] == 443
    postgres = found["containers"]["postgres"]
    assert ["-v", data + ":/var/lib/postgresql/data"] == postgres["argv"][postgres["argv"].index("-v"):][:2]
    assert postgres["volumes"] == [data]
    for name, container in found["containers"].items():
        assert container["argv"][:2] == ["docker", "run"]
        assert container["argv"][container["argv"].index("--name") + 1] == name
        assert container["image"].rsplit(":", 1)[1] == version
        assert container["image"] in container["argv"]
        assert not [item for item in container["argv"] if "$" in item or "'" in item], name
    webapp = " ".join(found["containers"]["webapp"]["argv"])
    assert " --link postgres " in webapp and "hub-postgres.env" not in webapp
    assert found["containers"]["webserver"]["ports"] == [["443", "8443" if has_docs else "443"]]
    # from 4.1 nginx listens on 8443, but the script's health check still asks https://localhost:443: never healthy
    assert [n for n, c in found["containers"].items() if c["health_check_wrong_port"]] == (
        ["webserver"] if has_docs else [])


def test_health_check_wrong_port():
    from ansible_collections.blackduck.hub.plugins.module_utils._docker_run import _health_check_wrong_port
    check = "/usr/local/bin/docker-healthcheck.sh https://localhost:443/health-checks/liveness /root.crt"
    assert _health_check_wrong_port(check, [["443", "8443"]]) is True
    assert _health_check_wrong_port(check, [["443", "443"]]) is False
    assert _health_check_wrong_port(check, []) is False  # nothing published: the script says nothing of its ports
    assert _health_check_wrong_port("zkServer.sh status", [["2181", "2181"]]) is False


@pytest.mark.parametrize("version", VERSIONS)
def test_vendor_script_external(version):
    text = read(version, "docker-hub.sh")
    if not external_mode(version):
        with pytest.raises(DockerRunError, match="has no external-database mode"):
            parse(text, version, WORKDIR, external=True)
        return
    found = parse(text, version, WORKDIR, external=True)
    assert "postgres" not in found["up"] and "postgres" not in found["stop"] and "postgres" not in found["migrate"]
    assert found["up"][:2] == ["cfssl", "logstash"] and found["up"][-1] == "webserver"
    assert found["data_volume"] not in found["up_volumes"]
    for name in ("webapp", "jobrunner"):
        argv = found["containers"][name]["argv"]
        assert "--link postgres" not in " ".join(argv)
        assert argv[argv.index("--env-file"):][:2] == ["--env-file", "hub-postgres.env"]
        assert argv[argv.index(WORKDIR + ":/run/secrets:ro") - 1] == "-v"
    for name, container in found["containers"].items():
        assert not [item for item in container["argv"] if "$" in item], name
        assert container["image"].rsplit(":", 1)[1] == version
    assert found["front_door_port"] == 443
