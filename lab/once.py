"""First-time steps of the lab (CA, keys, base rootfs, images), safe when threads of one
bring-up or several processes race: one creator at a time under an flock beside the result.

flock locks belong to an open file description, so two threads that each open the lock
file exclude each other just as two processes do. Results are written whole (temporary
file, then rename: reports.atomic), so a reader never sees half a file."""

import fcntl
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def creator(result: Path):
    """Hold the lock for making `result`; re-check inside it whether another creator did."""
    result.parent.mkdir(parents=True, exist_ok=True)
    with open(result.with_name(f".{result.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
