"""The whole suite against the whole lab in one run: the sound host passes every check, and
each defect host fails exactly the requirement its defect breaks, passing all the others."""

import pytest

from tests.conftest import run_fleetready

CONTROLS = [
    "FR-HOST-01",
    "FR-IMG-01",
    "FR-FW-01",
    "FR-FW-02",
    "FR-TLS-01",
    "FR-BAK-01",
    "FR-LOG-01",
    "FR-LOG-02",
    "FR-MON-01",
]
# lab hosts are no Deis platform hosts; the lab profile asks for no restore drill
NOT_APPLICABLE = ["FR-BAK-02", "FR-DEIS-01", "FR-DEIS-02"]
LOGS = {"FR-LOG-01", "FR-LOG-02"}  # a host not forwarding logs also loses the canary
EXPECTED_FAILURES = {
    "sound": set(),
    "missing_images": {"FR-IMG-01"},
    "wrong_image_tag": {"FR-IMG-01"},
    "firewall_off": {"FR-FW-01", "FR-FW-02"},
    "firewall_open_port": {"FR-FW-02"},
    "cert_expired": {"FR-TLS-01"},
    "cert_self_signed": {"FR-TLS-01"},
    "cert_wrong_name": {"FR-TLS-01"},
    "legacy_tls": {"FR-TLS-01"},
    "no_https_redirect": {"FR-TLS-01"},
    "no_hsts": {"FR-TLS-01"},
    "backup_stale": {"FR-BAK-01"},
    "backup_empty": {"FR-BAK-01"},
    "no_log_forwarding": LOGS,
    "log_forwarding_wrong_target": LOGS,
    "receiver_down": LOGS,
    "metrics_down": {"FR-MON-01"},
    "docker_log_driver": set(),  # its logs leave through Docker's syslog driver only
    "docker_log_driver_receiver_down": LOGS,
}


@pytest.fixture(scope="module")
def run(make_lab):
    lab = make_lab(full={name.replace("_", "-"): name for name in EXPECTED_FAILURES})
    code, results, output = run_fleetready(
        ["--inventory", str(lab.files["inventory"]), "--ssh-config", str(lab.files["ssh_config"])]
    )
    assert results is not None, output
    return code, {(r["host"], r["control"]): r for r in results["results"]}, output


def test_one_run_covers_every_host_and_check(run):
    code, results, _ = run
    assert code == 1  # defect hosts fail
    # The log receiver `logs` is in the run too (the canary reads its log), with its own profile.
    assert {host for host, _ in results} == {n.replace("_", "-") for n in EXPECTED_FAILURES} | {"logs"}
    assert {control for _, control in results} == set(CONTROLS + NOT_APPLICABLE)


@pytest.mark.parametrize("scenario", sorted(EXPECTED_FAILURES))
def test_each_host_fails_exactly_what_its_defect_breaks(run, scenario):
    _, results, _ = run
    host = scenario.replace("_", "-")
    outcomes = {control: results[host, control]["outcome"] for control in CONTROLS}
    failed = {control for control, outcome in outcomes.items() if outcome != "pass"}
    assert failed == EXPECTED_FAILURES[scenario], {
        c: (results[host, c]["outcome"], results[host, c]["message"][:300]) for c in failed
    }
    assert {outcomes[c] for c in failed} <= {"fail"}, outcomes
    assert {results[host, c]["outcome"] for c in NOT_APPLICABLE} == {"skipped"}
