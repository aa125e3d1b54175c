import dataclasses
import json

import pytest
import random_stream
import torch
import torch.nn.functional as F

from course_lib import checks, config, evaluate, nets, papers, pretrained, seeds, train
from course_lib.lessons import transformations as lesson
from course_lib.lessons.transformations import scratch_recipe
from course_lib.pretext import transformations

TINY = dataclasses.replace(lesson.SIZES["ci"], width=4, batch_size=8, steps=2, scratch_steps=4, scratch_every=2,
                           scratch_patience=2, label_budgets=(10, 20), max_seconds=30, label_draws=2,
                           probe_cs=config.PROBE_CS)  # the grid lab chooses from (ci fits C = 1 alone)


def _digits(n_per_class=4, seed=0, side=16):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat(n_per_class)
    return torch.rand(len(y), 1, side, side, generator=g), y


def _bars(n=40, seed=0):
    """Easy classes: a horizontal (0) or a vertical (1) bar, 3 pixels thick, at a random place."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    r = torch.arange(16)
    near = ((r[None] - torch.randint(4, 12, (n, 1), generator=g)).abs() <= 1).float()  # n x 16
    x = torch.where(y[:, None, None] == 0, near[:, :, None].expand(n, 16, 16), near[:, None, :].expand(n, 16, 16))
    return x[:, None].clone(), y


def _spread(mean, std=0.5, draws=3):
    return evaluate.Spread(mean, std, draws)


def _probed(test_accuracy, val_accuracy, errors):
    """A fake ``Probed``: accuracies per layer on test and validation, and errors per budget."""
    layers = evaluate.LayerScores(test={k: _spread(v) for k, v in test_accuracy.items()}, val=val_accuracy,
                                  val_labels=1000)
    return lesson.Probed(layers, {k: _spread(v) for k, v in errors.items()})


def _fake_result(ego=12.0, contrastive=7.8, random=13.5, spread=0.5):
    """A fake ``Benchmark`` with these errors at 100 labels (the validation split prefers contrastive)."""
    layers = {"conv2": 85.0, "conv5": 80.0, lesson.GLOBAL: 75.0}
    probes = {
        "egomotion": _probed(layers, {"conv2": 88.0, "conv5": 80.0, lesson.GLOBAL: 70.0}, {100: ego, 1000: 4.0}),
        "contrastive": _probed(layers, {"conv2": 90.0, "conv5": 92.0, lesson.GLOBAL: 91.0},
                               {100: contrastive, 1000: 3.0}),
        lesson.RANDOM: _probed(layers, {"conv2": 86.0, "conv5": 80.0, lesson.GLOBAL: 70.0}, {100: random, 1000: 5.0}),
    }
    for p in probes.values():
        p.errors = {k: evaluate.Spread(float(v), spread, 3) for k, v in p.errors.items()}
    runs = {budget: [lesson.ScratchRun(budget, error, [(2, 70.0), (4, 80.0)], 4, True) for error in (9.0, 10.0, 11.0)]
            for budget in (100, 1000)}
    tuned = [lesson.ScratchRun(100, error, [(2, 80.0), (4, 90.0)], 4, True) for error in (5.0, 6.0, 7.0)]
    return lesson.Benchmark(probes, runs, tuned)


def test_sizes_of_every_profile():
    assert set(lesson.SIZES) == set(config.PROFILE_NAMES)
    for name, sizes in lesson.SIZES.items():
        assert sizes.name == name and sizes.batch_size == config.PROFILES[name].batch_size
        assert all(b % 10 == 0 and b <= sizes.train_images - sizes.val_images for b in sizes.label_budgets)
        assert 100 in sizes.label_budgets and 1000 in sizes.label_budgets  # the budgets the notebook records
        assert sizes.scratch_every * sizes.scratch_patience < sizes.scratch_steps  # it can stop before the last step
    assert lesson.SIZES["ci"].steps < lesson.SIZES["lab"].steps < lesson.SIZES["full"].steps
    assert lesson.SIZES["lab"].label_draws >= 3


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


def test_split_holds_out_the_validation_images():
    x, y = _digits(n_per_class=10)
    (train_x, train_y), (val_x, val_y) = lesson.split(x, y, dataclasses.replace(TINY, val_images=15))
    assert len(val_y) == 15 and len(train_y) == 85
    assert not any(torch.equal(v, t) for v in val_x for t in train_x)


def test_capped_runs_names_only_the_runs_stopped_by_the_time_budget():
    done, stopped = lesson.train.History(stopped_by="80 steps"), lesson.train.History(
        stopped_by="time budget: stopped at step 5 of 80 after 41 s")
    assert lesson.capped_runs({"egomotion": done, "contrastive": stopped}) == ["contrastive"]


def test_labelled_subset_takes_a_tenth_of_the_budget_per_digit_and_the_probes_draws():
    _, y = _digits(n_per_class=5)
    idx = lesson.labelled_subset(y, 30)
    assert torch.bincount(y[idx]).tolist() == [3] * 10
    assert torch.equal(lesson.labelled_subset(y, 30, seed=2, draw=1), evaluate.few_labels(y, 3, 1002))


def test_draws_at_uses_one_draw_only_for_large_budgets():
    assert lesson.draws_at(100, TINY) == TINY.label_draws and lesson.draws_at(lesson.ONE_DRAW_FROM, TINY) == 1


def test_layer_features_pool_every_layer_to_the_egomotion_code_and_add_the_global_average():
    backbone = nets.random_backbone(1, 4, seed=0)
    x = torch.rand(6, 1, 28, 28)
    features = lesson.layer_features(backbone, x)
    assert list(features) == [*nets.STAGES, lesson.GLOBAL]
    with torch.no_grad():
        fmaps = backbone(x)
        head_code = transformations.EgomotionNet.code(fmaps)
        assert torch.allclose(features["conv5"], head_code, atol=1e-5)  # what the egomotion head reads
        assert torch.allclose(features[lesson.GLOBAL], backbone.embed(x), atol=1e-5)
    assert all(f.shape[1] <= head_code.shape[1] for f in features.values())  # no layer larger than the code


def test_probe_chooses_the_layer_on_validation_and_reports_every_budget():
    (x, y), (x_val, y_val), test = _bars(60), _bars(20, seed=1), _bars(40, seed=2)
    probed = lesson.probe(nets.random_backbone(1, 4, seed=0), (x, y), (x_val, y_val), test,
                          dataclasses.replace(TINY, label_budgets=(20, 40)))
    assert set(probed.errors) == {20, 40}
    assert probed.layer == max(probed.layers.val, key=probed.layers.val.get)
    assert set(probed.layers.test) == {*nets.STAGES, lesson.GLOBAL}
    assert probed.errors[20] == pytest.approx(100 - probed.layers.best) and probed.errors[20].draws == 2


def test_layer_errors_turn_accuracies_into_errors_and_keep_the_validation_choice():
    table = lesson.layer_errors(_fake_result().probes)
    assert table.loc["egomotion", "conv2"] == 15.0 and table.loc["egomotion", evaluate.BEST_LAYER] == "conv2"
    assert table.loc["contrastive", evaluate.BEST_LAYER] == "conv5"  # validation's choice, not test's (conv2)
    assert table.loc["contrastive", "error at that layer"] == 20.0
    assert table.loc["contrastive", evaluate.VAL_LABELS] == 1000  # a count of labels, not turned into an "error"


def test_scratch_learns_easy_classes_and_stops_on_validation():
    sizes = dataclasses.replace(TINY, scratch_steps=60, scratch_every=10, scratch_patience=2, label_draws=2)
    (x, y), val, test = _bars(), _bars(20, seed=1), _bars(seed=2)
    runs = lesson.scratch((x, y), val, test, dataclasses.replace(sizes, label_budgets=(20, 40)))
    assert {k: len(v) for k, v in runs.items()} == {20: 2, 40: 2}
    run = runs[40][0]
    assert run.error <= 25 and run.best_step in dict(run.curve)  # chance: 50 %
    assert run.stopped_early or run.curve[-1][0] == sizes.scratch_steps
    assert lesson.scratch_errors(runs)[40].draws == 2


def test_a_scratch_run_loaded_from_its_checkpoint_keeps_its_best_weights_and_curve(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("COURSE_PROFILE", "lab")
    monkeypatch.setenv("COURSE_SEED", "0")
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "b1")
    sizes = dataclasses.replace(TINY, scratch_steps=60, scratch_every=10, scratch_patience=2)
    (x, y), val, test = _bars(), _bars(20, seed=1), _bars(seed=2)

    def run():
        with pretrained.Runs("05_x", "scratch runs", sizes=sizes) as runs:
            return lesson.scratch_run((x, y), torch.arange(40), val, test, sizes, desc="scratch, 40 labels",
                                      trained=runs)

    built = run()
    monkeypatch.delenv("COURSE_CHECKPOINT_BUILD")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    loaded = run()
    assert loaded.curve == built.curve and loaded.best_step == built.best_step
    assert loaded.stopped_early == built.stopped_early and abs(loaded.error - built.error) <= 2.0  # float16 weights


def test_benchmark_has_every_backbone_and_the_scratch_row():
    train_xy, val_xy, test_xy = _digits(n_per_class=6), _digits(seed=1), _digits(seed=2)
    result = lesson.benchmark({lesson.RANDOM: lesson.random_features(TINY)}, train_xy, val_xy, test_xy, TINY)
    assert list(result.errors) == [lesson.RANDOM, lesson.SCRATCH]
    assert all(set(e) == {10, 20} for e in result.errors.values())
    table = lesson.error_table(result)
    assert list(table.columns) == ["10 labels", "20 labels", "layer (val)", evaluate.PROBE_C_COLUMN,
                                   "validation labels"]
    assert table.loc[lesson.RANDOM, evaluate.PROBE_C_COLUMN] in {f"{C:g}" for C in evaluate.PROBE_CS}
    assert (table["validation labels"] == len(val_xy[1])).all()  # one split chose for every row
    assert " ± " in table.loc[lesson.SCRATCH, "10 labels"] and table.loc[lesson.SCRATCH, "layer (val)"] == "end to end"
    random = result.probes[lesson.RANDOM]  # read twice, the better read on validation kept and named
    assert random.read in (evaluate.AS_INITIALISED, evaluate.RECALIBRATED)
    assert table.loc[lesson.RANDOM, "layer (val)"] == f"{random.layer}, {random.read}"
    assert result.finetuned == []  # no egomotion network to fine-tune


def test_the_fine_tuned_row_trains_the_pretrained_network_by_scratchs_recipe_on_the_same_draws(run_names):
    train_xy, val_xy, test_xy = _digits(n_per_class=12), _digits(seed=1), _digits(seed=2)
    sizes = dataclasses.replace(TINY, label_budgets=(10, 100))
    pretrained_net = lesson.random_features(sizes, seed=5)  # any backbone stands in for the pretrained one
    runs = lesson.finetuned(pretrained_net, train_xy, val_xy, test_xy, sizes)
    assert len(runs) == lesson.draws_at(100, sizes) and all(run.budget == 100 for run in runs)
    assert [name for name in run_names if "fine-tuned" in name] == [
        f"egomotion-fine-tuned-100-labels-draw-{d + 1}" for d in range(len(runs))]
    # the start is copied, not trained in place: the pretrained network is left as it was
    assert torch.equal(pretrained_net.stages["conv1"][0].weight,
                       lesson.random_features(sizes, seed=5).stages["conv1"][0].weight)


def test_best_method_is_chosen_on_validation():
    result = _fake_result(ego=5.0, contrastive=7.8)  # egomotion best on test, contrastive on validation
    assert lesson.best_method(result) == "contrastive"


def test_compare_errors_names_the_lower_error_or_no_difference():
    assert lesson.compare_errors(_spread(7.8), _spread(13.5), ("contrastive", "random")).endswith("contrastive lower")
    assert "no difference at this scale" in lesson.compare_errors(_spread(12.0), _spread(12.6), ("a", "b"))


def test_the_claim_holds_beyond_the_spread_and_fails_inside_it():
    lesson.check_claim(_fake_result(contrastive=7.8, random=13.5), "lab")
    with pytest.raises(checks.ClaimFailed, match="no difference"):
        lesson.check_claim(_fake_result(contrastive=12.8, random=13.5), "lab")


def test_the_ci_claim_is_weaker_but_can_fail():
    lesson.check_claim(_fake_result(contrastive=12.8, random=13.5), "ci")
    with pytest.raises(checks.ClaimFailed, match="chance"):
        lesson.check_claim(_fake_result(contrastive=60.0, random=13.5), "ci")


def test_the_claim_names_the_runs_stopped_at_the_time_cap(capsys):
    lesson.check_claim(_fake_result(), "lab", capped=["egomotion"])
    assert "time cap: egomotion" in capsys.readouterr().out


def test_slide_rows_put_our_egomotion_beside_the_slides_number():
    rows = lesson.slide_rows(_fake_result())
    table = papers.side_by_side("agrawal2015", rows)
    assert table.iloc[0]["paper"] == 8.7
    labels = list(rows)
    assert "egomotion" in labels[1] and "conv2" in labels[1] and rows[labels[1]][1] == "12.0 ± 0.5"
    assert rows[labels[2]][1] == "20.0 ± 0.5" and rows[labels[3]][1] == "25.0 ± 0.5"  # conv5 3 x 3, global
    assert not any("contrastive" in label for label in labels)
    assert "fine-tuned" in labels[4] and rows[labels[4]][1] == "6.0 ± 0.8"  # over its draws


def test_headline_metrics_keep_mean_and_std():
    metrics = lesson.headline_metrics(_fake_result())
    assert metrics["error_100_contrastive"] == 7.8 and metrics["error_100_contrastive_std"] == 0.5
    assert metrics["error_1000_scratch"] == 10.0 and metrics["error_100_egomotion_conv5_global"] == 25.0
    assert metrics["random_features_recalibrated"] == 0.0
    assert metrics["error_100_egomotion_finetuned"] == 6.0
    assert metrics["error_100_egomotion_finetuned_std"] == evaluate.Spread.of([5.0, 6.0, 7.0]).std
    result = _fake_result()
    result.probes[lesson.RANDOM].layers.read = evaluate.RECALIBRATED
    assert lesson.headline_metrics(result)["random_features_recalibrated"] == 1.0


def test_every_ordering_compares_recorded_errors():
    metrics = lesson.headline_metrics(_fake_result())
    statements = [ordering.statement for ordering in lesson.ORDERINGS]
    assert len(set(statements)) == len(statements)  # the rows of the seeds table
    for ordering in lesson.ORDERINGS:
        assert not ordering.higher_is_better, ordering.statement  # errors: lower is better
        assert isinstance(ordering.gap(metrics), float), ordering.statement  # a KeyError on a name not recorded
    first = lesson.ORDERINGS[0]  # the claim: contrastive (chosen on validation here) against random init, 100 labels
    assert first.gap(metrics) == pytest.approx(13.5 - 7.8)


def test_nt_xent_code_holds_the_lines_the_notebook_maps_to_the_formula():
    code = lesson.nt_xent_code()
    for line in ["z = F.normalize(torch.cat([z1, z2]), dim=1)", "logits = (z @ z.T / temperature)",
                 'float("-inf")', ".roll(len(z1))", "F.cross_entropy(logits, positives)"]:
        assert line in code


def test_show_scratch_curves_draws_a_line_per_run():
    fig = lesson.show_scratch_curves(_fake_result().scratch)
    lines = fig.axes[0].lines
    assert len([line for line in lines if len(line.get_xdata()) == 2]) == 6  # a curve per run ...
    assert [tuple(line.get_xdata()) for line in lines if len(line.get_xdata()) == 1] == [(4,)] * 6  # ... its dot


def test_show_pretexts_leaves_the_random_stream_alone():
    x, _ = _digits(side=28)
    with random_stream.left_alone():
        fig = lesson.show_pretexts(x, n=3)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 15  # 5 rows of 3: image, two egomotion views, two contrastive views
    assert [ax.get_title() for ax in shown[::3]] == ["image", "egomotion: view T0(x)", shown[6].get_title(),
                                                     "view t(x)", "view t'(x): the positive"]
    assert shown[6].get_title().startswith("T: ") and shown[6].get_title().endswith("°")
    again = lesson.show_pretexts(x, n=3)
    assert all((a.images[0].get_array() == b.images[0].get_array()).all()
               for a, b in zip(shown, [ax for ax in again.axes if ax.images], strict=True))


# --- the exercise checkers: an answer written here, and the mistakes students make -----------------------------


def _rotation_bins(degrees):
    """An answer written for this test: count the bin edges -27, -24, ..., 27 at or below each angle."""
    edges = torch.arange(-27.0, 30.0, 3.0)
    return (degrees[:, None] >= edges).sum(1)


def test_rotation_checker_accepts_an_answer_written_here(capsys):
    lesson.check_rotation_bins(_rotation_bins)
    assert "rotation bins: correct" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda d: ((d + 30) / 3).round().long().clamp(0, 19), "rounded to the nearest whole number",
                 id="rounded-not-floored"),
    pytest.param(lambda d: (d / 3).long() + 10, "truncates it toward 0", id="truncated-toward-0-before-the-shift"),
    pytest.param(lambda d: torch.div(d, 3, rounding_mode="floor").long(), "not shifted", id="no-shift-by-30"),
    pytest.param(lambda d: torch.div(d, 3, rounding_mode="floor").long().clamp(0, 19), "not shifted",
                 id="no-shift-but-clamped"),
    pytest.param(lambda d: ((d + 30) // 6).long(), "your bins go from 0 to 9", id="bins-of-6-degrees"),
    pytest.param(lambda d: ((d + 30) / 3).floor().long(), r"outside \[-30, 30\).*you gave \[-5, -1, 20, 20, 30\]",
                 id="not-clamped"),
    pytest.param(lambda d: ((d + 30) / 3).floor().clamp(0, 19), "of type torch.float32.*torch.long", id="float-bins"),
    pytest.param(lambda d: ((d + 30) / 3).clamp(0, 19), "fractions", id="not-rounded-at-all"),
    pytest.param(lambda d: ((d + 30) / 3).floor().int().clamp(0, 19), "of type torch.int32", id="int32-bins"),
])
def test_rotation_checker_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_rotation_bins(wrong)
    assert not any(code in str(rejected.value) for code in ("shift by 30", "divide by", "floor", "round down")), \
        rejected.value  # the mistake is named, the recipe is not given


def _nt_xent(z1, z2, temperature):
    """An answer written for this test: l_i one view at a time, its partner against every other view."""
    z = torch.cat([z1, z2])
    z = z / z.norm(dim=1, keepdim=True)
    n = len(z1)
    losses = []
    for i in range(2 * n):
        others = torch.cat([z[:i], z[i + 1:]])
        partner = z[(i + n) % (2 * n)]
        losses.append(torch.logsumexp(others @ z[i] / temperature, 0) - partner @ z[i] / temperature)
    return torch.stack(losses).mean()


def test_nt_xent_checker_accepts_an_answer_written_here(capsys):
    lesson.check_nt_xent(_nt_xent)
    assert "NT-Xent: correct" in capsys.readouterr().out


def _nt_xent_self_left_in(z1, z2, temperature):
    """The classic mistake: no mask on the diagonal, so each view is among its own negatives."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    return F.cross_entropy(z @ z.T / temperature, torch.arange(len(z)).roll(len(z1)))


