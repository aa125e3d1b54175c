import dataclasses

import pytest
import random_stream
import torch

from course_lib import checks, config, evaluate, train
from course_lib.lessons import colorization as lesson
from course_lib.pretext import colorization as col

TINY = dataclasses.replace(lesson.SIZES["ci"], width=4, batch_size=8, steps=2, seconds=30)


def test_sizes_of_every_profile():
    assert set(lesson.SIZES) == set(config.PROFILE_NAMES)
    for name, sizes in lesson.SIZES.items():
        assert sizes.name == name and sizes.n_train == config.PROFILES[name].n_train
        assert sizes.probe_labels % 10 == 0 and sizes.probe_labels <= sizes.n_train  # a tenth of them per class
    assert lesson.SIZES["ci"].steps < lesson.SIZES["lab"].steps < lesson.SIZES["full"].steps


@pytest.fixture(scope="module")
def photos():
    torch.manual_seed(0)
    return torch.rand(16, 3, 16, 16)


@pytest.fixture(scope="module")
def space(photos):
    return lesson.ColourSpace.fit(photos)


def test_colour_space_weights_average_to_one_under_p_smooth(space):
    assert space.centres.shape == (space.q, 2) and space.weights.shape == (space.q,)
    assert torch.isclose((space.p_smooth * space.weights).sum(), torch.tensor(1.0), atol=1e-5)
    assert torch.isclose(space.p_smooth.sum(), torch.tensor(1.0), atol=1e-5)


@pytest.fixture(scope="module")
def trained(photos, space):
    return lesson.train_all(photos, space, TINY, seed=3, progress=False)


def test_every_method_starts_from_the_same_weights_and_trains(trained, space):
    models, histories = trained
    start = lesson.initial_backbone(TINY, 3)
    assert set(models) == set(lesson.METHODS)
    assert models["l2 regression"].head[-1].out_channels == 2
    assert models["classification"].head[-1].out_channels == space.q
    assert all(len(h["loss"]) > 0 for h in histories.values())
    assert not torch.equal(models["classification"].backbone.stages["conv1"][0].weight,
                           start.stages["conv1"][0].weight)  # it trained, from ...
    torch.manual_seed(3)
    assert torch.equal(lesson.initial_backbone(TINY, 3).stages["conv1"][0].weight,
                       start.stages["conv1"][0].weight)  # ... a start that the seed fixes


def test_show_training_gives_each_method_a_panel(trained):
    _, histories = trained
    fig = lesson.show_training(histories)
    assert [ax.get_title() for ax in fig.axes] == list(lesson.METHODS)
    assert all(len(ax.lines) == 1 and ax.get_ylabel() == "loss" for ax in fig.axes)
    assert list(fig.axes[0].lines[0].get_ydata()) == histories[lesson.METHODS[0]]["loss"]


def test_colour_table_measures_how_colourful_and_how_right(photos, space, trained):
    models, _ = trained
    table = lesson.colour_table(models, photos[:4], space)
    rows = ["ground truth", "grey (the input)", *lesson.METHODS,
            *(f"rebalanced, T = {t:g}" for t in lesson.TEMPERATURES)]
    assert list(table.index) == rows and list(table.columns) == [lesson.COLOURFUL, lesson.AUC, lesson.AUC_PER_COLOUR]
    assert table.loc["grey (the input)", lesson.COLOURFUL] < 1.0 < table.loc["ground truth", lesson.COLOURFUL]
    assert table.loc["ground truth", lesson.AUC] == pytest.approx(100.0, abs=0.1)
    assert table.loc["ground truth", lesson.AUC_PER_COLOUR] == pytest.approx(100.0, abs=0.1)
    assert (table[[lesson.AUC, lesson.AUC_PER_COLOUR]].drop(index="ground truth") < 99).all().all()


def _probes(photos, models, stages=("conv1", "conv3"), draws=2):
    y = torch.arange(16) % 2
    return lesson.probe_table({"random init": lesson.initial_backbone(TINY, 0),
                               "colorization": models["classification + rebalancing"].backbone},
                              (photos, y), (photos[:6], y[:6]), (photos[6:], y[6:]), stages=stages, per_class=3,
                              draws=draws)


def test_probe_table_chooses_each_best_layer_on_validation_with_the_spread_of_the_draws(photos, trained):
    probes = _probes(photos, trained[0])
    assert list(probes.columns) == ["conv1", "conv3", evaluate.BEST_LAYER, evaluate.PROBE_C_COLUMN, evaluate.READ,
                                    evaluate.AT_BEST, evaluate.STD, evaluate.VAL_LABELS]
    assert probes[evaluate.BEST_LAYER].isin(["conv1", "conv3"]).all()
    assert probes[evaluate.PROBE_C_COLUMN].isin(evaluate.PROBE_CS).all()  # the probe's C chosen on validation too
    assert all(row[evaluate.AT_BEST] == row[row[evaluate.BEST_LAYER]] for _, row in probes.iterrows())
    assert evaluate.read_of(probes, "random init") in (evaluate.AS_INITIALISED, evaluate.RECALIBRATED)
    assert evaluate.read_of(probes, "colorization") == ""  # a trained row has one read


