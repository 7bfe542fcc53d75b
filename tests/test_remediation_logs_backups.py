"""Remediation against real lab hosts: a log drain drop-in proven by a canary, a wrong drain
replaced so that exactly one forward remains, nothing written where the receiver is down, a
drain whose canary never arrives undone; a fresh backup."""

import pytest

from fleetready.gather.facts_logging import rsyslog_forwards
from lab.state import _restart_rsyslog
from remediations import audit
from remediations.fix_logdrain import DROPIN
from tests.conftest import run_fleetready
from tests.labrun import lab_inventory

BACKUP_DIR = "/var/backups/fleetready"
SOURCE = {
    "name": "db",
    "kind": "path",
    "path": f"{BACKUP_DIR}/db-*.tar.gz",
    "max_age_hours": 26,
    "command": f"tar -czf {BACKUP_DIR}/db-$(date +%s).tar.gz -C / etc",
}
FORWARD = "/etc/rsyslog.d/60-fleetready-forward.conf"  # lab/state.py's forwarding
# What a drain fix could change on a host: its rsyslog configuration, then when and whether rsyslogd restarted.
CONFIG = "ls /etc/rsyslog.d; cat /etc/rsyslog.conf /etc/rsyslog.d/*.conf 2>/dev/null; true"
SNAPSHOT = CONFIG + "; ls -la --time-style=full-iso /etc/rsyslog.d; pgrep -x rsyslogd"


def forwards(host):
    """Every forward rsyslog is configured with on the host, as the facts parse them."""
    found = []
    for path in host.check("ls /etc/rsyslog.conf /etc/rsyslog.d/*.conf 2>/dev/null; true").split():
        found += rsyslog_forwards(host.check(["cat", path]), path)
    return [(f["host"], f["port"], f["protocol"]) for f in found]


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(
        full={
            "nolog": "no_log_forwarding",
            "stale": "backup_stale",
            "wrongport": "sound",
            "down": "receiver_down",
            "lost": "no_log_forwarding",
        }
    )
    # The drain's host is right, its port is not.
    lab.host("wrongport").check(f'sed -i \'s/port="514"/port="1514"/\' {FORWARD}\n' + "\n".join(_restart_rsyslog()))
    tmp = tmp_path_factory.mktemp("remediate-logs")
    lab_inventory(
        lab,
        tmp / "inventory.yml",
        policies={
            "stale": {"backups": {"sources": [SOURCE]}},
            # The canary is watched for in a file the receiver never writes: it cannot arrive.
            "lost": {"logging": {"canary": {"receiver_log": "/var/log/nothing-arrives-here.log"}}},
        },
    )
    before = {"down": lab.host("down").check(SNAPSHOT), "lost": lab.host("lost").check(CONFIG)}
    log = tmp / "audit.jsonl"
    code, results, output = run_fleetready(
        [
            "--inventory",
            str(tmp / "inventory.yml"),
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-k",
            "FR-LOG or FR-BAK",
            "--remediate=apply",
            "--remediation-log",
            str(log),
        ]
    )
    assert results is not None, output
    return lab, {(r["host"], r["control"]): r for r in results["results"]}, audit.read(log), before


def test_log_drain_configured_and_canary_arrives(run):
    lab, results, records, _ = run
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
    lab, _, records, _ = run
    host = lab.host("nolog")
    pid = host.check("pgrep -x rsyslogd")
    outputs = [
        host.check(command["command"]) for command in next(r for r in records if r["host"] == "nolog")["commands"]
    ]
    assert outputs[0].strip() == f"unchanged {DROPIN}"
    assert "already running it" in outputs[-1]
    assert host.check("pgrep -x rsyslogd") == pid  # not restarted


def test_wrong_port_ends_with_exactly_one_forward(run):
    lab, results, _, _ = run
    result = results[("wrongport", "FR-LOG-01")]
    assert result["outcome"] == "pass", result
    record = result["remediation"]
    assert record["result"] == "fixed", record
    assert forwards(lab.host("wrongport")) == [("logs.lab", 514, "tcp")]
    # The wrong forward is commented out where it was, as the plan's diff said.
    [edit] = [s for s in record["plan"] if FORWARD in s["why"]]
    assert '-*.* action(type="omfwd" target="logs.lab" port="1514"' in edit["diff"]
    assert results[("wrongport", "FR-LOG-02")]["outcome"] == "pass"


def test_receiver_down_writes_nothing(run):
    lab, results, _, before = run
    result = results[("down", "FR-LOG-01")]
    assert result["outcome"] == "fail"
    record = result["remediation"]
    assert record["result"] == "no fix" and record["commands"] == [], record
    assert record["message"] == (
        "drain logs.lab:514/tcp does not answer from the host: the receiver, or the way"
        " to it, is down; forwarding there would not deliver, so nothing was written"
    )
    assert lab.host("down").check(SNAPSHOT) == before["down"]  # no drop-in, rsyslogd not restarted


def test_drain_whose_canary_never_arrives_is_undone(run):
    lab, results, _, before = run
    record = results[("lost", "FR-LOG-01")]["remediation"]
    assert record["result"] == "remediation error", record
    assert record["message"] == (
        "the canary did not arrive in /var/log/nothing-arrives-here.log on logs within"
        " 10 s; the fix's changes were undone"
    )
    assert [c["rc"] for c in record["undo"]] == [0, 0]
    host = lab.host("lost")
    assert host.exec(f"test -e {DROPIN}")[0] != 0
    assert forwards(host) == []
    assert host.check(CONFIG) == before["lost"]  # and rsyslogd restarted on it (the undo's last step)


def test_stale_backup_gets_a_fresh_one(run):
    lab, results, _, _ = run
    result = results[("stale", "FR-BAK-01")]
    assert result["outcome"] == "pass", result
    record = result["remediation"]
    assert record["result"] == "fixed"
    assert record["before"]["outcome"] == "fail" and "h old" in record["before"]["message"]
    assert record["commands"][0]["rc"] == 0
    assert "tar -czf" in record["commands"][0]["command"]
    assert len(lab.host("stale").check(f"ls {BACKUP_DIR}").split()) == 3


def test_every_action_is_in_the_audit_log_with_a_reason(run):
    _, results, records, _ = run
    logged = {(r["host"], r["control"]): r["result"] for r in records}
    assert logged == {
        ("nolog", "FR-LOG-01"): "fixed",
        ("stale", "FR-BAK-01"): "fixed",
        ("wrongport", "FR-LOG-01"): "fixed",
        ("down", "FR-LOG-01"): "no fix",
        ("lost", "FR-LOG-01"): "remediation error",
    }
    for r in records:
        assert (r["result"] == "fixed") == (r["message"] == ""), r
        assert "\n" not in r["message"]
