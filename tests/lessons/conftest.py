import pytest

from course_lib import checkpoints, pretrained


@pytest.fixture
def run_names(monkeypatch):
    """The names (``checkpoints.slug`` of each desc) under which every run of a lesson gets its weights through
    ``pretrained.load_or_train``, in order: a checkpoint build keeps each under its name, so they must all differ."""
    names, load_or_train = [], pretrained.load_or_train

    def recorded(model, run, train_run, **options):
        names.append(checkpoints.key(run).split("/", 1)[1])
        return load_or_train(model, run, train_run, **options)

    monkeypatch.setattr(pretrained, "load_or_train", recorded)
    return names
