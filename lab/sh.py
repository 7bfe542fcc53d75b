"""Running commands on the machine: one place for subprocess defaults and errors."""

import shlex
import subprocess


class CommandError(RuntimeError):
    pass


def run(argv, *, input=None, check=True, timeout=600) -> subprocess.CompletedProcess:
    """Run argv (a list, never a shell string); raise CommandError with stderr on failure."""
    proc = subprocess.run(argv, input=input, capture_output=True, timeout=timeout, text=not isinstance(input, bytes))
    if check and proc.returncode != 0:
        raise CommandError(f"{shlex.join(argv)} -> {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return proc


def out(argv, **kw) -> str:
    return run(argv, **kw).stdout.strip()


def pipe(producer, consumer, timeout=600) -> None:
    """producer | consumer, both argv lists; fail if either fails."""
    p1 = subprocess.Popen(producer, stdout=subprocess.PIPE)
    try:
        p2 = subprocess.run(consumer, stdin=p1.stdout, capture_output=True, timeout=timeout)
    finally:
        p1.stdout.close()
        rc1 = p1.wait()
    if rc1 != 0 or p2.returncode != 0:
        raise CommandError(
            f"{shlex.join(producer)} | {shlex.join(consumer)} -> "
            f"{rc1}/{p2.returncode}: {p2.stderr.decode().strip()[-2000:]}"
        )
