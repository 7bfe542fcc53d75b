"""Whether a host's forwards reach its log drain, and what a lost canary means.

Rules (judging facts), used by the check and by its remediation."""

from collections.abc import Mapping
from typing import Any

from fleetready.gather.facts import Facts
from fleetready.gather.facts_logging import Forward, configured_forwards


class DrainError(Exception):
    """The forwarding could not be judged: the check ends as `error`, never `pass`."""


def _addr(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def to_drain(forward: Forward, drain: Mapping[str, Any], drain_addresses: list[str]) -> bool:
    """The forward goes to the drain's host (by name, or an address the name resolves to on the host) and port."""
    same_host = forward["host"].lower() == drain["host"].lower() or forward["host"] in drain_addresses
    return same_host and forward["port"] == drain["port"]


def drain_finding(policy: Mapping[str, Any], facts: Facts) -> str | None:
    """What keeps the host from draining its logs to the policy's drain, or None."""
    drain, source = policy["logging"]["drain"], policy["logging"]["source"]
    gathered = facts["logging"]
    forwards = configured_forwards(source, facts)
    if not forwards:
        return "no log forwarding configured"
    drain_at = _addr(drain["host"], drain["port"])
    matching = [f for f in forwards if to_drain(f, drain, gathered["drain_addresses"])]
    if not matching:
        targets = dict.fromkeys(_addr(f["host"], f["port"]) for f in forwards)
        return f"forwards to {', '.join(targets)}, policy drain is {drain_at}"
    same_protocol = [f for f in matching if f["protocol"] == drain["protocol"]]
    if not same_protocol:
        return f"forwards to {drain_at} over {matching[0]['protocol']}, policy drain is {drain['protocol']}"
    matching = same_protocol
    if all(f["via"] == "rsyslog" for f in matching) and not gathered["rsyslogd_running"]:
        return f"rsyslog forwards to {drain_at} but rsyslogd is not running"
    if drain["protocol"] == "udp":
        # No connect can prove a UDP drain; it must at least resolve (FR-LOG-02 proves delivery).
        return None if gathered["drain_addresses"] else f"drain {drain_at} does not resolve on the host"
    if gathered["reach"] == "untested":
        raise DrainError(f"cannot test drain {drain_at} from the host: neither bash nor nc there")
    return None if gathered["reach"] == "0" else f"drain {drain_at} not reachable from the host"


def canary_finding(path, canary):
    """Which way out lost its canary, and where it was expected."""
    where = f"{canary['receiver_log']} on {canary['receiver']}"
    if path.get("problem"):
        return f"canary via {path['path']} not delivered to {where}: {path['problem']}"
    return f"canary via {path['path']} not received in {where} within {canary['deadline']:g} s"