def _unnormalised(z1, z2, temperature):
    z = torch.cat([z1, z2])  # dot products of the raw z, not cosines
    logits = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    return F.cross_entropy(logits, torch.arange(len(z)).roll(len(z1)))


def _temperature_multiplied(z1, z2, temperature):
    return _nt_xent(z1, z2, 1 / temperature)


def _first_view_only(z1, z2, temperature):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    return F.cross_entropy(logits[:len(z1)], torch.arange(len(z1), len(z)))


def _other_view_only(z1, z2, temperature):
    """InfoNCE across the views: the negatives come from the other view only, never from the view's own side."""
    logits = F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T / temperature
    own = torch.arange(len(z1))
    return (F.cross_entropy(logits, own) + F.cross_entropy(logits.T, own)) / 2


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(_nt_xent_self_left_in, "its own negatives", id="self-similarity-left-in"),
    pytest.param(_unnormalised, r"NT-Xent is \d\.\d{4}, you gave .*not scaled to unit length", id="not-unit-length"),
    pytest.param(lambda z1, z2, t: _nt_xent(z1, z2, t).item(), "no .item()", id="item-detaches"),
    pytest.param(_temperature_multiplied, "temperature is in the wrong place", id="temperature-multiplied"),
    pytest.param(_first_view_only, r"only one direction", id="one-direction-only"),
    pytest.param(_other_view_only, "you gave", id="negatives-from-the-other-view-only"),
    pytest.param(lambda z1, z2, t: _nt_xent(z1, z2, 1.0), "temperature is ignored", id="temperature-ignored"),
    pytest.param(lambda z1, z2, t: _nt_xent(z1, z2, t) * 2 * len(z1),
                 "the sum of l_i over the 2N views, not their mean", id="sum-not-mean"),
    pytest.param(lambda z1, z2, t: _nt_xent(z1, z2, t) * 2, "divided by N, but there are 2N views",
                 id="divided-by-n"),
])
def test_nt_xent_checker_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint):
        lesson.check_nt_xent(wrong)


