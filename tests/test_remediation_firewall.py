"""Firewall remediation against real lab hosts, in one whole-fleet apply: a good ruleset is
confirmed and persisted with the host's other tables kept and boot equal to runtime; one
that shuts the management port is rolled back by the host itself; a ruleset that would block
what a host serves (its metrics to the controller, the log drain of every other host) is a
conflict, never applied. And the judge of those rulesets, nft_verdict, on nft's own JSON."""

import json
import socket
import subprocess

import pytest

from remediations import audit
from remediations.fix_firewall import OWN_TABLE
from remediations.nft_verdict import verdict
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
# Rules and tables the host had before, which the fix does not own.
EXTRAS = (
    "nft add chain inet filter forward '{ type filter hook forward priority 0; policy drop; }'"
    " && nft insert rule inet filter input ct state invalid drop"
    " && nft add table ip6 filter"
    " && nft add chain ip6 filter input '{ type filter hook input priority 0; policy accept; }'"
    " && nft add rule ip6 filter input ct state invalid drop"
)
BOOT_VS_LIVE = """for t in $(nft list tables | tr ' ' _); do t=$(echo "$t" | tr _ ' ')
  nft -s list $t 2>&1 | grep -q 'managed by iptables-nft' || nft -s list $t; done >/tmp/live.nft
unshare -n sh -c 'nft -f /etc/nftables.conf && nft -s list ruleset' >/tmp/boot.nft
diff /tmp/boot.nft /tmp/live.nft && echo same"""
# What the fix could change on a host it must leave alone.
SNAPSHOT = "nft -s list ruleset 2>&1; cat /etc/nftables.conf"


def fresh_ssh(lab, name):
    """A new ssh connection (no ControlMaster): what an operator would need after the change."""
    return subprocess.run(
        [
            "ssh",
            "-F",
            str(lab.files["ssh_config"]),
            "-o",
            "ControlMaster=no",
            "-o",
            "ControlPath=none",
            "-o",
            "ConnectTimeout=5",
            lab.host(name).address,
            "true",
        ],
        capture_output=True,
        timeout=30,
    ).returncode


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(
        full={
            "good": "firewall_off",
            "cutoff": "firewall_off",
            "bare": "firewall_off",
            "metrics": "firewall_off",
            "extras": "firewall_off",
            "unsaved": "sound",
        }
    )
    lab.host("bare").check("nft delete table inet filter")  # no filter table at all
    lab.host("extras").check(EXTRAS)
    lab.host("unsaved").check("rm /etc/nftables.conf")  # default-deny, but only until a reboot
    tmp = tmp_path_factory.mktemp("remediate-firewall")
    # `metrics` serves node_up on 9100 to Prometheus on the controller; `logs` (the lab's
    # receiver, default profile: ssh only) is the drain of every other host.
    lab_inventory(
        lab,
        tmp / "inventory.yml",
        policies={
            "cutoff": {"firewall": {"ruleset": CUTS_SSH}},
            "metrics": {"monitoring": {"scrape_from": "controller"}},
        },
    )
    before = {name: lab.host(name).check(SNAPSHOT) for name in ("metrics", "logs")}
    code, results, output = run_fleetready(
        [
            "--inventory",
            str(tmp / "inventory.yml"),
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-k",
            "FR-FW",
            "--remediate=apply",
            "--remediate-rollback-seconds",
            str(WINDOW),
            "--remediate-max-hosts",
            "10",
            "--remediation-log",
            str(tmp / "audit.jsonl"),
        ]
    )
    assert results is not None, output
    return (
        lab,
        {(r["host"], r["control"]): r for r in results["results"]},
        before,
        output,
        audit.read(tmp / "audit.jsonl"),
    )


def test_good_ruleset_confirmed_persisted_and_passes(run):
    lab, results, *_ = run
    result = results["good", "FR-FW-01"]
    assert result["outcome"] == "pass", result
    record = result["remediation"]
    assert record["result"] == "fixed" and record["disruptive"]
    confirm = record["commands"][-1]
    assert confirm["connection"] == "fresh" and confirm["output"].endswith("confirmed")
    host = lab.host("good")
    assert "fleetready remediation" in host.check("cat /etc/nftables.conf")
    assert "policy drop" in host.check(f"nft list table {OWN_TABLE}")
    # Docker's own tables were left alone, and the host's own table inet filter too.
    assert {"table ip nat", "table inet filter"} <= set(host.check("nft list tables").splitlines())
    assert results["good", "FR-FW-02"]["outcome"] == "pass"


def test_other_chains_and_tables_are_kept_and_boot_equals_runtime(run):
    lab, results, *_ = run
    record = results["extras", "FR-FW-01"]["remediation"]
    assert record["result"] == "fixed", record
    host = lab.host("extras")
    live = host.check("nft list ruleset")
    assert "chain forward" in live and "ct state invalid drop" in live and "table ip6 filter" in live
    assert host.check(BOOT_VS_LIVE).strip() == "same"
    # The plan said what the boot file gains (the running ip6 filter) and removed nothing but
    # the old file's own lines, replaced by what runs.
    [persist] = [s for s in record["plan"] if s.get("diff", "").startswith("--- /etc/nftables.conf")]
    assert "+table ip6 filter {" in persist["diff"] and "+\tchain forward {" in persist["diff"]


def test_ruleset_cutting_ssh_is_rolled_back(run):
    lab, results, *_ = run
    result = results["cutoff", "FR-FW-01"]
    assert result["outcome"] == "fail"
    record = result["remediation"]
    assert record["result"] == "rolled back", record
    assert record["message"].startswith(f"not confirmed within {WINDOW} s (no fresh connection:")
    assert record["message"].endswith("the host restored table inet filter by itself")
    assert record["commands"][-2]["rc"] is None  # the fresh connection was refused
    host = lab.host("cutoff")
    assert "policy accept" in host.check("nft list table inet filter")
    assert "fleetready remediation" not in host.check("cat /etc/nftables.conf")
    assert fresh_ssh(lab, "cutoff") == 0


