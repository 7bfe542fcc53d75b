"""Metrics answering: the policy's metrics URL answers, from where it is scraped (the
controller, a named scrape point, or an agent on the host: monitoring.scrape_from), with
Prometheus text format carrying every expected metric. The fetch on the host itself is kept
as evidence: it tells an endpoint that is down from one that outsiders cannot reach."""

import pytest

from fleetready.judge.monitoring import finding


@pytest.mark.control(id="FR-MON-01", severity="medium", requirement="metrics answering")
def test_metrics_answering(policy, facts, metrics_scrape, request):
    url = policy["monitoring"]["metrics_url"]
    if url is None:
        pytest.skip("not applicable: no metrics_url in the profile")
    on_host = facts["monitoring"]
    if metrics_scrape is None:  # scrape_from: host
        fetched, problem = on_host, finding(url, on_host)
    else:
        request.node.user_properties.append(("metrics_scrape", metrics_scrape))
        fetched = metrics_scrape
        problem = finding(url, fetched, f" from {fetched['from']} at {fetched['url']}")
        if problem:
            problem += (
                "; on the host itself it answers: bound to loopback, or filtered on the way"
                if finding(url, on_host) is None
                else "; on the host itself neither"
            )
    assert problem is None, problem
    missing = [m for m in policy["monitoring"]["expect_metrics"] if m not in fetched["metrics"]]
    assert not missing, "; ".join(f"metric {m} missing" for m in missing)
