"""pytest's --junitxml with hosts: each test case is classname=HOST, name="CONTROL check", and
carries the result's host, control, severity, outcome (and reason, waiver) as properties.

CI tools group test cases by classname, so a fleet reads as one group per host. A result
that could not be judged (error, unreachable) is an <error>, never a <failure>, wherever the
check stopped; what a check recorded itself (record_property) is written as JSON, masked.
"""

import json
import xml.etree.ElementTree as ET

import pytest

# pytest has no public handle on its JUnit writer (classname and name are set on its test case
# reporter); its stash key is the one private name this module uses.
from _pytest.junitxml import xml_key

from fleetready.outcome import redact
from fleetready.outcome.redact import redactor_of

from .atomic import write_atomic
from .results import other_params

PROPERTIES = ("host", "control", "severity", "requirement", "outcome", "reason")
UNJUDGED = ("error", "unreachable")


class JunitHosts:
    def __init__(self, xml, config):
        self.xml = xml
        self.config = config
        self.last = {}
        self.unjudged_calls = 0  # written as <failure> by pytest, to be moved to <error>

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        info = getattr(report, "fleetready", None)
        if info is not None:
            self.last[report.nodeid] = info
            self.unjudged_calls += report.when == "call" and report.failed and info["outcome"] in UNJUDGED
        if report.when == "teardown":  # pytest writes a test's recorded properties with its teardown
            report.user_properties = [(name, self.property_value(v)) for name, v in report.user_properties]
        # The test case is written when its teardown report arrives: name it just before.
        info = self.last.pop(report.nodeid, None) if report.when == "teardown" else None
        if info is None:
            return
        reporter = self.xml.node_reporter(report)
        reporter.add_attribute("classname", info["host"])
        reporter.add_attribute("name", f"{info['control']} {info['check']}{other_params(report.nodeid, info['host'])}")
        for name in PROPERTIES:
            if info.get(name):
                reporter.add_property(name, info[name])
        if info.get("waiver"):
            waiver = info["waiver"]
            reporter.add_property(
                "waiver", f"{waiver['reason']} (owner {waiver['owner']}, expires {waiver['expires']})"
            )

    def property_value(self, value):
        redactor = redactor_of(self.config)
        if isinstance(value, str):
            return redact.message(redactor, value)
        return json.dumps(redact.evidence(redactor, value), sort_keys=True, default=str)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self):
        # pytest writes a check that raised while being judged (not in setup) as a <failure>;
        # once its file is written, such unjudged results are moved to <error>.
        if not self.unjudged_calls:
            return
        tree = ET.parse(self.xml.logfile)
        suite = tree.getroot().find("testsuite")
        moved = 0
        for case in suite.iter("testcase"):
            outcome = next((p.get("value") for p in case.iter("property") if p.get("name") == "outcome"), None)
            failure = case.find("failure")
            if failure is not None and outcome in UNJUDGED:
                failure.tag = "error"
                moved += 1
        suite.set("failures", str(int(suite.get("failures")) - moved))
        suite.set("errors", str(int(suite.get("errors")) + moved))
        write_atomic(self.xml.logfile, ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True))


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        config.pluginmanager.register(JunitHosts(xml, config), "fleetready-junit")
