"""The HTML report opened in headless Chromium: the fleet summary and matrix come first, the
matrix and trend chart are drawn. Host data crafted as markup renders as text with no script
run: tests/test_hostile_data.py (a host name carrying markup is refused at load:
docs/BAD_INPUT.md)."""

import json
import re
import shutil
import subprocess

import pytest

from tests.conftest import run_fleetready
from tests.test_reports import fleet_args, write_inventory

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (bin/selftest installs it)")


def chromium(tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--window-size=1400,2000", *args], capture_output=True, text=True, timeout=120)
    return proc.stdout


@pytest.fixture(scope="module")
def report(make_lab, tmp_path_factory):
    lab = make_lab(sshd=1, full={"noimages": "missing_images"})
    tmp = tmp_path_factory.mktemp("html")
    inventory = write_inventory(tmp / "inv.yml", lab, {"web": ["sshd0", "noimages"]})
    history = tmp / "history.db"
    for _ in range(3):   # three runs for a trend
        code, results, output = run_fleetready(fleet_args(lab, inventory, "--history", str(history),
                                                          "--html", str(tmp / "report.html"), "--self-contained-html"))
    assert code == 1 and "Generated html report" in output, output
    return tmp / "report.html", results


@pytest.mark.e2e
def test_the_fleet_comes_before_the_environment(tmp_path):
    code, _, output = run_fleetready(["--html", str(tmp_path / "report.html"), "--self-contained-html"])
    assert "Generated html report" in output, output
    # Where the browser lays each block out, measured by a script added to a copy of the report.
    measure = ("<script>addEventListener('load', () => { const top = s => document.querySelector(s)"
               ".getBoundingClientRect().top; document.title = JSON.stringify({fleet: top('.fleetready'), "
               "environment: top('#environment-header'), results: top('#results-table')}) })</script>")
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
