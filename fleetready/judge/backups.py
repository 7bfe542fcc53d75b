"""The newest backup of each source, and what is wrong with it (age, size, a date in the future).

Rules (judging facts), used by the check and by its remediation."""

from collections.abc import Mapping
from typing import Any

from fleetready.gather.facts import Facts
from fleetready.gather.facts_backups import SourceOutput, path_files, restic_latest
from fleetready.probe.backup_probe import newest_object

# WAL-E marks each finished base backup with a sentinel object (shared/deis-v1-facts.md).
WALE_PREFIX = "basebackups_005/"


WALE_SENTINEL = "_backup_stop_sentinel.json"


class BackupError(Exception):
    """A source could not be read: the check ends as `error`, never `pass`."""


def _host_result(facts: Facts, index: int) -> SourceOutput:
    result = facts["backups"]["sources"][index]
    if result["rc"] != 0:
        raise BackupError(f"exit {result['rc']}: {(result['stderr'].strip() or result['stdout'].strip())[-300:]}")
    return result


def newest_on_host(facts: Facts, index: int, source: Mapping[str, Any]) -> tuple[str, float, int] | None:
    """(name, age seconds, size) of the newest backup of a path/restic source, or None."""
    result = _host_result(facts, index)
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


def _deis_key(facts: Facts, key: str) -> str:
    value = facts["deis"].get(key)
    if not value:
        raise BackupError(f"etcd key {key} is not set")
    return value


def newest_in_s3(facts: Facts, source: Mapping[str, Any]) -> tuple[str, float, int] | None:
    if source["kind"] == "s3":
        return newest_object(
            source["endpoint"], source["bucket"], source["prefix"], source["access_key"], source["secret_key"]
        )
    # deis-wal-e: the store gateway's S3 API with the credentials Deis keeps in etcd.
    endpoint = source["endpoint"] or "http://{}:{}".format(
        _deis_key(facts, "/deis/store/gateway/host"), _deis_key(facts, "/deis/store/gateway/port")
    )
    bucket = source["bucket"] or _deis_key(facts, "/deis/database/bucketName")
    return newest_object(
        endpoint,
        bucket,
        WALE_PREFIX + source["prefix"],
        _deis_key(facts, "/deis/store/gateway/accessKey"),
        _deis_key(facts, "/deis/store/gateway/secretKey"),
        suffix=WALE_SENTINEL,
    )


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
