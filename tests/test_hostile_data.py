"""A compromised host answers with markup, terminal escapes, invalid UTF-8 and 10 MB facts:
every report stays valid and bounded, the HTML runs no script, the terminal gets no escape.

sshd0 lies in its facts (hostname, /etc/os-release, a `docker` whose error is the payload);
sshd1's login shell prints the payload as an ssh error, so it lands in the unreachable summary.
"""

import json
import resource
import shutil
import xml.etree.ElementTree as ET

import jsonschema
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from lab import keys
from tests.conftest import ROOT, run_fleetready
from tests.test_reports_html import chromium

PAYLOAD = (
    b"<script>document.title='pwned'</script><img src=x onerror=document.title='pwned'>"
    b"\x1b]0;pwned\x07\x1b[2J\xff\xfe\xc3("
)
HUGE = 10 * 1024 * 1024


def script(stream):
    return b"#!/bin/sh\nprintf '%s\\n' '" + PAYLOAD + b"' >&" + stream + b"\nexit 1\n"


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(sshd=2)
    liar, shell = lab.host("sshd0"), lab.host("sshd1")
    liar.check("cat >/usr/local/bin/docker && chmod 755 /usr/local/bin/docker", input=script(b"2"))
    liar.check(
        "cat >/usr/local/bin/hostname && chmod 755 /usr/local/bin/hostname",
        input=script(b"1").replace(b"exit 1", b"exit 0"),
    )
    liar.check(
        f"{{ echo 'ID=evil'; printf 'VERSION_ID='; head -c {HUGE} /dev/zero | tr '\\0' A; echo; }} >/etc/os-release"
    )
    shell.check(
        "cat >/usr/local/bin/liar && chmod 755 /usr/local/bin/liar && usermod -s /usr/local/bin/liar root",
        input=b"#!/bin/sh\nprintf 'Connection refused %s\\n' '" + PAYLOAD + b"' >&2\nexit 1\n",
    )
    tmp = tmp_path_factory.mktemp("hostile")
    hosts = {
        h.name: {
            "ansible_host": h.address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
            "fleetready_policy": {"images": {"required": ["alpine:3.2"]}},
        }
        for h in (liar, shell)
    }
    (tmp / "inv.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    reports = {
        "junit": tmp / "junit.xml",
        "sarif": tmp / "results.sarif",
        "prom": tmp / "fleet.prom",
        "html": tmp / "report.html",
    }
    code, results, output = run_fleetready(
        [
            "--inventory",
            str(tmp / "inv.yml"),
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "--host-timeout",
            "10",
            "--junitxml",
            str(reports["junit"]),
            "--sarif",
            str(reports["sarif"]),
            "--prometheus-textfile",
            str(reports["prom"]),
            "--html",
            str(reports["html"]),
            "--self-contained-html",
        ]
    )
    assert code == 1 and results is not None, output
    return results, output, reports


def by_host(results, host):
    return {r["control"]: r for r in results["results"] if r["host"] == host}


def test_host_data_reaches_the_results_but_never_passes_a_check(run):
    results, output, _ = run
    liar = by_host(results, "sshd0")
    assert liar["FR-IMG-01"]["outcome"] == "error" and "<script>" in liar["FR-IMG-01"]["message"]
    assert liar["FR-HOST-01"]["outcome"] == "fail"
    shell = by_host(results, "sshd1")
    assert {r["outcome"] for r in shell.values() if r["outcome"] != "skipped"} == {"unreachable"}
    assert "<script>" in shell["FR-HOST-01"]["message"]


def test_terminal_gets_no_escape_sequence_from_a_host(run):
    _, output, _ = run
    assert "\x1b" not in output and "\x07" not in output and "\x9b" not in output
    # Escaped, not dropped: the operator sees what the host sent.
    assert "sshd1: refused: Connection refused <script>" in output
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in output


def test_evidence_and_reports_stay_bounded(run):
    results, _, reports = run
    evidence = by_host(results, "sshd0")["FR-HOST-01"]["evidence"]
    assert len(json.dumps(evidence)) <= 66 * 1024
    assert "[truncated" in json.dumps(evidence)
    for path in reports.values():
        assert path.stat().st_size < 4 * 1024 * 1024, path
    # The 10 MB fact is cut to 4 MiB on the host and to 4 KiB per string in the evidence.
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 600 * 1024


def test_machine_readable_reports_stay_valid(run):
    _, _, reports = run
    for path in reports.values():
        assert b"\x1b" not in path.read_bytes(), path
    ET.parse(reports["junit"])
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(json.loads(reports["sarif"].read_text()), schema)
    families = list(text_string_to_metric_families(reports["prom"].read_text()))
    assert any(f.name == "fleetready_check_status" for f in families)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_html_runs_no_script_from_a_host(run, tmp_path):
    _, _, reports = run
    dom = chromium(tmp_path, "--dump-dom", reports["html"].as_uri())
    assert '<title id="head-title">report.html</title>' in dom
    assert '<img src="x"' not in dom and "<script>document.title" not in dom
    assert "&lt;script&gt;document.title" in dom
