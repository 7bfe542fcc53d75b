"""Firewall (FR-FW-01/02): load the policy's ruleset with an automatic rollback on the host.

The ruleset (firewall.ruleset, nft text of `table inet filter` only; else a default-deny one
built from allowed_tcp_ports) replaces table inet filter alone: Docker's own iptables-nft
tables stay, and `flush ruleset` is refused. Before loading it the host saves the current
table and arms a detached timer (setsid; no systemd needed) that restores it after the
rollback window. The new ruleset is then loaded by a detached process too, so a ruleset
that cuts the session cannot leave the loader half-way. The controller confirms over a
FRESH management connection (a new ssh master or paramiko client: the run's existing session
may survive a ruleset that refuses new connections); only a confirmed ruleset is kept and
persisted to /etc/nftables.conf. Whoever first creates DECIDED, the confirmation or the
timer, wins: a confirmation that comes too late finds the ruleset already rolled back.
"""

import re
import shlex
import time

from fixtures.connections import Connections
from remediations.base import Applied, Fix, NotFixable, Step, clip

WORK = "/var/lib/fleetready/firewall"
NEW, ROLLBACK, DECIDED, TIMER = (f"{WORK}/{n}" for n in ("new.nft", "rollback.nft", "decided", "timer.pid"))
APPLY_RC, APPLY_OUT = f"{WORK}/apply.rc", f"{WORK}/apply.out"
PERSISTED = "/etc/nftables.conf"
LOADER_DELAY = 0.5   # lets the session that starts the loader return before the load
HEADER = "#!/usr/sbin/nft -f\n# fleetready remediation FR-FW-01\ntable inet filter\ndelete table inet filter\n"
_TABLE = re.compile(r"\btable\s+(\S+)\s+(\S+)")
_FLUSH_ALL = re.compile(r"\bflush\s+ruleset\b")


def default_ruleset(ports):
    allowed = ", ".join(str(int(p)) for p in sorted(set(ports)))
    accept = f"    tcp dport {{ {allowed} }} accept\n" if allowed else ""
    return ("table inet filter {\n  chain input {\n"
            "    type filter hook input priority filter; policy drop;\n"
            "    iif lo accept\n    ct state established,related accept\n"
            "    meta l4proto { icmp, ipv6-icmp } accept\n" + accept + "  }\n}\n")


def ruleset_of(policy):
    fw = policy["firewall"]
    text = fw["ruleset"] or default_ruleset(fw["allowed_tcp_ports"])
    if _FLUSH_ALL.search(text):
        raise NotFixable("firewall.ruleset flushes the whole ruleset (Docker's tables too): refused")
    others = {f"{family} {name}" for family, name in _TABLE.findall(text)} - {"inet filter"}
    if others:
        raise NotFixable(f"firewall.ruleset may only define table inet filter, not {', '.join(sorted(others))}")
    return HEADER + text


def q(path):
    return shlex.quote(path)


def steps_for(ruleset, window):
    detached = ">/dev/null 2>&1 </dev/null &"
    timer = f"sleep {int(window)}; mkdir {q(DECIDED)} 2>/dev/null && nft -f {q(ROLLBACK)}"
    loader = f"sleep {LOADER_DELAY}; nft -f {q(NEW)} >{q(APPLY_OUT)} 2>&1; echo $? >{q(APPLY_RC)}"
    confirm = (
        # A connection opened before the load would prove nothing: the loader must be done.
        f"[ -s {q(APPLY_RC)} ] || {{ echo 'the ruleset loader has not finished'; exit 4; }}\n"
        f"if ! mkdir {q(DECIDED)} 2>/dev/null; then echo 'too late: rolled back by the host'; exit 3; fi\n"
        f"kill -TERM -- -$(cat {q(TIMER)}) 2>/dev/null\n"
        f"if [ \"$(cat {q(APPLY_RC)} 2>/dev/null)\" != 0 ]; then cat {q(APPLY_OUT)}; echo 'nft -f failed: nothing changed'; exit 1; fi\n"
        f"[ ! -e {q(PERSISTED)} ] || [ -e {q(WORK + '/nftables.conf.before')} ]"
        f" || cp -p {q(PERSISTED)} {q(WORK + '/nftables.conf.before')}\n"
        f"cp {q(NEW)} {q(PERSISTED)} || exit 1\n"
        "if [ -d /run/systemd/system ]; then systemctl enable -q nftables.service || exit 1; fi\n"
        "echo confirmed")
    return [
        Step(f"mkdir -p {q(WORK)} && printf %s {shlex.quote(ruleset)} >{q(NEW)} && nft -c -f {q(NEW)}",
             "stage the ruleset and have nft check it"),
        # Only the timer goes to the background: a backgrounded list would keep the session open.
        Step(f"rm -rf {q(DECIDED)} {q(APPLY_RC)} && {{ printf 'table inet filter\\ndelete table inet filter\\n';"
             f" nft list table inet filter 2>/dev/null; }} >{q(ROLLBACK)} || exit 1\n"
             f"setsid nohup sh -c {shlex.quote(timer)} {detached}\necho $! >{q(TIMER)}",
             f"save table inet filter and arm the host's rollback in {int(window)} s"),
        Step(f"setsid nohup sh -c {shlex.quote(loader)} {detached}",
             "load the ruleset from a detached process"),
        Step(confirm, "over a fresh management connection: cancel the rollback, persist to " + PERSISTED),
    ]


class Firewall(Fix):
    name = "firewall-ruleset"
    controls = ("FR-FW-01", "FR-FW-02")
    disruptive = True
    facts = ("firewall",)

    def plan(self, ctx):
        return steps_for(ruleset_of(ctx.policy), ctx.config.option.remediate_rollback_seconds)

    def apply(self, ctx, steps):
        *arm, confirm = steps
        armed = time.monotonic()
        applied = super().apply(ctx, arm)
        if not applied.ok:
            return applied
        window = ctx.config.option.remediate_rollback_seconds
        time.sleep(LOADER_DELAY + 1)
        record = fresh_run(ctx, confirm.command, timeout=min(5, window / 2))
        applied.runs.append(record)
        if record["rc"] == 0:
            return applied
        if record["rc"] == 1:
            return Applied(ok=False, runs=applied.runs)
        # Cut off (or too late): the host rolls back by itself; after the window it must answer.
        time.sleep(max(0.0, armed + window + 1 - time.monotonic()))
        check = fresh_run(ctx, f"[ -d {q(DECIDED)} ] && echo rollback done", timeout=10)
        applied.runs.append(check)
        return Applied(ok=check["rc"] == 0, runs=applied.runs,
                       result="rolled back" if check["rc"] == 0 else "remediation error")


def fresh_run(ctx, command, timeout):
    """command over a new connection to the host, never the run's existing session."""
    main = ctx.fleet.connections
    fresh = Connections(ssh_config=main.ssh_config, ssh_identity_file=main.ssh_identity_file,
                        strict_host_keys=main.strict_host_keys, connect_timeout=timeout)
    try:
        result = fresh.host(ctx.target).run(command)
        return {"command": command, "rc": result.rc, "connection": "fresh",
                "output": clip((result.stdout + result.stderr).strip())}
    except Exception as exc:  # no new connection: the ruleset cut the controller off
        return {"command": command, "rc": None, "connection": "fresh",
                "output": f"no fresh connection: {type(exc).__name__}: {exc}"}
    finally:
        fresh.close()


FIX = Firewall()
