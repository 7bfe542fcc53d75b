"""--remediate=plan against real lab hosts: every failing check with a fix gets its commands
recorded, and the hosts are exactly as they were."""

import pytest

from remediations import audit
from tests.conftest import run_fleetready
from tests.labrun import lab_inventory

HOSTS = {
    "images": "missing_images",
    "nolog": "no_log_forwarding",
    "stale": "backup_stale",
    "fwoff": "firewall_off",
    "tls": "legacy_tls",
}
SOURCE = {
    "name": "db",
    "kind": "path",
    "path": "/var/backups/fleetready/db-*.tar.gz",
    "max_age_hours": 26,
    "command": "tar -czf /var/backups/fleetready/db-now.tar.gz -C / etc",
}
# What a fix could change; counters of Docker's rules move with traffic, so they are left out.
SNAPSHOT = (
    "docker image ls --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort;"
    " ls -la --time-style=full-iso /etc/rsyslog.d /var/backups/fleetready;"
    " nft list ruleset | sed 's/counter packets [0-9]* bytes [0-9]*/counter/';"
    " cat /etc/nftables.conf; ls -a /var/lib/fleetready /var/lock 2>&1; true"
)
CONTROLS = {"images": "FR-IMG-01", "nolog": "FR-LOG-01", "stale": "FR-BAK-01", "fwoff": "FR-FW-01", "tls": "FR-TLS-01"}


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(full=HOSTS)
    tmp = tmp_path_factory.mktemp("remediate-plan")
    lab_inventory(lab, tmp / "inventory.yml", policies={"stale": {"backups": {"sources": [SOURCE]}}})
    before = {name: lab.host(name).check(SNAPSHOT) for name in HOSTS}
    log = tmp / "audit.jsonl"
    code, results, output = run_fleetready(
        [
            "--inventory",
            str(tmp / "inventory.yml"),
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "--limit",
            ":".join(HOSTS),
            "-k",
            " or ".join(sorted(set(CONTROLS.values()))),
            "--remediate=plan",
            "--remediation-log",
            str(log),
        ]
    )
    assert results is not None, output
    after = {name: lab.host(name).check(SNAPSHOT) for name in HOSTS}
    return code, {(r["host"], r["control"]): r for r in results["results"]}, before, after, audit.read(log)


def test_plan_changes_nothing(run):
    code, _, before, after, _ = run
    assert code == 1
    for name in HOSTS:
        assert after[name] == before[name], name


def test_each_failing_check_has_its_plan(run):
    _, results, _, _, records = run
    for host, control in CONTROLS.items():
        result = results[(host, control)]
        assert result["outcome"] == "fail", result
        record = result["remediation"]
        assert record["mode"] == "plan" and record["commands"] == [] and record["after"] is None
        assert record["result"] == ("plan only" if control == "FR-TLS-01" else "planned"), record
        assert record["plan"], record
    assert "docker pull" in results[("images", "FR-IMG-01")]["remediation"]["plan"][0]["command"]
    assert "90-fleetready-drain.conf" in results[("nolog", "FR-LOG-01")]["remediation"]["plan"][0]["command"]
    assert "'tar -czf" in results[("stale", "FR-BAK-01")]["remediation"]["plan"][0]["command"]
    assert "rollback" in results[("fwoff", "FR-FW-01")]["remediation"]["plan"][1]["why"]
    tls = results[("tls", "FR-TLS-01")]["remediation"]["plan"]
    assert any("legacy_protocol_tls1_0" in s["why"] and "ssl_protocols TLSv1.2 TLSv1.3" in s["why"] for s in tls)
    assert {(r["host"], r["control"]) for r in records} >= set(CONTROLS.items())
    assert all(r["mode"] == "plan" for r in records)
