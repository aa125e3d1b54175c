import dataclasses

import matplotlib
import pytest
import random_stream
import torch

from course_lib import checks, config, evaluate, nets, show, train
from course_lib.lessons import split_brain as lesson
from course_lib.pretext import colorization as col
from course_lib.pretext import split_brain as sb

matplotlib.use("Agg")

TINY = dataclasses.replace(lesson.SIZES["ci"], network_width=4, steps=1, batch_size=6)


@pytest.fixture(scope="module")
def lab():
    torch.manual_seed(0)
    return sb.scaled_lab(torch.rand(12, 3, 16, 16))


@pytest.fixture(scope="module")
def experiment(lab):
    """Every network trained for one step on 12 random photos: (trained backbones, histories)."""
    return lesson.train_all(lab, torch.arange(12) % 3, col.ab_gamut(), TINY, progress=False)


def test_sizes_give_every_profile_the_shared_fields_and_halves_of_equal_width():
    assert set(lesson.SIZES) == set(config.PROFILE_NAMES)
    for name, sizes in lesson.SIZES.items():
        assert sizes.name == name and sizes.batch_size == config.PROFILES[name].batch_size
        assert sizes.network_width % 2 == 0  # two halves of exactly half the width, side by side
        assert sizes.probe_labels % 10 == 0  # a tenth of them per class
    assert lesson.SIZES["ci"].steps < lesson.SIZES["lab"].steps < lesson.SIZES["full"].steps


def test_scaled_lab_puts_black_and_white_at_minus_one_and_one_and_greys_at_no_colour(lab):
    assert lab.shape == (12, 3, 16, 16)
    greys = sb.scaled_lab(torch.tensor([0.0, 0.5, 1.0]).view(1, 1, 1, 3).expand(1, 3, 1, 3))  # black, grey, white
    assert greys[0, 0, 0].tolist() == pytest.approx([-1.0, 53.39 / 50 - 1, 1.0], abs=1e-3)  # L / 50 - 1
    assert greys[0, 1:].abs().max() < 1e-4  # a = b = 0
    red = sb.scaled_lab(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))[0, :, 0, 0]
    assert red[1] > 0.5 and red[2] > 0.5  # red: far towards +a (red) and +b (yellow), a / 110 and b / 110


def test_lightness_bins_cover_zero_to_hundred():
    bins = sb.lightness_bins(torch.tensor([0.0, 1.9, 2.0, 99.9, 100.0]))
    assert bins.tolist() == [0, 0, 1, sb.L_BINS - 1, sb.L_BINS - 1]


def test_a_cross_channel_network_reads_only_its_input_channels(lab):
    model = sb.CrossChannel("ab_l", nets.Backbone(2, 4), sb.L_BINS, image_size=16)
    changed = lab.clone()
    changed[:, 0] = torch.rand_like(changed[:, 0])  # another L: ab -> L must not see it
    model.eval()
    assert torch.equal(model(lab), model(changed))
    assert model(lab).shape == (12, sb.L_BINS, 4, 4)
    with pytest.raises(ValueError, match="unknown task"):
        sb.CrossChannel("l_l", nets.Backbone(1, 4), 1)


@pytest.mark.parametrize("task, loss, outputs", [("l_ab", "cl", None), ("l_ab", "reg", 2), ("ab_l", "cl", sb.L_BINS),
                                                 ("ab_l", "reg", 1), ("lab_lab", "reg", 3)])
def test_every_task_and_loss_gives_a_finite_differentiable_loss(lab, task, loss, outputs):
    centres = col.ab_gamut()
    reads = sb.SPLITS[task][0]
    in_ch = reads.stop - reads.start
    model = sb.CrossChannel(task, nets.Backbone(in_ch, 4), outputs or len(centres), image_size=16)
    value = sb.cross_channel_loss(model, (lab,), loss, centres)
    value.backward()
    assert torch.isfinite(value) and value > 0
    assert model.backbone.stages["conv1"][0].weight.grad is not None


def test_split_brain_features_are_the_halves_side_by_side(lab):
    first, second = nets.Backbone(1, 2), nets.Backbone(2, 2)
    whole = sb.SplitBrain(first, second).eval()
    features = whole.features(lab, ("conv1", "conv5"))
    with torch.no_grad():
        assert torch.equal(features["conv1"], torch.cat([first(lab[:, :1], "conv1"), second(lab[:, 1:], "conv1")], 1))
    assert whole.channels == {s: 2 * c for s, c in first.channels.items()}
    assert torch.equal(whole(lab, "conv5"), features["conv5"])
    pooled = evaluate.stage_features(whole, lab)  # the shared protocol takes it like a backbone
    assert pooled["conv3"].shape[0] == 12
    with pytest.raises(ValueError, match="same widths"):
        sb.SplitBrain(nets.Backbone(1, 2), nets.Backbone(2, 4))