def test_no_hint_of_the_nt_xent_checker_states_the_recipe():
    """Try first: a hint names the mistake, it does not list the steps of the answer."""
    with pytest.raises(checks.NotYet) as wrong:
        lesson.check_nt_xent(lambda z1, z2, t: (z1 - z2).pow(2).sum(1).mean() / t)
    assert "unit length" not in str(wrong.value) and "-inf" not in str(wrong.value)


def test_a_students_nt_xent_trains_the_short_run_and_its_accuracy_is_logged():
    calls = []

    def counted(z1, z2, temperature):
        calls.append(z1.shape)
        return _nt_xent(z1, z2, temperature)

    sizes = dataclasses.replace(TINY, name="ci")
    history = lesson.train_with_your_loss(counted, _digits()[0], sizes)
    assert len(calls) == lesson.YOUR_RUN_STEPS["ci"] and calls[0] == (sizes.batch_size, 128)
    assert 0 <= history.last("acc") <= 1


def test_nt_xent_checker_leaves_the_random_stream_alone():
    with random_stream.left_alone():
        lesson.check_nt_xent(_nt_xent)


def test_every_training_run_of_the_notebook_has_its_own_name(run_names):
    train_xy, val_xy, test_xy = _digits(n_per_class=6), _digits(seed=1), _digits(seed=2)
    for method in lesson.METHODS:
        lesson.pretrain(method, train_xy[0], TINY)
    lesson.scratch(train_xy, val_xy, test_xy, TINY)
    assert len(run_names) == len(set(run_names)) == 2 + 2 * 2  # two pretext tasks; scratch: 2 budgets x 2 draws
    assert "scratch-20-labels-draw-2" in run_names


