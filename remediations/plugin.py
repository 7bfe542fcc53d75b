"""--remediate plan|apply: for a check that fails on a host and has a fix (remediations/fix_*.py),
record what would be done (plan) or do it and re-check (apply).

apply, per failing (host, check): admit the host (at most --remediate-max-hosts hosts a run,
each under its lock on the host, held until the run ends; a lock another run holds is waited
for, at most lock.WAIT seconds, and the check then re-run on fresh facts before anything is
done), apply the fix, gather the host's facts again and re-run the same check; only that
re-run's reports are logged, so a fix never turns a check into a pass that the re-check did
not prove. A fix whose re-check fails (or whose apply failed) undoes its own changes.

A fix plans once per host in a run: another check it answers (FR-FW-01 and FR-FW-02) refers
to that plan instead of repeating it. Every result but `fixed` has a one-line message saying
why. Every report of the check carries the record as report.fleetready["remediation"]; every
record of an action is also appended to the audit log (--remediation-log).
"""

import datetime
import functools
import importlib
import json
import os
import pkgutil
import secrets

import pytest

from fleetready.gather.fleet import FLEET
from fleetready.rerun import attempt, protocol

from . import audit, lock
from .base import Applied, Conflict, Context, NotFixable, failure, one_line

STATE = pytest.StashKey()
FUNCARGS = pytest.StashKey()


@functools.cache
def fixes():
    """{control ID: Fix} from every remediations/fix_*.py module's FIX."""
    found = {}
    for m in sorted(pkgutil.iter_modules([os.path.dirname(__file__)]), key=lambda m: m.name):
        if m.name.startswith("fix_"):
            fix = importlib.import_module(f"{__package__}.{m.name}").FIX
            found.update(dict.fromkeys(fix.controls, fix))
    return found


class RunState:
    """The hosts this run may change, the locks it holds on them, its plans."""

    def __init__(self, config):
        self.mode = config.option.remediate
        self.max_hosts = config.option.remediate_max_hosts
        self.log = config.option.remediation_log
        self.run_id = secrets.token_hex(6)
        self.owner = lock.owner_line(self.run_id)
        self.held = {}  # host name -> testinfra Host whose lock we hold
        self.busy = {}  # host name -> owner line of the run that kept its lock past our wait
        self.plans = {}  # (host name, fix name) -> its one record in this run
        self.records = []

    def admit(self, target, host):
        """(None, owner line of a run that held the host's lock before us, or None) when this run
        may change the host; else (why not: "skipped: max hosts" or "busy", the holder)."""
        if target.name in self.held:
            return None, None
        if target.name in self.busy:
            return "busy", self.busy[target.name]
        if len(self.held) >= self.max_hosts:
            return "skipped: max hosts", None
        acquired, holder = lock.acquire_waiting(host, self.owner)
        if not acquired:
            self.busy[target.name] = holder
            return "busy", holder
        self.held[target.name] = host
        return None, holder

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
    config.stash[STATE] = RunState(config)


def pytest_sessionfinish(session):
    state = session.config.stash.get(STATE, None)
    if state is not None:
        state.release_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # An attempt drops funcargs at its end; a fix needs the facts the check judged.
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
    return {
        "outcome": info["outcome"],
        "message": info["message"],
        "facts": {name: values.get(name) for name in fix.facts},
    }


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    state = item.config.stash.get(STATE, None)
    marker = item.get_closest_marker("control")
    fix = fixes().get(marker.kwargs.get("id")) if marker else None
    target = _target(item)
    if state is None or fix is None or target is None:
        return None
    return protocol(item, lambda: _checked(item, nextitem, fix, target, state))


def _checked(item, nextitem, fix, target, state):
    """The reports to log: the check's, or, when it failed, those remediate() returns, each
    carrying the remediation record."""
    reports = attempt(item, nextitem)
    failed = _failed(reports)
    if failed is None:
        return reports
    record, reports = remediate(item, nextitem, failed, fix, target, state)
    for report in reports:
        if getattr(report, "fleetready", None) is not None:
            report.fleetready["remediation"] = record
    return reports


def remediate(item, nextitem, failed, fix, target, state):
    """(record, the reports to log): the failing ones, or those of the re-check after apply."""
    config, fleet = item.config, item.config.stash[FLEET]
    funcargs = item.stash.get(FUNCARGS, {})
    record = {
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "run": state.run_id,
        "host": target.name,
        "check": item.originalname,
        "control": failed.fleetready["control"],
        "fix": fix.name,
        "mode": state.mode,
        "disruptive": fix.disruptive,
        "before": _evidence(failed.fleetready, fix, funcargs),
        "plan": [],
        "commands": [],
        "after": None,
        "message": "",
    }
    first = state.plans.get((target.name, fix.name))
    # One plan per host per fix (FR-FW-01 and FR-FW-02 share theirs), unless the first found
    # nothing to do after another run's changes.
    if first is not None and first.get("result") != "re-checked":
        return _same_plan(record, first, failed), [failed]
    state.plans[(target.name, fix.name)] = record
    reports = [failed]
    ctx = _context(item, target, fleet, config)
    steps = _plan(fix, ctx, record)
    if steps is None:
        return _done(state, record), reports
    if fix.plan_only:
        record.update(result="plan only", message="a human must make these changes: see the plan")
        return _done(state, record), reports
    if state.mode == "plan":
        record.update(result="planned", message=f"plan mode: {len(steps)} step(s) would run, nothing was changed")
        return _done(state, record), reports
    refused, holder = _admit(state, target, ctx.host)
    if refused:
        record.update(result=refused, holder=holder, message=_refusal(refused, holder, state))
        return _done(state, record), reports
    if holder:  # another run had the host until now: judge it as that run left it
        fleet.refresh(target, 0)
        reports = attempt(item, nextitem)
        after = _final(reports)
        if after["outcome"] != "fail":
            record.update(
                result="re-checked",
                holder=holder,
                after=_evidence(after, fix, item.stash.get(FUNCARGS, {})),
                message=f"{_who(holder)} held the host's lock; once it let go, the re-check on"
                f" fresh facts is {after['outcome']}: nothing to do",
            )
            return _done(state, record), reports
        ctx = _context(item, target, fleet, config)
        steps = _plan(fix, ctx, record)
        if steps is None:
            return _done(state, record), reports
    applied = _apply(fix, ctx, steps)
    fleet.refresh(target, 0)
    reports = attempt(item, nextitem)
    after = _final(reports)
    record.update(commands=applied.runs, after=_evidence(after, fix, item.stash.get(FUNCARGS, {})), **applied.notes)
    undone = None
    if applied.result != "rolled back" and not (applied.ok and after["outcome"] == "pass"):
        undone = _undo(fix, ctx, applied)
        if undone is not None:
            record["undo"] = undone.runs
            fleet.refresh(target, 0)  # later checks of the host judge it as the undo left it
    record["result"], record["message"] = _verdict(applied, after, undone)
    return _done(state, record), reports


