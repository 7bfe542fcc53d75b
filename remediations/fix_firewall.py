"""Firewall (FR-FW-01/02): default-deny in a table of the fix's own, persisted so that what
boot loads is what runs; never blocking what the host serves; rolled back by the host itself
when the controller cannot confirm it.

What it changes is what the findings need: no default-deny input chain, or a port answering
that the policy does not allow → load the ruleset; not persisted → write the boot file. A
port the policy allows but that does not answer is dropped by rules the fix does not own (or
by the network): that is reported, not fixed.

The ruleset is `table inet fleetready` (default-deny input letting in loopback, replies, ICMP
and the policy's allowed_tcp_ports/allowed_udp_ports) added beside the host's own tables:
their chains and rules (a forward chain, `ct state invalid drop`) stay, since a packet must
pass every input chain. A policy's own `firewall.ruleset` (nft text of table inet filter
only) replaces table inet filter instead; the plan shows the diff of what that removes.

Before anything runs, the plan loads the ruleset into a fresh network namespace on the host
and judges it (nft_verdict) for every port the host serves (firewall_needs): one it would
block is a conflict, never applied, named with who uses it and the key that would allow it.

The boot file (/etc/nftables.conf) is written whole: every live table that iptables-nft does
not manage, as it runs, plus the fix's table (nft_host); the plan shows its diff.

Loading: the host saves the current version of the table, then a detached process (setsid; no
systemd needed) loads the ruleset, writes a load marker and, the rollback window after the
load, restores the saved table unless the change was confirmed: a ruleset that cuts the
session cannot leave it half-way, and however slow the host, the window starts when the
ruleset takes effect. Only after seeing the marker does the controller confirm, over a FRESH
management connection (the run's existing session may survive a ruleset that refuses new
connections), that the table is still the one the loader made; only then is it persisted.
Whoever first creates DECIDED, the confirmation or the host's rollback, wins.
"""

import re
import shlex
import time

from fleetready.judge.firewall import needed_families, saved_problem
from fleetready.probe.firewall_probe import ProbeError, probe_plan, probe_ports
from fleetready.transport.connections import Connections

from . import firewall_needs, nft_host
from .base import Applied, Conflict, Fix, NotFixable, Step, clip, failure, one_line, run
from .nft_verdict import ACCEPT, verdict

OWN_TABLE, POLICY_TABLE = "inet fleetready", "inet filter"
WORK = "/var/lib/fleetready/firewall"
NEW, BOOT, BOOT_BEFORE, NO_BOOT = (f"{WORK}/{n}" for n in ("new.nft", "boot.nft", "boot.before", "no-boot"))
ROLLBACK, DECIDED, LOADER_PID = (f"{WORK}/{n}" for n in ("rollback.nft", "decided", "loader.pid"))
CONFIRMED = f"{DECIDED}/confirmed"
# LOADED ("RC HANDLE": nft's exit status, then the handle of the table it made) and ROLLED
# (the rollback's exit status) appear whole (mv), after their nft -f has returned.
LOADED, LOAD_OUT = f"{WORK}/loaded", f"{WORK}/load.out"
ROLLED, ROLL_OUT = f"{WORK}/rolled", f"{WORK}/roll.out"
PERSISTED = nft_host.PERSISTED
LOAD_WAIT = 30  # s the host waits for the loader's marker: nft -f takes well under one
ROLLBACK_GRACE = 30  # s past the window for the host's rollback to be seen done
RETRY_PAUSE = 0.5  # s between fresh connection attempts
_TABLE = re.compile(r"\btable\s+(\S+)\s+(\S+)")
_FLUSH_ALL = re.compile(r"\bflush\s+ruleset\b")


def default_ruleset(tcp_ports, udp_ports):
    accept = "".join(
        f"    {proto} dport {{ {', '.join(str(int(p)) for p in sorted(set(ports)))} }} accept\n"
        for proto, ports in (("tcp", tcp_ports), ("udp", udp_ports))
        if ports
    )
    return (
        "table inet fleetready {\n  chain input {\n"
        "    type filter hook input priority filter; policy drop;\n"
        "    iif lo accept\n    ct state established,related accept\n"
        "    meta l4proto { icmp, ipv6-icmp } accept\n" + accept + "  }\n}\n"
    )


