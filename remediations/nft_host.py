"""A read-only survey of a host's nftables for the firewall fix's plan, and the boot file that
makes what boot loads equal what runs.

The survey (one command, nothing changed): the ruleset the fix would load, loaded alone into a
fresh network namespace and listed (as nft text and as JSON, for nft_verdict); every live
table, stateless (`nft -s`: no counter values), marked when iptables-nft manages it (Docker's
tables: their owner rebuilds them at boot, so they are never written to the boot file); the
current /etc/nftables.conf; the host's own addresses.

The boot file holds every other live table as it runs, then the fix's table, each as
`table X` / `delete table X` / its definition: loading it at boot, or again by hand on a live
host, replaces those tables alone, never Docker's (no `flush ruleset`).
"""

import base64
import difflib
import json
import shlex
from dataclasses import dataclass, field

from .base import one_line

PERSISTED = "/etc/nftables.conf"
MANAGED = "is managed by iptables-nft"  # nft's warning on such a table (nftables >= 1.0)

# $1: the ruleset the fix would load. Each line: KIND RC [FAMILY NAME] BASE64.
SURVEY = """load() { printf %s "$1" | unshare -n sh -c "nft -f /dev/stdin && nft $2 list ruleset" 2>&1; }
out=$(load "$1" -s); echo "newtext $? $(printf %s "$out" | base64 -w0)"
out=$(load "$1" -j); echo "newjson $? $(printf %s "$out" | base64 -w0)"
nft list tables | while read -r _ family name; do
  out=$(nft -s list table "$family" "$name" 2>&1); echo "table $? $family $name $(printf %s "$out" | base64 -w0)"
done
[ ! -e /etc/nftables.conf ] || echo "boot 0 $(base64 -w0 </etc/nftables.conf)"
echo "addresses 0 $(hostname -I 2>/dev/null | base64 -w0)"
"""


class SurveyError(Exception):
    """The host's nftables could not be read, or the ruleset does not load."""


@dataclass
class Table:
    family: str
    name: str
    managed: bool  # by iptables-nft (Docker): not ours to persist
    text: str  # `nft -s list table`

    @property
    def key(self):
        return f"{self.family} {self.name}"


@dataclass
class Survey:
    new_text: str
    new_json: dict
    tables: list = field(default_factory=list)
    boot: str | None = None  # /etc/nftables.conf, None when absent
    addresses: list = field(default_factory=list)

    def live(self, key):
        return next((t for t in self.tables if t.key == key), None)


def survey(host, ruleset):
    result = host.run(f"sh -c {shlex.quote(SURVEY)} fleetready-survey {shlex.quote(ruleset)}")
    found = Survey("", {})
    for line in result.stdout.splitlines():
        kind, rc, *rest = line.split(" ")
        text = base64.b64decode(rest[-1] if rest else "").decode("utf-8", "replace")
        if kind in ("newtext", "newjson") and rc != "0":
            raise SurveyError(f"the ruleset does not load: {one_line(text)}")
        if kind == "newtext":
            found.new_text = text.strip() + "\n"
        elif kind == "newjson":
            found.new_json = json.loads(text)
        elif kind == "table":
            if rc != "0":
                raise SurveyError(f"cannot list table {rest[0]} {rest[1]}: {one_line(text)}")
            managed = MANAGED in text
            listing = "".join(f"{x}\n" for x in text.splitlines() if not x.startswith("# Warning:"))
            found.tables.append(Table(rest[0], rest[1], managed, listing.strip() + "\n"))
        elif kind == "boot":
            found.boot = text
        elif kind == "addresses":
            found.addresses = text.split()
    if not found.new_json:
        raise SurveyError(f"no survey of the host's nftables: {one_line(result.stderr) or 'no output'}")
    return found


def block(key, text):
    """A table as the boot file holds it: created if absent, deleted, then defined."""
    return f"table {key}\ndelete table {key}\n{text}"


def boot_file(found, key):
    """/etc/nftables.conf after the fix: the live tables not managed by iptables-nft, with the
    fix's table `key` as found.new_text defines it (None: the fix loads no table)."""
    blocks = [block(t.key, t.text) for t in found.tables if not t.managed and t.key != key]
    return (
        "#!/usr/sbin/nft -f\n# fleetready remediation FR-FW-01: the nftables tables this host runs"
        " (iptables-nft tables, e.g. Docker's, are rebuilt by their owners)\n"
        + "".join(blocks)
        + (block(key, found.new_text) if key else "")
    )


def diff(before, after, name):
    lines = difflib.unified_diff(
        (before or "").splitlines(True), after.splitlines(True), f"{name} (now)", f"{name} (after)"
    )
    return "".join(lines)
