"""Fault matrix: real lab faults, one fleetready run each (all at once), each beside a sound host.

A faulted host's checks must end as `unreachable` or `error` (never `pass`) within the host
timeout, the sound host must still pass, and every run must complete with a non-zero exit.
Time to detect is the longest a check waited on the faulted host (its JSON `duration`).
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import run_fleetready
from tests.test_reports import write_inventory

HOST_TIMEOUT = 6
# The log canary needs its receiver host in the run; every other check runs.
SELECT = ["-k", "not FR-LOG-02", "--host-timeout", str(HOST_TIMEOUT)]
# Slows the gathering on the host and says when it has begun, so a kill lands mid-gathering.
SLOW_DOCKER = '#!/bin/sh\ntouch /run/fr-gathering\nsleep 30\nexec /usr/bin/docker "$@"\n'


def stop_docker(host):
    host.check(
        "kill $(cat /var/run/docker.pid); "
        "for i in $(seq 100); do docker version >/dev/null 2>&1 || exit 0; sleep 0.1; done; exit 1"
    )


def fill_tmp(host):
    # Tiny full tmpfs mounts: the host's real disk is the machine's, never filled here.
    # Both blocks and inodes run out, so even `mktemp -d` fails there.
    host.check(
        "for d in /tmp /var/tmp; do mount -t tmpfs -o size=16k,nr_inodes=8 tmpfs $d || exit 1;"
        " dd if=/dev/zero of=$d/fill bs=4k 2>/dev/null; for i in $(seq 8); do touch $d/f$i 2>/dev/null; done;"
        " done; ! mktemp -d 2>/dev/null && ! mktemp -d -p /var/tmp 2>/dev/null"
    )


def add_latency(host):
    rc, out = host.exec("tc qdisc add dev eth0 root netem delay 2000ms 2>&1")
    return None if rc == 0 else f"the kernel lacks sch_netem ({out.strip()})"


def partition(host):
    host.check(f"iptables -I INPUT -s {host.lab.gateway} -j DROP")


# fault -> (lab host, outcomes each check may end with, reasons allowed for unreachable)
UNREACHABLE = {"unreachable", "error"}
FAULTS = {
    "stopped": ("sshd0", UNREACHABLE, {"no route", "timeout"}),
    "killed mid-run": ("killed", UNREACHABLE, {"closed", "timeout"}),
    "tarpit": ("tarpit0", UNREACHABLE, {"timeout"}),
    "2 s latency": ("slow", UNREACHABLE, {"timeout"}),
    "partition": ("cut", UNREACHABLE, {"timeout"}),
    "docker stopped": ("nodocker", None, set()),  # FR-IMG-01 error, FR-HOST-01 fail, the rest pass
    "disk full": ("diskfull", None, set()),  # the same verdicts as the sound host
}


@pytest.fixture(scope="module")
def lab(make_lab):
    lab = make_lab(sshd=1, tarpits=1, start=False)
    for name in ("sound", "killed", "slow", "cut", "nodocker", "diskfull"):
        lab.add_host(name, "full", "sound")
    return lab.up()


def run_with_kill(lab, args):
    """The run, with the `killed` host's container killed once its gathering has begun."""
    host = lab.host("killed")
    host.check(f"cat >/usr/local/bin/docker <<'EOF'\n{SLOW_DOCKER}EOF\nchmod 755 /usr/local/bin/docker")

    def kill_when_gathering():
        for _ in range(600):
            if host.exec("test -e /run/fr-gathering")[0] == 0:
                host.kill()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_gathering)
    killer.start()
    try:
        return run_fleetready(args)
    finally:
        killer.join()


@pytest.fixture(scope="module")
def runs(lab, tmp_path_factory):
    """{fault: (exit code, results, output, wall seconds)}, or a skip reason for the fault."""
    tmp = tmp_path_factory.mktemp("faults")
    lab.host("sshd0").stop()
    fill_tmp(lab.host("diskfull"))
    stop_docker(lab.host("nodocker"))
    partition(lab.host("cut"))
    skipped = {"2 s latency": add_latency(lab.host("slow"))}

    def one(fault):
        name = FAULTS[fault][0]
        inventory = write_inventory(tmp / f"{name}.yml", lab, {"fleet": ["sound", name]})
        args = ["--inventory", inventory, "--ssh-config", str(lab.files["ssh_config"]), *SELECT]
        started = time.monotonic()
        result = run_with_kill(lab, args) if name == "killed" else run_fleetready(args)
        return fault, (*result, time.monotonic() - started)

    todo = [f for f in FAULTS if not skipped.get(f)]
    with ThreadPoolExecutor(len(todo)) as pool:
        done = dict(pool.map(one, todo))
    return {f: skipped.get(f) or done[f] for f in FAULTS}


def judged(results, host):
    return {r["control"]: r for r in results["results"] if r["host"] == host and r["outcome"] != "skipped"}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_detected_in_time_and_never_passes(runs, fault):
    if isinstance(runs[fault], str):
        pytest.skip(runs[fault])
    code, results, output, wall = runs[fault]
    name, outcomes, reasons = FAULTS[fault]
    sound = judged(results, "sound")
    assert len(sound) >= 8 and {r["outcome"] for r in sound.values()} == {"pass"}, sound
    faulted = judged(results, name)
    if outcomes is None:  # the host answers: its verdicts are the sound host's, but for the fault
        expected = {c: r["outcome"] for c, r in sound.items()}
        if fault == "docker stopped":
            expected.update({"FR-IMG-01": "error", "FR-HOST-01": "fail"})
            assert "engine not reachable" in faulted["FR-IMG-01"]["message"]
        assert {c: r["outcome"] for c, r in faulted.items()} == expected, faulted
        assert code == (0 if set(expected.values()) == {"pass"} else 1), output
    else:
        assert code == 1, output
        # Probes from the controller (TLS, ports) need no facts: they end as `error`.
        assert faulted["FR-HOST-01"]["outcome"] == "unreachable", faulted
        for r in faulted.values():
            assert r["outcome"] in outcomes and r["message"], r
            assert r["outcome"] == "error" or r["reason"] in reasons, r
    detect = max(r["duration"] for r in faulted.values())
    # Cut off by the host timeout, not left to hang (a tarpit answers never, sshd's grace time
    # is 120 s): margins that hold with the CPU busy, as these runs all go at once.
    assert detect <= HOST_TIMEOUT + 15, (fault, detect)
    assert wall < 90, (fault, wall)
    print(
        f"RESILIENCE | {fault} | {sorted({r['outcome'] + ' ' + (r.get('reason') or '') for r in faulted.values()})}"
        f" | {detect:.2f} s (run {wall:.1f} s) | 0 |"
    )
