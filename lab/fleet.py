"""A fleet of real test hosts: Docker containers on a bridge network of their own."""

import os
import secrets
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import hostfiles, images
from .paths import LABEL, LABEL_PID, STATE
from .registry import PORT as REGISTRY_PORT
from .registry import Registry, kill_recorded
from .sh import CommandError, out, run

KINDS = ("sshd", "full", "tarpit")
RECEIVER = "logs"  # log receiver host added to every lab with scenario hosts
RECEIVER_ALIAS = "logs.lab"  # the drain name in lab/profile.yaml
# --privileged fails on this machine kind; this set is enough for docker-in-docker and nft.
FULL_FLAGS = [
    "--cap-add",
    "ALL",
    "--cap-drop",
    "SYS_RESOURCE",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
    "--init",
    "-v",
    "/var/lib/docker",
]
# Accepts TCP on 22 (the kernel completes handshakes into the backlog) and never answers.
TARPIT = ["python3", "-c", "import socket,time\ns=socket.socket()\ns.bind(('',22))\ns.listen(4096)\ntime.sleep(1e9)"]


def _wait_port(address: str, port: int, banner: bool, timeout: float) -> None:
    """Until address:port accepts (and, if banner, sends its first bytes: sshd is serving)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1) as s:
                if not banner or s.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{address}:{port} not ready after {timeout}s")
        time.sleep(0.05)


class LabHost:
    def __init__(self, lab: "Lab", name: str, kind: str, scenario: str | None):
        self.lab, self.name, self.kind, self.scenario = lab, name, kind, scenario
        self.container = f"{lab.name}-{name}"
        self.address: str | None = None

    def _run_argv(self) -> list[str]:
        argv = [
            "docker",
            "run",
            "-d",
            "--name",
            self.container,
            "--hostname",
            self.name,
            "--network",
            self.lab.network,
            "--label",
            f"{LABEL}={self.lab.name}",
            "--label",
            f"{LABEL_PID}={self.lab.owner}",
        ]
        if self.name == RECEIVER:
            argv += ["--network-alias", RECEIVER_ALIAS]
        if self.kind == "sshd":
            return argv + [images.image_ref("sshd")]
        if self.kind == "tarpit":
            return argv + [images.image_ref("full"), *TARPIT]
        return argv + FULL_FLAGS + ["-e", f"LAB_REGISTRY={self.lab.gateway}:{REGISTRY_PORT}", images.image_ref("full")]

    def create(self) -> None:
        run(self._run_argv())
        self._refresh_address()

    def _refresh_address(self) -> None:
        fmt = f'{{{{(index .NetworkSettings.Networks "{self.lab.network}").IPAddress}}}}'
        self.address = out(["docker", "inspect", "-f", fmt, self.container]) or None

    def wait_ready(self, timeout: float = 60) -> None:
        _wait_port(self.address, 22, banner=self.kind != "tarpit", timeout=timeout)

    def exec(self, cmd: str | list, input: bytes | str | None = None, timeout: float = 120) -> tuple[int, str]:
        """Run cmd in the host (a string goes to sh -c). For tests and scenario setup only:
        checks must reach hosts the way fleetready does."""
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        proc = run(
            ["docker", "exec", *(["-i"] if input is not None else []), self.container, *argv],
            input=input,
            check=False,
            timeout=timeout,
        )
        stdout = proc.stdout.decode(errors="replace") if isinstance(proc.stdout, bytes) else proc.stdout
        return proc.returncode, stdout

    def check(self, cmd: str | list, input: bytes | str | None = None, timeout: float = 120) -> str:
        """exec, raising CommandError on a non-zero exit."""
        rc, stdout = self.exec(cmd, input=input, timeout=timeout)
        if rc != 0:
            raise CommandError(f"{self.name}: {cmd!r} -> {rc}: {stdout[-2000:]}")
        return stdout

    def stop(self) -> None:
        run(["docker", "stop", "-t", "1", self.container])

    def kill(self) -> None:
        run(["docker", "kill", self.container])

    def start(self) -> None:
        run(["docker", "start", self.container])
        self._refresh_address()  # the bridge may hand out another address on restart
        self.wait_ready()
        self.lab.write_files()


class Lab:
    def __init__(self, name: str | None = None, keep: bool = False):
        """keep: the lab outlives this process (CLI); cleanup_stale never removes it."""
        self.name = name or f"frlab-{secrets.token_hex(3)}"
        self.owner = 0 if keep else os.getpid()
        self.network = self.name  # fresh network name per lab (Docker 20.10 rm bug)
        self.state_dir = STATE / self.name
        self.hosts: dict[str, LabHost] = {}
        self.gateway: str | None = None
        self.bridge: str | None = None
        self.files: dict[str, Path] = {}
        self._registry: Registry | None = None
        self._registry_lock = threading.Lock()

    def add_host(self, name: str, kind: str = "sshd", scenario: str | None = None) -> LabHost:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if scenario and kind != "full":
            raise ValueError("scenarios apply to full hosts only")
        if name in self.hosts:
            raise ValueError(f"host {name!r} already in lab {self.name}")
        self.hosts[name] = LabHost(self, name, kind, scenario)
        return self.hosts[name]

    def host(self, name: str) -> LabHost:
        return self.hosts[name]

    def _create_network(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        net_id = out(
            [
                "docker",
                "network",
                "create",
                "--label",
                f"{LABEL}={self.name}",
                "--label",
                f"{LABEL_PID}={self.owner}",
                self.network,
            ]
        )
        self.bridge = f"br-{net_id[:12]}"
        self.gateway = out(["docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", self.network])
        # br_netfilter + FORWARD DROP would drop host-to-host traffic on the bridge.
        run(["iptables", "-I", "DOCKER-USER", "-i", self.bridge, "-o", self.bridge, "-j", "ACCEPT"])

    def up(self, timeout: float = 120) -> "Lab":
        """Start every host concurrently, wait for sshd, write the files, apply scenarios."""
        from . import state  # state needs Lab's hosts; imported late to keep modules acyclic

        if any(h.scenario for h in self.hosts.values()) and RECEIVER not in self.hosts:
            self.add_host(RECEIVER, "full", "receiver")
        if self.bridge is None:
            self._create_network()
        todo = [h for h in self.hosts.values() if h.address is None]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(LabHost.create, todo))
            list(pool.map(lambda h: h.wait_ready(timeout), todo))
        self.write_files()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda h: state.apply(h, h.scenario), [h for h in todo if h.scenario]))
        return self

    def write_files(self) -> None:
        self.files = hostfiles.write(self.state_dir, list(self.hosts.values()))

    @property
    def registry(self) -> Registry:
        """The lab's image registry, started on first use."""
        with self._registry_lock:
            if self._registry is None:
                self._registry = Registry(self.state_dir, self.gateway)
            return self._registry

    def down(self) -> None:
        if self._registry:
            self._registry.stop()
        _remove(self.name, self.bridge)
        self.hosts.clear()


