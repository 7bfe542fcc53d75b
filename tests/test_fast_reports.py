"""Every report writer and the gate without Docker: fed the results the checks give on the
captured corpus (tests/test_fast_checks.py) plus an unreachable and a waived result made by
hand; the HTML report's blocks for a fleet of 10,000 hosts; and one run against the controller
itself and a refused loopback port, writing every report through pytest's hooks."""

import collections
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import jsonschema
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.html_bench import fleet_records
from fleetready.outcome.outcomes import FAILING, summary
from reports import history, merge
from reports.changes import diff
from reports.gate import evaluate
from reports.html_report import PAGE, ROWS_PER_KIND, Table, fleet_block
from reports.prometheus import RunCollector
from reports.results import document
from reports.sarif import sarif_log
from tests.conftest import ROOT, run_fleetready
from tests.test_fast_checks import records as judged

STARTED, FINISHED = 1_800_000_000.0, 1_800_000_042.5
# Host names come from the inventory: every writer must carry markup as text.
EVIL = "<img src=x onerror=alert(1)>"
RESULTS_SCHEMA = json.loads((ROOT / "docs" / "results-schema.json").read_text())


@pytest.fixture(scope="module")
def records():
    rows = judged()
    host_check = next(r for r in rows if r["control"] == "FR-HOST-01")
    unreachable = dict(
        host_check,
        host=EVIL,
        outcome="unreachable",
        reason="refused",
        message="refused: connection refused",
        nodeid=f"checks/test_host.py::test_facts_gathered[{EVIL}]",
    )
    for row in rows:  # the missing images of one host are accepted for now
        if (row["host"], row["control"]) == ("missing-images", "FR-IMG-01"):
            row.update(
                outcome="waived",
                waived_outcome=row["outcome"],
                waiver={
                    "reason": "rebuild pending",
                    "owner": "ops@example.com",
                    "expires": "2099-01-01",
                    "source": "waivers.yml:2",
                },
            )
    return rows + [unreachable]


def by_outcome(records):
    return collections.Counter(r["outcome"] for r in records)


def test_json_results_match_the_documented_schema(records):
    doc = document(records, STARTED, FINISHED, 1)
    jsonschema.validate(doc, RESULTS_SCHEMA)
    counts = by_outcome(records)
    assert doc["summary"]["outcomes"] == {o: counts[o] for o in doc["summary"]["outcomes"]}
    assert doc["summary"]["hosts"] == len({r["host"] for r in records})
    assert doc["summary"]["compliance"] == round(100 * counts["pass"] / (len(records) - counts["skipped"]), 2)


def test_sarif_is_valid_with_one_result_per_failing_or_waived_host_check(records):
    log = sarif_log(records, STARTED, FINISHED, 1)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    got = {(r["locations"][0]["logicalLocations"][0]["name"], r["ruleId"]): r for r in run["results"]}
    assert set(got) == {(r["host"], r["control"]) for r in records if r["outcome"] in FAILING + ("waived",)}
    assert got["firewall-off", "FR-FW-01"]["level"] == "error"
    assert got["metrics-down", "FR-MON-01"]["level"] == "warning"  # medium
    assert got[EVIL, "FR-HOST-01"]["message"]["text"].startswith("unreachable: ")
    assert got["deis", "FR-BAK-01"]["message"]["text"].startswith("error: ")
    [suppression] = got["missing-images", "FR-IMG-01"]["suppressions"]
    assert suppression["status"] == "accepted" and "rebuild pending" in suppression["justification"]
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_prometheus_textfile_has_one_status_per_result(records):
    registry = CollectorRegistry()
    registry.register(RunCollector(records, STARTED, FINISHED, 1))
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    status = families["fleetready_check_status"].samples
    assert len(status) == len(records) and {s.value for s in status} == {1}
    assert {(s.labels["host"], s.labels["control"], s.labels["outcome"]) for s in status} == {
        (r["host"], r["control"], r["outcome"]) for r in records
    }
    assert {s.labels["outcome"]: s.value for s in families["fleetready_results"].samples} == {
        o: by_outcome(records)[o] for o in summary(records)["outcomes"]
    }
    assert families["fleetready_run_exit_status"].samples[0].value == 1
    assert families["fleetready_run_end_timestamp_seconds"].samples[0].value == FINISHED


