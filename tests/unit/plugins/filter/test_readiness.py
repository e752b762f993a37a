"""plugins/filter/readiness.py: when a started Hub counts as up, per orchestration."""
from ansible_collections.blackduck.hub.plugins.filter.readiness import FilterModule, k8s_pods_ready, swarm_stack_ready

SERVICES = ["cfssl", "logstash", "postgres"]


def test_exported():
    assert sorted(FilterModule().filters()) == ["k8s_pods_ready", "swarm_stack_ready"]


def test_swarm_stack_ready():
    up = ["hub_cfssl Up 40 seconds (healthy)", "hub_logstash Up 40 seconds (healthy)", "hub_postgres Up 39 seconds"]
    assert swarm_stack_ready(up, SERVICES, "hub") is True
    starting = up[:2] + ["hub_postgres Up 3 seconds (health: starting)"]
    assert swarm_stack_ready(starting, SERVICES, "hub") is False
    assert swarm_stack_ready(starting, SERVICES, "hub", healthy=False) is True  # running is enough
    unhealthy = up[:2] + ["hub_postgres Up 3 minutes (unhealthy)"]
    assert swarm_stack_ready(unhealthy, SERVICES, "hub", healthy=False) is False
    assert swarm_stack_ready(up[:2], SERVICES, "hub") is False  # a service without its container
    assert swarm_stack_ready(up + ["hub_postgres Up 1 second"], SERVICES, "hub") is False  # two of one (an old task)
    assert swarm_stack_ready(up + ["hub_webapp Up 1 second"], SERVICES, "hub") is False  # another service's
    assert swarm_stack_ready([], [], "hub") is True


def pod(app, ready=True, deleting=False):
    meta = {"name": app + "-1", "labels": {"app": app}}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-30T00:00:00Z"
    return {"metadata": meta, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_k8s_pods_ready():
    assert k8s_pods_ready([pod("cfssl"), pod("postgres")], ["postgres", "cfssl"]) is True
    assert k8s_pods_ready([pod("cfssl"), pod("postgres", ready=False)], ["postgres", "cfssl"]) is False
    assert k8s_pods_ready([pod("cfssl"), pod("postgres"), pod("postgres", deleting=True)], ["postgres", "cfssl"]) is False
    assert k8s_pods_ready([pod("cfssl")], ["postgres", "cfssl"]) is False
    assert k8s_pods_ready([pod("cfssl"), pod("postgres"), pod("webapp")], ["postgres", "cfssl"]) is False  # not alone
    assert k8s_pods_ready([{"metadata": {"labels": {"app": "x"}}, "status": {}}], ["x"]) is False  # no conditions yet