def _remove(name: str, bridge: str | None) -> None:
    """Remove a lab's containers, forward rule, network, registry and state, tolerating leftovers."""
    ids = out(["docker", "ps", "-aq", "--filter", f"label={LABEL}={name}"]).split()
    if ids:
        run(["docker", "rm", "-fv", *ids], check=False)
    if bridge:
        run(["iptables", "-D", "DOCKER-USER", "-i", bridge, "-o", bridge, "-j", "ACCEPT"], check=False)
    # "has active endpoints" happens (Docker 20.10); the name is never reused, so tolerate it.
    run(["docker", "network", "rm", name], check=False)
    kill_recorded(STATE / name / "registry.pids")
    shutil.rmtree(STATE / name, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def list_labs() -> dict[str, int]:
    """lab name -> owner pid, from the labels of containers and networks."""
    labs = {}
    for kind in ("ps -a", "network ls"):
        fmt = f'{{{{.Label "{LABEL}"}}}} {{{{.Label "{LABEL_PID}"}}}}'
        listing = out(["docker", *kind.split(), "--filter", f"label={LABEL}", "--format", fmt])
        for line in listing.splitlines():
            name, _, pid = line.partition(" ")
            labs[name] = int(pid or 0)
    return labs


def remove_lab(name: str) -> None:
    """Tear down a lab by name (e.g. one started by `python -m lab up`)."""
    bridge = None
    try:
        bridge = "br-" + out(["docker", "network", "inspect", "-f", "{{.Id}}", name])[:12]
    except CommandError:
        pass
    _remove(name, bridge)


def cleanup_stale() -> list[str]:
    """Remove labs whose owning process is gone (interrupted runs). Returns their names."""
    stale = [name for name, pid in list_labs().items() if pid and not _pid_alive(pid)]
    for name in stale:
        remove_lab(name)
    return stale
