"""FR-MON-01 against real lab hosts: nginx serving node_up on 9100, or nothing there; judged on
the host (the lab profile's scrape_from: host) or from where Prometheus would scrape it."""

import pytest

from tests.labrun import run_cases

OPEN, LOOPBACK = 9301, 9300  # busybox httpd on the sound host: on every address / on loopback only
BODY = "# TYPE node_up gauge\nnode_up 1\n"


@pytest.fixture(scope="module")
def lab(make_lab):
    lab = make_lab(full={"sound": "sound", "metrics-down": "metrics_down", "peer": "sound"})
    host = lab.host("sound")
    # A web server on the sound host answering 200 with a body that is not Prometheus text.
    host.check(
        "mkdir -p /srv/www && echo '<html>metrics</html>' >/srv/www/metrics"
        " && busybox httpd -p 127.0.0.1:9200 -h /srv/www"
    )
    # Real metrics on two ports the firewall lets in: one bound to every address, one to loopback.
    host.check(
        "mkdir -p /srv/metrics && cat >/srv/metrics/metrics"
        f" && busybox httpd -p {OPEN} -h /srv/metrics && busybox httpd -p 127.0.0.1:{LOOPBACK} -h /srv/metrics"
        f" && nft add rule inet filter input tcp dport '{{ {OPEN}, {LOOPBACK} }}' accept",
        input=BODY,
    )
    return lab


def url(port):
    return f"http://127.0.0.1:{port}/metrics"


@pytest.fixture(scope="module")
def results(lab, tmp_path_factory):
    cases = {
        "sound": ("sound", None),
        "metrics-down": ("metrics-down", None),
        "missing-metric": ("sound", {"expect_metrics": ["node_up", "node_load1"]}),
        "redirected": ("sound", {"metrics_url": "http://127.0.0.1:80/metrics"}),
        "not-prometheus": ("sound", {"metrics_url": "http://127.0.0.1:9200/metrics"}),
        # Scraped from outside (the default scrape point is the controller), or by another host.
        "open": ("sound", {"metrics_url": url(OPEN), "scrape_from": "controller"}),
        "open-via-peer": ("sound", {"metrics_url": url(OPEN), "scrape_from": "peer"}),
        "loopback": ("sound", {"metrics_url": url(LOOPBACK), "scrape_from": "controller"}),
        "loopback-via-peer": ("sound", {"metrics_url": url(LOOPBACK), "scrape_from": "peer"}),
        "filtered": ("sound", {"scrape_from": "controller"}),  # nginx on 9100, which the firewall drops
        "down-outside": ("metrics-down", {"scrape_from": "controller"}),
        "peer": ("peer", None),
    }
    cases = {
        name: (lab_host, monitoring and {"monitoring": monitoring}) for name, (lab_host, monitoring) in cases.items()
    }
    report = run_cases(lab, cases, tmp_path_factory.mktemp("mon") / "inventory.yml", "FR-MON")
    return {r["host"]: r for r in report["results"] if r["control"] == "FR-MON-01"}


@pytest.mark.parametrize(
    "host, expected",
    [
        ("sound", ("pass", "")),
        ("metrics-down", ("fail", "metrics endpoint http://127.0.0.1:9100/metrics not answering")),
        ("missing-metric", ("fail", "metric node_load1 missing")),
        ("redirected", ("fail", "metrics endpoint http://127.0.0.1:80/metrics answered HTTP 301")),
        (
            "not-prometheus",
            (
                "fail",
                "metrics endpoint http://127.0.0.1:9200/metrics: not Prometheus text"
                " format (line 1: '<html>metrics</html>')",
            ),
        ),
        ("open", ("pass", "")),
        ("open-via-peer", ("pass", "")),
    ],
)
def test_metrics_endpoint(results, host, expected):
    assert (results[host]["outcome"], results[host]["message"]) == expected


def test_bound_to_loopback_fails_from_the_controller(results, lab):
    result = results["loopback"]
    address = lab.host("sound").address
    assert result["outcome"] == "fail", result
    assert result["message"] == (
        f"metrics endpoint {url(LOOPBACK)} not answering from controller at http://{address}:{LOOPBACK}/metrics"
        " (Connection refused); on the host itself it answers: bound to loopback, or filtered on the way"
    )
    # The on-host fetch stays as evidence: it answered there.
    assert result["evidence"]["monitoring"]["metrics"] == ["node_up"]
    assert result["evidence"]["metrics_scrape"]["status"] == 0


def test_bound_to_loopback_fails_from_a_peer(results):
    result = results["loopback-via-peer"]
    assert result["outcome"] == "fail", result
    assert "not answering from peer at http://" in result["message"]
    assert result["message"].endswith("on the host itself it answers: bound to loopback, or filtered on the way")


def test_filtered_port_fails_from_outside(results):
    result = results["filtered"]
    assert result["outcome"] == "fail", result
    assert "not answering from controller" in result["message"] and "timed out" in result["message"]
    assert result["message"].endswith("on the host itself it answers: bound to loopback, or filtered on the way")


def test_down_endpoint_says_the_host_does_not_answer_either(results):
    assert results["down-outside"]["outcome"] == "fail"
    assert results["down-outside"]["message"].endswith("; on the host itself neither")
