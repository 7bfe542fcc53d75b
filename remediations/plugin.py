"""--remediate plan|apply: for a check that fails on a host and has a fix (remediations/fix_*.py),
record what would be done (plan) or do it and re-check (apply).

apply, per failing (host, check): admit the host (at most --remediate-max-hosts hosts a run,
each under its lock on the host, held until the run ends), apply the fix, gather the host's
facts again and re-run the same check; only that re-run's reports are logged, so a fix never
turns a check into a pass that the re-check did not prove. Every report of the check carries
the record as report.fleetready["remediation"]; every record is also appended to the audit
log (--remediation-log).
"""

import datetime
import functools
import importlib
import pkgutil
import secrets

import pytest
from _pytest.runner import runtestprotocol

import remediations
from fixtures.targets import FLEET
from remediations import audit, lock
from remediations.base import Applied, Context, NotFixable

STATE = pytest.StashKey()
FUNCARGS = pytest.StashKey()


@functools.cache
def fixes():
    """{control ID: Fix} from every remediations/fix_*.py module's FIX."""
    found = {}
    for m in sorted(pkgutil.iter_modules(remediations.__path__), key=lambda m: m.name):
        if m.name.startswith("fix_"):
            fix = importlib.import_module(f"remediations.{m.name}").FIX
            found.update(dict.fromkeys(fix.controls, fix))
    return found


class RunState:
    """The hosts this run may change and the locks it holds on them."""

    def __init__(self, config):
        self.mode = config.option.remediate
        self.max_hosts = config.option.remediate_max_hosts
        self.log = config.option.remediation_log
        self.run_id = secrets.token_hex(6)
        self.owner = lock.owner_line(self.run_id)
        self.held = {}      # host name -> testinfra Host whose lock we hold
        self.records = []

    def admit(self, target, host):
        """None when the run may change the host, else why not ("skipped: max hosts", "busy")."""
        if target.name in self.held:
            return None, None
        if len(self.held) >= self.max_hosts:
            return "skipped: max hosts", None
        acquired, holder = lock.acquire(host, self.owner)
        if not acquired:
            return "busy", holder
        self.held[target.name] = host
        return None, None

    def release_all(self):
        for host in self.held.values():
            try:
                lock.release(host, self.owner)
            except Exception:  # a host lost since: its lock goes stale (remediations/lock.py)
                pass
        self.held.clear()


def pytest_configure(config):
    if config.option.remediate == "off":
        return
    if config.option.retry_timeout > 0:
        raise pytest.UsageError("--remediate re-checks by itself: do not combine it with --retry-timeout")
    if config.option.remediate_max_hosts < 0:
        raise pytest.UsageError("--remediate-max-hosts must be 0 or more")
    config.stash[STATE] = RunState(config)


def pytest_sessionfinish(session):
    state = session.config.stash.get(STATE, None)
    if state is not None:
        state.release_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # runtestprotocol drops funcargs at its end; a fix needs the facts the check judged.
    if call.when == "call" and item.funcargs:
        item.stash[FUNCARGS] = dict(item.funcargs)
    return (yield)


def _target(item):
    return getattr(item, "callspec", None) and item.callspec.params.get("target")


def _failed(reports):
    """The call report of a check that failed on the host's facts (not error, not waived)."""
    for report in reports:
        info = getattr(report, "fleetready", None)
        if report.when == "call" and info and info["outcome"] == "fail":
            return report
    return None


def _final(reports):
    infos = [r.fleetready for r in reports if getattr(r, "fleetready", None)]
    return infos[-1] if infos else {"outcome": "error", "message": "no report"}


def _evidence(info, fix, funcargs):
    facts = funcargs.get("facts")
    values = facts.values if facts is not None else {}
    return {"outcome": info["outcome"], "message": info["message"],
            "facts": {name: values.get(name) for name in fix.facts}}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    state = item.config.stash.get(STATE, None)
    marker = item.get_closest_marker("control")
    fix = fixes().get(marker.kwargs.get("id")) if marker else None
    target = _target(item)
    if state is None or fix is None or target is None:
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    failed = _failed(reports)
    if failed is not None:
        record, reports = remediate(item, nextitem, failed, fix, target, state)
        for report in reports:
            if getattr(report, "fleetready", None) is not None:
                report.fleetready["remediation"] = record
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def remediate(item, nextitem, failed, fix, target, state):
    """(record, the reports to log): the failing ones, or those of the re-check after apply."""
    config, fleet = item.config, item.config.stash[FLEET]
    funcargs = item.stash.get(FUNCARGS, {})
    host = fleet.connections.host(target)
    # The host answered (the check failed on its facts), so its facts are at hand.
    facts = funcargs.get("facts") or fleet.facts(target)
    ctx = Context(target, fleet.policy(target), facts, funcargs, host, fleet, config)
    record = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "run": state.run_id, "host": target.name, "check": item.originalname,
              "control": failed.fleetready["control"], "fix": fix.name, "mode": state.mode,
              "disruptive": fix.disruptive, "before": _evidence(failed.fleetready, fix, funcargs),
              "plan": [], "commands": [], "after": None, "message": ""}
    reports = [failed]
    try:
        steps = fix.plan(ctx)
    except NotFixable as exc:
        record.update(result="no fix", message=str(exc))
        return _done(state, record), reports
    except Exception as exc:  # a broken fix must not end the run; the check stays failed
        record.update(result="remediation error", message=f"planning failed: {type(exc).__name__}: {exc}")
        return _done(state, record), reports
    record["plan"] = [s.as_record() for s in steps]
    if fix.plan_only:
        record["result"] = "plan only"
    elif state.mode == "plan":
        record["result"] = "planned"
    else:
        refused, holder = _admit(state, target, host)
        if refused:
            record.update(result=refused, message=holder or "")
            return _done(state, record), reports
        applied = _apply(fix, ctx, steps)
        fleet.refresh(target, 0)
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        after = _final(reports)
        record.update(commands=applied.runs, after=_evidence(after, fix, item.stash.get(FUNCARGS, {})),
                      **applied.notes)
        record["result"] = applied.result or (
            "remediation error" if not applied.ok else "fixed" if after["outcome"] == "pass" else "still failing")
    return _done(state, record), reports


def _admit(state, target, host):
    try:
        return state.admit(target, host)
    except Exception as exc:  # the lock could not even be asked for: nothing was changed
        return "remediation error", f"cannot take the host's remediation lock: {exc}"


def _apply(fix, ctx, steps):
    try:
        return fix.apply(ctx, steps)
    except Exception as exc:  # a broken connection mid-fix: the re-check says where the host is
        return Applied(ok=False, runs=[{"command": None, "rc": None, "output": f"{type(exc).__name__}: {exc}"}])


def _done(state, record):
    audit.append(state.log, record)
    state.records.append(record)
    return record


def pytest_terminal_summary(terminalreporter, config):
    state = config.stash.get(STATE, None)
    if state is None or not state.records:
        return
    terminalreporter.section(f"remediation ({state.mode}), audit log {state.log}")
    for r in state.records:
        terminalreporter.line(f"{r['host']} {r['control']} {r['fix']}: {r['result']}"
                              + (f" ({r['message']})" if r["message"] else ""))
