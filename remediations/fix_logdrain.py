"""Log drain (FR-LOG-01): forward the host's logs to the policy's drain with an rsyslog drop-in.

The drop-in (DROPIN) is written only when its content differs, and rsyslogd is restarted only
when the drop-in is newer than the last restart this fix made (or rsyslogd is not running),
so applying twice restarts nothing. The main rsyslog.conf is never edited. The new
configuration is validated (rsyslogd -N1) before the restart, and removed if rejected.
Restart: systemctl under systemd; elsewhere (containers, the lab) TERM, wait, start rsyslogd
detached. When the policy's canary names the receiver, a `logger` line must then arrive there.
"""

import re
import secrets
import shlex
import time

from fixtures.log_canary import _WATCH
from remediations.base import Fix, NotFixable, Step, run

DROPIN = "/etc/rsyslog.d/90-fleetready-drain.conf"
STAMP = "/var/lib/fleetready/rsyslog-restarted"
# A drain host goes inside a quoted rsyslog string: plain host names and addresses only.
_HOST = re.compile(r"[A-Za-z0-9._:-]+")

_WRITE = ("mkdir -p /etc/rsyslog.d && t=$(mktemp /etc/rsyslog.d/.fleetready.XXXXXX) &&"
          " printf %s {content} >\"$t\" && chmod 644 \"$t\" &&"
          " if cmp -s \"$t\" {dst}; then rm -f \"$t\"; echo unchanged; else mv \"$t\" {dst} && echo written; fi")
_VALIDATE = "rsyslogd -N1 >/dev/null 2>&1 || {{ rm -f {dst}; echo 'rsyslogd -N1 rejects the drop-in: removed' >&2; exit 1; }}"
_RESTART = (
    "if [ -e {stamp} ] && ! [ {dst} -nt {stamp} ] && pgrep -x rsyslogd >/dev/null; then echo 'already running it'; exit 0; fi\n"
    "if [ -d /run/systemd/system ]; then systemctl restart rsyslog || exit $?; else\n"
    "  p=$(pgrep -x rsyslogd); [ -z \"$p\" ] || kill $p\n"
    "  i=0; while pgrep -x rsyslogd >/dev/null; do i=$((i+1));"
    " [ $i -eq 100 ] && pkill -9 -x rsyslogd; sleep 0.05; done\n"
    "  rm -f /run/rsyslogd.pid\n"
    # foreground and detached: a forking rsyslogd would hold the remote session open
    "  setsid rsyslogd -n >/dev/null 2>&1 </dev/null &\n"
    "  i=0; until [ -S /dev/log ] || [ $i -eq 100 ]; do i=$((i+1)); sleep 0.05; done\n"
    "fi\n"
    "mkdir -p {stampdir} && touch {stamp} && echo restarted")


def dropin(drain):
    return (f"# fleetready remediation FR-LOG-01: every message to the policy's drain\n"
            f'*.* action(type="omfwd" target="{drain["host"]}" port="{int(drain["port"])}" '
            f'protocol="{drain["protocol"]}" action.resumeRetryCount="-1" action.resumeInterval="1" '
            'queue.type="LinkedList")\n')


class LogDrain(Fix):
    name = "log-drain"
    controls = ("FR-LOG-01",)
    disruptive = True   # restarts rsyslogd
    facts = ("logging",)

    def plan(self, ctx):
        logging = ctx.policy["logging"]
        drain = logging["drain"]
        if logging["source"] not in ("auto", "rsyslog"):
            raise NotFixable(f"logging.source {logging['source']}: only rsyslog forwarding is configured here")
        if not _HOST.fullmatch(drain["host"]):
            raise NotFixable(f"drain host {drain['host']!r} is not a plain host name or address")
        dst = shlex.quote(DROPIN)
        stamp = shlex.quote(STAMP)
        return [Step(_WRITE.format(content=shlex.quote(dropin(drain)), dst=dst),
                     f"write {DROPIN} forwarding to {drain['host']}:{drain['port']}/{drain['protocol']}"),
                Step(_VALIDATE.format(dst=dst), "rsyslogd must accept the new configuration"),
                Step(_RESTART.format(dst=dst, stamp=stamp, stampdir=shlex.quote(STAMP.rsplit("/", 1)[0])),
                     "restart rsyslogd if the drop-in changed since its last restart")]

    def apply(self, ctx, steps):
        applied = super().apply(ctx, steps)
        canary = ctx.policy["logging"]["canary"]
        if applied.ok and canary["enabled"] and canary["receiver_host"] and canary["receiver_log"]:
            applied.notes["canary"] = send_canary(ctx, canary)
            if not applied.notes["canary"]["received"]:
                applied.ok = False
        return applied


def send_canary(ctx, canary):
    """A `logger` line on the host, watched for at the receiver until the canary deadline."""
    receiver = next((t for t in ctx.fleet.targets if t.name == canary["receiver_host"]), None)
    if receiver is None:
        return {"received": False, "error": f"receiver {canary['receiver_host']} is not in this run"}
    token = f"fleetready-remediation-{ctx.target.name}-{secrets.token_hex(8)}"
    started = time.monotonic()
    sent = run(ctx.host, f"logger -t fleetready-remediation -- {shlex.quote(token)}")
    half = len(token) // 2
    deadline = max(1, int(canary["deadline_seconds"] + 0.999))
    watch = run(ctx.fleet.connections.host(receiver),
                f"timeout {deadline} sh -c {shlex.quote(_WATCH)} {shlex.quote(token[:half])}"
                f" {shlex.quote(token[half:])} {shlex.quote(canary['receiver_log'])}")
    return {"token": token, "received": sent["rc"] == 0 and watch["rc"] == 0,
            "seconds": round(time.monotonic() - started, 2), "receiver": receiver.name}


FIX = LogDrain()
