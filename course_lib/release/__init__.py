"""Where the course is published, written into every notebook: the Colab install cell and the "Open in Colab" badge.

The repository, the release tag and the weights archive live in one place, ``course_lib/release/release.json``
(inside the package, so an installed course knows where its weights are published). To publish::

    python -m course_lib.checkpoints pack              # course-weights-lab.tar.gz, and its SHA-256
    python -m course_lib.release stamp --repo OWNER/NAME --ref v1.0 --weights course-weights-lab.tar.gz
    git add course_lib/release/release.json notebooks student && git commit -m "stamp v1.0"
    git tag v1.0 && git push origin main v1.0
    # attach course-weights-lab.tar.gz to the GitHub release v1.0 (its address is what stamp recorded)

``stamp`` rewrites the install cell of every notebook so that Colab installs ``course_lib`` from that tag, points
each notebook's badge at its own file at that tag, and rebuilds the student copies (whose badges point at
``student/``). ``--repo`` also takes a full git address
(``file:///path/to/clone`` for a local test). Until a course is stamped its install cell says so instead of
installing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from course_lib import config

RELEASE_FILE = "course_lib/release/release.json"  # relative to the course; package data of course_lib
INSTALL_MARK = "# course_lib install cell (python -m course_lib.release stamp writes it)"
BADGE_START, BADGE_END = "<!-- colab badge -->", "<!-- /colab badge -->"


def read(course: Path | None = None) -> dict:
    """{"repo": ..., "ref": ..., "weights": {profile: {"url", "sha256"}}} of the course (empty before the first
    stamp). Without ``course``: the installed package's own copy (what a Colab install knows)."""
    path = course / RELEASE_FILE if course is not None else Path(__file__).with_name("release.json")
    return {"repo": "", "ref": "", "weights": {}, **(json.loads(path.read_text()) if path.exists() else {})}


def asset_url(repo: str, ref: str, file: str) -> str:
    """Where GitHub serves a release asset: https://github.com/OWNER/NAME/releases/download/REF/FILE."""
    return f"https://github.com/{repo}/releases/download/{ref}/{file}"


def weights_entry(archive: Path, repo: str, ref: str, url: str | None = None) -> tuple[str, dict]:
    """(profile, {"url", "sha256"}) of a weights archive ``course-weights-<profile>.tar.gz`` a release publishes:
    served at ``url``, by default the release's GitHub asset."""
    from course_lib.data._fetch import sha256

    profile = archive.name.removeprefix("course-weights-").split(".")[0]
    return profile, {"url": url or asset_url(repo, ref, archive.name), "sha256": sha256(archive)}


def weights_asset(profile: str, course: Path | None = None) -> dict | None:
    """{"url", "sha256"} of the weights archive the release publishes for ``profile``, or None."""
    return read(course).get("weights", {}).get(profile)


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


def stamp(repo: str, ref: str, course: Path | None = None, weights: dict[str, dict] | None = None) -> list[Path]:
    """Record the release (and ``weights``: {profile: {"url", "sha256"}} of its weights archives) and stamp every
    notebook; return the notebooks. (``python -m course_lib.release stamp`` rebuilds the student copies too.)"""
    course = course or config.REPO_ROOT
    (course / RELEASE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (course / RELEASE_FILE).write_text(json.dumps({"repo": repo, "ref": ref, "weights": weights or {}}, indent=1)
                                       + "\n")
    written = []
    for path in sorted((course / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = stamp_notebook(json.loads(path.read_text()), repo, ref, f"notebooks/{path.name}")
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
        written.append(path)
    return written
