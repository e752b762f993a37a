"""plugins/action/hub_lock.py: who this run is, and whether the run that holds a lock is gone (controller side)."""
import errno
import json
import os
import socket

from ansible_collections.blackduck.hub.plugins.action import hub_lock as action


def test_a_run_of_this_controller_whose_process_is_gone(monkeypatch):
    me = action.this_run()
    assert me["pid"] == os.getppid() and me["controller"] == socket.gethostname() and me["pid_start"]
    assert action.judge(me) == ("runs", "its process %d still runs" % me["pid"])
    assert action.judge(dict(me, pid=2 ** 22 + 7))[0] == "gone"
    assert action.judge(dict(me, pid_start="1"))[1].endswith("(the pid is another process's now)")
    assert action.judge(dict(me, boot_id="another-boot")) == ("gone", "this controller has restarted since")
    assert action.judge(dict(me, controller="elsewhere")) == ("unknown", "it runs on another controller (elsewhere)")


def test_a_run_of_another_machine_or_container_of_the_same_name_is_not_gone(monkeypatch):
    """Two controllers of one host name - cloned VMs, or containers run with one --hostname (cron, CI) - are not this
    one: its process cannot be seen from here, nor is another boot a restart of this machine. Taking over their lock
    would let two runs work one hub."""
    me = action.this_run()
    assert me["pid_ns"].startswith("pid:[") and me["pid_ns"] in me["run"]
    with open("/etc/machine-id") as f:  # confidential (machine-id(5)): only a keyed hash of it is recorded
        assert len(me["machine_id"]) == 32 and f.read().strip() not in json.dumps(me)
    other_vm = dict(me, machine_id="f" * 32, boot_id="another-boot", pid=2 ** 22 + 7)
    monkeypatch.setattr(action, "_machine_id", lambda: "0" * 32)
    assert action.judge(other_vm) == ("unknown", "it runs on another machine of the same host name %s (machine id hash %s)" % (
        me["controller"], "f" * 32))
    other_container = dict(me, machine_id="0" * 32, pid_ns="pid:[4026532999]", pid=2 ** 22 + 7)
    state, why = action.judge(other_container)
    assert state == "unknown" and why.startswith("it runs in another PID namespace (pid:[4026532999]: another container")
    assert action.judge(dict(other_container, boot_id="another-boot"))[0] == "unknown"  # nor a restart of this one
    # where the machine id cannot be read here, or a lock written before these were recorded: judged as before
    monkeypatch.setattr(action, "_machine_id", lambda: "")
    assert action.judge(dict(other_vm, pid_ns=me["pid_ns"])) == ("gone", "this controller has restarted since")
    legacy = dict((k, v) for k, v in me.items() if k not in ("machine_id", "pid_ns"))
    assert action.judge(dict(legacy, pid=2 ** 22 + 7))[0] == "gone"


def test_a_run_seen_running_here_is_told_from_one_that_cannot_be_judged():
    """hub_break_lock takes over what cannot be judged from here, never a run whose process is seen running."""
    me = action.this_run()
    assert action.judge(me) == ("runs", "its process %d still runs" % me["pid"])
    assert action.judge(dict(me, pid=2 ** 22 + 7))[0] == "gone"
    assert action.judge(dict(me, controller="elsewhere"))[0] == "unknown"
    assert action.judge(dict(me, pid_ns="pid:[4026532999]"))[0] == "unknown"
    assert action.judge(dict(me, pid=None)) == ("unknown", "it names no process")


def test_a_process_that_cannot_be_read_is_not_gone(monkeypatch):
    """Where /proc hides other users' processes (hidepid) the process is asked with signal 0: EPERM means it is
    there; a start time that cannot be read cannot tell it from another process with that pid - unknown, not gone."""
    me = action.this_run()

    def eperm(pid, sig):
        raise OSError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(action.os, "kill", eperm)
    assert action.judge(me)[0] == "runs"
    monkeypatch.setattr(action, "process_start", lambda pid: "")
    assert action.judge(me)[0] == "unknown" and "its start time cannot be read here" in action.judge(me)[1]
    assert action.judge(dict(me, pid_start=""))[0] == "runs"  # a lock of a controller without /proc
    assert action.judge(me)[0] != "gone"


def test_describe_names_who_holds_it():
    text = action.describe({"run": "ctl/boot/42/999", "user": "ops", "controller": "ctl", "pid": 42,
                            "started": "2026-11-30T03:00:00Z", "dump_dir": "/var/backups/hub", "awx_job": "17"})
    assert text == ("a run by ops on ctl (pid 42, AWX job 17), started 2026-11-30T03:00:00Z, dump folder "
                    "/var/backups/hub")
    json.dumps(text)


def test_two_hosts_of_one_run_are_two_holders():
    """An inventory naming one hub twice: the second host of the same run does not take the first one's lock for its
    own (nor release it when it ends first)."""
    a, b = action.this_run("hub-a"), action.this_run("hub-a-again")
    assert a["run"] != b["run"] and a["run"].endswith("/hub-a") and a["host"] == "hub-a"
    assert action.same_run_other_host(a, b) and not action.same_run_other_host(a, action.this_run("hub-a"))
    assert not action.same_run_other_host(dict(a, pid=a["pid"] + 1), b)  # another run: the usual refusal
    assert not action.same_run_other_host(None, b)
    # another container of the same host name whose playbook has the same pid and start: another run
    assert not action.same_run_other_host(dict(a, pid_ns="pid:[4026532999]"), b)


def test_check_mode_judges_each_lock_held_by_another_run():
    me = action.this_run()
    locks = [{"key": "a", "status": "free", "holder": None}, {"key": "b", "status": "busy", "holder": me},
             {"key": "c", "status": "busy", "holder": dict(me, pid=2 ** 22 + 7)}]
    out = action.judged(locks)
    assert out[0] == locks[0] and "judged" not in locks[1]  # the free one as it was; the input untouched
    assert (out[1]["judged"], out[1]["why"]) == ("runs", "its process %d still runs" % me["pid"])
    assert out[2]["judged"] == "gone" and out[2]["key"] == "c"
