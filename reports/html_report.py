"""pytest-html (--html FILE --self-contained-html) with the fleet in it: a summary, a host x
check matrix, changes since the last run, a compliance trend chart, and per result the host,
control, severity, outcome and (collapsed) evidence.

The markup is in templates/ (package data), autoescaped: everything that comes from a host or
the inventory is text wherever pytest-html inserts it. A fleet of 10,000 hosts still opens in
seconds: the matrix is paged (its first page in the HTML, the rest drawn from data on demand)
and the results table lists a bounded sample (benchmarks/html_bench.py measures it).
"""

import collections
import functools
import json

import jinja2
import pytest

from fleetready.outcome.outcomes import FAILING, summary

from . import history
from .changes import CHANGES
from .results import results_of
from .svg import trend

# Worst first: a matrix cell shows the worst outcome of a check's results on a host.
RANK = ("unreachable", "error", "fail", "waived", "pass", "skipped")
RANK_OF = {outcome: i for i, outcome in enumerate(RANK)}
COLORS = {
    "pass": "#c8ecc8",
    "fail": "#f7c4c4",
    "error": "#f3d39b",
    "unreachable": "#d9b3e6",
    "waived": "#fff3b0",
    "skipped": "#e8e8e8",
}
# pytest-html's result categories, which its filters count and select by.
RESULT = {
    "pass": "Passed",
    "fail": "Failed",
    "error": "Error",
    "unreachable": "Error",
    "waived": "Skipped",
    "skipped": "Skipped",
}
PAGE = 50  # hosts per matrix page
# Results table rows per (control, outcome): pytest-html draws every row it has when the page
# opens, a few milliseconds each.
ROWS_PER_KIND = 10
CHANGES_SHOWN = 10  # hosts named per check in each kind of change
TITLE_CHARS = 500  # of a finding in a matrix cell's tooltip (--json-report has all of it)

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader(__package__, "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@functools.cache
def _cells():
    """The table cells' macros, compiled when a report is written (about 10 ms of start-up)."""
    return TEMPLATES.get_template("table.html.j2").module


TABLE = pytest.StashKey()


def matrix(records):
    """The host x check matrix as data: the worst result per cell, hosts failing first.

    hosts: [[name, [[outcome index, message index] or None per check]]]; a message index 0 is
    no message. The template draws the first page; its script draws the others from this."""
    checks = sorted({(r["control"] or "", r["check"]) for r in records})
    column = {c: i for i, c in enumerate(checks)}
    worst = collections.defaultdict(lambda: [None] * len(checks))
    for r in records:
        cells, i = worst[r["host"]], column[r["control"] or "", r["check"]]
        if cells[i] is None or RANK_OF[r["outcome"]] < RANK_OF[cells[i]["outcome"]]:
            cells[i] = r

    def order(item):
        host, cells = item
        outcomes = [c["outcome"] for c in cells if c]
        return min(map(RANK_OF.get, outcomes)), -sum(o in FAILING for o in outcomes), host

    messages = {"": 0}  # one copy of each finding: hosts often share theirs
    hosts = [
        [
            host,
            [
                c
                and [RANK_OF[c["outcome"]], messages.setdefault((c.get("message") or "")[:TITLE_CHARS], len(messages))]
                for c in cells
            ],
        ]
        for host, cells in sorted(worst.items(), key=order)
    ]
    columns = [
        {
            "control": control,
            "check": check,
            "failing": sum(1 for cells in worst.values() if cells[i] and cells[i]["outcome"] in FAILING),
        }
        for i, (control, check) in enumerate(checks)
    ]
    return {"checks": columns, "outcomes": RANK, "messages": list(messages), "hosts": hosts, "page": PAGE}


def fleet_block(records, changes, trend_points, table=None):
    """The fleet summary, matrix, changes and trend, as pytest-html's summary shows them first."""
    return TEMPLATES.get_template("fleet.html.j2").render(
        colors=COLORS,
        summary=summary(records),
        matrix=matrix(records),
        changes=changes,
        changes_shown=CHANGES_SHOWN,
        chart=trend(trend_points),
        table=table or Table(),
    )


def trend_points(path, records, started):
    """(started, compliance) of the runs in the history at path (--history), else of this run."""
    # The history has this run already (recorded before pytest-html writes); else it is alone.
    return (
        [(run["started"], run["compliance"]) for run in history.trend(path)]
        if path
        else [(started, summary(records)["compliance"])]
    )


class Table:
    """pytest-html's results table: at most ROWS_PER_KIND rows per (control, outcome), each the
    suite's outcome with its host, control and severity."""

    per_kind = ROWS_PER_KIND

    def __init__(self):
        self.rows = collections.Counter()
        self.left_out = 0
        self.dropped = None  # pytest-html asks for a test's reports in turn: setup, call, teardown

    @property
    def listed(self):
        return sum(min(n, self.per_kind) for n in self.rows.values())

    def pytest_html_results_table_row(self, report, cells):
        info = getattr(report, "fleetready", None) or {}
        if report.passed and report.nodeid == self.dropped:
            # Its passed teardown too: pytest-html would keep an empty entry for the test, 90
            # bytes each in the report.
            cells.clear()
            return
        if info and (report.when == "call" or not report.passed):  # a row pytest-html keeps
            kind = info["control"], info["outcome"]
            self.rows[kind] += 1
            if self.rows[kind] > self.per_kind:
                self.left_out += 1
                self.dropped = report.nodeid
                cells.clear()  # pytest-html leaves the row out
                return
        if info:  # the suite's outcome, not pytest's: an unreachable host failed nothing, it was not judged
            cells[0] = _cells().td(RESULT[info["outcome"]], "col-result")
        # pytest-html puts the test ID in unescaped; a host name is inventory input.
        cells[1:2] = [
            _cells().td(info.get("host") or "", "col-host"),
            _cells().td(info.get("control") or "", "col-control"),
            _cells().td(info.get("severity") or ""),
            _cells().td(info.get("outcome") or "", "o-" + (info.get("outcome") or "")),
            _cells().td(report.nodeid, "col-testId"),
        ]


def pytest_configure(config):
    config.stash[TABLE] = Table()
    config.pluginmanager.register(config.stash[TABLE], "fleetready-html-table")


def pytest_html_results_summary(prefix, summary, postfix, session):
    results = results_of(session.config)
    if results is None:
        return
    records = list(results.records.values())
    prefix.append(
        fleet_block(
            records,
            session.config.stash.get(CHANGES, None),
            trend_points(session.config.option.history, records, results.started),
            session.config.stash[TABLE],
        )
    )


def pytest_html_results_table_header(cells):
    cells[1:1] = [
        _cells().th("Host", "host"),
        _cells().th("Control", "control"),
        _cells().th("Severity"),
        _cells().th("Outcome"),
    ]


def pytest_html_results_table_html(report, data):
    info = getattr(report, "fleetready", None)
    if info is None:
        return
    if info.get("message"):
        data.insert(0, _cells().finding(info["message"]))
    if info.get("waiver"):
        data.insert(1, _cells().waiver(info["waiver"]))
    if info.get("evidence"):
        data.append(_cells().evidence(json.dumps(info["evidence"], indent=1, default=str, sort_keys=True)))
