import itertools

import pytest
import torch
from torch import nn

from course_lib import train


def _regression(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y), {"abs": (model(x) - y).abs().mean()}


def _line_data(n=64):
    torch.manual_seed(0)
    x = torch.randn(n, 3)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5]])


def test_fit_lowers_the_loss_and_logs_metrics():
    x, y = _line_data()
    model = nn.Linear(3, 1)
    history = train.fit(model, train.batches(x, y, batch_size=16), _regression, steps=200, lr=0.05,
                        weight_decay=0.0, progress=False, log_every=10)
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert len(history["abs"]) == len(history.step) == 20
    assert history.stopped_by == "200 steps" and not history.capped
    assert not model.training


def test_fit_stops_at_the_time_budget(capsys):
    x, y = _line_data()
    history = train.fit(nn.Linear(3, 1), train.batches(x, y, batch_size=16), _regression, steps=10**6,
                        max_seconds=0.0, progress=False)
    assert history.step == [1]
    assert history.stopped_by.startswith("time budget") and history.capped
    assert "time budget" in capsys.readouterr().out


def test_fit_stops_when_data_runs_out():
    x, y = _line_data(8)
    finite = itertools.islice(train.batches(x, y, batch_size=4), 3)
    history = train.fit(nn.Linear(3, 1), finite, _regression, steps=10, progress=False)
    assert history.stopped_by == "data ran out after 3 steps"


def test_batches_cover_every_example_once_per_epoch():
    x = torch.arange(10).float()
    stream = train.batches(x, x.long(), batch_size=5, seed=1)
    seen = torch.cat([next(stream)[0] for _ in range(2)])
    assert sorted(seen.tolist()) == list(range(10))


def test_batches_apply_the_augmentation_to_images_only():
    x, y = torch.zeros(4, 1), torch.arange(4)
    xb, yb = next(train.batches(x, y, batch_size=4, augment=lambda b: b + 1))
    assert (xb == 1).all() and sorted(yb.tolist()) == [0, 1, 2, 3]


def test_batches_refuse_mismatched_lengths():
    with pytest.raises(ValueError):
        next(train.batches(torch.zeros(4), torch.zeros(5), batch_size=2))


def test_train_classifier_learns_a_separable_problem():
    torch.manual_seed(0)
    x = torch.randn(200, 2)
    y = (x[:, 0] > 0).long()
    model = nn.Linear(2, 2)
    history = train.train_classifier(model, x, y, steps=200, batch_size=50, lr=0.1, progress=False)
    assert history.last("loss") < history["loss"][0]
    assert (model(x).argmax(1) == y).float().mean() > 0.95


def test_a_run_whose_last_step_crosses_the_budget_is_whole_not_capped(capsys):
    x, y = _line_data()
    history = train.fit(nn.Linear(3, 1), train.batches(x, y, batch_size=16), _regression, steps=1,
                        max_seconds=0.0, progress=False)
    assert history.stopped_by == "1 steps" and not history.capped
    assert "time budget" not in capsys.readouterr().out


def test_the_ground_floor_knows_nothing_of_shipped_weights_results_or_releases():
    import ast
    from pathlib import Path

    import course_lib

    package = Path(course_lib.__file__).parent
    above = {"checkpoints", "pretrained", "session", "results", "student", "release", "lessons", "widgets"}
    floor = [package / f"{name}.py" for name in ("config", "nets", "train", "augment")]
    floor += [*(package / "evaluate").glob("*.py"), *(package / "data").glob("*.py"),
              *(package / "pretext").glob("*.py")]
    for path in floor:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course_lib"):
                imported |= {node.module.split(".")[1] if "." in node.module else ""} | {a.name for a in node.names}
        assert not imported & above, f"{path.name} imports {imported & above}"
