"""python -m lab build | up [--sshd N] [--full NAME=SCENARIO ...] | down [NAME|--all]"""

import argparse
import sys
import time

from . import images, state
from .fleet import Lab, list_labs, remove_lab


def _full(value: str) -> tuple[str, str]:
    name, _, scenario = value.partition("=")
    scenario = scenario or "sound"
    if scenario not in state.names():
        raise argparse.ArgumentTypeError(f"unknown scenario {scenario!r}; one of {state.names()}")
    return name, scenario


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build", help="build (or reuse) the lab images")
    up = sub.add_parser("up", help="start a lab that stays up until `down`")
    up.add_argument("--name", help="lab name (default: frlab-<random>)")
    up.add_argument("--sshd", type=int, default=0, metavar="N", help="N sshd-only hosts")
    up.add_argument("--full", type=_full, action="append", default=[], metavar="NAME=SCENARIO")
    down = sub.add_parser("down", help="remove a lab, or every lab")
    target = down.add_mutually_exclusive_group(required=True)
    target.add_argument("name", nargs="?")
    target.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)

    if args.cmd == "build":
        start = time.monotonic()
        for kind, ref in images.build_all().items():
            print(f"{kind}: {ref}")
        print(f"built in {time.monotonic() - start:.1f}s")
    elif args.cmd == "up":
        images.build_all()
        lab = Lab(args.name, keep=True)
        for i in range(args.sshd):
            lab.add_host(f"sshd{i:03d}")
        for name, scenario in args.full:
            lab.add_host(name, "full", scenario)
        start = time.monotonic()
        try:
            lab.up()
        except BaseException:
            lab.down()
            raise
        print(f"lab {lab.name}: {len(lab.hosts)} hosts up in {time.monotonic() - start:.1f}s")
        for key, path in lab.files.items():
            print(f"{key}: {path}")
    else:
        names = list(list_labs()) if args.all else [args.name]
        for name in names:
            remove_lab(name)  # idempotent: a missing lab is nothing to do
            print(f"removed {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
