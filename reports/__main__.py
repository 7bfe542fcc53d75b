"""python -m reports merge results-*.json --json OUT [--html OUT] [--history DB]"""

import argparse
import sys

from fleetready.config.errors import ConfigError

from .merge import run


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reports")
    commands = parser.add_subparsers(dest="command", required=True)
    merge = commands.add_parser("merge", help="merge JSON results of partial runs into one report")
    merge.add_argument("inputs", nargs="+", metavar="RESULTS.json")
    merge.add_argument("--json", required=True, metavar="OUT", help="merged JSON results file")
    merge.add_argument(
        "--html", metavar="OUT", help="HTML report of the merged run: the fleet, its matrix, changes, trend"
    )
    merge.add_argument("--history", metavar="DB", help="record the merged run as one history entry")
    args = parser.parse_args(argv)
    try:
        merged = run(args.inputs, args.json, args.history, args.html)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    s = merged["summary"]
    print(f"merged {len(args.inputs)} files: {s['hosts']} hosts, {s['results']} results, compliance {s['compliance']}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
