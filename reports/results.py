"""The run's results, one record per (host, check), shared by every report and by the gate.

A record is `report.fleetready` of the last report a check reached (setup error, call, or
teardown error), plus `nodeid` and `duration`. `nodeid` names the (host, check) pair
uniquely, parametrized checks included, and is the key runs are compared by.
"""

import json
import time

import pytest

from fleetready.config.errors import ConfigError
from fleetready.outcome.outcomes import Result, summary

RESULTS = pytest.StashKey["Results"]()


class Results:
    def __init__(self):
        self.records: dict[str, Result] = {}
        self.started = time.time()
        self.finished = None

    def pytest_runtest_logreport(self, report):
        info = getattr(report, "fleetready", None)
        if info is not None:
            # The report's own dict, not a copy: a 10,000-host run keeps both (the terminal keeps
            # every report), and nothing changes a report's record once it is logged.
            info.update(nodeid=report.nodeid, duration=round(report.duration, 4))
            self.records[report.nodeid] = info

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self):
        self.finished = time.time()


def other_params(nodeid, host):
    """A parametrized check's parameters besides the host: test_x[web1-3] -> "[3]",
    test_tls_enforced[web1-api] -> "[api]"."""
    ids = nodeid.rpartition("[")[2][:-1] if nodeid.endswith("]") else ""
    if ids.startswith(host):
        ids = ids[len(host) :]
    elif ids.endswith(host):
        ids = ids[: -len(host)]
    ids = ids.strip("-")
    return f"[{ids}]" if ids else ""


def results_of(config):
    """The Results of this run (on the controller; None on an xdist worker)."""
    return config.stash.get(RESULTS, None)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        config.stash[RESULTS] = Results()
        config.pluginmanager.register(config.stash[RESULTS], "fleetready-results")


def document(records, started, finished, exit_status, **extra):
    """The JSON results document (docs/results-schema.json)."""
    records = list(records)
    return {
        "started": started,
        "finished": finished,
        "exit_status": int(exit_status),
        "summary": summary(records),
        **extra,
        "results": records,
    }


def load_results(path):
    """A JSON results file written by --json-report (or merge); ConfigError when it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ConfigError(path, f"cannot read: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(path, f"not a JSON results file: {e}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("results"), list)
        or not all(isinstance(r, dict) and {"nodeid", "host", "outcome"} <= r.keys() for r in data["results"])
    ):
        raise ConfigError(path, "not a fleetready JSON results file (needs results: [{nodeid, host, outcome, ...}])")
    return data
