"""The TLS probe against real TLS servers on loopback: one sound endpoint, one per problem
code, and one with many defects at once. Every verdict must name exactly its problems."""

import ssl
import statistics
import time
from types import SimpleNamespace

import pytest

from checks import test_tls as tls_check
from fleetready.judge.tls import MESSAGES
from fleetready.outcome.findings import Findings
from fleetready.probe import tls_probe
from fleetready.probe.tls_probe import ProbeError, VerdictCache, probe_endpoint
from tests.tls_servers import DAY, LEGACY, SERVER_NAME, STRONG, Lab, Pki, issue, new_key, now

TIMEOUT = 2.0
TIMINGS = []  # (case, seconds) of every probe, summarized when the module ends


def _served(lab, key=None, leaf=None, intermediate=True, leaf_kwargs=None, also_sent=(), **server):
    """Port of a TLS server sending `leaf` (default: a sound leaf for key), maybe the
    intermediate, then `also_sent`."""
    key = key or new_key()
    leaf = leaf or lab.pki.leaf(key, **(leaf_kwargs or {}))
    chain = [leaf] + ([lab.pki.inter] if intermediate else []) + list(also_sent)
    return lab.tls(chain, key, **server)


def _redirect(lab, location):
    return lab.http(301, [("Location", location)])


def build_endpoints(lab):
    """{case: probe_endpoint keyword arguments}, every server started."""

    def endpoint(port, **extra):
        return dict(
            host="127.0.0.1", port=port, server_name=SERVER_NAME, ca_file=lab.pki.ca_file, timeout=TIMEOUT, **extra
        )

    sound = _served(lab)
    self_key, sha1_key, unknown_key = new_key(), new_key(), new_key()
    unknown = Pki(lab.pki.directory, "unknown")  # a CA the endpoint's ca_file does not hold
    expiring = _served(lab, leaf_kwargs=dict(not_after=now() + 5 * DAY))
    # A leaf that signs another leaf: no CA, whatever the names say.
    not_ca_key, signed_key = new_key(), new_key()
    not_ca = lab.pki.leaf(not_ca_key)
    # A CA whose validity ended yesterday, issuing a leaf valid today.
    old_ca_key, young_key = new_key(), new_key()
    old_ca = issue(
        "expired intermediate",
        old_ca_key,
        lab.pki.root,
        lab.pki.root_key,
        ca=True,
        san=(),
        not_before=now() - 100 * DAY,
        not_after=now() - DAY,
    )
    return {
        "sound": endpoint(sound, http_port=_redirect(lab, f"https://{SERVER_NAME}:{sound}/")),
        "expired": endpoint(_served(lab, leaf_kwargs=dict(not_before=now() - 100 * DAY, not_after=now() - DAY))),
        "not_yet_valid": endpoint(_served(lab, leaf_kwargs=dict(not_before=now() + DAY))),
        "self_signed": endpoint(_served(lab, self_key, issue(SERVER_NAME, self_key), intermediate=False)),
        "root_sent_too": endpoint(_served(lab, also_sent=[lab.pki.root])),
        "unknown_root_sent": endpoint(lab.tls([unknown.leaf(unknown_key), unknown.inter, unknown.root], unknown_key)),
        "wrong_name": endpoint(_served(lab, leaf_kwargs=dict(san=("other.test",)))),
        # The name only as the subject's CN: browsers and cryptography look at the SAN alone.
        "name_only_in_cn": endpoint(_served(lab, leaf_kwargs=dict(san=()))),
        "leaf_signs_leaf": endpoint(
            lab.tls([issue(SERVER_NAME, signed_key, not_ca, not_ca_key), not_ca, lab.pki.inter], signed_key)
        ),
        "expired_intermediate": endpoint(
            lab.tls([issue(SERVER_NAME, young_key, old_ca, old_ca_key), old_ca], young_key)
        ),
        "expiring_5_days": endpoint(expiring),
        "expiring_5_days_threshold_3": endpoint(expiring, warning_days=3),
        "rsa_1024": endpoint(_served(lab, new_key("rsa1024"), ciphers=LEGACY)),
        "sha1_signed": endpoint(_served(lab, sha1_key, lab.pki.sha1_leaf(sha1_key), ciphers=LEGACY)),
        "no_intermediate": endpoint(_served(lab, intermediate=False)),
        "tls1_0": endpoint(_served(lab, minimum=ssl.TLSVersion.TLSv1, maximum=ssl.TLSVersion.TLSv1, ciphers=LEGACY)),
        "tls1_1": endpoint(
            _served(lab, minimum=ssl.TLSVersion.TLSv1_1, maximum=ssl.TLSVersion.TLSv1_1, ciphers=LEGACY)
        ),
        "static_rsa": endpoint(_served(lab, new_key("rsa2048"), ciphers=STRONG + ":AES256-GCM-SHA384")),
        "null_cipher": endpoint(_served(lab, ciphers=STRONG + ":eNULL:@SECLEVEL=0")),
        "anonymous": endpoint(_served(lab, ciphers=STRONG + ":aNULL:@SECLEVEL=0")),
        "no_hsts": endpoint(_served(lab, headers=())),
        "http_serves_200": endpoint(_served(lab), http_port=lab.http(200)),
        "http_redirects_elsewhere": endpoint(_served(lab), http_port=_redirect(lab, "http://elsewhere.test/")),
        "plain_http_on_tls_port": endpoint(lab.http(400)),
        "closed_port": endpoint(lab.closed_port()),
        "silent_port": dict(endpoint(lab.silent()), timeout=0.3),
        "closes_at_once": endpoint(lab.hang_up()),
        "many_defects": endpoint(
            _served(
                lab,
                new_key("rsa1024"),
                intermediate=False,
                leaf_kwargs=dict(san=("other.test",), not_before=now() - 100 * DAY, not_after=now() - DAY),
                minimum=ssl.TLSVersion.TLSv1,
                maximum=ssl.TLSVersion.TLSv1_2,
                ciphers="ECDHE+AES:AES128-SHA:@SECLEVEL=0",
                headers=(),
            ),
            http_port=lab.http(200),
        ),
    }


