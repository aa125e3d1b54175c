import dataclasses

import pytest
import torch

from course_lib import checks, config, label_budgets, nets
from course_lib.pretext import transformations

TINY = dataclasses.replace(config.PROFILES["ci"], width=4, batch_size=8, pretext_steps=2, finetune_steps=2,
                           label_budgets=(10, 20), max_seconds=30)


def _digits(n_per_class=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n_per_class)
    return torch.rand(len(y), 1, 16, 16, generator=g), y


@pytest.mark.parametrize("method", label_budgets.METHODS)
def test_pretrain_returns_a_trained_backbone(method):
    x, _ = _digits()
    backbone, history = label_budgets.pretrain(method, x, TINY)
    assert isinstance(backbone, nets.Backbone) and not backbone.training
    assert history.stopped_by == "2 steps"


def test_unknown_method_names_the_choices():
    with pytest.raises(ValueError, match="contrastive"):
        label_budgets.pretext_model("jigsaw", nets.Backbone(1, 4))


def test_labelled_subset_takes_a_tenth_of_the_budget_per_digit():
    _, y = _digits(n_per_class=5)
    idx = label_budgets.labelled_subset(y, 30)
    assert torch.bincount(y[idx]).tolist() == [3] * 10


def test_benchmark_has_every_method_budget_and_the_scratch_row():
    train_xy, test_xy = _digits(), _digits(seed=1)
    backbones = {"random features": nets.Backbone(1, 4)}
    errors = label_budgets.benchmark(backbones, train_xy, test_xy, TINY)
    assert set(errors) == {"random features", "scratch"}
    assert all(set(e) == {10, 20} and all(0 <= v <= 100 for v in e.values()) for e in errors.values())
    assert label_budgets.error_table(errors).shape == (2, 2)


def test_show_pretexts_leaves_the_random_stream_alone():
    x, _ = _digits()
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    fig = label_budgets.show_pretexts(x, n=3)
    assert torch.equal(torch.rand(1), expected)
    assert sum(bool(ax.images) for ax in fig.axes) == 15


def test_rotation_checker_accepts_the_bins_and_rejects_rounding():
    label_budgets.check_rotation_bins(transformations.EgomotionBins().rotation_class)
    with pytest.raises(checks.NotYet, match="round down"):
        label_budgets.check_rotation_bins(lambda d: ((d + 30) / 3).round().long().clamp(0, 19))
