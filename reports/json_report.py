"""--json-report FILE: one record per (host, check), written atomically at the end of the run.

The format is documented in docs/results-schema.json and docs/REPORTS.md.
"""

import json

import pytest

from .atomic import write_atomic
from .changes import CHANGES
from .results import document, results_of


def dumps(data):
    return json.dumps(data, indent=1, default=str)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    results = results_of(session.config)
    path = session.config.option.json_report
    if path and results is not None:
        extra = {"changes": session.config.stash[CHANGES]} if CHANGES in session.config.stash else {}
        write_atomic(
            path,
            dumps(document(results.records.values(), results.started, results.finished, session.exitstatus, **extra)),
        )
