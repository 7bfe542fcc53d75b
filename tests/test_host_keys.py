"""Host keys as Ansible checks them: strict by default, but what the inventory (ssh args,
ansible_host_key_checking) or the user's ssh config sets explicitly wins, over OpenSSH and
paramiko alike; a refused key says how to fix it, in one line."""

import pytest
import yaml

from fleetready.transport.connections import ssh_options
from tests.conftest import run_fleetready
from tests.test_foundation import ssh_vars

RELAX = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
CONNECTIONS = ["ssh", "paramiko"]


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(sshd=1)


def run_host_check(lab, tmp_path, connection, extra_vars=None, args=()):
    """FR-HOST-01 on the lab host, with no lab ssh_config (so no lab known_hosts) unless args
    give one."""
    hosts = {"h": ssh_vars(lab.host("sshd0"), ansible_connection=connection, **(extra_vars or {}))}
    inventory = tmp_path / f"inv-{connection}.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    code, results, output = run_fleetready(["--inventory", str(inventory), "-k", "FR-HOST-01", *args])
    (result,) = [r for r in results["results"] if r["control"] == "FR-HOST-01"]
    return result, output


@pytest.mark.parametrize("connection", CONNECTIONS)
def test_an_unknown_host_key_is_refused_with_how_to_fix_it(lab, tmp_path, connection):
    result, output = run_host_check(lab, tmp_path, connection)
    assert (result["outcome"], result["reason"]) == ("unreachable", "host key"), result
    message = result["message"]
    assert "known_hosts" in message and "ansible_host_key_checking" in message
    assert "--insecure-host-keys" in message and "\n" not in message


@pytest.mark.parametrize("connection", CONNECTIONS)
@pytest.mark.parametrize("how", ["ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_host_key_checking"])
def test_the_inventory_relaxing_host_keys_wins(lab, tmp_path, connection, how):
    value = False if how == "ansible_host_key_checking" else RELAX
    result, output = run_host_check(lab, tmp_path, connection, {how: value})
    assert result["outcome"] == "pass", output


@pytest.mark.parametrize("connection", CONNECTIONS)
def test_the_ssh_config_relaxing_host_keys_wins(lab, tmp_path, connection):
    config = tmp_path / "ssh_config"
    config.write_text(f"Host {lab.host('sshd0').address}\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n")
    result, output = run_host_check(lab, tmp_path, connection, args=["--ssh-config", str(config)])
    assert result["outcome"] == "pass", output


@pytest.mark.parametrize("connection", CONNECTIONS)
def test_strict_checking_against_the_inventorys_known_hosts_file(lab, tmp_path, connection):
    known = f"-o UserKnownHostsFile={lab.files['known_hosts']}"
    result, output = run_host_check(lab, tmp_path, connection, {"ansible_ssh_common_args": known})
    assert result["outcome"] == "pass", output
    wrong = tmp_path / "other_known_hosts"
    wrong.write_text(
        f"{lab.host('sshd0').address} ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
    )
    result, _ = run_host_check(lab, tmp_path, connection, {"ansible_ssh_common_args": f"-o UserKnownHostsFile={wrong}"})
    assert (result["outcome"], result["reason"]) == ("unreachable", "host key"), result


def test_ssh_options_are_read_as_openssh_reads_them():
    args = [
        "-o",
        "StrictHostKeyChecking=no",
        "-oUserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout 5",
        "-o",
        "StrictHostKeyChecking=yes",
        "-v",
    ]
    assert ssh_options(args) == {
        "stricthostkeychecking": "no",
        "userknownhostsfile": "/dev/null",
        "connecttimeout": "5",
    }
