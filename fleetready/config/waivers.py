"""--waivers FILE: accepted exceptions. A fail or error matching a waiver is reported as
`waived` with the waiver's reason and owner (pytest sees it as skipped, so it fails nothing).
Unreachable hosts are never waived: a host that did not answer cannot have been accepted.

    waivers:
      - control: FR-IMG-01          # or check: test_images_preseeded
        scope: group web            # host NAME | group NAME | all
        reason: images pulled on first deploy until the registry mirror is up
        owner: ops@example.com
        expires: 2026-09-30         # last day the waiver applies

A waiver may accept single findings of a check that reports them one by one (FR-TLS-01,
FR-IMG-01, FR-FW-02): `finding: CODE` accepts that problem code only, `subject: NAME` (with a
finding) only on that TLS endpoint, image reference or port. The result is then `waived` only
when waivers cover every finding; a finding none covers still fails it, named alone:

      - control: FR-TLS-01
        scope: host web1
        subject: api                # the endpoint's name in the policy
        finding: legacy_protocol_tls1_1
        reason: old Android clients until the app update ships
        owner: ops@example.com
        expires: 2027-03-01

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
KEYS = ("control", "check", "scope", "subject", "finding", "reason", "owner", "expires")


@dataclass(frozen=True)
class Waiver:
    control: str | None
    check: str | None
    scope: str  # "all", or "host" / "group"
    name: str | None  # the host or group name
    subject: str | None  # with finding: only findings about this endpoint, image or port
    finding: str | None  # only findings of this problem code (None: the whole result)
    reason: str
    owner: str
    expires: datetime.date
    where: str  # FILE:LINE

    def matches(self, info, groups):
        """Whether this waiver, of a whole result (no finding:), accepts the result `info`."""
        return self.finding is None and self._applies(info, groups)

    def covers(self, info, groups, finding):
        """Whether this waiver of one finding accepts `finding` of the result `info`."""
        return (
            self.finding == finding["code"]
            and (self.subject is None or self.subject == finding["subject"])
            and self._applies(info, groups)
        )

    def _applies(self, info, groups):
        if (self.control and info["control"] != self.control) or (self.check and info["check"] != self.check):
            return False
        return (
            self.scope == "all"
            or (self.scope == "host" and info["host"] == self.name)
            or (self.scope == "group" and self.name in groups)
        )

    def record(self):
        """The waiver as results carry it."""
        return {"reason": self.reason, "owner": self.owner, "expires": self.expires.isoformat(), "source": self.where}

    def describe(self):
        scope = "all hosts" if self.scope == "all" else f"{self.scope} {self.name}"
        what = self.control or self.check
        if self.finding:
            what += f" finding {self.finding}" + (f" on {self.subject}" if self.subject else "")
        return f"{self.where}: {what} on {scope} (owner {self.owner})"


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
    # A port is a subject too: `subject: 8080` reads as a number.
    subject = entry.get("subject")
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    for key in entry:
        value = subject if key == "subject" else entry[key]
        if key != "expires" and (not isinstance(value, str) or not value.strip()):
            fail(f"expected a non-empty string, got {describe(entry[key])}", key)
    if subject is not None and "finding" not in entry:
        # A waiver of everything on a subject would accept findings nobody has seen yet.
        fail("a subject: needs the finding: (problem code) it accepts", "subject")
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
        subject.strip() if subject is not None else None,
        entry["finding"].strip() if "finding" in entry else None,
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
