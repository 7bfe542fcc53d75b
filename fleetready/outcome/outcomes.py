"""What a (host, check) can end as, and how severe a check is (set by its control marker)."""

SEVERITIES = ("critical", "high", "medium", "low")
FAILING = ("fail", "error", "unreachable")
OUTCOMES = ("pass", "fail", "error", "unreachable", "waived", "skipped")
