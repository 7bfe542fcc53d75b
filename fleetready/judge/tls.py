"""Which of a TLS endpoint's problems its policy requires fixed.

Rules (judging facts), used by the check and by its remediation."""


def required_problems(endpoint, verdict):
    """The verdict's problems that this endpoint's policy asks about."""
    ignored = set() if endpoint.get("require_hsts", True) else {"no_hsts"}
    return [code for code in verdict["problems"] if code not in ignored]


def endpoint_label(verdict):
    return f"{verdict['name']} ({verdict['endpoint']})"
