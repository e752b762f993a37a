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


class Clock:
    """A clock that only moves when the drain sleeps, or when a look (a query) takes time."""

    def __init__(self, look_takes=0.0):
        self.now, self.look_takes, self.slept = 100.0, look_takes, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def draining(monkeypatch, clock, answers):
    """drain with running_jobs answering each look from answers in turn (the last one ever after)."""
    looks = []

    def running(target, database, ignore_types=()):
        looks.append(database)
        clock.now += clock.look_takes
        return answers[min(len(looks), len(answers)) - 1]

    monkeypatch.setattr(jobs, "running_jobs", running)
    return looks


SCAN = {"id": 12, "job_type": "ScanJob", "status": "RUNNING", "node": "jobrunner-1", "started_at": None, "seconds": 65}


def test_the_drain_looks_every_interval_until_no_job_runs(monkeypatch):
    clock = Clock()
    looks = draining(monkeypatch, clock, [[SCAN], [SCAN], []])
    found = jobs.drain(None, timeout=60, interval=10, clock=clock, sleep=clock.sleep)
    assert len(looks) == 3 and clock.slept == [10, 10]
    assert found["drained"] and found["jobs"] == [] and found["jobs_at_start"] == [SCAN] and found["waited"] == 20
    assert found["table"] and found["msg"] == "no job runs now (waited 20s for ScanJob #12 on jobrunner-1 for 1m 5s)"


def test_the_drain_gives_up_at_its_timeout_and_says_what_still_runs(monkeypatch):
    clock = Clock()
    draining(monkeypatch, clock, [[SCAN]])
    found = jobs.drain(None, timeout=25, interval=10, clock=clock, sleep=clock.sleep)
    assert clock.slept == [10, 10, 5]  # the last wait ends at the timeout, not an interval later
    assert not found["drained"] and found["jobs"] == [SCAN] and found["waited"] == 25
    assert found["msg"] == "1 job runs: ScanJob #12 on jobrunner-1 for 1m 5s (still, after 25s)"


def test_a_look_without_a_drain_waits_nothing_even_when_its_query_is_slow(monkeypatch):
    """What was waited is counted from the first look: a query that took 2 s (a busy host) is no wait."""
    clock = Clock(look_takes=2.0)
    looks = draining(monkeypatch, clock, [[SCAN]])
    found = jobs.drain(None, timeout=0, clock=clock, sleep=clock.sleep)
    assert len(looks) == 1 and clock.slept == [] and found["waited"] == 0
    assert found["msg"] == "1 job runs: ScanJob #12 on jobrunner-1 for 1m 5s"


def test_a_database_without_the_jobs_table_has_nothing_to_drain(monkeypatch):
    clock = Clock()
    looks = draining(monkeypatch, clock, [None])
    found = jobs.drain(None, "bds_hub", timeout=60, clock=clock, sleep=clock.sleep)
    assert len(looks) == 1 and found == {"jobs": [], "jobs_at_start": [], "drained": True, "waited": 0, "table": False,
                                         "msg": "bds_hub has no st.job_instances: no job to wait for"}
