"""Tests of course_lib.lessons.scoreboard on tiny fake data: the registry, the protocol, the tables, the claims."""

import dataclasses
import json
import math

import pytest
import torch

from course_lib import checks, config, evaluate, nets, pretrained, seeds
from course_lib.lessons import (
    autoencoders,
    colorization,
    multimodal_embeddings,
    relative_position,
    sound_supervision,
    split_brain,
    transformations,
)
from course_lib.lessons import scoreboard as lesson
from course_lib.lessons.scoreboard import fence_longer

TINY = dataclasses.replace(lesson.SIZES["ci"], width=4, batch_size=8, mnist_steps=2, cifar_steps=2, seconds=30,
                           probe_dim=64, draws=2)


def _split(dataset, n=300, n_val=100, n_test=100, seed=0, noise=0.1):
    """Images whose class is written in where they are bright: class c has a bright band of rows at a place of its
    own (a pattern, not a brightness, so that cosine similarity can read it), plus ``noise`` (uniform, its range)."""
    generator = torch.Generator().manual_seed(seed)
    channels, side = (1, 28) if dataset == "mnist" else (3, 32)

    def images(m):
        y = torch.arange(m) % 10
        rows = torch.arange(side).view(1, -1)
        band = ((rows >= 2 * y.view(-1, 1) + 4) & (rows < 2 * y.view(-1, 1) + 8)).float()  # m x side
        x = band.view(m, 1, side, 1).expand(m, channels, side, side)
        return (0.9 * x + noise * torch.rand(m, channels, side, side, generator=generator)).clamp(0, 1), y

    return lesson.Split(dataset, *images(n), *images(n_val), *images(n_test))


# the row a run trains (its desc after "<dataset>: ") -> the lesson whose recipe trains it, and its name of the steps
TEACHER = {
    "denoising autoencoder": (autoencoders, "steps"),
    "egomotion": (transformations, "steps"),
    "contrastive (SimCLR)": (transformations, "steps"),
    "classes from sound": (sound_supervision, "owens_steps"),
    "audio-visual correspondence (L3-Net)": (sound_supervision, "steps"),
    "image-sound InfoNCE (CLIP)": (multimodal_embeddings, "steps"),
    "relative position": (relative_position, "pretext_steps"),
    "colorization": (colorization, "steps"),
    "split-brain (cl,cl), l_ab": (split_brain, "steps"),
    "split-brain (cl,cl), ab_l": (split_brain, "steps"),
    lesson.SUPERVISED: (relative_position, "supervised_steps"),
}
SOUND_ROWS = {"sound_classes", "avc", "infonce"}  # the MNIST rows that learn from the digits' soundtracks


@pytest.fixture
def runs(monkeypatch):
    """(run, recipe) of every run that gets its weights through ``pretrained.load_or_train``, in order."""
    seen, load_or_train = [], pretrained.load_or_train

    def recorded(model, run, train_run, **recipe):
        seen.append((run, recipe))
        return load_or_train(model, run, train_run, **recipe)

    monkeypatch.setattr(pretrained, "load_or_train", recorded)
    return seen


def _trained_by_their_notebooks_recipes(runs, dataset):
    """Every run is the board's (named "12_scoreboard/<dataset>: <row>"), each under its own name, and was trained
    by the recipe of the notebook that teaches its row: that lesson's sizes of the profile, at the board's width,
    batch size and steps (the supervised fence: its most steps, ``fence_steps``)."""
    names = [run for run, _ in runs]
    assert len(names) == len(set(names))
    for run, recipe in runs:
        notebook, _, desc = run.partition("/")
        assert notebook == lesson.NOTEBOOK, run
        on, _, row = desc.partition(": ")
        teacher, steps = TEACHER[row]
        sizes = recipe["sizes"]
        assert on == dataset and isinstance(sizes, teacher.Sizes) and sizes.name == TINY.name, run
        most = TINY.fence_steps if row == lesson.SUPERVISED else TINY.steps(dataset)
        assert getattr(sizes, steps) == most, run
        assert sizes.width == TINY.width and sizes.batch_size == TINY.batch_size, run


