"""Metrics body parsing: fleetready's metric_names against prometheus_client's text parser.

    python -m benchmarks.metrics_parse [--sizes-mib 1,16] [--repeats 5]

On a generated node_exporter-like exposition (HELP and TYPE lines, labelled gauges, a
histogram per family) of each size, runs both in turn and prints the median seconds.
"""

import argparse
import statistics
import time

from prometheus_client.parser import text_string_to_metric_families

from fleetready.gather.facts_monitoring import metric_names


def exposition(size):
    blocks, total, n = [], 0, 0
    while total < size:
        gauge, histogram = f"node_family_{n}_bytes", f"request_{n}_seconds"
        lines = [f"# HELP {gauge} Bytes of family {n}.", f"# TYPE {gauge} gauge"]
        lines += [
            f'{gauge}{{device="sd{i}",mountpoint="/srv/data{i}",fstype="ext4"}} {i * 1.5e9:.6g}' for i in range(20)
        ]
        lines += [f"# HELP {histogram} Latency.", f"# TYPE {histogram} histogram"]
        lines += [f'{histogram}_bucket{{handler="/api",le="{le}"}} {n}' for le in ("0.1", "0.5", "1", "+Inf")]
        lines += [f'{histogram}_sum{{handler="/api"}} 12.5', f'{histogram}_count{{handler="/api"}} {n}']
        blocks.append("\n".join(lines) + "\n")
        total += len(blocks[-1])
        n += 1
    return "".join(blocks)


def library_names(text):
    return {
        name
        for family in text_string_to_metric_families(text)
        for name in (family.name, *(sample.name for sample in family.samples))
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mib", default="1,16")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    parsers = {"fleetready metric_names": metric_names, "prometheus_client": library_names}
    for mib in (float(s) for s in args.sizes_mib.split(",")):
        body = exposition(int(mib * 1024 * 1024))
        seconds = {name: [] for name in parsers}
        for _ in range(args.repeats):  # interleaved: both see the same load on a shared machine
            for name, parse in parsers.items():
                started = time.perf_counter()
                parse(body)
                seconds[name].append(time.perf_counter() - started)
        for name, runs in seconds.items():
            print(
                f"{mib:g} MiB ({body.count(chr(10))} lines) {name}: median {statistics.median(runs):.2f} s"
                f" of {args.repeats}"
            )


if __name__ == "__main__":
    main()
