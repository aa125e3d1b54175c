import dataclasses
import functools
import math

import pytest
import random_stream
import torch
import torch.nn.functional as F

from course_lib import checks, config, evaluate, nets
from course_lib.lessons import autoencoders as lesson
from course_lib.pretext.autoencoder import mask_noise, reconstruction_loss

TINY = dataclasses.replace(lesson.SIZES["ci"], width=4, steps=3, batch=8, max_seconds=60)
PLAIN, MASKED, MOVED = lesson.RECIPES


def _labelled(rectangles, n=40, seed=0):
    """Rectangles labelled by whether they are wider than tall: two classes a probe can learn."""
    torch.manual_seed(seed)
    x = rectangles(n)
    y = ((x.sum(2) > 0).sum(-1) > (x.sum(3) > 0).sum(-1)).long().flatten()
    return x, y


def test_sizes_of_every_profile():
    assert set(lesson.SIZES) == set(config.PROFILE_NAMES)
    for name, sizes in lesson.SIZES.items():
        assert sizes.name == name and sizes.width == config.PROFILES[name].width
        assert sizes.latent_points <= sizes.n_test and sizes.train_images >= 100  # 100 labelled images drawn from them
    assert lesson.SIZES["ci"].steps < lesson.SIZES["lab"].steps < lesson.SIZES["full"].steps


def test_recipes_corrupt_as_they_say():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 28, 28) + 0.1
    assert torch.equal(PLAIN.corrupt(x, 0.25), x)
    assert ((MASKED.corrupt(x, 0.25) == 0).flatten(1).sum(1) == 196).all()
    moved = MOVED.corrupt(x, 0.25)
    assert moved.shape == x.shape and not torch.equal(moved, x)
    assert (moved == 0).flatten(1).sum(1).max() < 196  # moved only: no masking noise on top


def test_loss_targets_the_clean_image():
    torch.manual_seed(0)
    x = (torch.rand(4, 1, 8, 8) > 0.5).float()

    class Copy(torch.nn.Module):
        def logits(self, images):
            return (2 * images - 1) * 20  # outputs its input

    def loss(recipe):
        return reconstruction_loss(Copy(), (x,), corrupt=functools.partial(recipe.corrupt, noise=0.25))

    (clean, values), (masked, _) = loss(PLAIN), loss(MASKED)
    assert clean < 1e-6 < masked and values["mse"] < 1e-6


def test_every_recipe_starts_from_the_random_init_baseline(rectangles):
    x = rectangles(16)
    untrained, history = lesson.train_recipe(MASKED, x, dataclasses.replace(TINY, steps=0), seed=3,
                                             progress=False)
    baseline = lesson.initial_backbone(TINY, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(untrained.backbone.state_dict().values(),
                                                 baseline.state_dict().values(), strict=True))
    model, history = lesson.train_recipe(MOVED, x, TINY, seed=3, progress=False)
    assert history.stopped_by == "3 steps" and not model.training
    assert not torch.equal(model.backbone.stages["conv1"][0].weight, baseline.stages["conv1"][0].weight)


def test_noise_is_the_masked_recipes_nu(rectangles):
    x = rectangles(16)

    def losses(recipe, **options):
        return lesson.train_recipe(recipe, x, TINY, seed=1, progress=False, **options)[1]["loss"]

    assert losses(MASKED, noise=0.0) == losses(PLAIN)  # nothing masked: the plain autoencoder, step by step
    assert losses(MASKED, noise=0.5) != losses(MASKED)  # the default is NOISE, and nu changes what is trained


def test_train_all_trains_one_model_per_recipe(rectangles):
    models, histories = lesson.train_all(rectangles(16), TINY, progress=False)
    assert list(models) == list(histories) == [r.name for r in lesson.RECIPES]
    fig = lesson.show_training(histories)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == [r.name for r in lesson.RECIPES]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "MSE to the clean image"
    assert list(ax.lines[0].get_ydata()) == histories[PLAIN.name]["mse"]


def test_layer_features_are_every_stage_and_the_bottleneck():
    backbone = nets.Backbone(1, width=4).eval()
    x = torch.rand(7, 1, 28, 28)
    features = lesson.layer_features(backbone, x)
    assert list(features) == list(lesson.LAYERS[1:])
    assert torch.allclose(features["bottleneck"], evaluate.embed(backbone.embed, x), atol=1e-6)