def ruleset_of(policy):
    """(the table the fix loads, its nft text, the policy key that lets a port in)."""
    fw = policy["firewall"]
    if not fw["ruleset"]:
        return OWN_TABLE, default_ruleset(fw["allowed_tcp_ports"], fw["allowed_udp_ports"]), None
    if _FLUSH_ALL.search(fw["ruleset"]):
        raise NotFixable("firewall.ruleset flushes the whole ruleset (Docker's tables too): refused")
    others = {f"{family} {name}" for family, name in _TABLE.findall(fw["ruleset"])} - {POLICY_TABLE}
    if others:
        raise NotFixable(f"firewall.ruleset may only define table inet filter, not {', '.join(sorted(others))}")
    return POLICY_TABLE, fw["ruleset"], "firewall.ruleset"


def findings(ctx):
    """(load the ruleset, write the boot file), from the facts and the port probes."""
    fw = ctx.facts["firewall"]
    needed = needed_families(fw)
    missing_live = [f for f in needed if f not in fw["live_deny"]]
    saved_ok = {
        f for path, entry in fw["saved"].items() if not saved_problem(path, entry, fw["systemd"]) for f in entry["deny"]
    }
    must_close, must_open = probe_plan(ctx.policy, fw["listening"])
    try:
        probes = ctx.fleet.probe("ports", lambda t: probe_ports(t, ctx.fleet), ctx.target)
    except ProbeError:
        probes = {}
    forbidden_open = [p for p in must_close if probes.get(p) == "open"]
    load = bool(missing_live or forbidden_open)
    persist = load or any(f not in saved_ok for f in needed)
    if not persist:
        blocked = ", ".join(f"{p} ({probes[p]})" for p in sorted(must_open) if probes.get(p, "open") != "open")
        raise NotFixable(
            f"allowed port(s) {blocked or 'none'} not reachable from outside: dropped by rules"
            " fleetready does not own, or on the way; let them in there"
        )
    return load, persist


def conflicts_of(ctx, survey, allow_key):
    """[{"port", "protocol", "used_by", "allow_with"}] the ruleset would block, one per port."""
    blocked = {}
    for need in firewall_needs.needs(ctx, survey.addresses):
        if verdict(survey.new_json, need.protocol, need.port, need.source) != ACCEPT:
            blocked.setdefault((need.port, need.protocol), []).append(need.used_by)
    return [
        {
            "port": port,
            "protocol": protocol,
            "used_by": list(dict.fromkeys(users)),
            "allow_with": allow_key or f"firewall.allowed_{protocol}_ports",
        }
        for (port, protocol), users in sorted(blocked.items())
    ]


def conflict_message(conflicts):
    """One line; every user of each port is in the record's conflicts."""

    def users(names):
        return names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")

    return "not applied: the ruleset would block " + "; ".join(
        f"{c['port']}/{c['protocol']}, used by {users(c['used_by'])}: allow it with {c['allow_with']}"
        for c in conflicts
    )


def q(path):
    return shlex.quote(path)


def handle(table):
    family, name = table.split()
    return f"nft -a list table {q(family)} {q(name)} 2>/dev/null | sed -n '1s/.*# handle \\([0-9]*\\)$/\\1/p'"


# $0 work dir, $1 ruleset (or empty: boot file only), $2 boot file
STAGE = (
    'mkdir -p "$0" && printf %s "$2" >"$0/boot.nft" && nft -c -f "$0/boot.nft" || exit 1\n'
    '[ -z "$1" ] || { printf %s "$1" >"$0/new.nft" && nft -c -f "$0/new.nft"; }'
)
# Exit 2: nothing written; 1: the boot file may have changed. BOOT_BEFORE, or NO_BOOT when
# there was none, is what the undo puts back.
PERSIST = (
    f"rm -f {q(BOOT_BEFORE)} {q(NO_BOOT)}\n"
    f"if [ -e {q(PERSISTED)} ]; then cp -p {q(PERSISTED)} {q(BOOT_BEFORE)} || exit 2;"
    f" else : >{q(NO_BOOT)} || exit 2; fi\n"
    f"cp {q(BOOT)} {q(PERSISTED)} || exit 1\n"
    "if [ -d /run/systemd/system ]; then systemctl enable -q nftables.service || exit 1; fi\n"
)
UNDO_PERSIST = (
    f"if [ -e {q(BOOT_BEFORE)} ]; then cp -p {q(BOOT_BEFORE)} {q(PERSISTED)};"
    f" elif [ -e {q(NO_BOOT)} ]; then rm -f {q(PERSISTED)}; fi"
)
UNDO_LOAD = f"nft -f {q(ROLLBACK)}"


def stage_step(ruleset, boot):
    return Step(
        f"sh -c {shlex.quote(STAGE)} {q(WORK)} {shlex.quote(ruleset or '')} {shlex.quote(boot)}",
        "stage the ruleset and the boot file; nft checks both",
    )