def test_ensembled_l_to_ab_is_two_lightness_networks_side_by_side(lab):
    first, second = nets.Backbone(1, 2), nets.Backbone(1, 2)
    whole = sb.EnsembledLToAb(first, second).eval()
    with torch.no_grad():
        want = torch.cat([first(lab[:, :1], "conv2"), second(lab[:, :1], "conv2")], 1)
        assert torch.equal(whole(lab, "conv2"), want)  # both read L, never ab
    assert whole.channels == sb.SplitBrain(first, nets.Backbone(2, 2)).channels  # split-brain's width


def test_the_ensembles_second_network_is_trained_from_its_own_initial_weights(experiment):
    trained, _ = experiment
    first, second = trained["L→ab (cl), half"], trained[lesson.SECOND_L_AB]
    assert first.channels == second.channels
    assert not torch.equal(first.stages["conv1"][0].weight, second.stages["conv1"][0].weight)


def test_the_experiment_trains_every_network_and_records_every_cell(lab, experiment):
    trained, histories = experiment
    labels = torch.arange(12) % 3
    assert set(trained) == set(lesson.NETWORKS) and all(h.step for h in histories.values())
    assert trained["L→ab (cl), half"].channels["conv1"] == 2 and trained["Lab→Lab autoencoder"].channels["conv1"] == 4
    assert not any(b.training for b in trained.values())  # frozen feature extractors from here on
    rows = lesson.backbones(trained, TINY)
    assert list(rows) == list(lesson.KEYS)
    scores = lesson.probe_rows({k: rows[k] for k in ("random init", "split-brain (cl,cl)")}, (lab, labels),
                               (lab[:3], labels[:3]), (lab[3:], labels[3:]), per_class=2, draws=2)
    assert all(list(s.test) == list(nets.STAGES) and s.best.draws == 2 for s in scores.values())
    table = evaluate.layer_table(scores)
    assert list(table.columns[:5]) == list(nets.STAGES) and table[evaluate.BEST_LAYER].isin(nets.STAGES).all()
    keys = ("random", "split_brain_cl")
    assert set(lesson.metrics(scores)) == ({f"probe_{k}_{s}" for k in keys for s in nets.STAGES}
                                           | {f"probe_{k}_best{end}" for k in keys for end in ("", "_std")}
                                           | {"probe_random_recalibrated"})  # which read of random init was kept
    assert scores["random init"].read in (evaluate.AS_INITIALISED, evaluate.RECALIBRATED)


def test_every_network_starts_where_the_random_init_row_is():
    """Same seed, same shape: the random-init row is the trained full-width networks' starting point."""
    start = nets.random_backbone(3, TINY.network_width, seed=3)
    random_row = lesson.backbones({name: start for name in lesson.NETWORKS}, TINY, seed=3)[lesson.RANDOM]
    assert torch.equal(random_row.backbone.stages["conv1"][0].weight, start.stages["conv1"][0].weight)
    assert not random_row.backbone.training


def test_probe_table_reads_a_class_that_the_lightness_gives_away():
    """Three classes of flat photos, told apart by their lightness: random features must find them."""
    labels = torch.arange(30) % 3
    rgb = (0.15 + 0.35 * labels.float()).view(-1, 1, 1, 1).expand(-1, 3, 16, 16)
    lab = sb.scaled_lab(rgb + 0.02 * torch.rand(30, 3, 16, 16, generator=torch.Generator().manual_seed(0)))
    rows = {lesson.RANDOM: sb.InputChannels(nets.random_backbone(3, 4, seed=0), slice(0, 3))}
    scores = lesson.probe_rows(rows, (lab[:15], labels[:15]), (lab[15:21], labels[15:21]), (lab[21:], labels[21:]),
                               per_class=3, draws=2)
    assert scores[lesson.RANDOM].best >= 90  # chance is 33 %


def _scores(means, std=1.0, val=None):
    """LayerScores with these test means (conv1 ... conv5), all with this std, and validation scores (default: the
    means, so the best layer is the highest)."""
    test = {s: evaluate.Spread(m, std, 3) for s, m in zip(nets.STAGES, means, strict=True)}
    return evaluate.LayerScores(test, dict(zip(nets.STAGES, val or means, strict=True)))


