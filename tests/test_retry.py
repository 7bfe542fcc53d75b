"""--retry-timeout: a post-deploy gate re-checks failing results on fresh facts until they pass
or time runs out; only the last attempt is reported."""

import threading
import time

import pytest

from fixtures.retry import until_settled
from tests.conftest import run_fleetready


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(full={"converging": "missing_images", "broken": "missing_images"})


def run_images_check(lab, *args):
    return run_fleetready(
        [
            "--inventory",
            str(lab.files["inventory"]),
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-k",
            "FR-IMG",
            "--limit",
            "converging:broken",
            "--retry-interval",
            "1",
            *args,
        ]
    )


def test_a_host_that_converges_during_the_retry_window_passes(lab):
    host = lab.host("converging")
    # The deploy lands a few seconds after the gate started: the images appear in the engine.
    deploy = threading.Timer(
        4,
        host.check,
        ["docker tag alpine:3.2 fleetready-lab/app:1.0 && docker tag alpine:3.2 fleetready-lab/worker:1.0"],
    )
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


class FakeClock:
    """Time that moves only when the loop sleeps or an attempt costs some: the window's
    semantics tested without depending on how fast this machine is."""

    def __init__(self, attempt_cost):
        self.now, self.attempt_cost, self.attempts = 0.0, attempt_cost, []

    def attempt(self):
        self.attempts.append(self.now)
        self.now += self.attempt_cost
        return "fail"

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize(
    "cost, interval, expected",
    [
        (0, 4, [0, 4, 8, 10]),  # the last pause is cut short: one attempt at the deadline
        (1, 4, [0, 5, 10]),
        (0, 20, [0, 10]),  # an interval longer than the window still re-checks once
        (11, 4, [0]),  # the first attempt outlasted the window
    ],
)
def test_a_failing_check_is_rechecked_until_the_deadline_itself(cost, interval, expected):
    clock = FakeClock(cost)
    prepared = []
    result = until_settled(
        clock.attempt, lambda r: r == "pass", 10, interval, prepared.append, clock=lambda: clock.now, sleep=clock.sleep
    )
    assert result == "fail" and clock.attempts == expected
    assert len(prepared) == len(expected) - 1  # fresh facts before every re-check


def test_a_passing_attempt_ends_the_window():
    clock = FakeClock(1)
    outcomes = iter(["fail", "pass", "fail"])
    result = until_settled(
        lambda: clock.attempt() and next(outcomes),
        lambda r: r == "pass",
        10,
        2,
        lambda pause: None,
        clock=lambda: clock.now,
        sleep=clock.sleep,
    )
    assert result == "pass" and clock.attempts == [0, 3]
