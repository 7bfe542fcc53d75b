"""Firewall (FR-FW-01/02): load the policy's ruleset with an automatic rollback on the host.

The ruleset (firewall.ruleset, nft text of `table inet filter` only; else a default-deny one
built from allowed_tcp_ports) replaces table inet filter alone: Docker's own iptables-nft
tables stay, and `flush ruleset` is refused. The host first saves the current table. A
detached process (setsid; no systemd needed) then loads the ruleset, writes a load marker
and, the rollback window after the load, restores the saved table unless the change was
confirmed: a ruleset that cuts the session cannot leave it half-way, and however slow the
host, the window starts when the ruleset takes effect. Only after seeing the marker does the
controller confirm, over a FRESH management connection (a new ssh master or paramiko client:
the run's existing session may survive a ruleset that refuses new connections), so the
connection that confirms was opened under the new ruleset. The confirmation checks that
table inet filter is still the one the loader made; only a confirmed ruleset is kept and
persisted to /etc/nftables.conf. Whoever first creates DECIDED, the confirmation or the
host's rollback, wins: a confirmation that comes too late finds the ruleset rolled back.
"""

import re
import shlex
import time

from fixtures.connections import Connections
from remediations.base import Applied, Fix, NotFixable, Step, clip, run

WORK = "/var/lib/fleetready/firewall"
NEW, ROLLBACK, DECIDED, LOADER_PID = (f"{WORK}/{n}" for n in ("new.nft", "rollback.nft", "decided", "loader.pid"))
CONFIRMED = f"{DECIDED}/confirmed"
# LOADED ("RC HANDLE": nft's exit status, then the handle of the table it made) and ROLLED
# (the rollback's exit status) appear whole (mv), after their nft -f has returned.
LOADED, LOAD_OUT = f"{WORK}/loaded", f"{WORK}/load.out"
ROLLED, ROLL_OUT = f"{WORK}/rolled", f"{WORK}/roll.out"
PERSISTED = "/etc/nftables.conf"
LOAD_WAIT = 30        # s the host waits for the loader's marker: nft -f takes well under one
ROLLBACK_GRACE = 30   # s past the window for the host's rollback to be seen done
RETRY_PAUSE = 0.5     # s between fresh connection attempts
# The handle of the live table inet filter: every load (or rollback) makes a table with a new one.
HANDLE = r"nft -a list table inet filter 2>/dev/null | sed -n '1s/.*# handle \([0-9]*\)$/\1/p'"
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
    loader = (
        f"echo $$ >{q(LOADER_PID)}\n"
        f"nft -f {q(NEW)} >{q(LOAD_OUT)} 2>&1; rc=$?\n"
        f"echo \"$rc $({HANDLE})\" >{q(LOADED + '.tmp')} && mv {q(LOADED + '.tmp')} {q(LOADED)}\n"
        # A failed nft -f changed nothing (it is one transaction): nothing to roll back.
        "[ $rc = 0 ] || exit\n"
        f"sleep {int(window)}\n"
        f"mkdir {q(DECIDED)} 2>/dev/null || exit\n"
        f"nft -f {q(ROLLBACK)} >{q(ROLL_OUT)} 2>&1; echo $? >{q(ROLLED + '.tmp')} && mv {q(ROLLED + '.tmp')} {q(ROLLED)}")
    load = (
        # Only the loader goes to the background: a backgrounded list would keep the session open.
        f"setsid nohup sh -c {shlex.quote(loader)} >/dev/null 2>&1 </dev/null &\n"
        f"n=0; until [ -e {q(LOADED)} ]; do\n"
        f"  [ $n -lt {LOAD_WAIT * 10} ] || {{ echo 'the ruleset loader has not finished'; exit 4; }}\n"
        "  sleep 0.1; n=$((n + 1))\ndone\n"
        f"read rc handle <{q(LOADED)}; cat {q(LOAD_OUT)}\n"
        "[ \"$rc\" = 0 ] && echo \"loaded: table inet filter handle $handle\"; exit \"$rc\"")
    confirm = (
        # Checked before deciding: while DECIDED is free, the host's rollback has not begun.
        f"read rc handle <{q(LOADED)}\n"
        f"if [ \"$({HANDLE})\" != \"$handle\" ]; then\n"
        f"  [ ! -d {q(DECIDED)} ] || {{ echo 'too late: rolled back by the host'; exit 3; }}\n"
        "  echo 'table inet filter is not the loaded ruleset'; exit 5\nfi\n"
        # CONFIRMED lets a retry whose earlier attempt decided (and lost its answer) go on.
        f"if mkdir {q(DECIDED)} 2>/dev/null; then : >{q(CONFIRMED)}\n"
        f"elif [ ! -e {q(CONFIRMED)} ]; then echo 'too late: rolled back by the host'; exit 3; fi\n"
        # Its process group (setsid): the loader and its sleep. dash's kill refuses "--".
        f"kill -TERM -\"$(cat {q(LOADER_PID)})\" 2>/dev/null\n"
        f"[ ! -e {q(PERSISTED)} ] || [ -e {q(WORK + '/nftables.conf.before')} ]"
        f" || cp -p {q(PERSISTED)} {q(WORK + '/nftables.conf.before')}\n"
        f"cp {q(NEW)} {q(PERSISTED)} || exit 1\n"
        "if [ -d /run/systemd/system ]; then systemctl enable -q nftables.service || exit 1; fi\n"
        "echo confirmed")
    return [
        Step(f"mkdir -p {q(WORK)} && printf %s {shlex.quote(ruleset)} >{q(NEW)} && nft -c -f {q(NEW)}",
             "stage the ruleset and have nft check it"),
        Step(f"rm -rf {q(DECIDED)} {q(LOADED)} {q(ROLLED)} && {{ printf 'table inet filter\\ndelete table inet filter\\n';"
             # No table yet: the rollback just deletes the one the fix creates.
             f" nft list table inet filter 2>/dev/null || true; }} >{q(ROLLBACK)}",
             "save table inet filter for the rollback"),
        Step(load, f"load the ruleset from a detached process that restores the saved table {int(window)} s"
                   " after the load unless confirmed; wait for the load"),
        Step(confirm, "over a fresh management connection: check the loaded ruleset is live, cancel the"
                      " rollback, persist to " + PERSISTED),
    ]


