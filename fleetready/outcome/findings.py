"""What a check found wrong, one finding per (subject, code): the unit a waiver accepts.

A check adds each finding (the subject it is about: a TLS endpoint, an image, a port; a
stable problem code; the words an operator reads), then `fail_on` them all. The result is
`waived` only when unexpired waivers cover every finding; otherwise it fails naming only the
findings no waiver covers (fixtures/waivers.py)."""

from .outcomes import Finding


class Findings:
    def __init__(self) -> None:
        self.found: list[Finding] = []
        self.summary = ""

    def add(self, subject: object, code: str, message: str) -> None:
        self.found.append({"subject": str(subject), "code": code, "message": message})

    def message(self, found: list[Finding] | None = None) -> str:
        """The failure's words for `found` (default: every finding)."""
        text = "; ".join(f["message"] for f in (self.found if found is None else found))
        return f"{self.summary}: {text}" if self.summary else text

    def fail_on(self, summary: str = "") -> None:
        """Fails the check (a `fail`) with every finding, when there is one; `summary` leads
        the message (e.g. the endpoint)."""
        self.summary = summary
        if self.found:
            raise AssertionError(self.message())
