"""``python -m course_lib.release stamp --repo OWNER/NAME --ref TAG [--weights ARCHIVE]``: stamp the notebooks with
a release, and rebuild the student copies from them (``course_lib.release``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_lib import config, release, student


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.release", description=release.__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("stamp", help="write the release into every notebook's install cell and badge")
    command.add_argument("--repo", required=True, help="OWNER/NAME on GitHub, or a full git address")
    command.add_argument("--ref", required=True, help="the release tag (or branch, or commit)")
    command.add_argument("--weights", type=Path, action="append", default=[],
                         help="a weights archive this release publishes (python -m course_lib.checkpoints pack); "
                              "its SHA-256 is recorded")
    command.add_argument("--weights-url", help="where the archive is served (default: the GitHub release asset)")
    sub.add_parser("show", help="the release the notebooks point at")
    args = parser.parse_args(argv)
    if args.command == "stamp":
        weights = dict(release.weights_entry(archive, args.repo, args.ref, args.weights_url)
                       for archive in args.weights)
        written = release.stamp(args.repo, args.ref, weights=weights)
        student.build(config.REPO_ROOT / "notebooks", config.REPO_ROOT / "student")
        where = (f"{release.git_url(args.repo)}@{args.ref}" if args.repo
                 else "no release address (Colab installs refuse)")
        print(f"stamped {len(written)} notebooks with {where}")
    else:
        print(release.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
