"""Fleet benchmark: fleetready against the bare-SSH floor and a naive testinfra suite.

    python -m benchmarks.fleet_bench [--sizes 50,100,500] [--repeats 3] [--concurrency 16] [--readme]

Brings up the largest number of light lab hosts (sshd-only containers) once and, for each
size, runs interleaved and repeated: (a) the floor, a fresh connection to every host running
`true` (paramiko with TCP_NODELAY, and OpenSSH), `--concurrency` at a time; (b) fleetready as
its users run it, `bin/fleetready -q --inventory INV --connection paramiko|ssh
--insecure-host-keys`, each run a process of its own paying for its own connections; (c)
benchmarks/naive, the same checks written one `host.*` call per assertion, run by
pytest-testinfra over paramiko with xdist -n 8. Prints medians (wall seconds), the ratios of
issue 14, fleetready's CPU time (user+sys) and peak memory, and the load average seen;
`--readme` rewrites the table between README.md's `<!-- fleet_bench -->` markers.
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paramiko
import yaml

from lab import images, keys
from lab.fleet import Lab

ROOT = Path(__file__).resolve().parents[1]
FLEETREADY = ROOT / "bin" / "fleetready"
README = ROOT / "README.md"


def floor_openssh(hosts, ssh_config, concurrency):
    def one(address):
        subprocess.run(
            ["ssh", "-F", ssh_config, "-o", "ControlMaster=no", "-o", "ControlPath=none", address, "true"],
            check=True,
            capture_output=True,
        )

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, hosts))


def floor_paramiko(hosts, _ssh_config, concurrency):
    key = paramiko.Ed25519Key.from_private_key_file(str(keys.CLIENT_KEY))

    def one(address):
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect(address, username="root", pkey=key, allow_agent=False, look_for_keys=False)
        client.get_transport().sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _, stdout, _ = client.exec_command("true")
        stdout.channel.recv_exit_status()
        client.close()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, hosts))


@dataclass
class Usage:
    """What one measured process took: wall and CPU seconds (user+sys, its reaped children
    included), peak resident memory in MiB, exit status and its stdout lines, each with the
    monotonic time it was read at."""

    wall: float
    cpu: float
    peak_mib: float
    returncode: int
    lines: list[tuple[float, str]]


def run_measured(argv, cwd=ROOT, ok=(0, 1)):
    """Runs a command to its end, reading its output as it comes; raises unless it exits in `ok`
    (1: some checks fail on light hosts, as they should)."""
    # As bin/fleetready runs: bytecode cached (pytest's assert rewriting is not redone).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryFile() as stderr:
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        lines = [(time.monotonic(), line) for line in proc.stdout]
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok:
            stderr.seek(0)
            tail = stderr.read()[-2000:].decode(errors="replace") + "".join(line for _, line in lines[-20:])
            raise RuntimeError(f"{argv[:6]} exited {proc.returncode}: {tail}")
    return Usage(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, lines)


def write_inventory(path, groups):
    """An inventory of {group: {host name: (address, port or None)}}, every host as root with
    the lab's client key."""
    inventory = {
        "all": {
            "vars": {"ansible_user": "root", "ansible_ssh_private_key_file": str(keys.CLIENT_KEY)},
            "children": {
                group: {
                    "hosts": {
                        name: {"ansible_host": address, **({"ansible_port": port} if port else {})}
                        for name, (address, port) in hosts.items()
                    }
                }
                for group, hosts in groups.items()
            },
        }
    }
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def fleetready_argv(inventory, connection, *options):
    """fleetready as a user runs it (bin/fleetready), trusting the lab's unknown host keys."""
    return [
        str(FLEETREADY),
        "-q",
        "--inventory",
        str(inventory),
        "--connection",
        connection,
        "--insecure-host-keys",
        *options,
    ]


def fleetready(connection):
    def run(hosts, _ssh_config, concurrency, workdir):
        inventory = Path(workdir) / f"inv-{len(hosts)}.yml"
        if not inventory.exists():
            write_inventory(inventory, {"lab": {f"h{i:03d}": (a, None) for i, a in enumerate(hosts)}})
        return run_measured(fleetready_argv(inventory, connection, "--concurrency", str(concurrency)))

    return run


def naive(hosts, ssh_config, _concurrency, _workdir):
    naive_dir = ROOT / "benchmarks" / "naive"
    return run_measured(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "8",
            "-c",
            str(naive_dir / "pytest.ini"),
            "--rootdir",
            str(naive_dir),
            "--hosts",
            ",".join(f"paramiko://root@{a}" for a in hosts),
            "--ssh-config",
            ssh_config,
        ],
        naive_dir,
    )


