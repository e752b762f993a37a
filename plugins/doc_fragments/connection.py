# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Where the database is: shared by every module of the collection (module_utils/_target.py).
    DOCUMENTATION = r"""
options:
  connection:
    description:
      - Where the database server is and how its client tools are reached.
      - V(docker) runs the tools inside the database container with C(docker exec) (no TTY) as its C(postgres)
        OS user over the local socket, as the vendor's scripts do. The container is named, or found by the
        Hub's image labels.
      - V(kubectl) runs the tools inside the database pod with C(kubectl exec).
      - V(tcp) runs the tools on the managed host against a server reached over TCP, for external databases
        such as Amazon RDS or a published port. The password goes through a mode 0600 passfile, never argv.
      - With V(tcp), the queries (versions, inventories, checksums, markers) go through the Python library
        psycopg2 where the managed host's Python has it (one session per database, the server's SQLSTATE in
        errors, the password handed to libpq in memory); without it they go through C(psql), with the same
        results. C(pg_dump), C(pg_restore) and C(psql) (for the roles' script) are run as tools either way.
      - More than one matching container or pod is an error that lists them; none is an error that says what
        was searched.
    type: dict
    required: true
    suboptions:
      type:
        description: How the database is reached.
        type: str
        required: true
        choices: [docker, kubectl, tcp]
      container:
        description:
          - V(docker) - the container's name or id. Without it, the one running container labelled
            C(com.blackducksoftware.hub.image=postgres) (narrowed by O(connection.hub_version) and
            O(connection.project)) is used.
          - V(kubectl) - the container in the pod (default is the pod's only or first container).
        type: str
      hub_version:
        description: V(docker) - only containers labelled C(com.blackducksoftware.hub.version) with this value.
        type: str
      project:
        description: V(docker) - only containers of this Compose project or Swarm stack.
        type: str
      namespace:
        description: V(kubectl) - the namespace of the pod.
        type: str
        default: default
      pod:
        description: V(kubectl) - the pod's name. Without it, the one running pod matching O(connection.selector).
        type: str
      selector:
        description: V(kubectl) - a label selector for the database pod.
        type: str
        default: app=postgres
      kubeconfig:
        description: V(kubectl) - the kubeconfig file (default is kubectl's own rules, such as E(KUBECONFIG)).
        type: path
      context:
        description: V(kubectl) - the kubeconfig context.
        type: str
      host:
        description: V(tcp) - the server's host name or address (E(HUB_POSTGRES_HOST) in the Hub's terms).
        type: str
      port:
        description:
          - The server's port. V(tcp) defaults to 5432; V(docker) and V(kubectl) use the server's own default
            socket port unless this is set.
        type: int
      user:
        description:
          - The role to connect as. Default C(postgres) (the superuser, over the container's local socket) for
            V(docker) and V(kubectl), C(blackduck) (E(HUB_POSTGRES_ADMIN)) for V(tcp).
        type: str
      password:
        description: V(tcp) - the password of O(connection.user). Never logged, never on a command line.
        type: str
      password_file:
        description:
          - V(tcp) - a file holding the password (E(HUB_POSTGRES_ADMIN_PASSWORD_FILE) in the Hub's terms);
            used when O(connection.password) is not set.
        type: path
      sslmode:
        description: V(tcp) - libpq's sslmode (E(HUB_POSTGRES_ENABLE_SSL=false) is V(disable)).
        type: str
        default: prefer
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      tools_path:
        description: V(tcp) - the folder of the PostgreSQL client tools to use (default is the first on E(PATH)).
        type: path
      docker_cli:
        description: V(docker) - the docker CLI to use (default is the first on E(PATH)).
        type: path
      kubectl_cli:
        description: V(kubectl) - the kubectl CLI to use (default is the first on E(PATH)).
        type: path
      dump_mount:
        description:
          - V(docker), V(kubectl) - where the module's dump folder (C(dump_dir) of db_dump and db_restore) is
            mounted inside the database container or pod (a bind mount or hostPath of the same folder, for example
            C(/blackduck-hub-dump)). With it the directory format runs C(pg_dump --jobs) and C(pg_restore --jobs)
            inside the container on the files themselves - no byte through C(docker exec) or C(kubectl exec).
          - For the time of the run the folder of each database is owned by the user the tools run as there
            (C(postgres)) and the dump folder is mode 0711; afterwards every file is the module's user's again, mode
            0600, folders 0700.
        type: str
        version_added: 0.3.0
  wait_timeout:
    description: Seconds to wait for the server to accept connections before failing.
    type: int
    default: 300
  log_file:
    description:
      - Append to this file (mode 0600, its folder made if missing) every command the module runs - its argv, exit
        code, time and everything it wrote on stderr - so a failure can be diagnosed afterwards. Neither what is
        sent to a tool (SQL, the roles' password hashes) nor its output (the dump) is logged, and no secret is ever
        on argv.
      - The upgrade role keeps one per run in C(hub_dump_dir/logs/).
    type: path
    version_added: 0.3.0
"""

    # db_restore's source (blackduck.hub.connection.source): the old server a stream reads, reached as the connection
    # option reaches a server (the same suboptions, described there).
    SOURCE = r"""
options:
  source:
    description:
      - Stream from this server instead of restoring a dump (the old Hub's database, running in migration mode). Each
        database is piped from its C(pg_dump) straight into C(pg_restore) on the target, the roles from
        C(pg_dumpall --globals-only) into C(psql) - no dump file, no disk beyond the new data. Reached as
        O(connection) is, with the same suboptions.
      - What a dump's manifest records is recorded all the same in O(dump_dir) (C(manifest.json), format C(stream),
        no file) - the source, the databases' owners and encodings, the roles, every table's row count and checksum
        (counted on the quiet source while the streams run), so M(blackduck.hub.db_verify) compares the target
        with it as with a dump. A rerun reuses that record - the databases whose stream completed are kept, the rest
        cleaned and streamed again.
    type: dict
    version_added: 0.4.0
    suboptions:
      type:
        description: Like O(connection.type).
        type: str
        required: true
        choices: [docker, kubectl, tcp]
      container:
        description: Like O(connection.container).
        type: str
      hub_version:
        description: Like O(connection.hub_version).
        type: str
      project:
        description: Like O(connection.project).
        type: str
      namespace:
        description: Like O(connection.namespace).
        type: str
        default: default
      pod:
        description: Like O(connection.pod).
        type: str
      selector:
        description: Like O(connection.selector).
        type: str
        default: app=postgres
      kubeconfig:
        description: Like O(connection.kubeconfig).
        type: path
      context:
        description: Like O(connection.context).
        type: str
      host:
        description: Like O(connection.host).
        type: str
      port:
        description: Like O(connection.port).
        type: int
      user:
        description: Like O(connection.user).
        type: str
      password:
        description: Like O(connection.password).
        type: str
      password_file:
        description: Like O(connection.password_file).
        type: path
      sslmode:
        description: Like O(connection.sslmode).
        type: str
        default: prefer
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      tools_path:
        description: Like O(connection.tools_path).
        type: path
      docker_cli:
        description: Like O(connection.docker_cli).
        type: path
      kubectl_cli:
        description: Like O(connection.kubectl_cli).
        type: path
      dump_mount:
        description: Like O(connection.dump_mount).
        type: str
"""