ROLLED_BACK = (
    f"if [ -e {q(ROLLED)} ]; then cat {q(ROLL_OUT)}\n"
    f"  [ \"$(cat {q(ROLLED)})\" = 0 ] || {{ echo 'the rollback failed'; exit 1; }}\n"
    "  echo 'rolled back by the host'; exit 0\nfi\n"
    "echo 'not rolled back (yet)'; exit 4")


class Firewall(Fix):
    name = "firewall-ruleset"
    controls = ("FR-FW-01", "FR-FW-02")
    disruptive = True
    facts = ("firewall",)

    def plan(self, ctx):
        return steps_for(ruleset_of(ctx.policy), ctx.config.option.remediate_rollback_seconds)

    def apply(self, ctx, steps):
        *prepare, load, confirm = steps
        applied = super().apply(ctx, prepare)
        if not applied.ok:
            return applied
        window = ctx.config.option.remediate_rollback_seconds
        try:
            record = run(ctx.host, load.command)
        except Exception as exc:  # the ruleset dropped the run's session too: the host rolls back
            record = {"command": load.command, "rc": None, "output": f"{type(exc).__name__}: {exc}"}
        # The host's window started at the load, before now: past this, it may have rolled back.
        window_end = time.monotonic() + window
        applied.runs.append(record)
        if record["rc"] is not None:
            if record["rc"] != 0:
                return Applied(ok=False, runs=applied.runs)
            record = fresh_until(ctx, confirm.command, window_end, done=lambda rc: rc is not None)
            applied.runs.append(record)
            if record["rc"] == 0:
                return applied
            if record["rc"] == 1:
                return Applied(ok=False, runs=applied.runs)
        # Not confirmed (cut off, too late, or not the loaded ruleset): the host rolls back by
        # itself when the window ends; then it must answer a fresh connection, rolled back.
        time.sleep(max(0.0, window_end - time.monotonic()))
        check = fresh_until(ctx, ROLLED_BACK, window_end + ROLLBACK_GRACE, done=lambda rc: rc in (0, 1))
        applied.runs.append(check)
        return Applied(ok=check["rc"] == 0, runs=applied.runs,
                       result="rolled back" if check["rc"] == 0 else "remediation error")


def fresh_until(ctx, command, deadline, done):
    """command over fresh connections, again until done(rc) or the deadline: the last attempt."""
    attempts = 0
    while True:
        attempts += 1
        record = fresh_run(ctx, command, timeout=max(1.0, deadline - time.monotonic()))
        if done(record["rc"]) or time.monotonic() + RETRY_PAUSE >= deadline:
            return {**record, "attempts": attempts}
        time.sleep(RETRY_PAUSE)


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