def test_head_to_head_names_the_winner_only_outside_the_spread():
    scores = {"a": _scores([50, 50, 50, 50, 50]), "b": _scores([45, 49, 50, 51, 56]), "c": _scores([40] * 5, std=0)}
    table = lesson.head_to_head(scores, [("a", "b"), ("a", "c")])
    assert list(table.index) == ["a vs b", "a vs c"] and list(table.columns) == list(nets.STAGES)
    assert table.loc["a vs b"].tolist() == ["+5.0 a", "+1.0 no difference", "+0.0 no difference",
                                            "-1.0 no difference", "-6.0 b"]
    assert (table.loc["a vs c"] == "+10.0 a").all()
    assert lesson.wins(scores, "a", "b", "conv1") and not lesson.wins(scores, "a", "b", "conv2")
    assert lesson.wins(scores, "b", "a", "conv5")


def test_metrics_record_the_validation_chosen_layer():
    scores = {lesson.RANDOM: _scores([40, 45, 44, 43, 42], val=[40, 41, 48, 43, 42])}  # val picks conv3
    found = lesson.metrics(scores)
    assert found["probe_random_best"] == 44.0 and found["probe_random_best_std"] == 1.0
    assert found["probe_random_conv2"] == 45.0  # the test maximum, which validation did not choose


def test_every_ordering_compares_recorded_metrics():
    metrics = lesson.metrics({name: _scores([40, 45, 44, 43, 42]) for name in lesson.KEYS})
    statements = [ordering.statement for ordering in lesson.ORDERINGS]
    assert len(set(statements)) == len(statements)  # the rows of the seeds table
    for ordering in lesson.ORDERINGS:
        assert isinstance(ordering.gap(metrics), float), ordering.statement  # raises KeyError on an unrecorded name


def test_capped_names_the_networks_stopped_by_their_time_budget(experiment):
    from course_lib import train

    assert lesson.capped(experiment[1]) == []
    assert lesson.capped({"x": train.History(stopped_by="time budget (8 s) reached after 3 steps")}) == ["x"]


def test_training_curves_get_one_panel_per_network(experiment):
    fig = show.training(experiment[1], separate=True)
    drawn = [ax for ax in fig.axes if ax.lines]
    assert [ax.get_title() for ax in drawn] == list(lesson.NETWORKS) and len(drawn) == 9


def test_pictures_show_the_task_and_the_table_beside_the_paper(lab):
    fig = lesson.show_task(torch.rand(4, 3, 16, 16))
    assert len(fig.axes) == 3 * 4 and all(len(ax.images) == 1 for ax in fig.axes)
    assert [fig.axes[4 * r].get_ylabel() for r in range(3)] == ["photo X", "X_1 = L", "X_2 = ab"]
    ours = {name: _scores([40.0 + i for i in range(5)]) for name in lesson.KEYS}
    paper = lesson.paper_table()
    fig = lesson.plot_layers(ours, paper)
    left, right = fig.axes
    assert left.get_title().startswith("ours") and right.get_title().startswith("paper")
    curves = [c for c in left.containers]  # one error-bar plot per row of ours
    assert [c.get_label() for c in curves] == list(lesson.KEYS) and len(right.lines) == len(lesson.PAPER_ROWS)
    assert list(curves[0].lines[0].get_ydata()) == [40.0, 41.0, 42.0, 43.0, 44.0]
    colour = {c.get_label(): c.lines[0].get_color() for c in curves}
    assert all(line.get_color() == colour[lesson.PAPER_ROWS[line.get_label()]] for line in right.lines)
    rings = [line for line in left.lines if len(line.get_xdata()) == 1]
    assert len(rings) == len(lesson.KEYS) and float(rings[0].get_ydata()[0]) == 44.0  # best on validation: conv5


def test_paper_table_has_every_quoted_row_at_every_layer_beside_ours():
    table = lesson.paper_table()
    assert list(table.columns) == ["ours", *nets.STAGES] and len(table) == len(lesson.PAPER_ROWS)
    assert set(table["ours"]) <= set(lesson.KEYS)
    assert table.loc["Split-Brain Auto (cl,cl)", "conv3"] == 35.4 and table.loc["Gaussian", "conv3"] == 16.9
    assert table.loc["Ensembled L→ab"].tolist()[1:] == [11.7, 23.7, 30.9, 32.2, 31.3]  # the slide's numbers


