"""plugins/module_utils/_jobs.py: the Hub's running jobs, read from st.job_instances (a fake psql answers)."""
from ansible_collections.blackduck.hub.plugins.module_utils import _jobs as jobs
from ansible_collections.blackduck.hub.plugins.module_utils._query import SEP


def test_running_jobs_are_read_oldest_first_and_only_running(fake_target):
    target = fake_target([
        {"match": "to_regclass", "stdout": "t\n"},
        {"match": "FROM st.job_instances", "stdout": SEP.join(["12", "ScanJob", "RUNNING", "jobrunner-1",
                                                               "2026-11-30T10:00:00Z", "303.6"]) + "\n"
         + SEP.join(["14", "ReportJob", "RUNNING", "", "", "4"]) + "\n"},
    ])
    found = jobs.running_jobs(target)
    assert found == [
        {"id": 12, "job_type": "ScanJob", "status": "RUNNING", "node": "jobrunner-1",
         "started_at": "2026-11-30T10:00:00Z", "seconds": 303},
        {"id": 14, "job_type": "ReportJob", "status": "RUNNING", "node": "", "started_at": None, "seconds": 4}]
    query = target.calls()[-1]["stdin"]
    assert "status IN ('RUNNING') AND job_type NOT IN ('ReportingDatabaseTransferJob')" in query
    assert "-d" in target.calls()[-1]["args"]
    assert jobs.describe(found) == "2 jobs run: ScanJob #12 on jobrunner-1 for 5m 3s, ReportJob #14 for 4s"


def test_no_table_means_nothing_to_wait_for(fake_target):
    target = fake_target([{"match": "to_regclass", "stdout": "f\n"}])
    assert jobs.running_jobs(target) is None
    assert len(target.calls()) == 1


def test_describe_and_duration():
    assert jobs.describe([]) == "no job runs"
    one = {"id": 3, "job_type": "ScanJob", "node": "", "seconds": 3725}
    assert jobs.describe([one]) == "1 job runs: ScanJob #3 for 1h 2m 5s"
    many = [dict(one, id=i) for i in range(12)]
    assert jobs.describe(many, limit=2).endswith("ScanJob #1 for 1h 2m 5s and 10 more")
    assert jobs.duration(0) == "0s" and jobs.duration(60) == "1m 0s" and jobs.duration(3600) == "1h 0m 0s"
