"""The per-host remediation lock against real lab hosts: of two concurrent apply runs exactly
one remediates, the other waits for it and re-checks the host on fresh facts; a lock held past
the wait is reported plainly as not re-checked; a lock left by a dead run is taken over."""

import json
import os
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from remediations import lock
from remediations.lock import LOCK_DIR
from tests.conftest import run_fleetready
from tests.labrun import lab_inventory

BACKUP_DIR = "/var/backups/fleetready"
# Slow on purpose: the second run asks for the lock while the first is still backing up.
SOURCE = {
    "name": "db",
    "kind": "path",
    "path": f"{BACKUP_DIR}/db-*.tar.gz",
    "max_age_hours": 26,
    "command": f"sleep 3; tar -czf {BACKUP_DIR}/db-$(date +%s%N).tar.gz -C / etc",
}


@pytest.fixture(scope="module")
def lab(make_lab, tmp_path_factory):
    lab = make_lab(full={"shared": "backup_stale", "orphan": "backup_stale", "held": "backup_stale"})
    tmp = tmp_path_factory.mktemp("remediate-lock")
    lab_inventory(
        lab,
        tmp / "inventory.yml",
        policies=dict.fromkeys(("shared", "orphan", "held"), {"backups": {"sources": [SOURCE]}}),
    )
    return lab, str(tmp / "inventory.yml"), tmp


def apply(lab, inventory, limit, log):
    code, results, output = run_fleetready(
        [
            "--inventory",
            inventory,
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "--limit",
            limit,
            "-k",
            "FR-BAK-01",
            "--remediate=apply",
            "--remediation-log",
            str(log),
        ]
    )
    assert results is not None, output
    return next(r for r in results["results"] if r["host"] == limit)


def test_two_concurrent_runs_one_remediates(lab):
    lab, inventory, tmp = lab
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda i: apply(lab, inventory, "shared", tmp / f"audit{i}.jsonl"), (1, 2)))
    results = sorted(r["remediation"]["result"] for r in runs)
    assert results == ["fixed", "re-checked"], runs
    fixed = next(r for r in runs if r["remediation"]["result"] == "fixed")
    waited = next(r for r in runs if r["remediation"]["result"] == "re-checked")
    # It waited for the other run, then judged the host on fresh facts: the other's backup.
    assert waited["outcome"] == "pass" and waited["remediation"]["commands"] == [], waited
    assert json.loads(waited["remediation"]["holder"])["run"] == fixed["remediation"]["run"]
    assert waited["remediation"]["message"].endswith(
        "held the host's lock; once it let go, the re-check on fresh facts is pass: nothing to do"
    )
    assert len(lab.host("shared").check(f"ls {BACKUP_DIR}").split()) == 3  # one backup taken
    assert lab.host("shared").exec(f"test -e {LOCK_DIR}")[0] != 0  # released at the end


def test_lock_held_past_the_wait_is_busy_and_says_it_was_not_rechecked(lab):
    lab, inventory, tmp = lab
    # A live owner on this controller (this test's process): never stale.
    owner = json.dumps({"run": "other", "controller": socket.gethostname(), "pid": os.getpid(), "since": time.time()})
    lab.host("held").check(f"mkdir -p {LOCK_DIR} && cat >{LOCK_DIR}/owner", input=owner + "\n")
    result = apply(lab, inventory, "held", tmp / "audit-held.jsonl")
    record = result["remediation"]
    assert (result["outcome"], record["result"], record["commands"]) == ("fail", "busy", []), result
    assert record["message"] == (
        f"not re-checked: run other (controller {socket.gethostname()}, pid {os.getpid()}) held the host's lock"
        f" for over {lock.WAIT:g} s; this outcome is from facts gathered before that run's changes"
    )
    assert len(lab.host("held").check(f"ls {BACKUP_DIR}").split()) == 2  # nothing done


def test_lock_of_a_dead_run_is_taken_over(lab):
    lab, inventory, tmp = lab
    dead = subprocess.Popen(["true"])
    dead.wait()
    owner = json.dumps({"run": "crashed", "controller": socket.gethostname(), "pid": dead.pid, "since": time.time()})
    lab.host("orphan").check(f"mkdir -p {LOCK_DIR} && cat >{LOCK_DIR}/owner", input=owner + "\n")
    result = apply(lab, inventory, "orphan", tmp / "audit-orphan.jsonl")
    assert result["remediation"]["result"] == "fixed", result
