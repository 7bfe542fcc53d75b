"""Backups (FR-BAK-01): run the backup command of each source the check finds stale, empty or
missing (backups.sources[].command, run on the host with sh -c). The re-check then judges the
new backup's age and size; a source without a command is left to a human. Only failing
sources are backed up, so a second apply on a fixed host runs nothing."""

import shlex

from fleetready.gather.facts import FactError
from fleetready.judge.backups import BackupError, finding, newest_in_s3, newest_on_host
from fleetready.probe.backup_probe import ProbeError

from .base import Fix, NotFixable, Step


def failing_sources(ctx):
    for index, source in enumerate(ctx.policy["backups"]["sources"]):
        try:
            newest = (
                newest_on_host(ctx.facts, index, source)
                if source["kind"] in ("path", "restic")
                else newest_in_s3(ctx.facts, source)
            )
        except (BackupError, ProbeError, FactError):
            continue  # unreadable is an error to look into, not a backup to take
        if finding(source, newest):
            yield source


class RunBackups(Fix):
    name = "run-backups"
    controls = ("FR-BAK-01",)
    facts = ("backups",)

    def plan(self, ctx):
        failing = list(failing_sources(ctx))
        steps = [
            Step(f"sh -c {shlex.quote(s['command'])}", f"back up {s['name']} (backups.sources[].command)")
            for s in failing
            if s["command"]
        ]
        if not steps:
            names = ", ".join(s["name"] for s in failing) or "none found"
            raise NotFixable(f"no backup command in the policy for the failing sources ({names})")
        return steps


FIX = RunBackups()
