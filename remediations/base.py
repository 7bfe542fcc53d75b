"""What a fix is: the control it answers, whether it disrupts the host, and plan/apply.

A fix's `plan(ctx)` returns the Steps it would run (shell commands in which every value from
policy or inventory is shlex-quoted), or raises NotFixable (the cause is not on the host, or
not this fix's) or Conflict (applying would break what the host serves). `apply(ctx, steps)`
runs them; the default runs them in order and stops at the first that fails, saying which in
one line. `undo(ctx, applied)` reverts what an apply changed. Fixes are idempotent: applied
to a host that is already right they change nothing. Whether a fix worked is never the fix's
word: the plugin re-runs the check on fresh facts, and undoes the fix when it still fails
(remediations/plugin.py).
"""

from dataclasses import dataclass, field

OUTPUT_LIMIT = 4000  # characters of a command's output kept in a record


class NotFixable(Exception):
    """The failure has no automatic fix here (the message says why)."""


class Conflict(NotFixable):
    """The fix would break what the host serves: never applied. `conflicts` name each port, who
    uses it and the policy key that would allow it; `steps` are what it would have run."""

    def __init__(self, message, conflicts, steps):
        super().__init__(message)
        self.conflicts, self.steps = conflicts, steps


@dataclass
class Step:
    command: str  # shell, run on the host; None for advice a human must carry out
    why: str
    diff: str | None = None  # unified diff of what the step changes, when it replaces something

    def as_record(self):
        record = {"command": self.command, "why": self.why}
        return record | {"diff": self.diff} if self.diff else record


@dataclass
class Context:
    """What a fix sees of the failing (host, check)."""

    target: object  # InventoryHost
    policy: dict
    facts: object  # fleetready.gather.facts.Facts gathered before the fix
    funcargs: dict  # the check's fixture values (e.g. tls_verdicts)
    host: object  # testinfra Host over the run's connection
    fleet: object
    config: object


@dataclass
class Applied:
    ok: bool
    runs: list = field(default_factory=list)  # [{"command", "rc", "output"}]
    result: str | None = None  # a fix's own verdict, e.g. "rolled back"
    notes: dict = field(default_factory=dict)  # e.g. the canary's token and arrival
    message: str = ""  # a fix's own one-line reason, e.g. why it rolled back


def clip(text):
    return text if len(text) <= OUTPUT_LIMIT else "..." + text[-OUTPUT_LIMIT:]


def one_line(text, limit=300):
    """The last non-empty line of a command's output or an error: what an operator reads first."""
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def failure(exc):
    """An exception as an operator reads it: its message, never a Python class name."""
    return one_line(exc) or "failed without a message"


def run(host, command):
    """One command on the host, as a record: {"command", "rc", "output"}."""
    result = host.run(command)
    output = (result.stdout + result.stderr).strip()
    return {"command": command, "rc": result.rc, "output": clip(output)}


class Fix:
    name = ""
    controls = ()  # control IDs this fix answers
    disruptive = False  # restarts a service or changes the network
    plan_only = False  # never applied: a human must act (e.g. certificates)
    facts = ()  # fact collectors recorded as before/after evidence

    def plan(self, ctx):
        raise NotImplementedError

    def apply(self, ctx, steps):
        applied = Applied(ok=True)
        for step in steps:
            record = run(ctx.host, step.command)
            applied.runs.append(record)
            if record["rc"] != 0:
                applied.ok = False
                applied.message = f"{step.why}: failed (exit {record['rc']}): {one_line(record['output'])}"
                break
        return applied

    def undo(self, ctx, applied):
        """Revert what `applied` changed, when the re-check failed or a step did: an Applied, or
        None when the fix only adds what makes nothing worse (a pulled image, a new backup)."""
        return None