def _splits(x, y):
    """(labelled pool, validation, test) of 60 labelled images: 30, 10 and 20."""
    return (x[:30], y[:30]), (x[30:40], y[30:40]), (x[40:], y[40:])


def test_probe_all_gives_every_layer_with_its_spread_and_a_validation_choice(rectangles):
    x, y = _labelled(rectangles, n=60)
    backbones = {lesson.RANDOM: nets.Backbone(1, width=4), "other": nets.Backbone(1, width=4)}
    scores = lesson.probe_all(backbones, *_splits(x, y), per_class=4, draws=2)
    assert list(scores) == [lesson.RANDOM, "other"]
    for s in scores.values():
        assert list(s.test) == list(s.val) == list(lesson.LAYERS)
        assert all(v.draws == 2 for v in s.test.values())
        assert s.best_layer == max(s.val, key=s.val.get)  # chosen on validation, not on the test set
    assert float(scores["other"].test["pixels"]) == float(scores[lesson.RANDOM].test["pixels"])  # same pixels
    table = lesson.show_table(scores)
    assert list(table.columns) == [*lesson.LAYERS, evaluate.BEST_LAYER, evaluate.PROBE_C_COLUMN, evaluate.READ,
                                   evaluate.AT_BEST, evaluate.STD, evaluate.VAL_LABELS]
    assert all(s.best_C in evaluate.PROBE_CS for s in scores.values())  # the probe's C chosen on validation too
    assert scores[lesson.RANDOM].read in (evaluate.AS_INITIALISED, evaluate.RECALIBRATED)  # chosen on validation
    assert scores["other"].read == ""  # a trained network has one read


def test_draws_are_different_labelled_subsets(rectangles):
    x, y = _labelled(rectangles, n=60)
    backbones = {lesson.RANDOM: nets.Backbone(1, width=4)}
    one = lesson.probe_all(backbones, *_splits(x, y), per_class=2, draws=1)[lesson.RANDOM]
    three = lesson.probe_all(backbones, *_splits(x, y), per_class=2, draws=3)[lesson.RANDOM]
    assert one.test["pixels"].std == 0 and three.test["pixels"].draws == 3
    assert any(three.test[layer].std > 0 for layer in lesson.LAYERS)  # two labels per class: draws disagree


def test_plot_layers_draws_a_band_and_rings_the_chosen_layer(rectangles):
    x, y = _labelled(rectangles, n=60)
    backbones = {lesson.RANDOM: nets.Backbone(1, width=4), "other": nets.Backbone(1, width=4)}
    scores = lesson.probe_all(backbones, *_splits(x, y), per_class=4, draws=2)
    (ax,) = lesson.plot_layers(scores).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == list(lesson.LAYERS)
    curves = [line for line in ax.lines if len(line.get_xdata()) == len(lesson.LAYERS)]
    assert [line.get_label() for line in curves] == list(scores)
    assert curves[0].get_linestyle() == "--" and curves[1].get_linestyle() == "-"  # random init dashed
    rings = [line for line in ax.lines if len(line.get_xdata()) == 1]
    assert [lesson.LAYERS[int(r.get_xdata()[0])] for r in rings] == [s.best_layer for s in scores.values()]
    assert len(ax.collections) == 2  # one band per network


def test_probes_read_easy_classes_at_every_layer(rectangles):
    torch.manual_seed(0)
    y = torch.arange(60) % 2  # which half of the image the rectangle is in: every layer keeps where things are
    x = torch.zeros(60, 1, 28, 28)
    x[y == 0, :, 7:21, :14], x[y == 1, :, 7:21, 14:] = rectangles(30, 14), rectangles(30, 14)
    scores = lesson.probe_all({lesson.RANDOM: lesson.initial_backbone(TINY, seed=0)}, *_splits(x, y),
                              per_class=5, draws=2)
    assert all(v >= 90 for v in scores[lesson.RANDOM].test.values())  # a broken probe sits near 50 %


