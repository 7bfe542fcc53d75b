"""Fleet benchmark: fleetready against the bare-SSH floor and a naive testinfra suite.

    python -m benchmarks.fleet_bench [--sizes 50,100,500] [--repeats 3] [--concurrency 16]

Brings up the largest number of light lab hosts (sshd-only containers) once and, for each
size, runs interleaved and repeated: (a) the floor, a fresh connection to every host running
`true` (OpenSSH, and paramiko with TCP_NODELAY), `--concurrency` at a time; (b) the whole
fleetready suite over ssh and over paramiko; (c) benchmarks/naive, the same checks written
one `host.*` call per assertion, run by pytest-testinfra over paramiko with xdist -n 8.
Prints medians (wall seconds), ratios and the controller's peak memory.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko
import yaml

from lab import images, keys
from lab.fleet import Lab

ROOT = Path(__file__).resolve().parents[1]


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


def run_measured(argv, cwd):
    """Runs a command; returns its peak resident memory in MiB (the process itself)."""
    # As bin/fleetready runs: bytecode cached (pytest's assert rewriting is not redone).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # 1: some checks fail on light hosts, as they should
        raise RuntimeError(f"{argv[:4]} exited {proc.returncode}: {proc.stderr.read()[-2000:]}")
    return usage.ru_maxrss / 1024


def fleetready(connection):
    def run(hosts, ssh_config, concurrency, workdir):
        inventory = Path(workdir) / f"inv-{connection}-{len(hosts)}.yml"
        inventory.write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": {
                            f"h{i:03d}": {
                                "ansible_host": a,
                                "ansible_user": "root",
                                "ansible_connection": connection,
                                "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
                            }
                            for i, a in enumerate(hosts)
                        }
                    }
                }
            )
        )
        return run_measured(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-c",
                str(ROOT / "pytest.ini"),
                "--rootdir",
                str(ROOT),
                "--tb=line",
                "--inventory",
                str(inventory),
                "--ssh-config",
                ssh_config,
                "--concurrency",
                str(concurrency),
            ],
            ROOT,
        )

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,100,500")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
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
        "floor (OpenSSH)": floor_openssh,
        "floor (paramiko)": floor_paramiko,
        "fleetready (ssh)": fleetready("ssh"),
        "fleetready (paramiko)": fleetready("paramiko"),
        "naive testinfra": naive,
    }
    rows = []
    try:
        with tempfile.TemporaryDirectory() as workdir:
            for n in sizes:
                times = {name: [] for name in runners}
                memory = {name: 0.0 for name in runners}
                for _ in range(args.repeats):  # interleaved: drift hits every variant alike
                    for name, runner in runners.items():
                        t0 = time.monotonic()
                        extra = (workdir,) if name.startswith(("fleetready", "naive")) else ()
                        peak = runner(addresses[:n], ssh_config, args.concurrency, *extra)
                        times[name].append(time.monotonic() - t0)
                        memory[name] = max(memory[name], peak or 0.0)
                medians = {name: statistics.median(v) for name, v in times.items()}
                rows.append((n, medians, memory))
                print(f"N={n}: " + ", ".join(f"{k} {v:.2f}s" for k, v in medians.items()), flush=True)
    finally:
        lab.down()
    print_table(rows)


def print_table(rows):
    print(
        "\n| N | floor OpenSSH | floor paramiko | fleetready ssh | fleetready paramiko "
        "| naive testinfra | best fleetready / its floor | naive / best fleetready "
        "| fleetready peak MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n, m, mem in rows:
        ratios = {
            "ssh": m["fleetready (ssh)"] / m["floor (OpenSSH)"],
            "paramiko": m["fleetready (paramiko)"] / m["floor (paramiko)"],
        }
        best = min(m["fleetready (ssh)"], m["fleetready (paramiko)"])
        kind = "ssh" if best == m["fleetready (ssh)"] else "paramiko"
        peak = max(mem["fleetready (ssh)"], mem["fleetready (paramiko)"])
        print(
            f"| {n} | {m['floor (OpenSSH)']:.2f} s | {m['floor (paramiko)']:.2f} s "
            f"| {m['fleetready (ssh)']:.2f} s | {m['fleetready (paramiko)']:.2f} s "
            f"| {m['naive testinfra']:.2f} s | {ratios[kind]:.2f}× ({kind}) "
            f"| {m['naive testinfra'] / best:.1f}× | {peak:.0f} |"
        )


if __name__ == "__main__":
    main()
