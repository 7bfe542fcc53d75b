"""--prometheus-textfile FILE: the run in Prometheus text format, for node_exporter's textfile
collector (point --collector.textfile.directory at the file's directory; the name must end
in .prom). It is written atomically (temporary file, then rename), so the collector never
reads half a file.

fleetready_check_status{host,check,control,severity,outcome} is 1 for the outcome each
(host, check) ended with; alert on e.g. fleetready_check_status{outcome=~"fail|error|unreachable"}.
"""

import pytest

from fleetready.outcome.outcomes import OUTCOMES, summary

from .atomic import write_atomic
from .results import other_params, results_of


def _client():
    """prometheus_client, imported when a textfile is written: about 20 ms of start-up, which a
    run without --prometheus-textfile does without."""
    import prometheus_client.core

    return prometheus_client


class RunCollector:
    """One scrape's worth of metrics for a finished run."""

    def __init__(self, records, started, finished, exit_status):
        self.records = list(records)
        self.started, self.finished, self.exit_status = started, finished, int(exit_status)

    def collect(self):
        GaugeMetricFamily = _client().core.GaugeMetricFamily  # noqa: N806 (the library's class)
        status = GaugeMetricFamily(
            "fleetready_check_status",
            "Outcome of a check on a host: 1 for the outcome it ended with.",
            labels=["host", "check", "control", "severity", "outcome"],
        )
        for r in sorted(self.records, key=lambda r: r["nodeid"]):
            status.add_metric([r["host"], _check(r), r["control"] or "", r["severity"] or "", r["outcome"]], 1)
        yield status
        s = summary(self.records)
        totals = GaugeMetricFamily(
            "fleetready_results", "(host, check) results of the last run by outcome.", labels=["outcome"]
        )
        for outcome in OUTCOMES:
            totals.add_metric([outcome], s["outcomes"][outcome])
        yield totals
        yield GaugeMetricFamily("fleetready_hosts", "Hosts checked by the last run.", value=s["hosts"])
        if s["compliance"] is not None:
            yield GaugeMetricFamily(
                "fleetready_compliance_ratio",
                "Passed share of the judged (not skipped) results, 0 to 1.",
                value=s["compliance"] / 100,
            )
        yield GaugeMetricFamily(
            "fleetready_run_start_timestamp_seconds", "When the last run started.", value=self.started
        )
        yield GaugeMetricFamily(
            "fleetready_run_end_timestamp_seconds", "When the last run finished.", value=self.finished
        )
        yield GaugeMetricFamily(
            "fleetready_run_exit_status", "Exit status of the last run (0: gate passed).", value=self.exit_status
        )


def _check(record):
    """The check's name, with its non-host parameters when it is parametrized (the endpoint)."""
    return record["check"] + other_params(record["nodeid"], record["host"] or "")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    results = results_of(session.config)
    path = session.config.option.prometheus_textfile
    if path and results is not None:
        registry = _client().CollectorRegistry()
        registry.register(RunCollector(results.records.values(), results.started, results.finished, session.exitstatus))
        write_atomic(path, _client().generate_latest(registry))
