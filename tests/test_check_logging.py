"""FR-LOG-01 and FR-LOG-02 against real lab hosts forwarding (or not) to the lab's receiver."""

import json
import shlex

import pytest

from fleetready.gather.facts import Facts
from fleetready.probe.log_canary import DOCKER, SYSLOG, paths
from lab import state
from tests.labrun import run_cases

FAST_CANARY = {"logging": {"canary": {"deadline_seconds": 3}}}
NO_CANARY = {"canary": {"enabled": False}}


@pytest.fixture(scope="module")
def lab(make_lab):
    lab = make_lab(
        full={
            "sound": "sound",
            "no-fwd": "no_log_forwarding",
            "wrong-target": "log_forwarding_wrong_target",
            "recv-down": "receiver_down",
            "etcd": "firewall_open_port",
            "docker": "docker_log_driver",
            "docker-down": "docker_log_driver_receiver_down",
            "docker-bare": "docker_log_driver",
        }
    )
    # A host whose drain is in Deis's etcd key and Docker's daemon.json, with rsyslogd stopped.
    daemon = {"log-driver": "syslog", "log-opts": {"syslog-address": "tcp://logs.lab:514"}}
    lab.host("etcd").check(
        "ETCDCTL_API=2 etcdctl set /deis/logs/drain tcp://logs.lab:514 >/dev/null;"
        f" echo {shlex.quote(json.dumps(daemon))} >/etc/docker/daemon.json;"
        " kill -9 $(cat /run/rsyslogd.pid) && while pgrep -x rsyslogd >/dev/null; do sleep 0.02; done"
    )
    # The host that forwards nothing keeps an old drain, commented out in a RainerScript block:
    # it must still count as no forwarding.
    old_drain = '/* retired:\n*.* action(type="omfwd" target="logs.lab" port="514" protocol="tcp")\n*/\n'
    lab.host("no-fwd").check("cat >/etc/rsyslog.d/40-old-drain.conf", input=old_drain)
    # A Docker-driver-only host with no image to run a canary container in.
    lab.host("docker-bare").check("docker image rm -f $(docker image ls -q) >/dev/null")
    return lab


@pytest.fixture(scope="module")
def results(lab, tmp_path_factory):
    drain = {"host": "logs.lab", "port": 514, "protocol": "tcp"}
    cases = {
        "sound": ("sound", None),
        "no-fwd": ("no-fwd", FAST_CANARY),
        "wrong-target": ("wrong-target", FAST_CANARY),
        "recv-down": ("recv-down", FAST_CANARY),
        "udp-policy": ("sound", {"logging": {"drain": dict(drain, protocol="udp"), **NO_CANARY}}),
        "canary-log-unreadable": ("sound", {"logging": {"canary": {"receiver_log": "/var/log/none.log"}}}),
        "rsyslog-stopped": ("etcd", {"logging": {"source": "rsyslog", **NO_CANARY}}),
        "docker": ("docker", None),
        "docker-down": ("docker-down", FAST_CANARY),
        "docker-bare": ("docker-bare", FAST_CANARY),
        "docker-drain": ("etcd", {"logging": {"source": "docker", **NO_CANARY}}),
        "deis-drain": ("etcd", {"logging": {"source": "deis-etcd", **NO_CANARY}}),
        "deis-other-drain": (
            "etcd",
            {"logging": {"source": "deis-etcd", "drain": dict(drain, port=5140), **NO_CANARY}},
        ),
        "logs": ("logs", None),  # the receiver: default profile, no drain of its own
    }
    report = run_cases(lab, cases, tmp_path_factory.mktemp("log") / "inventory.yml", "FR-LOG")
    return {(r["host"], r["control"]): r for r in report["results"] if r["control"]}


def outcome(results, host, control):
    r = results[(host, control)]
    return r["outcome"], r["message"]


def canaries(results, host):
    return results[(host, "FR-LOG-02")]["evidence"]["log_canary"]["paths"]


def images(h):
    return set(h.check("docker image ls --format '{{.Repository}}:{{.Tag}}'").split())


def test_sound_host_drains_and_its_canary_arrives(results):
    assert outcome(results, "sound", "FR-LOG-01") == ("pass", "")
    assert outcome(results, "sound", "FR-LOG-02") == ("pass", "")
    [canary] = canaries(results, "sound")
    assert canary["path"] == SYSLOG and canary["seconds"] < 10


