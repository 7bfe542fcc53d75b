"""Log drain (FR-LOG-01): make rsyslog forward the host's logs to the policy's drain, and only
there, when the cause is on the host.

Not on the host, nothing is written: a TCP drain that does not answer from the host (the
receiver, or the way to it, is down), a drain name the host cannot resolve. A forward the
fix cannot own (Docker's syslog driver, Deis's etcd key) is left to a human.

On the host: no forward to the drain → the drop-in DROPIN (omfwd to the drain); rsyslog
forwards elsewhere (wrong host, port or protocol) → those forward actions are commented out
where they are, so exactly one forward remains; a forward that is right but rsyslogd is not
running → rsyslogd started. A file is written only when its content differs, the previous
version kept for the undo; the configuration is validated (rsyslogd -N1); rsyslogd is
restarted only when a file the fix wrote is newer than its last restart (or it is not
running): applying twice restarts nothing. Restart: systemctl under systemd; elsewhere TERM,
wait, start rsyslogd detached. When the policy's canary names the receiver, a `logger` line
must then arrive there. A failed re-check puts every file back and restarts rsyslogd.
"""

import base64
import difflib
import re
import secrets
import shlex
import time

from fleetready.gather.facts_logging import ACTION_FORWARD, LEGACY_FORWARD, configured_forwards
from fleetready.judge.logs import to_drain
from fleetready.probe.log_canary import watch_command

from .base import Fix, NotFixable, Step, run

DROPIN = "/etc/rsyslog.d/90-fleetready-drain.conf"
WORK = "/var/lib/fleetready/rsyslog"
STAMP = f"{WORK}/restarted"
COMMENT = "# fleetready: wrong drain: "
# A drain host goes inside a quoted rsyslog string: plain host names and addresses only.
_HOST = re.compile(r"[A-Za-z0-9._:-]+")

# $0 file, $1 content, $2 backup: written only when it differs; the previous version (or
# BACKUP.none: there was none) kept for the undo.
WRITE = """if [ -e "$0" ] && printf %s "$1" | cmp -s - "$0"; then echo "unchanged $0"; exit 0; fi
mkdir -p "$(dirname "$2")" && rm -f "$2" "$2.none" || exit 1
if [ -e "$0" ]; then cp -p "$0" "$2" || exit 1; else : >"$2.none" || exit 1; fi
t=$(mktemp "$0.fleetready.XXXXXX") && printf %s "$1" >"$t" || exit 1
if [ -e "$0" ]; then chmod --reference="$0" "$t"; else chmod 644 "$t"; fi && mv "$t" "$0" && echo "written $0"
"""
# $0 file, $1 backup
RESTORE = 'if [ -e "$1" ]; then cp -p "$1" "$0"; elif [ -e "$1.none" ]; then rm -f "$0"; fi'
VALIDATE = 'out=$(rsyslogd -N1 2>&1) || { printf "%s\\n" "$out" | tail -n 3; exit 1; }'
# $0 stamp, then the files the fix writes: restart when one is newer than the last restart.
RESTART = """newer=; for f in "$@"; do [ -e "$0" ] && [ -e "$f" ] && ! [ "$f" -nt "$0" ] || newer=1; done
if [ -z "$newer" ] && pgrep -x rsyslogd >/dev/null; then echo 'already running it'; exit 0; fi
if [ -d /run/systemd/system ]; then systemctl restart rsyslog || exit $?; else
  p=$(pgrep -x rsyslogd); [ -z "$p" ] || kill $p
  i=0; while pgrep -x rsyslogd >/dev/null; do i=$((i+1)); [ $i -eq 100 ] && pkill -9 -x rsyslogd; sleep 0.05; done
  rm -f /run/rsyslogd.pid
  # foreground and detached: a forking rsyslogd would hold the remote session open
  setsid rsyslogd -n >/dev/null 2>&1 </dev/null &
  i=0; until [ -S /dev/log ] || [ $i -eq 100 ]; do i=$((i+1)); sleep 0.05; done
fi
mkdir -p "$(dirname "$0")" && touch "$0" && echo restarted"""
# $1...: files, base64 of each on its own line ("-" when unreadable)
READ = 'for f in "$@"; do if [ -r "$f" ]; then base64 -w0 <"$f"; echo; else echo -; fi; done'


