"""FR-TLS-01 per endpoint against real lab hosts: each (host, endpoint) is its own result with
its own findings; an endpoint that does not answer is its own error and hides nothing; a
waiver of one finding on one endpoint waives neither a new finding there nor other endpoints."""

import datetime
import json
import xml.etree.ElementTree as ET

import pytest
import yaml

from lab import pki
from tests.conftest import run_fleetready
from tests.labrun import lab_inventory

EXPIRES = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
ENDPOINTS = [
    {"name": "web", "port": 443, "http_port": 80, "server_name": pki.SERVER_NAME, "ca_file": str(pki.CA_CERT)},
    # The same server asked for a name its certificate does not carry.
    {"name": "other", "port": 443, "server_name": "other.fleetready.lab", "ca_file": str(pki.CA_CERT)},
    # Nothing listens there: the probe cannot judge it.
    {"name": "down", "port": 8443, "server_name": pki.SERVER_NAME, "ca_file": str(pki.CA_CERT), "timeout": 1},
]


def waiver(host, subject, finding):
    return {
        "control": "FR-TLS-01",
        "scope": f"host {host}",
        "subject": subject,
        "finding": finding,
        "reason": "old clients until the app update",
        "owner": "ops@example.com",
        "expires": EXPIRES,
    }


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(full={"legacy": "legacy_tls", "sound": "sound"})
    tmp = tmp_path_factory.mktemp("tls-endpoints")
    policy = {"tls": {"endpoints": ENDPOINTS}}
    inventory = lab_inventory(lab, tmp / "inventory.yml", policies={"legacy": policy, "sound": policy})
    waivers = tmp / "waivers.yml"
    waivers.write_text(
        yaml.safe_dump(
            {
                "waivers": [
                    # On legacy's web endpoint only: TLS 1.0 there, and TLS 1.1 elsewhere, still fail.
                    waiver("legacy", "web", "legacy_protocol_tls1_1"),
                    # sound's `other` endpoint has this one finding: the result is waived.
                    waiver("sound", "other", "cert_hostname_mismatch"),
                ]
            }
        )
    )
    junit, prom, sarif = tmp / "junit.xml", tmp / "fleetready.prom", tmp / "results.sarif"
    code, report, output = run_fleetready(
        [
            "-k",
            "FR-TLS-01",
            "--inventory",
            inventory,
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "--waivers",
            str(waivers),
            "--junitxml",
            str(junit),
            "--prometheus-textfile",
            str(prom),
            "--sarif",
            str(sarif),
        ]
    )
    assert report is not None, output
    results = {(r["host"], r.get("subject")): r for r in report["results"] if r["control"] == "FR-TLS-01"}
    reports = {"junit": ET.parse(junit), "prometheus": prom.read_text(), "sarif": json.loads(sarif.read_text())}
    return code, results, output, reports


def codes(result, waived=False):
    return {f["code"] for f in result.get("findings", []) if ("waiver" in f) == waived}


def test_each_endpoint_is_its_own_result(run):
    code, results, _, reports = run
    assert code == 1
    assert set(results) == {(host, e["name"]) for host in ("legacy", "sound") for e in ENDPOINTS} | {("logs", None)}
    assert results["logs", None]["outcome"] == "skipped"  # the log receiver's profile has no endpoint
    assert results["sound", "web"]["outcome"] == "pass"
    assert results["sound", "web"]["nodeid"].endswith("test_tls_enforced[sound-web]")
    # Evidence is the endpoint's own verdict, not the host's.
    assert results["sound", "web"]["evidence"]["tls_verdict"]["name"] == "web"
    names = {(case.get("classname"), case.get("name")) for case in reports["junit"].iter("testcase")}
    assert ("legacy", "FR-TLS-01 test_tls_enforced[web]") in names, names
    assert 'check="test_tls_enforced[other]",control="FR-TLS-01",host="legacy",outcome="fail"' in reports["prometheus"]
    sarif = reports["sarif"]["runs"][0]["results"]
    assert {(r["properties"]["host"], r["properties"]["subject"]) for r in sarif} == {
        (host, name) for host in ("legacy", "sound") for name in ("web", "other", "down")
    } - {("sound", "web")}


def test_a_down_endpoint_is_an_error_and_hides_no_other_finding(run):
    _, results, output, _ = run
    for host in ("legacy", "sound"):
        down = results[host, "down"]
        assert down["outcome"] == "error", down
        assert down["message"].startswith("could not probe down (") and "other" not in down["message"]
    other = results["legacy", "other"]
    assert other["outcome"] == "fail"
    assert {"cert_hostname_mismatch", "legacy_protocol_tls1_0", "legacy_protocol_tls1_1"} <= codes(other)
    assert "certificate does not name other.fleetready.lab" in other["message"]
    assert "legacy protocol TLS 1.1 offered" in other["message"]
    assert "not enforced" not in other["message"]
    assert "legacy FR-TLS-01: other (" in output


def test_a_finding_waiver_leaves_new_findings_on_the_endpoint_failing(run):
    _, results, _, _ = run
    web = results["legacy", "web"]
    assert web["outcome"] == "fail", web
    assert codes(web, waived=True) == {"legacy_protocol_tls1_1"}
    assert "legacy_protocol_tls1_0" in codes(web)
    assert "legacy protocol TLS 1.0 offered" in web["message"]
    assert "TLS 1.1" not in web["message"]  # the fail names only what no waiver accepts


def test_a_finding_waiver_on_one_endpoint_leaves_the_others_alone(run):
    _, results, _, _ = run
    # The same finding on legacy's other endpoint is not waived.
    assert "legacy_protocol_tls1_1" in codes(results["legacy", "other"])
    # Every finding of sound's `other` is waived: the result is waived, with the waiver.
    other = results["sound", "other"]
    assert other["outcome"] == "waived" and other["waived_outcome"] == "fail", other
    assert codes(other, waived=True) == {"cert_hostname_mismatch"} and not codes(other)
    assert other["waiver"]["owner"] == "ops@example.com"