def test_metrics_are_named_for_the_results_file(rectangles):
    x, y = _labelled(rectangles, n=60)
    names = [lesson.RANDOM, *(r.name for r in lesson.RECIPES)]
    backbones = {name: nets.Backbone(1, width=4) for name in names}
    scores = lesson.probe_all(backbones, *_splits(x, y), per_class=4, draws=2)
    found = lesson.metrics(scores)
    for key in ("random", "autoencoder", "denoising_masked", "denoising_moved"):
        assert found[f"probe_100_{key}_best"] == float(scores[next(n for n in names if lesson.KEYS[n] == key)].best)
        assert f"probe_100_{key}_best_std" in found
    assert "probe_100_denoising_moved_conv3" in found and "probe_100_random_bottleneck" in found
    assert "probe_100_autoencoder_conv3" not in found
    assert found["probe_100_random_recalibrated"] == float(scores[lesson.RANDOM].read == evaluate.RECALIBRATED)
    assert all(0 <= v <= 100 for v in found.values())
    for ordering in lesson.PROBE_ORDERINGS:  # the seeds table reads only what is recorded
        assert isinstance(ordering.gap(found), float), ordering.statement  # a KeyError on a name not recorded


def test_orderings_are_the_probe_and_reconstruction_ones_each_stated_once():
    assert lesson.ORDERINGS == [*lesson.PROBE_ORDERINGS, *lesson.RECONSTRUCTION_ORDERINGS]
    statements = [ordering.statement for ordering in lesson.ORDERINGS]
    assert len(set(statements)) == len(statements)  # the rows of the seeds tables
    assert all(o.higher_is_better for o in lesson.PROBE_ORDERINGS)  # accuracies; the MSEs are errors


def test_capped_names_the_runs_stopped_by_their_time_budget():
    from course_lib import train

    done, stopped = train.History(), train.History()
    done.stopped_by, stopped.stopped_by = "3 steps", "time budget (1 s) reached after 2 steps"
    assert lesson.capped({"a": done, "b": stopped}) == ["b"]


def test_pictures_and_the_corruption_table(rectangles):
    x, y = _labelled(rectangles, n=12)
    models, _ = lesson.train_all(x, dataclasses.replace(TINY, steps=1), progress=False)
    errors = lesson.corruption_errors(models, x, levels=(0.0, 0.5))
    assert list(errors.columns) == ["masked 0", "masked 0.5", "moved"] and len(errors) == 3
    (ax,) = lesson.plot_hole_filling(errors, 0.25).axes
    assert [line.get_label() for line in ax.lines] == [*models, "nu of the masked-pixels training"]
    assert list(ax.lines[0].get_xdata()) == [0.0, 0.5]
    fig = lesson.show_reconstructions(models, x[:4], 0.25)
    assert len([ax for ax in fig.axes if ax.images]) == 7 * 4  # image, 2 x (corrupted, 2 outputs)
    backbones = {n: m.backbone for n, m in models.items()}
    three = torch.arange(len(x)) % 3  # LDA draws two directions: three classes at least
    fig = lesson.show_latent_space(backbones, x, y, labelled=(x, three))  # LDA fitted on the labelled images
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["pixels", *models]
    assert "LDA fitted on 12 labelled images" in fig.texts[0].get_text()
    with pytest.raises(ValueError, match="labelled"):
        lesson.show_latent_space(backbones, x, y)
    assert "PCA, no labels" in lesson.show_latent_space(backbones, x, y, method="pca").texts[0].get_text()
    demo = lesson.explorer(models[MOVED.name], x, n_directions=2)
    assert demo.update(first=1, second=2, mix=0.5, pc1=1.0).shape == (28, 28)


def test_pictures_do_not_disturb_the_random_stream(rectangles):
    x = rectangles(4)
    models, _ = lesson.train_all(x, dataclasses.replace(TINY, steps=0), progress=False)
    with random_stream.left_alone():
        lesson.show_reconstructions(models, x, 0.25)
        lesson.check_mask_noise(mask_noise)
        lesson.check_reconstruction_loss(F.binary_cross_entropy_with_logits)


def test_pictures_draw_the_same_corruptions_for_the_same_seed(rectangles):
    x = rectangles(4)
    fig_a, fig_b = lesson.show_task(x, 0.25, seed=2), lesson.show_task(x, 0.25, seed=2)
    rows = 4  # the target, and the input of each recipe
    assert len([ax for ax in fig_a.axes if ax.images]) == rows * len(x)
    assert [ax.get_ylabel() for ax in fig_a.axes if ax.get_ylabel()] == [
        "target: the image", "input, autoencoder", "input, masked (25%)", "input, moved"]
    assert all((a.images[0].get_array() == b.images[0].get_array()).all()
               for a, b in zip(fig_a.axes, fig_b.axes, strict=True))


