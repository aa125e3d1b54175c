"""The committed notebooks' text quotes their own run: every "mean ± std" typed in a notebook's markdown stands in one
of that notebook's outputs (the lab run it shows, or a table it read from a results file), so a notebook executed
again whose numbers moved cannot keep a sentence that quotes the old ones."""

from __future__ import annotations

import json
import re

import pytest

from course_lib import config

NOTEBOOKS = sorted((config.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MEAN_PM_STD = re.compile(r"\d+(?:\.\d+)? ± \d+(?:\.\d+)?")


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def typed(notebook: dict) -> list[str]:
    """Every "mean ± std" in the notebook's markdown cells."""
    return [number for cell in notebook["cells"] if cell["cell_type"] == "markdown"
            for number in MEAN_PM_STD.findall(_text(cell["source"]))]


def printed(notebook: dict) -> str:
    """Everything the notebook's code cells printed or displayed as text (tables' plain and HTML forms included)."""
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    outputs = [output for cell in code for output in cell.get("outputs", [])]
    texts = [_text(output.get("text", "")) for output in outputs]
    texts += [_text(value) for output in outputs for kind, value in output.get("data", {}).items()
              if kind.startswith("text/")]
    return "\n".join(texts)


def unprinted(notebook: dict) -> list[str]:
    shown = printed(notebook)
    return [number for number in typed(notebook) if number not in shown]


def _notebook(markdown: str, output: str) -> dict:
    return {"cells": [{"cell_type": "markdown", "source": [markdown]},
                      {"cell_type": "code", "source": ["run()"], "outputs": [
                          {"output_type": "execute_result", "data": {"text/plain": [output]}}]}]}


def test_a_number_the_run_printed_passes_and_an_old_one_is_caught():
    run = "recognised: with skips 38.4 ± 3.6 % vs no skips 32.6 ± 3.1 %"
    assert unprinted(_notebook("with skips 38.4 ± 3.6 % of the time", run)) == []
    assert unprinted(_notebook("with skips 34.7 ± 1.6 % and without 32.6 ± 3.1 %", run)) == ["34.7 ± 1.6"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_every_mean_and_spread_in_the_text_is_one_the_notebook_printed(path):
    missing = unprinted(json.loads(path.read_text()))
    assert not missing, (f"{path.name}: its text quotes {missing}, which none of its outputs shows: execute it again "
                         f"and update the sentences, or quote what it printed")
