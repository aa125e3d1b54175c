import dataclasses

import pytest
import torch

from course_lib import checks, config, evaluate, transfer
from course_lib.data import ImageData

TINY = dataclasses.replace(config.PROFILES["ci"], width=4, batch_size=8, pretrain_steps=3, finetune_steps=2,
                           labels_per_class=(1, 2), label_draws=1)


def _cifar_like(n_per_class=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n_per_class)
    return ImageData(x=torch.rand(len(y), 3, 16, 16, generator=g), y=y, classes=[f"c{i}" for i in range(10)])


def test_select_classes_keeps_only_them_and_renumbers():
    y = torch.tensor([0, 8, 1, 9, 2, 8])
    x = torch.arange(6).float()
    xs, ys = transfer.select_classes(x, y, transfer.VEHICLES)
    assert xs.tolist() == [0, 1, 2, 3, 5]
    assert ys.tolist() == [0, 2, 1, 3, 2]


def test_tasks_do_not_share_classes():
    tasks = transfer.split_tasks(_cifar_like(), _cifar_like(seed=1), torch.device("cpu"))
    assert set(tasks.source_names).isdisjoint(tasks.target_names)
    assert len(tasks.source_names) == 6 and len(tasks.target_names) == 4
    assert tasks.source[1].max() == 5 and tasks.target_test[1].max() == 3
    assert "target task" in str(tasks)


def test_transfer_curves_have_every_start_and_point():
    tasks = transfer.split_tasks(_cifar_like(), _cifar_like(seed=1), torch.device("cpu"))
    model, history = transfer.pretrain_with_labels(*tasks.source, TINY)
    assert history.stopped_by == "3 steps"
    curves = transfer.transfer_curves(model.backbone, tasks.target, tasks.target_test, TINY)
    assert len(curves) == 4
    assert all(set(c) == {1, 2} and all(0 <= a <= 100 for a in c.values()) for c in curves.values())
    assert transfer.curve_table(curves).shape == (4, 2)


def test_checkers_accept_the_library_answers():
    transfer.check_few_labels(evaluate.few_labels)
    transfer.check_labels_needed(evaluate.labels_needed)


def test_checkers_reject_wrong_answers():
    with pytest.raises(checks.NotYet, match="per_class"):
        transfer.check_few_labels(lambda y, k, seed: torch.nonzero(y == 0).flatten()[: 3 * k])
    with pytest.raises(checks.NotYet, match="seeds"):
        transfer.check_few_labels(lambda y, k, seed: evaluate.few_labels(y, k, 0))
    with pytest.raises(checks.NotYet, match="inf"):
        transfer.check_labels_needed(lambda curve, acc: 10.0)


def test_show_tasks_draws_a_row_per_task():
    tasks = transfer.split_tasks(_cifar_like(), _cifar_like(seed=1), torch.device("cpu"))
    fig = transfer.show_tasks(tasks, n=3)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert len(titles) == 6 and titles[0].startswith("source:") and titles[-1].startswith("target:")
