"""Firewall active: input is denied by default, the ruleset survives a reboot (FR-FW-01), and
from outside only the allowed ports answer (FR-FW-02).

Only the input hook is judged: a Docker engine writes its own rules, so a non-empty ruleset
proves nothing. IPv4 must be default-deny, IPv6 too when the host has an IPv6 address
beyond loopback.

"Survives a reboot": a saved ruleset in a standard place (/etc/nftables.conf, iptables-save
files of netfilter-persistent, iptables-restore.service, iptables.service) that itself
default-denies; under systemd, the unit that restores it must also be enabled. Hosts
without systemd (containers, the lab) cannot be asked what runs at boot, so there the
saved file in the place its init script reads is the evidence.

A host filtered by something not on it (a cloud security group, an appliance) has a policy
with `firewall.required: false` and a reason: both checks are skipped with that reason,
unless `firewall.probe: true` asks FR-FW-02 to probe its ports from outside anyway.
"""

import pytest

from fleetready.judge.firewall import (
    FirewallUnknown,
    family_label,
    needed_families,
    not_required,
    saved_problem,
)
from fleetready.probe.firewall_probe import ProbeError, probe_plan, probed


@pytest.mark.control(id="FR-FW-01", severity="critical", requirement="firewall default-deny, persisted")
def test_firewall_configured(policy, facts):
    if not policy["firewall"]["required"]:
        pytest.skip(not_required(policy))
    fw = facts["firewall"]
    needed = needed_families(fw)
    findings = []
    missing_live = [f for f in needed if f not in fw["live_deny"]]
    if missing_live and not fw["live_errors"] and fw["tools_absent"] and not fw["live_deny"]:
        # Neither nft nor iptables exists: nothing on the host can be filtering its input.
        findings.append("no firewall: neither nft nor iptables is installed")
    elif missing_live and fw["live_errors"]:
        raise FirewallUnknown(
            "could not read the live ruleset: "
            + "; ".join(f"{source}: {message}" for source, message in sorted(fw["live_errors"].items()))
        )
    findings += [
        f"no default-deny input chain for {family_label(f)} (input policy accept, no catch-all drop/reject)"
        for f in missing_live
    ]

    problems = {path: saved_problem(path, entry, fw["systemd"]) for path, entry in fw["saved"].items()}
    persisted = {f for path, entry in fw["saved"].items() if not problems[path] for f in entry["deny"]}
    missing_saved = [f for f in needed if f not in persisted]
    if missing_saved and any(e["error"] for e in fw["saved"].values()):
        raise FirewallUnknown("could not evaluate the saved ruleset: " + "; ".join(p for p in problems.values() if p))
    for family in missing_saved:
        why = [p for p in problems.values() if p] + [
            f"{path} does not default-deny {family_label(family)}"
            for path, entry in fw["saved"].items()
            if not problems[path] and family not in entry["deny"]
        ]
        findings.append(
            f"ruleset not persisted for {family_label(family)}: " + ("; ".join(why) if why else "no saved ruleset")
        )
    assert not findings, "firewall not active: " + "; ".join(findings)


@pytest.mark.control(id="FR-FW-02", severity="critical", requirement="only allowed ports reachable")
def test_only_allowed_ports_reachable(policy, facts, port_probes, findings, request):
    if not probed(policy):
        pytest.skip(not_required(policy))
    must_close, must_open = probe_plan(policy, facts["firewall"]["listening"])
    if not port_probes:
        pytest.skip("not applicable: no ports to probe (nothing listens, no closed_tcp_ports)")
    request.node.user_properties.append(("port_probes", port_probes))
    answered = [p for p, v in port_probes.items() if v != "filtered"]
    if not must_open and not answered:
        # Nothing showed the probes reach the host at all: silence is no proof of a firewall.
        raise ProbeError(
            f"no probed port answered ({', '.join(map(str, sorted(port_probes)))}) and no "
            "allowed port listens to show the host is reachable from the probe point"
        )
    for p in sorted(must_close):
        if port_probes[p] == "open":
            findings.add(p, "reachable_not_allowed", f"port {p} reachable from outside (not allowed)")
    for p in sorted(must_open):
        if port_probes[p] != "open":
            findings.add(p, "allowed_not_reachable", f"allowed port {p} not reachable ({port_probes[p]})")
    findings.fail_on()
