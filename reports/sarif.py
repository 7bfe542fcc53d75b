"""--sarif FILE: a SARIF 2.1.0 log with one result per failing (host, check).

ruleId is the control ID, level follows severity, and the host is the result's logical
location (kind "host"); fleetready checks hosts, not source files, so there is no physical
location. Waived results are included with an accepted external suppression, so a SARIF
viewer shows them as suppressed rather than dropping them.
"""

import datetime
import json

import pytest

from fleetready.outcome.outcomes import FAILING

from .atomic import write_atomic
from .results import results_of

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# GitHub code scanning ranks rules by this CVSS-like score.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def rules_of(records):
    rules = {}
    for r in sorted(records, key=lambda r: r["control"] or ""):
        rules.setdefault(
            r["control"],
            {
                "id": r["control"],
                "name": r["check"],
                "shortDescription": {"text": r["requirement"] or r["check"]},
                "defaultConfiguration": {"level": LEVELS[r["severity"]]},
                "properties": {
                    "severity": r["severity"],
                    "security-severity": SECURITY_SEVERITY[r["severity"]],
                    "tags": ["fleetready", r["severity"]],
                },
            },
        )
    return list(rules.values())


def result_of(record, rule_index):
    outcome = record["outcome"] if record["outcome"] != "waived" else record["waived_outcome"]
    text = record["message"] or record["requirement"] or outcome
    if outcome != "fail":
        text = f"{outcome}: {text}"  # not a verdict on the host: it could not be judged
    result = {
        "ruleId": record["control"],
        "ruleIndex": rule_index,
        "level": LEVELS[record["severity"]],
        "kind": "fail",
        "message": {"text": text},
        "locations": [
            {"logicalLocations": [{"name": record["host"], "fullyQualifiedName": record["host"], "kind": "host"}]}
        ],
        # Stable identity across runs, so viewers track the same finding from run to run.
        "partialFingerprints": {"fleetready/v1": f"{record['host']}|{record['nodeid']}"},
        "properties": {
            "host": record["host"],
            "check": record["check"],
            "outcome": record["outcome"],
            "severity": record["severity"],
            "nodeid": record["nodeid"],
            **({"reason": record["reason"]} if record.get("reason") else {}),
            **{key: record[key] for key in ("subject", "findings") if key in record},
        },
    }
    if record["outcome"] == "waived":
        waiver = record["waiver"]
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{waiver['reason']} (owner {waiver['owner']}, expires {waiver['expires']})",
            }
        ]
    return result


def sarif_log(records, started, finished, exit_status):
    records = [r for r in records if r["control"]]
    rules = rules_of(records)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [
        result_of(r, index[r["control"]])
        for r in sorted(records, key=lambda r: r["nodeid"])
        if r["outcome"] in FAILING + ("waived",)
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "fleetready", "rules": rules}},
                "invocations": [
                    {
                        "executionSuccessful": int(exit_status) in (0, 1),
                        "exitCode": int(exit_status),
                        "startTimeUtc": _utc(started),
                        "endTimeUtc": _utc(finished),
                    }
                ],
                "results": results,
            }
        ],
    }


def _utc(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    results = results_of(session.config)
    path = session.config.option.sarif
    if path and results is not None:
        log = sarif_log(results.records.values(), results.started, results.finished, session.exitstatus)
        write_atomic(path, json.dumps(log, indent=1))
