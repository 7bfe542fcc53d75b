"""FR-MON-01 against real lab hosts: nginx serving node_up on 9100, or nothing there."""

import time

import pytest
import yaml

from lab import keys
from lab.hostfiles import PROFILE
from tests.conftest import run_fleetready


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
    hosts = {}
    for name, (lab_host, monitoring) in cases.items():
        hosts[name] = {"ansible_host": lab.host(lab_host).address, "ansible_user": "root",
                       "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
                       "fleetready_profile": str(PROFILE)}
        if monitoring is not None:
            hosts[name]["fleetready_policy"] = {"monitoring": monitoring}
    inventory = tmp_path_factory.mktemp("mon") / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    started = time.monotonic()
    code, report, output = run_fleetready(["-k", "FR-MON", "--inventory", str(inventory),
                                           "--ssh-config", str(lab.files["ssh_config"])])
    print(f"fleetready run: {time.monotonic() - started:.1f} s")
    assert report is not None, output
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