def test_sizes_grow_from_ci_to_full_and_the_budgets_are_the_issues():
    ci, lab, full = (lesson.SIZES[name] for name in ("ci", "lab", "full"))
    assert isinstance(ci, lesson.Sizes) and ci.name == "ci" and full.name == "full"
    assert ci.mnist_steps <= lab.mnist_steps <= full.mnist_steps
    assert ci.cifar_steps <= lab.cifar_steps <= full.cifar_steps
    assert ci.test_images <= lab.test_images <= full.test_images
    assert lesson.BUDGETS == {"mnist": (100, 1000), "cifar": (1000, 5000)}
    assert lab.draws == lab.label_draws and full.draws == full.label_draws  # only ci draws fewer, for time


def test_the_registry_has_both_fences_on_each_dataset_and_one_key_per_row():
    for dataset in lesson.DATASETS:
        rows = lesson.methods(dataset)
        names = [m.name for m in rows]
        assert names[0] == lesson.RANDOM and names[-1] == lesson.SUPERVISED
        assert len(set(names)) == len(names) and len({m.key for m in rows}) == len(rows)
        assert sum(not m.fence for m in rows) >= 4
    assert {m.notebook for m in lesson.METHODS if not m.fence} == {"02", "04", "05", "06", "07", "08", "11"}
    used_labels = {m.name for m in lesson.METHODS if m.labels != "none"}
    # the simulator's digit labels (the rows that learn from the soundtracks), and the fence
    assert used_labels == {m.name for m in lesson.METHODS if m.key in SOUND_ROWS} | {lesson.SUPERVISED}


def test_every_cifar_row_pretrains_by_its_notebooks_recipe_and_reads_the_same_rgb_images(runs):
    split = _split("cifar", noise=0.3)  # textured, as photos are: 02's recipe leaves out blank patches (min_std)
    extractors, histories = lesson.pretrain_all(split, TINY, seed=0)
    assert list(extractors) == [m.name for m in lesson.methods("cifar")]
    assert set(histories) == set(extractors) - set(lesson.RANDOM_ROWS)
    for name, extractor in extractors.items():
        features = evaluate.stage_features(extractor, split.test_x[:5], target_dim=TINY.probe_dim)
        assert list(features) == list(nets.STAGES), name
        assert all(f.shape[0] == 5 and f.shape[1] <= TINY.probe_dim for f in features.values()), name
        # the same channels at every layer as the random-init row: split-brain's halves are half width each
        assert extractor.channels == extractors[lesson.RANDOM].channels, name
    assert len(runs) == 6  # split-brain trains two halves, each under its own name
    _trained_by_their_notebooks_recipes(runs, "cifar")
    assert all(history.step[-1] == TINY.cifar_steps for name, history in histories.items()
               if name != lesson.SUPERVISED)
    assert histories[lesson.SUPERVISED].step[-1] <= TINY.fence_steps  # stopped at its validation optimum
    assert histories["split-brain (cl,cl)"].last() > 0  # its halves' losses, summed


def test_the_lightness_fence_is_an_untrained_network_that_reads_lightness_only():
    split = _split("cifar")
    fence, history = lesson.random_lightness(split, TINY, seed=0, desc="random, lightness only")
    assert history is None and next(fence.net.parameters()).shape[1] == 1  # one input channel
    photos = split.test_x[:4]
    assert torch.equal(fence(photos), fence.net(colorization.lightness_input(photos)))  # what colorization reads
    assert fence.channels == nets.random_backbone(3, TINY.width, 0).channels


def test_random_init_is_where_every_pretext_run_starts():
    split = _split("mnist")
    start, _ = lesson.random_init(split, TINY, seed=3, desc="random")
    again, _ = lesson.random_init(split, TINY, seed=3, desc="random")
    assert all(torch.equal(a, b) for a, b in zip(start.state_dict().values(), again.state_dict().values(),
                                                  strict=True))
    trained, history = lesson.egomotion(split, TINY, seed=3, desc="egomotion")
    assert history.step[-1] == TINY.mnist_steps
    assert not torch.equal(trained.stages["conv1"][0].weight, start.stages["conv1"][0].weight)