def test_history_keeps_each_run_and_changes_compare_them(records, tmp_path):
    db = tmp_path / "history.db"
    fixed = [dict(r, outcome="pass", message="") if r["host"] == "firewall-off" else r for r in records]
    history.record_run(db, records, STARTED, FINISHED, 1)
    history.record_run(db, fixed, STARTED + 3600, FINISHED + 3600, 1)
    previous = history.previous_run(db)
    assert previous["started"] == STARTED + 3600 and len(previous["results"]) == len(records)
    assert [run["compliance"] for run in history.trend(db)] == [
        summary(rows)["compliance"] for rows in (records, fixed)
    ]
    changes = diff({r["nodeid"]: r for r in records}, {r["nodeid"]: r for r in fixed})
    assert [(r["host"], r["control"]) for r in changes["fixed"]] == [("firewall-off", "FR-FW-01")]
    assert changes["new"] == [] and ("missing-images", "FR-IMG-01") in {
        (r["host"], r["control"]) for r in changes["still_failing"]
    }  # waived still fails its requirement


def test_shards_merge_into_one_report_and_one_history_entry(records, tmp_path):
    shards = []
    for n, part in enumerate((records[:40], records[40:])):
        shards.append(tmp_path / f"results-{n}.json")
        shards[-1].write_text(json.dumps(document(part, STARTED + n, FINISHED + n, n)))
    out, db = tmp_path / "merged.json", tmp_path / "history.db"
    merged = merge.run(shards, out, db)
    assert json.loads(out.read_text()) == merged
    jsonschema.validate(merged, RESULTS_SCHEMA)
    assert sorted(r["nodeid"] for r in merged["results"]) == sorted(r["nodeid"] for r in records)
    assert (merged["started"], merged["finished"], merged["exit_status"]) == (STARTED, FINISHED + 1, 1)
    again = merge.run(shards, out, db)
    assert again["changes"]["new"] == [] and again["changes"]["since"] == f"{db} run 1"
    assert history.previous_run(db)["source"] == "merge"


def matrix_of(block):
    return block.split('<table class="fleetready-matrix">')[1].split("</table>")[0]


def test_html_blocks_show_the_fleet_with_host_markup_as_text(records):
    changes = dict(diff({}, {r["nodeid"]: r for r in records}), since=EVIL)
    block = fleet_block(records, changes, [(STARTED, 50.0), (FINISHED, summary(records)["compliance"])])
    assert EVIL not in block and "&lt;img src=x onerror=alert(1)&gt;" in block
    hosts = len({r["host"] for r in records})
    grid = matrix_of(block)  # a page holds them all: no pager, no script
    assert grid.count("<tr>") == 2 + hosts and "<script" not in block  # two header rows
    assert grid.count('class="o-fail"') == by_outcome(records)["fail"]
    assert f"{hosts} hosts, " in block
    bad = sum(by_outcome(records)[o] for o in FAILING + ("waived",))
    assert f"New failures: {bad}" in block
    chart = block[block.index("<svg") : block.index("</svg>")]
    assert chart.count("<circle") == 2 and "<polyline" in chart


def test_html_of_10000_hosts_pages_the_matrix_and_bounds_the_table():
    """Issue 14: the report of 10,000 hosts holds one page of the matrix in its DOM, failing hosts
    first, the others as data; the changes are grouped by check; the results table keeps a bounded
    sample. (benchmarks/html_bench.py measures how fast Chromium opens the whole report.)"""
    fleet = fleet_records(10000)
    changes = dict(
        diff({r["nodeid"]: r for r in fleet_records(10000, shift=1)}, {r["nodeid"]: r for r in fleet}),
        since="history.db run 41",
    )
    table = Table()
    listed = []
    for r in fleet:  # as pytest-html asks, with its own four cells: the result's row, then its teardown
        row, teardown = (
            [
                f'<td class="col-result">{result}</td>',
                f'<td class="col-testId">{r["nodeid"]}</td>',
                "<td>1 ms</td>",
                "<td></td>",
            ]
            for result in ("Passed", "Passed")
        )
        result = SimpleNamespace(fleetready=r, when=r["phase"], passed=r["outcome"] == "pass", nodeid=r["nodeid"])
        table.pytest_html_results_table_row(result, row)
        table.pytest_html_results_table_row(SimpleNamespace(when="teardown", passed=True, nodeid=r["nodeid"]), teardown)
        assert bool(row) == bool(teardown)  # no empty entry for a test left out
        if row:
            listed.append(r)
    block = fleet_block(fleet, changes, [(STARTED, 50.0)], table)
    assert len(block) < 2 * 2**20
    dom = re.sub(r"<script\b.*?</script>", "", block, flags=re.S)
    checks = len({r["check"] for r in fleet})
    assert matrix_of(dom).count("<td") == PAGE * checks
    data = json.loads(
        re.search(r'<script type="application/json" id="fleetready-matrix-data">(.*?)</script>', block, re.S).group(1)
    )
    assert len(data["hosts"]) == 10000 and [h for h, _ in data["hosts"][:PAGE]] == re.findall(
        r"<tr><th>(host\d+)</th>", dom
    )
    worst = [min(c[0] for c in cells if c) for _, cells in data["hosts"]]  # indices into RANK, worst first
    assert worst == sorted(worst) and data["outcomes"][worst[0]] == "unreachable"
    assert data["outcomes"][worst[-1]] in ("pass", "skipped")
    kinds = collections.Counter((r["control"], r["outcome"]) for r in fleet)
    assert collections.Counter((r["control"], r["outcome"]) for r in listed) == {
        kind: min(n, ROWS_PER_KIND) for kind, n in kinds.items()
    }
    assert f"lists {len(listed)} of {len(fleet)} results" in dom
    assert dom.count("<li>") <= 3 * checks  # each kind of change grouped by check
    assert f"New failures: {len(changes['new'])}" in dom


