"""Student copies of the notebooks: every exercise's solution replaced by a stub, outputs cleared.

In a notebook an exercise's solution sits between two comment lines::

    def rotation_bins(degrees):
        # BEGIN SOLUTION
        # HINT: shift by 30 degrees, divide by the bin width, round down
        return ((degrees + 30.0) / 3.0).floor().long().clamp(0, 19)
        # END SOLUTION

The student copy keeps the cell and replaces the region by one line at the same indentation,
``raise NotImplementedError("exercise: <hint>")`` (the ``# HINT:`` line, if there is one), so the checker right
below fails with that sentence until the student writes the code. Such cells, and later cells that call the
exercise's function, are tagged ``raises-exception`` so that nbval and nbconvert run the rest of the student
notebook. Nothing else changes.

    python -m course_lib.student            # writes student/NN_<name>.ipynb for every notebook
    python -m course_lib.student --check    # fails if a committed student copy is stale (what CI runs)
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

from course_lib import config, release

BEGIN, END, HINT = "# BEGIN SOLUTION", "# END SOLUTION", "# HINT:"
EXERCISE_TAG = "raises-exception"  # nbval and nbconvert expect the error of such a cell and go on
DEFAULT_HINT = "write this part (the exercise text above says what it should do)"


def stub_source(source: str) -> str:
    """A code cell's source with every solution region replaced by a ``NotImplementedError`` stub."""
    lines, out, inside, hint, indent = source.split("\n"), [], False, None, ""
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"line {number}: {BEGIN} inside another solution region")
            inside, hint, indent = True, None, line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if not inside:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            out.append(f"{indent}raise NotImplementedError({json.dumps('exercise: ' + (hint or DEFAULT_HINT))})")
            inside = False
        elif inside:
            if stripped.startswith(HINT) and hint is None:
                hint = stripped[len(HINT):].strip()
        else:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out)


def _source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _exercise_functions(source: str) -> set[str]:
    """Names of the functions an exercise cell defines (the student writes their bodies)."""
    return set(re.findall(r"^\s*def\s+(\w+)\s*\(", source, flags=re.M))


def _has_solution(source: str) -> bool:
    return re.search(rf"^\s*{re.escape(BEGIN)}\s*$", source, flags=re.M) is not None


def student_copy(notebook: dict, name: str | None = None, course: Path | None = None) -> dict:
    """The student version of a notebook (a dict as ``json.load`` gives it); the original is left as it is. Given
    the file ``name``, its Colab badge points at ``student/<name>`` of the course's release.

    A cell is tagged as an exercise when it holds a solution region, or when it calls a function that an exercise
    cell above it defines (it fails until the student has written that function; the cells after it still run)."""
    student = copy.deepcopy(notebook)
    if name is not None and any(release.INSTALL_MARK in "".join(c["source"]) for c in student["cells"]):
        published = release.read(course)
        release.stamp_notebook(student, published["repo"], published["ref"], f"student/{name}")
    student.get("metadata", {}).pop("widgets", None)  # the instructor's saved widget state is output too
    written_by_student: set[str] = set()
    for cell in student["cells"]:
        if cell["cell_type"] != "code":
            continue
        cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
        source = _source_text(cell)
        uses_exercise = any(re.search(rf"\b{fn}\b", source) for fn in written_by_student)
        if _has_solution(source):
            written_by_student |= _exercise_functions(source)
            cell["source"] = stub_source(source).splitlines(keepends=True)
        if _has_solution(source) or uses_exercise:
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if EXERCISE_TAG not in tags:
                tags.append(EXERCISE_TAG)
    return student


def _dump(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def build(source_dir: Path, target_dir: Path, check: bool = False) -> list[Path]:
    """Write (or with ``check``, compare) the student copy of every notebook; return the stale or written paths."""
    changed = []
    for path in sorted(source_dir.glob("[0-9][0-9]_*.ipynb")):
        target = target_dir / path.name
        text = _dump(student_copy(json.loads(path.read_text()), path.name, source_dir.parent))
        if target.exists() and target.read_text() == text:
            continue
        changed.append(target)
        if not check:
            target_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.student", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed student copy is stale")
    args = parser.parse_args(argv)
    changed = build(config.REPO_ROOT / "notebooks", config.REPO_ROOT / "student", check=args.check)
    if args.check and changed:
        print("stale student copies (run `python -m course_lib.student` and commit):",
              *[f"  {p.relative_to(config.REPO_ROOT)}" for p in changed], sep="\n")
        return 1
    print(f"{len(changed)} student cop{'y' if len(changed) == 1 else 'ies'} "
          f"{'stale' if args.check else 'written'}; the others are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
