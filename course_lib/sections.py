"""Jump to a section: run only the earlier cells that make what it needs.

An instructor presenting live runs the setup cell and then any section: its first cell,
``sections.catch_up("Evaluate")``, reads the notebook, finds the names the section uses that the kernel does not
have yet, and runs the earlier cells that define them (and what those need, and the cells that fill them in), in
notebook order. With ``COURSE_PRETRAINED=1`` the training cells among them load shipped weights, so this takes
seconds; run top to bottom, every name is there already and the call does nothing.

The dependencies are read from the code (the names each cell assigns and reads), not declared by hand, so they
cannot fall out of date when a cell changes.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from course_lib import config

SECTION_MARK = "## "  # a section starts at a markdown cell whose first line is a level-2 heading
_MUTATING_METHODS = {"update", "append", "extend", "insert", "setdefault", "pop", "add"}


@dataclass(frozen=True)
class Cell:
    """A code cell as the dependency reader sees it."""

    index: int
    section: str
    source: str
    binds: frozenset[str]  # names it (re)binds: x = ..., def x, import x
    fills: frozenset[str]  # names it fills in: x[k] = ..., x.update(...)
    uses: frozenset[str]  # names it reads before binding them itself


_IGNORED = set(dir(builtins)) | {"get_ipython", "display"}


def _python_of(source: str) -> str:
    """The cell's code as Python (IPython magics such as %matplotlib turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _root(node: ast.AST) -> str | None:
    """``a`` of ``a[k].b``: the name an attribute or subscript store fills in."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _scope_locals(tree: ast.AST) -> set[str]:
    """Names bound only inside a function, lambda or comprehension of the cell (its own business)."""
    local = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            local.update(arg.arg for arg in ast.walk(node.args) if isinstance(arg, ast.arg))
            body = [node.body] if isinstance(node, ast.Lambda) else node.body
            local.update(n.id for stmt in body for n in ast.walk(stmt)
                         if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            local.update(n.id for gen in node.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name))
    return local


def _statement_names(stmt: ast.stmt, local: set[str]) -> tuple[set[str], set[str], set[str]]:
    """(binds, fills, loads) of one top-level statement."""
    binds, fills, loads = set(), set(), set()
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        binds.add(stmt.name)
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            binds.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Name):
            (binds if isinstance(node.ctx, ast.Store) else loads).add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            fills.add(_root(node))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in _MUTATING_METHODS):
            fills.add(_root(node.func.value))
    fills.discard(None)
    return binds - local, fills - local, loads - local


def names_of(source: str) -> tuple[set[str], set[str], set[str]]:
    """(binds, fills, uses) of a cell's code, statement by statement: a name read before the cell binds it is used
    (``x = f(x)`` uses the ``x`` made above); a name a loop or ``with`` binds for its own body is not."""
    tree = ast.parse(_python_of(source))
    local = _scope_locals(tree)
    binds, fills, uses = set(), set(), set()
    for stmt in tree.body:
        b, f, loads = _statement_names(stmt, local)
        own = set() if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) else b  # for x in ...: x is its own
        uses |= (loads | f) - binds - own
        binds |= b
        fills |= f
    return binds, fills - binds, uses - _IGNORED


def heading(cell: dict) -> str | None:
    """The title of the section a notebook cell opens (a markdown cell whose first line is a level-2 heading)."""
    source = "".join(cell["source"])
    if cell["cell_type"] != "markdown" or not source.startswith(SECTION_MARK):
        return None
    return source.splitlines()[0][len(SECTION_MARK):].strip()


def read_cells(path: Path) -> list[Cell]:
    """The code cells of a notebook file, each with its section (the last level-2 heading above it)."""
    cells, section = [], ""
    for index, raw in enumerate(json.loads(path.read_text())["cells"]):
        source = "".join(raw["source"])
        if heading(raw):
            section = heading(raw)
        elif raw["cell_type"] == "code" and "raises-exception" not in raw.get("metadata", {}).get("tags", []):
            binds, fills, uses = names_of(source)
            cells.append(Cell(index, section, source, frozenset(binds), frozenset(fills), frozenset(uses)))
    return cells


def find_section(cells: list[Cell], title: str) -> str:
    """The section whose heading starts with ``title`` (so a cell can name it briefly)."""
    matches = sorted({c.section for c in cells if c.section.startswith(title)})
    if len(matches) != 1:
        raise ValueError(f"{len(matches)} sections start with {title!r}; sections: "
                         + "; ".join(dict.fromkeys(c.section for c in cells if c.section)))
    return matches[0]


def plan(cells: list[Cell], title: str, known: set[str]) -> list[Cell]:
    """The earlier cells to run, in notebook order, so that section ``title`` finds every name it reads;
    ``known``: the names the kernel has already (the setup cell's, at least)."""
    section = find_section(cells, title)
    start = next(i for i, c in enumerate(cells) if c.section == section)
    chosen: dict[int, Cell] = {}

    def need(name: str, before: int) -> None:
        bound = [i for i in range(before) if name in cells[i].binds]
        if name in known or not bound:
            return
        for i in range(bound[-1], before):  # the cell that makes it, and the later ones that fill it in
            if i == bound[-1] or name in cells[i].fills:
                take(i)

    def take(i: int) -> None:
        if i in chosen:
            return
        chosen[i] = cells[i]
        for name in cells[i].uses:
            need(name, i)

    for cell in cells[start:]:
        if cell.section != section:
            break
        for name in cell.uses:
            need(name, start)
    return [chosen[i] for i in sorted(chosen)]


def needing_catch_up(cells: list[Cell]) -> list[str]:
    """The sections after the setup cell that read something only earlier sections make: each must start with
    ``session.catch_up(...)`` to run on its own."""
    setup = next(i for i, c in enumerate(cells) if "config.setup(" in c.source)
    known = set().union(*(c.binds for c in cells[:setup + 1]))
    titles = dict.fromkeys(c.section for c in cells[setup + 1:] if c.section)
    return [title for title in titles if plan(cells, title, known)]


def short_title(cells: list[Cell], title: str) -> str:
    """What a catch-up cell calls a section: its heading up to a colon or dash (the first four words of a longer
    one), lengthened word by word where that would not be unique."""
    short = re.split(r":| — ", title)[0].split()
    short = short[:4] if len(short) > 5 else short
    words = title.split()
    candidates = [" ".join(short)] + [" ".join(words[:n]) for n in range(len(short) + 1, len(words) + 1)]
    return next((c for c in candidates if len({cell.section for cell in cells if cell.section.startswith(c)}) == 1),
                title)


def add_catch_up(path: Path) -> list[str]:
    """Give every section of a notebook that needs earlier cells its ``session.catch_up`` cell (right under the
    heading) where it lacks one; return the sections that got one. Run it after adding or moving a section."""
    cells = read_cells(path)
    starts = {title: next(c for c in cells if c.section == title) for title in needing_catch_up(cells)}
    missing = [title for title, first in starts.items() if not first.source.startswith("session.catch_up(")]
    notebook = json.loads(path.read_text())
    for title in reversed(missing):  # from the end, so earlier positions stay put
        at = next(i for i, raw in enumerate(notebook["cells"]) if heading(raw) == title)
        notebook["cells"].insert(at + 1, {"cell_type": "code", "execution_count": None, "id": uuid.uuid4().hex[:8],
                                          "metadata": {}, "outputs": [],
                                          "source": f'session.catch_up("{short_title(cells, title)}")'})
    if missing:
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return missing


def _notebook_file(notebook: str) -> Path:
    """The file the kernel runs: the student copy in student/, else the instructor notebook."""
    here = Path.cwd() / f"{notebook}.ipynb"
    return here if here.exists() else config.REPO_ROOT / "notebooks" / f"{notebook}.ipynb"


def catch_up(title: str, shell=None) -> list[int]:
    """Run the earlier cells that section ``title`` needs and the kernel lacks; return their cell numbers."""
    from IPython import get_ipython

    from course_lib import checkpoints

    shell = shell or get_ipython()
    if shell is None:  # plain Python (a notebook exported as a script) runs every cell in order anyway
        return []
    notebook = checkpoints.active_notebook()
    if notebook is None:
        raise RuntimeError("run the notebook's setup cell first (session = config.setup(...))")
    todo = plan(read_cells(_notebook_file(notebook)), title, set(shell.user_ns))
    if not todo:
        return []
    needed = sorted(set().union(*(c.binds for c in todo)) - set(shell.user_ns))
    how = ("shipped weights load" if checkpoints.mode() == "load"
           else "training runs train; COURSE_PRETRAINED=1 would load shipped weights")
    print(f"jumping in: running {len(todo)} earlier cells for {', '.join(needed)} ({how})")
    for cell in todo:
        result = shell.run_cell(cell.source, silent=True, store_history=False)
        if not result.success:
            raise RuntimeError(f"cell {cell.index} of the section {cell.section!r} failed; run the notebook from the "
                               "top instead") from result.error_in_exec or result.error_before_exec
    return [c.index for c in todo]


# --- checking that every section runs on its own ----------------------------------------------------------------

def section_notebooks(path: Path) -> dict[str, object]:
    """{section: a notebook of the setup cells and that section's cells}, for each section that catches up."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    setup_end = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "config.setup(" in c.source)
    parts: dict[str, list] = {}
    title = None
    for cell in nb.cells[setup_end + 1:]:
        if heading(cell):
            title = heading(cell)
        elif title and cell.cell_type == "code":
            parts.setdefault(title, []).append(cell)
    return {title: nbformat.v4.new_notebook(cells=nb.cells[:setup_end + 1] + cells, metadata=nb.metadata)
            for title, cells in parts.items() if cells[0].source.startswith("session.catch_up(")}


def check(path: Path, timeout: int = 600) -> list[tuple[str, bool, float]]:
    """Run each section of a notebook on its own (setup cell, then the section) in a fresh kernel:
    [(section, ran, seconds)]."""
    import time

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    rows = []
    for title, nb in section_notebooks(path).items():
        start = time.perf_counter()
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            ran = True
        except CellExecutionError as error:
            ran = False
            print(f"{path.stem} / {title}: {str(error).strip().splitlines()[-1]}")
        rows.append((title, ran, time.perf_counter() - start))
        print(f"{path.stem} / {title}: {'ran' if ran else 'FAILED'} in {rows[-1][2]:.0f} s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.sections",
                                     description="run every section of the notebooks on its own (setup cell, then "
                                                 "the section), as an instructor jumping to it would; set "
                                                 "COURSE_PRETRAINED=1 to load the shipped weights")
    parser.add_argument("numbers", nargs="*", help="notebook numbers (default: all)")
    parser.add_argument("--folder", default="notebooks", help="notebooks (default) or student")
    parser.add_argument("--add", action="store_true", help="instead: give each section that needs earlier cells "
                        "its catch-up cell where it lacks one (then run `python -m course_lib.student`)")
    args = parser.parse_args(argv)
    paths = sorted((config.REPO_ROOT / args.folder).glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in paths if not args.numbers or p.name[:2] in {n.zfill(2) for n in args.numbers}]
    if args.add:
        for path in chosen:
            for title in add_catch_up(path):
                print(f"{path.stem}: a catch-up cell for {title!r}")
        return 0
    rows = [row for path in chosen for row in check(path)]
    failed = [title for title, ran, _ in rows if not ran]
    print(f"{len(rows) - len(failed)} of {len(rows)} sections ran on their own")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
