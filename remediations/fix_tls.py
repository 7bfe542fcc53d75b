"""TLS (FR-TLS-01): plan only. Certificates and server settings are the service owner's: the
plan says, per problem code the check found, what to change (for Deis hosts, the deisctl
command; elsewhere the nginx directive or the step to take). Nothing is ever run."""

from fleetready.probe.tls_probe import CERT_CODES

from .base import Fix, NotFixable, Step

PROTOCOLS = "TLSv1.2 TLSv1.3"
# problem code -> (Deis v1 router setting or None, advice for any other server)
ADVICE = {
    "legacy_protocol_tls1_0": (
        f'deisctl config router set sslProtocols="{PROTOCOLS}"',
        f"set `ssl_protocols {PROTOCOLS};`",
    ),
    "legacy_protocol_tls1_1": (
        f'deisctl config router set sslProtocols="{PROTOCOLS}"',
        f"set `ssl_protocols {PROTOCOLS};`",
    ),
    "weak_cipher": (
        'deisctl config router set sslCiphers="ECDHE+AESGCM:ECDHE+CHACHA20"',
        "set `ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;` (forward-secret AEAD suites only)",
    ),
    "no_hsts": (
        "deisctl config router set hsts/enabled=true",
        'add `add_header Strict-Transport-Security "max-age=31536000" always;`',
    ),
    "no_https_redirect": (
        "deisctl config router set enforceHTTPS=true",
        "answer plain HTTP with `return 301 https://$host$request_uri;`",
    ),
    "not_tls": (None, "serve TLS on the endpoint's port (`listen 443 ssl;` with a certificate)"),
}
CERTIFICATE = "issue a new certificate (valid, for the endpoint's name, RSA >= 2048 or ECDSA, SHA-256, full chain)"


class TlsPlan(Fix):
    name = "tls-settings"
    controls = ("FR-TLS-01",)
    plan_only = True

    def plan(self, ctx):
        deis = bool(ctx.facts.values.get("deis"))
        steps = []
        for verdict in ctx.funcargs.get("tls_verdicts") or []:
            for code in verdict["problems"]:
                if code in CERT_CODES:
                    deis_step = 'deisctl config router set sslCert="$(cat CERT)" sslKey="$(cat KEY)"'
                    steps.append(Step(deis_step if deis else None, f"{verdict['name']}: {code}: {CERTIFICATE}"))
                elif code in ADVICE:
                    deis_step, advice = ADVICE[code]
                    steps.append(Step(deis_step if deis else None, f"{verdict['name']}: {code}: {advice}"))
        if not steps:
            raise NotFixable("no TLS problem with a known change")
        return steps


FIX = TlsPlan()
