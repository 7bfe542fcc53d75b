"""With pytest-xdist, every check of a host runs in the same worker (one connection per host)."""

import collections
import re

import pytest

from fixtures.xdist_hosts import host_of
from tests.conftest import run_fleetready


@pytest.mark.parametrize(
    "nodeid, host",
    [
        ("checks/test_x.py::test_a[web-1]", "web-1"),
        ("checks/test_x.py::test_a[web]", "web"),
        ("tests/data/c.py::test_b[web-1-3]", "web-1"),
        ("tests/data/c.py::test_b[0-web]", "web"),
        ("checks/test_x.py::test_plain", "checks/test_x.py::test_plain"),
    ],
)
def test_host_of_a_node_id(nodeid, host):
    assert host_of(nodeid, ["web-1", "web"]) == host


def test_each_hosts_checks_run_in_one_worker(make_lab):
    lab = make_lab(sshd=3)
    code, results, output = run_fleetready(
        [
            "--inventory",
            str(lab.files["inventory"]),
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-n",
            "2",
            "-v",
            "-k",
            "FR-HOST or FR-FW",
        ]
    )
    assert results is not None, output
    workers = collections.defaultdict(set)
    for worker, host in re.findall(r"\[(gw\d+)\].*\[(sshd\d+)\]", output):
        workers[host].add(worker)
    assert sorted(workers) == ["sshd0", "sshd1", "sshd2"]
    assert all(len(w) == 1 for w in workers.values()), dict(workers)
    assert {r["host"] for r in results["results"]} == {"sshd0", "sshd1", "sshd2"}