def test_places_table_keeps_only_the_rows_it_has():
    table = lesson.paper_table("Places")
    assert "Ensembled L→ab" not in table.index and table.loc["Split-Brain Auto (cl,cl)", "conv1"] == 21.3


# --- the exercise checker: an answer written here, and the mistakes students make ------------------------------


def _concatenation(first, second):
    """An answer written for this test: an empty map with room for both, filled channel block by channel block."""
    n, c1, h, w = first.shape
    out = first.new_empty(n, c1 + second.shape[1], h, w)
    out[:, :c1], out[:, c1:] = first, second
    return out


@pytest.mark.parametrize("right", [
    pytest.param(_concatenation, id="written-here"),
    pytest.param(lambda a, b: torch.cat([a, b], dim=1), id="cat"),
    pytest.param(lambda a, b: torch.cat((a, b), -3), id="cat-counting-from-the-end"),
    pytest.param(lambda a, b: torch.stack([a, b], 1).flatten(1, 2), id="stacked-then-flattened"),
])
def test_concatenation_checker_accepts_answers_written_here(right, capsys):
    lesson.check_concatenation(right)
    assert "split-brain features: correct" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda a, b: torch.cat([b, a], 1), "the halves are in the wrong order", id="second-half-first"),
    pytest.param(lambda a, b: torch.cat([a, b], 0), r"returned shape \(4, 8, 4, 4\).*along the batch axis",
                 id="along-the-batch"),
    pytest.param(lambda a, b: torch.cat([a, b], -1), "along the width", id="along-the-width"),
    pytest.param(lambda a, b: a + b, "one half's number of channels: adding", id="added-not-concatenated"),
    pytest.param(lambda a, b: torch.stack([a, b], 1), "stacked the halves on a new axis", id="stacked-on-a-new-axis"),
    pytest.param(lambda a, b: torch.stack([a, b], 2).flatten(1, 2), "interleaved", id="channels-interleaved"),
    pytest.param(lambda a, b: [a, b], "you returned a list", id="a-list-of-the-halves"),
    pytest.param(lambda a, b: torch.cat([a, b.transpose(1, 2)], 1), "your function raised RuntimeError",
                 id="axes-mixed-up-raises"),
])
def test_concatenation_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_concatenation(wrong)
    message = str(rejected.value)
    assert not any(code in message for code in ("dim=1", "dim 1", "torch.cat")), message
    assert "expected shape (2, 16, 4, 4), got (2, 16, 4, 4)" not in message


def test_quoted_table_numbers_are_marked_as_not_checked():
    from course_lib import papers

    table = papers.side_by_side("zhang2017", {"ours": (None, 1.0),
                                               "paper": ("ImageNet, Split-Brain Auto (cl,cl), conv3", None)})
    assert table.loc["paper", "paper"] == 35.4 and table.loc["paper", "note"] == "as on the lecture slide"
    assert all(not r.checked for r in papers.REPORTED if r.paper == "zhang2017")


def test_the_checker_leaves_the_notebooks_random_stream_alone():
    with random_stream.left_alone():
        lesson.check_concatenation(_concatenation)


def test_every_training_run_of_the_notebook_has_its_own_name(lab, run_names):
    lesson.train_all(lab, torch.arange(12) % 3, col.ab_gamut(), TINY, progress=False)
    assert len(run_names) == len(set(run_names)) == len(lesson.NETWORKS)


# --- the main exercise: the split-brain loss, its checker and its short run -------------------------------------


def _bins_of(lightness):
    """L in [0, 100] -> bins of 2, counted from each bin's lower edge: written here, not the library's."""
    return torch.div(lightness, 100 / sb.L_BINS, rounding_mode="floor").long().clamp(0, sb.L_BINS - 1)


def _split_brain_loss(l_to_ab, ab_to_l, lab, centres):
    """An answer written for this test: channels split by ``split``, the scaling undone before the blocks are
    averaged (by area interpolation), the two losses stacked and summed."""
    lightness, ab = lab.split([1, 2], dim=1)
    h, w = lab.shape[-2] // col.OUTPUT_STRIDE, lab.shape[-1] // col.OUTPUT_STRIDE
    ab_target = torch.nn.functional.interpolate(ab * col.AB_SCALE, size=(h, w), mode="area")
    l_target = torch.nn.functional.interpolate((lightness + 1) * col.L_SCALE, size=(h, w), mode="area")
    ab_loss = col.soft_cross_entropy(l_to_ab(lightness), ab_target, centres)[0]
    l_loss = torch.nn.functional.cross_entropy(ab_to_l(ab), _bins_of(l_target.squeeze(1)))
    return torch.stack([ab_loss, l_loss]).sum()


