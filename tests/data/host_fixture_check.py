"""A check using testinfra's `host` module objects: it must run on the target, not locally."""

import pytest


@pytest.mark.control(id="FR-TEST-HOST", severity="low", requirement="test")
def test_host_is_the_target(host, facts):
    assert host.run("hostname").stdout.strip() == facts["system"]["hostname"]
    assert host.file("/etc/os-release").exists
