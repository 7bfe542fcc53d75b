"""pytest's --junitxml with hosts: each test case is classname=HOST, name="CONTROL check", and
carries the result's host, control, severity, outcome (and reason, waiver) as properties.

CI tools group test cases by classname, so a fleet reads as one group per host.
"""

import pytest
from _pytest.junitxml import xml_key

PROPERTIES = ("host", "control", "severity", "requirement", "outcome", "reason")


class JunitHosts:
    def __init__(self, xml):
        self.xml = xml
        self.last = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        info = getattr(report, "fleetready", None)
        if info is not None:
            self.last[report.nodeid] = info
        # The test case is written when its teardown report arrives: name it just before.
        info = self.last.pop(report.nodeid, None) if report.when == "teardown" else None
        if info is None:
            return
        reporter = self.xml.node_reporter(report)
        reporter.add_attribute("classname", info["host"])
        reporter.add_attribute("name", f"{info['control']} {info['check']}{_other_params(report.nodeid, info['host'])}")
        for name in PROPERTIES:
            if info.get(name):
                reporter.add_property(name, info[name])
        if info.get("waiver"):
            waiver = info["waiver"]
            reporter.add_property("waiver", f"{waiver['reason']} (owner {waiver['owner']}, expires {waiver['expires']})")


def _other_params(nodeid, host):
    """A parametrized check's parameters besides the host: test_x[web1-3] -> "[3]"."""
    ids = nodeid.rpartition("[")[2][:-1] if nodeid.endswith("]") else ""
    if ids.startswith(host):
        ids = ids[len(host):]
    elif ids.endswith(host):
        ids = ids[:-len(host)]
    ids = ids.strip("-")
    return f"[{ids}]" if ids else ""


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        config.pluginmanager.register(JunitHosts(xml), "fleetready-junit")
