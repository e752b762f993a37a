#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hub_sides
short_description: The old and the new side of a Black Duck Hub migration - databases, connections, dump mounts, data
version_added: 0.3.0
description:
  - Decides once, from the inventory's settings and what the orchestration role's C(discover) found (O(facts)), what
    the upgrade role reads about each side of the migration - where each version's databases are (its own container
    or pod, or an external server), the C(connection) option the collection's database modules take to reach them,
    where the dump folder is mounted in each side's database container (O(dump_mount)), how each side's data is named,
    and the keys of the hub's lock. It changes nothing.
  - With O(database=external) and no O(postgres.host), the external server is read from the new bundle's settings
    file on the managed host, as the Hub itself will - C(hub-postgres.env), or C(pods.env) on Kubernetes. On
    Kubernetes the admin password, where O(postgres) gives none, is the one the new Hub logs in with, wherever the
    server is named - C(HUB_POSTGRES_ADMIN_PASSWORD_FILE) of the ConfigMap C(hpup-admin) of
    C(kubernetes-external-rds.yml), which the new Hub's pods mount.
  - Refuses settings that cannot work - an external database without a host or password, an old external server
    without another new one, a dump folder that cannot be mounted or written - with a message that says what to set,
    before anything is done.
  - This is an action plugin - it runs on the controller and reads the managed host through
    M(ansible.builtin.slurp) and M(ansible.builtin.stat). Its result holds the connections' passwords and is not
    shown (no_log); a refusal holds none and is shown.
author:
  - blackduck.hub contributors (!UNKNOWN)
options:
  facts:
    description: C(hub_facts), as the orchestration role's C(discover) set it (C(old_db), C(new_db), C(old_data),
      C(new_data), C(new_dir), C(old_lock_key), C(new_lock_key), C(remove_old_data_hint)).
    type: dict
    required: true
  orchestration:
    description: The old Hub's orchestration (C(hub_orchestration)).
    type: str
    required: true
  new_orchestration:
    description: The new Hub's orchestration, when it is another one (C(hub_new_orchestration)).
    type: str
  database:
    description: Where the new version's databases are - its own container or pod, or an external server.
    type: str
    default: internal
    choices: [internal, external]
  postgres:
    description:
      - The new external server, in the Hub's own terms (C(HUB_POSTGRES_HOST) and the like). Without C(host), the new
        bundle's settings file names it.
    type: dict
    default: {}
    suboptions: &server
      host:
        description: Its host.
        type: str
        default: ""
      port:
        description: Its port.
        type: raw
        default: 5432
      admin:
        description: The admin role.
        type: str
        default: blackduck
      admin_password:
        description: The admin role's password.
        type: str
        default: ""
      admin_password_file:
        description: A file on the managed host holding it (the password is used instead when both are given).
        type: str
        default: ""
      credential_password_file:
        description:
          - A file on the controller holding the password an AWX credential gives every hub (the fleet's default,
            docs/awx.md) - read, and used, only where neither C(admin_password) nor C(admin_password_file) is given,
            nor, for the new server on Kubernetes, the new bundle's own password.
          - A file that cannot be read then is refused with a message that names it.
          - Without it, the file named by E(HUB_NEW_POSTGRES_ADMIN_PASSWORD_FILE) (for O(postgres)) or
            E(HUB_OLD_POSTGRES_ADMIN_PASSWORD_FILE) (for O(old_postgres)) in the controller's environment, as an AWX
            credential sets them.
        type: str
        version_added: 0.4.0
      enable_ssl:
        description: Whether to ask for TLS.
        type: raw
        default: false
  old_postgres:
    description:
      - The old external server, when the old Hub runs on one; without C(host), the old Hub's own database.
    type: dict
    default: {}
    suboptions: *server
  old_db_container:
    description: The old database container's name, where it is not the one C(discover) found.
    type: str
    default: ""
  tools_path:
    description: Where the PostgreSQL client tools are on the managed host (external servers).
    type: str
    default: ""
  dump_dir:
    description: The run's folder (C(hub_dump_dir)); checked to be a folder this play may write, or missing.
    type: str
    required: true
  dump_mount:
    description:
      - How the data moves (C(hub_dump_mount)) - V(auto) mounts the dump folder into each side's database container
        where both ends can use it (an absolute O(dump_dir), Docker Compose, Swarm or Kubernetes on a hostPath, a
        Docker engine without SELinux, user namespaces or rootless; an external new server reads it on this host),
        else streams; V(true) mounts it wherever the collection starts the database containers and refuses
        elsewhere; V(false) streams. See RV(sides.hub_dump_transfer).
    type: raw
    default: auto
  dump_mount_target:
    description: Where the dump folder is mounted in the containers.
    type: str
    default: /blackduck-hub-dump
  transfer:
    description:
      - How the data goes from the old to the new databases (C(hub_transfer)) - V(file), a dump in O(dump_dir)
        restored after (moved as O(dump_mount) says), or V(stream), each database piped from the old database
        straight into the new one with no dump file.
      - V(stream) is refused (saying why) where the two databases cannot run side by side - so far it needs an
        external new server, a new Kubernetes hub beside an old Docker hub, or an orchestration whose C(discover)
        names a project to run the old database apart (C(hub_facts.old_apart_project), as Compose does).
      - Not checked against a list here, so that any other value gets the refusal that says what to set.
    type: str
    default: file
    version_added: 0.4.0
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode as in a real run.
  diff_mode:
    support: none
    description: No diff.
  idempotent:
    support: full
    description: Changes nothing.
  action:
    support: full
    description: Runs on the controller; reads the managed host through modules.