def test_project_2d_knows_three_methods():
    features = torch.randn(40, 6)
    assert lesson.project_2d(features, "pca").shape == (40, 2)
    with pytest.raises(ValueError, match="pca"):
        lesson.project_2d(features, "umap")
    with pytest.raises(ValueError, match="fit"):
        lesson.project_2d(features, "lda")


def test_lda_takes_its_directions_from_the_labelled_images_only():
    torch.manual_seed(0)
    labels = torch.arange(60) % 3
    fit = torch.randn(60, 6) + 4.0 * F.one_hot(labels, 6)  # classes apart along 3 of 6 axes
    shown = torch.randn(30, 6) + 4.0 * F.one_hot(torch.arange(30) % 3, 6)
    xy = lesson.project_2d(shown, "lda", fit=(fit, labels))
    centres = torch.stack([torch.as_tensor(xy[torch.arange(30) % 3 == k]).mean(0) for k in range(3)])
    assert xy.shape == (30, 2) and torch.cdist(centres, centres).triu(1).max() > 3  # the classes fall apart


# --- the exercise checkers: an answer written here, and the mistakes students make -----------------------------


def _mask_noise(x, fraction):
    """An answer written for this test: for each image, zero the pixels at the first k places of a random order."""
    out = x.clone()
    k = round(fraction * x.shape[2] * x.shape[3])
    for image in out:
        for place in torch.randperm(x.shape[2] * x.shape[3])[:k].tolist():
            image[:, place // x.shape[3], place % x.shape[3]] = 0
    return out


def _reconstruction_loss(logits, clean):
    """An answer written for this test: -(x log z + (1 - x) log(1 - z)) with the logs taken of the logits."""
    return -(clean * F.logsigmoid(logits) + (1 - clean) * F.logsigmoid(-logits)).mean()


def test_checkers_accept_answers_written_here_with_one_line_each(capsys):
    lesson.check_mask_noise(_mask_noise)
    lesson.check_reconstruction_loss(_reconstruction_loss)
    assert capsys.readouterr().out.splitlines() == ["mask_noise: correct, well done.",
                                                    "reconstruction loss: correct, well done."]


def _masked(x, chosen):
    """x with the pixels ``chosen`` (N x k indices into H x W) set to 0 in every channel."""
    n, _, h, w = x.shape
    keep = torch.ones(n, h * w).scatter(1, chosen, 0.0).view(n, 1, h, w)
    return x * keep


def _k(x, fraction):
    return round(fraction * x.shape[2] * x.shape[3])


def _one_mask_for_the_batch(x, fraction):
    chosen = torch.rand(1, x.shape[2] * x.shape[3]).argsort(1)[:, :_k(x, fraction)]
    return _masked(x, chosen.expand(len(x), -1))


def _masked_pixels_set_to_the_mean(x, fraction):
    chosen = torch.rand(x.shape[0], x.shape[2] * x.shape[3]).argsort(1)[:, :_k(x, fraction)]
    return torch.where(_masked(torch.ones_like(x), chosen).bool(), x, x.mean())


def _count_truncated(x, fraction):
    k = int(fraction * x.shape[2] * x.shape[3])
    return _masked(x, torch.rand(x.shape[0], x.shape[2] * x.shape[3]).argsort(1)[:, :k])


def _count_rounded_up(x, fraction):
    k = math.ceil(fraction * x.shape[2] * x.shape[3])
    return _masked(x, torch.rand(x.shape[0], x.shape[2] * x.shape[3]).argsort(1)[:, :k])


def _with_replacement(x, fraction):
    return _masked(x, torch.randint(x.shape[2] * x.shape[3], (x.shape[0], _k(x, fraction))))


def _every_channel_on_its_own(x, fraction):
    n, c, h, w = x.shape
    chosen = torch.rand(n * c, h * w).argsort(1)[:, :_k(x, fraction)]
    return (x.reshape(n * c, 1, h, w) * torch.ones(n * c, h * w).scatter(1, chosen, 0.0).view(n * c, 1, h, w)
            ).view(n, c, h, w)


def _in_place(x, fraction):
    chosen = torch.rand(x.shape[0], x.shape[2] * x.shape[3]).argsort(1)[:, :_k(x, fraction)]
    x.mul_(_masked(torch.ones_like(x), chosen))
    return x


def _fixed_seed(x, fraction):
    generator = torch.Generator().manual_seed(0)
    chosen = torch.rand(x.shape[0], x.shape[2] * x.shape[3], generator=generator).argsort(1)[:, :_k(x, fraction)]
    return _masked(x, chosen)


def _square_28(x, fraction):
    chosen = torch.rand(x.shape[0], 784).argsort(1)[:, :round(fraction * 784)]
    return x * torch.ones(x.shape[0], 784).scatter(1, chosen, 0.0).view(x.shape[0], 1, 28, 28)


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(_one_mask_for_the_batch, "own random mask", id="one-mask-for-the-batch"),
    pytest.param(lambda x, fraction: x * (torch.rand(x.shape[0], 1, *x.shape[2:]) > fraction).float(),
                 "about that many, not exactly", id="about-the-fraction-not-exactly"),
    pytest.param(lambda x, fraction: F.dropout(x, fraction) if fraction > 0 else x, "dropout rescales",
                 id="dropout-rescales"),
    pytest.param(_masked_pixels_set_to_the_mean, "masked ones become 0", id="masked-to-the-mean-not-0"),
    pytest.param(_count_truncated, r"int\(\) always rounds down", id="int-not-round"),
    pytest.param(_count_rounded_up, "ceil", id="ceil-not-round"),
    pytest.param(_with_replacement, "with replacement", id="drawn-with-replacement"),
    pytest.param(_every_channel_on_its_own, "all its channels", id="channels-masked-apart"),
    pytest.param(lambda x, fraction: x * (torch.rand_like(x) > fraction).float(), "all its channels",
                 id="bernoulli-per-element"),
    pytest.param(_in_place, "in place: training reads that same tensor as the clean target", id="noise-on-the-target"),
    pytest.param(_fixed_seed, "two calls on the same images gave the same holes", id="seed-fixed-inside"),
    pytest.param(_square_28, "raised RuntimeError.*a size written into the function", id="size-written-in"),
    pytest.param(lambda x, fraction: _masked(x.double(), torch.zeros(len(x), 1, dtype=torch.long)),
                 "came back as torch.float64", id="dtype-changed"),
    pytest.param(lambda x, fraction: _masked(x, torch.rand(len(x), x.shape[2] * x.shape[3]).argsort(1)[:, :_k(
        x, fraction)]).numpy(), "return a torch tensor", id="numpy"),
])
def test_mask_noise_checker_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint):
        lesson.check_mask_noise(wrong)


