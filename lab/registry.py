"""A plain-HTTP image registry for one lab: Debian's docker-registry, twice on one storage.

The machine's dockerd pushes only to plain-HTTP registries on 127.0.0.0/8, so one process
listens on loopback (a free port); the hosts pull from a second one on the lab bridge
gateway, which their daemon.json lists as an insecure registry mirror.
"""

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import yaml

from .paths import CACHE
from .sh import run

STORAGE = CACHE / "registry"
PORT = 5000  # the hosts' side; fixed so the image's init script can be told just an address


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def kill_recorded(pidfile: Path) -> None:
    """Stop registry processes recorded in pidfile (only if they still are docker-registry)."""
    if not pidfile.exists():
        return
    for pid in map(int, pidfile.read_text().split()):
        try:
            if b"docker-registry" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGTERM)
        except (FileNotFoundError, ProcessLookupError):
            pass
    pidfile.unlink()


class Registry:
    def __init__(self, state_dir: Path, gateway: str):
        self.gateway = gateway
        self.address = f"{gateway}:{PORT}"  # as the hosts see it
        self.push_address = f"127.0.0.1:{_free_port()}"
        self._pidfile = state_dir / "registry.pids"
        self._procs = []
        self._pushed: dict[str, str] = {}
        self._lock = threading.Lock()  # scenario set-up pushes from several threads
        for addr in (self.push_address, self.address):
            config = state_dir / f"registry-{addr.replace(':', '_')}.yml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "version": 0.1,
                        "log": {"level": "error"},
                        "http": {"addr": addr},
                        "storage": {"filesystem": {"rootdirectory": str(STORAGE)}},
                    }
                )
            )
            self._procs.append(
                subprocess.Popen(
                    ["docker-registry", "serve", str(config)],
                    stdout=subprocess.DEVNULL,
                    stderr=open(state_dir / "registry.log", "ab"),
                    start_new_session=True,
                )
            )
        self._pidfile.write_text(" ".join(str(p.pid) for p in self._procs))
        for addr in (self.push_address, self.address):
            _wait_http(f"http://{addr}/v2/")

    def push(self, image_ref: str) -> str:
        """Make image_ref (a local image) pullable by the hosts under the same name.

        The hosts use the registry as a Docker Hub mirror, which asks for official images
        as library/NAME; returns the explicit ref a host can also pull directly.
        """
        repo = image_ref if "/" in image_ref.split(":")[0] else f"library/{image_ref}"
        with self._lock:
            if image_ref not in self._pushed:
                staged = f"{self.push_address}/{repo}"
                run(["docker", "tag", image_ref, staged])
                try:
                    run(["docker", "push", "-q", staged])
                finally:
                    run(["docker", "rmi", staged], check=False)
                self._pushed[image_ref] = f"{self.address}/{repo}"
            return self._pushed[image_ref]

    def stop(self) -> None:
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            proc.wait(timeout=10)
        self._pidfile.unlink(missing_ok=True)
