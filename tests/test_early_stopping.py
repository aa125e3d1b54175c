"""Early stopping: graded on validation as it trains, stopped after ``patience`` gradings without a new best, the
best weights kept."""

import torch

from course_lib import early_stopping, nets, train
from course_lib.early_stopping import EarlyStopping


class _Scripted:
    """Validation accuracies in a fixed order, in place of ``evaluate.accuracy``."""

    def __init__(self, values):
        self.values = list(values)

    def __call__(self, model, x, y):
        return self.values.pop(0)


def test_early_stopping_ends_the_stream_after_patience_gradings_without_a_new_best(monkeypatch):
    monkeypatch.setattr(early_stopping.evaluate, "accuracy", _Scripted([50.0, 70.0, 60.0, 65.0, 69.0, 90.0]))
    model = torch.nn.Linear(1, 1)
    watch = EarlyStopping(model, (None, None), every=1, patience=3)
    seen = []
    for step, _ in enumerate(watch.stream(iter(range(100)))):
        seen.append(step)
        with torch.no_grad():
            model.weight.fill_(step + 1.0)  # weights after step + 1 steps
    assert watch.stopped_early and [s for s, _ in watch.curve] == [1, 2, 3, 4, 5]
    assert watch.best_step == 2 and len(seen) == 5
    watch.finish(5)
    assert model.weight.item() == 2.0 and not model.training  # the weights of step 2 are back


def test_early_stopping_grades_the_last_step_when_steps_run_out(monkeypatch):
    monkeypatch.setattr(early_stopping.evaluate, "accuracy", _Scripted([50.0, 60.0, 70.0]))
    watch = EarlyStopping(torch.nn.Linear(1, 1), (None, None), every=2, patience=3)
    assert len(list(watch.stream(iter(range(5))))) == 5  # graded at steps 2 and 4, never stopped
    watch.finish(5)
    assert [s for s, _ in watch.curve] == [2, 4, 5] and watch.best_step == 5 and not watch.stopped_early


def test_train_classifier_with_a_watch_stops_early_and_keeps_the_best_weights(monkeypatch):
    monkeypatch.setattr(early_stopping.evaluate, "accuracy", _Scripted([50.0, 70.0, 60.0, 65.0, 69.0, 90.0]))
    torch.manual_seed(0)
    model = nets.Classifier(nets.random_backbone(1, 4, 0), 2)
    x, y = torch.randn(32, 1, 28, 28), torch.arange(32) % 2
    watch = EarlyStopping(model, (None, None), every=2, patience=3)
    history = train.train_classifier(model, x, y, steps=40, batch_size=8, watch=watch, progress=False)
    assert watch.stopped_early and watch.best_step == 4 and history["best_step"] == [4.0]
    assert history.stopped_by == ("stopped on validation at 10 steps, the best weights kept (step 4: 70.0 % on "
                                  "validation)")
    assert not model.training


def test_a_run_stopped_by_its_time_cap_is_graded_where_it_stopped_and_still_says_so(monkeypatch):
    monkeypatch.setattr(early_stopping.evaluate, "accuracy", _Scripted([50.0]))
    model = nets.Classifier(nets.random_backbone(1, 4, 0), 2)
    x, y = torch.randn(32, 1, 28, 28), torch.arange(32) % 2
    watch = EarlyStopping(model, (None, None), every=10, patience=3)
    history = train.train_classifier(model, x, y, steps=40, batch_size=8, watch=watch, progress=False,
                                     max_seconds=0.0)  # over the cap after the first step
    assert history.capped and history.stopped_by.startswith("time budget: stopped at step 1 of 40")
    assert watch.curve == [(1, 50.0)] and history["best_step"] == [1.0]
