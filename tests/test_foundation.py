"""The foundation against real lab hosts: every backend, unreachable hosts, one fact command."""

import json
import socket
import subprocess
import threading
import time

import pytest
import yaml

from lab import keys
from tests.conftest import ROOT, run_fleetready

DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(sshd=4, tarpits=1)


def write_inventory(path, hosts):
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return str(path)


def ssh_vars(lab_host, **extra):
    return {
        "ansible_host": lab_host.address,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
        **extra,
    }


def by_host(results, control="FR-HOST-01"):
    return {r["host"]: r for r in results["results"] if r["control"] == control}


def test_one_result_per_host_over_ssh_paramiko_docker_and_local(lab, tmp_path):
    host = lab.host("sshd0")
    inventory = write_inventory(
        tmp_path / "inv.yml",
        {
            "via-ssh": ssh_vars(host),
            "via-paramiko": ssh_vars(host, ansible_connection="paramiko"),
            "via-docker": {"ansible_host": host.container, "ansible_connection": "docker"},
            "via-local": {"ansible_connection": "local"},
        },
    )
    code, everything, output = run_fleetready(
        [
            "checks",
            str(DATA / "host_fixture_check.py"),
            "--inventory",
            inventory,
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-v",
            "-k",
            "FR-HOST-01 or FR-TEST-HOST",
        ]
    )
    assert code == 0, output
    # A check's `host` fixture is the target's testinfra Host, never the controller.
    assert {r["host"] for r in everything["results"] if r["control"] == "FR-TEST-HOST"} == {
        "via-ssh",
        "via-paramiko",
        "via-docker",
        "via-local",
    }
    results = by_host(everything)
    assert sorted(results) == ["via-docker", "via-local", "via-paramiko", "via-ssh"]
    for name, result in results.items():
        assert result["outcome"] == "pass"
        assert result["nodeid"].endswith(f"[{name}]")
        assert f"test_facts_gathered[{name}] PASSED" in output
    for name in ("via-ssh", "via-paramiko", "via-docker"):
        assert results[name]["evidence"]["system"]["hostname"] == "sshd0"


def test_hosts_selected_by_group_with_limit(lab, tmp_path):
    inventory = tmp_path / "inv.ini"
    a, b = lab.host("sshd0"), lab.host("sshd1")
    inventory.write_text(
        f"[web]\nweb1 ansible_host={a.address}\n[db]\ndb1 ansible_host={b.address}\n"
        f"[all:vars]\nansible_user=root\nansible_ssh_private_key_file={keys.CLIENT_KEY}\n"
    )
    code, results, output = run_fleetready(
        [
            "--inventory",
            str(inventory),
            "--limit",
            "db",
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-k",
            "FR-HOST-01",
        ]
    )
    assert code == 0, output
    assert sorted(by_host(results)) == ["db1"]


@pytest.fixture(scope="module")
def broken_fleet(lab, tmp_path_factory):
    """An inventory where one host is sound and each other one is unreachable in its own way."""
    tmp = tmp_path_factory.mktemp("broken")
    good, unknown, changed, stopped = (lab.host(f"sshd{i}") for i in range(4))
    stopped.stop()
    other_key = tmp / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True)
    (tmp / "empty_known_hosts").write_text("")
    other_host_key = (tmp / "other_key.pub").read_text().split()[:2]
    (tmp / "changed_known_hosts").write_text(f"{changed.address} {' '.join(other_host_key)}\n")
    # One ssh config for the run, as an operator has: per-host known_hosts where the test needs it.
    (tmp / "ssh_config").write_text(
        f"Host {unknown.address}\n  UserKnownHostsFile {tmp / 'empty_known_hosts'}\n"
        f"Host {changed.address}\n  UserKnownHostsFile {tmp / 'changed_known_hosts'}\n"
        f"Host *\n  UserKnownHostsFile {lab.files['known_hosts']}\n  IdentitiesOnly yes\n"
    )
    hosts = {
        "good": ssh_vars(good),
        "refused": ssh_vars(good, ansible_port=2222),
        "wrong-key": ssh_vars(good, ansible_ssh_private_key_file=str(other_key)),
        "unknown-key": ssh_vars(unknown),
        "changed-key": ssh_vars(changed),
        "stopped": ssh_vars(stopped),
        "hung": ssh_vars(lab.host("tarpit0")),
    }
    yield tmp, hosts
    stopped.start()


EXPECTED_REASONS = {
    "refused": {"refused"},
    "wrong-key": {"auth"},
    "unknown-key": {"host key"},
    "changed-key": {"host key"},
    "stopped": {"no route", "timeout"},
    "hung": {"timeout"},
}