def persist_step(before, boot):
    return Step(
        PERSIST + "echo persisted",
        f"write {PERSISTED} (the previous one kept as {BOOT_BEFORE})",
        nft_host.diff(before, boot, PERSISTED),
    )


def load_steps(table, live, new_text, before, boot, window):
    family, name = table.split()
    loader = (
        f"echo $$ >{q(LOADER_PID)}\n"
        f"nft -f {q(NEW)} >{q(LOAD_OUT)} 2>&1; rc=$?\n"
        f'echo "$rc $({handle(table)})" >{q(LOADED + ".tmp")} && mv {q(LOADED + ".tmp")} {q(LOADED)}\n'
        # A failed nft -f changed nothing (it is one transaction): nothing to roll back.
        "[ $rc = 0 ] || exit\n"
        f"sleep {int(window)}\n"
        f"mkdir {q(DECIDED)} 2>/dev/null || exit\n"
        f"nft -f {q(ROLLBACK)} >{q(ROLL_OUT)} 2>&1; echo $? >{q(ROLLED + '.tmp')} && mv {q(ROLLED + '.tmp')} {q(ROLLED)}"
    )
    load = (
        # Only the loader goes to the background: a backgrounded list would keep the session open.
        f"setsid nohup sh -c {shlex.quote(loader)} >/dev/null 2>&1 </dev/null &\n"
        f"n=0; until [ -e {q(LOADED)} ]; do\n"
        f"  [ $n -lt {LOAD_WAIT * 10} ] || {{ echo 'the ruleset loader has not finished'; exit 4; }}\n"
        "  sleep 0.1; n=$((n + 1))\ndone\n"
        f"read rc handle <{q(LOADED)}; cat {q(LOAD_OUT)}\n"
        f'[ "$rc" = 0 ] && echo "loaded: table {table} handle $handle"; exit "$rc"'
    )
    confirm = (
        # Checked before deciding: while DECIDED is free, the host's rollback has not begun.
        f"read rc handle <{q(LOADED)}\n"
        f'if [ "$({handle(table)})" != "$handle" ]; then\n'
        f"  [ ! -d {q(DECIDED)} ] || {{ echo 'too late: rolled back by the host'; exit 3; }}\n"
        f"  echo 'table {table} is not the loaded ruleset'; exit 5\nfi\n"
        # CONFIRMED lets a retry whose earlier attempt decided (and lost its answer) go on.
        f"if mkdir {q(DECIDED)} 2>/dev/null; then : >{q(CONFIRMED)}\n"
        f"elif [ ! -e {q(CONFIRMED)} ]; then echo 'too late: rolled back by the host'; exit 3; fi\n"
        # Its process group (setsid): the loader and its sleep. dash's kill refuses "--".
        f'kill -TERM -"$(cat {q(LOADER_PID)})" 2>/dev/null\n' + PERSIST + "echo confirmed"
    )
    return [
        Step(
            f"rm -rf {q(DECIDED)} {q(LOADED)} {q(ROLLED)} && {{ printf 'table %s %s\\ndelete table %s %s\\n'"
            f" {q(family)} {q(name)} {q(family)} {q(name)};"
            # No table yet: the rollback just deletes the one the fix creates.
            f" nft list table {q(family)} {q(name)} 2>/dev/null || true; }} >{q(ROLLBACK)}",
            f"save table {table} for the rollback",
        ),
        Step(
            load,
            f"load table {table} from a detached process that restores the saved one {int(window)} s"
            " after the load unless confirmed; wait for the load",
            nft_host.diff(live, new_text, f"table {table}"),
        ),
        Step(
            confirm,
            "over a fresh management connection: check the loaded table is live, cancel the"
            f" rollback, write {PERSISTED} (the previous one kept as {BOOT_BEFORE})",
            nft_host.diff(before, boot, PERSISTED),
        ),
    ]


ROLLED_BACK = (
    f"if [ -e {q(ROLLED)} ]; then cat {q(ROLL_OUT)}\n"
    f"  [ \"$(cat {q(ROLLED)})\" = 0 ] || {{ echo 'the rollback failed'; exit 1; }}\n"
    "  echo 'rolled back by the host'; exit 0\nfi\n"
    "echo 'not rolled back (yet)'; exit 4"
)


