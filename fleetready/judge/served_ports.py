"""The ports a host's own policy says it serves to others: its metrics endpoint (unless an
agent on the host scrapes it) and its TLS endpoints. The firewall remediation must never
block them (remediations/firewall_needs.py adds what other hosts need of it); a policy whose
own firewall.allowed_tcp_ports leaves one out contradicts itself, which the run says at
start-up, before any host is contacted (fixtures/served_ports.py).
"""

import urllib.parse
from dataclasses import dataclass

from fleetready.probe.metrics_probe import is_loopback, port_of


@dataclass(frozen=True)
class Served:
    protocol: str
    port: int
    used_by: str  # who connects, for the operator
    point: str | None  # where from: "controller", an inventory host name, or None (anyone)


def served(target, policy):
    own_names = {target.name.lower(), target.address.lower()}
    found = []
    monitoring = policy["monitoring"]
    url = monitoring["metrics_url"]
    if url and monitoring["scrape_from"] != "host":
        hostname = urllib.parse.urlsplit(url).hostname or ""
        if is_loopback(hostname) or hostname.lower() in own_names:
            found.append(
                Served(
                    "tcp",
                    port_of(url),
                    f"metrics scraped from {monitoring['scrape_from']} (monitoring.metrics_url {url})",
                    monitoring["scrape_from"],
                )
            )
    for endpoint in policy["tls"]["endpoints"]:
        if endpoint["host"] is None or endpoint["host"].lower() in own_names:
            where = f"TLS endpoint {endpoint['name']} (tls.endpoints)"
            found.append(Served("tcp", endpoint["port"], where, "controller"))
            if endpoint["http_port"]:
                found.append(Served("tcp", endpoint["http_port"], f"HTTP redirect of {where}", "controller"))
    return found


def contradictions(target, policy):
    """Why the host's policy blocks a port it serves, one line each."""
    fw = policy["firewall"]
    if not fw["required"]:
        return []
    lines = []
    for s in served(target, policy):
        if s.port in fw["closed_tcp_ports"]:
            lines.append(f"port {s.port}/tcp, {s.used_by}, is in firewall.closed_tcp_ports")
        elif s.port not in fw["allowed_tcp_ports"]:
            lines.append(f"port {s.port}/tcp, {s.used_by}, is not in firewall.allowed_tcp_ports")
    return lines
