"""Which of a TLS endpoint's problems its policy requires fixed, and how each reads.

Rules (judging facts), used by the check and by its remediation."""

# What each problem code of a verdict (probe/tls_probe.py PROBLEM_CODES) means, as the failure says it.
MESSAGES = {
    "not_tls": "no TLS on the port",
    "no_https_redirect": "plain HTTP answers without redirecting to https://",
    "cert_expired": "certificate expired",
    "cert_not_yet_valid": "certificate not yet valid",
    "cert_self_signed": "certificate self-signed",
    "cert_hostname_mismatch": "certificate does not name the server",
    "cert_expiring_soon": "certificate expiring soon",
    "weak_key": "weak key on the certificate chain",
    "sha1_signature": "SHA-1 signature on the certificate chain",
    "incomplete_chain": "certificate chain incomplete",
    "cert_untrusted": "certificate not trusted",
    "legacy_protocol_tls1_0": "legacy protocol TLS 1.0 offered",
    "legacy_protocol_tls1_1": "legacy protocol TLS 1.1 offered",
    "weak_cipher": "weak cipher suites accepted",
    "no_hsts": "no HSTS header",
}


def required_problems(endpoint, verdict):
    """The verdict's problems that this endpoint's policy asks about."""
    ignored = set() if endpoint.get("require_hsts", True) else {"no_hsts"}
    return [code for code in verdict["problems"] if code not in ignored]


def problem_message(code, verdict):
    """One problem of an endpoint's verdict in words, with the detail that makes it concrete."""
    details = verdict["details"]
    certificate = details.get("certificate") or {}
    if code == "cert_expiring_soon" and certificate:
        return f"{MESSAGES[code]} (not after {certificate['not_after']})"
    if code == "cert_hostname_mismatch":
        return f"certificate does not name {details.get('server_name')} (names {', '.join(certificate.get('san') or []) or 'none'})"
    if code == "no_https_redirect" and "request" in details.get("http", {}):
        return f"plain HTTP {details['http']['request']} answers {details['http'].get('status')} without redirecting to https://"
    return MESSAGES.get(code, code)


def endpoint_label(verdict):
    return f"{verdict['name']} ({verdict['endpoint']})"
