"""The HTML report at fleet scale: how long headless Chromium takes to open it.

    python -m benchmarks.html_bench [--hosts 10000] [--repeats 3] [--keep DIR]

Writes the report of a run of N hosts x the 11 checks through pytest, pytest-html and
fleetready's report plugins (reports/results.py, changes, html_report.py), with results as
the checks give them on the captured corpus (tests/data/gather): host i is corpus host
i mod 17 with its facts as evidence, every 50th host unreachable. A baseline run with the
corpus shifted by one host gives the changes block thousands of new and fixed results.
Then Chromium opens a copy of the report, with a script added that reports, once the page
has loaded and been laid out, the milliseconds since navigation started and the size of the
DOM. Prints the report's size, that time (median of the repeats) and the wall time of the
whole Chromium process (start-up and DOM dump included).

Loaded by that pytest run as a plugin (-p benchmarks.html_bench), this module stands in for
the checks: each (host, check) ends with its planned outcome and carries its record.
"""

import argparse
import importlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNREACHABLE_EVERY = 50
MEASURE = (
    "<script>addEventListener('load', () => { document.body.getBoundingClientRect();"
    " document.title = JSON.stringify({ms: Math.round(performance.now()),"
    " elements: document.getElementsByTagName('*').length,"
    " matrix_cells: document.querySelectorAll('.fleetready-matrix td').length,"
    " result_rows: document.querySelectorAll('#results-table tbody.results-table-row').length}) })</script>"
)


def checks():
    """(module, function, control marker kwargs) of every check in checks/."""
    found = []
    for path in sorted((ROOT / "checks").glob("test_*.py")):
        module = importlib.import_module(f"checks.{path.stem}")
        for name, func in vars(module).items():
            marks = [m for m in getattr(func, "pytestmark", []) if m.name == "control"]
            if name.startswith("test_") and marks:
                found.append((path.stem, name, marks[0].kwargs))
    return found


def fleet_records(hosts, shift=0):
    """Result records (reports/results.py) of `hosts` hosts x every check, from the corpus."""
    from tests.test_fast_checks import CHECKS, judge
    from tests.test_fast_gather import HOSTS, facts

    judged = {(name, check.__name__): judge(check, name) for name in HOSTS for check in CHECKS}
    every_check = checks()

    def record(name, evidence, check, control):
        # Ports, TLS and the canary are observed from outside: the corpus has no verdict.
        outcome, message = judged.get((name, check), ("pass", ""))
        return {
            "check": check,
            "control": control["id"],
            "severity": control["severity"],
            "requirement": control["requirement"],
            "outcome": outcome,
            "message": message,
            "phase": "call",
            "evidence": evidence,
            "duration": 0.001,
        }

    # Each corpus host's records but for the host's name: 110,000 records are made in a second.
    corpus = {
        name: [(module, record(name, evidence, check, control)) for module, check, control in every_check]
        for name in HOSTS
        for evidence in [facts(name).values]
    }
    records = []
    for i in range(hosts):
        host = f"host{i:05d}"
        down = i % UNREACHABLE_EVERY == UNREACHABLE_EVERY - 1
        for module, base in corpus[HOSTS[(i + shift) % len(HOSTS)]]:
            records.append(dict(base, host=host, nodeid=f"checks/{module}.py::{base['check']}[{host}]"))
            if down:
                records[-1].update(
                    outcome="unreachable",
                    reason="refused",
                    phase="setup",
                    evidence=None,
                    message=f"refused: {host}: connection refused",
                )
    return records


# ---- the stand-in run (pytest plugin) ----

PLANNED = {}


def pytest_addoption(parser):
    parser.addoption("--bench-hosts", type=int, default=10)


def pytest_configure(config):
    PLANNED.update(((r["host"], r["check"]), r) for r in fleet_records(config.option.bench_hosts))