def test_pretext_accuracy_puts_each_pretexts_own_accuracy_beside_its_chance_level():
    egomotion, contrastive = train.History(stopped_by="400 steps"), train.History(stopped_by="400 steps")
    egomotion.log(10, 1.0, {"loss": 3.0, "acc_tx": 0.5, "acc_ty": 0.25, "acc_rotation": 0.1})
    contrastive.log(10, 1.0, {"loss": 2.0, "acc": 0.5})
    sizes = dataclasses.replace(TINY, batch_size=8)
    table = lesson.pretext_accuracy({"egomotion": egomotion, "contrastive": contrastive}, sizes)
    assert list(table.index) == [("egomotion", "tx"), ("egomotion", "ty"), ("egomotion", "rotation"),
                                 ("contrastive", "partner found")]
    assert table.loc[("egomotion", "tx"), "chance"] == "14.3%"  # 7 shifts, -3 ... 3 pixels
    assert table.loc[("egomotion", "rotation"), "times chance"] == "2.0"  # 20 bins: chance 5 %
    assert table.loc[("contrastive", "partner found"), "chance"] == "6.7%"  # 1 of the 2N - 1 = 15 other views


def test_scratch_recipes_vary_the_learning_rate_and_steps_around_the_courses_own():
    tried = scratch_recipe.recipes(TINY)
    assert (train.LR, TINY.scratch_steps) in tried and len(set(tried)) == len(tried)
    assert {lr for lr, _ in tried} > {train.LR} and {steps for _, steps in tried} > {TINY.scratch_steps}


