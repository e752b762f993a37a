# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' connection option for an external server, built in one place from the Hub's own settings."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def tcp_connection(host, port=5432, user="blackduck", password="", password_file="", enable_ssl=False,
                   tools_path=""):
    """{'type': 'tcp', host, port, user, sslmode, [password], [password_file], [tools_path]} for the modules'
    ``connection`` option, from a server's settings as hub-postgres.env names them (HUB_POSTGRES_HOST, _PORT,
    _ADMIN, _ENABLE_SSL and the admin's password)."""
    if isinstance(enable_ssl, str):
        enable_ssl = enable_ssl.strip().strip("'\"").lower() in ("true", "yes", "1", "on")
    out = {"type": "tcp", "host": host, "port": int(port), "user": user,
           "sslmode": "require" if enable_ssl else "disable"}
    for key, value in (("password", password), ("password_file", password_file), ("tools_path", tools_path)):
        if value:
            out[key] = value
    return out


class FilterModule(object):
    def filters(self):
        return {"tcp_connection": tcp_connection}
