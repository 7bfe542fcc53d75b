"""TLS enforced: every TLS endpoint of the host's profile serves sound TLS, and plain HTTP
(where the profile names a port for it) only redirects to https://."""

import pytest

from fleetready.judge.tls import endpoint_label, required_problems
from fleetready.probe.tls_probe import ProbeError


@pytest.mark.control(id="FR-TLS-01", severity="high", requirement="TLS enforced")
def test_tls_enforced(target, policy, tls_verdicts, request):
    endpoints = (policy.get("tls") or {}).get("endpoints") or []
    if not endpoints:
        pytest.skip("not applicable: no TLS endpoints in the profile")
    request.node.user_properties.append(("tls_verdicts", tls_verdicts))
    # An endpoint that could not be probed is not judged: the check is an error, never a pass.
    down = [v for v in tls_verdicts if "unreachable" in v["problems"]]
    if down:
        raise ProbeError(
            "could not probe "
            + "; ".join(f"{endpoint_label(v)}: {v['details'].get('error', 'unreachable')}" for v in down)
        )
    failing = [(v, codes) for e, v in zip(endpoints, tls_verdicts) if (codes := required_problems(e, v))]
    assert not failing, "TLS not enforced: " + "; ".join(
        f"{endpoint_label(v)}: {', '.join(codes)}" for v, codes in failing
    )
