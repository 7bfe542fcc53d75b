"""Firewall rules shared by the check and its fix: address families, saved rulesets.

Rules (judging facts), used by the check and by its remediation."""

from collections.abc import Mapping
from typing import Any

from fleetready.gather.facts_firewall import FirewallFacts, SavedRuleset


class FirewallUnknown(Exception):
    """The ruleset could not be read: the check ends as `error`, never `pass`."""


def needed_families(fw: FirewallFacts) -> list[str]:
    return ["ipv4", "ipv6"] if fw["ipv6"] else ["ipv4"]


def family_label(family: str) -> str:
    return {"ipv4": "IPv4", "ipv6": "IPv6"}[family]


def not_required(policy: Mapping[str, Any]) -> str:
    return f"not applicable: host firewall not required: {policy['firewall']['reason']}"


def saved_problem(path: str, entry: SavedRuleset, systemd: bool) -> str | None:
    """Why a saved ruleset does not count as persisted, or None."""
    if entry["error"]:
        return f"{path} {entry['error']}"
    if systemd and entry["unit_state"] != "enabled":
        return f"{path}: {entry['unit']} not enabled ({entry['unit_state'] or 'unknown'})"
    return None
