"""What a (host, check) can end as, and the record every report and the gate read of it
(docs/results-schema.json is the same record for readers of the JSON report)."""

from typing import Any, Literal, NotRequired, TypedDict

Outcome = Literal["pass", "fail", "error", "unreachable", "waived", "skipped"]
Severity = Literal["critical", "high", "medium", "low"]

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
# Outcomes that fail a requirement; a waived one is counted apart, a skipped one is not judged.
FAILING: tuple[Outcome, ...] = ("fail", "error", "unreachable")
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "error", "unreachable", "waived", "skipped")


class Waiver(TypedDict):
    reason: str
    owner: str
    expires: str  # YYYY-MM-DD
    source: str  # FILE:LINE


class Finding(TypedDict):
    """One thing a check found wrong (fleetready/outcome/findings.py); `waiver` when one accepts it."""

    subject: str  # what it is about: a TLS endpoint's name, an image reference, a port
    code: str  # a problem code, stable across runs: what a waiver names
    message: str
    waiver: NotRequired[Waiver]


class Result(TypedDict):
    """One (host, check): set by the plugin as the check ends (fixtures/outcomes.py); `nodeid`
    and `duration` are added when the run's results collect it (reports/results.py)."""

    host: str | None
    check: str
    control: str | None
    severity: Severity | None
    requirement: str | None
    outcome: Outcome
    message: str
    phase: Literal["setup", "call", "teardown"]
    evidence: dict[str, Any] | None  # the host's facts and what the check recorded (call only)
    subject: NotRequired[str]  # a check run per subject of a host (a TLS endpoint): its name
    findings: NotRequired[list[Finding]]  # a fail's findings, when its check reports them one by one
    reason: NotRequired[str]  # unreachable only: refused, timeout, auth, host key, ...
    waived_outcome: NotRequired[Outcome]
    waiver: NotRequired[Waiver]
    remediation: NotRequired[dict[str, Any]]
    nodeid: NotRequired[str]  # names the (host, check) pair: the key runs are compared by
    duration: NotRequired[float]


class Summary(TypedDict):
    hosts: int
    checks: int
    results: int
    outcomes: dict[str, int]
    compliance: float | None  # passed share of the judged (not skipped) results, in percent


def summary(records: list[Result]) -> Summary:
    """Counts by outcome, hosts, and compliance."""
    counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
    for r in records:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    judged = sum(counts.values()) - counts["skipped"]
    return {
        "hosts": len({r["host"] for r in records}),
        "checks": len({r["check"] for r in records}),
        "results": len(records),
        "outcomes": counts,
        "compliance": round(100.0 * counts["pass"] / judged, 2) if judged else None,
    }