CASES = [  # case, exact problem set, tls_enforced
    ("sound", set(), True),
    ("expired", {"cert_expired"}, True),
    ("not_yet_valid", {"cert_not_yet_valid"}, True),
    ("self_signed", {"cert_self_signed"}, True),
    ("root_sent_too", set(), True),
    ("unknown_root_sent", {"cert_self_signed"}, True),  # OpenSSL: self-signed certificate in chain
    ("wrong_name", {"cert_hostname_mismatch"}, True),
    ("name_only_in_cn", {"cert_hostname_mismatch"}, True),
    ("leaf_signs_leaf", {"cert_untrusted"}, True),  # cryptography: basicConstraints.cA must be asserted
    ("expired_intermediate", {"cert_expired"}, True),
    ("expiring_5_days", {"cert_expiring_soon"}, True),
    ("expiring_5_days_threshold_3", set(), True),
    ("rsa_1024", {"weak_key"}, True),
    ("sha1_signed", {"sha1_signature"}, True),
    ("no_intermediate", {"incomplete_chain"}, True),
    ("tls1_0", {"legacy_protocol_tls1_0"}, True),
    ("tls1_1", {"legacy_protocol_tls1_1"}, True),
    ("static_rsa", {"weak_cipher"}, True),
    ("null_cipher", {"weak_cipher"}, True),
    ("anonymous", {"weak_cipher"}, True),
    ("no_hsts", {"no_hsts"}, True),
    ("http_serves_200", {"no_https_redirect"}, False),
    ("http_redirects_elsewhere", {"no_https_redirect"}, False),
    ("plain_http_on_tls_port", {"not_tls"}, False),
    ("closed_port", {"unreachable"}, False),
    ("silent_port", {"unreachable"}, False),  # no TLS answer in time: could not be judged
    ("closes_at_once", {"not_tls"}, False),
    (
        "many_defects",
        {
            "cert_expired",
            "cert_hostname_mismatch",
            "weak_key",
            "incomplete_chain",
            "legacy_protocol_tls1_0",
            "legacy_protocol_tls1_1",
            "weak_cipher",
            "no_hsts",
            "no_https_redirect",
        },
        False,
    ),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, request):
    lab = Lab(str(tmp_path_factory.mktemp("tls")))
    yield lab
    lab.close()
    _report_timings(request.config)


@pytest.fixture(scope="module")
def endpoints(lab):
    return build_endpoints(lab)


def _report_timings(config):
    if not TIMINGS:
        return
    seconds = sorted(s for _, s in TIMINGS)
    slowest = max(TIMINGS, key=lambda t: t[1])
    # Module teardown runs under output capture; the summary is meant for the terminal.
    with config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"\nTLS probe time per endpoint over {len(seconds)} endpoints: median "
            f"{statistics.median(seconds) * 1000:.0f} ms, max {slowest[1] * 1000:.0f} ms ({slowest[0]})"
        )


