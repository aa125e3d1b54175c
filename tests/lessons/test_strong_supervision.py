"""Tests of course_lib.lessons.strong_supervision (notebook 01): transfer from animals to vehicles."""

import dataclasses
import math

import pytest
import torch

from course_lib import checks, config, evaluate, nets, results
from course_lib.data import ImageData
from course_lib.lessons import strong_supervision as lesson

TINY = dataclasses.replace(lesson.SIZES["ci"], width=4, batch_size=16, pretrain_steps=3, finetune_steps=40,
                           labels_per_class=(1, 4), label_draws=1, validation=8,
                           probe_cs=config.PROBE_CS)  # the grid lab chooses from (ci fits C = 1 alone)
PALETTE = torch.tensor([[1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 1], [0, 1, 1], [0.5, 0.5, 0.5], [1, 0.5, 0],
                        [0, 0.5, 1], [0, 0, 1], [1, 1, 1]])  # one flat colour per class


def _cifar_like(n_per_class=8, seed=0):
    """Ten classes of 16 x 16 noisy flat colours: any start that keeps colour can tell them apart."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n_per_class)
    x = PALETTE[y][:, :, None, None] + 0.1 * torch.randn(len(y), 3, 16, 16, generator=g)
    return ImageData(x=x.clamp(0, 1), y=y, classes=[f"c{i}" for i in range(10)])


@pytest.fixture(scope="module")
def tasks():
    return lesson.split_tasks(_cifar_like(), _cifar_like(seed=1), torch.device("cpu"), TINY.validation)


def test_sizes_cover_every_profile_and_keep_the_point_the_claim_reads():
    assert set(lesson.SIZES) == set(config.PROFILE_NAMES)
    ci, lab, full = (lesson.SIZES[name] for name in config.PROFILE_NAMES)
    assert all(10 in sizes.labels_per_class for sizes in (ci, lab, full))  # the claim compares at 10 per class
    assert ci.pretrain_steps <= lab.pretrain_steps <= full.pretrain_steps
    assert ci.finetune_steps <= lab.finetune_steps <= full.finetune_steps
    assert ci.label_draws == config.PROFILES["ci"].label_draws  # shared, not the lesson's own


def test_orderings_read_only_numbers_the_notebook_records():
    recorded = set(results.load("lab", config.REPO_ROOT / "results")[lesson.NOTEBOOK]["metrics"])
    for ordering in lesson.ORDERINGS:
        others = (ordering.than,) if isinstance(ordering.than, str) else ordering.than
        assert {ordering.better, *others} <= recorded, ordering.statement


def test_select_classes_keeps_only_them_and_renumbers():
    y = torch.tensor([0, 8, 1, 9, 2, 8])
    x = torch.arange(6).float()
    xs, ys = lesson.select_classes(x, y, lesson.VEHICLES)
    assert xs.tolist() == [0, 1, 2, 3, 5]
    assert ys.tolist() == [0, 2, 1, 3, 2]


def test_tasks_do_not_share_classes(tasks):
    assert set(tasks.source_names).isdisjoint(tasks.target_names)
    assert len(tasks.source_names) == 6 and len(tasks.target_names) == 4
    assert tasks.source[1].max() == 5 and tasks.target_test[1].max() == 3
    assert "target task" in str(tasks)


def test_the_target_tasks_validation_images_are_held_out_of_its_training_images(tasks):
    (x, _), (x_val, y_val) = tasks.target, tasks.target_val
    assert len(x_val) == TINY.validation and len(x) + len(x_val) == 4 * 8  # four vehicles, 8 images each
    flat, flat_val = x.flatten(1), x_val.flatten(1)
    assert not (flat_val[:, None] == flat[None]).all(-1).any()  # no image in both
    assert y_val.max() <= 3


def test_pretraining_starts_from_the_seeded_random_backbone(tasks):
    model, history = lesson.pretrain_with_labels(*tasks.source, dataclasses.replace(TINY, pretrain_steps=0), seed=3)
    start = nets.random_backbone(3, TINY.width, seed=3)
    assert history.stopped_by == "0 steps"
    assert all(torch.equal(a, b) for a, b in zip(model.backbone.state_dict().values(), start.state_dict().values(),
                                                 strict=True))


def test_transfer_curves_have_every_start_and_point_and_learn_easy_data(tasks):
    torch.manual_seed(0)  # the fine-tuned heads and the augmentation draw from the global stream
    model, history = lesson.pretrain_with_labels(*tasks.source, TINY)
    assert history.stopped_by == "3 steps"
    curves, reads = lesson.transfer_curves(model.backbone, tasks, TINY)
    assert list(curves) == ["pretrained, fine-tuned", "scratch", "pretrained, frozen + linear probe",
                            "random init, frozen + linear probe"]
    assert all(list(curve) == [1, 4] for curve in curves.values())
    assert all(curve[4] > 60 for curve in curves.values()), curves  # chance is 25 %: the colours are easy
    assert lesson.curve_table(curves).shape == (4, 2)
    assert list(reads.index) == list(curves)[2:] and set(reads[evaluate.BEST_LAYER]) <= set(nets.STAGES)
    assert reads.loc["pretrained, frozen + linear probe", evaluate.READ] == "-"  # one read: nothing to choose
    assert reads.loc["random init, frozen + linear probe", evaluate.READ] in (evaluate.AS_INITIALISED,
                                                                               evaluate.RECALIBRATED)
    assert (reads[evaluate.VAL_LABELS] == TINY.validation).all()
    assert reads[evaluate.PROBE_C_COLUMN].isin(evaluate.PROBE_CS).all()  # the probe's C chosen on validation too


def test_a_frozen_row_keeps_the_read_and_layer_best_on_validation_for_its_whole_curve(tasks, monkeypatch):
    chosen = []
    probe_layers = evaluate.probe_layers

    def recorded(train, *args, **kwargs):
        scores = probe_layers(train, *args, **kwargs)
        chosen.append((kwargs["per_class"], tuple(train), scores))
        return scores

    monkeypatch.setattr(evaluate, "probe_layers", recorded)
    network = nets.random_backbone(3, TINY.width, 0)
    curve, row = lesson.frozen_curve(evaluate.random_reads(network, tasks.target[0]), tasks, TINY)
    first = [(reads, scores) for per_class, reads, scores in chosen if per_class == 1]
    assert len(first) == 2 and all(layers == tuple(nets.STAGES) for layers, _ in first)  # every layer of both reads
    best = max(first, key=lambda c: c[1].best_val)[1]
    assert row[evaluate.BEST_LAYER] == best.best_layer and curve[1] == best.best
    assert row[evaluate.PROBE_C_COLUMN] == best.best_C
    later = [(layers, scores) for per_class, layers, scores in chosen if per_class == 4]
    assert [layers for layers, _ in later] == [(best.best_layer,)]  # then that layer, at that C
    assert later[0][1].best_C == best.best_C


def test_curve_table_prints_mean_and_spread_of_the_draws():
    curves = {"pretrained": {1: evaluate.Spread(50.0, 2.0, 3), 10: evaluate.Spread(71.3, 0.5, 3)},
              "one draw": {1: 40.0, 10: 60.0}}
    table = lesson.curve_table(curves)
    assert list(table.columns) == ["1 / class", "10 / class"]
    assert table.loc["pretrained"].tolist() == ["50.0 ± 2.0", "71.3 ± 0.5"]
    assert table.loc["one draw"].tolist() == ["40.0", "60.0"]


def test_curve_mean_averages_the_points_from_the_claims_point_up_with_a_cautious_spread():
    curve = {1: evaluate.Spread(30.0, 9.0, 3), 10: evaluate.Spread(50.0, 2.0, 3), 100: evaluate.Spread(70.0, 4.0, 3)}
    mean = lesson.curve_mean(curve, from_labels=10)
    assert float(mean) == pytest.approx(60.0) and mean.std == pytest.approx(3.0) and mean.draws == 3
    with pytest.raises(ValueError, match="no point"):
        lesson.curve_mean({1: 30.0, 2: 35.0}, from_labels=10)


def test_curve_mean_bounds_the_spread_of_the_averaged_draws():
    """The std over draws of the averaged accuracy never exceeds the mean of the points' stds."""
    draws = torch.tensor([[40.0, 60.0], [44.0, 58.0], [47.0, 65.0]])  # 3 draws x 2 points
    curve = {10: evaluate.Spread.of(draws[:, 0].tolist()), 20: evaluate.Spread.of(draws[:, 1].tolist())}
    true_std = float(draws.mean(1).std(unbiased=False))
    assert lesson.curve_mean(curve).std >= true_std