def test_mnist_rows_without_sound_pretrain_on_the_images_alone_by_their_notebooks_recipes(runs):
    split = _split("mnist")
    for method in lesson.methods("mnist"):
        if method.key in SOUND_ROWS:
            continue  # reads the FSDD recordings: tested where the data is (below)
        extractor, _ = method.pretrain(split, TINY, 0, f"mnist: {method.name}")
        assert evaluate.stage_features(extractor, split.x[:3], target_dim=64)["conv5"].shape[0] == 3
    assert len(runs) == 4
    _trained_by_their_notebooks_recipes(runs, "mnist")
    recipe = dict(runs)[f"{lesson.NOTEBOOK}/mnist: denoising autoencoder"]
    assert recipe["loss"].keywords["corrupt"].keywords["noise"] == autoencoders.NOISE  # 04's masked pixels


def _needs_fsdd():
    pytest.importorskip("scipy")
    from course_lib import config

    if not (config.data_root() / "fsdd").exists():
        pytest.skip("FSDD is not in the data root")


def test_classes_from_sound_pretrains_on_the_sound_clusters_of_real_recordings(runs):
    _needs_fsdd()
    extractor, history = lesson.classes_from_sound(_split("mnist"), TINY, 0, "mnist: classes from sound")
    assert history.step[-1] == TINY.mnist_steps and extractor.channels["conv5"] == 8 * TINY.width
    _trained_by_their_notebooks_recipes(runs, "mnist")
    assert runs[0][1]["k"] == sound_supervision.OWENS_K  # 08's number of sound clusters


@pytest.mark.parametrize("row", [lesson.correspondence, lesson.infonce])
def test_the_image_tower_of_a_two_tower_row_is_what_the_board_reads(runs, row):
    _needs_fsdd()
    split = _split("mnist")
    name = next(m.name for m in lesson.methods("mnist") if m.pretrain is row)
    extractor, history = row(split, TINY, 0, f"mnist: {name}")
    start = nets.random_backbone(1, TINY.width, 0)  # the random-init row: where its image tower started
    assert history.step[-1] == TINY.mnist_steps and extractor.channels == start.channels
    assert not extractor.training
    assert evaluate.stage_features(extractor, split.x[:3], target_dim=64)["conv5"].shape[0] == 3
    _trained_by_their_notebooks_recipes(runs, "mnist")
    assert not torch.equal(extractor.stages["conv1"][0].weight, start.stages["conv1"][0].weight)


def test_the_supervised_fence_stops_at_its_validation_optimum_and_keeps_those_weights(runs):
    split = _split("mnist")
    extractor, history = lesson.supervised(split, TINY, 0, f"mnist: {lesson.SUPERVISED}")
    curve = dict(zip(history["val_step"], history["val_accuracy"], strict=True))
    best = history["best_step"][0]
    assert curve[best] == max(curve.values()) and max(curve) <= TINY.fence_steps
    assert dict(runs)[f"{lesson.NOTEBOOK}/mnist: {lesson.SUPERVISED}"]["stopped_on_validation"] == len(split.val_x)


def test_score_chooses_the_layer_on_validation_and_averages_the_draws():
    split = _split("mnist")
    backbone = nets.random_backbone(1, 4, 0)
    row = lesson.score(backbone, split, TINY, seed=0, budgets=(100, 50))
    for budget in (50, 100):
        assert row.linear[budget].best.draws == TINY.draws and row.knn[budget].draws == TINY.draws
    assert list(row.linear[50].test) == list(nets.STAGES)  # the smallest budget reads every layer ...
    assert row.linear_layer == max(row.linear[50].val, key=row.linear[50].val.get)  # ... chosen on validation
    assert list(row.linear[100].test) == [row.linear_layer]  # ... and the larger budget reads that layer only
    assert row.knn_layer in nets.STAGES and row.knn_k in lesson.NEIGHBOURS and row.val_labels == len(split.val_y)
    assert float(row.knn[50]) > 90.0  # the band's place is the class: neighbours read it


