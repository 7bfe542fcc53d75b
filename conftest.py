"""fleetready's pytest plugin: the modules below are the whole of it."""

pytest_plugins = [
    "fixtures.options",
    "fixtures.targets",
    "fixtures.outcomes",
    "fixtures.tls_probe",
    "reports.json_report",
]
