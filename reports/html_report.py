"""pytest-html (--html FILE --self-contained-html) with the fleet in it: a summary, a host x
check matrix, changes since the last run, a compliance trend chart, and per result the host,
control, severity, outcome and (collapsed) evidence.

Everything that comes from a host or the inventory is escaped here: pytest-html inserts
table cells and summary blocks as HTML.
"""

import json
from html import escape

from . import history
from .changes import CHANGES
from .results import results_of, summary
from .svg import trend_chart

# Worst first: a matrix cell shows the worst outcome of a check's results on a host.
RANK = ("unreachable", "error", "fail", "waived", "pass", "skipped")
COLORS = {"pass": "#c8ecc8", "fail": "#f7c4c4", "error": "#f3d39b", "unreachable": "#d9b3e6",
          "waived": "#fff3b0", "skipped": "#e8e8e8"}
# pytest-html's result categories, which its filters count and select by.
RESULT = {"pass": "Passed", "fail": "Failed", "error": "Error", "unreachable": "Error",
          "waived": "Skipped", "skipped": "Skipped"}
# pytest-html puts its Environment block (the Python, the plugins) before the summary: the
# fleet is what the report is read for, so the summary comes first and Environment after it.
STYLE = ("<style>body{display:flex;flex-direction:column}#environment-header,#environment{order:1}"
         "#results-table,footer{order:2}.fleetready table{border-collapse:collapse;margin:6px 0 14px}"
         ".fleetready td,.fleetready th{border:1px solid #bbb;padding:3px 8px;font-size:13px}"
         + "".join(f".fleetready .o-{o}{{background:{c}}}" for o, c in COLORS.items()) + "</style>")


def fleet_summary(records):
    s = summary(records)
    counts = ", ".join(f"{n} {o}" for o, n in s["outcomes"].items() if n)
    compliance = "n/a" if s["compliance"] is None else f"{s['compliance']:.1f}%"
    return (f"<h3>Fleet</h3><p class='fleetready-summary'>{s['hosts']} hosts, {s['checks']} checks, "
            f"{s['results']} results: {escape(counts)}. Compliance <b>{compliance}</b></p>")


def matrix(records):
    hosts = sorted({r["host"] for r in records})
    checks = sorted({(r["control"] or "", r["check"]) for r in records})
    cells = {}
    for r in records:
        key = (r["host"], r["control"] or "", r["check"])
        if key not in cells or RANK.index(r["outcome"]) < RANK.index(cells[key]["outcome"]):
            cells[key] = r
    head = "".join(f"<th title='{escape(check)}'>{escape(control or check)}</th>" for control, check in checks)
    rows = []
    for host in hosts:
        row = [f"<th>{escape(host)}</th>"]
        for control, check in checks:
            r = cells.get((host, control, check))
            row.append("<td></td>" if r is None else
                       f"<td class='o-{r['outcome']}' title='{escape(r.get('message') or '')}'>{r['outcome']}</td>")
        rows.append(f"<tr>{''.join(row)}</tr>")
    return (f"<h3>Hosts &times; checks</h3><table class='fleetready-matrix'><tr><th>host</th>{head}</tr>"
            + "".join(rows) + "</table>")


def changes_block(changes):
    if changes is None:
        return "<h3>Changes since the last run</h3><p>No previous run (--history or --baseline).</p>"
    parts = [f"<h3>Changes since {escape(changes['since'])}</h3>"]
    for kind, title in (("new", "New failures"), ("fixed", "Fixed"), ("still_failing", "Still failing")):
        items = "".join(f"<li>{escape(r['host'])} {escape(r['control'] or '')} {escape(r['check'])}: "
                        f"{escape(r['outcome'])}</li>" for r in changes[kind])
        parts.append(f"<p class='fleetready-{kind}'><b>{title}: {len(changes[kind])}</b></p><ul>{items}</ul>")
    return "".join(parts)


def trend_block(config, records, started):
    path = config.option.history
    # The history has this run already (recorded before pytest-html writes); else it is alone.
    points = [(run["started"], run["compliance"]) for run in history.trend(path)] if path else [
        (started, summary(records)["compliance"])]
    return "<h3>Compliance trend</h3>" + trend_chart(points)


def pytest_html_results_summary(prefix, summary, postfix, session):
    results = results_of(session.config)
    if results is None:
        return
    records = list(results.records.values())
    prefix.append(f"<div class='fleetready'>{STYLE}{fleet_summary(records)}{matrix(records)}"
                  f"{changes_block(session.config.stash.get(CHANGES, None))}"
                  f"{trend_block(session.config, records, results.started)}</div>")


def pytest_html_results_table_header(cells):
    cells[1:1] = ["<th class='sortable' data-column-type='host'>Host</th>",
                  "<th class='sortable' data-column-type='control'>Control</th>",
                  "<th>Severity</th>", "<th>Outcome</th>"]


def pytest_html_results_table_row(report, cells):
    info = getattr(report, "fleetready", None) or {}
    if info:   # the suite's outcome, not pytest's: an unreachable host failed nothing, it was not judged
        cells[0] = f'<td class="col-result">{RESULT[info["outcome"]]}</td>'
    # pytest-html puts the test ID in unescaped; a host name is inventory input.
    cells[1:2] = [f'<td class="col-host">{escape(info.get("host") or "")}</td>',
                  f'<td class="col-control">{escape(info.get("control") or "")}</td>',
                  f'<td>{escape(info.get("severity") or "")}</td>',
                  f'<td class="o-{escape(info.get("outcome") or "")}">{escape(info.get("outcome") or "")}</td>',
                  f'<td class="col-testId">{escape(report.nodeid)}</td>']


def pytest_html_results_table_html(report, data):
    info = getattr(report, "fleetready", None)
    if info is None:
        return
    if info.get("message"):
        data.insert(0, f"<b>Finding:</b> {escape(info['message'])}\n")
    if info.get("waiver"):
        w = info["waiver"]
        data.insert(1, f"<b>Waived:</b> {escape(w['reason'])} (owner {escape(w['owner'])}, expires {escape(w['expires'])})\n")
    if info.get("evidence"):
        data.append("<details><summary>Evidence</summary>"
                    f"{escape(json.dumps(info['evidence'], indent=1, default=str, sort_keys=True))}</details>")