def markdown_table(header, rows):
    return "\n".join("| " + " | ".join(map(str, cells)) + " |" for cells in [header, ["---"] * len(header), *rows])


def rewrite_readme(name, block, readme=README):
    """Replaces what the README holds between `<!-- name -->` and `<!-- /name -->` with block."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    text = readme.read_text()
    match = re.search(re.escape(start) + ".*?" + re.escape(end), text, re.S)
    if match is None:
        sys.exit(f"{readme}: no {start} ... {end} to rewrite")
    readme.write_text(text[: match.start()] + f"{start}\n{block}\n{end}" + text[match.end() :])
    print(f"{readme}: {name} table rewritten")


def load_range(samples):
    return f"{min(samples):.1f}-{max(samples):.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,100,500")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--readme", action="store_true", help="rewrite the table in README.md")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    images.build_all()
    lab = Lab()
    for i in range(max(sizes)):
        lab.add_host(f"h{i:03d}")
    started = time.monotonic()
    lab.up(timeout=600)
    print(f"{len(lab.hosts)} light hosts up in {time.monotonic() - started:.1f} s", flush=True)
    ssh_config = str(lab.files["ssh_config"])
    addresses = [h.address for h in lab.hosts.values()]
    runners = {
        "floor (paramiko)": floor_paramiko,
        "floor (OpenSSH)": floor_openssh,
        "fleetready (paramiko)": fleetready("paramiko"),
        "fleetready (ssh)": fleetready("ssh"),
        "naive testinfra": naive,
    }
    rows, loads = [], []
    try:
        with tempfile.TemporaryDirectory() as workdir:
            for n in sizes:
                times = {name: [] for name in runners}
                usages = {name: [] for name in runners}
                for _ in range(args.repeats):  # interleaved: drift hits every variant alike
                    for name, runner in runners.items():
                        loads.append(os.getloadavg()[0])
                        t0 = time.monotonic()
                        extra = (workdir,) if name.startswith(("fleetready", "naive")) else ()
                        usage = runner(addresses[:n], ssh_config, args.concurrency, *extra)
                        times[name].append(time.monotonic() - t0)
                        if usage:
                            usages[name].append(usage)
                rows.append(table_row(n, times, usages))
                print(f"N={n}: " + ", ".join(f"{k} {statistics.median(v):.2f}s" for k, v in times.items()), flush=True)
    finally:
        lab.down()
    table = markdown_table(HEADER, rows)
    note = (
        f"`python -m benchmarks.fleet_bench --sizes {args.sizes} --repeats {args.repeats} "
        f"--concurrency {args.concurrency}`: medians of {args.repeats}, interleaved, load average "
        f"{load_range(loads)} (1 min) on {os.cpu_count()} cores."
    )
    print(f"\n{table}\n\n{note}")
    if args.readme:
        rewrite_readme("fleet_bench", f"{table}\n\n{note}")


HEADER = [
    "N",
    "floor paramiko",
    "floor OpenSSH",
    "fleetready paramiko",
    "fleetready ssh",
    "naive testinfra",
    "best fleetready / paramiko floor",
    "naive / best fleetready",
    "fleetready CPU (user+sys)",
    "fleetready peak MiB",
]


def table_row(n, times, usages):
    """One size's row: medians of wall seconds; the CPU time is the best fleetready's."""
    m = {name: statistics.median(v) for name, v in times.items()}
    best = min(("fleetready (paramiko)", "fleetready (ssh)"), key=m.__getitem__)
    peak = max(u.peak_mib for name in ("fleetready (paramiko)", "fleetready (ssh)") for u in usages[name])
    return [
        n,
        f"{m['floor (paramiko)']:.2f} s",
        f"{m['floor (OpenSSH)']:.2f} s",
        f"{m['fleetready (paramiko)']:.2f} s",
        f"{m['fleetready (ssh)']:.2f} s",
        f"{m['naive testinfra']:.2f} s",
        f"{m[best] / m['floor (paramiko)']:.1f}× ({best[12:-1]})",
        f"{m['naive testinfra'] / m[best]:.1f}×",
        f"{statistics.median(u.cpu for u in usages[best]):.2f} s",
        f"{peak:.0f}",
    ]


if __name__ == "__main__":
    main()