def _one_term(lab, centres, half, reads, target):
    """One half's loss as students write it: ``reads`` its input channels, ``target`` the loss of its scores."""
    return target(half(reads(lab)), lab, centres)


def _right_ab(scores, lab, centres, scale=col.AB_SCALE, pool=None):
    ab = (pool or (lambda x: torch.nn.functional.avg_pool2d(x, 4)))(lab[:, 1:]) * scale
    return col.soft_cross_entropy(scores, ab, centres)[0]


def _right_l(scores, lab, centres, bins=None):
    lightness = (torch.nn.functional.avg_pool2d(lab[:, :1], 4)[:, 0] + 1) * col.L_SCALE
    return torch.nn.functional.cross_entropy(scores, (bins or _bins_of)(lightness))


def _with(ab_term=None, l_term=None, ab_reads=lambda lab: lab[:, :1], l_reads=lambda lab: lab[:, 1:]):
    """A split-brain loss with one part replaced by a mistake (None: leave that half out)."""
    def loss(l_to_ab, ab_to_l, lab, centres):
        terms = []
        if ab_term is not False:
            terms.append(_one_term(lab, centres, l_to_ab, ab_reads, ab_term or _right_ab))
        if l_term is not False:
            terms.append(_one_term(lab, centres, ab_to_l, l_reads, l_term or _right_l))
        return sum(terms)
    return loss


def _sampled(x):
    return x[:, :, ::4, ::4]


