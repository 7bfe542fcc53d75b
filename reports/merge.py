"""Merge the JSON results of partial runs (shards) into one results file, one history entry and
one HTML report (the fleet block of --html, standalone).

A (host, check) present in several shards keeps the record of the shard that finished last.
The merged run spans the earliest start to the latest finish; its exit status is the worst.
"""

from markupsafe import Markup

from . import history
from .atomic import write_atomic
from .changes import diff
from .html_report import TEMPLATES, fleet_block, trend_points
from .json_report import dumps
from .results import document, load_results


def merge(paths):
    shards = sorted((load_results(p) for p in paths), key=lambda d: d.get("finished") or 0)
    records = {}
    for shard in shards:
        records.update((r["nodeid"], r) for r in shard["results"])
    return document(
        records.values(),
        min(s["started"] for s in shards),
        max(s["finished"] for s in shards),
        max(s["exit_status"] for s in shards),
        shards=[str(p) for p in paths],
    )


def run(paths, json_out, history_path=None, html_out=None):
    merged = merge(paths)
    if history_path:
        previous = history.previous_run(history_path)
        if previous is not None:
            merged["changes"] = dict(
                diff({r["nodeid"]: r for r in previous["results"]}, {r["nodeid"]: r for r in merged["results"]}),
                since=f"{history_path} run {previous['id']}",
            )
        history.record_run(
            history_path,
            merged["results"],
            merged["started"],
            merged["finished"],
            merged["exit_status"],
            source="merge",
        )
    write_atomic(json_out, dumps(merged))
    if html_out:
        points = trend_points(history_path, merged["results"], merged["started"])
        fleet = fleet_block(merged["results"], merged.get("changes"), points)
        page = TEMPLATES.get_template("merged.html.j2").render(fleet=Markup(fleet), shards=merged["shards"])
        write_atomic(html_out, page)
    return merged
