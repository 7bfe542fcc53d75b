"""A run interrupted (SIGINT) or killed (SIGKILL) while a host hangs leaves no half-written
report and no damaged history, and the next run works."""

import json
import signal
import sqlite3
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from lab import keys
from tests.conftest import FLEETREADY, ROOT, run_fleetready

REPORTS = {
    "--json-report": "results.json",
    "--junitxml": "junit.xml",
    "--sarif": "r.sarif",
    "--prometheus-textfile": "f.prom",
    "--html": "r.html",
}


@pytest.fixture(scope="module")
def setup(make_lab, tmp_path_factory):
    lab = make_lab(sshd=1, tarpits=1)
    tmp = tmp_path_factory.mktemp("interrupted")
    hosts = {
        h: {
            "ansible_host": lab.host(h).address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
        }
        for h in ("sshd0", "tarpit0")
    }
    (tmp / "inv.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return lab, tmp


def args(lab, tmp, limit, timeout):
    reports = [a for option, name in REPORTS.items() for a in (option, str(tmp / name))]
    return [
        "--inventory",
        str(tmp / "inv.yml"),
        "--limit",
        limit,
        "--ssh-config",
        str(lab.files["ssh_config"]),
        "--host-timeout",
        str(timeout),
        "--history",
        str(tmp / "history.db"),
        "--self-contained-html",
        *reports,
    ]


def complete_run(lab, tmp):
    code, _, output = run_fleetready(args(lab, tmp, "sshd0", 10))
    assert code == 1, output  # the sshd host has no firewall
    return {name: (tmp / name).read_bytes() for name in REPORTS.values()}


def history_runs(tmp):
    db = sqlite3.connect(tmp / "history.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return db.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        db.close()


def valid(name, data):
    if name.endswith((".json", ".sarif")):
        json.loads(data)
    elif name.endswith(".xml"):
        ET.fromstring(data)
    elif name.endswith(".prom"):
        assert "fleetready_run_exit_status" in {f.name for f in text_string_to_metric_families(data.decode())}
    else:
        assert data.rstrip().endswith(b"</html>")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_signal_mid_run_leaves_reports_and_history_whole(setup, sig):
    lab, tmp = setup
    before = complete_run(lab, tmp)
    runs = history_runs(tmp)
    proc = subprocess.Popen(
        [*FLEETREADY, *args(lab, tmp, "all", 120)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Mid-run, however slow the start on a busy machine: the run header is out, so pytest's
    # session has begun, and the tarpit host holds the run in its fact gathering.
    for line in proc.stdout:
        if line.startswith(b"fleetready: "):
            break
    time.sleep(1)
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    assert proc.returncode in (2, -signal.SIGKILL)
    for name, data in before.items():
        now = (tmp / name).read_bytes()
        # SIGKILL writes nothing; SIGINT may replace a report whole (an interrupted run's results).
        assert now == data if sig == signal.SIGKILL else valid(name, now) is None, name
    assert not list(tmp.glob(".fleetready-*")), "a temporary report file was left behind"
    assert history_runs(tmp) == runs, "an interrupted run was recorded"
    complete_run(lab, tmp)
    assert history_runs(tmp) == runs + 1
