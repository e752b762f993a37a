"""plugins/filter/compose_file.py: the version and the data volume of a Hub Compose or Swarm file."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.blackduck.hub.plugins.filter.compose_file import (
    FilterModule, compose_apart_override, compose_data_volume, compose_published_port, compose_said, compose_changed)

SHORT = """version: '2.1'
services:
  postgres:
    image: blackducksoftware/hub-postgres:4.1.4
    ports: ['55436:5432']
    volumes: ['data-volume:/var/lib/postgresql/data']
  webapp:
    image: blackducksoftware/hub-webapp:4.1.4
volumes: {data-volume: null, cert-volume: null}
"""


def test_exported():
    assert sorted(FilterModule().filters()) == ["compose_apart_override", "compose_changed", "compose_data_volume",
                                                "compose_published_port", "compose_said"]


def test_short_syntax_and_project_prefix():
    assert compose_data_volume(SHORT, "hub") == {"version": "4.1.4", "volume_key": "data-volume",
                                                 "volume": "hub_data-volume"}


def test_long_syntax_and_a_named_volume():
    text = ("services:\n  postgres:\n    image: hub-postgres:4.2.0\n    volumes:\n    - {type: volume, source: pg96, "
            "target: /var/lib/postgresql/data/}\nvolumes:\n  pg96: {name: shared-pg96}\n")
    assert compose_data_volume(text, "p") == {"version": "4.2.0", "volume_key": "pg96", "volume": "shared-pg96"}


def test_errors_name_the_file():
    with pytest.raises(AnsibleFilterError, match=r"^/b/docker-compose.yml cannot be read as a Compose file: not a YAML"):
        compose_data_volume("services: [\n", "hub", "/b/docker-compose.yml")
    with pytest.raises(AnsibleFilterError, match="^/b/x.yml has no postgres service with an image"):
        compose_data_volume("services: {webapp: {image: x}}\n", "hub", "/b/x.yml")
    with pytest.raises(AnsibleFilterError, match="mounts no volume at /var/lib/postgresql/data"):
        compose_data_volume("services: {postgres: {image: 'x:1', volumes: ['a:/b']}}\n", "hub")


def test_published_port_in_every_form():
    text = "services:\n  webserver:\n    image: x\n    ports: [%s]\n"
    assert compose_published_port(text % "'443:8443'") == 443
    assert compose_published_port(text % "'127.0.0.1:8443:8443/tcp'") == 8443
    assert compose_published_port(text % "{target: 8443, published: 443, mode: host}") == 443
    assert compose_published_port(text % "'8443'") == 0  # not published on a fixed port
    assert compose_published_port(SHORT) == 0  # no webserver service
    assert compose_published_port(SHORT, service="postgres") == 55436


MIGRATE = """services:
  cfssl: {image: c, volumes: ['cert-volume:/etc/cfssl']}
  logstash: {image: l, volumes: ['log-volume:/var/lib/logstash/data']}
  postgres:
    image: p
    volumes:
    - {type: volume, source: data-volume, target: /var/lib/postgresql/data}
    - /etc/hosts:/etc/hosts:ro
    - {type: bind, source: /srv, target: /srv}
volumes:
  cert-volume:
  data-volume: {name: pg-data}
  log-volume:
  spare:
  given: {external: true}