def _naive(logits, clean):
    z = torch.sigmoid(logits)
    return -(clean * torch.log(z) + (1 - clean) * torch.log(1 - z)).mean()


def _with_epsilon(logits, clean):
    z = torch.sigmoid(logits)
    return -(clean * torch.log(z + 1e-7) + (1 - clean) * torch.log(1 - z + 1e-7)).mean()


def _detached_half(logits, clean):
    return -(clean * F.logsigmoid(logits) + (1 - clean) * F.logsigmoid(-logits.detach())).mean()


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda logits, clean: F.mse_loss(torch.sigmoid(logits), clean), "squared error",
                 id="squared-error"),
    pytest.param(_naive, "not finite", id="log-of-the-probabilities"),
    pytest.param(_with_epsilon, r"logits of \+-30 .*from the logits", id="log-of-the-probabilities-plus-epsilon"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy(torch.sigmoid(logits), clean),
                 "logs are taken of the probabilities", id="probabilities-capped-log"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy_with_logits(torch.sigmoid(logits), clean),
                 "sigmoid is applied twice", id="sigmoid-twice"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy(logits, clean), "raised RuntimeError.*not probabilities",
                 id="logits-as-probabilities"),
    pytest.param(lambda logits, clean: -(clean * torch.log(logits) + (1 - clean) * torch.log(1 - logits)).mean(),
                 "nan or inf on ordinary random logits", id="log-of-the-logits"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy_with_logits(logits, clean, reduction="sum"),
                 "summed, not averaged", id="summed-not-averaged"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy_with_logits(logits, clean, reduction="none").sum(
        (1, 2, 3)).mean(), "summed over the pixels of each image", id="summed-per-image"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy_with_logits(clean, torch.sigmoid(logits)),
                 "roles are swapped", id="arguments-swapped"),
    pytest.param(lambda logits, clean: (clean * F.logsigmoid(logits) + (1 - clean) * F.logsigmoid(-logits)).mean(),
                 "the sign", id="sign"),
    pytest.param(lambda logits, clean: -(clean * F.logsigmoid(logits)).mean(), "one term is missing",
                 id="one-term"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy_with_logits(logits, clean, reduction="none"),
                 r"returned shape \(3, 1, 6, 6\); expected one number", id="per-pixel-not-averaged"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy_with_logits(logits, clean).item(),
                 "you returned a float", id="item"),
    pytest.param(lambda logits, clean: F.binary_cross_entropy_with_logits(logits.detach(), clean),
                 "carries no gradient", id="detached"),
    pytest.param(_detached_half, "gradient to the logits is not", id="partly-detached"),
])
def test_loss_checker_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint):
        lesson.check_reconstruction_loss(wrong)


