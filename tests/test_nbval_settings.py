"""The repository's root conftest gives nbval's cell items a longer wait for their output than nbval's fixed 5 s."""

import importlib.util
from types import SimpleNamespace

from course_lib import config


def _root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", config.REPO_ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nbval_cells_wait_longer_for_their_output_and_other_items_are_left_alone():
    root = _root_conftest()
    cell, unit_test = SimpleNamespace(output_timeout=5), SimpleNamespace()
    root.pytest_collection_modifyitems([cell, unit_test])
    assert cell.output_timeout == root.NBVAL_OUTPUT_TIMEOUT >= 30 and not hasattr(unit_test, "output_timeout")
