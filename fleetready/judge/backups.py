"""The newest backup of each source, and what is wrong with it (age, size, a date in the future);
what a restore drill of it found.

Rules (judging facts), used by the checks and by the remediation."""

from collections.abc import Mapping
from typing import Any

from fleetready.gather.facts import Facts
from fleetready.gather.facts_backups import path_files, restic_latest, source_output
from fleetready.probe.backup_drill import Drill
from fleetready.probe.backup_probe import newest_object, s3_location


class BackupError(Exception):
    """A source could not be read: the check ends as `error`, never `pass`."""


def newest_on_host(facts: Facts, index: int, source: Mapping[str, Any]) -> tuple[str, float, int] | None:
    """(name, age seconds, size) of the newest backup of a path/restic source, or None."""
    result = source_output(facts["backups"], index)
    now = facts["backups"]["now"]
    if source["kind"] == "path":
        files = path_files(result)
        if not files:
            return None
        mtime, size, name = max(files)
        return name.rsplit("/", 1)[-1], now - mtime, size
    latest = restic_latest(result)
    if latest is None:
        return None
    when, short_id, size = latest
    return f"snapshot {short_id}", now - when, size


def newest_in_s3(facts: Facts, source: Mapping[str, Any]) -> tuple[str, float, int] | None:
    return newest_object(s3_location(facts, source))


def _where(source):
    if source["kind"] == "path":
        return source["path"]
    if source["kind"] == "restic":
        return f"restic repository {source['repository']}"
    return f"bucket {source['bucket'] or 'of the database'}" + (
        f" prefix {source['prefix']}" if source["prefix"] else ""
    )


def finding(source: Mapping[str, Any], newest: tuple[str, float, int] | None) -> str | None:
    """What is wrong with a source's newest backup, or None."""
    if newest is None:
        return f"no backup matches {_where(source)}"
    name, age, size = newest
    if age < -3600:  # a date in the future would hide a stale backup from the age test
        return f"newest backup {name} is dated {-age / 3600:.1f} h in the future"
    if age > source["max_age_hours"] * 3600:
        return f"newest backup is {age / 3600:.1f} h old (max {source['max_age_hours']:g} h)"
    if size < source["min_size_bytes"]:
        return f"newest backup {name} is {size} bytes (min {source['min_size_bytes']})"
    return None


def drill_finding(source: Mapping[str, Any], drill: Drill) -> str | None:
    """What the restore drill of a source found (fail), or None; BackupError when it could not run."""
    if drill.verdict == "not run":
        raise BackupError(f"restore drill could not run: {drill.detail}")
    if drill.verdict == "no backup":
        return f"no backup to restore matches {_where(source)}"
    if drill.verdict == "unreadable":
        return f"newest backup {drill.backup + ' ' if drill.backup else ''}is not restorable: {drill.detail}"
    return None
