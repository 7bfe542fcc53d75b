"""Deis v1 platform settings from etcd: the router's TLS configuration and the risky defaults
the production guide warns about. Applies to hosts whose profile is a deis-v1 platform.

The TLS check (FR-TLS-01) judges what the router serves; this one judges what Deis is told,
which is what the next router restart or a new host will serve.
"""

import pytest

LEGACY = {"TLSv1", "TLSv1.1", "SSLv3", "SSLv2"}
# Deis v1's router default for /deis/router/sslProtocols (its confd template).
DEFAULT_PROTOCOLS = "TLSv1 TLSv1.1 TLSv1.2"


@pytest.fixture
def deis(policy, facts):
    if ((policy["images"] or {}).get("platform") or {}).get("kind") != "deis-v1":
        pytest.skip("not applicable: not a Deis v1 platform host")
    return facts["deis"]


def _true(keys, key):
    return str(keys.get(key, "false")).strip().lower() == "true"


@pytest.mark.control(id="FR-DEIS-01", severity="high", requirement="TLS enforced (Deis router settings)")
def test_router_tls_settings(deis):
    findings = []
    if not deis.get("/deis/router/sslCert"):
        findings.append("router TLS not configured: /deis/router/sslCert unset, so 443 is not served")
    if not (_true(deis, "/deis/router/enforceHTTPS") or _true(deis, "/deis/router/hsts/enabled")):
        findings.append("plain HTTP not redirected: /deis/router/enforceHTTPS is not true")
    if not _true(deis, "/deis/router/hsts/enabled"):
        findings.append("HSTS off: /deis/router/hsts/enabled is not true")
    protocols = deis.get("/deis/router/sslProtocols")
    legacy = sorted(LEGACY & set((protocols or DEFAULT_PROTOCOLS).split()))
    if legacy:
        where = (
            f"/deis/router/sslProtocols is '{protocols}'"
            if protocols
            else f"/deis/router/sslProtocols unset (Deis default '{DEFAULT_PROTOCOLS}')"
        )
        findings.append(f"legacy TLS allowed ({' '.join(legacy)}): {where}")
    assert not findings, "; ".join(findings)


@pytest.mark.control(id="FR-DEIS-02", severity="medium", requirement="platform hardened (Deis defaults)")
def test_risky_defaults_changed(deis):
    findings = []
    if deis.get("/deis/controller/registrationMode", "enabled") != "admin_only":
        findings.append("anyone can register: /deis/controller/registrationMode is not admin_only")
    if deis.get("/deis/router/serverTokens", "on") != "off":
        findings.append("router announces its version: /deis/router/serverTokens is not off")
    assert not findings, "; ".join(findings)