def dropin(drain):
    return (
        f"# fleetready remediation FR-LOG-01: every message to the policy's drain\n"
        f'*.* action(type="omfwd" target="{drain["host"]}" port="{int(drain["port"])}" '
        f'protocol="{drain["protocol"]}" action.resumeRetryCount="-1" action.resumeInterval="1" '
        'queue.type="LinkedList")\n'
    )


def script(body, *args):
    return f"sh -c {shlex.quote(body)} " + " ".join(shlex.quote(str(a)) for a in args)


def backup_of(path):
    return f"{WORK}/before{path.replace('/', '%')}"


def commented(text, lines):
    """text with the rsyslog forward actions starting on `lines` commented out, whole."""
    stripped = re.sub(r"^[ \t]*#.*$", "", text, flags=re.M)  # as the facts' parser reads it
    out = text.splitlines(True)
    for m in [*LEGACY_FORWARD.finditer(stripped), *ACTION_FORWARD.finditer(stripped)]:
        first = stripped.count("\n", 0, m.start()) + 1
        if first in lines:
            last = stripped.count("\n", 0, m.end()) + 1
            for n in range(first - 1, last):
                out[n] = COMMENT + out[n]
    return "".join(out)


def cause(policy, facts):
    """(forwards to the drain, wrong forwards), or NotFixable when the cause is not on the host."""
    drain, gathered = policy["logging"]["drain"], facts["logging"]
    at = f"{drain['host']}:{drain['port']}/{drain['protocol']}"
    if not gathered["drain_addresses"]:
        raise NotFixable(f"drain {at}: its name does not resolve on the host (DNS or /etc/hosts, not forwarding)")
    if drain["protocol"] == "tcp" and gathered["reach"] != "0":
        raise NotFixable(
            f"drain {at} does not answer from the host: the receiver, or the way to it, is down;"
            " forwarding there would not deliver, so nothing was written"
        )
    forwards = configured_forwards(policy["logging"]["source"], facts)
    right = [
        f for f in forwards if to_drain(f, drain, gathered["drain_addresses"]) and f["protocol"] == drain["protocol"]
    ]
    wrong = [f for f in forwards if f not in right]
    foreign = [f for f in wrong if f["via"] != "rsyslog"]
    if foreign:
        f = foreign[0]
        raise NotFixable(
            f"{f['via']} forwards to {f['host']}:{f['port']}/{f['protocol']} ({f['where']}):"
            " change it there, the fix only writes rsyslog configuration"
        )
    return right, wrong


