"""Metrics answering: the policy's metrics URL answers on the host with Prometheus text
format carrying every expected metric."""

import pytest


@pytest.mark.control(id="FR-MON-01", severity="medium", requirement="metrics answering")
def test_metrics_answering(policy, facts):
    url = policy["monitoring"]["metrics_url"]
    if url is None:
        pytest.skip("not applicable: no metrics_url in the profile")
    fetched = facts["monitoring"]
    assert fetched["curl_exit"] == 0, f"metrics endpoint {url} not answering"
    assert fetched["status"] == 200, f"metrics endpoint {url} answered HTTP {fetched['status']}"
    assert fetched["format_error"] is None, (
        f"metrics endpoint {url}: not Prometheus text format ({fetched['format_error']})")
    missing = [m for m in policy["monitoring"]["expect_metrics"] if m not in fetched["metrics"]]
    assert not missing, "; ".join(f"metric {m} missing" for m in missing)
