"""Restore drills (FR-BAK-02): the newest backup of each source whose policy says `verify: true`
is read back within the source's `verify_timeout`.

- path: the newest file of the glob passes its format's integrity test, read to its end;
- restic: `restic check` on a sample of the data packs, then one small file of the newest
  snapshot restored into a temporary directory (removed again) and checked against the
  snapshot's record of it;
- S3 and WAL-E: the newest object (WAL-E: its base backup's sentinel and first tar partition)
  read whole from the controller, its size held to the listing's (backup_probe.read_back).

The newest backup is the one the gathered facts name, so the drill reads what FR-BAK-01 judged.
Host drills are remote commands of their own (sh/drill.sh) under `timeout` on the host, outside
the batched facts: a drill may take longer than a host's whole fact gathering may
(--host-timeout), and only the check that asks for it waits for it.
"""

import math
import time
from dataclasses import dataclass
from typing import Literal

from fleetready.gather import shell
from fleetready.gather.fact_error import FactError
from fleetready.gather.facts_backups import path_files, restic_latest, source_output
from fleetready.probe.backup_probe import ProbeError, Unreadable, read_back, s3_location

# `restic check --read-data-subset`: random data packs up to this size, about one pack at
# restic's default pack size: a sample whose time does not grow with the repository.
RESTIC_SAMPLE = "16M"


# readable; unreadable (the check fails); no backup (nothing to restore: it fails);
# not run (the drill could not run: an error)
Verdict = Literal["readable", "unreadable", "no backup", "not run"]


@dataclass(frozen=True)
class Drill:
    verdict: Verdict
    backup: str | None  # what was read back (file, snapshot, objects)
    detail: str
    seconds: float


def run_drills(target, fleet) -> dict[str, Drill]:
    """{source name: Drill} of the host's sources with `verify: true`, in policy order."""
    sources = [(i, s) for i, s in enumerate(fleet.policy(target)["backups"]["sources"]) if s["verify"]]
    if not sources:
        return {}
    facts = fleet.facts(target)  # a host that does not answer is unreachable, not unrestorable
    drills = {}
    for index, source in sources:
        started = time.monotonic()
        if source["kind"] in ("path", "restic"):
            verdict, backup, detail = _on_host(fleet.connections.host(target), facts, index, source)
        else:
            verdict, backup, detail = _in_s3(facts, source)
        drills[source["name"]] = Drill(verdict, backup, detail, round(time.monotonic() - started, 2))
    return drills


def _on_host(host, facts, index, source) -> tuple[Verdict, str | None, str]:
    try:
        result = source_output(facts["backups"], index)
        if source["kind"] == "path":
            files = path_files(result)
            if not files:
                return "no backup", None, ""
            backup = max(files)[2]
            words = ["fr_drill_archive", backup]
        else:
            latest = restic_latest(result)
            if latest is None:
                return "no backup", None, ""
            backup = f"snapshot {latest[1]}"
            words = ["fr_drill_restic", source["repository"], source["password_file"] or "", latest[1], RESTIC_SAMPLE]
    except FactError as exc:
        return "not run", None, f"cannot read backups: {exc}"
    seconds = max(1, math.ceil(source["verify_timeout"]))
    ran = host.run(shell.command(shell.script("drill.sh"), *words, timeout=seconds))
    said = _tail(ran.stderr) or _tail(ran.stdout)
    if ran.rc == 0:
        return "readable", backup, _tail(ran.stdout, 1)  # restic: the file restored and its checksum
    if ran.rc == 1:
        return "unreadable", backup, said
    if ran.rc == 124:
        return "not run", backup, f"did not finish within {seconds} s"
    return "not run", backup, f"exit {ran.rc}: {said}"


def _tail(text: str, lines: int = 3) -> str:
    """The last lines of a command's output, on one line, at most 300 characters."""
    return "; ".join([line.strip() for line in text.splitlines() if line.strip()][-lines:])[-300:]


def _in_s3(facts, source) -> tuple[Verdict, str | None, str]:
    seconds = source["verify_timeout"]
    try:
        backup = read_back(s3_location(facts, source), seconds)
    except Unreadable as exc:
        return "unreadable", None, str(exc)
    except TimeoutError:
        return "not run", None, f"did not finish within {seconds:g} s"
    except (ProbeError, FactError) as exc:
        return "not run", None, str(exc)
    if backup is None:
        return "no backup", None, ""
    return "readable", backup, ""