def test_knn_read_chooses_layer_and_k_on_validation_and_a_given_choice_is_not_chosen_again():
    generator = torch.Generator().manual_seed(0)
    y, val_y, test_y = (torch.arange(n) % 10 for n in (200, 100, 100))
    clear, noisy = torch.eye(10) * 3, torch.eye(10) * 0.3  # one layer reads the class, the other hardly does
    features = [{"conv1": noisy[c] + torch.randn(len(c), 10, generator=generator),
                 "conv2": clear[c] + torch.randn(len(c), 10, generator=generator)} for c in (y, val_y, test_y)]
    spread, layer, k, val = lesson.knn_read(features, (y, val_y, test_y), per_class=5, draws=2, seed=0)
    subsets = [evaluate.few_labels(y, 5, 1000 * d) for d in range(2)]
    every = {(lay, kk): sum(evaluate.knn_scores(features[0][lay][i], y[i], [(features[1][lay], val_y)], kk)[0]
                            for i in subsets) / 2 for lay in ("conv1", "conv2") for kk in lesson.NEIGHBOURS}
    assert layer == "conv2" and val == pytest.approx(max(every.values())) == pytest.approx(every[layer, k])
    assert spread.draws == 2
    given = lesson.knn_read(features, (y, val_y, test_y), per_class=5, draws=2, seed=0, choices=[("conv1", 1)])
    assert given[1:3] == ("conv1", 1) and math.isnan(given[3])


def test_draw_scores_are_each_metrics_draws_and_average_to_it(monkeypatch):
    monkeypatch.setitem(lesson.BUDGETS, "mnist", (50, 100))  # what the tiny split can give
    split = _split("mnist")
    row = lesson.score(nets.random_backbone(1, 4, 0), split, TINY, seed=0, budgets=(50, 100))
    draws, metrics = lesson.draw_scores({lesson.RANDOM: row}, "mnist"), lesson.metrics({lesson.RANDOM: row}, "mnist")
    assert set(draws) == {name for name in metrics if not name.endswith(("_std", "_recalibrated", "_knn_recalibrated"))}
    for name, values in draws.items():
        assert len(values) == TINY.draws and sum(values) / len(values) == pytest.approx(metrics[name])


def test_random_init_keeps_the_read_that_is_better_on_validation_for_each_readout():
    plain, recalibrated = _row(80.0, 75.0), _row(82.0, 70.0)
    recalibrated.knn_val, plain.knn_val = 70.0, 75.0
    best = lesson.at_its_best(plain, recalibrated)
    assert best.linear is recalibrated.linear and best.reads["linear"] == lesson.RECALIBRATED
    assert best.knn is plain.knn and best.reads["kNN"] == lesson.AS_INITIALISED
    metrics = lesson.metrics({lesson.RANDOM: best}, "mnist")
    assert metrics["mnist_random_recalibrated"] == 1.0 and metrics["mnist_random_recalibrated_knn"] == 0.0
    reads = lesson.random_reads({lesson.RANDOM: best}, "mnist")  # both reads' validation numbers, and the kept one
    assert reads.loc[lesson.RECALIBRATED, "linear, validation"] == "82.0"
    assert reads.loc[lesson.AS_INITIALISED, "kNN, validation"] == "75.0"
    assert list(reads.loc["kept"]) == [lesson.RECALIBRATED, lesson.AS_INITIALISED]
    assert lesson.table({lesson.RANDOM: best}, "mnist").loc[lesson.RANDOM, "layer (linear)"] == (
        f"{best.linear_layer}, {lesson.RECALIBRATED}")