def test_checkers_accept_other_correct_forms(capsys):
    lesson.check_mask_noise(mask_noise)
    lesson.check_mask_noise(lambda x, fraction: torch.where(
        torch.rand(len(x), 1, *x.shape[2:]).flatten(1).argsort(1).argsort(1).view(len(x), 1, *x.shape[2:])
        < round(fraction * x.shape[2] * x.shape[3]), torch.zeros_like(x), x))
    lesson.check_reconstruction_loss(F.binary_cross_entropy_with_logits)
    lesson.check_reconstruction_loss(lambda logits, clean: (F.softplus(logits) - clean * logits).mean())
    lesson.check_reconstruction_loss(lambda logits, clean: F.binary_cross_entropy_with_logits(
        logits, clean, reduction="none").mean((1, 2, 3)).mean().reshape(1))
    assert capsys.readouterr().out.count("correct, well done.") == 5


def test_your_run_trains_with_the_functions_given_and_leaves_the_random_stream_alone(rectangles, monkeypatch):
    monkeypatch.setitem(lesson.YOUR_RUN_STEPS, "ci", 4)
    x = rectangles(16)
    calls = []

    def mask(images, fraction):
        calls.append(("mask", fraction))
        return mask_noise(images, fraction)

    def loss(logits, clean):
        calls.append(("loss", tuple(clean.shape)))
        return F.binary_cross_entropy_with_logits(logits, clean)

    with random_stream.left_alone():
        model, history = lesson.train_with_yours(mask, loss, x, TINY, seed=0)
    assert calls[:2] == [("mask", lesson.NOISE), ("loss", (8, 1, 28, 28))]
    assert history.step[-1] == lesson.YOUR_RUN_STEPS["ci"] and not model.training
    assert lesson.floor_loss(x) < lesson.mean_image_loss(x)


def test_your_run_is_shown_against_the_mean_image(rectangles, capsys, monkeypatch):
    monkeypatch.setitem(lesson.YOUR_RUN_STEPS, "ci", 3)
    x = rectangles(8)
    model, history = lesson.train_with_yours(mask_noise, F.binary_cross_entropy_with_logits, x, TINY, seed=0)
    lesson.show_your_run(history, x)
    assert capsys.readouterr().out.startswith(f"after {lesson.YOUR_RUN_STEPS['ci']} steps: reconstruction loss")
    fig = lesson.show_your_reconstructions(model, x[:3], mask_noise)
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["test image", "masked (25%)",
                                                                       "reconstruction"]


def test_error_metrics_and_the_walk(rectangles):
    x = rectangles(6)
    models, _ = lesson.train_all(x, dataclasses.replace(TINY, steps=0), progress=False)
    found = lesson.error_metrics(lesson.corruption_errors(models, x), 0.25)
    assert len(found) == 9 and "reconstruction_mse_denoising_moved_moved" in found
    assert "reconstruction_mse_autoencoder_clean" in found and all(v >= 0 for v in found.values())
    for ordering in lesson.RECONSTRUCTION_ORDERINGS:
        assert isinstance(ordering.gap(found), float) and not ordering.higher_is_better, ordering.statement
    fig = lesson.show_walk(lesson.explorer(models[MOVED.name], x, n_directions=1), 0, 5, steps=4)
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["mix 0.00", "mix 0.33", "mix 0.67", "mix 1.00"]


def test_every_training_run_of_the_notebook_has_its_own_name(rectangles, run_names):
    lesson.train_all(rectangles(16), TINY, progress=False)
    assert len(run_names) == len(set(run_names)) == len(lesson.RECIPES)