# --- the exercise checkers: an answer written here, and the mistakes students make -----------------------------


def _few_labels(y, per_class, seed):
    """An answer written for this test: go through all indices in an order shuffled with the seed and keep each one
    whose class has fewer than per_class so far."""
    taken, chosen = {}, []
    for i in torch.randperm(len(y), generator=torch.Generator().manual_seed(seed)).tolist():
        c = int(y[i])
        if taken.get(c, 0) < per_class:
            taken[c] = taken.get(c, 0) + 1
            chosen.append(i)
    return torch.tensor(chosen)


def _first_per_class(y, per_class, seed):
    return torch.cat([torch.nonzero(y == c).flatten()[:per_class] for c in y.unique()])


def _with_replacement(y, per_class, seed):
    g = torch.Generator().manual_seed(seed)
    members = [torch.nonzero(y == c).flatten() for c in y.unique()]
    return torch.cat([m[torch.randint(len(m), (per_class,), generator=g)] for m in members])


def _per_class_in_all(y, per_class, seed):
    return torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:per_class]


def _positions_within_each_class(y, per_class, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.cat([torch.randperm(int((y == c).sum()), generator=g)[:per_class] for c in y.unique()])


def _reseeded_for_every_class(y, per_class, seed):
    picks = []
    for c in y.unique():
        members = torch.nonzero(y == c).flatten()
        picks.append(members[torch.randperm(len(members), generator=torch.Generator().manual_seed(seed))[:per_class]])
    return torch.cat(picks)


def _global_stream_seeded(y, per_class, seed):
    torch.manual_seed(seed)
    return torch.cat([torch.nonzero(y == c).flatten()[torch.randperm(int((y == c).sum()))[:per_class]]
                      for c in y.unique()])


@pytest.mark.parametrize("right", [
    pytest.param(evaluate.few_labels, id="the-library"),
    pytest.param(_few_labels, id="written-here"),
    pytest.param(lambda y, k, seed: [int(i) for g in [torch.Generator().manual_seed(seed)]
                                             for c in range(int(y.max()) + 1) for i in torch.nonzero(y == c).flatten()[
        torch.randperm(int((y == c).sum()), generator=g)[:k]]], id="a-list"),
])
def test_check_few_labels_accepts_the_reference_and_answers_written_here(right, capsys):
    lesson.check_few_labels(right)
    assert "few_labels: correct" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(_first_per_class, "the seed is ignored", id="seed-ignored"),
    pytest.param(lambda y, k, seed: evaluate.few_labels(y, k, 0), "the seed is ignored", id="seed-fixed"),
    pytest.param(_per_class_in_all, "returned 1 index, not 3: per_class is a number per class",
                 id="per-class-taken-as-the-total"),
    pytest.param(lambda y, k, seed: torch.nonzero(y == 0).flatten()[: 3 * k], "returned 5 indices, not 6",
                 id="one-class-only"),

    pytest.param(_with_replacement, "without replacement", id="drawn-with-replacement"),
    pytest.param(lambda y, k, seed: torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[
        :k * len(y.unique())], "not per class", id="not-drawn-per-class"),
    pytest.param(lambda y, k, seed: torch.cat([torch.nonzero(y == c).flatten()[torch.randperm(int((y == c).sum()))[:k]]
                                               for c in y.unique()]), "global random stream", id="seed-not-used"),
    pytest.param(lambda y, k, seed: torch.cat([torch.nonzero(y == c).flatten()[:k] for c in range(3)]),
                 "40 labels of 5 classes.*returned 3 indices, not 5", id="three-classes-written-in"),
    pytest.param(lambda y, k, seed: evaluate.few_labels(y, k, seed) + 1, "positions 0 ... len", id="counted-from-1"),
    pytest.param(lambda y, k, seed: torch.nonzero(y[None] == torch.arange(3)[:, None])[:, 1].view(3, -1)[:, :k],
                 "your function raised RuntimeError.*a 1-D tensor of indices", id="a-shape-error"),
    pytest.param(_positions_within_each_class, "positions within each class .* not indices into y",
                 id="positions-within-each-class"),
    pytest.param(_reseeded_for_every_class, "same positions within the class.*starts again from the seed for each "
                 "class", id="generator-reseeded-for-every-class"),
    pytest.param(_global_stream_seeded, "changed torch's global random stream.*torch.Generator",
                 id="global-stream-seeded"),
])
def test_check_few_labels_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_few_labels(wrong)
    assert not any(code in str(rejected.value) for code in ("nonzero", "randperm", "Generator(")), rejected.value


