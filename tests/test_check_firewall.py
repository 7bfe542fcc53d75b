"""FR-FW-01 and FR-FW-02 against real lab hosts: one lab, one fleetready run."""

import pytest

from tests.conftest import run_fleetready
from tests.labrun import host_vars, lab_inventory

HOSTS = {"sound": "sound", "fwoff": "firewall_off", "fwopen": "firewall_open_port",
         "notsaved": "sound", "iptsaved": "sound"}
# What Deis's firewall script saves for iptables-restore.service (shared/deis-v1-facts.md).
IPTABLES_SAVE = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:Firewall-INPUT - [0:0]
-A INPUT -j Firewall-INPUT
-A Firewall-INPUT -i lo -j ACCEPT
-A Firewall-INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A Firewall-INPUT -j REJECT --reject-with icmp-host-prohibited
COMMIT
"""


def probed_from(lab, name, prober):
    """Another inventory name for lab host `name`, probed from inventory host `prober`."""
    entry = host_vars(lab, name)
    return dict(entry, fleetready_policy={"firewall": {"probe_from": prober}})


@pytest.fixture(scope="module")
def results(make_lab, tmp_path_factory):
    lab = make_lab(sshd=1, full=HOSTS)
    lab.host("notsaved").check("rm /etc/nftables.conf")
    iptsaved = lab.host("iptsaved")
    iptsaved.check("rm /etc/nftables.conf && mkdir -p /var/lib/iptables && cat >/var/lib/iptables/rules-save",
                   input=IPTABLES_SAVE)
    inventory = lab_inventory(lab, tmp_path_factory.mktemp("firewall") / "inventory.yml", {
        "sound-via-sshd0": probed_from(lab, "sound", "sshd0"),
        "fwopen-via-sshd0": probed_from(lab, "fwopen", "sshd0"),
        "fwopen-via-nohost": probed_from(lab, "fwopen", "nosuchhost"),
    })
    code, results, output = run_fleetready(["--inventory", inventory, "--ssh-config", str(lab.files["ssh_config"]),
                                            "-k", "FR-IMG or FR-FW"])
    assert results is not None, output
    return {(r["host"], r["control"]): r for r in results["results"] if r["control"] in ("FR-FW-01", "FR-FW-02")}


@pytest.mark.parametrize("host", ["sound", "iptsaved", "sound-via-sshd0"])
def test_sound_hosts_pass(results, host):
    for control in ("FR-FW-01", "FR-FW-02"):
        assert results[host, control]["outcome"] == "pass", results[host, control]


def test_firewall_off_fails_both(results):
    config = results["fwoff", "FR-FW-01"]
    assert config["outcome"] == "fail"
    assert "no default-deny input chain for IPv4" in config["message"]
    assert "ruleset not persisted for IPv4: /etc/nftables.conf does not default-deny IPv4" in config["message"]
    reach = results["fwoff", "FR-FW-02"]
    assert reach["outcome"] == "fail"
    assert "port 9100 reachable from outside (not allowed)" in reach["message"]   # lab metrics


@pytest.mark.parametrize("host", ["fwopen", "fwopen-via-sshd0"])
def test_open_port_reachable_from_outside(results, host):
    assert results[host, "FR-FW-01"]["outcome"] == "pass"   # default-deny, but 2379 let in
    reach = results[host, "FR-FW-02"]
    assert reach["outcome"] == "fail"
    assert reach["message"] == "port 2379 reachable from outside (not allowed)"
    assert reach["evidence"]["port_probes"]["4001"] == "filtered"   # listening, but firewalled


def test_ruleset_not_persisted_fails(results):
    config = results["notsaved", "FR-FW-01"]
    assert config["outcome"] == "fail"
    assert config["message"] == "firewall not active: ruleset not persisted for IPv4: no saved ruleset"
    assert results["notsaved", "FR-FW-02"]["outcome"] == "pass"


def test_probe_from_a_host_not_in_the_run_is_an_error(results):
    result = results["fwopen-via-nohost", "FR-FW-02"]
    assert result["outcome"] == "error"
    assert "nosuchhost" in result["message"]


def test_a_host_without_any_firewall_tool_fails(results):
    # sshd0 is a light host: neither nft nor iptables is installed.
    result = results["sshd0", "FR-FW-01"]
    assert result["outcome"] == "fail", result
    assert "neither nft nor iptables is installed" in result["message"]
