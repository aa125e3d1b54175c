import pytest

from course_lib import checkpoints


@pytest.fixture
def run_names(monkeypatch):
    """The names (``checkpoints.slug`` of each ``desc``) under which a checkpoint build would keep every
    ``train.fit`` run, in order, recorded without writing a file: a notebook's runs must all differ."""
    names = []
    monkeypatch.setattr(checkpoints, "keep", lambda model, desc, history, steps: names.append(checkpoints.slug(desc)))
    return names