def test_score_all_reads_random_init_as_initialised_and_recalibrated_on_unlabelled_images(monkeypatch):
    split, seen = _split("mnist"), []
    score = lesson.protocol.score

    def recorded(extractor, *args, desc="", **kwargs):
        seen.append((desc, [m.running_var.clone() for m in extractor.modules() if isinstance(m, torch.nn.BatchNorm2d)]))
        return score(extractor, *args, budgets=(100, 200), desc=desc, **kwargs)

    monkeypatch.setattr(lesson.protocol, "score", recorded)
    random = nets.random_backbone(1, 4, 0)
    rows = lesson.score_all({lesson.RANDOM: random}, split, dataclasses.replace(TINY, draws=1))
    (plain_desc, plain_var), (recal_desc, recal_var) = seen
    assert plain_desc == f"mnist: {lesson.RANDOM}" and recal_desc == f"mnist: {lesson.RANDOM}, {lesson.RECALIBRATED}"
    assert all(torch.equal(v, torch.ones_like(v)) for v in plain_var)  # the weights as initialised ...
    assert not torch.equal(recal_var[0], torch.ones_like(recal_var[0]))  # ... and a copy with statistics of the images
    assert set(rows[lesson.RANDOM].reads) == {"linear", "kNN"}


def _row(linear, knn, std=0.5, budgets=(100, 1000)):
    """A Row with the given means at every budget (linear probe the same at every layer)."""
    def scores(mean):
        return evaluate.LayerScores(test={s: evaluate.Spread(mean, std, 3) for s in nets.STAGES},
                                    val={s: mean for s in nets.STAGES})

    return lesson.Row({b: scores(linear) for b in budgets}, {b: evaluate.Spread(knn, std, 3) for b in budgets},
                      "conv3", 20, val_labels=1000)


def _board():
    return {lesson.RANDOM: _row(80.0, 75.0), "denoising autoencoder": _row(79.0, 70.0),
            "contrastive (SimCLR)": _row(90.0, 88.0), lesson.SUPERVISED: _row(97.0, 96.0)}


def test_tables_metrics_and_verdicts_of_a_board():
    rows = _board()
    table = lesson.table(rows, "mnist")
    assert table.loc["contrastive (SimCLR)", "linear, 100 labels"] == "90.0 ± 0.5"
    assert table.loc["contrastive (SimCLR)", "notebook"] == "05"
    assert table.loc["contrastive (SimCLR)", "labels in pretraining"] == "none"
    assert "fence" in table.loc[lesson.SUPERVISED, "labels in pretraining"]
    assert set(table["validation labels"]) == {f"{rows[lesson.RANDOM].val_labels:,}"}
    assert "chosen on 1,000 labelled validation images" in table.attrs["caption"]
    verdicts = lesson.verdicts(rows, "mnist")
    assert lesson.RANDOM not in verdicts.index
    assert verdicts.loc["contrastive (SimCLR)", "linear, 100"] == "+10.0 higher"
    assert verdicts.loc["denoising autoencoder", "linear, 100"] == "-1.0 no difference"
    assert verdicts.loc["denoising autoencoder", "kNN, 100"] == "-5.0 lower"
    metrics = lesson.metrics(rows, "mnist")
    assert metrics["mnist_100_contrastive"] == 90.0 and metrics["mnist_1000_supervised_knn"] == 96.0
    assert metrics["mnist_100_autoencoder_std"] == 0.5
    assert lesson.best_pretext(rows, 100) == "contrastive (SimCLR)"
    said = lesson.reading(rows, "mnist")
    assert "best pretext contrastive (SimCLR) 90.0 ± 0.5 %" in said
    assert "beat random init: contrastive (SimCLR) (+10.0)" in said
    assert "no difference from it: denoising autoencoder (-1.0)" in said
    assert lesson.plot(rows, "mnist") is not None


def test_beside_the_notebooks_shows_their_number_and_turns_errors_into_accuracy():
    rows = _board()
    recorded = {"05_transformations": {"metrics": {"error_100_contrastive": 7.5}},
                "04_autoencoders": {"metrics": {}}}
    table = lesson.beside_the_notebooks(rows, "mnist", recorded)
    assert table.loc["contrastive (SimCLR)", "its notebook"] == "92.5"
    assert table.loc["denoising autoencoder", "its notebook"] == "-"  # not recorded: shown as missing, not guessed
    assert table.loc["contrastive (SimCLR)", "at labels"] == "100"