@pytest.mark.parametrize("case, problems, enforced", CASES, ids=[c[0] for c in CASES])
def test_verdict(endpoints, case, problems, enforced):
    started = time.monotonic()
    verdict = probe_endpoint(**endpoints[case])
    elapsed = time.monotonic() - started
    TIMINGS.append((case, elapsed))
    print(f"{case}: {elapsed * 1000:.0f} ms {verdict['problems']}")
    assert len(verdict["problems"]) == len(set(verdict["problems"]))
    assert set(verdict["problems"]) == problems, verdict["details"]
    assert verdict["tls_enforced"] is enforced
    # Bounded by the probe's own timeouts, never a hang; the speed itself is printed above,
    # not asserted (a shared 2-core machine).
    assert elapsed < 10 * TIMEOUT


def test_sound_endpoint_evidence(endpoints):
    verdict = probe_endpoint(**endpoints["sound"])
    details = verdict["details"]
    assert verdict["endpoint"] == f"127.0.0.1:{endpoints['sound']['port']}"
    assert details["protocols_accepted"] == ["TLSv1.2", "TLSv1.3"]
    assert details["negotiated"]["protocol"] == "TLSv1.3"
    assert details["certificate"]["san"] == [SERVER_NAME]
    assert details["certificate"]["key_type"] == "EC" and details["certificate"]["key_bits"] == 256
    assert details["certificate"]["signature_hash"] == "sha256"
    assert details["chain_length"] == 2 and details["chain_trust"] == "trusted"
    assert details["https"]["strict_transport_security"] == "max-age=31536000"
    assert details["http"]["status"] == 301
    assert details["http"]["location"].startswith("https://")
    assert details["weak_suites_accepted"] == {}


def test_plain_http_unanswered_is_not_a_problem(endpoints, lab):
    verdict = probe_endpoint(**dict(endpoints["sound"], http_port=lab.closed_port()))
    assert verdict["problems"] == [] and verdict["tls_enforced"]
    assert verdict["details"]["http"]["error"] == "Connection refused"


def test_unreadable_ca_file_is_a_probe_error(endpoints, tmp_path):
    with pytest.raises(ProbeError, match="trust store"):
        probe_endpoint(**dict(endpoints["sound"], ca_file=str(tmp_path / "missing.pem")))


@pytest.mark.parametrize("name", ["bad..name", "a" * 64 + ".test", "under_score.test"])
def test_unusable_server_name_is_a_probe_error(endpoints, name):
    # Not sendable by OpenSSL, or (the underscore) no DNS name cryptography matches.
    with pytest.raises(ProbeError, match="server_name"):
        probe_endpoint(**dict(endpoints["sound"], server_name=name))


@pytest.mark.parametrize("name", ["TLS.Test", SERVER_NAME + "."])
def test_server_name_matches_in_any_case_and_fully_qualified(endpoints, name):
    assert probe_endpoint(**dict(endpoints["sound"], server_name=name))["problems"] == []


def test_a_refused_chain_says_why(endpoints):
    details = probe_endpoint(**endpoints["leaf_signs_leaf"])["details"]
    assert details["chain_trust"] == "refused"
    assert "basicConstraints.cA must be asserted" in details["chain_refused"]
    # Refused for the name alone: the path itself is trusted.
    details = probe_endpoint(**endpoints["wrong_name"])["details"]
    assert details["chain_trust"] == "trusted"
    assert "no matching subjectAltName" in details["chain_refused"]


def test_cache_probes_each_endpoint_once(endpoints, monkeypatch):
    calls = []
    real = tls_probe.probe_endpoint
    monkeypatch.setattr(tls_probe, "probe_endpoint", lambda *a: calls.append(a) or real(*a))
    sound, closed = endpoints["sound"], endpoints["closed_port"]
    policy_endpoints = [
        {
            "name": "web",
            "host": None,
            "port": sound["port"],
            "server_name": SERVER_NAME,
            "http_port": sound["http_port"],
            "ca_file": sound["ca_file"],
            "require_hsts": True,
        },
        {"name": "gone", "host": "127.0.0.1", "port": closed["port"], "ca_file": sound["ca_file"]},
    ]
    cache = VerdictCache()
    first = cache.verdicts("127.0.0.1", {"expiry_warning_days": 14, "endpoints": policy_endpoints})
    second = cache.verdicts("127.0.0.1", {"expiry_warning_days": 14, "endpoints": policy_endpoints})
    assert len(calls) == 2 and first == second
    assert [(v["name"], v["problems"]) for v in first] == [("web", []), ("gone", ["unreachable"])]


