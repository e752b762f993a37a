# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vendor's "plain docker run" way to run a Hub (docker-run/docker-hub.sh of a hub-docker-<version> bundle),
read as data: each container's exact ``docker run`` command, what ``--up`` and ``--migrate`` start and in which
order, the volumes they create, what ``--stop`` stops, the database's container and data volume and the front door's
port.

Pure: the script's text in, a dict out; nothing is run. Only the constructs the vendor's scripts use are read (3.7.1
to 4.2.x); anything else is an error that says what is missing, never a silent guess."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

DATA_PATH = "/var/lib/postgresql/data"
FIX_SCRIPT = "give the vendor's docker-run/docker-hub.sh, unmodified"
FIX_MIGRATE = "give the vendor's docker-run/bin/hub_db_migrate.sh, unmodified"

_VERSION_LINE = re.compile(r"^HUB_VERSION=\$\{HUB_VERSION:-([^}\s]+)\}\s*$", re.M)
_FUNCTION = re.compile(r"^function\s+(\w+)\s*\(\)\s*\{[ \t]*\n(.*?)^\}", re.M | re.S)
# A docker run command up to its first unquoted |, ; or & (the `| sed ...` that prints it), on one joined line; then
# the character it stopped at (a quote: one that is not closed on that line).
_DOCKER_RUN = re.compile(r"""^[ \t]*(docker[ \t]+run[ \t](?:[^|;&'"\n]|'[^'\n]*'|"[^"\n]*")*)(.?)""", re.M)
_SKIPPED_WHEN_EXTERNAL = re.compile(r"""\A\s*\[\s*"\$_EXTERNALDB"\s*!=\s*""\s*\]\s*&&\s*return\s+0\b""")
_MODE_BRANCH = re.compile(r"""^if\s+\[\s*"\$_EXTERNALDB"\s*==\s*""\s*\]\s*;\s*then[ \t]*\n"""
                          r"""(.*?)^else[ \t]*\n(.*?)^fi\b""", re.M | re.S)
_ARRAY = re.compile(r"^[ \t]*(\w+)=\(([^)]*)\)", re.M)
_BLOCK = r"""^if\s+\[\s*"\$%s"\s*!=\s*""\s*\]\s*;\s*then[ \t]*\n(.*?)^fi\b"""
_START_CALL = re.compile(r"^[ \t]*(start\w*)[ \t]*$", re.M)
_CREATE_VOLUME = re.compile(r"^[ \t]*createVolume[ \t]+(.*)$", re.M)
_LITERAL = "\x00"  # a $ bash does not expand (in single quotes, or escaped), while the words are read
_ARRAY_EXPANSION = re.compile(r"\$\{(\w+)\[@\]\}")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
# The URL a health check asks on the container itself: http(s)://localhost:<port> or 127.0.0.1:<port>.
_HEALTH_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1):(\d+)/")
_FLAGS_WITHOUT_VALUE = frozenset(["-i", "-t", "-it", "-ti", "-d", "-id", "-di", "-dit", "-itd", "--detach",
                                  "--interactive", "--tty", "--rm", "--init", "--privileged", "-P", "--publish-all",
                                  "--read-only"])


class DockerRunError(Exception):
    pass


def bundle_version(text):
    """The Hub version of a bundle, from the default of its docker-run/bin/hub_db_migrate.sh
    (``HUB_VERSION=${HUB_VERSION:-4.2.0}`` -> "4.2.0")."""
    match = _VERSION_LINE.search(text or "")
    if not match:
        raise DockerRunError("hub_db_migrate.sh has no line HUB_VERSION=${HUB_VERSION:-<version>}, so the bundle's "
                             "version is unknown: %s" % FIX_MIGRATE)
    return match.group(1)


def _split(words, what):
    try:
        return shlex.split(words)
    except ValueError as exc:
        raise DockerRunError("%s cannot be split into words (%s): %s" % (what, exc, FIX_SCRIPT))