@pytest.mark.parametrize("right", [
    pytest.param(sb.split_brain_loss, id="the-course's"),
    pytest.param(_split_brain_loss, id="written-here"),
    pytest.param(_with(), id="term-by-term"),
    pytest.param(lambda *args: _split_brain_loss(*args).reshape(1), id="one-element-tensor"),
])
def test_split_brain_loss_checker_accepts_answers_written_here(right, capsys):
    lesson.check_split_brain_loss(right)
    assert "split-brain loss: correct" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(_with(l_term=False), "ab → L half gets no gradient.*only one direction", id="one-direction-only"),
    pytest.param(_with(ab_term=False), "L → ab half gets no gradient", id="the-other-direction-only"),
    pytest.param(_with(ab_term=lambda s, lab, c: _right_l(s, lab, c)), "asked for the lightness it reads",
                 id="halves-swapped-L-predicts-L"),
    pytest.param(lambda a, b, lab, c: _split_brain_loss(b, a, lab, c), "error about channels",
                 id="halves-swapped-raises"),
    pytest.param(_with(l_reads=lambda lab: lab[:, :2]), "ab → L half reads the lightness too",
                 id="wrong-slice-for-the-colour"),
    pytest.param(_with(ab_reads=lambda lab: lab[:, 2:]), "L → ab half reads a colour channel",
                 id="wrong-slice-for-the-lightness"),
    pytest.param(_with(ab_reads=lambda lab: lab[..., :1]), "raised RuntimeError.*error about channels",
                 id="wrong-axis"),
    pytest.param(_with(l_term=lambda s, lab, c: torch.nn.functional.cross_entropy(
        s, sb.lightness_bins(torch.nn.functional.avg_pool2d(lab[:, :1], 4)[:, 0]))),
        "binned in the network's scale", id="L-quantised-before-unscaling"),
    pytest.param(_with(l_term=lambda s, lab, c: _right_l(
        s, lab, c, bins=lambda x: (x / 2).round().long().clamp(0, sb.L_BINS - 1))), "rounded to the nearest bin",
        id="L-bins-rounded"),
    pytest.param(_with(ab_term=lambda s, lab, c: _right_ab(s, lab, c, scale=1.0)), "ab bins are in Lab units",
                 id="ab-not-unscaled"),
    pytest.param(_with(ab_term=lambda s, lab, c: torch.nn.functional.cross_entropy(
        s, col.nearest_bin(torch.nn.functional.avg_pool2d(lab[:, 1:], 4) * col.AB_SCALE, c))), "hard labels",
        id="ab-hard-labels"),
    pytest.param(_with(ab_term=lambda s, lab, c: _right_ab(s, lab, c, pool=_sampled)), "one pixel of each block",
                 id="ab-target-sampled"),
    pytest.param(_with(l_term=lambda s, lab, c: torch.nn.functional.cross_entropy(
        s, sb.lightness_bins((lab[:, 0] + 1) * col.L_SCALE))), "raised RuntimeError.*about sizes or targets",
        id="L-target-at-full-size"),
    pytest.param(_with(l_term=lambda s, lab, c: _right_l(s, lab, c, bins=lambda x: sb.lightness_bins(x, 100))),
                 "out of bounds.*not bin numbers", id="L-in-100-bins"),
    pytest.param(lambda *args: _split_brain_loss(*args) / 2, "averaged the two halves", id="halves-averaged"),
    pytest.param(lambda *args: _split_brain_loss(*args).detach(), "carries no gradient", id="detached"),
    pytest.param(lambda *args: _split_brain_loss(*args).item(), "carries no gradient", id="item"),
    pytest.param(_with(l_term=lambda s, lab, c: _right_l(s.detach(), lab, c)), "ab → L half gets no gradient",
                 id="one-half-detached"),
    pytest.param(lambda a, b, lab, c: (_with(ab_term=False)(a, b, lab, c), _with(l_term=False)(a, b, lab, c)),
                 "returned a tuple, not a tensor", id="two-numbers"),
    pytest.param(lambda a, b, lab, c: _split_brain_loss(a, b, lab[:3, :, :16, :16], c), "written into it",
                 id="size-written-in"),
])
def test_split_brain_loss_checker_rejects_a_typical_mistake_without_giving_the_answer(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_split_brain_loss(wrong)
    message = str(rejected.value)
    assert not any(code in message for code in ("avg_pool", "[:, :1]", "[:, 1:]", "* 110", "+ 1) *")), message


def test_split_brain_loss_checker_tries_several_sizes_and_halves_of_different_widths():
    assert len({case[:2] for case in lesson.LOSS_CASES}) == len(lesson.LOSS_CASES) >= 3
    assert len({case[-1] for case in lesson.LOSS_CASES}) == len(lesson.LOSS_CASES)  # a seed each
    assert any(case[2] != case[3] for case in lesson.LOSS_CASES)
    assert all(n > 2 for n, *_ in lesson.LOSS_CASES)  # not one image, nor as many images as channels


def test_split_brain_loss_checker_leaves_the_random_stream_alone():
    with random_stream.left_alone():
        lesson.check_split_brain_loss(sb.split_brain_loss)


def test_a_students_split_brain_loss_trains_both_halves_in_the_short_run(lab, monkeypatch):
    monkeypatch.setitem(lesson.YOUR_RUN_STEPS, "ci", 4)  # a few steps say which loss trains; the test stays short
    calls = []

    def counted(l_to_ab, ab_to_l, images, centres):
        calls.append((l_to_ab.backbone.channels["conv1"], ab_to_l.backbone.channels["conv1"], len(images)))
        return sb.split_brain_loss(l_to_ab, ab_to_l, images, centres)

    sizes = dataclasses.replace(TINY, name="ci", seconds=600)  # every step, however busy the machine
    centres = col.ab_gamut()
    history = lesson.train_with_your_loss(counted, lab, centres, sizes)
    assert len(calls) == lesson.YOUR_RUN_STEPS["ci"] and calls[0] == (2, 2, sizes.batch_size)  # half of width 4
    assert all(0 <= history.last(key) <= 1 for key in ("acc_ab", "acc_l"))


def test_the_short_run_is_shown_against_both_chance_levels(lab, capsys):
    history = train.History(stopped_by="3 steps")
    for step, (ab, lightness) in enumerate([(0.1, 0.03), (0.2, 0.04)], 1):
        history.log(step, 0.1, {"loss": 9.0, "acc_ab": ab, "acc_l": lightness})
    centres = col.ab_gamut()
    fig = lesson.show_your_run(history, lab, centres)
    said = capsys.readouterr().out.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("after 2 steps: L → ab") and "20.0%" in said[0]
    assert f"chance {1 / len(centres):.1%}" in said[0] and f"chance {1 / sb.L_BINS:.1%}" in said[0]
    assert [ax.get_title() for ax in fig.axes] == ["L → ab: the colour's bin", "ab → L: the lightness's bin"]
    assert all(len(ax.lines) == 3 for ax in fig.axes)  # the run, chance, the commonest bin


def test_the_commonest_bin_of_flat_grey_images_is_always_right():
    grey = sb.scaled_lab(torch.full((4, 3, 8, 8), 0.5))
    assert lesson.commonest_bin(grey, col.ab_gamut()) == {"acc_ab": 1.0, "acc_l": 1.0}
