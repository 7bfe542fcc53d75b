"""Start-up: a run imports no heavy dependency it does not use (their import time is every
small run's; benchmarks/startup_bench.py measures it)."""

import pytest

from tests.conftest import run_fleetready

pytestmark = pytest.mark.e2e  # runs fleetready end to end (a local run, no Docker)

# Each is imported on first use: policy validation (none for a shipped profile nothing
# overrides), certificate judging, the Prometheus textfile, the history database.
HEAVY = {"jsonschema", "cryptography", "prometheus_client", "sqlite3"}


def imported(tmp_path, monkeypatch, args):
    modules = tmp_path / "modules.txt"
    monkeypatch.setenv("FLEETREADY_MODULES_FILE", str(modules))
    code, results, output = run_fleetready(["-p", "tests.plugins.loaded_modules", *args], cwd=tmp_path)
    assert code in (0, 1) and results["results"], output  # 1: this machine may fail a check
    return {name.partition(".")[0] for name in modules.read_text().split()}


def test_a_local_run_imports_no_heavy_dependency(tmp_path, monkeypatch):
    assert imported(tmp_path, monkeypatch, []) & HEAVY == set()


def test_each_heavy_dependency_is_imported_when_used(tmp_path, monkeypatch):
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    here:\n      ansible_connection: local\n"
        "      fleetready_policy: {tls: {endpoints: [{name: web, port: 1}]}}\n"
    )
    args = ["--inventory", "hosts.yml", "--prometheus-textfile", "run.prom", "--history", "runs.db"]
    assert imported(tmp_path, monkeypatch, args) & HEAVY == HEAVY
