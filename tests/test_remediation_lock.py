"""The per-host remediation lock against real lab hosts: of two concurrent apply runs exactly
one remediates, the other reports the host busy; a lock left by a dead run is taken over."""

import json
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from remediations.lock import LOCK_DIR
from tests.conftest import run_fleetready
from tests.labrun import lab_inventory

BACKUP_DIR = "/var/backups/fleetready"
# Slow on purpose: the second run asks for the lock while the first is still backing up.
SOURCE = {"name": "db", "kind": "path", "path": f"{BACKUP_DIR}/db-*.tar.gz", "max_age_hours": 26,
          "command": f"sleep 3; tar -czf {BACKUP_DIR}/db-$(date +%s%N).tar.gz -C / etc"}


@pytest.fixture(scope="module")
def lab(make_lab, tmp_path_factory):
    lab = make_lab(full={"shared": "backup_stale", "orphan": "backup_stale"})
    tmp = tmp_path_factory.mktemp("remediate-lock")
    lab_inventory(lab, tmp / "inventory.yml",
                  policies=dict.fromkeys(("shared", "orphan"), {"backups": {"sources": [SOURCE]}}))
    return lab, str(tmp / "inventory.yml"), tmp


def apply(lab, inventory, limit, log):
    code, results, output = run_fleetready([
        "--inventory", inventory, "--ssh-config", str(lab.files["ssh_config"]), "--limit", limit,
        "-k", "FR-BAK-01", "--remediate=apply", "--remediation-log", str(log)])
    assert results is not None, output
    return next(r for r in results["results"] if r["host"] == limit)


def test_two_concurrent_runs_one_remediates(lab):
    lab, inventory, tmp = lab
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda i: apply(lab, inventory, "shared", tmp / f"audit{i}.jsonl"), (1, 2)))
    results = sorted(r["remediation"]["result"] for r in runs)
    assert results == ["busy", "fixed"], runs
    busy = next(r for r in runs if r["remediation"]["result"] == "busy")
    assert busy["outcome"] == "fail"                       # the check stays failed
    assert json.loads(busy["remediation"]["message"])["run"]   # who holds the lock
    assert len(lab.host("shared").check(f"ls {BACKUP_DIR}").split()) == 3   # one backup taken
    assert lab.host("shared").exec(f"test -e {LOCK_DIR}")[0] != 0           # released at the end


def test_lock_of_a_dead_run_is_taken_over(lab):
    lab, inventory, tmp = lab
    dead = subprocess.Popen(["true"])
    dead.wait()
    owner = json.dumps({"run": "crashed", "controller": socket.gethostname(), "pid": dead.pid,
                        "since": time.time()})
    lab.host("orphan").check(f"mkdir -p {LOCK_DIR} && cat >{LOCK_DIR}/owner", input=owner + "\n")
    result = apply(lab, inventory, "orphan", tmp / "audit-orphan.jsonl")
    assert result["remediation"]["result"] == "fixed", result
