import pytest

from course_lib.lessons.learning_paradigms import digits as digits_module


@pytest.fixture(scope="session")
def digits():
    """The notebook's digits, split once (0.1 s; the tests of every paradigm share them)."""
    return digits_module.load_digits(seed=0)
