"""--json-report FILE: one record per (host, check), written atomically at the end of the run."""

import json
import os
import tempfile
import time


def pytest_addoption(parser):
    parser.getgroup("fleetready").addoption(
        "--json-report", metavar="FILE", help="write one JSON record per host and check to FILE")


class JsonReport:
    def __init__(self, path):
        self.path = path
        self.records = {}
        self.started = time.time()

    def pytest_runtest_logreport(self, report):
        info = getattr(report, "fleetready", None)
        if info is None:
            return
        # setup errors, the call, and a teardown error: the last one a check reaches stands.
        self.records[report.nodeid] = dict(info, nodeid=report.nodeid,
                                           duration=round(report.duration, 4))

    def pytest_sessionfinish(self, session, exitstatus):
        data = {
            "started": self.started,
            "finished": time.time(),
            "exit_status": int(exitstatus),
            "results": list(self.records.values()),
        }
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        # A run killed mid-write must never leave half a report behind.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".fleetready-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1, default=str)
        os.replace(tmp, self.path)


def pytest_configure(config):
    path = config.option.json_report
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(JsonReport(path), "fleetready-json-report")
