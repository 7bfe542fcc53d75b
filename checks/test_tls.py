"""TLS enforced: each TLS endpoint of the host's profile (one result per endpoint) serves
sound TLS, and plain HTTP (where the profile names a port for it) only redirects to https://."""

import pytest

from fleetready.judge.tls import endpoint_label, problem_message, required_problems
from fleetready.probe.tls_probe import ProbeError


@pytest.mark.control(id="FR-TLS-01", severity="high", requirement="TLS enforced")
def test_tls_enforced(tls_endpoint, tls_verdicts, findings, request):
    if tls_endpoint is None:
        pytest.skip("not applicable: no TLS endpoints in the profile")
    # Every endpoint of the host was probed at once; this item judges its own.
    verdict = next(v for v in tls_verdicts if v["name"] == tls_endpoint["name"])
    request.node.user_properties.append(("tls_verdict", verdict))
    # An endpoint that could not be probed is not judged: an error, never a pass.
    if "unreachable" in verdict["problems"]:
        raise ProbeError(f"could not probe {endpoint_label(verdict)}: {verdict['details'].get('error', 'unreachable')}")
    for code in required_problems(tls_endpoint, verdict):
        findings.add(tls_endpoint["name"], code, problem_message(code, verdict))
    findings.fail_on(endpoint_label(verdict))
