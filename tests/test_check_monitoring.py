"""FR-MON-01 against real lab hosts: nginx serving node_up on 9100, or nothing there."""


import pytest

from tests.labrun import run_cases


@pytest.fixture(scope="module")
def lab(make_lab):
    lab = make_lab(full={"sound": "sound", "metrics-down": "metrics_down"})
    # A web server on the sound host answering 200 with a body that is not Prometheus text.
    lab.host("sound").check("mkdir -p /srv/www && echo '<html>metrics</html>' >/srv/www/metrics"
                            " && busybox httpd -p 127.0.0.1:9200 -h /srv/www")
    return lab


@pytest.fixture(scope="module")
def results(lab, tmp_path_factory):
    cases = {
        "sound": ("sound", None),
        "metrics-down": ("metrics-down", None),
        "missing-metric": ("sound", {"expect_metrics": ["node_up", "node_load1"]}),
        "redirected": ("sound", {"metrics_url": "http://127.0.0.1:80/metrics"}),
        "not-prometheus": ("sound", {"metrics_url": "http://127.0.0.1:9200/metrics"}),
    }
    cases = {name: (lab_host, monitoring and {"monitoring": monitoring})
             for name, (lab_host, monitoring) in cases.items()}
    report = run_cases(lab, cases, tmp_path_factory.mktemp("mon") / "inventory.yml", "FR-MON")
    return {r["host"]: (r["outcome"], r["message"]) for r in report["results"] if r["control"] == "FR-MON-01"}


@pytest.mark.parametrize("host, expected", [
    ("sound", ("pass", "")),
    ("metrics-down", ("fail", "metrics endpoint http://127.0.0.1:9100/metrics not answering")),
    ("missing-metric", ("fail", "metric node_load1 missing")),
    ("redirected", ("fail", "metrics endpoint http://127.0.0.1:80/metrics answered HTTP 301")),
    ("not-prometheus", ("fail", "metrics endpoint http://127.0.0.1:9200/metrics: not Prometheus text"
                                " format (line 1: '<html>metrics</html>')")),
])
def test_metrics_endpoint(results, host, expected):
    assert results[host] == expected