def test_endpoint_settings_override_the_policy_wide_ones(endpoints, lab):
    """expiry_warning_days and timeout per endpoint, else the policy's; the plain-HTTP request
    asks for the endpoint's redirect_host and redirect_path."""
    sound, silent = endpoints["sound"], endpoints["silent_port"]
    common = {"host": "127.0.0.1", "server_name": SERVER_NAME, "ca_file": sound["ca_file"]}
    tls = {
        "expiry_warning_days": 14,
        "timeout": 0.2,
        "endpoints": [
            dict(common, name="web", port=sound["port"], http_port=sound["http_port"]),
            # The sound leaf expires within 10 years: with that warning it is expiring soon.
            dict(
                common,
                name="soon",
                port=sound["port"],
                http_port=sound["http_port"],
                expiry_warning_days=3650,
                redirect_host="www.tls.test",
                redirect_path="/login?next=/",
            ),
            dict(common, name="slow", port=silent["port"], timeout=1.5),
            dict(common, name="quick", port=silent["port"]),
        ],
    }
    web, soon, slow, quick = VerdictCache().verdicts("127.0.0.1", tls)
    assert web["problems"] == [] and web["details"]["http"]["request"] == f"http://{SERVER_NAME}:{sound['http_port']}/"
    assert soon["problems"] == ["cert_expiring_soon"]
    assert soon["details"]["http"]["request"] == f"http://www.tls.test:{sound['http_port']}/login?next=/"
    assert slow["problems"] == quick["problems"] == ["unreachable"]
    assert slow["details"]["timings_ms"]["main"] >= 1400 > 1000 > quick["details"]["timings_ms"]["main"]


def test_endpoint_args_default_to_the_policy():
    endpoint = {"name": "web", "port": 8443}
    assert tls_probe.endpoint_args("10.0.0.5", endpoint, {"expiry_warning_days": 14, "timeout": 3}) == (
        "10.0.0.5",
        8443,
        "10.0.0.5",
        None,
        None,
        14,
        3,
        None,
        "/",
    )


# ---- the check itself, on hand-made verdicts -------------------------------------------


def _verdict(name, problems, error=None):
    return {
        "name": name,
        "endpoint": f"{name}.test:443",
        "problems": problems,
        "tls_enforced": not set(problems) & tls_probe.NOT_ENFORCED,
        "details": {"error": error} if error else {},
    }


def _run_check(endpoint, verdicts):
    """(user_properties, findings) of the check on one endpoint of a host with these verdicts."""
    request = SimpleNamespace(node=SimpleNamespace(user_properties=[]))
    findings = Findings()
    tls_check.test_tls_enforced(endpoint, verdicts, findings, request)
    return request.node.user_properties, findings.found


def test_check_skips_without_endpoints():
    with pytest.raises(pytest.skip.Exception, match="no TLS endpoints"):
        _run_check(None, [])


def test_an_unreachable_endpoint_is_its_own_error_and_the_others_keep_their_findings():
    verdicts = [_verdict("api", ["no_hsts"]), _verdict("web", ["unreachable"], "refused")]
    with pytest.raises(ProbeError, match=r"web \(web.test:443\): refused"):
        _run_check({"name": "web"}, verdicts)
    with pytest.raises(AssertionError, match=r"^api \(api.test:443\): no HSTS header$"):
        _run_check({"name": "api"}, verdicts)


def test_check_drops_hsts_when_not_required():
    verdicts = [_verdict("api", ["no_hsts"])]
    assert _run_check({"name": "api", "require_hsts": False}, verdicts) == ([("tls_verdict", verdicts[0])], [])


def test_check_names_what_is_wrong_one_finding_per_code():
    verdicts = [_verdict("web", []), _verdict("api", ["cert_expired", "legacy_protocol_tls1_1", "no_hsts"])]
    with pytest.raises(AssertionError) as failure:
        _run_check({"name": "api"}, verdicts)
    assert str(failure.value) == (
        "api (api.test:443): certificate expired; legacy protocol TLS 1.1 offered; no HSTS header"
    )
    assert "not enforced" not in str(failure.value)
    _, found = _run_check({"name": "web"}, verdicts)
    assert found == []


def test_every_problem_code_reads_as_words():
    assert set(MESSAGES) == set(tls_probe.PROBLEM_CODES) - {"unreachable"}


def test_local_target_endpoints_are_on_loopback():
    assert tls_probe.network_address(SimpleNamespace(connection="local", address="local")) == "127.0.0.1"
    assert tls_probe.network_address(SimpleNamespace(connection="ssh", address="10.0.0.5")) == "10.0.0.5"
