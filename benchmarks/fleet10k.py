"""10,000 hosts in one run: lab sshd hosts among thousands of inventory entries that refuse or stall.

    python -m benchmarks.fleet10k [--sshd 500] [--total 10000] [--stalled 250]
        [--concurrency 32] [--host-timeout 10] [--readme] [--keep DIR] [--profile FILE]

Brings up `--sshd` light lab hosts (sshd-only containers) and writes an inventory of `--total`
entries: those hosts (group `sshd`), `--stalled` entries whose port accepts TCP and never sends
an SSH banner (group `stalled`: a listening socket per entry on its own 127.3.x.y address, held
by this process and never accept()ed), and the rest refused (group `refused`: 127.2.x.y on a
port this process holds bound and never listens on). Only loopback and the lab's own addresses.
The lab hosts share the controller's cores: the defaults leave them time to answer (at 128 hosts
at once and 5 s each, none of 500 did on 2 cores); the table says how many did.

Runs fleetready once over the whole inventory as a user does (bin/fleetready over paramiko)
with every report on, and once with `--collect-only`. Prints, as a markdown table: wall time,
CPU time and peak resident memory of the controller; collection time (pytest's own figure for
the --collect-only run); the rate unreachable results are reported at (between fleetready's
progress lines that fall inside the refused hosts, which run after the sshd hosts, by name);
each report's size; how long Chromium takes to open the HTML report (benchmarks/html_bench.py's
measure). `--readme` rewrites the table between README.md's `<!-- fleet10k -->` markers;
`--profile FILE` then runs it once more under cProfile (slower, not measured: where the time
goes) and prints its costliest functions.
"""

import argparse
import contextlib
import json
import os
import pstats
import re
import resource
import secrets
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.fleet_bench import ROOT, fleetready_argv, load_range, markdown_table, rewrite_readme, run_measured
from benchmarks.fleet_bench import write_inventory as write_groups
from benchmarks.html_bench import open_in_chromium
from lab import images
from lab.fleet import Lab

REFUSED_NET, STALLED_NET = "127.2", "127.3"
REPORTS = {
    "--json-report": "results.json",
    "--junitxml": "junit.xml",
    "--html": "report.html",
    "--sarif": "results.sarif",
    "--prometheus-textfile": "fleetready.prom",
    "--history": "history.db",
}
PROGRESS = re.compile(r"fleetready: (\d+)/(\d+) hosts done")
COLLECTED = re.compile(r"(\d+) tests? collected in ([\d.]+)s")


def loopback(net, i):
    """The i-th address of a /16 of loopback (127.0.0.0/8 only), skipping .0 and .255."""
    return f"{net}.{i // 254}.{i % 254 + 1}"


def refusing_port(stack):
    """A port bound on every address and never listened on: a connection to it on any
    loopback address is refused, and no other process can listen on it meanwhile."""
    sock = stack.enter_context(socket.socket())
    sock.bind(("0.0.0.0", 0))
    return sock.getsockname()[1]


def stalling_listener(stack, address):
    """A port that accepts TCP (the kernel completes the handshake into the backlog) and never
    says anything: an SSH client waits for the banner until its timeout."""
    sock = stack.enter_context(socket.socket())
    sock.bind((address, 0))
    sock.listen(1)
    return sock.getsockname()[1]


