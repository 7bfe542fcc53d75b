"""The gate: thresholds per severity, waived results apart, unreachable never passing, new-only."""

import json

import pytest

from reports.gate import evaluate, parse
from tests.conftest import run_fleetready
from tests.test_reports import fleet_args, write_inventory


def record(nodeid, outcome, severity="critical"):
    return {"nodeid": nodeid, "host": nodeid, "outcome": outcome, "severity": severity}


@pytest.mark.parametrize("spec, message", [
    ("", "no thresholds"), ("critical", "expected SEVERITY=N"), ("critical=-1", "expected SEVERITY=N"),
    ("urgent=0", "'urgent' is not a severity"), ("high=1,high=2", "high given twice")])
def test_bad_gate_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse(spec)


def test_gate_spec():
    assert parse("critical=0, high=0,medium=3") == {"critical": 0, "high": 0, "medium": 3}


def test_thresholds_waived_apart_and_unreachable_counted():
    records = [record("a", "fail"), record("b", "waived"), record("c", "unreachable", "high"),
               record("d", "pass"), record("e", "error", "medium")]
    verdict = evaluate(records, {"critical": 1, "high": 1, "medium": 1})
    assert verdict["passed"] and verdict["failing"] == {"critical": 1, "high": 1, "medium": 1, "low": 0}
    assert verdict["waived"]["critical"] == 1
    assert not evaluate(records, {"high": 0})["passed"]
    assert evaluate(records, {"low": 0})["passed"]   # severities left out are not gated


def test_new_only_counts_new_fails_and_every_unjudged_result():
    baseline = {"a": record("a", "fail"), "c": record("c", "unreachable"), "e": record("e", "error")}
    now = [record("a", "fail"), record("c", "unreachable"), record("e", "error"), record("f", "fail")]
    assert evaluate(now, {"critical": 0}, baseline)["failing"]["critical"] == 3   # c, e, f


@pytest.mark.parametrize("args, message", [
    (["--gate", "critical=x"], "--gate: 'critical=x': expected SEVERITY=N"),
    (["--gate-new-only"], "--gate-new-only needs --baseline FILE or --history FILE")])
def test_bad_gate_options_stop_the_run(args, message):
    code, _, output = run_fleetready(args)
    assert code == 4 and message in output, output


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(sshd=1, full={"sound": "sound", "noimages": "missing_images"})


@pytest.fixture(scope="module")
def inventory(lab, tmp_path_factory):
    return write_inventory(tmp_path_factory.mktemp("inv") / "inv.yml", lab,
                           {"web": ["sshd0"], "app": ["sound", "noimages"]})


@pytest.fixture(scope="module")
def baseline(lab, inventory, tmp_path_factory):
    """A first run's JSON results: noimages fails FR-IMG-01 (critical), the rest passes."""
    code, results, output = run_fleetready(fleet_args(lab, inventory))
    assert code == 1 and results["summary"]["outcomes"]["fail"] == 1, output
    path = tmp_path_factory.mktemp("baseline") / "results.json"
    path.write_text(json.dumps(results))
    return str(path)


@pytest.mark.parametrize("gate, code", [
    ("critical=0", 1), ("critical=1", 0), ("high=0,medium=0", 0), ("critical=0,high=5", 1)])
def test_exit_status_follows_thresholds(lab, inventory, gate, code):
    got, _, output = run_fleetready(fleet_args(lab, inventory, "--gate", gate))
    assert got == code, output
    assert f"gate {'PASSED' if code == 0 else 'FAILED'}" in output


def test_new_only_passes_on_old_failures(lab, inventory, baseline):
    code, _, output = run_fleetready(fleet_args(lab, inventory, "--gate-new-only", "--baseline", baseline))
    assert code == 0, output
    assert "gate PASSED (new failures only)" in output


def test_an_unreachable_host_fails_the_gate_even_when_new_only_and_already_down(lab, inventory, tmp_path):
    lab.host("sshd0").stop()
    try:
        code, results, output = run_fleetready(fleet_args(lab, inventory, "--gate", "high=0,critical=1"))
        assert code == 1, output
        assert {r["outcome"] for r in results["results"] if r["host"] == "sshd0"} == {"unreachable"}
        down = tmp_path / "down.json"
        down.write_text(json.dumps(results))
        # The same host down in the baseline too: still no pass.
        code, _, output = run_fleetready(fleet_args(
            lab, inventory, "--gate", "high=0,critical=1", "--gate-new-only", "--baseline", str(down)))
        assert code == 1, output
    finally:
        lab.host("sshd0").start()


def test_new_only_against_history(lab, inventory, tmp_path):
    history = str(tmp_path / "history.db")
    # No run recorded yet: every failure is new.
    assert run_fleetready(fleet_args(lab, inventory, "--gate-new-only", "--history", history))[0] == 1
    code, results, output = run_fleetready(fleet_args(lab, inventory, "--gate-new-only", "--history", history))
    assert code == 0, output
    assert [(r["host"], r["control"]) for r in results["changes"]["still_failing"]] == [("noimages", "FR-IMG-01")]