def test_the_claims_fail_when_the_board_says_otherwise():
    rows = _board()
    lesson.check_claim_pretext_beats_random(rows, 100, "mnist")
    lesson.check_claim_pretext_beats_random(rows, 100, "mnist", "kNN")
    lesson.check_claim_supervised_beats_random(rows, 100, "mnist")
    with pytest.raises(checks.ClaimFailed):  # the autoencoder's kNN is below random init's
        lesson.check_every_pretext_beats_random(rows, 100, "mnist", "kNN")
    rows["denoising autoencoder"] = _row(79.0, 80.0)
    lesson.check_every_pretext_beats_random(rows, 100, "mnist", "kNN")
    rows["contrastive (SimCLR)"] = _row(80.5, 75.0)
    with pytest.raises(checks.ClaimFailed):  # the best linear probe is inside the spread of random init's
        lesson.check_claim_pretext_beats_random(rows, 100, "mnist")
    lesson.check_claim_pretext_beats_random(rows, 100, "mnist", asserted=False)  # reported, not raised
    rows[lesson.SUPERVISED] = _row(80.2, 75.0)
    with pytest.raises(checks.ClaimFailed):
        lesson.check_claim_supervised_beats_random(rows, 100, "mnist")
    with pytest.raises(ValueError):
        lesson.accuracy(rows[lesson.RANDOM], 100, "svm")


# --- over pretraining seeds: the orderings the notebook states, and the ranks ------------------------------------

# a board's linear-probe accuracy on seeds 0, 1, 2, row by row in the registry's order (random init first, supervised
# last: MNIST has eight rows, CIFAR-10 seven); kNN is 5 points lower, random init's kNN 60 on every seed
SEEDS = (0, 1, 2)
_FIRST = ((80.0, 80.0, 80.0), (83.0, 79.0, 81.0), (81.0, 79.5, 79.0), (86.0, 86.0, 86.0), (92.0, 92.0, 92.0))
LINEAR = {"mnist": (*_FIRST, (84.0, 84.0, 84.0), (90.0, 90.0, 90.0), (96.0, 96.0, 96.0)),
          "cifar": (*_FIRST, (96.0, 96.0, 96.0), (97.0, 97.0, 97.0))}


def _recorded(seed: int) -> dict[str, float]:
    """What the notebook records on one seed: ``lesson.metrics`` of a full board of each dataset."""
    out = {}
    for dataset in lesson.DATASETS:
        linear = LINEAR[dataset]
        rows = {m.name: _row(linear[i][seed], 60.0 if m.name == lesson.RANDOM else linear[i][seed] - 5.0,
                             budgets=lesson.BUDGETS[dataset]) for i, m in enumerate(lesson.methods(dataset))}
        out.update(lesson.metrics(rows, dataset))
    return out


@pytest.fixture
def seeds_root(tmp_path):
    """A seeds file of the board (seeds 0, 1, 2) under tmp_path, as ``python -m course_lib.results seeds`` writes it."""
    path = seeds.seeds_file(lesson.NOTEBOOK, root=tmp_path)
    path.parent.mkdir(parents=True)
    runs = {str(seed): {"metrics": _recorded(seed), "capped": [], "claims": []} for seed in SEEDS}
    path.write_text(json.dumps({"notebook": lesson.NOTEBOOK, "profile": "lab", "seeds": runs}))
    return tmp_path


def test_every_ordering_reads_numbers_the_notebook_records():
    recorded = _recorded(0)
    statements = [o.statement for o in lesson.ORDERINGS]
    assert len(statements) == len(set(statements))
    for ordering in lesson.ORDERINGS:
        assert ordering.metrics <= set(recorded), ordering.statement
    # every row against random init, both read-outs and budgets, on both boards
    against = [s for s in statements if " beats random init (" in s and not s.startswith("every")]
    assert len(against) == sum((len(lesson.methods(d)) - 1) * 2 * len(lesson.BUDGETS[d]) for d in lesson.DATASETS)
    assert "supervised beats random init (CIFAR-10, 1,000 labels, linear)" in statements  # the lab claim


