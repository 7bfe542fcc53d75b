"""What must still reach a host after the firewall fix, and from where: the ports its own
policy serves (fleetready/judge/served_ports.py: metrics, TLS), being the log drain of other hosts
(their logging.drain resolves to it where they resolve it, or their forwards name it), and
the probe peer's access (firewall.probe_from: the ports FR-FW-02 expects to answer).

Other hosts are those of the run (their facts say where their drain name resolves) and the
rest of the inventory (matched by name, address, or the controller's resolution of the name).
Sources are addresses as the host sees them: for the controller, the source address it
connects from. nft_verdict judges the fix's ruleset for each need.
"""

import functools
import socket
from dataclasses import dataclass

from fleetready.config.errors import ConfigError
from fleetready.config.profiles import resolve_policy
from fleetready.gather.facts import FactError
from fleetready.judge.served_ports import served
from fleetready.probe.firewall_probe import probe_plan
from fleetready.transport.unreachable import HostUnreachable


@dataclass(frozen=True)
class Need:
    protocol: str
    port: int
    used_by: str
    source: str | None  # the address connections come from; None: any


def resolve(name):
    try:
        return {info[4][0] for info in socket.getaddrinfo(name, None)}
    except (socket.gaierror, UnicodeError):
        return set()


def controller_source(address):
    """The address this controller's connections to `address` come from (no packet is sent)."""
    for family, _, _, _, sockaddr in _infos(address):
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            try:
                s.connect((sockaddr[0], 9))
                return s.getsockname()[0]
            except OSError:
                continue
    return None


def _infos(address):
    try:
        return socket.getaddrinfo(address, None, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError):
        return []


def needs(ctx, own_addresses):
    """Every Need of ctx.target; own_addresses: the addresses the host has."""
    target = ctx.target
    others = {t.name: t for t in ctx.fleet.targets if t.name != target.name}

    def source(point):
        if point == "controller":
            return controller_source(target.address)
        return _first(resolve(others[point].address)) if point in others else None

    found = [Need(s.protocol, s.port, s.used_by, source(s.point)) for s in served(target, ctx.policy)]
    mine = {target.name.lower(), target.address.lower()} | resolve(target.address) | set(own_addresses)
    for name, address, forward, resolved in drain_clients(ctx):
        if forward["host"].lower() in mine or mine & set(resolved):
            found.append(
                Need(
                    forward["protocol"],
                    forward["port"],
                    f"log drain of {name} (its"
                    f" {forward['what']} {forward['host']}:{forward['port']}/{forward['protocol']})",
                    _first(resolve(address)),
                )
            )
    probe_from = ctx.policy["firewall"]["probe_from"]
    if probe_from != "controller":
        _, must_open = probe_plan(ctx.policy, ctx.facts["firewall"]["listening"])
        found += [
            Need("tcp", port, f"FR-FW-02's probe from {probe_from} (firewall.probe_from)", source(probe_from))
            for port in sorted(must_open)
        ]
    return found


def _first(addresses):
    return min(addresses) if addresses else None


def drain_clients(ctx):
    """(host name, address, forward, addresses its host resolves to there) of every other host
    sending logs: its policy's drain, and the forwards its facts show."""
    for other in ctx.fleet.targets:
        drain = ctx.fleet.policy(other)["logging"]["drain"]
        if other.name == ctx.target.name or drain is None:
            continue
        try:
            logging = ctx.fleet.facts(other)["logging"]
        except (HostUnreachable, FactError):  # not gathered: its drain is matched by name alone
            logging = {"drain_addresses": [], "forwards": []}
        yield other.name, other.address, {**drain, "what": "logging.drain"}, logging["drain_addresses"]
        for forward in logging["forwards"]:
            yield other.name, other.address, {**forward, "what": f"{forward['via']} forward"}, []
    run = frozenset(t.name for t in ctx.fleet.targets)
    for other, drain in _outside_run(ctx.fleet.inventory, ctx.fleet.profiles_dir, run):
        yield other.name, other.address, {**drain, "what": "logging.drain"}, sorted(resolve(drain["host"]))


@functools.cache
def _outside_run(inventory, profiles_dir, run):
    """(host, drain) of the inventory's hosts outside this run (--limit) that have a drain."""
    if inventory is None:
        return ()
    found = []
    for host in inventory.hosts:
        if host.name in run:
            continue
        try:
            drain = resolve_policy(host, profiles_dir)["logging"]["drain"]
        except ConfigError:  # a policy this run never loaded: its drain is unknown
            continue
        if drain is not None:
            found.append((host, drain))
    return tuple(found)
