"""FR-FW-01 and FR-FW-02 against real lab hosts: one lab, one fleetready run."""

import pytest

from tests.conftest import run_fleetready
from tests.labrun import host_vars, lab_inventory

HOSTS = {
    "sound": "sound",
    "fwoff": "firewall_off",
    "fwopen": "firewall_open_port",
    "notsaved": "sound",
    "iptsaved": "sound",
    # input policy accept, the deny (or none) in a chain input jumps to, live and saved
    "nftchain": "sound",
    "nftopen": "sound",
    "iptchain": "sound",
    "iptopen": "sound",
    "iptnftchain": "sound",
}
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
# As firewall managers and hand-written files put it: input only jumps to the chains that
# filter. Written to /etc/nftables.conf and loaded.
NFT_IN_CHAIN = """#!/usr/sbin/nft -f
table inet filter
delete table inet filter
table inet filter {{
  chain allowed {{
    iif lo accept
    ct state established,related accept
    meta l4proto {{ icmp, ipv6-icmp }} accept
    tcp dport {{ 22, 80, 443 }} accept
  }}
  chain filters {{
    jump allowed
{deny}  }}
  chain input {{
    type filter hook input priority filter; policy accept;
    counter jump filters
  }}
}}
"""


def nft_in_chain(deny):
    return NFT_IN_CHAIN.format(deny="    counter reject with icmpx type admin-prohibited\n" if deny else "")


def iptables_in_chain(backend, deny):
    """Shell putting INPUT's filtering (policy ACCEPT) in a user chain of iptables-BACKEND,
    saved for netfilter-persistent; table inet filter and nftables.conf go."""
    lines = ["set -e", "nft delete table inet filter", "rm /etc/nftables.conf", "mkdir -p /etc/iptables"]
    for tool, saved in (("iptables", "rules.v4"), ("ip6tables", "rules.v6")):
        rules = [
            "-N FILTERS",
            "-A FILTERS -i lo -j ACCEPT",
            "-A FILTERS -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
            "-A FILTERS -p tcp -m multiport --dports 22,80,443 -j ACCEPT",
            *(["-A FILTERS -j REJECT"] if deny else []),
            "-A INPUT -m comment --comment 'fleetready lab' -j FILTERS",
        ]
        lines += [f"{tool}-{backend} {rule}" for rule in rules] + [f"{tool}-{backend}-save >/etc/iptables/{saved}"]
    return "\n".join(lines)


def probed_from(lab, name, prober):
    """Another inventory name for lab host `name`, probed from inventory host `prober`."""
    entry = host_vars(lab, name)
    return dict(entry, fleetready_policy={"firewall": {"probe_from": prober}})


@pytest.fixture(scope="module")
def results(make_lab, tmp_path_factory):
    lab = make_lab(sshd=1, full=HOSTS)
    lab.host("notsaved").check("rm /etc/nftables.conf")
    iptsaved = lab.host("iptsaved")
    iptsaved.check(
        "rm /etc/nftables.conf && mkdir -p /var/lib/iptables && cat >/var/lib/iptables/rules-save", input=IPTABLES_SAVE
    )
    for name, deny in (("nftchain", True), ("nftopen", False)):
        lab.host(name).check("cat >/etc/nftables.conf && nft -f /etc/nftables.conf", input=nft_in_chain(deny))
    # legacy: read live from iptables-legacy-save; iptables-nft: from nft, which shows it as xt
    for name, backend, deny in (
        ("iptchain", "legacy", True),
        ("iptopen", "legacy", False),
        ("iptnftchain", "nft", True),
    ):
        lab.host(name).check(iptables_in_chain(backend, deny))
    elsewhere = {"required": False, "reason": "filtered by the lab's security group"}
    inventory = lab_inventory(
        lab,
        tmp_path_factory.mktemp("firewall") / "inventory.yml",
        {
            "sound-via-sshd0": probed_from(lab, "sound", "sshd0"),
            "fwopen-via-sshd0": probed_from(lab, "fwopen", "sshd0"),
            "fwopen-via-nohost": probed_from(lab, "fwopen", "nosuchhost"),
            "fwoff-elsewhere": dict(host_vars(lab, "fwoff"), fleetready_policy={"firewall": elsewhere}),
            "fwoff-elsewhere-probed": dict(
                host_vars(lab, "fwoff"), fleetready_policy={"firewall": dict(elsewhere, probe=True)}
            ),
        },
    )
    code, results, output = run_fleetready(
        ["--inventory", inventory, "--ssh-config", str(lab.files["ssh_config"]), "-k", "FR-IMG or FR-FW"]
    )
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
    assert "port 9100 reachable from outside (not allowed)" in reach["message"]  # lab metrics


@pytest.mark.parametrize("host", ["fwopen", "fwopen-via-sshd0"])
def test_open_port_reachable_from_outside(results, host):
    assert results[host, "FR-FW-01"]["outcome"] == "pass"  # default-deny, but 2379 let in
    reach = results[host, "FR-FW-02"]
    assert reach["outcome"] == "fail"
    assert reach["message"] == "port 2379 reachable from outside (not allowed)"
    assert reach["evidence"]["port_probes"]["4001"] == "filtered"  # listening, but firewalled


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


@pytest.mark.parametrize("host", ["nftchain", "iptchain", "iptnftchain"])
def test_deny_in_a_chain_input_jumps_to_passes(results, host):
    # FR-FW-02 shows the kernel agrees: 9100 listens and is not let in.
    for control in ("FR-FW-01", "FR-FW-02"):
        assert results[host, control]["outcome"] == "pass", results[host, control]


@pytest.mark.parametrize("host, saved", [("nftopen", "/etc/nftables.conf"), ("iptopen", "/etc/iptables/rules.v4")])
def test_chain_that_denies_nothing_fails(results, host, saved):
    config = results[host, "FR-FW-01"]
    assert config["outcome"] == "fail"
    assert "no default-deny input chain for IPv4" in config["message"]
    assert f"{saved} does not default-deny IPv4" in config["message"]
    reach = results[host, "FR-FW-02"]
    assert reach["outcome"] == "fail" and "port 9100 reachable from outside (not allowed)" in reach["message"]


def test_firewall_not_required_skips_with_its_reason(results):
    for control in ("FR-FW-01", "FR-FW-02"):
        result = results["fwoff-elsewhere", control]
        assert result["outcome"] == "skipped", result
        assert result["message"] == "not applicable: host firewall not required: filtered by the lab's security group"


def test_firewall_not_required_may_still_be_probed(results):
    assert results["fwoff-elsewhere-probed", "FR-FW-01"]["outcome"] == "skipped"
    reach = results["fwoff-elsewhere-probed", "FR-FW-02"]
    assert reach["outcome"] == "fail"
    assert "port 9100 reachable from outside (not allowed)" in reach["message"]