def test_host_without_a_filter_table_gets_one(run):
    lab, results, *_ = run
    assert results["bare", "FR-FW-01"]["outcome"] == "pass", results["bare", "FR-FW-01"]
    assert results["bare", "FR-FW-01"]["remediation"]["result"] == "fixed"
    assert "policy drop" in lab.host("bare").check(f"nft list table {OWN_TABLE}")


def test_unsaved_ruleset_is_persisted_as_it_runs_and_nothing_loaded(run):
    lab, results, *_ = run
    record = results["unsaved", "FR-FW-01"]["remediation"]
    assert record["result"] == "fixed", record
    assert [s["why"] for s in record["plan"]] == [
        "stage the ruleset and the boot file; nft checks both",
        "write /etc/nftables.conf (the previous one kept as /var/lib/fleetready/firewall/boot.before)",
    ]
    host = lab.host("unsaved")
    assert f"table {OWN_TABLE}" not in host.check("nft list tables")
    assert host.check(BOOT_VS_LIVE).strip() == "same"


@pytest.mark.parametrize(
    "host, port, users",
    [
        ("metrics", 9100, ["metrics scraped from controller (monitoring.metrics_url http://127.0.0.1:9100/metrics)"]),
        (
            "logs",
            514,
            [
                f"log drain of {h} (its logging.drain logs.lab:514/tcp)"
                for h in ("bare", "cutoff", "extras", "good", "metrics", "unsaved")
            ],
        ),  # run order
    ],
)
def test_ruleset_blocking_what_the_host_serves_is_a_conflict(run, host, port, users):
    lab, results, before, *_ = run
    record = results[host, "FR-FW-01"]["remediation"]
    assert record["result"] == "conflict" and record["commands"] == [], record
    assert record["conflicts"] == [
        {"port": port, "protocol": "tcp", "used_by": users, "allow_with": "firewall.allowed_tcp_ports"}
    ]
    more = f" and {len(users) - 1} more" if len(users) > 1 else ""
    assert record["message"] == (
        f"not applied: the ruleset would block {port}/tcp, used by {users[0]}{more}:"
        " allow it with firewall.allowed_tcp_ports"
    )
    assert record["plan"], record  # what it would have run, for the operator to see
    assert lab.host(host).check(SNAPSHOT) == before[host]
    socket.create_connection((lab.host(host).address, port), timeout=3).close()  # still served
    # One plan per host: FR-FW-02 refers to FR-FW-01's instead of repeating it.
    second = results[host, "FR-FW-02"]["remediation"]
    assert (second["result"], second["same_as"], second["plan"]) == ("conflict", "FR-FW-01", [])


def test_start_up_warns_of_a_policy_blocking_its_own_metrics(run):
    output = run[3]
    assert (
        "warning: policy of metrics: port 9100/tcp, metrics scraped from controller (monitoring.metrics_url"
        " http://127.0.0.1:9100/metrics), is in firewall.closed_tcp_ports"
    ) in output


def test_every_result_but_fixed_says_why_in_one_line(run):
    records = run[4]
    assert {r["host"]: r["result"] for r in records} == {
        "good": "fixed",
        "extras": "fixed",
        "bare": "fixed",
        "unsaved": "fixed",
        "cutoff": "rolled back",
        "metrics": "conflict",
        "logs": "conflict",
    }
    for r in records:
        assert (r["result"] == "fixed") == (r["message"] == "") and "\n" not in r["message"], r


RULESET = """table inet t {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    iifname "eth0" tcp dport 9 accept
    ct state invalid drop
    ct state established,related accept
    ct state new tcp dport 5 accept
    ip saddr { 10.0.0.0/8, 192.168.1.1 } tcp dport 22 accept
    ip saddr 172.16.0.1-172.16.0.9 udp dport 514 accept
    tcp dport { 80, 8000-8100 } accept
    tcp dport 7 reject with tcp reset
    tcp dport != 8 counter jump sub
    limit rate 1/second accept
  }
  chain sub {
    tcp dport 99 return
    tcp dport 98 accept
    drop
  }
}
"""


@pytest.fixture(scope="module")
def nft_json(run):
    """RULESET as nft itself lists it, loaded into a fresh network namespace on a lab host."""
    return json.loads(
        run[0].host("good").check("unshare -n sh -c 'nft -f /dev/stdin && nft -j list ruleset'", input=RULESET)
    )


@pytest.mark.parametrize(
    "protocol, port, source, expected",
    [
        ("tcp", 5, None, "accept"),
        ("tcp", 9, None, "unknown"),  # depends on the interface it came in on
        ("tcp", 22, "10.1.2.3", "accept"),
        ("tcp", 22, "11.1.2.3", "drop"),  # to sub, which drops it
        ("tcp", 22, None, "unknown"),  # depends on who connects
        ("udp", 514, "172.16.0.5", "accept"),
        ("udp", 514, "172.16.0.50", "unknown"),  # only the rate limit could let it in
        ("tcp", 8050, None, "accept"),
        ("tcp", 7, None, "drop"),
        ("tcp", 98, None, "accept"),
        ("tcp", 99, None, "unknown"),  # back from sub, then the rate limit
        ("tcp", 1234, None, "drop"),
    ],
)
def test_verdict_on_nfts_own_json(nft_json, protocol, port, source, expected):
    assert verdict(nft_json, protocol, port, source) == expected
