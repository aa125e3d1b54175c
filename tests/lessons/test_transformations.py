import dataclasses

import pytest
import torch

from course_lib import checks, config, nets
from course_lib.lessons import transformations as lesson
from course_lib.pretext import transformations

TINY = dataclasses.replace(lesson.SIZES["ci"], width=4, batch_size=8, steps=2, scratch_steps=2,
                           label_budgets=(10, 20), max_seconds=30)


def _digits(n_per_class=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n_per_class)
    return torch.rand(len(y), 1, 16, 16, generator=g), y


def _bars(n=40, seed=0):
    """Easy classes: a horizontal (0) or a vertical (1) bar, 3 pixels thick, at a random place."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    r = torch.arange(16)
    near = ((r[None] - torch.randint(4, 12, (n, 1), generator=g)).abs() <= 1).float()  # n x 16
    x = torch.where(y[:, None, None] == 0, near[:, :, None].expand(n, 16, 16), near[:, None, :].expand(n, 16, 16))
    return x[:, None].clone(), y


def test_sizes_of_every_profile():
    assert set(lesson.SIZES) == set(config.PROFILE_NAMES)
    for name, sizes in lesson.SIZES.items():
        assert sizes.name == name and sizes.batch_size == config.PROFILES[name].batch_size
        assert all(b % 10 == 0 and b <= sizes.train_images for b in sizes.label_budgets)  # a tenth per digit
        assert 100 in sizes.label_budgets and 1000 in sizes.label_budgets  # the budgets the notebook records
    assert lesson.SIZES["ci"].steps < lesson.SIZES["lab"].steps < lesson.SIZES["full"].steps


@pytest.mark.parametrize("method", lesson.METHODS)
def test_pretrain_returns_a_trained_backbone(method):
    x, _ = _digits()
    backbone, history = lesson.pretrain(method, x, TINY)
    assert isinstance(backbone, nets.Backbone) and not backbone.training
    assert history.stopped_by == "2 steps"


def test_random_features_are_where_every_pretext_run_starts():
    x, _ = _digits()
    untrained, _ = lesson.pretrain("contrastive", x, dataclasses.replace(TINY, steps=0), seed=4)
    trained, _ = lesson.pretrain("contrastive", x, TINY, seed=4)
    start = lesson.random_features(TINY, seed=4)
    assert all(torch.equal(a, b) for a, b in zip(untrained.parameters(), start.parameters(), strict=True))
    assert not torch.equal(trained.stages["conv1"][0].weight, start.stages["conv1"][0].weight)


def test_unknown_method_names_the_choices():
    with pytest.raises(ValueError, match="contrastive"):
        lesson.pretext_model("jigsaw", nets.Backbone(1, 4))


def test_labelled_subset_takes_a_tenth_of_the_budget_per_digit():
    _, y = _digits(n_per_class=5)
    idx = lesson.labelled_subset(y, 30)
    assert torch.bincount(y[idx]).tolist() == [3] * 10


def test_benchmark_has_every_method_budget_and_the_scratch_row():
    train_xy, test_xy = _digits(), _digits(seed=1)
    backbones = {"random features": lesson.random_features(TINY)}
    errors = lesson.benchmark(backbones, train_xy, test_xy, TINY)
    assert set(errors) == {"random features", "scratch"}
    assert all(set(e) == {10, 20} for e in errors.values())
    assert lesson.error_table(errors).shape == (2, 2)
    assert list(lesson.error_table(errors).columns) == ["10 labels", "20 labels"]


def test_benchmark_learns_easy_classes_from_a_few_labels():
    sizes = dataclasses.replace(TINY, scratch_steps=60, label_budgets=(20, 40))  # 2 and 4 labelled bars per class
    errors = lesson.benchmark({"random features": lesson.random_features(sizes)}, _bars(), _bars(seed=1), sizes)
    assert all(error <= 25 for row in errors.values() for error in row.values()), errors  # chance: 50 %


def test_show_pretexts_leaves_the_random_stream_alone():
    x, _ = _digits()
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    fig = lesson.show_pretexts(x, n=3)
    assert torch.equal(torch.rand(1), expected)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 15  # 5 rows of 3: image, masked, moved, two views
    assert [ax.get_title() for ax in shown[::3]] == ["image", "masked: predict the image", shown[6].get_title(),
                                                     "view t(x)", "view t'(x): the positive"]
    assert shown[6].get_title().startswith("T: ") and shown[6].get_title().endswith("°")
    again = lesson.show_pretexts(x, n=3)
    assert all((a.images[0].get_array() == b.images[0].get_array()).all()
               for a, b in zip(shown, [ax for ax in again.axes if ax.images], strict=True))


def test_rotation_checker_accepts_the_bins_and_rejects_rounding():
    lesson.check_rotation_bins(transformations.EgomotionBins().rotation_class)
    with pytest.raises(checks.NotYet, match="round down"):
        lesson.check_rotation_bins(lambda d: ((d + 30) / 3).round().long().clamp(0, 19))
