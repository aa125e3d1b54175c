"""Every exercise of every notebook, run twice: the student copy's stub makes its checker fail with one short
sentence, the solution makes it pass. Runs the exercise cells alone (with the notebook's imports), in an IPython
shell set up as ``session.setup`` sets up a notebook's."""

import json
import re
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from course_lib import session, student

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _sources(path):
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def _exercises():
    for path in NOTEBOOKS:
        sources = _sources(path)
        for number, source in enumerate(sources):
            if re.search(rf"^\s*{re.escape(student.BEGIN)}\s*$", source, flags=re.M):
                imports = [line for s in sources[:number] for line in s.splitlines()
                           if re.match(r"(import|from) \w", line)]
                yield pytest.param("\n".join(imports), source, id=f"{path.stem[:2]}-cell{number}")


EXERCISES = list(_exercises())


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    shell.reset()
    session.short_messages(shell)
    yield shell
    shell.reset()


def test_every_pretext_notebook_has_an_exercise():
    with_exercises = {param.id[:2] for param in EXERCISES}
    assert with_exercises >= {path.stem[:2] for path in NOTEBOOKS}


@pytest.mark.parametrize(("imports", "solution"), EXERCISES)
def test_the_solution_passes_its_checker(shell, imports, solution):
    assert shell.run_cell(imports).success
    result = shell.run_cell(solution)
    assert result.success, result.error_in_exec


@pytest.mark.parametrize(("imports", "solution"), EXERCISES)
def test_the_student_stub_fails_with_one_short_sentence(shell, imports, solution, capsys):
    assert shell.run_cell(imports).success
    capsys.readouterr()
    result = shell.run_cell(student.stub_source(solution))
    assert isinstance(result.error_in_exec, NotImplementedError)
    shown = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(shown) == 1 and shown[0].startswith("NotImplementedError: exercise:"), shown


def _hints(path):
    """(stub hint, the cell after the exercise) for every exercise cell of a notebook that has a ``# HINT:`` line."""
    cells = json.loads(path.read_text())["cells"]
    for number, cell in enumerate(cells):
        for line in "".join(cell["source"]).splitlines():
            if cell["cell_type"] == "code" and line.strip().startswith(student.HINT):
                after = cells[number + 1] if number + 1 < len(cells) else {"cell_type": None, "source": []}
                yield line.strip()[len(student.HINT):].strip(), after


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem[:2] for path in NOTEBOOKS])
def test_a_stub_that_points_below_has_its_hint_collapsed_right_after_the_exercise(path):
    for hint, after in _hints(path):
        if "see the hint below" in hint:
            text = "".join(after["source"])
            assert after["cell_type"] == "markdown" and text.startswith("<details><summary>Hint</summary>"), hint
            assert text.rstrip().endswith("</details>"), hint


@pytest.mark.parametrize("number", ["02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"])
def test_try_first_the_stub_gives_no_recipe(number):
    """The stubs of these notebooks once raised the whole recipe; the student now tries first, the hint waits below."""
    path = next(p for p in NOTEBOOKS if p.stem.startswith(number))
    hints = [hint for hint, _ in _hints(path)]
    assert hints and all(re.fullmatch(r"write \w+ here; see the hint below if stuck", hint) for hint in hints), hints


PRETEXT_NOTEBOOKS = [path for path in NOTEBOOKS if 2 <= int(path.stem[:2]) <= 11]


@pytest.mark.parametrize("path", PRETEXT_NOTEBOOKS, ids=[path.stem[:2] for path in PRETEXT_NOTEBOOKS])
def test_a_students_method_does_the_notebooks_own_work(path):
    """In every pretext notebook a function the student writes runs the notebook's training or evaluation after its
    exercise (through ``checks.yours_or_ours``: the course's while the student's is not accepted yet)."""
    sources, written = _sources(path), set()
    for source in sources:
        if student._has_solution(source):
            written |= student._exercise_functions(source)
    used = {name for source in sources for name in re.findall(r"checks\.yours_or_ours\(\s*(\w+)", source)}
    assert used & written, f"{path.name}: no exercise's function is passed to checks.yours_or_ours"
