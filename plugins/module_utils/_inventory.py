# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a live server holds, read with _query.query (psql, or psycopg2 for a TCP target): versions, databases, roles, and per database its
tables (row counts and content checksums), sequences, large objects and object counts.

The queries run on PostgreSQL 9.4 and later. Content checksums are order-independent (a sum of 64-bit slices of
each row's md5) and do not depend on the server version: the session pins every output setting, and floating
point columns are hashed through their binary send form (their text form changed in PostgreSQL 12). The slices are
summed as bigint: sum(bigint) is exact (it returns numeric) on every version, and servers from 9.5 on add with
128-bit integers instead of numeric arithmetic (2 million rows: 2.9-3.2 s on PostgreSQL 15 against 3.4 s with a
numeric cast of every row; the same sum).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.blackduck.hub.plugins.module_utils._query import query, query_sessions
from ansible_collections.blackduck.hub.plugins.module_utils._target import APPLICATION_NAME

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
FLOAT_SEND = {"float8": "float8send", "float4": "float4send"}
# the tables whose rows mean a Hub holds its users' data (projects, scanned code locations): an empty Hub has none
HUB_DATA_TABLES = ("st.project", "st.code_location")

# The Hub's post-restore fixups (hub-facts.md), and what each changes: rows matching ``changes`` are compared by
# count only; the rest of the table by checksum; ``after`` must match no row once the fixup ran.
FIXUPS = {
    "bds_hub": [
        {
            "table": "st.policy_setting",
            "sql": "DELETE FROM st.policy_setting WHERE policy_key IN "
                   "('blackduck.reporting.database.transfer.last.end.time', "
                   "'blackduck.reporting.database.transfer.last.id.processed')",
            "changes": "policy_key IN ('blackduck.reporting.database.transfer.last.end.time', "
                       "'blackduck.reporting.database.transfer.last.id.processed')",
            "after": "policy_key IN ('blackduck.reporting.database.transfer.last.end.time', "
                     "'blackduck.reporting.database.transfer.last.id.processed')",
            "deletes": True,
        },
        {
            "table": "st.job_instances",
            "sql": "UPDATE st.job_instances SET status = 'FAILED' WHERE job_type = 'ReportingDatabaseTransferJob' "
                   "AND status IN ('SCHEDULED', 'DISPATCHED', 'RUNNING')",
            "changes": "job_type = 'ReportingDatabaseTransferJob' AND status IN ('SCHEDULED', 'DISPATCHED', 'RUNNING', "
                       "'FAILED')",
            "after": "job_type = 'ReportingDatabaseTransferJob' AND status IN ('SCHEDULED', 'DISPATCHED', 'RUNNING')",
            "deletes": False,
        },
    ]
}


def quote_ident(name):
    return '"%s"' % name.replace('"', '""')


def qualified(schema, name):
    return "%s.%s" % (quote_ident(schema), quote_ident(name))


def split_name(qname):
    schema, dummy, name = qname.partition(".")
    return schema, name


def quote_literal(value):
    return "'%s'" % str(value).replace("'", "''")


def server_version(target, database="postgres"):
    rows = query(target, database, "SELECT current_setting('server_version_num'), current_setting('server_version');",
                 "reading the server version")
    num = int(rows[0][0])
    major = "%d.%d" % (num // 10000, num // 100 % 100) if num < 100000 else str(num // 10000)
    return {"num": num, "version": rows[0][1], "major": major}


def databases(target):
    rows = query(target, "postgres",
                 "SELECT d.datname, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, "
                 "pg_database_size(d.datname), coalesce(shobj_description(d.oid, 'pg_database'), '') "
                 "FROM pg_database d WHERE d.datallowconn AND NOT d.datistemplate ORDER BY 1;",
                 "listing databases")
    return {r[0]: {"owner": r[1], "encoding": r[2], "collate": r[3], "ctype": r[4], "size_bytes": int(r[5]),
                   "comment": r[6]} for r in rows}


def roles(target):
    rows = query(target, "postgres",
                 "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolinherit FROM pg_roles "
                 "WHERE rolname !~ '^pg_' AND oid <> 10 ORDER BY 1;", "listing roles")
    return {r[0]: {"superuser": r[1] == "t", "createdb": r[2] == "t", "createrole": r[3] == "t",
                   "login": r[4] == "t", "inherit": r[5] == "t"} for r in rows}


def role_password_digests(target):
    """{role: md5 of its stored password hash, or '' without a password}, comparable across servers without showing
    the hash itself; None when the connecting role may not read them (only a superuser may read pg_authid)."""
    if not role_rights(target)["superuser"]:
        return None
    rows = query(target, "postgres", "SELECT rolname, coalesce(md5(rolpassword), '') FROM pg_authid "
                                     "WHERE rolname !~ '^pg_' AND oid <> 10 ORDER BY 1;", "reading the role passwords")
    return {r[0]: r[1] for r in rows}


def roles_with_passwords(target):
    """roles(), each with its password digest ('password') where the connecting role may read it."""
    out = roles(target)
    digests = role_password_digests(target)
    for name, attrs in out.items():
        if digests is not None and name in digests:
            attrs["password"] = digests[name]
    return out


def _of_an_extension(catalog, oid):
    """SQL: the object oid of catalog (its pg_class, pg_proc, ...) belongs to an extension."""
    return ("EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '%s'::regclass AND d.objid = %s AND d.deptype = 'e')"
            % (catalog, oid))


def user_relation_count(target, database):
    """Tables, views, sequences and functions outside the system schemas and not part of an extension: 0 for a
    database as a server's image or a DBA's init script makes it (empty schemas, extensions such as pgcrypto)."""
    return int(query(target, database,
                     "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', "
                     "'information_schema') AND n.nspname !~ '^pg_toast' AND NOT %s) + (SELECT count(*) FROM pg_proc p "
                     "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', "
                     "'information_schema') AND NOT %s);" % (_of_an_extension("pg_class", "c.oid"),
                                                             _of_an_extension("pg_proc", "p.oid")),
                     "looking for objects in %s" % database)[0][0])


def role_rights(target):
    r = query(target, "postgres", "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                                  "WHERE rolname = current_user;", "reading the connecting role")[0]
    return {"name": r[0], "superuser": r[1] == "t", "createdb": r[2] == "t", "createrole": r[3] == "t"}


def hub_table_count(target, database="bds_hub"):
    """Tables in schema st of bds_hub; 0 when the database does not exist."""
    if database not in databases(target):
        return 0
    return int(query(target, database, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                       "WHERE n.nspname = 'st' AND c.relkind IN ('r', 'p');", "looking for Hub tables")[0][0])


def hub_data_rows(target, tables, database="bds_hub"):
    """Rows of the tables that hold a Hub's user data (those that exist), e.g. {'st.project': 0}: none in any of
    HUB_DATA_TABLES, and a Hub only created its schema (the new version started without migrating)."""
    rows = {}
    for t in tables:  # a missing table cannot appear in a static FROM: ask for each on its own
        exists = query(target, database, "SELECT to_regclass(%s) IS NOT NULL;\n" % quote_literal(
            qualified(*split_name(t))), "looking for %s" % t)[0][0] == "t"
        if exists:
            rows[t] = int(query(target, database, "SELECT count(*) FROM %s;\n" % qualified(
                *split_name(t)), "counting %s" % t)[0][0])
    return rows


def rows_held(rows):
    """Of hub_data_rows' counts, those that hold rows, said: 'st.code_location has 2 rows, st.project has 1 rows', or
    '' (an empty Hub)."""
    return ", ".join("%s has %d rows" % (t, n) for t, n in sorted(rows.items()) if n > 0)


def superusers(target):
    rows = query(target, "postgres", "SELECT rolname FROM pg_roles WHERE rolsuper ORDER BY 1;", "listing superusers")
    return [r[0] for r in rows]


# The relations of the database's users (pg_namespace n): what the inventory reads and what table_sizes measures.
USER_SCHEMAS = ("n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast' "
                "AND n.nspname !~ '^pg_temp'")


def _tables_and_columns(target, database):
    rows = query(target, database,
                 "SELECT n.nspname, c.relname, c.relkind, "
                 "coalesce(string_agg(a.attname || ':' || t.typname, ',' ORDER BY a.attnum), '') "
                 "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                 "LEFT JOIN pg_type t ON t.oid = a.atttypid "
                 "WHERE c.relkind IN ('r', 'S') AND " + USER_SCHEMAS + " GROUP BY 1, 2, 3 ORDER BY 1, 2;", "listing tables")
    tables, sequences = {}, []
    for schema, name, kind, cols in rows:
        if kind == "S":
            sequences.append((schema, name))
        else:
            tables[(schema, name)] = [tuple(c.rsplit(":", 1)) for c in cols.split(",")] if cols else []
    return tables, sequences


def row_expression(columns):
    """The text of one row, independent of server version: ROW(...) with floats through their send form."""
    if not columns:
        return "''"
    parts = []
    for col, typ in columns:
        fn = FLOAT_SEND.get(typ)
        parts.append("%s(t.%s)" % (fn, quote_ident(col)) if fn else "t.%s" % quote_ident(col))
    return "ROW(%s)::text" % ", ".join(parts)


def checksum_select(qname, columns, where=None, checksums=True, label=None):
    """One row: label, row count, checksum (0 without checksums) of table qname ('schema.table')."""
    hashed = ("coalesce(sum(('x' || substr(md5(%s), 1, 16))::bit(64)::bigint), 0)" % row_expression(columns)
              if checksums else "0")
    sql = "SELECT %s, count(*), %s FROM %s t" % (quote_literal(label or qname), hashed, qualified(*split_name(qname)))
    if where:
        sql += " WHERE %s" % where
    return sql + ";\n"


def table_sizes(target, database):
    """Every user table's size on disk in bytes (its heap and TOAST, without indexes), by 'schema.table'."""
    rows = query(target, database,
                 "SELECT n.nspname || '.' || c.relname, pg_table_size(c.oid) "
                 "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "
                 + USER_SCHEMAS + ";", "measuring the tables")
    return {name: int(size) for name, size in rows}


def balance(weights, groups):
    """The keys of weights spread over at most ``groups`` groups of about equal weight (the heaviest first, each
    onto the lightest group so far); each group's keys sorted, the groups in the order they were first filled."""
    bins = [[0, n, []] for n in range(max(1, groups))]
    for key in sorted(weights, key=lambda k: (-weights[k], k)):
        lightest = min(bins)
        lightest[0] += weights[key]
        lightest[2].append(key)
    return [sorted(keys) for dummy, dummy2, keys in bins if keys]


OBJECT_KINDS = ("indexes", "views", "functions", "constraints")


def _counts_of(kinds):
    """'a,b,c,d': how many of each kind (OBJECT_KINDS' order), outside the system schemas, with kinds[k]'s extra
    condition (an object of an extension or not)."""
    def one(sql, extra):
        return "(SELECT count(*) FROM %s AND %s)" % (sql, extra)
    sql = ("pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indexrelid = c.oid "
           "WHERE c.relkind = 'i' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'",
           "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') "
           "AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
           "pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
           "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')",
           "pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
           "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')")
    return " || ',' || ".join(one(s, k) for s, k in zip(sql, kinds))


# An extension's own functions, views, tables (their indexes and constraints) are the new server's version of it:
# pgcrypto 1.3 of PostgreSQL 9.6 has two functions more than the 1.1 of 9.4, which the Hub's bds_hub holds (the
# vendor's external-postgres-init.pgsql creates it). So the Hub's own objects are counted apart from them.
_MEMBER = (_of_an_extension("pg_class", "i.indrelid"), _of_an_extension("pg_class", "c.oid"),
           _of_an_extension("pg_proc", "p.oid"),
           "(%s OR %s)" % (_of_an_extension("pg_class", "c.conrelid"), _of_an_extension("pg_type", "c.contypid")))
OBJECT_COUNTS = "SELECT 'objects', %s, %s;\n" % (_counts_of(["NOT " + m for m in _MEMBER]), _counts_of(_MEMBER))


def database_inventory(target, database, checksums=True, fixups=None, jobs=1):
    """Tables (rows, checksum), sequences, large objects and object counts of one database. One session reads
    them in one snapshot; with jobs > 1 that many sessions share the tables by size and read at the same time,
    each in its own snapshot - for a database nobody writes (right after a restore), where it is jobs times
    faster at most."""
    tables, sequences = _tables_and_columns(target, database)
    fixups = {f["table"]: f for f in (fixups or [])}
    parts = {}  # 'schema.table' -> its statements; '' -> the rest (sequences, large objects, object counts)
    for (schema, name), cols in sorted(tables.items()):
        qname = "%s.%s" % (schema, name)
        parts[qname] = [checksum_select(qname, cols, checksums=checksums)]
        if qname in fixups:  # the same table split by what the fixup changes
            f = fixups[qname]
            parts[qname] += [checksum_select(qname, cols, "NOT (%s)" % f["changes"], checksums, qname + "#unchanged"),
                             checksum_select(qname, cols, f["changes"], False, qname + "#changed"),
                             checksum_select(qname, cols, f["after"], False, qname + "#after")]
    rest = parts[""] = []
    for schema, name in sequences:
        rest.append("SELECT %s, last_value, CASE WHEN is_called THEN 1 ELSE 0 END FROM %s;\n"
                    % (quote_literal("seq:%s.%s" % (schema, name)), qualified(schema, name)))
    rest.append("SELECT 'lo', count(*), %s FROM pg_largeobject_metadata;\n" % (
        "coalesce(sum(('x' || substr(md5(lo_get(oid)), 1, 16))::bit(64)::bigint), 0)" if checksums else "0"))
    rest.append(OBJECT_COUNTS)
    rest.append("SELECT 'extensions', coalesce(string_agg(extname || ' ' || extversion, ',' ORDER BY extname), ''), 0 "
                "FROM pg_extension;\n")
    if jobs > 1 and len(tables) > 1:
        sizes = table_sizes(target, database)
        groups = balance(dict((key, sizes.get(key, 0)) for key in parts), jobs)
    else:
        groups = [sorted(key for key in parts if key) + [""]]
    scripts = [["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"] + [stmt for key in group for stmt in parts[key]]
               + ["COMMIT;\n"] for group in groups]
    rows = [row for rows in query_sessions(target, database, scripts, "taking row counts and checksums")
            for row in rows]
    inv = {"tables": {}, "sequences": {}, "large_objects": {}, "objects": {}, "fixup_parts": {}}
    for key, a, b in rows:
        if key.startswith("seq:"):
            inv["sequences"][key[4:]] = {"last_value": int(a), "is_called": b == "1"}
        elif key == "lo":
            inv["large_objects"] = {"count": int(a), "checksum": b if checksums else None}
        elif key == "objects":  # those of the database's own, then those of its extensions
            inv["objects"], inv["extension_objects"] = [dict(zip(OBJECT_KINDS, (int(x) for x in counts.split(","))))
                                                        for counts in (a, b)]
        elif key == "extensions":
            inv["extensions"] = dict(e.partition(" ")[::2] for e in a.split(",") if e)
        elif "#" in key:
            table, part = key.split("#", 1)
            inv["fixup_parts"].setdefault(table, {})[part] = {"rows": int(a), "checksum": b if checksums else None}
        else:
            inv["tables"][key] = {"rows": int(a), "checksum": b if checksums else None}
    return inv


def active_sessions(target, databases_):
    """Client sessions on the given databases other than our own (anything still writing?). Client backends only:
    pg_stat_activity also lists the server's autovacuum workers (often right after data was loaded), which are no
    client and end by themselves - from PostgreSQL 10 on with their backend_type, before 10 (no such column) only by
    their query text, "autovacuum: ...". A session with no user yet is no client either: a worker that has not set
    its query text (seen: an autovacuum worker just launched, on 9.4) or a connection still being authenticated,
    which has run nothing. Nor are this module's own sessions (psycopg2 keeps one per database on a TCP target).
    (row_to_json: the one statement reads the column where it exists.)"""
    own = "".join(" AND pid <> %d" % int(pid) for pid in target.own_pids())
    rows = query(target, "postgres",
                 "SELECT datname, coalesce(usename, ''), coalesce(application_name, ''), coalesce(client_addr::text, 'local') "
                 "FROM pg_stat_activity a WHERE pid <> pg_backend_pid()%s AND datname IN (%s) AND a.usename IS NOT NULL "
                 "AND coalesce(row_to_json(a)->>'backend_type', CASE WHEN a.query LIKE 'autovacuum:%%' "
                 "THEN 'autovacuum worker' ELSE 'client backend' END) = 'client backend';"
                 % (own, ", ".join(quote_literal(d) for d in databases_)), "listing client sessions")
    return [{"database": r[0], "user": r[1], "application": r[2], "client": r[3]} for r in rows]


def another_run(sessions):
    """What to say when sessions (active_sessions') hold some of blackduck.hub's own tools - another run, or the
    background job of a killed run - or None."""
    ours = sorted(set("%s@%s" % (s["user"], s["database"]) for s in sessions if s["application"] == APPLICATION_NAME))
    if not ours:
        return None
    return ("the databases have sessions of blackduck.hub itself (%s): another run is working on this hub, or the "
            "background job of a killed run still runs. Wait for that run to end, or end the job (look for pg_dump, "
            "pg_restore or psql in the database container: docker top, or ps in the pod) and run again. Nothing was "
            "changed." % ", ".join(ours))


def read_marker(comment):
    """The restore marker kept in a database's comment, or None."""
    if comment and comment.startswith("blackduck.hub restore "):
        try:
            return json.loads(comment[len("blackduck.hub restore "):])
        except ValueError:
            return None
    return None


def marker_sql(database, marker):
    return "COMMENT ON DATABASE %s IS %s;" % (quote_ident(database),
                                              quote_literal("blackduck.hub restore " + json.dumps(marker, sort_keys=True)))
