"""What people read in the reports of a run that could not judge everything: a host refusing
connections (unreachable, stopped in setup) and this machine with a TLS endpoint refusing
(error while the check judges), beside a plain fail. No Python class names anywhere; JUnit
counts errors and unreachable hosts as errors and writes recorded values as JSON; each HTML
row says the suite's outcome."""

import html
import json
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.conftest import run_fleetready

pytestmark = pytest.mark.e2e  # runs fleetready end to end per test (no Docker)

# fleetready.transport.unreachable.HostUnreachable, ProbeError, ConnectionRefusedError, AssertionError...
CLASS_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Unreachable)\b")
# pytest-html's filter category of each outcome (the Result column).
RESULT = {"pass": "Passed", "fail": "Failed", "error": "Error", "unreachable": "Error", "skipped": "Skipped"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("readable")
    (out / "inv.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "dead": {"ansible_host": "127.0.0.1", "ansible_port": 1},
                        "here": {
                            "ansible_connection": "local",
                            "fleetready_policy": {
                                "tls": {"endpoints": [{"name": "web", "host": "127.0.0.1", "port": 1}]},
                                "monitoring": {"metrics_url": "http://127.0.0.1:1/metrics"},
                            },
                        },
                    }
                }
            }
        )
    )
    code, results, output = run_fleetready(
        [
            "--inventory",
            str(out / "inv.yml"),
            "-k",
            "FR-HOST-01 or FR-TLS-01 or FR-MON-01",
            "--junitxml",
            str(out / "junit.xml"),
            "--sarif",
            str(out / "results.sarif"),
            "--html",
            str(out / "report.html"),
            "--self-contained-html",
        ]
    )
    outcomes = {(r["host"], r["control"]): r["outcome"] for r in results["results"]}
    assert code == 1 and outcomes == {
        ("dead", "FR-HOST-01"): "unreachable",
        ("dead", "FR-MON-01"): "unreachable",
        ("dead", "FR-TLS-01"): "skipped",
        ("here", "FR-HOST-01"): "pass",
        ("here", "FR-MON-01"): "fail",
        ("here", "FR-TLS-01"): "error",
    }, output
    return out, results, output


def html_tests(path):
    """pytest-html's table rows by nodeid, from the data the report's script renders."""
    blob = re.search(r'data-jsonblob="([^"]*)"', path.read_text()).group(1)
    return json.loads(html.unescape(blob))["tests"]


def test_no_python_class_names_in_terminal_junit_sarif_or_html(run):
    out, _, output = run
    page = re.sub(r"<(script|style)\b.*?</\1>", "", (out / "report.html").read_text(), flags=re.S)
    for name, text in [
        ("terminal", output),
        ("junit", (out / "junit.xml").read_text()),
        ("sarif", (out / "results.sarif").read_text()),
        ("html", html.unescape(page)),
    ]:
        assert not CLASS_NAME.findall(text), (name, CLASS_NAME.findall(text))


def test_junit_counts_errors_and_unreachable_hosts_as_errors(run):
    out, results, _ = run
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    counts = {o: sum(r["outcome"] == o for r in results["results"]) for o in ("fail", "error", "unreachable")}
    assert (suite.get("failures"), suite.get("errors")) == (
        str(counts["fail"]),
        str(counts["error"] + counts["unreachable"]),
    )
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    tls = cases[("here", "FR-TLS-01 test_tls_enforced[web]")]  # raised while judging, not in setup
    assert tls.find("failure") is None and "could not probe web" in tls.find("error").get("message")
    assert cases[("here", "FR-MON-01 test_metrics_answering")].find("failure") is not None


def test_junit_structured_properties_are_json(run):
    out, _, _ = run
    case = next(
        c
        for c in ET.parse(out / "junit.xml").iter("testcase")
        if c.get("name").startswith("FR-TLS-01") and c.get("classname") == "here"
    )
    verdict = json.loads(next(p.get("value") for p in case.iter("property") if p.get("name") == "tls_verdict"))
    assert (verdict["name"], verdict["problems"]) == ("web", ["unreachable"])


def test_each_html_row_shows_the_suites_outcome(run):
    out, results, _ = run
    tests = html_tests(out / "report.html")
    for r in results["results"]:
        row = tests[r["nodeid"]][-1]
        assert row["result"] == RESULT[r["outcome"]], r
        assert f">{r['outcome']}</td>" in "".join(row["resultsTableRow"])  # the Outcome column