class Firewall(Fix):
    name = "firewall-ruleset"
    controls = ("FR-FW-01", "FR-FW-02")
    disruptive = True
    facts = ("firewall",)

    def plan(self, ctx):
        load, persist = findings(ctx)
        table, text, allow_key = ruleset_of(ctx.policy)
        try:
            survey = nft_host.survey(ctx.host, nft_host.block(table, text) if load else "")
        except nft_host.SurveyError as exc:
            raise NotFixable(str(exc)) from None
        boot = nft_host.boot_file(survey, table if load else None)
        if not load:
            return [stage_step(None, boot), persist_step(survey.boot, boot)]
        live = survey.live(table)
        steps = [
            stage_step(nft_host.block(table, text), boot),
            *load_steps(
                table,
                live.text if live else "",
                survey.new_text,
                survey.boot,
                boot,
                ctx.config.option.remediate_rollback_seconds,
            ),
        ]
        conflicts = conflicts_of(ctx, survey, allow_key)
        if conflicts:
            raise Conflict(conflict_message(conflicts), conflicts, steps)
        return steps

    def apply(self, ctx, steps):
        if steps[-1].command.endswith("echo persisted"):  # the boot file alone
            applied = super().apply(ctx, steps)
            applied.notes["changed"] = (
                [PERSISTED] if len(applied.runs) == 2 and applied.runs[-1]["rc"] in (0, 1) else []
            )
            return applied
        table = ruleset_of(ctx.policy)[0]
        *prepare, load, confirm = steps
        applied = super().apply(ctx, prepare)
        applied.notes["changed"] = []
        if not applied.ok:
            return applied
        window = ctx.config.option.remediate_rollback_seconds
        try:
            record = run(ctx.host, load.command)
        except Exception as exc:  # the ruleset dropped the run's session too: the host rolls back
            record = {"command": load.command, "rc": None, "output": failure(exc)}
        # The host's window started at the load, before now: past this, it may have rolled back.
        window_end = time.monotonic() + window
        applied.runs.append(record)
        if record["rc"] is not None:
            if record["rc"] != 0:
                return Applied(
                    ok=False,
                    runs=applied.runs,
                    notes=applied.notes,
                    message=f"nft did not load the ruleset: {one_line(record['output'])}",
                )
            applied.notes["changed"].append(f"table {table}")
            record = fresh_until(ctx, confirm.command, window_end, done=lambda rc: rc is not None)
            applied.runs.append(record)
            if record["rc"] in (0, 1):
                applied.notes["changed"].append(PERSISTED)
            if record["rc"] == 0:
                return applied
            if record["rc"] in (1, 2):  # confirmed (the rollback cancelled), the boot file not written
                return Applied(
                    ok=False,
                    runs=applied.runs,
                    notes=applied.notes,
                    message=f"confirmed, but {PERSISTED} not written: {one_line(record['output'])}",
                )
        why = one_line(record["output"])
        # Not confirmed (cut off, too late, or not the loaded ruleset): the host rolls back by
        # itself when the window ends; then it must answer a fresh connection, rolled back.
        time.sleep(max(0.0, window_end - time.monotonic()))
        check = fresh_until(ctx, ROLLED_BACK, window_end + ROLLBACK_GRACE, done=lambda rc: rc in (0, 1))
        applied.runs.append(check)
        if check["rc"] == 0:
            return Applied(
                ok=True,
                runs=applied.runs,
                result="rolled back",
                notes={"changed": []},
                message=f"not confirmed within {window:g} s ({why}): the host restored table {table} by itself",
            )
        return Applied(
            ok=False,
            runs=applied.runs,
            result="remediation error",
            notes=applied.notes,
            message=f"not confirmed ({why}) and the host's rollback not seen: {one_line(check['output'])}",
        )

    def undo(self, ctx, applied):
        """Back to the table and the boot file as they were, for what this apply changed."""
        changed = applied.notes.get("changed", [])
        commands = [UNDO_LOAD for c in changed if c.startswith("table ")]
        commands += [UNDO_PERSIST for c in changed if c == PERSISTED]
        if not commands:
            return None
        return super().apply(ctx, [Step(c, "undo: " + what) for c, what in zip(commands, changed)])


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
    fresh = Connections(
        ssh_config=main.ssh_config,
        ssh_identity_file=main.ssh_identity_file,
        strict_host_keys=main.strict_host_keys,
        connect_timeout=timeout,
    )
    try:
        result = fresh.host(ctx.target).run(command)
        return {
            "command": command,
            "rc": result.rc,
            "connection": "fresh",
            "output": clip((result.stdout + result.stderr).strip()),
        }
    except Exception as exc:  # no new connection: the ruleset cut the controller off
        return {"command": command, "rc": None, "connection": "fresh", "output": f"no fresh connection: {failure(exc)}"}
    finally:
        fresh.close()


FIX = Firewall()