def test_the_orderings_over_seeds_use_the_paired_per_seed_differences(seeds_root):
    table = seeds.table(lesson.NOTEBOOK, lesson.ORDERINGS, root=seeds_root)
    assert table.loc["egomotion beats random init (MNIST, 100 labels, linear)", "seed 1"] == "-0.5"
    assert table.loc["egomotion beats random init (MNIST, 100 labels, linear)", "verdict"] == "no difference (1 of 3)"
    assert table.loc["classes from sound is the best pretext task (MNIST, 100 labels, linear)", "verdict"] == \
        "holds on 3 of 3"
    # every pretext row against random init: the weakest of them on each seed (the autoencoder or egomotion, 74 kNN)
    every = table.loc["every pretext task beats random init (MNIST, 100 labels, kNN)"]
    assert [every[f"seed {s}"] for s in SEEDS] == ["+16.0", "+14.0", "+14.0"] and every["verdict"] == "holds on 3 of 3"
    lowered = lesson.every_pretext_beats_random("mnist", 100, "linear")  # the autoencoder and egomotion fall below
    assert [round(lowered.gap(_recorded(s)), 1) for s in SEEDS] == [1.0, -1.0, -1.0]


def test_ranks_over_seeds_average_each_seeds_rank_and_show_the_spread_over_seeds(seeds_root):
    ranks = lesson.ranks_over_seeds(seeds.load(lesson.NOTEBOOK, root=seeds_root))
    mnist = ranks.sort_index().loc[("MNIST", "100")]  # sorted: the frame keeps the registry order
    assert mnist.loc[lesson.SUPERVISED, "mean rank (linear)"] == "1.0"
    assert mnist.loc[lesson.RANDOM, "mean rank (linear)"] == "7.0"  # last, sixth, seventh of eight
    assert mnist.loc["denoising autoencoder", "mean rank (linear)"] == "6.7"  # 6, 8, 6
    assert mnist.loc["denoising autoencoder", "linear (%) over seeds"] == "81.0 ± 2.0"
    assert mnist.loc[lesson.RANDOM, "mean rank (kNN)"] == "8.0"
    assert set(ranks.loc["CIFAR-10"].index.get_level_values("labels")) == {"1,000", "5,000"}
    runs = seeds.load(lesson.NOTEBOOK, root=seeds_root)
    del runs[2]["metrics"]["cifar_5000_colorization_knn"]
    with pytest.raises(KeyError, match="seeds 12"):
        lesson.ranks_over_seeds(runs)