def test_check_few_labels_leaves_the_random_stream_alone():
    before = torch.random.get_rng_state()
    with pytest.raises(checks.NotYet):
        lesson.check_few_labels(lambda y, k, seed: torch.randperm(len(y))[:k * 3])
    assert torch.equal(before, torch.random.get_rng_state())


def _labels_needed(curve, accuracy):
    """An answer written for this test: interpolate log10(labels) linearly in accuracy between the two points around
    it; the first point if it is reached there already; inf if never."""
    labels, accuracies = zip(*sorted(curve.items()), strict=True)
    if accuracy <= accuracies[0]:
        return float(labels[0])
    for i in range(1, len(labels)):
        if accuracies[i] >= accuracy:
            share = (accuracy - accuracies[i - 1]) / (accuracies[i] - accuracies[i - 1])
            return 10 ** (math.log10(labels[i - 1]) + share * math.log10(labels[i] / labels[i - 1]))
    return math.inf


def _linear(curve, accuracy):
    """The interpolation on a linear axis of labels, not a log one."""
    (k0, a0), (k1, a1) = [(k, a) for k, a in curve.items() if a < accuracy][-1], next(
        (k, a) for k, a in curve.items() if a >= accuracy)
    return k0 + (accuracy - a0) / (a1 - a0) * (k1 - k0)