def _context(item, target, fleet, config):
    funcargs = item.stash.get(FUNCARGS, {})
    # The host answered (the check failed on its facts), so its facts are at hand.
    facts = funcargs.get("facts") or fleet.facts(target)
    return Context(target, fleet.policy(target), facts, funcargs, fleet.connections.host(target), fleet, config)


def _plan(fix, ctx, record):
    """The fix's steps, recorded; None when there is nothing to apply (the record says why)."""
    try:
        steps = fix.plan(ctx)
    except Conflict as exc:
        record.update(
            result="conflict",
            message=one_line(str(exc)),
            conflicts=exc.conflicts,
            plan=[s.as_record() for s in exc.steps],
        )
        return None
    except NotFixable as exc:
        record.update(result="no fix", message=one_line(str(exc)))
        return None
    except Exception as exc:  # a broken fix must not end the run; the check stays failed
        record.update(result="remediation error", message=f"planning failed: {failure(exc)}")
        return None
    record["plan"] = [s.as_record() for s in steps]
    return steps


def _same_plan(record, first, failed):
    """The record of a check whose host already has this fix's plan in this run."""
    first.setdefault("also", []).append(record["control"])
    record.update(same_as=first["control"])
    if first["mode"] == "apply" and first["commands"]:
        record.update(
            result="still failing",
            message=f"{record['fix']} already ran on this host for"
            f" {first['control']} ({first['result']}), not again: {one_line(failed.fleetready['message'])}",
        )
    else:
        record.update(
            result=first["result"], message=f"the {record['fix']} plan of {first['control']}: {first['message']}"
        )
    return record


def _who(holder):
    try:
        owner = json.loads(holder)
        return f"run {owner['run']} (controller {owner['controller']}, pid {owner['pid']})"
    except (ValueError, KeyError, TypeError):
        return f"another run ({one_line(holder, 120) or 'owner unknown'})"


def _refusal(refused, holder, state):
    if refused == "busy":
        return (
            f"not re-checked: {_who(holder)} held the host's lock for over {lock.WAIT:g} s; this outcome"
            " is from facts gathered before that run's changes"
        )
    if refused == "skipped: max hosts":
        return f"--remediate-max-hosts {state.max_hosts} reached: the host was not changed"
    return one_line(holder)


def _verdict(applied, after, undone):
    """(result, one-line message) of an apply and its re-check."""
    if undone is None:
        reverted = ""
    elif undone.ok:
        reverted = "; the fix's changes were undone"
    else:
        reverted = f"; undoing the fix's changes failed: {undone.message or 'no answer'}"
    if applied.result == "rolled back":
        return "rolled back", applied.message
    if applied.result or not applied.ok:
        return applied.result or "remediation error", (applied.message or "a step failed") + reverted
    if after["outcome"] == "pass":
        return "fixed", ""
    return "still failing", f"the re-check is {after['outcome']}: {one_line(after['message'])}{reverted}"


def _admit(state, target, host):
    try:
        return state.admit(target, host)
    except Exception as exc:  # the lock could not even be asked for: nothing was changed
        return "remediation error", f"cannot take the host's remediation lock: {one_line(exc)}"


def _apply(fix, ctx, steps):
    try:
        return fix.apply(ctx, steps)
    except Exception as exc:  # a broken connection mid-fix: the re-check says where the host is
        reason = failure(exc)
        return Applied(
            ok=False,
            runs=[{"command": None, "rc": None, "output": reason}],
            message=f"the connection failed mid-fix: {reason}",
        )


def _undo(fix, ctx, applied):
    try:
        return fix.undo(ctx, applied)
    except Exception as exc:
        reason = failure(exc)
        return Applied(ok=False, runs=[{"command": None, "rc": None, "output": reason}], message=reason)


def _done(state, record):
    audit.append(state.log, record)
    state.records.append(record)
    return record


def pytest_terminal_summary(terminalreporter, config):
    state = config.stash.get(STATE, None)
    if state is None or not state.records:
        return
    terminalreporter.section(f"remediation ({state.mode}), audit log {state.log}")
    for r in state.records:  # one line per host and fix, with every check it answered
        controls = ",".join([r["control"], *r.get("also", [])])
        terminalreporter.line(
            f"{r['host']} {controls} {r['fix']}: {r['result']}" + (f" ({r['message']})" if r["message"] else "")
        )
