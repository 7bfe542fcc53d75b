"""Six checks reading one host's facts: together they must cost one remote command per host."""

import pytest

FIELDS = ["hostname", "kernel", "os", "os_version", "uptime_seconds", "hostname"]


@pytest.mark.control(id="FR-TEST-FACTS", severity="low", requirement="test")
@pytest.mark.parametrize("field", range(len(FIELDS)))
def test_reads_a_fact(facts, field):
    assert facts["system"][FIELDS[field]] is not None
