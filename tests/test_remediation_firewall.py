"""Firewall remediation against real lab hosts: a good ruleset is confirmed and persisted; one
that shuts the management port is rolled back by the host itself."""

import subprocess

import pytest

from tests.conftest import run_fleetready
from tests.labrun import lab_inventory

WINDOW = 8
# Refuses new ssh connections while the run's existing session (established) survives.
CUTS_SSH = """table inet filter {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    ct state established,related accept
    tcp dport { 80, 443 } accept
  }
}
"""


def fresh_ssh(lab, name):
    """A new ssh connection (no ControlMaster): what an operator would need after the change."""
    return subprocess.run(["ssh", "-F", str(lab.files["ssh_config"]), "-o", "ControlMaster=no",
                           "-o", "ControlPath=none", "-o", "ConnectTimeout=5",
                           lab.host(name).address, "true"], capture_output=True, timeout=30).returncode


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(full={"good": "firewall_off", "cutoff": "firewall_off", "bare": "firewall_off"})
    lab.host("bare").check("nft delete table inet filter")  # no filter table at all
    tmp = tmp_path_factory.mktemp("remediate-firewall")
    lab_inventory(lab, tmp / "inventory.yml", policies={"cutoff": {"firewall": {"ruleset": CUTS_SSH}}})
    code, results, output = run_fleetready([
        "--inventory", str(tmp / "inventory.yml"), "--ssh-config", str(lab.files["ssh_config"]),
        "--limit", "good:cutoff:bare", "-k", "FR-FW-01", "--remediate=apply", "--remediate-rollback-seconds", str(WINDOW),
        "--remediation-log", str(tmp / "audit.jsonl")])
    assert results is not None, output
    return lab, {r["host"]: r for r in results["results"] if r["control"] == "FR-FW-01"}


def test_good_ruleset_confirmed_persisted_and_passes(run):
    lab, results = run
    result = results["good"]
    assert result["outcome"] == "pass", result
    record = result["remediation"]
    assert record["result"] == "fixed" and record["disruptive"]
    confirm = record["commands"][-1]
    assert confirm["connection"] == "fresh" and confirm["output"].endswith("confirmed")
    host = lab.host("good")
    assert "fleetready remediation" in host.check("cat /etc/nftables.conf")
    assert "policy drop" in host.check("nft list table inet filter")
    # Docker's own tables were left alone.
    assert "table ip nat" in host.check("nft list tables")


def test_ruleset_cutting_ssh_is_rolled_back(run):
    lab, results = run
    result = results["cutoff"]
    assert result["outcome"] == "fail"
    record = result["remediation"]
    assert record["result"] == "rolled back", record
    assert record["commands"][-2]["rc"] != 0          # the fresh connection was refused
    host = lab.host("cutoff")
    assert "policy accept" in host.check("nft list table inet filter")
    assert "fleetready remediation" not in host.check("cat /etc/nftables.conf")
    assert fresh_ssh(lab, "cutoff") == 0


def test_host_without_a_filter_table_gets_one(run):
    lab, results = run
    assert results["bare"]["outcome"] == "pass", results["bare"]
    assert results["bare"]["remediation"]["result"] == "fixed"
    assert "policy drop" in lab.host("bare").check("nft list table inet filter")
