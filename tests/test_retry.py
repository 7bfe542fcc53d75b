"""--retry-timeout: a post-deploy gate re-checks failing results on fresh facts until they pass
or time runs out; only the last attempt is reported."""

import threading
import time

import pytest

from tests.conftest import run_fleetready


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(full={"converging": "missing_images", "broken": "missing_images"})


def run_images_check(lab, *args):
    return run_fleetready(["--inventory", str(lab.files["inventory"]), "--ssh-config",
                           str(lab.files["ssh_config"]), "-k", "FR-IMG", "--limit", "converging:broken",
                           "--retry-interval", "1", *args])


def test_a_host_that_converges_during_the_retry_window_passes(lab):
    host = lab.host("converging")
    # The deploy lands a few seconds after the gate started: the images appear in the engine.
    deploy = threading.Timer(4, host.check, ["docker tag alpine:3.2 fleetready-lab/app:1.0 &&"
                                             " docker tag alpine:3.2 fleetready-lab/worker:1.0"])
    deploy.start()
    code, results, output = run_images_check(lab, "--retry-timeout", "40")
    deploy.join()
    by_host = {r["host"]: r for r in results["results"]}
    assert by_host["converging"]["outcome"] == "pass", output
    # The host that never converges is reported once, failing, after the window.
    assert by_host["broken"]["outcome"] == "fail"
    assert code == 1


def test_without_convergence_the_gate_fails_when_time_runs_out(lab):
    started = time.monotonic()
    code, results, output = run_images_check(lab, "--retry-timeout", "3")
    assert code == 1
    assert {r["host"]: r["outcome"] for r in results["results"]}["broken"] == "fail"
    assert time.monotonic() - started >= 3  # it did keep re-checking for the window