def test_metrics_name_every_row(photos, space, trained):
    models, _ = trained
    metrics = lesson.metrics(lesson.colour_table(models, photos[:4], space), _probes(photos, models))
    for name in ("colourfulness_l2", "colourfulness_rebalanced", "colourfulness_truth",
                 "colourfulness_rebalanced_t0_38", "auc_grey", "auc_l2", "auc_rebalanced_t0_1",
                 "auc_per_colour_grey", "auc_per_colour_rebalanced", "probe_colorization", "probe_random_std",
                 "probe_colorization_conv3", "probe_random_recalibrated"):
        assert name in metrics, name
    assert "auc_truth" not in metrics and "colourfulness_grey" not in metrics
    assert not any(name.startswith("probe_random_best") for name in metrics)


def test_every_ordering_compares_recorded_metrics(photos, space, trained):
    models, _ = trained
    metrics = lesson.metrics(lesson.colour_table(models, photos[:4], space), _probes(photos, models))
    statements = [ordering.statement for ordering in lesson.ORDERINGS]
    assert len(set(statements)) == len(statements)  # the rows of the seeds table
    for ordering in lesson.ORDERINGS:
        assert isinstance(ordering.gap(metrics), float), ordering.statement  # raises KeyError on an unrecorded name


def test_the_probe_reads_easy_classes_from_the_lightness():
    torch.manual_seed(0)
    y = torch.arange(40) % 2
    rgb = torch.rand(40, 1, 1, 1) * 0.3 + 0.7 * y[:, None, None, None]  # dark (0) or light (1) photos, 3 x 16 x 16
    rgb = (rgb + 0.05 * torch.rand(40, 3, 16, 16)).clamp(0, 1)
    probes = lesson.probe_table({"random init": lesson.initial_backbone(TINY, 0)}, (rgb[:20], y[:20]),
                                (rgb[20:26], y[20:26]), (rgb[26:], y[26:]), stages=("conv1", "conv3"), per_class=5,
                                draws=2)
    assert probes.loc["random init", evaluate.AT_BEST] >= 90  # chance: 50 %; it sees X_L, which tells dark from light


def test_capped_names_the_methods_stopped_by_their_time_budget(trained):
    _, histories = trained
    assert lesson.capped(histories) == []  # two steps: never the 30 s cap
    stopped = train.History(stopped_by="time budget (1 s) reached after 1 steps")
    assert lesson.capped({**histories, "slow": stopped}) == ["slow"]


def test_pictures_show_every_row_and_bin(photos, space, trained):
    models, _ = trained
    fig = lesson.show_panel(models, photos[:3], space)
    names = ["ground truth", "input X_L", *lesson.METHODS, *(f"rebalanced, T = {t:g}" for t in lesson.TEMPERATURES)]
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == names
    assert len(fig.axes) == len(names) * 3 and all(ax.images for ax in fig.axes)
    fig = lesson.show_task(photos[:2], space)
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()][:3] == ["image", "input: X_L", "target: X_ab"]
    assert len(fig.axes) == 4 * 2
    panels = [ax for ax in lesson.show_colour_space(space).axes if ax.get_title()]
    assert len(panels) == 3 and all(len(ax.collections[0].get_offsets()) == space.q for ax in panels)


def test_colorize_any_keeps_the_photo_size(space):
    model = col.Colorizer(lesson.initial_backbone(TINY, 0), space.q)
    assert lesson.colorize_any(model, space, torch.rand(1, 3, 48, 48)).shape == (1, 3, 48, 48)


# --- the exercise checker: an answer written here, and the mistakes students make ------------------------------


def _annealed_mean(logits, centres, t):
    """An answer written for this test: the probabilities raised to 1 / T in log space, shifted by their largest so
    that none under- or overflows, re-normalised, then each bin's centre weighed."""
    log_z = logits.log_softmax(1) / t
    z = (log_z - log_z.amax(1, keepdim=True)).exp()
    f_t = z / z.sum(1, keepdim=True)
    return (f_t[:, :, None] * centres[None, :, :, None, None]).sum(1)


def _literal(logits, centres, t):
    """f_T(z) = exp(log z / T) / sum exactly as written: the probabilities underflow at a small T."""
    z = torch.exp(torch.log(logits.softmax(1)) / t)
    return _weigh(z / z.sum(1, keepdim=True), centres)


def test_annealed_mean_checker_accepts_an_answer_written_here_and_leaves_the_random_stream_alone(capsys):
    with random_stream.left_alone():
        lesson.check_annealed_mean(_annealed_mean)
    assert "annealed mean: correct" in capsys.readouterr().out


def _mode(logits, centres, t):
    return centres[logits.argmax(1)].permute(0, 3, 1, 2)


def _weigh(f, centres):
    return torch.einsum("nqhw,qc->nchw", f, centres)


