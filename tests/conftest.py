"""Fixtures for the suite's own tests: lab images, labs torn down with their module, and a
runner for fleetready itself."""

import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lab import images
from lab.fleet import Lab, cleanup_stale

ROOT = Path(__file__).resolve().parents[1]
# fleetready as bin/fleetready runs it (this checkout's pytest.ini and rootdir), from any directory.
FLEETREADY = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pytest.ini"), "--rootdir", str(ROOT)]


def run_fleetready(args, cwd=ROOT, timeout=900) -> tuple[int, dict | None, str]:
    """Run the suite under test in a subprocess: (exit code, parsed --json-report or None,
    its terminal output)."""
    with tempfile.TemporaryDirectory(prefix="fleetready-run-") as tmp:
        results = Path(tmp) / "results.json"
        proc = subprocess.run(
            # As bin/fleetready runs it: the checks come from pytest.ini's testpaths unless
            # args name test files.
            [
                *FLEETREADY,
                "--json-report",
                str(results),
                *args,
            ],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = proc.stdout + proc.stderr
        print(output[-5000:])  # shown by pytest when a test fails
        return proc.returncode, json.loads(results.read_text()) if results.exists() else None, output


@pytest.fixture
def listener():
    """A local TCP port standing for a host: anything that connects stays in its backlog (the
    proof that bad input stopped a run before any host was contacted)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def contacted(server):
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def pytest_collection_modifyitems(items):
    """Three tiers. `-m lab`: the tests using the fixtures below that reach Docker
    (lab_images, which make_lab depends on, and lab_guard). `-m e2e`: marked in their
    modules, they run fleetready end to end per test with no Docker (bad input, reports of
    a local run). `-m fast`: every other test: seconds, no Docker, no fleetready run each."""
    for item in items:
        if {"lab_images", "lab_guard"} & set(item.fixturenames):
            item.add_marker(pytest.mark.lab)
        elif not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.fast)


@pytest.fixture(scope="session")
def lab_images() -> dict:
    """Build (or reuse, in well under a second) the lab images once per session."""
    return images.build_all()


@pytest.fixture(scope="session")
def lab_guard():
    """Remove labs of interrupted runs first; at the end, any lab of this session still up."""
    cleanup_stale()
    labs: list[Lab] = []
    yield labs
    for lab in labs:
        lab.down()


@pytest.fixture(scope="module")
def make_lab(lab_images, lab_guard):
    """make_lab(sshd=N, full={name: scenario}, tarpits=N, start=True) -> Lab, removed when
    the test module ends. With start=False, add hosts yourself and call up()."""
    made = []

    def make(sshd: int = 0, full: dict | None = None, tarpits: int = 0, start: bool = True) -> Lab:
        lab = Lab()
        lab_guard.append(lab)
        made.append(lab)
        for i in range(sshd):
            lab.add_host(f"sshd{i}")
        for name, scenario in (full or {}).items():
            lab.add_host(name, "full", scenario)
        for i in range(tarpits):
            lab.add_host(f"tarpit{i}", "tarpit")
        return lab.up() if start else lab

    yield make
    for lab in made:
        lab.down()
        lab_guard.remove(lab)
