"""fleetready's pytest plugin: the modules below are the whole of it."""

pytest_plugins = [
    "fixtures.options",
    "fixtures.targets",
    "fixtures.outcomes",
    "fixtures.retry",
    "fixtures.tls_probe",
    "fixtures.firewall_probe",
    "fixtures.log_canary",
    "fixtures.waivers",
    "reports.results",
    "reports.history",
    "reports.changes",
    "reports.gate",
    "reports.json_report",
    "reports.junit",
    "reports.sarif",
    "reports.prometheus",
]