def test_docker_driver_only_host_passes_with_its_canary_on_the_receiver(lab, results):
    assert outcome(results, "docker", "FR-LOG-01") == ("pass", "")
    assert outcome(results, "docker", "FR-LOG-02") == ("pass", "")
    [canary] = canaries(results, "docker")  # its syslog daemon forwards nothing: no logger canary
    # An image the host had: nothing pulled.
    assert images(lab.host("docker")) == set(state.resolve("docker_log_driver")["images"])
    assert canary["path"] == DOCKER and canary["image"] in images(lab.host("docker"))
    # Shown, not masked: the operator finds it on the receiver.
    assert canary["canary"].startswith("fleetready-canary-docker-")
    assert canary["canary"] in lab.host("logs").check("cat /var/log/remote.log")


def test_docker_driver_canary_lost_when_the_receiver_is_down(results):
    verdict, message = outcome(results, "docker-down", "FR-LOG-02")
    assert verdict == "fail"
    assert message.startswith(
        f"canary via {DOCKER} not delivered to /var/log/remote.log on logs:"
        " the engine could not start its log driver (dial tcp "
    ), message


def test_docker_driver_canary_without_an_image_is_an_error(lab, results):
    assert outcome(results, "docker-bare", "FR-LOG-02") == (
        "error",
        "no image on the host to run the Docker canary in (it never pulls one)",
    )
    assert images(lab.host("docker-bare")) == set()


@pytest.mark.parametrize("host", ["docker", "docker-down", "docker-bare"])
def test_docker_canary_leaves_no_container(lab, results, host):
    assert lab.host(host).check("docker ps -aq") == ""


@pytest.mark.parametrize(
    "host, message",
    [
        ("no-fwd", "no log forwarding configured"),
        ("wrong-target", "forwards to logs-old.lab:514, policy drain is logs.lab:514"),
        ("recv-down", "drain logs.lab:514 not reachable from the host"),
        ("docker-down", "drain logs.lab:514 not reachable from the host"),
        ("udp-policy", "forwards to logs.lab:514 over tcp, policy drain is udp"),
        ("rsyslog-stopped", "rsyslog forwards to logs.lab:514 but rsyslogd is not running"),
        ("deis-other-drain", "forwards to logs.lab:514, policy drain is logs.lab:5140"),
    ],
)
def test_drain_defects_fail(results, host, message):
    assert outcome(results, host, "FR-LOG-01") == ("fail", message)


def test_drain_read_from_docker_and_deis_etcd(results):
    assert outcome(results, "docker-drain", "FR-LOG-01") == ("pass", "")
    assert outcome(results, "deis-drain", "FR-LOG-01") == ("pass", "")


@pytest.mark.parametrize("host", ["no-fwd", "wrong-target", "recv-down"])
def test_canary_lost_fails(results, host):
    assert outcome(results, host, "FR-LOG-02") == (
        "fail",
        f"canary via {SYSLOG} not received in /var/log/remote.log on logs within 3 s",
    )


@pytest.mark.parametrize(
    "vias, source, expected",
    [
        (["rsyslog"], "auto", [SYSLOG]),
        (["docker"], "auto", [DOCKER]),
        (["rsyslog", "docker"], "auto", [SYSLOG, DOCKER]),
        ([], "auto", [SYSLOG]),  # nothing forwards: logger, where lines go by default
        (["rsyslog", "docker"], "docker", [DOCKER]),
    ],
)
def test_a_canary_down_each_configured_path(vias, source, expected):
    forwards = [{"via": via, "host": "logs.lab", "port": 514, "protocol": "tcp", "where": ""} for via in vias]
    facts = Facts("h", {"logging": {"forwards": forwards}}, {}, "", 0, 0)
    policy = {"logging": {"source": source, "drain": {"host": "logs.lab", "port": 514, "protocol": "tcp"}}}
    assert paths(policy, facts) == expected


def test_unreadable_receiver_log_is_an_error(results):
    state, message = outcome(results, "canary-log-unreadable", "FR-LOG-02")
    assert state == "error"
    assert message.startswith("cannot read /var/log/none.log on logs (exit 2)")


def test_not_applicable_without_drain_or_canary(results):
    assert outcome(results, "logs", "FR-LOG-01")[0] == "skipped"
    assert outcome(results, "deis-drain", "FR-LOG-02")[0] == "skipped"