"""

EXAMPLES = r"""
- name: The two sides of the migration
  blackduck.hub.hub_sides:
    facts: "{{ hub_facts }}"
    orchestration: compose
    database: external
    postgres:
      host: hub-db96.example.com
      admin_password_file: /etc/hub/admin-password
    dump_dir: /var/backups/hub-4.2-migration
  register: sides

- name: Keep them for the run
  ansible.builtin.set_fact:
    hub_target_db: "{{ sides.sides.hub_target_db }}"
  no_log: true
"""

RETURN = r"""
sides:
  description:
    - The facts the upgrade role reads, for a C(set_fact) (with C(no_log) - the connections hold passwords). Not
      returned as C(ansible_facts), so that no fact cache ever keeps them.
  returned: success
  type: complex
  contains:
    hub_source_db:
      description: The C(connection) option to the old version's databases (the old external server's, when set).
      type: dict
    hub_target_db:
      description: The C(connection) option to the new version's databases.
      type: dict
    hub_source_external:
      description: Whether the old Hub's databases are on an old external server.
      type: bool
    hub_old_database:
      description: V(external) or V(internal) - where the old Hub's databases are.
      type: str
    hub_new_space_elsewhere:
      description: Whether the new data lives off this host (an external server, or a claim the cluster provides).
      type: bool
    hub_data:
      description:
        - Per side (C(old), C(new)) its data as C(discover) found it (C(kind), C(name) or C(path), C(exists)), with
          C(label) (its name for the plan and the report); the old side also has C(remove_hint) (how to remove it by
          hand) and C(measure) (how step 1 measures it - M(blackduck.hub.disk_space)'s
          O(blackduck.hub.disk_space#module:volume), O(blackduck.hub.disk_space#module:data_path) or
          O(blackduck.hub.disk_space#module:database_size_from=server) - so the upgrade role never asks the kind).
        - "An old external server is C({kind: server, name: host:port})."
      type: dict
    hub_dump_mounts:
      description: Per side (C(old), C(new)) where the dump folder is mounted in its database container, or empty
        where it is not (an external server, or the dump streamed).
      type: dict
    hub_dump_format:
      description: The dump's format - V(directory) (written and read by the tools themselves, C(--jobs)),
        V(custom) (streamed to a file and from it), or V(stream) (no dump file - O(transfer=stream)).
      type: str
    hub_dump_transfer:
      description: How the data moves, and why, in words (for the check-mode plan).
      type: str
    hub_old_apart_project:
      description: The project the old version's database runs under in migration mode, apart from the new version's
        (O(transfer=stream) between two hubs of one orchestration; the old side's connection then names it), or an
        empty string where it runs under the hub's own names.
      type: str
      version_added: 0.4.0
    hub_lock_keys:
      description:
        - What names the hub for its lock (M(blackduck.hub.hub_lock)'s O(blackduck.hub.hub_lock#module:keys)) - the
          orchestration's key of the hub, and C(postgres:<host>:<port>) for each external server, old or new (the
          host in lower case).
      type: list
      elements: str
    hub_new_settings:
      description:
        - With an external new database, what the new Hub itself will read to find it - the new bundle's
          C(hub-postgres.env), or C(pods.env) on Kubernetes - against the server the data goes into. Step 1 (and the
          check-mode plan) refuses a file that names no server or the vendor's example server, and notes one that
          names another host or port - and, on Kubernetes, a C(hub-config) ConfigMap of
          C(kubernetes-external-rds.yml) that names another server (the role leaves it out, as the vendor's
          C(kubectl create) of both files does).
      type: dict
      version_added: 0.4.0
      contains:
        file:
          description: The file read; empty when none was (an internal database, or no such file).
          type: str
        refusal:
          description: Why the new Hub would not find its data (HUB_POSTGRES_HOST empty, or the vendor's example server); empty when it would.
          type: str
        note:
          description:
            - The file names another host or port than the inventory's server (maybe the same by another name); on
              Kubernetes, or C(kubernetes-external-rds.yml)'s own C(hub-config), left out, names another server.
          type: str
msg:
  description: A short summary, without the connections.
  returned: success
  type: str
"""
