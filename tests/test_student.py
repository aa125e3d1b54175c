import json

import pytest

from course_lib import student

SOLVED = '''def bins(d):
    # BEGIN SOLUTION
    # HINT: divide by the bin width, round down
    return (d // 3).long()
    # END SOLUTION


lesson.check_bins(bins)'''


def _notebook(*sources):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]}]
    cells += [{"cell_type": "code", "metadata": {"execution": {"x": 1}}, "execution_count": 3,
               "outputs": [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}],
               "source": src.splitlines(keepends=True)} for src in sources]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_stub_replaces_the_region_with_a_raise_carrying_the_hint_at_its_indentation():
    stubbed = student.stub_source(SOLVED)
    assert "return (d // 3)" not in stubbed and "BEGIN SOLUTION" not in stubbed
    assert '    raise NotImplementedError("exercise: divide by the bin width, round down")' in stubbed
    assert stubbed.startswith("def bins(d):") and stubbed.endswith("lesson.check_bins(bins)")


def test_stub_without_a_hint_points_at_the_exercise_text():
    stubbed = student.stub_source("x = 1\n# BEGIN SOLUTION\nx = 2\n# END SOLUTION\nprint(x)")
    assert stubbed.splitlines()[1] == f'raise NotImplementedError("exercise: {student.DEFAULT_HINT}")'


@pytest.mark.parametrize("broken", ["# BEGIN SOLUTION\nx = 1", "x = 1\n# END SOLUTION",
                                    "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION"])
def test_unbalanced_markers_are_refused(broken):
    with pytest.raises(ValueError, match="SOLUTION"):
        student.stub_source(broken)


def test_student_copy_clears_outputs_tags_exercises_and_keeps_the_rest():
    original = _notebook("import torch", SOLVED)
    copy = student.student_copy(original)
    plain, exercise = copy["cells"][1], copy["cells"][2]
    assert plain["source"] == ["import torch"] and plain["outputs"] == [] and plain["execution_count"] is None
    assert "execution" not in plain["metadata"] and "tags" not in plain["metadata"]
    assert exercise["metadata"]["tags"] == [student.EXERCISE_TAG]
    assert copy["cells"][0] == original["cells"][0]
    assert original["cells"][2]["outputs"]  # the original is untouched


def test_student_copy_drops_the_saved_widget_state():
    original = _notebook(SOLVED)
    original["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    assert "widgets" not in student.student_copy(original)["metadata"]
    assert "widgets" in original["metadata"]


def test_a_later_cell_that_calls_the_exercise_function_is_tagged_too():
    copy = student.student_copy(_notebook(SOLVED, "counts = bins(x).bincount()", "binsize = 3"))
    assert copy["cells"][2]["metadata"]["tags"] == [student.EXERCISE_TAG]
    assert "tags" not in copy["cells"][3]["metadata"]  # "binsize" is another name


def test_build_writes_then_finds_nothing_stale_and_check_spots_an_edit(tmp_path):
    source, target = tmp_path / "notebooks", tmp_path / "student"
    source.mkdir()
    (source / "01_x.ipynb").write_text(json.dumps(_notebook(SOLVED)))
    assert student.build(source, target) == [target / "01_x.ipynb"]
    assert student.build(source, target, check=True) == []
    (source / "01_x.ipynb").write_text(json.dumps(_notebook(SOLVED.replace("// 3", "// 4"))))
    assert student.build(source, target, check=True) == []  # a changed solution leaves the student copy as it is
    (source / "01_x.ipynb").write_text(json.dumps(_notebook(SOLVED.replace("check_bins", "check_rows"))))
    assert student.build(source, target, check=True) == [target / "01_x.ipynb"]
