# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQL on a target's server, one way for every caller: ``query`` returns rows as lists of text fields, each value
in the server's own text form and NULL as '' (what ``psql -A -t`` prints), so one parser reads every target.

* A TCP target (an external server such as RDS, or a published port) answers through psycopg2 where it is
  installed on the managed host: no client process per query, the server's SQLSTATE in every error, and the
  password handed to libpq in memory. Every value comes back as the server's text (a raw typecaster for each
  type psycopg2 would convert), so checksums and counts read the same as through psql.
* The container targets (``docker exec``, ``kubectl exec``), and a managed host without psycopg2, answer through
  ``psql`` run as the target says.

``sql`` is one statement, or a list of statements run in order on one session (each result's rows appended),
so a script of many SELECTs in one transaction reads the same through both clients. ``query_sessions`` runs
several such scripts at once, each on a session of its own (a psql process each, or a psycopg2 connection each).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, hide_passwords, log_command, run, why

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:  # the managed host has no psycopg2: psql answers
    psycopg2 = None

SEP = "\x1f"  # psql field separator: never part of an identifier we query
# Pinned for every session: the text of dates, intervals, bytea and floats does not depend on the server's settings
SESSION = ("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
           "SET bytea_output = 'hex'; SET extra_float_digits = 0; SET client_min_messages = warning;\n")


def statements(sql):
    return [sql] if isinstance(sql, str) else list(sql)


def query(target, database, sql, what, timeout=None, session=0):
    """Run sql on database of target; return its rows as lists of text fields. A failure raises CommandError that
    says what was being done, where, and what the server said. timeout (seconds) bounds a psql run. session: which
    of the module's psycopg2 sessions on database runs it (0, the one every caller shares; another number for a
    query that runs beside it, see query_sessions)."""
    params = target.sql_params(database) if psycopg2 is not None else None
    if params is None:
        return _psql(target, database, statements(sql), what, timeout)
    return _psycopg2(target, params, (database, session) if session else database, statements(sql), what)


def query_sessions(target, database, scripts, what, timeout=None):
    """Each script (one statement or a list, as query takes) on a session of its own, all at the same time; their
    rows in the scripts' order. The first failure raises once every script has ended. The sessions opened for it
    are closed after (the first, the one every caller shares, is kept)."""
    if len(scripts) < 2:
        return [query(target, database, sql, what, timeout) for sql in scripts]
    try:
        with ThreadPoolExecutor(max_workers=len(scripts)) as pool:
            running = [pool.submit(query, target, database, sql, what, timeout, n) for n, sql in enumerate(scripts)]
            return [job.result() for job in running]
    finally:
        for n in range(1, len(scripts)):
            _drop(target, (database, n))


def failed(target, database, what, said, rc=1):
    """The CommandError of a query that failed: what was being done, where, and what the server (or psql) said - or,
    when psql said nothing (killed with its container), what its exit code tells."""
    return CommandError("%s on %s (database %s) failed: %s" % (what, target.describe(), database, why(rc, said)),
                        rc=rc, stderr=said)


def _psql(target, database, stmts, what, timeout):
    args = ["-X", "-q", "-A", "-t", "-F", SEP, "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"]
    rc, out, err = run(target.tool_argv("psql", args, stdin=True), env=target.env, stdin_data=SESSION + "".join(stmts),
                       timeout=timeout)
    if rc != 0:
        raise failed(target, database, what, err.strip(), rc)
    return [line.split(SEP) for line in out.splitlines() if line != ""]


def _drop(target, key):
    """Close the target's psycopg2 session ``key`` (see _connection), if it has one."""
    connection = target.sql_connections.pop(key, None)
    if connection is not None:
        connection.close()


def _as_text(value, cursor):
    return value


def _connection(target, params, key):
    """The target's session ``key`` (a database, or (database, number) for a further one; opened once, kept until
    target.cleanup()): autocommit as psql runs, the pinned settings, and every value as the server's text."""
    if key not in target.sql_connections:
        connection = psycopg2.connect(**params)
        try:
            connection.autocommit = True
            for oid in list(psycopg2.extensions.string_types):
                psycopg2.extensions.register_type(psycopg2.extensions.new_type((oid,), "BDHUB_TEXT", _as_text),
                                                  connection)
            with connection.cursor() as cursor:
                cursor.execute(SESSION)
        except Exception:
            connection.close()
            raise
        target.sql_connections[key] = connection
    return target.sql_connections[key]


def server_said(exc):
    """What the server (or libpq) said, with the SQLSTATE where there is one; a PASSWORD '...' it quotes hidden."""
    text = hide_passwords(getattr(exc, "pgerror", None) or str(exc)).strip()
    code = getattr(exc, "pgcode", None)
    if not text:  # never "exit code 1 and said nothing": psycopg2 has no exit code
        text = ("psycopg2 raised %s without a word from the server or libpq: was the server stopped, or the "
                "connection cut, while it ran?" % type(exc).__name__)
    return "SQLSTATE %s: %s" % (code, text) if code else text


def _psycopg2(target, params, key, stmts, what):
    database = key[0] if isinstance(key, tuple) else key
    started = time.monotonic()
    logged = ["psycopg2", target.describe(), "dbname=%s:" % database, what]
    for attempt in (1, 2):
        kept = key in target.sql_connections
        connection, rows = None, []
        try:
            connection = _connection(target, params, key)
            with connection.cursor() as cursor:
                for stmt in stmts:
                    cursor.execute(stmt)
                    if cursor.description is not None:
                        rows.extend(["" if v is None else v for v in row] for row in cursor.fetchall())
            break
        except (psycopg2.Error, UnicodeError) as exc:
            _drop(target, key)  # an explicit transaction may be left open: start afresh next time
            if attempt == 1 and kept and getattr(connection, "closed", 0) and \
                    isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
                continue  # the kept session was dropped while idle (a long dump, a firewall): once more, anew
            said = server_said(exc)
            log_command(logged, 1, said, time.monotonic() - started)
            raise failed(target, database, what, said)
    log_command(logged, 0, "", time.monotonic() - started)
    return rows