def test_annealed_mean_checker_accepts_other_correct_forms(capsys):
    lesson.check_annealed_mean(col.annealed_mean)
    lesson.check_annealed_mean(lambda logits, centres, t: _weigh(torch.exp(
        logits.log_softmax(1) / t - torch.logsumexp(logits.log_softmax(1) / t, 1, keepdim=True)), centres))
    lesson.check_annealed_mean(lambda logits, centres, t: (
        (logits / t).softmax(1).permute(0, 2, 3, 1) @ centres.double().float()).permute(0, 3, 1, 2).double())
    assert capsys.readouterr().out.count("annealed mean: correct") == 3


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda logits, centres, t: _annealed_mean(logits, centres, 1.0), "temperature is left out",
                 id="temperature-ignored"),
    pytest.param(lambda logits, centres, t: _annealed_mean(logits * t, centres, 1.0), "temperature is multiplied",
                 id="temperature-multiplied"),
    pytest.param(lambda logits, centres, t: _weigh((logits / t).softmax(-1), centres), "wrong axis.*last axis",
                 id="softmax-over-the-last-axis"),
    pytest.param(lambda logits, centres, t: _weigh((logits / t).softmax(0), centres), "wrong axis.*dim 0",
                 id="softmax-over-the-batch"),
    pytest.param(lambda logits, centres, t: _weigh((logits / t).log_softmax(1), centres), "log-probabilities",
                 id="log-probabilities"),
    pytest.param(_mode, "that is the mode", id="the-mode-not-the-mean"),
    pytest.param(lambda logits, centres, t: _weigh(logits.softmax(1) ** (1 / t), centres), "not normalised again",
                 id="not-renormalised"),
    pytest.param(lambda logits, centres, t: _weigh((logits.softmax(1) / t).softmax(1), centres),
                 "divides the probabilities", id="temperature-on-the-probabilities"),
    pytest.param(lambda logits, centres, t: _weigh(torch.exp(logits.log() / t) / torch.exp(logits.log() / t).sum(
        1, keepdim=True), centres), "nan or inf.*logits are not probabilities", id="logits-as-probabilities"),
    pytest.param(_literal, r"at T = 0.01, .* nan or inf at [1-9] of 9 pixels.*underflow.*log space",
                 id="unstable-at-a-small-temperature"),
    pytest.param(lambda logits, centres, t: (lambda z: _weigh(z / z.sum(1, keepdim=True), centres))(
        logits.softmax(1) ** (1 / t)), "underflow.*log space", id="unstable-power-at-a-small-temperature"),
    pytest.param(lambda logits, centres, t: logits, r"shape \(2, 3, 4, 4\).*one map per bin", id="the-logits-back"),
    pytest.param(lambda logits, centres, t: torch.einsum("nqhw,qc->nhwc", (logits / t).softmax(1), centres),
                 "ab channels go in dim 1", id="channels-last"),
    pytest.param(lambda logits, centres, t: col.annealed_mean(logits.detach(), centres, t), "no gradient",
                 id="detached"),
    pytest.param(lambda logits, centres, t: col.annealed_mean(logits, centres, t).detach().numpy(),
                 "return a torch tensor", id="numpy"),
    pytest.param(lambda logits, centres, t: _weigh((logits / t).softmax(1), centres[:3]), "raised RuntimeError",
                 id="three-bins-written-in"),
])
def test_annealed_mean_checker_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_annealed_mean(wrong)
    assert not any(code in str(rejected.value) for code in ("log_softmax", "logsumexp", "amax")), rejected.value


def test_your_decoding_colours_the_photos_at_every_temperature(photos, space, capsys):
    model = col.Colorizer(lesson.initial_backbone(TINY, 0), space.q, image_size=16)
    calls = []

    def decode(logits, centres, t):
        calls.append(t)
        return col.annealed_mean(logits, centres, t)

    coloured = lesson.decode_with(decode, model, photos, space, batch_size=10)
    assert calls == [*lesson.TEMPERATURES] * 2 and all(c.shape == photos.shape for c in coloured.values())
    expected = lesson.colorize({"m": model}, "m", photos, space, temperature=lesson.TEMPERATURES[1])
    assert torch.allclose(coloured[lesson.TEMPERATURES[1]], expected, atol=1e-5)
    fig = lesson.show_your_decoding(col.annealed_mean, model, photos, space, shown=3)
    assert capsys.readouterr().out.startswith("decoded by this annealed mean, 16 test photos: colourfulness M = ")
    m = col.colourfulness(coloured[1.0]).mean()
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()][:3] == ["ground truth", "input X_L",
                                                                           f"T = 1 (M = {m:.1f})"]


def test_image_rows_draws_one_named_row_per_entry():
    from course_lib import show

    fig = show.image_rows({"colour": torch.rand(3, 3, 8, 8), "grey": torch.rand(3, 1, 8, 8)})
    assert len(fig.axes) == 6 and fig.axes[3].get_ylabel() == "grey"


def test_every_training_run_of_the_notebook_has_its_own_name(photos, space, run_names):
    lesson.train_all(photos, space, TINY, progress=False)
    assert len(run_names) == len(set(run_names)) == len(lesson.METHODS)
