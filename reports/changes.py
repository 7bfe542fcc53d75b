"""What changed since the previous run: new failures, fixed, still failing.

The previous run is `--baseline FILE` (a JSON results file) or else the last run in
`--history`. Results are compared by nodeid, which names the (host, check) pair; a pair the
previous run did not have is new, one this run did not check is left out. A waived result
still fails its requirement: it is never "fixed" by being waived.
"""

import pytest

from fleetready.config.errors import ConfigError
from fleetready.outcome.outcomes import FAILING

from . import history
from .results import load_results, results_of

BASELINE = pytest.StashKey()  # {"source": str, "started": float, "results": {nodeid: record}}
CHANGES = pytest.StashKey()  # diff() of this run against the baseline

BAD = FAILING + ("waived",)


def diff(previous, current):
    """{"new", "fixed", "still_failing"}: lists of current records (fixed: previous ones)."""
    changes = {"new": [], "fixed": [], "still_failing": []}
    for nodeid, now in sorted(current.items()):
        before = previous.get(nodeid)
        was_bad = before is not None and before["outcome"] in BAD
        if now["outcome"] in BAD:
            changes["still_failing" if was_bad else "new"].append(_brief(now, before))
        elif was_bad and now["outcome"] == "pass":
            changes["fixed"].append(_brief(now, before))
    return changes


def _brief(now, before):
    return {
        "nodeid": now["nodeid"],
        "host": now["host"],
        "check": now["check"],
        **({"subject": now["subject"]} if now.get("subject") else {}),
        "control": now["control"],
        "severity": now["severity"],
        "outcome": now["outcome"],
        "previous": before["outcome"] if before else None,
        "message": now.get("message") or "",
    }


def baseline_of(config):
    return config.stash.get(BASELINE, None)


def load_baseline(option):
    if option.baseline:
        data = load_results(option.baseline)
        return {
            "source": option.baseline,
            "started": data.get("started"),
            "results": {r["nodeid"]: r for r in data["results"]},
        }
    if option.history:
        run = history.previous_run(option.history)
        if run is not None:
            return {
                "source": f"{option.history} run {run['id']}",
                "started": run["started"],
                "results": {r["nodeid"]: r for r in run["results"]},
            }
    return None


def pytest_configure(config):
    if hasattr(config, "workerinput"):
        return
    try:
        baseline = load_baseline(config.option)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if baseline is not None:
        config.stash[BASELINE] = baseline


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    baseline, results = baseline_of(session.config), results_of(session.config)
    if baseline is not None and results is not None:
        session.config.stash[CHANGES] = dict(diff(baseline["results"], results.records), since=baseline["source"])


def pytest_terminal_summary(terminalreporter, config):
    changes = config.stash.get(CHANGES, None)
    if changes is None:
        return
    terminalreporter.section(f"changes since {changes['since']}")
    for kind, title in (("new", "new failures"), ("fixed", "fixed"), ("still_failing", "still failing")):
        terminalreporter.line(f"{title}: {len(changes[kind])}", red=kind == "new" and bool(changes[kind]))
        for r in changes[kind]:
            subject = f" {r['subject']}" if r.get("subject") else ""
            terminalreporter.line(f"  {r['host']} {r['control']} {r['check']}{subject}: {r['outcome']}")
