"""Findings one by one and the waivers of one finding: what a check reports, which findings
a waiver accepts (one code, on one subject, of one host or group), and their validation."""

import datetime

import pytest

from fleetready.config.errors import ConfigError
from fleetready.config.waivers import load_waivers
from fleetready.outcome.findings import Findings

RESULT = {"host": "web1", "control": "FR-TLS-01", "check": "test_tls_enforced"}


def finding(subject, code):
    return {"subject": subject, "code": code, "message": f"{subject}: {code}"}


def waivers(tmp_path, *entries):
    body = "".join(
        "  - control: FR-TLS-01\n    reason: r\n    owner: o\n    expires: 2099-01-01\n"
        + "".join(f"    {key}: {value}\n" for key, value in entry.items())
        for entry in entries
    )
    path = tmp_path / "waivers.yml"
    path.write_text("waivers:\n" + body)
    return load_waivers(str(path))


def test_findings_fail_naming_each_and_pass_when_none():
    found = Findings()
    found.fail_on("api (10.0.0.5:443)")  # nothing found: no failure
    found.add("api", "cert_expired", "certificate expired")
    found.add(8080, "reachable_not_allowed", "port 8080 reachable from outside (not allowed)")
    with pytest.raises(AssertionError) as failure:
        found.fail_on("api (10.0.0.5:443)")
    assert str(failure.value) == (
        "api (10.0.0.5:443): certificate expired; port 8080 reachable from outside (not allowed)"
    )
    assert found.found[1]["subject"] == "8080"  # subjects are text, as waivers name them
    assert found.message(found.found[:1]) == "api (10.0.0.5:443): certificate expired"


def test_a_finding_waiver_covers_its_code_on_its_subject_only(tmp_path):
    [waiver] = waivers(tmp_path, {"scope": "host web1", "subject": "api", "finding": "legacy_protocol_tls1_1"})
    assert waiver.covers(RESULT, ["all"], finding("api", "legacy_protocol_tls1_1"))
    assert not waiver.covers(RESULT, ["all"], finding("api", "legacy_protocol_tls1_0"))  # a new finding
    assert not waiver.covers(RESULT, ["all"], finding("www", "legacy_protocol_tls1_1"))  # another endpoint
    assert not waiver.covers(dict(RESULT, host="web2"), ["all"], finding("api", "legacy_protocol_tls1_1"))
    assert not waiver.covers(dict(RESULT, control="FR-IMG-01"), ["all"], finding("api", "legacy_protocol_tls1_1"))
    assert not waiver.matches(RESULT, ["all"])  # never the whole result, nor an error
    assert waiver.expires == datetime.date(2099, 1, 1)
    assert "FR-TLS-01 finding legacy_protocol_tls1_1 on api on host web1" in waiver.describe()


def test_a_finding_waiver_without_subject_covers_the_code_on_every_subject(tmp_path):
    [waiver] = waivers(tmp_path, {"scope": "group web", "finding": "no_hsts"})
    assert waiver.covers(RESULT, ["all", "web"], finding("api", "no_hsts"))
    assert waiver.covers(RESULT, ["all", "web"], finding("www", "no_hsts"))
    assert not waiver.covers(RESULT, ["all", "db"], finding("api", "no_hsts"))


def test_a_port_subject_reads_as_the_port(tmp_path):
    [waiver] = waivers(tmp_path, {"scope": "all", "subject": 8080, "finding": "reachable_not_allowed"})
    assert waiver.covers(RESULT, ["all"], finding("8080", "reachable_not_allowed"))


def test_a_whole_result_waiver_still_matches_the_result(tmp_path):
    [waiver] = waivers(tmp_path, {"scope": "all"})
    assert waiver.matches(RESULT, ["all"]) and not waiver.covers(RESULT, ["all"], finding("api", "no_hsts"))


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"scope": "all", "subject": "api"}, ":7: waivers[0].subject: a subject: needs the finding:"),
        ({"scope": "all", "finding": "[]"}, ":7: waivers[0].finding: expected a non-empty string, got a list"),
        ({"scope": "all", "subject": "''", "finding": "no_hsts"}, ":7: waivers[0].subject: expected a non-empty"),
        ({"scope": "all", "subjet": "api"}, ":7: waivers[0].subjet: unknown key; did you mean 'subject'?"),
    ],
)
def test_bad_finding_waivers_name_file_line_and_key(tmp_path, entry, message):
    with pytest.raises(ConfigError) as error:
        waivers(tmp_path, entry)
    assert str(error.value).startswith(f"{tmp_path / 'waivers.yml'}{message}"), str(error.value)