def test_gate_counts_failing_results_per_severity_waived_apart(records):
    rows = [r for r in records if r["outcome"] != "unreachable"]  # unreachable: tests/test_gate.py
    failing = collections.Counter(r["severity"] for r in rows if r["outcome"] in FAILING)
    verdict = evaluate(rows, {"critical": 0})
    assert not verdict["passed"] and verdict["failing"] == {s: failing[s] for s in verdict["failing"]}
    assert verdict["waived"]["critical"] == 1
    assert evaluate(rows, dict(failing))["passed"]
    assert not evaluate(rows, dict(failing, medium=failing["medium"] - 1))["passed"]
    # New-only against the same results: errors still count (what was not judged cannot be old).
    errors = collections.Counter(r["severity"] for r in rows if r["outcome"] == "error")
    assert evaluate(rows, {"high": 0}, {r["nodeid"]: r for r in rows})["failing"] == {
        s: errors[s] for s in verdict["failing"]
    }


@pytest.mark.e2e
def test_a_run_writes_every_report_through_pytest(tmp_path):
    out = {name: tmp_path / name for name in ("junit.xml", "results.sarif", "run.prom", "report.html", "history.db")}
    code, results, output = run_fleetready(
        [
            "--hosts",
            "local://,ssh://root@127.0.0.1:1",
            "-k",
            "FR-HOST-01",
            "--junitxml",
            str(out["junit.xml"]),
            "--sarif",
            str(out["results.sarif"]),
            "--prometheus-textfile",
            str(out["run.prom"]),
            "--html",
            str(out["report.html"]),
            "--self-contained-html",
            "--history",
            str(out["history.db"]),
        ]
    )
    assert code == 1, output  # a host did not answer
    assert {(r["host"], r["outcome"]) for r in results["results"]} == {("local", "pass"), ("127.0.0.1", "unreachable")}
    cases = {c.get("classname"): c for c in ET.parse(out["junit.xml"]).iter("testcase")}
    assert {c.get("name") for c in cases.values()} == {"FR-HOST-01 test_facts_gathered"}
    down = {p.get("name"): p.get("value") for p in cases["127.0.0.1"].iter("property")}
    assert down["outcome"] == "unreachable" and down["reason"] == "refused"
    sarif = json.loads(out["results.sarif"].read_text())["runs"][0]["results"]
    assert [r["properties"]["host"] for r in sarif] == ["127.0.0.1"]
    prom = {f.name: f for f in text_string_to_metric_families(out["run.prom"].read_text())}
    assert len(prom["fleetready_check_status"].samples) == 2
    html = out["report.html"].read_text()
    assert "fleetready-matrix" in html and "127.0.0.1" in html
    assert sqlite3.connect(out["history.db"]).execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_evidence_of_any_json_value_and_of_a_check_with_its_hosts_shared_facts():
    """A JUnit property's value may be a list; a check's record merges with its host's facts,
    masked once and shared by the host's checks."""
    from fleetready.outcome.redact import MASK, Redactor, evidence

    redactor = Redactor(environ={})
    assert evidence(redactor, ["a", {"token": "s3cr3t-value"}]) == ["a", {"token": MASK}]
    facts = {"system": {"password": "hunter22-long"}}
    first = evidence(redactor, {"tls_verdict": {"ok": True}}, facts)
    second = evidence(redactor, {}, facts)
    assert first == {"system": {"password": MASK}, "tls_verdict": {"ok": True}}
    assert first["system"] is second["system"]