def _mask(text):
    """The text with each $ that bash leaves as it is (in single quotes, or escaped as \\$) made _LITERAL, so that only
    the $ bash expands are read as variables; _unmask gives the $ back."""
    out, quoted, i = [], None, 0
    while i < len(text):
        char = text[i]
        if quoted == "'":
            out.append(_LITERAL if char == "$" else char)
            quoted = None if char == "'" else quoted
        elif char == "\\" and i + 1 < len(text):
            out.append(_LITERAL if text[i + 1] == "$" else text[i:i + 2])
            i += 1
        else:
            if char == '"' or (char == "'" and not quoted):
                quoted = None if quoted == char else char
            out.append(char)
        i += 1
    return "".join(out)


def _unmask(words):
    return [word.replace(_LITERAL, "$") for word in words]


def _arrays(section):
    return dict((name, _split(_mask(items), "the array %s" % name)) for name, items in _ARRAY.findall(section))


def _mode(text, external):
    """The arrays of the mode: the branch of ``if [ "$_EXTERNALDB" == "" ]`` (4.0.0 on), else the script's own."""
    branch = _MODE_BRANCH.search(text)
    if branch:
        return _arrays(branch.group(2 if external else 1))
    if "_EXTERNALDB" in text:
        raise DockerRunError('docker-hub.sh uses $_EXTERNALDB but has no block if [ "$_EXTERNALDB" == "" ] ; then '
                             '... else ... fi setting the arrays of each mode: %s' % FIX_SCRIPT)
    if external:
        raise DockerRunError("this bundle's docker-hub.sh has no external-database mode (no --externaldb option; "
                             "the vendor added it in 4.0.0): run it with its own database container (external: false), "
                             "or use a bundle that has the mode")
    return _arrays(text)


def _required(arrays, name):
    if name not in arrays:
        raise DockerRunError("docker-hub.sh sets no array %s=(...) for this mode: %s" % (name, FIX_SCRIPT))
    return arrays[name]


def _plain(arrays, name):
    """An array the result gives as it is (names of containers or volumes): no variable may be left in it."""
    items = _required(arrays, name)
    for item in items:
        if "$" in item:
            raise DockerRunError("the array %s of docker-hub.sh holds %s, a variable this does not read: %s"
                                 % (name, item, FIX_SCRIPT))
    return _unmask(items)


def _block(text, flag):
    match = re.search(_BLOCK % flag, text, re.M | re.S)
    if not match:
        raise DockerRunError('docker-hub.sh has no block if [ "$%s" != "" ]; then ... fi: %s' % (flag, FIX_SCRIPT))
    return match.group(1)


def _expand(command, what, arrays, variables):
    """The command's words as bash runs it: ${array[@]} and the known variables expanded; any other $ is an error."""
    def array(match):  # unquoted, so its items are split into words again; ${PWD} in them is expanded below
        return " ".join(_required(arrays, match.group(1)))

    def variable(match):
        name = match.group(1) or match.group(2)
        return shlex.quote(variables[name]) if name in variables else match.group(0)

    argv = _split(_VARIABLE.sub(variable, _ARRAY_EXPANSION.sub(array, _mask(command))), what)
    for index, item in enumerate(argv):
        if "$" in item:
            env = _env_name(argv, index)
            raise DockerRunError("%s uses %s, which is none of the variables this reads ($_VERSION, ${PWD} and the "
                                 "script's arrays): %s" % (what, (
                                     "a variable in the value of -e %s (not shown: it may be a password; in single "
                                     "quotes, a $ is part of the value)" % env) if env else item[item.index("$"):],
                                     FIX_SCRIPT))
    return _unmask(argv)


