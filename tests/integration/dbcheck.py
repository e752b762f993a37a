"""Independent checks of a lab hub's databases, written without the collection's code (plain SQL via psql)."""
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
