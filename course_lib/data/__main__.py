"""``python -m course_lib.data status | fetch NAME|all``: see what the data root holds, and fill it before a lab.

A lab machine may have no internet: fetch on a connected machine, then copy the folder or point COURSE_DATA at it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_lib.data import _fetch, cifar10, clips, digits, fsdd, grid, mnist

DATASETS = {"mnist": mnist, "cifar10": cifar10, "fsdd": fsdd, "digits": digits, "clips": clips, "grid": grid}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.data", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, help="data root (default: COURSE_DATA, else the course's data folder)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", parents=[common], help="list every dataset: where it is looked for, is it there")
    fetch = commands.add_parser("fetch", parents=[common], help="download and verify a dataset (or all of them)")
    fetch.add_argument("name", choices=[*DATASETS, "all"])
    args = parser.parse_args(argv)
    root = _fetch.resolve(args.root)

    if args.command == "status":
        print(f"data root: {root} ({'writable' if _fetch.writable(root) else 'read-only'})")
        for name, module in DATASETS.items():
            print(f"  {name:<8} {module.status(root):<40} {module.where(root)}")
        return 0

    failed = False
    for name in DATASETS if args.name == "all" else [args.name]:
        try:
            print(f"{name}: {DATASETS[name].fetch(root)}", flush=True)
        except _fetch.DataUnavailable as err:  # the message says it all; a traceback would only hide it
            print(err, file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
