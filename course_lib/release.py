"""Where the course is published, written into every notebook: the Colab install cell and the "Open in Colab" badge.

The repository and release tag live in one place, ``release.json`` at the top of the course. To publish::

    python -m course_lib.release stamp --repo OWNER/NAME --ref v1.0
    git add release.json notebooks student && git commit -m "stamp v1.0"
    git tag v1.0 && git push origin main v1.0

``stamp`` rewrites the install cell of every notebook so that Colab installs ``course_lib`` from that tag, points
each notebook's badge at its own file at that tag, and rebuilds the student copies (whose badges point at
``student/``). ``--repo`` also takes a full git address
(``file:///path/to/clone`` for a local test). Until a course is stamped its install cell says so instead of
installing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from course_lib import config

RELEASE_FILE = "release.json"
INSTALL_MARK = "# course_lib install cell (python -m course_lib.release stamp writes it)"
BADGE_START, BADGE_END = "<!-- colab badge -->", "<!-- /colab badge -->"


def read(course: Path | None = None) -> dict[str, str]:
    """{"repo": ..., "ref": ...} of the course (empty strings before the first stamp)."""
    path = (course or config.REPO_ROOT) / RELEASE_FILE
    return json.loads(path.read_text()) if path.exists() else {"repo": "", "ref": ""}


def git_url(repo: str) -> str:
    """"OWNER/NAME" -> its GitHub address; a full address (https://, file://, ...) is kept as it is, except that a
    local ``file:///path`` gets the host ``localhost`` (git reads both; pip 23 and older refuse an empty host)."""
    if repo.startswith("file:///"):
        return "file://localhost/" + repo.removeprefix("file:///")
    return repo if "://" in repo else f"https://github.com/{repo}.git"


def install_source(repo: str, ref: str) -> str:
    """The install cell: on Colab, pip-install course_lib at the release; elsewhere nothing."""
    head = f"{INSTALL_MARK}\n# NBVAL_SKIP\nimport sys\n\n"
    if not repo:
        return head + ('if "google.colab" in sys.modules:\n'
                       '    raise RuntimeError("this copy of the course has no release address yet: open the "\n'
                       '                       "notebook from the Colab link your instructor gives you (they run "\n'
                       '                       "`python -m course_lib.release stamp`)")')
    return head + ('if "google.colab" in sys.modules:  # on Colab: install the course library of this release first\n'
                   f'    %pip install -q "course_lib @ git+{git_url(repo)}@{ref}"')


def badge(repo: str, ref: str, relative_path: str) -> str:
    """A markdown "Open in Colab" badge for one notebook at the release (GitHub repositories only)."""
    if not repo or "://" in repo:
        return f"{BADGE_START}{BADGE_END}"
    url = f"https://colab.research.google.com/github/{repo}/blob/{ref}/{relative_path}"
    return (f"{BADGE_START}[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"
            f"{BADGE_END}")


def _text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def stamp_notebook(notebook: dict, repo: str, ref: str, relative_path: str) -> dict:
    """Write the install cell (the code cell holding ``INSTALL_MARK`` or a ``%pip install`` of course_lib) and the
    badge (at the top of the first markdown cell) of one notebook."""
    install = next((c for c in notebook["cells"] if c["cell_type"] == "code"
                    and (INSTALL_MARK in _text(c) or "course_lib @ git+" in _text(c))), None)
    if install is None:
        raise ValueError(f"{relative_path} has no install cell (a code cell with {INSTALL_MARK!r})")
    install["source"] = install_source(repo, ref).splitlines(keepends=True)
    title = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
    text = re.sub(rf"{re.escape(BADGE_START)}.*?{re.escape(BADGE_END)}\n*", "", _text(title), flags=re.S)
    title["source"] = f"{badge(repo, ref, relative_path)}\n\n{text}".splitlines(keepends=True)
    return notebook


def stamp(repo: str, ref: str, course: Path | None = None) -> list[Path]:
    """Record the release, stamp every notebook and rebuild the student copies from them; return the notebooks."""
    from course_lib import student

    course = course or config.REPO_ROOT
    (course / RELEASE_FILE).write_text(json.dumps({"repo": repo, "ref": ref}, indent=1) + "\n")
    written = []
    for path in sorted((course / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = stamp_notebook(json.loads(path.read_text()), repo, ref, f"notebooks/{path.name}")
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
        written.append(path)
    student.build(course / "notebooks", course / "student")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.release", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("stamp", help="write the release into every notebook's install cell and badge")
    command.add_argument("--repo", required=True, help="OWNER/NAME on GitHub, or a full git address")
    command.add_argument("--ref", required=True, help="the release tag (or branch, or commit)")
    sub.add_parser("show", help="the release the notebooks point at")
    args = parser.parse_args(argv)
    if args.command == "stamp":
        written = stamp(args.repo, args.ref)
        where = f"{git_url(args.repo)}@{args.ref}" if args.repo else "no release address (Colab installs refuse)"
        print(f"stamped {len(written)} notebooks with {where}")
    else:
        print(read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