def _env_setting(argv, index):
    """(prefix, name, value) when word ``index`` of a docker run gives an environment variable: -e NAME=value,
    --env NAME=value (prefix ''), --env=NAME=value, -e=NAME=value, -eNAME=value (prefix the flag); value None for
    -e NAME, which passes the caller's own. None for any other word, or none at all (a docker run that ends in -e).
    """
    if index >= len(argv):
        return None
    word = argv[index]
    if index > 0 and argv[index - 1] in ("-e", "--env"):
        prefix = ""
    else:
        prefix = next((p for p in ("--env=", "-e=", "-e") if word.startswith(p) and len(word) > len(p)), None)
        if prefix is None:
            return None
    name, sep, value = word[len(prefix):].partition("=")
    return prefix, name, value if sep else None


def _env_name(argv, index):
    """The name of the environment variable that word ``index`` of a docker run gives a value, or None."""
    setting = _env_setting(argv, index)
    return setting[1] if setting and setting[2] is not None else None


def _container(argv, function):
    """{name, image, volumes, ports, data_volume} of a docker run's words (data_volume: the named volume mounted at
    /var/lib/postgresql/data, or None)."""
    found = {"name": None, "image": None, "volumes": [], "ports": [], "data_volume": None, "health_cmd": "",
             "env_at": [], "image_at": None}
    at = 2
    while at < len(argv):
        word = argv[at]
        at += 1
        if not word.startswith("-"):
            found["image"], found["image_at"] = word, at - 1
            break
        flag, sep, value = word.partition("=")
        if word.startswith("-e") and len(word) > 2:  # -eNAME, -eNAME=value, -e=NAME=value: one word
            flag, sep = "-e", "-e"
        if not sep and word not in _FLAGS_WITHOUT_VALUE:
            value = argv[at] if at < len(argv) else ""
            at += 1
        if flag in ("-e", "--env") and _env_setting(argv, at - 1):
            found["env_at"].append(at - 1)  # the word that holds NAME=value
        parts = value.split(":")
        if flag == "--name":
            found["name"] = value
        elif flag == "--health-cmd":
            found["health_cmd"] = value
        elif flag in ("-v", "--volume") and parts[0][:1] not in ("/", ".", "~", ""):
            found["volumes"].append(parts[0])
            if len(parts) > 1 and parts[1].rstrip("/") == DATA_PATH:
                found["data_volume"] = parts[0]
        elif flag in ("-p", "--publish"):
            parts = value.split("/")[0].split(":")
            found["ports"].append([parts[-2] if len(parts) > 1 else "", parts[-1]])
    for key, label in (("name", "--name"), ("image", "image")):
        if not found[key]:
            raise DockerRunError("the docker run of %s has no %s: %s" % (function, label, FIX_SCRIPT))
    return found


def _environment_apart(argv, env_at, image_at, function):
    """(argv, environment, image_at): the docker run without its -e NAME=value options, their values by name (the
    last one given wins, as with docker), and where the image now is. The values reach docker in an env file of mode
    0600 given just before the image (docker_run_actions), never on a command line or in the environment of a
    command (either shows while it runs, and Ansible prints the environment of a module at -vvv): -e
    HUB_PROXY_PASSWORD=..., as the vendor's README allows. -e NAME (the caller's own value) stays as written."""
    drop, environment = set(), {}
    for at in env_at:
        prefix, name, value = _env_setting(argv, at)
        if value is None:
            continue
        if re.search(r"[\r\n\x00]", value):
            raise DockerRunError("the value of -e %s in the docker run of %s (not shown: it may be a password) holds a "
                                 "line break, which an env file cannot hold: give it on one line" % (name, function))
        if not re.match(r"^[^#\s=][^\s=]*$", name):
            raise DockerRunError("the docker run of %s gives -e with the name '%s', which an env file cannot hold (empty, "
                                 "a space in it, or a # first): %s" % (function, name, FIX_SCRIPT))
        environment.pop(name, None)
        environment[name] = value
        drop.update([at - 1, at] if not prefix else [at])
    kept = [word for at, word in enumerate(argv) if at not in drop]
    return kept, environment, image_at - len([at for at in drop if at < image_at])