def test_ranks_over_seeds_in_a_seeds_run_leave_out_the_seeds_that_lack_numbers(seeds_root, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CLAIMS", "report")  # what a seeds run sets: it must reach the end of the notebook
    runs = seeds.load(lesson.NOTEBOOK, root=seeds_root)
    del runs[2]["metrics"]["cifar_5000_colorization_knn"]
    ranks = lesson.ranks_over_seeds(runs)
    assert "seed(s) [2] lack numbers" in capsys.readouterr().out
    assert ranks.attrs["caption"].startswith("rank on each of pretraining seeds 0, 1 (")
    assert lesson.ranks_over_seeds({}).empty and "no runs over seeds yet" in capsys.readouterr().out


# --- the exercise checker: an answer written here, and the mistakes students make ------------------------------


def _knn_vote(similarity, labels, n_classes, temperature):
    """An answer written for this test: one query at a time, a running total of exp(s / T) per class."""
    winners = []
    for scores, classes in zip(similarity.tolist(), labels.tolist(), strict=True):
        totals = [0.0] * n_classes
        for s, c in zip(scores, classes, strict=True):
            totals[c] += math.exp(s / temperature)
        winners.append(max(range(n_classes), key=totals.__getitem__))
    return torch.tensor(winners)


def test_check_knn_vote_accepts_an_answer_written_here(capsys):
    lesson.check_knn_vote(_knn_vote)
    assert "weighted kNN vote: correct" in capsys.readouterr().out


def _totals(weights, labels, n_classes):
    return torch.zeros(len(labels), n_classes).scatter_add_(1, labels, weights)


@pytest.mark.parametrize(("wrong", "hint"), [
    pytest.param(lambda s, y, n, t: torch.stack([torch.bincount(row, minlength=n).argmax() for row in y]),
                 "plain majority vote", id="plain-majority"),
    pytest.param(lambda s, y, n, t: _totals(s, y, n).argmax(1), "raw similarities",
                 id="weighted-by-the-raw-similarity"),
    pytest.param(lambda s, y, n, t: _totals((s * t).exp(), y, n).argmax(1), "temperature is in the wrong place",
                 id="temperature-multiplied"),
    pytest.param(lambda s, y, n, t: y.gather(1, s.argmax(1, keepdim=True))[:, 0], "single most similar neighbour",
                 id="the-nearest-neighbour-only"),
    pytest.param(lambda s, y, n, t: _totals((s / t).exp(), y, n).max(1).values, "queries get another class",
                 id="the-winning-total-not-the-class"),
    pytest.param(lambda s, y, n, t: _totals((s / t).exp(), y, n), r"returned shape \(50, 4\); expected shape \(50,\)",
                 id="votes-not-the-arg-max"),
    pytest.param(lambda s, y, n, t: _totals((s / t).exp(), y, 4).argmax(1), "raised RuntimeError.*labels 0 ... 9",
                 id="four-classes-hard-coded"),
    pytest.param(lambda s, y, n, t: _totals(s.exp(), y, n).argmax(1), "the temperature is left out",
                 id="temperature-ignored"),
    pytest.param(lambda s, y, n, t: _totals((-s / t).exp(), y, n).argmax(1), "the weights fall as the similarity "
                 "grows", id="weights-of-minus-the-similarity"),
    pytest.param(lambda s, y, n, t: _totals((s / t).exp(), y, n).argmin(1), "the class with the smallest total",
                 id="arg-min-not-arg-max"),
    pytest.param(lambda s, y, n, t: _totals((s / t).exp(), y, n).argmax(1).float(),
                 r"the classes are right but you returned them as floats \(torch.float32\)", id="float-classes"),
    pytest.param(lambda s, y, n, t: _knn_vote(s, y, n, t).numpy().astype("float64"), r"as floats \(torch.float64\)",
                 id="numpy-float-classes"),
])
def test_check_knn_vote_rejects_a_typical_mistake(wrong, hint):
    with pytest.raises(checks.NotYet, match=hint) as rejected:
        lesson.check_knn_vote(wrong)
    assert not any(code in str(rejected.value) for code in ("argmax(", "scatter", "/ temperature", ".long(")), \
        rejected.value


def test_check_knn_vote_accepts_integer_classes_of_any_integer_type(capsys):
    lesson.check_knn_vote(lambda s, y, n, t: _knn_vote(s, y, n, t).int())
    lesson.check_knn_vote(lambda s, y, n, t: _knn_vote(s, y, n, t).numpy())
    assert capsys.readouterr().out.count("weighted kNN vote: correct") == 2


def test_the_longer_fence_trains_more_steps_and_is_read_by_the_boards_protocol(monkeypatch):
    sizes = dataclasses.replace(TINY, fence_steps=2)
    monkeypatch.setitem(lesson.SIZES, "lab", sizes)
    monkeypatch.setattr(fence_longer, "load", lambda dataset, sizes, seed: _split(dataset, n=200, n_val=40, n_test=40))
    metrics = fence_longer.fence_metrics(seed=0, budgets=(50, 100))
    assert metrics["cifar_steps_supervised_longer"] <= fence_longer.STEP_FACTOR * sizes.fence_steps
    assert metrics["cifar_best_step_supervised_longer"] <= metrics["cifar_steps_supervised_longer"]
    wanted = {name for o in fence_longer.orderings("cifar", (50, 100)) for name in o.metrics if "longer" in name}
    assert wanted <= set(metrics) and all(0 <= metrics[name] <= 100 for name in wanted)


def test_the_longer_fence_is_compared_with_numbers_the_board_records():
    recorded = json.loads((config.REPO_ROOT / "results/lab/12_scoreboard.json").read_text())["metrics"]
    board = {name for o in fence_longer.orderings() for name in o.metrics if "longer" not in name}
    assert board and board <= set(recorded)
