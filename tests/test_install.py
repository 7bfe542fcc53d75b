"""fleetready as users install it: `pip install .` into a fresh venv gives the `fleetready`
command and the pytest plugin (entry point), and `pytest --inventory FILE` from any directory
checks the hosts. Installed, every module is under the one name `fleetready`."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT
from tests.labrun import host_vars

# What a clean clone has: no venv, no lab state, no caches.
IGNORED = shutil.ignore_patterns(".git", ".venv", ".state", "__pycache__", ".hypothesis", "*.pyc")
# The installed package alone: no PYTHONPATH pointing into a checkout.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    proc = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=900,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return venv


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(sshd=2)


@pytest.fixture
def inventory(lab, tmp_path):
    """The lab's hosts in an inventory outside the checkout, with its ssh config beside it."""
    hosts = {name: host_vars(lab, name) for name in ("sshd0", "sshd1")}
    for vars in hosts.values():
        vars.pop("fleetready_profile", None)  # the shipped default profile
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    shutil.copy(lab.files["ssh_config"], tmp_path / "ssh_config")
    return path


def test_installs_under_one_name_with_its_command(venv):
    proc = subprocess.run(
        [str(venv / "bin" / "fleetready"), "--version"], capture_output=True, text=True, timeout=60, env=ENV
    )
    assert proc.returncode == 0 and proc.stdout.startswith("fleetready "), proc.stdout + proc.stderr
    (site,) = (venv / "lib").glob("python3*/site-packages")
    for generic in ("fixtures", "reports", "remediations", "checks", "tests", "lab", "profiles"):
        assert not (site / generic).exists(), f"{generic} installed at the top level"
    assert (site / "fleetready" / "profiles" / "docker-host.yaml").is_file()
    assert (site / "fleetready" / "reports" / "templates" / "fleet.html.j2").is_file()


@pytest.mark.parametrize("command", ["pytest", "fleetready"])
def test_the_installed_plugin_checks_a_lab_from_any_directory(venv, inventory, tmp_path, command):
    report = tmp_path / "results.json"
    proc = subprocess.run(
        [
            str(venv / "bin" / command),
            f"--inventory={inventory}",
            f"--ssh-config={tmp_path / 'ssh_config'}",
            f"--json-report={report}",
            "--html=report.html",
            "--self-contained-html",
            "-k",
            "FR-HOST-01 or FR-FW-01",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    output = proc.stdout + proc.stderr
    results = {(r["host"], r["control"]): r["outcome"] for r in json.loads(report.read_text())["results"]}
    # A sound sshd host answers; the lab's sshd-only hosts have no firewall: the checks judged them.
    assert results == {
        ("sshd0", "FR-HOST-01"): "pass",
        ("sshd1", "FR-HOST-01"): "pass",
        ("sshd0", "FR-FW-01"): "fail",
        ("sshd1", "FR-FW-01"): "fail",
    }, output
    assert proc.returncode == 1, output
    assert "Traceback" not in output and "PytestAssertRewriteWarning" not in output, output
    assert "fleetready-matrix" in (tmp_path / "report.html").read_text()  # its templates were installed
