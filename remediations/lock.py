"""A per-host remediation lock, on the host itself: `mkdir` of LOCK_DIR is atomic, so of two
runs (from one controller or several) exactly one holds it.

The lock holds a JSON owner line (run id, controller, pid, since). A run keeps the lock of
every host it remediated until the run ends; another run waits for it, at most WAIT seconds.
A lock is stale, and taken over, when its owner is a process of this controller that is
gone, or when it is older than TTL seconds (a controller that crashed elsewhere). /var/lock
is /run/lock, a tmpfs: a reboot clears it.
"""

import json
import os
import shlex
import socket
import time

LOCK_DIR = "/var/lock/fleetready.remediate"
TTL = 1800.0
WAIT = 60.0  # s a run waits for another run's lock on a host before reporting the host busy
POLL = 1.0  # s between attempts while waiting

_ACQUIRE = (
    "mkdir -p /var/lock && mkdir {d} 2>/dev/null"
    " && printf '%s\\n' {owner} >{d}/owner && echo acquired"
    " || {{ echo held; cat {d}/owner 2>/dev/null; }}"
)
# Takes over a stale lock only if it still holds the owner line judged stale.
_TAKE_OVER = '[ "$(cat {d}/owner 2>/dev/null)" = {stale} ] && mv {d} {d}.stale.$$ && rm -rf {d}.stale.$$'
_RELEASE = '[ "$(cat {d}/owner 2>/dev/null)" = {owner} ] && rm -rf {d}'


def owner_line(run_id):
    return json.dumps(
        {"run": run_id, "controller": socket.gethostname(), "pid": os.getpid(), "since": time.time()}, sort_keys=True
    )


def stale(line, now=None):
    try:
        owner = json.loads(line)
        since, pid, controller = float(owner["since"]), int(owner["pid"]), owner["controller"]
    except (ValueError, KeyError, TypeError):
        return False  # unreadable: perhaps being written; never break a lock we cannot judge
    if (now or time.time()) - since > TTL:
        return True
    if controller == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    return False


def acquire(host, owner):
    """(True, None) when this run now holds the host's lock, else (False, holder's owner line)."""
    d = shlex.quote(LOCK_DIR)
    for _ in range(2):
        out = host.run(_ACQUIRE.format(d=d, owner=shlex.quote(owner))).stdout.splitlines()
        if out[:1] == ["acquired"]:
            return True, None
        holder = out[1] if len(out) > 1 else ""
        if not stale(holder):
            return False, holder
        host.run(_TAKE_OVER.format(d=d, stale=shlex.quote(holder)))
    return False, holder


def acquire_waiting(host, owner, wait=WAIT):
    """(True, the owner line of a run that held the lock first, or None) once this run holds it,
    or (False, the holder's owner line) when it was still held after `wait` seconds."""
    deadline = time.monotonic() + wait
    first = None
    while True:
        acquired, holder = acquire(host, owner)
        if acquired:
            return True, first
        first = first or holder
        if time.monotonic() >= deadline:
            return False, holder
        time.sleep(POLL)


def release(host, owner):
    host.run(_RELEASE.format(d=shlex.quote(LOCK_DIR), owner=shlex.quote(owner)))