@pytest.mark.parametrize("connection", ["ssh", "paramiko"])
def test_unreachable_hosts_each_get_their_reason_and_never_pass(broken_fleet, connection):
    tmp, hosts = broken_fleet
    hosts = {name: dict(v, ansible_connection=connection) for name, v in hosts.items()}
    inventory = write_inventory(tmp / f"inv-{connection}.yml", hosts)
    started = time.monotonic()
    code, everything, output = run_fleetready(
        [
            "checks",
            str(DATA / "many_fact_checks.py"),
            "--inventory",
            inventory,
            "--ssh-config",
            str(tmp / "ssh_config"),
            "--host-timeout",
            "4",
        ]
    )
    elapsed = time.monotonic() - started
    assert code == 1, output
    results = by_host(everything)
    assert results["good"]["outcome"] == "pass"
    for name, reasons in EXPECTED_REASONS.items():
        assert results[name]["outcome"] == "unreachable", (name, results[name])
        assert results[name]["reason"] in reasons, (name, results[name])
    # Every check of an unreachable host is unreachable, not only the first one.
    hung = [r for r in everything["results"] if r["host"] == "hung" and r["outcome"] != "skipped"]
    assert len(hung) >= 7 and {r["outcome"] for r in hung} == {"unreachable"}
    assert "unreachable hosts" in output
    # The hung host is cut off by the host timeout: the run does not wait on it.
    assert elapsed < 60, f"the run took {elapsed:.0f} s"


def test_facts_are_gathered_in_one_remote_command_per_host(lab, tmp_path, monkeypatch):
    a, b = lab.host("sshd0"), lab.host("sshd1")
    inventory = write_inventory(
        tmp_path / "inv.yml", {"a-ssh": ssh_vars(a), "b-paramiko": ssh_vars(b, ansible_connection="paramiko")}
    )
    counts = tmp_path / "counts.json"
    monkeypatch.setenv("FLEETREADY_COUNT_FILE", str(counts))
    code, results, output = run_fleetready(
        [
            "checks",
            str(DATA / "many_fact_checks.py"),
            "--inventory",
            inventory,
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-p",
            "tests.plugins.count_commands",
        ]
    )
    # Every check of the suite runs (light hosts fail some: no firewall there), yet each host
    # is asked once.
    assert code in (0, 1), output
    per_host = [r for r in results["results"] if r["host"] == "a-ssh" and r["outcome"] != "skipped"]
    assert len(per_host) >= 8
    assert json.loads(counts.read_text()) == {a.address: 1, b.address: 1}


class Listener:
    """A TCP port that counts connections: proves no host was contacted."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.sock.accept()
            self.accepted += 1
            conn.close()


# {host} places a host that counts connections, proving no host is contacted.
HOST = "h:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"
BAD_INPUTS = {
    "inventory syntax": ("inv.yml", "all:\n  hosts: [unclosed\n", "inv.yml:3: while parsing a flow sequence"),
    "unknown group": (
        "inv.ini",
        "[web:children]\nnosuch\n[web]\nh ansible_host=127.0.0.1 ansible_port={port}\n",
        "inv.ini:2: Section [web:children] includes undefined group: nosuch",
    ),
    "wrong type": ("inv.yml", "all:\n  hosts:\n    h:\n      ansible_port: many\n", "ansible_port"),
    "profile wrong type": (
        "inv.yml",
        "all:\n  hosts:\n    " + HOST + "      fleetready_policy:\n"
        "        firewall:\n          allowed_tcp_ports: [http]\n",
        "inv.yml:8: fleetready_policy.firewall.allowed_tcp_ports[0]",
    ),
    "profile missing key": (
        "inv.yml",
        "all:\n  hosts:\n    " + HOST + "      fleetready_policy:\n"
        "        backups:\n          sources:\n            - name: db\n"
        "              kind: path\n              path: /b\n",
        "max_age_hours",
    ),
    "unknown profile": ("inv.yml", "all:\n  hosts:\n    " + HOST + "      fleetready_profile: nosuch\n", "nosuch"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_stops_the_run_before_any_host_is_contacted(tmp_path, case):
    filename, text, expected = BAD_INPUTS[case]
    listener = Listener()
    path = tmp_path / filename
    path.write_text(text.replace("{port}", str(listener.port)))
    code, results, output = run_fleetready(["--inventory", str(path)])
    assert code == 4, output
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and expected in errors[0] and str(path) in errors[0], output
    assert "Traceback" not in output
    assert listener.accepted == 0


def test_testinfra_hosts_uris_work_as_an_inventory(lab):
    a, b = lab.host("sshd0"), lab.host("sshd1")
    code, results, output = run_fleetready(
        [
            "--hosts",
            f"ssh://root@{a.address},paramiko://root@{b.address},docker://{b.container}",
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-k",
            "FR-HOST-01",
        ]
    )
    assert code == 0, output
    results = by_host(results)
    assert sorted(results) == sorted([a.address, b.address, b.container])
    assert {r["outcome"] for r in results.values()} == {"pass"}
