"""--waivers FILE: accepted exceptions. A fail or error matching a waiver is reported as
`waived` with the waiver's reason and owner (pytest sees it as skipped, so it fails nothing).
Unreachable hosts are never waived: a host that did not answer cannot have been accepted.

    waivers:
      - control: FR-IMG-01          # or check: test_images_preseeded
        scope: group web            # host NAME | group NAME | all
        reason: images pulled on first deploy until the registry mirror is up
        owner: ops@example.com
        expires: 2026-09-30         # last day the waiver applies

A waiver within WARN_DAYS of expiry is announced in the terminal; an expired one no longer
applies and the terminal says so. The file is validated at start-up (exit status 4). A waiver
whose host or group is not in the inventory (all of it, whatever --limit selects), or whose
control or check is not among the checks collected, is announced too: a typo waives nothing,
and would start waiving whatever later takes that name.
"""

import datetime
from dataclasses import dataclass

from fleetready.config.errors import ConfigError, did_you_mean
from fleetready.config.inventory import hosts_from_uris, local_host
from fleetready.config.yamlfile import describe, load_yaml

WARN_DAYS = 14
KEYS = ("control", "check", "scope", "reason", "owner", "expires")


@dataclass(frozen=True)
class Waiver:
    control: str | None
    check: str | None
    scope: str  # "all", or "host" / "group"
    name: str | None  # the host or group name
    reason: str
    owner: str
    expires: datetime.date
    where: str  # FILE:LINE

    def matches(self, info, groups):
        if (self.control and info["control"] != self.control) or (self.check and info["check"] != self.check):
            return False
        return (
            self.scope == "all"
            or (self.scope == "host" and info["host"] == self.name)
            or (self.scope == "group" and self.name in groups)
        )

    def describe(self):
        scope = "all hosts" if self.scope == "all" else f"{self.scope} {self.name}"
        return f"{self.where}: {self.control or self.check} on {scope} (owner {self.owner})"


def load_waivers(path):
    data = load_yaml(path, allow_empty=True)
    for key in data:
        if key != "waivers":
            raise ConfigError(path, f"unknown key{did_you_mean(key, ['waivers'])}", data.line_of(key), key)
    entries = data.get("waivers") or []
    if not isinstance(entries, list):
        raise ConfigError(
            path, f"expected a list of waivers, got {describe(entries)}", data.line_of("waivers"), "waivers"
        )
    return [_waiver(path, entries, i) for i in range(len(entries))]


def _waiver(path, entries, index):
    entry, line = entries[index], entries.line_of(index)
    where = f"waivers[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(path, f"expected a mapping, got {describe(entry)}", line, where)

    def fail(message, key=None):
        raise ConfigError(path, message, entry.line_of(key) if key else line, f"{where}.{key}" if key else where)

    for key in entry:
        if key not in KEYS:
            fail(f"unknown key{did_you_mean(key, KEYS)}", key)
    if ("control" in entry) == ("check" in entry):
        fail("give one of control: or check:")
    for key in ("scope", "reason", "owner", "expires"):
        if key not in entry:
            fail(f"missing {key}:")
    for key in ("control", "check", "scope", "reason", "owner"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            fail(f"expected a non-empty string, got {describe(entry[key])}", key)
    kind, _, name = entry["scope"].strip().partition(" ")
    name = name.strip()
    if not ((kind == "all" and not name) or (kind in ("host", "group") and name and " " not in name)):
        fail(f"expected 'host NAME', 'group NAME' or 'all', got {entry['scope']!r}", "scope")
    expires = entry["expires"]
    if isinstance(expires, str):
        try:
            expires = datetime.date.fromisoformat(expires.strip())
        except ValueError:
            pass
    if not isinstance(expires, datetime.date) or isinstance(expires, datetime.datetime):
        fail(f"expected a date YYYY-MM-DD, got {describe(entry['expires'])}", "expires")
    return Waiver(
        entry.get("control"),
        entry.get("check"),
        kind,
        name or None,
        entry["reason"].strip(),
        entry["owner"].strip(),
        expires,
        f"{path}:{line}",
    )


def unmatched_scopes(waivers, hosts, groups):
    """Lines for the waivers naming a host or group the inventory does not have."""
    lines = []
    for w in waivers:
        known = {"host": hosts, "group": groups}.get(w.scope)
        if known is not None and w.name not in known:
            lines.append(f"waiver matches no {w.scope} in the inventory: {w.describe()}{did_you_mean(w.name, known)}")
    return lines


def unmatched_checks(waivers, controls, checks):
    """Lines for the waivers naming a control or check that no collected check has."""
    lines = []
    for w in waivers:
        what, name, known = ("control of the checks", w.control, controls) if w.control else ("check", w.check, checks)
        if name not in known:
            lines.append(f"waiver matches no {what} collected: {w.describe()}{did_you_mean(name, known)}")
    return lines


def inventory_names(inventory, option):
    """(host names, group names) a waiver may name: the whole inventory, or the --hosts."""
    if inventory is not None:
        return {h.name for h in inventory.hosts}, set(inventory.group_names)
    hosts = hosts_from_uris(option.hosts) if option.hosts else [local_host()]
    return {h.name for h in hosts}, {"all", "ungrouped"}
