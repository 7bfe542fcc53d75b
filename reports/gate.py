"""The gate: thresholds on failing results per severity decide the exit status.

`--gate "critical=0,high=0,medium=3"` allows at most that many failing results of each named
severity; a severity left out is not gated. Without --gate every severity allows none (the
suite's exit status: 1 on any failure). Failing means fail, error or unreachable. Waived
results are counted apart and never fail it.

A host that did not answer fails the gate whatever the thresholds, `--gate-new-only` included:
nothing is known about it, so no severity can be said to be within its limit, nor any failure
to be old.

`--gate-new-only` counts only failures that are new against the baseline (--baseline or the
last --history run). Errors always count: what could not be judged cannot be shown to be old.
"""

import pytest

from fleetready.outcome.outcomes import FAILING, SEVERITIES

from .changes import BAD, baseline_of
from .results import results_of

GATE = pytest.StashKey()  # Gate of this run


def parse(spec):
    """ "critical=0,high=2" -> {"critical": 0, "high": 2}; ValueError saying what is wrong."""
    limits = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = (s.strip() for s in part.partition("="))
        if name not in SEVERITIES:
            raise ValueError(f"{name!r} is not a severity (one of {', '.join(SEVERITIES)})")
        if not sep or not value.isdigit():
            raise ValueError(f"{part!r}: expected SEVERITY=N with N a whole number")
        if name in limits:
            raise ValueError(f"{name} given twice")
        limits[name] = int(value)
    if not limits:
        raise ValueError("no thresholds, expected e.g. critical=0,high=0,medium=3")
    return limits


def counted(record, baseline):
    """Whether a record counts against the gate (baseline: {nodeid: record} or None for all)."""
    if record["outcome"] not in FAILING:
        return False
    if baseline is None or record["outcome"] != "fail":
        return True
    before = baseline.get(record["nodeid"])
    return before is None or before["outcome"] not in BAD


def evaluate(records, limits, baseline=None):
    """{"passed", "limits", "failing": {severity: n}, "waived": {severity: n}, "unreachable": n
    hosts, "new_only"}."""
    failing = dict.fromkeys(SEVERITIES, 0)
    waived = dict.fromkeys(SEVERITIES, 0)
    unreachable = set()
    for r in records:
        if counted(r, baseline):
            failing[r["severity"]] += 1
        elif r["outcome"] == "waived":
            waived[r["severity"]] += 1
        if r["outcome"] == "unreachable":
            unreachable.add(r["host"])
    passed = not unreachable and all(failing[s] <= n for s, n in limits.items())
    return {
        "passed": passed,
        "limits": limits,
        "failing": failing,
        "waived": waived,
        "unreachable": len(unreachable),
        "new_only": baseline is not None,
    }


def why_failed(verdict, other_failures=0):
    """What failed the gate, e.g. ["1 host unreachable", "critical over its limit"]."""
    n = verdict["unreachable"]
    reasons = [f"{n} host{'s' if n != 1 else ''} unreachable"] if n else []
    reasons += [f"{s} over its limit" for s, n in verdict["limits"].items() if verdict["failing"][s] > n]
    if other_failures:
        reasons.append(f"{other_failures} failed test{'s' if other_failures != 1 else ''} outside any host")
    return reasons


class Gate:
    def __init__(self, limits, explicit, new_only):
        self.limits = limits
        self.explicit = explicit
        self.new_only = new_only
        self.other_failures = 0
        self.verdict = None

    def pytest_runtest_logreport(self, report):
        # A failed test that is no (host, check), such as a check module's own bug outside any
        # host, is nothing the thresholds can weigh: it keeps the run failed.
        if report.failed and getattr(report, "fleetready", None) is None:
            self.other_failures += 1

    def pytest_collectreport(self, report):
        # So is a module that did not collect (an import error, or pytest-xdist's workers
        # collecting different tests): pytest's own exit status says so, the thresholds must not undo it.
        if report.failed:
            self.other_failures += 1

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session):
        results = results_of(session.config)
        if results is None or session.exitstatus not in (0, 1):
            return
        baseline = None
        if self.new_only:
            # No previous run recorded yet: every failure is new.
            baseline = (baseline_of(session.config) or {"results": {}})["results"]
        self.verdict = evaluate(results.records.values(), self.limits, baseline)
        self.verdict["passed"] = self.verdict["passed"] and not self.other_failures
        session.exitstatus = pytest.ExitCode.OK if self.verdict["passed"] else pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        v = self.verdict
        if v is None or not (self.explicit or self.new_only or any(v["waived"].values())):
            return
        terminalreporter.section("gate", green=v["passed"], red=not v["passed"])
        for severity in SEVERITIES:
            limit = v["limits"].get(severity)
            verdict = "not gated" if limit is None else ("ok" if v["failing"][severity] <= limit else "OVER")
            terminalreporter.line(
                f"{severity:<8} failing {v['failing'][severity]:>3}  limit {'-' if limit is None else limit:>3}"
                f"  waived {v['waived'][severity]:>3}  {verdict}"
            )
        scope = " (new failures only)" if v["new_only"] else ""
        why = "" if v["passed"] else ": " + ", ".join(why_failed(v, self.other_failures))
        terminalreporter.line(f"gate {'PASSED' if v['passed'] else 'FAILED'}{scope}{why}", bold=True)


def gate_of(config):
    return config.stash.get(GATE, None)


def pytest_configure(config):
    opt = config.option
    if hasattr(config, "workerinput"):
        return
    try:
        limits = parse(opt.gate) if opt.gate else dict.fromkeys(SEVERITIES, 0)
    except ValueError as exc:
        raise pytest.UsageError(f"--gate: {exc}") from None
    if opt.gate_new_only and not (opt.baseline or opt.history):
        raise pytest.UsageError("--gate-new-only needs --baseline FILE or --history FILE")
    config.stash[GATE] = Gate(limits, bool(opt.gate), opt.gate_new_only)
    config.pluginmanager.register(config.stash[GATE], "fleetready-gate")
