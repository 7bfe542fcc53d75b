"""The HTML report opened in headless Chromium: the fleet summary and matrix come first, the
matrix and trend chart are drawn, the matrix of 10,000 hosts pages. Host data crafted as markup
renders as text with no script run: tests/test_hostile_data.py (a host name carrying markup is
refused at load: docs/BAD_INPUT.md) and here in a page the matrix's script draws."""

import html
import json
import re
import shutil
import subprocess

import pytest

from benchmarks.html_bench import fleet_records
from reports.html_report import PAGE, fleet_block
from tests.conftest import run_fleetready
from tests.test_reports import fleet_args, write_inventory

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (bin/selftest installs it)")


# Headless, quiet and with no network of its own; a fresh --user-data-dir each time.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,2000",
]


def chromium(tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.stdout


@pytest.fixture(scope="module")
def report(make_lab, tmp_path_factory):
    lab = make_lab(sshd=1, full={"noimages": "missing_images"})
    tmp = tmp_path_factory.mktemp("html")
    inventory = write_inventory(tmp / "inv.yml", lab, {"web": ["sshd0", "noimages"]})
    history = tmp / "history.db"
    for _ in range(3):  # three runs for a trend
        code, results, output = run_fleetready(
            fleet_args(
                lab, inventory, "--history", str(history), "--html", str(tmp / "report.html"), "--self-contained-html"
            )
        )
    assert code == 1 and "Generated html report" in output, output
    return tmp / "report.html", results


@pytest.mark.e2e
def test_the_fleet_comes_before_the_environment(tmp_path):
    code, _, output = run_fleetready(["--html", str(tmp_path / "report.html"), "--self-contained-html"])
    assert "Generated html report" in output, output
    # Where the browser lays each block out, measured by a script added to a copy of the report.
    measure = (
        "<script>addEventListener('load', () => { const top = s => document.querySelector(s)"
        ".getBoundingClientRect().top; document.title = JSON.stringify({fleet: top('.fleetready'), "
        "environment: top('#environment-header'), results: top('#results-table')}) })</script>"
    )
    page = tmp_path / "measured.html"
    page.write_text((tmp_path / "report.html").read_text().replace("</body>", measure + "</body>"))
    dom = chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    top = json.loads(re.search(r'<title id="head-title">(.*?)</title>', dom).group(1))
    assert top["fleet"] < top["environment"] < top["results"], top


def test_matrix_and_trend_chart_are_drawn(report, tmp_path):
    html, _ = report
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", html.as_uri())
    assert shot.stat().st_size > 20000
    dom = chromium(tmp_path, "--dump-dom", html.as_uri())
    assert "Hosts × checks" in dom and "fleetready-matrix" in dom
    assert dom.count("<circle") == 3 and "<polyline" in dom
    assert "Changes since" in dom and "Still failing: 1" in dom


@pytest.mark.e2e
def test_matrix_of_10000_hosts_pages_and_finds_hosts(tmp_path):
    fleet = fleet_records(10000)
    evil = "<img src=x onerror=document.title='pwned'>"  # an error: drawn on a later page, by the script
    fleet.append(dict(fleet[0], host=evil, outcome="error", message=evil, nodeid=f"checks/x.py::x[{evil}]"))
    block = fleet_block(fleet, None, [])
    data = json.loads(re.search(r'id="fleetready-matrix-data">(.*?)</script>', block, re.S).group(1))
    hosts = [h for h, _ in data["hosts"]]
    assert hosts.index(evil) >= PAGE
    drive = (
        "<script>addEventListener('load', () => { const shown = () => [...document.querySelectorAll("
        "'.fleetready-matrix tbody th')].map((th) => th.textContent); const first = shown();"
        " document.querySelector('.fleetready-pager [data-step=\"1\"]').click(); const second = shown();"
        " const find = document.querySelector('.fleetready-pager input'); find.value = '<img';"
        " find.dispatchEvent(new Event('input')); document.title = JSON.stringify({first, second, found: shown(),"
        " cells: document.querySelectorAll('.fleetready-matrix td').length,"
        " titles: [...document.querySelectorAll('.fleetready-matrix td[title]')].map((td) => td.title),"
        " images: document.querySelectorAll('.fleetready-matrix img').length}) })</script>"
    )
    page = tmp_path / "fleet.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>-</title></head><body>{block}{drive}</body></html>"
    )
    dom = chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    state = json.loads(html.unescape(re.search(r"<title>(.*?)</title>", dom).group(1)))
    checks = len({r["check"] for r in fleet})
    assert state["first"] == hosts[:PAGE] and state["second"] == hosts[PAGE : 2 * PAGE]
    assert state["found"] == [evil] and state["titles"] == [evil] and state["images"] == 0
    assert state["cells"] == checks
