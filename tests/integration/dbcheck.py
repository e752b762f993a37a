"""Independent checks of a lab hub's databases, written without the collection's code (plain SQL via psql)."""
import os

import labhub

DATABASES = ("bds_hub", "bds_hub_report", "bdio")
FIXUP_KEYS = ("blackduck.reporting.database.transfer.last.end.time",
              "blackduck.reporting.database.transfer.last.id.processed")
ACTIVE = ("SCHEDULED", "DISPATCHED", "RUNNING")


def counts(hub, db):
    """Row counts of every base table outside the system schemas."""
    sql = ("SELECT table_schema || '.' || table_name FROM information_schema.tables "
           "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
    tables = labhub.psql(hub, sql, db=db).split()
    q = "\n".join("SELECT '%s', count(*) FROM %s;" % (t, t) for t in tables)
    return {line.split("|")[0]: int(line.split("|")[1]) for line in labhub.psql(hub, q, db=db).splitlines() if line}


def table_digests(hub, db, tables, where=None):
    """md5 over each table's rows (sorted), optionally filtered."""
    q = "\n".join("SELECT '%s', md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) FROM %s t%s;"
                  % (t, t, (" WHERE " + where[t]) if where and t in where else "") for t in tables)
    return dict(line.split("|") for line in labhub.psql(hub, q, db=db).splitlines() if line)


def fingerprint(hub):
    """Row counts and content digests of every table of the three Hub databases."""
    out = {}
    for db in DATABASES:
        c = counts(hub, db)
        out[db] = {"counts": c, "digests": table_digests(hub, db, c)}
    return out


def fingerprint_without_fixups(hub):
    """The fingerprint, with the two tables the Hub's post-restore fixups change reduced to what they keep."""
    fp = fingerprint(hub)
    where = {"st.policy_setting": "policy_key NOT IN ('%s')" % "', '".join(FIXUP_KEYS),
             "st.job_instances": "NOT (job_type = 'ReportingDatabaseTransferJob' AND status IN ('%s', 'FAILED'))"
                                 % "', '".join(ACTIVE)}
    fp["bds_hub"]["digests"].update(table_digests(hub, "bds_hub", list(where), where))
    fp["bds_hub"]["counts"].pop("st.policy_setting")
    return fp


def heartbeat_high_mark(hub):
    """The last heartbeat row the running Hub has written (the lab's webapp writes one a second)."""
    return int(labhub.psql(hub, "SELECT coalesce(max(id), 0) FROM st.hub_heartbeat").strip() or 0)


def fingerprint_up_to(hub, high_mark):
    """fingerprint_without_fixups with the heartbeats cut at high_mark: the data as it was then, apart from the
    rows a Hub wrote since (an old Hub brought back writes again)."""
    fp = fingerprint_without_fixups(hub)
    where = {"st.hub_heartbeat": "id <= %d" % high_mark}
    fp["bds_hub"]["digests"].update(table_digests(hub, "bds_hub", list(where), where))
    fp["bds_hub"]["counts"]["st.hub_heartbeat"] = int(labhub.psql(
        hub, "SELECT count(*) FROM st.hub_heartbeat WHERE id <= %d" % high_mark).strip())
    return fp


def sequences(hub, db):
    """last_value and is_called of every sequence outside the system schemas."""
    names = labhub.psql(hub, "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences "
                             "ORDER BY 1", db=db).split() if server_major(hub) >= 10 else labhub.psql(
        hub, "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n "
             "ON n.oid = c.relnamespace WHERE c.relkind = 'S' ORDER BY 1", db=db).split()
    q = "\n".join("SELECT '%s', last_value, is_called FROM %s;" % (s, s) for s in names)
    return dict((line.split("|")[0], line.split("|")[1:]) for line in labhub.psql(hub, q, db=db).splitlines() if line) \
        if names else {}


def large_objects(hub, db):
    """Count and a digest of every large object's content."""
    return labhub.psql(hub, "SELECT count(*), md5(coalesce(string_agg(md5(lo_get(oid)), '' ORDER BY oid), '')) "
                            "FROM pg_largeobject_metadata", db=db).strip()


def roles(hub):
    """Every role's attributes and a digest of its stored password (never the password itself)."""
    out = labhub.psql(hub, "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, "
                           "rolreplication, md5(coalesce(rolpassword, '')) FROM pg_authid WHERE rolname !~ '^pg_' "
                           "ORDER BY 1", db="postgres")
    return dict((line.split("|")[0], line.split("|")[1:]) for line in out.splitlines() if line)


def data_folder_major(path):
    """The PostgreSQL major a data folder on this machine was made by (its PG_VERSION file)."""
    with open(os.path.join(path, "PG_VERSION")) as f:
        return f.read().strip()


def server_major(hub):
    return int(labhub.psql(hub, "SHOW server_version_num", db="postgres").strip()) // 10000


def exact_fingerprint(hub, live_tables=()):
    """Everything a migration must carry: per database every table (counts, content; the tables the Hub's fixups
    change reduced to what they keep), sequence and large object, and every role with its password digest.
    live_tables (a running Hub writes them) are compared by their presence only, and their sequences not at all."""
    fp = fingerprint_without_fixups(hub)
    for db in DATABASES:
        fp[db]["sequences"] = sequences(hub, db)
        fp[db]["large_objects"] = large_objects(hub, db)
    fp["roles"] = roles(hub)
    return exact_fingerprint_of(fp, live_tables)


def exact_fingerprint_of(fp, live_tables):
    """A fingerprint with the live tables (and their sequences) reduced to their presence."""
    import copy
    fp = copy.deepcopy(fp)
    for db in DATABASES:
        for t in live_tables:
            for part in ("counts", "digests"):
                if t in fp[db][part]:
                    fp[db][part][t] = "live"
            for seq in fp[db].get("sequences", {}):
                if seq.startswith(t + "_"):
                    fp[db]["sequences"][seq] = "live"
    return fp