def pytest_generate_tests(metafunc):
    if "target" in metafunc.fixturenames:
        hosts = sorted({host for host, _ in PLANNED})
        metafunc.parametrize("target", hosts, ids=hosts, indirect=True)


@pytest.fixture
def target(request):
    record = PLANNED[request.param, request.function.__name__]
    if record["outcome"] == "unreachable":
        pytest.fail(record["message"], pytrace=False)  # no traceback to format: the finding replaces it
    return record


def judge(record):
    if record["outcome"] == "skipped":
        pytest.skip(record["message"])
    if record["outcome"] in ("fail", "error"):
        pytest.fail(record["message"], pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    record = PLANNED[item.callspec.params["target"], item.function.__name__]
    if report.when != "teardown" and (report.when == "call" or report.failed):
        report.fleetready = dict(
            record, phase=report.when, evidence=record["evidence"] if report.when == "call" else None
        )
        if report.failed:  # fixtures/outcomes.py's one-line finding
            report.longrepr = f"{record['host']} {record['control']}: {record['message']}"
    return report


# ---- the benchmark ----


def write_report(hosts, out):
    """The HTML report of the stand-in run of `hosts` hosts, written to out/report.html."""
    from reports.results import document

    for module, check, _ in checks():
        path = out / "checks" / f"{module}.py"
        path.parent.mkdir(exist_ok=True)
        with path.open("a") as f:
            f.write(f"from benchmarks.html_bench import judge\n\n\ndef {check}(target):\n    judge(target)\n\n\n")
    (out / "pytest.ini").write_text("[pytest]\n")
    (out / "baseline.json").write_text(json.dumps(document(fleet_records(hosts, shift=1), 0, 1, 1)))
    plugins = ["fixtures.options", "benchmarks.html_bench", "reports.results", "reports.changes", "reports.html_report"]
    started = time.monotonic()
    proc = subprocess.run(
        # No terminal: pytest's failure summary rescans every report for each failure, hours at
        # 110,000 results.
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(out / "pytest.ini"),
            "--rootdir",
            str(out),
            "-p",
            "no:terminal",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:fleetready",
            *(a for p in plugins for a in ("-p", p)),
            f"--bench-hosts={hosts}",
            "--baseline",
            str(out / "baseline.json"),
            "--html",
            str(out / "report.html"),
            "--self-contained-html",
            str(out / "checks"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if not (out / "report.html").exists():
        sys.exit(proc.stdout[-3000:] + proc.stderr[-3000:])
    return out / "report.html", time.monotonic() - started


def open_in_chromium(report, tmp):
    """(in-page measurements, wall seconds of the Chromium process) for one fresh profile."""
    page = tmp / "measured.html"
    page.write_text(report.read_text().replace("</body>", MEASURE + "</body>"))
    from tests.test_reports_html import CHROMIUM_FLAGS  # not at the top: that module imports this one

    profile = tmp / "profile"
    shutil.rmtree(profile, ignore_errors=True)
    started = time.monotonic()
    proc = subprocess.run(
        [shutil.which("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.monotonic() - started
    title = proc.stdout.split('<title id="head-title">', 1)[-1].split("</title>", 1)[0]
    return json.loads(title.replace("&quot;", '"')), wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the report and the run here (kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleetready-html-bench-") as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        report, run_seconds = write_report(args.hosts, out)
        print(f"{args.hosts} hosts: report {report.stat().st_size / 2**20:.1f} MiB written in {run_seconds:.1f} s")
        runs = [open_in_chromium(report, Path(tmp)) for _ in range(args.repeats)]
        print("in page:", runs[0][0])
        print(
            f"open in Chromium (navigation to loaded and laid out): median "
            f"{statistics.median(r[0]['ms'] for r in runs) / 1000:.2f} s of {[r[0]['ms'] for r in runs]} ms; "
            f"whole Chromium process: median {statistics.median(r[1] for r in runs):.2f} s"
        )


if __name__ == "__main__":
    main()