"""


def test_apart_override_pins_what_the_database_and_cfssl_mount():
    mine = '{labels: {"blackduck.hub.apart-of": "hub"}}'
    assert compose_apart_override(MIGRATE, "hub") == (
        'services:\n'
        '  "cfssl":\n    labels: {"blackduck.hub.apart-of": "hub"}\n'
        '  "logstash":\n    labels: {"blackduck.hub.apart-of": "hub"}\n'
        '  "postgres":\n    labels: {"blackduck.hub.apart-of": "hub"}\n'
        'volumes:\n'
        '  "cert-volume": {external: true, name: "hub_cert-volume"}\n'  # the project's name for it
        '  "data-volume": {external: true, name: "pg-data"}\n'  # its own name:
        '  "log-volume": %s\n'  # Logstash's: the apart project's own (Logstash locks it), labelled as made for it
        '  "spare": %s\n' % (mine, mine))  # nobody mounts it: made for the apart project, if at all
    # an external volume is already the same for every project
    assert '  "log-volume": {external: true, name: "hub_log-volume"}\n' in compose_apart_override(MIGRATE, "hub", own=[])
    assert compose_apart_override("services: {postgres: {image: p}}\n", "hub") == (
        'services:\n  "postgres":\n    labels: {"blackduck.hub.apart-of": "hub"}\n')
    assert "volumes" not in compose_apart_override("services: {postgres: {image: p}}\nvolumes: {v: {external: true}}\n",
                                                   "hub")  # nothing to say of them: no bare key


def test_apart_override_publishes_no_port():
    """The lab's migration files publish the database's port (the vendor's do not): the old one's apart would take
    the port the new one's needs."""
    text = MIGRATE.replace("    image: p\n", "    image: p\n    ports: ['127.0.0.1:25436:5432']\n")
    out = compose_apart_override(text, "hub")
    assert '  "postgres":\n    labels: {"blackduck.hub.apart-of": "hub"}\n    ports: !reset []\nvolumes:' in out, out
    assert out.count("!reset") == 1


def test_apart_override_refuses_what_is_not_a_migration_file():
    with pytest.raises(AnsibleFilterError, match="^/b/m.yml has no postgres service: it is not the Hub's migration"):
        compose_apart_override("services: {webapp: {image: x}}\n", "hub", "/b/m.yml")
    with pytest.raises(AnsibleFilterError, match="^/b/m.yml cannot be read as a Compose file"):
        compose_apart_override("services: [\n", "hub", "/b/m.yml")


def test_tcp_connection():
    from ansible_collections.blackduck.hub.plugins.filter.connection import FilterModule as F, tcp_connection
    assert list(F().filters()) == ["tcp_connection"]
    assert tcp_connection("db", "5433", "blackduck", "", "/etc/pw", '"false"') == {
        "type": "tcp", "host": "db", "port": 5433, "user": "blackduck", "sslmode": "disable", "password_file": "/etc/pw"}
    assert tcp_connection("db", 5432, "admin", "s3cret", "", True, "/opt/pg/bin") == {
        "type": "tcp", "host": "db", "port": 5432, "user": "admin", "sslmode": "require", "password": "s3cret",
        "tools_path": "/opt/pg/bin"}


# docker compose --progress plain, as it spoke on the lab (Compose 2.40): a $ in an env file's value, an unhealthy
# container while it waited
UNHEALTHY = """time="2026-12-07T01:47:39Z" level=warning msg="/b/docker-compose.yml: the attribute `version` is obsolete, it will be ignored, please remove it"
time="2026-12-07T01:47:39Z" level=warning msg="The \\"cr3tword\\" variable is not set. Defaulting to a blank string."
 Network cxtest_default  Creating
 Network cxtest_default  Created
 Container cxtest-zk-1  Creating
 Container cxtest-zk-1  Created
 Container cxtest-zk-1  Starting
 Container cxtest-zk-1  Started
 Container cxtest-zk-1  Waiting
container cxtest-zk-1 is unhealthy
"""


def test_compose_said_leaves_out_progress_and_hides_values():
    """Its reason and its warnings, a line each, without the progress lines nor the version warning every vendor file
    gives; the "variable" it names after a $ in a password hidden."""
    assert compose_said(UNHEALTHY) == [
        'warning: The "(not shown: it may be part of a value)" variable is not set. Defaulting to a blank string.',
        "container cxtest-zk-1 is unhealthy"]
    assert compose_said(UNHEALTHY, warnings=True) == [
        'warning: The "(not shown: it may be part of a value)" variable is not set. Defaulting to a blank string.']


def test_compose_said_keeps_what_is_not_progress():
    """A resource line whose words are not a progress state (an error on it) is kept; dry-run progress is left out;
    nothing said is nothing."""
    said = (" DRY-RUN MODE -  Container hub-webapp-1  Removed\n"
            " Container hub-webapp-1  Error response from daemon: driver failed programming external connectivity\n"
            "invalid --pull option \"nope\"\n")
    assert compose_said(said) == [
        "Container hub-webapp-1  Error response from daemon: driver failed programming external connectivity",
        'invalid --pull option "nope"']
    assert compose_said(said, warnings=True) == []
    assert compose_said("") == [] and compose_said(None) == []


def test_compose_said_hides_a_value_on_the_line_after():
    """A value Compose quotes on the line after its words is hidden with them; the lines of the images it pulls are
    progress too."""
    said = (" webapp Pulling\n webapp Skipped - Image is already being pulled by logstash\n webapp Pulled\n"
            "invalid interpolation format for services.webapp.environment.PW.\n"
            "You may need to escape any $ with another $.\npa${ss w0rd\n")
    assert compose_said(said) == ["invalid interpolation format for services.webapp.environment.PW.",
                                  "You may need to escape any $ with another $. (the value not shown)"]


def test_compose_changed_reads_the_progress_lines():
    """Created, started, stopped or removed (also under --dry-run) is a change; running, waiting, healthy is not, nor
    a word of an error line that is not a progress line."""
    assert compose_changed(UNHEALTHY) is True
    assert compose_changed(" DRY-RUN MODE -  Container hub-webapp-1  Removed\n") is True
    assert compose_changed(" Network n  Removed \n") is True  # the space Compose may leave after a state
    assert compose_changed(" Container hub-webapp-1  Running\n Container hub-webapp-1  Waiting\n"
                           " Container hub-webapp-1  Healthy\n webapp Pulled\n") is False
    assert compose_changed("the volume was not Removed\n") is False
    assert compose_changed("") is False and compose_changed(None) is False
