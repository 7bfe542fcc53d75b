"""Backups recent: every backup source of the host's policy has a backup younger than its
max_age_hours and at least min_size_bytes in size. Backups restorable: the newest backup of
each source with `verify: true` reads back whole (a restore drill)."""

from dataclasses import asdict

import pytest

from fleetready.gather.facts import FactError
from fleetready.judge.backups import BackupError, drill_finding, finding, newest_in_s3, newest_on_host
from fleetready.probe.backup_probe import ProbeError


def _verdict(findings, errors):
    # A definite finding fails the host; sources we could not read are reported with it.
    assert not findings, "; ".join(findings + errors)
    if errors:
        raise BackupError("; ".join(errors))


@pytest.mark.control(id="FR-BAK-01", severity="high", requirement="backups recent")
def test_backups_recent(policy, facts, request):
    sources = policy["backups"]["sources"]
    if not sources:
        pytest.skip("not applicable: no backup sources in the profile")
    findings, errors, seen = [], [], {}
    for index, source in enumerate(sources):
        try:
            newest = (
                newest_on_host(facts, index, source)
                if source["kind"] in ("path", "restic")
                else newest_in_s3(facts, source)
            )
        except (BackupError, ProbeError, FactError) as exc:
            errors.append(f"{source['name']}: cannot read backups: {exc}")
            continue
        seen[source["name"]] = newest and {
            "name": newest[0],
            "age_hours": round(newest[1] / 3600, 2),
            "size": newest[2],
        }
        problem = finding(source, newest)
        if problem:
            findings.append(f"{source['name']}: {problem}")
    request.node.user_properties.append(("newest_backups", seen))
    _verdict(findings, errors)


@pytest.mark.control(id="FR-BAK-02", severity="high", requirement="backups restorable")
def test_backups_restorable(policy, backup_drills, request):
    findings, errors = [], []
    for source in policy["backups"]["sources"]:
        if source["name"] not in backup_drills:
            continue
        try:
            problem = drill_finding(source, backup_drills[source["name"]])
        except BackupError as exc:
            errors.append(f"{source['name']}: {exc}")
            continue
        if problem:
            findings.append(f"{source['name']}: {problem}")
    request.node.user_properties.append(("restore_drills", {n: asdict(d) for n, d in backup_drills.items()}))
    _verdict(findings, errors)