def _health_check_wrong_port(health_cmd, ports):
    """Whether the health check asks the container on a port it does not listen on, as far as its published ports
    say: the 4.x webserver's check asks https://localhost:443 where nginx listens on 8443 (-p 443:8443), so it never
    passes - whoever waits for it must judge that container another way (its front door)."""
    match = _HEALTH_URL.search(health_cmd or "")
    return bool(match and ports and match.group(1) not in [inside for dummy, inside in ports])


def _started(block, functions, external, what):
    """The containers a block starts, in order (those skipped with an external database left out)."""
    names = []
    for function in _START_CALL.findall(block):
        if function not in functions:
            raise DockerRunError("the %s block calls %s, but docker-hub.sh has no function %s() with a docker run in "
                                 "it: %s" % (what, function, function, FIX_SCRIPT))
        name, skipped_when_external = functions[function]
        if not (external and skipped_when_external):
            names.append(name)
    if not names:
        raise DockerRunError("the %s block of docker-hub.sh starts no container: %s" % (what, FIX_SCRIPT))
    return names


def parse(text, version, workdir, external=False):
    """The containers of docker-hub.sh for a Hub ``version`` run from ``workdir`` (the docker-run folder, the
    script's ${PWD}), with its own database container or, ``external``, with an external database."""
    text = (text or "").replace("\r\n", "\n")
    arrays = _mode(text, external)
    variables = {"_VERSION": version, "PWD": workdir}
    containers, functions, data_volumes, databases = {}, {}, [], []
    for function, body in _FUNCTION.findall(text):
        run = _DOCKER_RUN.search(body.replace("\\\n", " "))
        if not run:
            continue
        if run.group(2) in ("'", '"'):
            raise DockerRunError("the docker run of %s has a quote (%s) that is not closed: %s"
                                 % (function, run.group(2), FIX_SCRIPT))
        argv = _expand(run.group(1), "the docker run of %s" % function, arrays, variables)
        found = _container(argv, function)
        name, data_volume = found.pop("name"), found.pop("data_volume")
        found["health_check_wrong_port"] = _health_check_wrong_port(found.pop("health_cmd"), found["ports"])
        if name in containers:
            raise DockerRunError("two functions of docker-hub.sh run a container named %s: %s"
                                 % (name, FIX_SCRIPT))
        argv, environment, image_at = _environment_apart(argv, found.pop("env_at"), found.pop("image_at"), function)
        containers[name] = dict(found, argv=argv, environment=environment, image_at=image_at)
        functions[function] = (name, bool(_SKIPPED_WHEN_EXTERNAL.match(body)))
        data_volumes += [data_volume] if data_volume else []
        databases += [name] if data_volume else []
    if not containers:
        raise DockerRunError("docker-hub.sh has no function start<Name>() { ... docker run ... }: %s" % FIX_SCRIPT)
    if not data_volumes:
        raise DockerRunError("no docker run of docker-hub.sh mounts a named volume at %s, so where the database keeps "
                             "its data is unknown: %s" % (DATA_PATH, FIX_SCRIPT))
    migrate = _block(text, "_MIGRATE")
    create = _CREATE_VOLUME.search(migrate)
    if not create:
        raise DockerRunError("the _MIGRATE block of docker-hub.sh creates no volume (createVolume ...): %s"
                             % FIX_SCRIPT)
    webserver = containers.get("webserver", {}).get("ports") or []
    return {
        "containers": containers,
        "up": _started(_block(text, "_UP"), functions, external, "_UP"),
        "up_volumes": _plain(arrays, "bdsHubVolumes"),
        "migrate": _started(migrate, functions, external, "_MIGRATE"),
        "migrate_volumes": _expand(create.group(1), "the createVolume of the _MIGRATE block", arrays, {}),
        "stop": _plain(arrays, "bdsHubContainers"),
        "data_volume": data_volumes[0],
        "database": databases[0],
        "front_door_port": next((int(host) for host, dummy in webserver if host.isdigit()), 0),
    }
