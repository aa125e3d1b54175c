import json
from pathlib import Path

import pytest

from course_lib import sections

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_a_cell_uses_what_it_reads_before_binding_it():
    binds, fills, uses = sections.names_of("x = f(x)\ny = x + 1\nfor k in keys:\n    d[k] = y")
    assert binds == {"x", "y", "k"} and fills == {"d"} and uses == {"f", "x", "keys", "d"}


def test_names_inside_functions_and_comprehensions_are_their_own():
    binds, _, uses = sections.names_of("def g(a):\n    b = a + c\n    return b\nz = [i * w for i in range(3)]")
    assert binds == {"g", "z"} and uses == {"c", "w"}


def test_imports_bind_and_magics_parse():
    binds, _, uses = sections.names_of("%matplotlib inline\nimport torch.nn as tnn\nfrom a import b")
    assert binds == {"tnn", "b"} and uses == set()


def _notebook(tmp_path, cells):
    raw = [{"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": source,
            **({"outputs": [], "execution_count": None} if kind == "code" else {})}
           for i, (kind, source) in enumerate(cells)]
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": raw, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return sections.read_cells(path)


def test_a_section_gets_the_cells_that_make_and_fill_in_what_it_reads(tmp_path):
    cells = _notebook(tmp_path, [("code", "session = setup()"), ("markdown", "## Data"), ("code", "x = load(session)"),
                                 ("markdown", "## Train"), ("code", "models = {}\nmodels['a'] = fit(x)"),
                                 ("code", "show(x)"), ("code", "models['b'] = fit(x)"),
                                 ("markdown", "## Evaluate"), ("code", "score(models, x)")])
    assert [c.index for c in sections.plan(cells, "Evaluate", {"session", "load", "fit", "show", "score"})] == [2, 4, 6]
    assert sections.plan(cells, "Evaluate", {"session", "load", "fit", "score", "models", "x"}) == []


def test_a_section_named_ambiguously_lists_the_sections(tmp_path):
    cells = _notebook(tmp_path, [("markdown", "## Train a"), ("code", "a = 1"), ("markdown", "## Train b"),
                                 ("code", "b = a")])
    with pytest.raises(ValueError, match="2 sections start with 'Train'"):
        sections.plan(cells, "Train", set())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_section_that_needs_earlier_cells_starts_by_catching_up(path):
    cells = sections.read_cells(path)
    for title in sections.needing_catch_up(cells):
        first = next(c for c in cells if c.section == title)
        assert first.source.startswith("session.catch_up("), (
            f"section {title!r} cannot run on its own: `python -m course_lib.sections --add {path.name[:2]}`")
        named = first.source.split('"')[1]
        assert sections.find_section(cells, named) == title


def test_the_missing_catch_up_cells_are_added_under_their_headings_once(tmp_path):
    raw = [("code", "session = config.setup('07_x')"), ("markdown", "## Data: digits"), ("code", "x = 1"),
           ("markdown", "## Train the model"), ("markdown", "Why."), ("code", "model = x"),
           ("markdown", "## Train the probe"), ("code", "print(1)")]
    _notebook(tmp_path, raw)
    path = tmp_path / "n.ipynb"
    assert sections.add_catch_up(path) == ["Train the model"]
    sources = ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]]
    assert sources[4] == 'session.catch_up("Train the model")' and sources[5] == "Why."
    assert sections.add_catch_up(path) == []


def test_catch_up_runs_only_the_missing_cells_in_the_kernel(tmp_path, monkeypatch, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from course_lib import checkpoints

    raw = [("code", "session = 'setup'"), ("markdown", "## Data"), ("code", "x = [1, 2]"),
           ("code", "shown = print(x)"), ("markdown", "## Train"), ("code", "model = sum(x)"),
           ("markdown", "## Evaluate"), ("code", "score = model * 2")]
    _notebook(tmp_path, raw)
    (tmp_path / "n.ipynb").rename(tmp_path / "07_x.ipynb")
    monkeypatch.chdir(tmp_path)
    checkpoints.activate("07_x")
    shell = InteractiveShell.instance()
    shell.user_ns.update(session="setup")
    try:
        assert sections.catch_up("Evaluate", shell) == [2, 5]  # the data and the training cell, not the picture
        assert shell.user_ns["model"] == 3 and "shown" not in shell.user_ns
        assert "running 2 earlier cells for model, x" in capsys.readouterr().out
        assert sections.catch_up("Evaluate", shell) == []  # run from the top: nothing to do, nothing printed
        assert capsys.readouterr().out == ""
    finally:
        checkpoints.activate(None)
        for name in ("session", "x", "model"):
            shell.user_ns.pop(name, None)


def test_each_section_to_check_is_the_setup_cell_and_that_section(tmp_path):
    raw = [("code", "session = config.setup('07_x')"), ("markdown", "## Data"), ("code", "x = 1"),
           ("markdown", "## Train"), ("code", 'session.catch_up("Train")'), ("code", "model = x")]
    _notebook(tmp_path, raw)
    parts = sections.section_notebooks(tmp_path / "n.ipynb")
    assert list(parts) == ["Train"]  # "Data" needs nothing earlier, so it has no catch-up cell
    assert [cell.source for cell in parts["Train"].cells] == [raw[0][1], raw[4][1], raw[5][1]]


def test_a_catch_up_cell_names_its_section_briefly_but_unambiguously(tmp_path):
    cells = _notebook(tmp_path, [("markdown", "## Train: the model"), ("code", "a = 1"),
                                 ("markdown", "## Train: the probe"), ("code", "b = a"),
                                 ("markdown", "## What each half is asked to predict"), ("code", "c = b")])
    assert sections.short_title(cells, "Train: the probe") == "Train: the probe"  # "Train" names two sections
    assert sections.short_title(cells, "What each half is asked to predict") == "What each half is"