def ensure_fds(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if needed > soft:
        if needed > hard:
            sys.exit(f"{needed} file descriptors needed, `ulimit -n` allows {hard}: fewer --stalled")
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def write_inventory(path, lab_addresses, refused, stalled, stack):
    port = refusing_port(stack)
    groups = {
        "sshd": {f"a-sshd-{i:05d}": (a, None) for i, a in enumerate(lab_addresses)},
        "refused": {f"b-refused-{i:05d}": (loopback(REFUSED_NET, i), port) for i in range(refused)},
        "stalled": {},
    }
    for i in range(stalled):
        address = loopback(STALLED_NET, i)
        groups["stalled"][f"c-stalled-{i:05d}"] = (address, stalling_listener(stack, address))
    return write_groups(path, groups)


def unreachable_rate(lines, sshd, refused, results_per_host):
    """Results per second between the first and the last progress line that fall inside the
    refused hosts (hosts done counted in name order: the sshd hosts first, then the refused)."""
    marks = [(t, int(m[1])) for t, line in lines if (m := PROGRESS.search(line))]
    inside = [(t, done) for t, done in marks if sshd <= done <= sshd + refused]
    if len(inside) < 2:
        return None
    (t0, d0), (t1, d1) = inside[0], inside[-1]
    return (d1 - d0) * results_per_host / (t1 - t0)


def every_report(directory):
    directory.mkdir(exist_ok=True)
    return [a for option, name in REPORTS.items() for a in (option, str(directory / name))] + ["--self-contained-html"]


def profiled(argv, profile):
    """bin/fleetready's command line (`python -m pytest ...`) under cProfile."""
    return [
        str(ROOT / ".venv" / "bin" / "python"),
        "-m",
        "cProfile",
        "-o",
        str(profile),
        "-m",
        "pytest",
        "-c",
        str(ROOT / "pytest.ini"),
        "--rootdir",
        str(ROOT),
        "--tb=line",
        *argv[1:],
    ]


def measure(args, out, lab, stack):
    lab_addresses = [h.address for h in lab.hosts.values()]
    refused = args.total - args.sshd - args.stalled
    inventory = write_inventory(out / "inventory.yml", lab_addresses, refused, args.stalled, stack)
    options = ["--concurrency", str(args.concurrency), "--host-timeout", str(args.host_timeout)]
    loads = [os.getloadavg()[0]]
    collect = run_measured(fleetready_argv(inventory, "paramiko", *options, "--collect-only"), ok=(0,))
    collected = next((m for _, line in collect.lines if (m := COLLECTED.search(line))), None)
    print(f"collect-only: {collect.wall:.1f} s wall; pytest: {collected and collected[0]}", flush=True)
    loads.append(os.getloadavg()[0])
    run = run_measured(fleetready_argv(inventory, "paramiko", *options, *every_report(out)))
    loads.append(os.getloadavg()[0])
    (out / "run.log").write_text("".join(line for _, line in run.lines))
    print(f"run: {run.wall:.1f} s wall, {run.cpu:.1f} s CPU, {run.peak_mib:.0f} MiB, exit {run.returncode}", flush=True)
    records = json.loads((out / "results.json").read_text())["results"]
    per_host = sum(r["host"].startswith("b-refused-") for r in records) / max(1, refused)
    answered = {r["host"] for r in records if r["host"].startswith("a-sshd-") and r["outcome"] != "unreachable"}
    rate = unreachable_rate(run.lines, args.sshd, refused, per_host)
    opened = [open_in_chromium(out / "report.html", out)[0] for _ in range(args.repeats)]
    rows = [
        ["inventory", f"{args.sshd} lab sshd hosts, {refused} refused, {args.stalled} stalled; {len(records)} results"],
        ["lab hosts that answered", f"{len(answered)} of {args.sshd}"],
        ["run (wall)", f"{run.wall:.1f} s"],
        ["controller CPU (user+sys)", f"{run.cpu:.1f} s"],
        ["controller peak memory", f"{run.peak_mib:.0f} MiB"],
        ["collection (--collect-only)", f"{collected[2]} s (pytest), {collect.wall:.1f} s wall with start-up"],
        ["unreachable results", f"{rate:.0f} per second" if rate else "not measured (too few progress lines)"],
        *([f"report {option}", f"{(out / name).stat().st_size / 2**20:.1f} MiB"] for option, name in REPORTS.items()),
        [
            "HTML report opened in Chromium",
            f"{statistics.median(o['ms'] for o in opened) / 1000:.2f} s (median of {args.repeats}), "
            f"{opened[0]['elements']} elements, {opened[0]['matrix_cells']} matrix cells",
        ],
    ]
    if args.profile:
        argv = fleetready_argv(inventory, "paramiko", *options, *every_report(out / "profiled"))
        print(f"profiled run: {run_measured(profiled(argv, args.profile)).wall:.1f} s wall", flush=True)
    note = (
        f"`python -m benchmarks.fleet10k --sshd {args.sshd} --total {args.total} --stalled {args.stalled} "
        f"--concurrency {args.concurrency} --host-timeout {args.host_timeout:g}`: one run over paramiko, every "
        f"report on, load average {load_range(loads)} (1 min) on {os.cpu_count()} cores."
    )
    return markdown_table([f"{args.total:,} hosts", "measured"], rows), note


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sshd", type=int, default=500, help="lab sshd hosts (default 500)")
    parser.add_argument("--total", type=int, default=10000, help="inventory entries (default 10000)")
    parser.add_argument("--stalled", type=int, default=250, help="entries that stall (default 250)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--host-timeout", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3, help="times Chromium opens the report (default 3)")
    parser.add_argument("--readme", action="store_true", help="rewrite the table in README.md")
    parser.add_argument("--keep", type=Path, help="write the inventory and the reports here (kept)")
    parser.add_argument("--profile", type=Path, help="then run once more under cProfile, its statistics written here")
    args = parser.parse_args()
    if args.total - args.sshd - args.stalled < 0 or max(args.total - args.sshd, args.stalled) > 254 * 256:
        parser.error("--sshd + --stalled must be at most --total, and each group at most 65,024")
    ensure_fds(args.stalled + 256)
    images.build_all()
    lab = Lab(name=f"h-bench-10k-{secrets.token_hex(3)}")
    for i in range(args.sshd):
        lab.add_host(f"s{i:04d}")
    try:
        started = time.monotonic()
        lab.up(timeout=600)
        print(f"{len(lab.hosts)} light hosts up in {time.monotonic() - started:.1f} s", flush=True)
        with tempfile.TemporaryDirectory(prefix="fleetready-10k-") as tmp, contextlib.ExitStack() as stack:
            out = args.keep or Path(tmp)
            out.mkdir(parents=True, exist_ok=True)
            table, note = measure(args, out, lab, stack)
    finally:
        lab.down()
    print(f"\n{table}\n\n{note}")
    if args.profile:
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)
    if args.readme:
        rewrite_readme("fleet10k", f"{table}\n\n{note}")


if __name__ == "__main__":
    main()
