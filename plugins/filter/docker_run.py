# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the docker-run folder of the vendor's bundles (a Hub run with plain `docker run`, by
docker-run/docker-hub.sh)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.blackduck.hub.plugins.module_utils._docker_run import (
    DockerRunError, bundle_version, parse)


def _failed(source, exc):
    return AnsibleFilterError("the docker-run folder of %s cannot be used: %s" % (source, exc))


def docker_run_script(text, version, workdir, external=False, source="docker-hub.sh"):
    """The containers, their `docker run` commands and what --up, --migrate and --stop do, of docker-hub.sh."""
    try:
        return parse(text, version, workdir, external=external)
    except DockerRunError as exc:
        raise _failed(source, exc)


def docker_run_version(text, source="hub_db_migrate.sh"):
    """The Hub version of a bundle's docker-run folder, from its bin/hub_db_migrate.sh."""
    try:
        return bundle_version(text)
    except DockerRunError as exc:
        raise _failed(source, exc)


class FilterModule(object):
    def filters(self):
        return {"docker_run_script": docker_run_script, "docker_run_version": docker_run_version}