def test_check_labels_needed_accepts_an_answer_written_here(capsys):
    lesson.check_labels_needed(_labels_needed)
    assert "labels_needed: correct" in capsys.readouterr().out


def _last_crossing(curve, accuracy):
    """Scans every pair of neighbouring points and keeps the last one that brackets the accuracy."""
    points, found = sorted(curve.items()), math.inf
    for (k0, a0), (k1, a1) in zip(points, points[1:], strict=False):
        if a0 < accuracy <= a1:
            found = k0 * (k1 / k0) ** ((accuracy - a0) / (a1 - a0))
    return float(points[0][0]) if points[0][1] >= accuracy else found


def _unsorted(curve, accuracy):
    """The answer written here, taking the points in the dict's order."""
    labels, accuracies = list(curve), list(curve.values())
    if accuracy <= accuracies[0]:
        return float(labels[0])
    for i in range(1, len(labels)):
        if accuracies[i] >= accuracy:
            share = (accuracy - accuracies[i - 1]) / (accuracies[i] - accuracies[i - 1])
            return labels[i - 1] * (labels[i] / labels[i - 1]) ** share
    return math.inf


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda curve, acc: _linear(curve, acc) if min(curve.values()) < acc <= max(curve.values())
                 else _labels_needed(curve, acc), "you answered .*log axis of labels, not on a linear one",
                 id="linear-not-log-axis"),
    pytest.param(lambda curve, acc: next((float(k) for k, a in curve.items() if a >= acc), math.inf),
                 "you answered .*log axis of labels, not the next measured point", id="next-point-no-interpolation"),
    pytest.param(lambda curve, acc: float(max(curve)) if acc > max(curve.values()) else _labels_needed(curve, acc),
                 r"you answered \{90.0: 100.0\}.*never reaches", id="the-last-point-when-never-reached"),
    pytest.param(lambda curve, acc: 0.0 if acc < min(curve.values()) else _labels_needed(curve, acc),
                 r"you answered \{30.0: 0.0\}.*first point already reaches", id="zero-below-the-first-point"),
    pytest.param(lambda curve, acc: None if acc > max(curve.values()) else _labels_needed(curve, acc),
                 r"you answered \{90.0: None\}", id="none-when-never-reached"),
    pytest.param(_unsorted, "you answered 100.*keys out of order", id="keys-not-sorted"),
    pytest.param(_last_crossing, "you answered 11.16: that is where the curve crosses 52 % the last time",
                 id="the-last-crossing"),
    pytest.param(lambda curve, acc: _labels_needed(curve, acc) if acc != 52.0 else 1 / 0,
                 "your function raised ZeroDivisionError", id="raises-on-one-curve"),
])
def test_check_labels_needed_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_labels_needed(wrong)
    assert not any(code in str(rejected.value) for code in ("sqrt", "3.16", "log(", "sorted(")), rejected.value


def test_show_tasks_draws_a_row_per_task(tasks):
    fig = lesson.show_tasks(tasks, n=3)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert len(titles) == 6 and titles[0].startswith("source:") and titles[-1].startswith("target:")
    assert titles[3:] == [f"target: {tasks.target_names[i]}" for i in tasks.target[1][:3]]


def test_every_training_run_of_the_notebook_has_its_own_name(tasks, run_names):
    sizes = dataclasses.replace(TINY, pretrain_steps=1, finetune_steps=1, label_draws=2)
    model, _ = lesson.pretrain_with_labels(*tasks.source, sizes)
    lesson.transfer_curves(model.backbone, tasks, sizes)
    assert len(run_names) == len(set(run_names)) == 1 + 2 * 2 * 2  # pretraining; 2 starts x 2 points x 2 draws
    assert "scratch-4-per-class-draw-2" in run_names