class LogDrain(Fix):
    name = "log-drain"
    controls = ("FR-LOG-01",)
    disruptive = True  # restarts rsyslogd
    facts = ("logging",)

    def plan(self, ctx):
        logging = ctx.policy["logging"]
        drain = logging["drain"]
        if logging["source"] not in ("auto", "rsyslog"):
            raise NotFixable(f"logging.source {logging['source']}: only rsyslog forwarding is configured here")
        if not _HOST.fullmatch(drain["host"]):
            raise NotFixable(f"drain host {drain['host']!r} is not a plain host name or address")
        right, wrong = cause(ctx.policy, ctx.facts)
        steps, written = [], []
        if not right:
            steps.append(
                Step(
                    script(WRITE, DROPIN, dropin(drain), backup_of(DROPIN)),
                    f"write {DROPIN} forwarding to {drain['host']}:{drain['port']}/{drain['protocol']}",
                )
            )
            written.append(DROPIN)
        by_file = {}
        for f in wrong:
            path, _, line = f["where"].rpartition(":")
            if path != DROPIN or right:  # else the new drop-in replaces it
                by_file.setdefault(path, set()).add(int(line))
        current = read_files(ctx.host, list(by_file)) if by_file else {}
        for path, lines in sorted(by_file.items()):
            text = current[path]
            new = commented(text, lines)
            if new == text:
                raise NotFixable(f"the wrong forward is no longer where the facts saw it ({path}): run again")
            targets = ", ".join(
                f"{f['host']}:{f['port']}/{f['protocol']}" for f in wrong if f["where"].startswith(path + ":")
            )
            steps.append(
                Step(
                    script(WRITE, path, new, backup_of(path)),
                    f"comment out the forward to {targets} in {path}: not the policy's drain",
                    "".join(
                        difflib.unified_diff(
                            text.splitlines(True), new.splitlines(True), f"{path} (now)", f"{path} (after)"
                        )
                    ),
                )
            )
            written.append(path)
        if written:
            steps.append(Step(VALIDATE, "rsyslogd must accept the new configuration"))
        steps.append(
            Step(
                script(RESTART, STAMP, *written or [DROPIN]),
                "restart rsyslogd if a file the fix wrote changed since its last restart, or it is not running",
            )
        )
        return steps

    def apply(self, ctx, steps):
        applied = super().apply(ctx, steps)
        applied.notes["changed"] = [
            line.split(" ", 1)[1]
            for r in applied.runs
            for line in r["output"].splitlines()
            if line.startswith("written ")
        ]
        canary = ctx.policy["logging"]["canary"]
        if applied.ok and canary["enabled"] and canary["receiver_host"] and canary["receiver_log"]:
            applied.notes["canary"] = send_canary(ctx, canary)
            if not applied.notes["canary"]["received"]:
                applied.ok = False
                applied.message = (
                    f"the canary did not arrive in {canary['receiver_log']} on"
                    f" {canary['receiver_host']} within {canary['deadline_seconds']:g} s"
                )
        return applied

    def undo(self, ctx, applied):
        """Every file the apply wrote back as it was, and rsyslogd restarted on them."""
        changed = applied.notes.get("changed", [])
        if not changed:
            return None
        steps = [Step(script(RESTORE, path, backup_of(path)), f"undo: {path} as it was") for path in changed]
        return super().apply(ctx, steps + [Step(script(RESTART, STAMP, *changed), "undo: restart rsyslogd")])


def read_files(host, paths):
    out = host.run(script(READ, "fleetready-read", *paths)).stdout.split("\n")
    if len(out) < len(paths) or "-" in out[: len(paths)]:
        raise NotFixable(f"cannot read the rsyslog configuration to change: {', '.join(paths)}")
    return {p: base64.b64decode(b).decode("utf-8", "replace") for p, b in zip(paths, out)}


def send_canary(ctx, canary):
    """A `logger` line on the host, watched for at the receiver until the canary deadline."""
    receiver = next((t for t in ctx.fleet.targets if t.name == canary["receiver_host"]), None)
    if receiver is None:
        return {"received": False, "error": f"receiver {canary['receiver_host']} is not in this run"}
    token = f"fleetready-remediation-{ctx.target.name}-{secrets.token_hex(8)}"
    started = time.monotonic()
    sent = run(ctx.host, f"logger -t fleetready-remediation -- {shlex.quote(token)}")
    deadline = max(1, int(canary["deadline_seconds"] + 0.999))
    watch = run(ctx.fleet.connections.host(receiver), watch_command(canary["receiver_log"], token, deadline))
    # "canary", not "token": the redactor masks values of keys named like token.
    return {
        "canary": token,
        "received": sent["rc"] == 0 and watch["rc"] == 0,
        "seconds": round(time.monotonic() - started, 2),
        "receiver": receiver.name,
    }


FIX = LogDrain()
