"""Remediation against real lab hosts: a log drain drop-in proven by a canary, a fresh backup."""

import pytest

from remediations import audit
from remediations.fix_logdrain import DROPIN
from tests.conftest import run_fleetready
from tests.labrun import lab_inventory

BACKUP_DIR = "/var/backups/fleetready"
SOURCE = {"name": "db", "kind": "path", "path": f"{BACKUP_DIR}/db-*.tar.gz", "max_age_hours": 26,
          "command": f"tar -czf {BACKUP_DIR}/db-$(date +%s).tar.gz -C / etc"}


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(full={"nolog": "no_log_forwarding", "stale": "backup_stale"})
    tmp = tmp_path_factory.mktemp("remediate-logs")
    lab_inventory(lab, tmp / "inventory.yml", policies={"stale": {"backups": {"sources": [SOURCE]}}})
    log = tmp / "audit.jsonl"
    code, results, output = run_fleetready([
        "--inventory", str(tmp / "inventory.yml"), "--ssh-config", str(lab.files["ssh_config"]),
        "-k", "FR-LOG or FR-BAK", "--remediate=apply", "--remediation-log", str(log)])
    assert results is not None, output
    return lab, {(r["host"], r["control"]): r for r in results["results"]}, audit.read(log)


def test_log_drain_configured_and_canary_arrives(run):
    lab, results, records = run
    result = results[("nolog", "FR-LOG-01")]
    assert result["outcome"] == "pass", result
    record = result["remediation"]
    assert record["result"] == "fixed" and record["disruptive"]
    assert record["canary"]["received"], record
    assert "omfwd" in lab.host("nolog").check(f"cat {DROPIN}")
    assert results[("nolog", "FR-LOG-02")]["outcome"] == "pass"
    # The main configuration is left as it was: the forwarding is the drop-in alone.
    assert "omfwd" not in lab.host("nolog").check("cat /etc/rsyslog.conf")


def test_log_drain_apply_twice_changes_nothing(run):
    lab, _, records = run
    host = lab.host("nolog")
    pid = host.check("pgrep -x rsyslogd")
    for command in next(r for r in records if r["host"] == "nolog")["commands"]:
        out = host.check(command["command"])
    assert "already running it" in out
    assert host.check("pgrep -x rsyslogd") == pid   # not restarted


def test_stale_backup_gets_a_fresh_one(run):
    lab, results, _ = run
    result = results[("stale", "FR-BAK-01")]
    assert result["outcome"] == "pass", result
    record = result["remediation"]
    assert record["result"] == "fixed"
    assert record["before"]["outcome"] == "fail" and "h old" in record["before"]["message"]
    assert record["commands"][0]["rc"] == 0
    assert "tar -czf" in record["commands"][0]["command"]
    assert len(lab.host("stale").check(f"ls {BACKUP_DIR}").split()) == 3


def test_every_action_is_in_the_audit_log(run):
    _, results, records = run
    logged = {(r["host"], r["control"]): r["result"] for r in records}
    assert logged == {("nolog", "FR-LOG-01"): "fixed", ("stale", "FR-BAK-01"): "fixed"}
