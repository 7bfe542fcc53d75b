"""The gate: thresholds per severity, waived results apart, unreachable never passing, new-only;
a check without a control (nothing to gate it by) refused at collection."""

import json
from pathlib import Path

import pytest
import yaml

from reports.gate import evaluate, parse
from tests.conftest import run_fleetready
from tests.test_reports import fleet_args, write_inventory

DATA = Path(__file__).parent / "data"
ALL_100 = "critical=100,high=100,medium=100,low=100"


def record(nodeid, outcome, severity="critical"):
    return {"nodeid": nodeid, "host": nodeid, "outcome": outcome, "severity": severity}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "no thresholds"),
        ("critical", "expected SEVERITY=N"),
        ("critical=-1", "expected SEVERITY=N"),
        ("urgent=0", "'urgent' is not a severity"),
        ("high=1,high=2", "high given twice"),
    ],
)
def test_bad_gate_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse(spec)


def test_gate_spec():
    assert parse("critical=0, high=0,medium=3") == {"critical": 0, "high": 0, "medium": 3}


def test_thresholds_and_waived_apart():
    records = [
        record("a", "fail"),
        record("b", "waived"),
        record("c", "error", "high"),
        record("d", "pass"),
        record("e", "error", "medium"),
    ]
    verdict = evaluate(records, {"critical": 1, "high": 1, "medium": 1})
    assert verdict["passed"] and verdict["failing"] == {"critical": 1, "high": 1, "medium": 1, "low": 0}
    assert verdict["waived"]["critical"] == 1
    assert not evaluate(records, {"high": 0})["passed"]
    assert evaluate(records, {"low": 0})["passed"]  # severities left out are not gated


def test_unreachable_hosts_fail_whatever_the_thresholds():
    records = [
        dict(record("a1", "unreachable", "high"), host="a"),
        dict(record("a2", "unreachable"), host="a"),
        record("b", "pass"),
    ]
    for baseline in (None, {r["nodeid"]: r for r in records}):
        verdict = evaluate(records, {"low": 0}, baseline)
        assert not verdict["passed"] and verdict["unreachable"] == 1  # hosts, not results


def test_new_only_counts_new_fails_and_every_unjudged_result():
    baseline = {"a": record("a", "fail"), "c": record("c", "unreachable"), "e": record("e", "error")}
    now = [record("a", "fail"), record("c", "unreachable"), record("e", "error"), record("f", "fail")]
    assert evaluate(now, {"critical": 0}, baseline)["failing"]["critical"] == 3  # c, e, f


@pytest.mark.parametrize(
    "args, message",
    [
        (["--gate", "critical=x"], "--gate: 'critical=x': expected SEVERITY=N"),
        (["--gate-new-only"], "--gate-new-only needs --baseline FILE or --history FILE"),
    ],
)
@pytest.mark.e2e
def test_bad_gate_options_stop_the_run(args, message):
    code, _, output = run_fleetready(args)
    assert code == 4 and message in output, output


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(sshd=1, full={"sound": "sound", "noimages": "missing_images"})


@pytest.fixture(scope="module")
def inventory(lab, tmp_path_factory):
    return write_inventory(
        tmp_path_factory.mktemp("inv") / "inv.yml", lab, {"web": ["sshd0"], "app": ["sound", "noimages"]}
    )


@pytest.fixture(scope="module")
def baseline(lab, inventory, tmp_path_factory):
    """A first run's JSON results: noimages fails FR-IMG-01 (critical), the rest passes."""
    code, results, output = run_fleetready(fleet_args(lab, inventory))
    assert code == 1 and results["summary"]["outcomes"]["fail"] == 1, output
    path = tmp_path_factory.mktemp("baseline") / "results.json"
    path.write_text(json.dumps(results))
    return str(path)


@pytest.mark.parametrize(
    "gate, code", [("critical=0", 1), ("critical=1", 0), ("high=0,medium=0", 0), ("critical=0,high=5", 1)]
)
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
        code, _, output = run_fleetready(
            fleet_args(lab, inventory, "--gate", "high=0,critical=1", "--gate-new-only", "--baseline", str(down))
        )
        assert code == 1, output
    finally:
        lab.host("sshd0").start()


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """A host that refuses connections, and a previous run of it (JSON and history): down then too."""
    tmp = tmp_path_factory.mktemp("refused")
    (tmp / "inv.yml").write_text(
        yaml.safe_dump({"all": {"hosts": {"dead": {"ansible_host": "127.0.0.1", "ansible_port": 1}}}})
    )
    code, results, output = run_fleetready(["--inventory", str(tmp / "inv.yml"), "--history", str(tmp / "history.db")])
    assert code == 1 and "unreachable" in {r["outcome"] for r in results["results"]}, output
    (tmp / "baseline.json").write_text(json.dumps(results))
    return tmp


@pytest.mark.parametrize(
    "gate",
    [
        ["--gate", "low=0"],
        ["--gate", ALL_100],
        ["--gate", "low=0", "--gate-new-only", "--baseline", "baseline.json"],
        ["--gate", ALL_100, "--gate-new-only", "--history", "history.db"],
    ],
    ids=["low-only", "all-100", "new-only-baseline", "new-only-history"],
)
@pytest.mark.e2e
def test_a_host_that_did_not_answer_never_lets_a_gate_pass(refused, gate):
    args = [str(refused / a) if a.endswith((".json", ".db")) else a for a in gate]
    code, _, output = run_fleetready(["--inventory", str(refused / "inv.yml"), *args])
    assert code == 1, output
    assert "gate FAILED" in output and "1 host unreachable" in output


@pytest.mark.parametrize(
    "check, text, problem",
    [
        (DATA / "no_control_check.py", None, ":4: test_without_control: no control marker; add @pytest.mark.control("),
        (
            "test_bad_severity.py",
            '@pytest.mark.control(id="FR-X", severity="urgent")\ndef test_bad_severity(facts):\n    pass\n',
            ":4: test_bad_severity: control marker needs ",
        ),
    ],
    ids=["missing", "bad-severity"],
)
@pytest.mark.e2e
def test_a_check_without_a_valid_control_marker_is_refused_at_collection(tmp_path, check, text, problem):
    if text is not None:
        check = tmp_path / check
        check.write_text("import pytest\n\n\n" + text)
    code, _, output = run_fleetready(["checks", str(check)])
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert code == 4 and len(errors) == 1, output
    assert check.name + problem in errors[0] and 'severity="critical|high|medium|low"' in errors[0]
    assert "Traceback" not in output


def test_new_only_against_history(lab, inventory, tmp_path):
    history = str(tmp_path / "history.db")
    # No run recorded yet: every failure is new.
    assert run_fleetready(fleet_args(lab, inventory, "--gate-new-only", "--history", history))[0] == 1
    code, results, output = run_fleetready(fleet_args(lab, inventory, "--gate-new-only", "--history", history))
    assert code == 0, output
    assert [(r["host"], r["control"]) for r in results["changes"]["still_failing"]] == [("noimages", "FR-IMG-01")]


@pytest.mark.e2e
def test_a_check_module_that_does_not_collect_never_lets_the_run_pass(tmp_path):
    """The hosts' checks pass, but a check module did not even import: the gate's thresholds
    weigh (host, check) results only, and must not turn that into a passing run."""
    check = tmp_path / "test_broken.py"
    check.write_text("import no_such_module\n")
    code, _, output = run_fleetready(["checks/test_host.py", str(check), "--continue-on-collection-errors"])
    assert code == 1 and "no_such_module" in output, output
