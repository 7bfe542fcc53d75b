"""FR-TLS-01 over many endpoints: wall time of one run, and each endpoint's probe time.

    python -m benchmarks.tls_bench --hosts 20 --endpoints 10 [--lab NAME]

Brings up --hosts full lab hosts in the `sound` state (or uses the running lab NAME, as
`python -m lab up` leaves it), gives each --endpoints TLS endpoints: its nginx on 443 asked
for as many server names (SNI), each a distinct endpoint probed in full (the certificate
names only the first, so the others fail cert_hostname_mismatch), and runs
`fleetready -k FR-TLS-01` once over them all. Prints the run's wall time and the median,
90th percentile and maximum of the endpoints' probe times (the verdicts' timings_ms.total).
"""

import argparse
import statistics
import time

import yaml

from lab import pki
from lab.fleet import Lab, list_labs
from lab.paths import STATE
from tests.conftest import run_fleetready


def endpoints(count):
    names = [pki.SERVER_NAME] + [f"site{i}.fleetready.lab" for i in range(1, count)]
    return [
        {"name": f"ep{i}", "port": 443, "server_name": name, "ca_file": str(pki.CA_CERT)}
        for i, name in enumerate(names)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--endpoints", type=int, default=10, help="per host")
    parser.add_argument("--lab", help="a running lab (python -m lab up) to use instead of a new one")
    args = parser.parse_args()
    if args.lab and args.lab not in list_labs():
        parser.error(f"no running lab {args.lab!r}")
    lab = None if args.lab else Lab()
    try:
        if lab is not None:
            for i in range(args.hosts):
                lab.add_host(f"web{i:02d}", "full", "sound")
            lab.up(timeout=900)
        state = STATE / args.lab if lab is None else lab.state_dir
        inventory = yaml.safe_load((state / "inventory.yml").read_text())
        lab_hosts = inventory["all"]["children"]["lab"]["hosts"]
        hosts = sorted(h for h in lab_hosts if h != "logs")[: args.hosts]
        for name in hosts:
            lab_hosts[name]["fleetready_policy"] = {"tls": {"endpoints": endpoints(args.endpoints)}}
        inventory_file = state / "tls-bench-inventory.yml"
        inventory_file.write_text(yaml.safe_dump(inventory))
        started = time.monotonic()
        _, report, output = run_fleetready(
            [
                "-k",
                "FR-TLS-01",
                "--inventory",
                str(inventory_file),
                "--limit",
                ",".join(hosts),
                "--ssh-config",
                str(state / "ssh_config"),
                "-p",
                "no:cacheprovider",
            ]
        )
        wall = time.monotonic() - started
        assert report is not None, output
        probes = [
            r["evidence"]["tls_verdict"]["details"]["timings_ms"]["total"]
            for r in report["results"]
            if r["control"] == "FR-TLS-01" and r.get("evidence")
        ]
        outcomes = report["summary"]["outcomes"]
        print(
            f"{len(hosts)} hosts, {len(probes)} endpoints judged ({outcomes}): wall {wall:.1f} s"
            f" (pytest's own: {report['finished'] - report['started']:.1f} s); probe per endpoint:"
            f" median {statistics.median(probes):.0f} ms, p90 {statistics.quantiles(probes, n=10)[-1]:.0f} ms,"
            f" max {max(probes):.0f} ms"
        )
    finally:
        if lab is not None:
            lab.down()


if __name__ == "__main__":
    main()