def test_the_scratch_sweep_grades_every_recipe_on_the_same_draws():
    (x, y), val, test = _bars(), _bars(20, seed=1), _bars(seed=2)
    rows = scratch_recipe.sweep((x, y), val, test, TINY, budgets=(20,))
    assert len(rows) == len(scratch_recipe.recipes(TINY))
    assert all(row["draws"] == TINY.label_draws and 0 <= row["stopped early"] <= row["draws"] for row in rows)
    assert all(0 <= row["validation accuracy"] <= 100 and 0 <= row["test error"] <= 100 for row in rows)


def test_the_scratch_recipe_table_marks_validations_choice_and_the_notebooks_recipe(tmp_path, capsys):
    assert scratch_recipe.scratch_recipe_table(root=tmp_path).empty  # missing: nothing to show, and how to make it
    assert scratch_recipe.COMMAND in capsys.readouterr().out
    row, steps = {"labels": 100, "stopped early": 1, "draws": 3}, lesson.SIZES["lab"].scratch_steps
    rows = [{**row, "learning rate": train.LR, "most steps": steps, "validation accuracy": 90.0, "test error": 9.0},
            {**row, "learning rate": train.LR / 2, "most steps": steps, "validation accuracy": 92.0,
             "test error": 11.0}]  # validation prefers it although its test error is worse: validation decides
    path = scratch_recipe.results_file(root=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"profile": "lab", "seed": 0, "minutes": 1.0, "rows": rows}))
    shown = scratch_recipe.scratch_recipe_table(root=tmp_path)
    assert shown.loc[(100, train.LR / 2, steps), "recipe"] == "chosen on validation"
    assert shown.loc[(100, train.LR, steps), "recipe"] == "the notebook's"
    assert shown.loc[(100, train.LR, steps), "stopped early"] == "1 of 3"


def test_contrastive_on_every_seed_reads_the_table_and_the_further_seeds_beside_the_slide(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path))
    for path, errors in ((seeds.seeds_file(lesson.NOTEBOOK), {1: 7.0}), (seeds.further_file(lesson.NOTEBOOK),
                                                                        {3: 8.7, 4: 8.8})):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seeds": {str(s): {"metrics": {"error_100_contrastive": e}, "capped": [],
                                                       "claims": []} for s, e in errors.items()}}))
    table = lesson.contrastive_on_every_seed()
    slide = papers.reported("agrawal2015")["MNIST error with 100 labels"]
    assert list(table.index) == [1, 3, 4]
    assert table.iloc[:, 1].tolist() == [True, True, False] and slide == 8.7
