"""What a fix is: the control it answers, whether it disrupts the host, and plan/apply.

A fix's `plan(ctx)` returns the Steps it would run (shell commands in which every value from
policy or inventory is shlex-quoted), or raises NotFixable. `apply(ctx, steps)` runs them;
the default runs them in order and stops at the first that fails. Fixes are idempotent:
applied to a host that is already right they change nothing. Whether a fix worked is never
the fix's word: the plugin re-runs the check on fresh facts (remediations/plugin.py).
"""

from dataclasses import dataclass, field

OUTPUT_LIMIT = 4000  # characters of a command's output kept in a record


class NotFixable(Exception):
    """The failure has no automatic fix here (the message says why)."""


@dataclass
class Step:
    command: str          # shell, run on the host; None for advice a human must carry out
    why: str

    def as_record(self):
        return {"command": self.command, "why": self.why}


@dataclass
class Context:
    """What a fix sees of the failing (host, check)."""
    target: object        # InventoryHost
    policy: dict
    facts: object         # fixtures.facts.Facts gathered before the fix
    funcargs: dict        # the check's fixture values (e.g. tls_verdicts)
    host: object          # testinfra Host over the run's connection
    fleet: object
    config: object


@dataclass
class Applied:
    ok: bool
    runs: list = field(default_factory=list)   # [{"command", "rc", "output"}]
    result: str | None = None                   # a fix's own verdict, e.g. "rolled back"
    notes: dict = field(default_factory=dict)   # e.g. the canary's token and arrival


def clip(text):
    return text if len(text) <= OUTPUT_LIMIT else "..." + text[-OUTPUT_LIMIT:]


def run(host, command):
    """One command on the host, as a record: {"command", "rc", "output"}."""
    result = host.run(command)
    output = (result.stdout + result.stderr).strip()
    return {"command": command, "rc": result.rc, "output": clip(output)}


class Fix:
    name = ""
    controls = ()         # control IDs this fix answers
    disruptive = False    # restarts a service or changes the network
    plan_only = False     # never applied: a human must act (e.g. certificates)
    facts = ()            # fact collectors recorded as before/after evidence

    def plan(self, ctx):
        raise NotImplementedError

    def apply(self, ctx, steps):
        applied = Applied(ok=True)
        for step in steps:
            record = run(ctx.host, step.command)
            applied.runs.append(record)
            if record["rc"] != 0:
                applied.ok = False
                break
        return applied
