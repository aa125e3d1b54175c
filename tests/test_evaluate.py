import math

import pytest
import torch
from sklearn.linear_model import LogisticRegression

from course_lib import evaluate, nets


def _blobs(n_per_class=60, dim=20, classes=4, seed=0, spread=2.0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g)
    y = torch.arange(classes).repeat_interleave(n_per_class)
    x = centres[y] + spread * torch.randn(len(y), dim, generator=g)
    return x, y


@pytest.mark.parametrize("C", [0.05, 1.0])
def test_linear_probe_agrees_with_sklearn(C):
    x, y = _blobs(seed=1)
    xt, yt = _blobs(seed=1, n_per_class=250)  # same centres, new samples
    ours = evaluate.linear_probe(x, y, xt, yt, C=C)
    mean, std = x.mean(0), x.std(0, unbiased=False) + 1e-6
    sk = LogisticRegression(C=C, max_iter=5000).fit(((x - mean) / std).numpy(), y.numpy())
    theirs = 100 * sk.score(((xt - mean) / std).numpy(), yt.numpy())
    assert abs(ours - theirs) <= 1.0
    assert 25 < ours < 100  # neither chance nor trivial: the test can tell a broken probe


def test_few_labels_takes_k_of_each_class_and_depends_on_the_seed():
    y = torch.arange(5).repeat(20)
    idx = evaluate.few_labels(y, 3, seed=0)
    assert torch.bincount(y[idx]).tolist() == [3] * 5
    assert not torch.equal(idx, evaluate.few_labels(y, 3, seed=1))
    with pytest.raises(ValueError, match="class"):
        evaluate.few_labels(y, 21)


def test_stage_features_match_pooled_stage_in_one_pass():
    backbone = nets.Backbone(1, width=4).eval()
    x = torch.rand(7, 1, 28, 28)
    features = evaluate.stage_features(backbone, x, batch_size=3)
    assert list(features) == list(nets.STAGES)
    for stage in nets.STAGES:
        assert torch.allclose(features[stage], evaluate.embed(evaluate.pooled_stage(backbone, stage), x), atol=1e-6)


def test_layerwise_probe_returns_every_stage_and_pools_to_size():
    backbone = nets.Backbone(1, width=4)
    assert evaluate.embed(evaluate.pooled_stage(backbone, "conv1", 64), torch.rand(2, 1, 28, 28)).shape[1] <= 64
    x, y = torch.rand(40, 1, 28, 28), torch.arange(2).repeat(20)
    table = evaluate.layerwise_probe(backbone, x, y, x, y, target_dim=64)
    assert list(table) == list(nets.STAGES)
    assert all(0 <= v <= 100 for v in table.values())


def test_labels_needed_interpolates_on_a_log_scale():
    curve = {1: 50.0, 10: 70.0, 100: 90.0}
    assert evaluate.labels_needed(curve, 40) == 1
    assert math.isclose(evaluate.labels_needed(curve, 80), math.sqrt(10 * 100))
    assert evaluate.labels_needed(curve, 95) == math.inf


def test_accuracy_of_a_perfect_and_a_wrong_classifier():
    x = torch.eye(3)
    y = torch.arange(3)
    assert evaluate.accuracy(torch.nn.Identity(), x, y) == 100.0
    assert evaluate.accuracy(torch.nn.Identity(), x, (y + 1) % 3) == 0.0


def test_label_efficiency_averages_over_draws():
    y = torch.arange(3).repeat(10)
    seen = []

    def run(idx):
        seen.append(tuple(idx.tolist()))
        return float(len(seen))  # 1, 2, 3: the mean of three draws is 2

    assert evaluate.label_efficiency(run, y, [2], seed=0, draws=3) == {2: 2.0}
    assert len(set(seen)) == 3  # three different labelled subsets


def _one_box(x0, label=1, score=0.9):
    return {"boxes": torch.tensor([[float(x0), 0.0, x0 + 10.0, 10.0]]), "scores": torch.tensor([score]),
            "labels": torch.tensor([label])}


def test_detection_map_is_100_for_perfect_and_0_for_wrong_class_or_place():
    targets = [{"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "labels": torch.tensor([1])}] * 2
    assert evaluate.detection_map([_one_box(0), _one_box(0)], targets) == pytest.approx(100.0)
    assert evaluate.detection_map([_one_box(0, label=2), _one_box(0, label=2)], targets) == pytest.approx(0.0)
    assert evaluate.detection_map([_one_box(30), _one_box(30)], targets) == pytest.approx(0.0)


def test_detection_map_counts_a_box_at_iou_one_third_only_below_that_threshold():
    targets = [{"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "labels": torch.tensor([1])}]
    shifted = [_one_box(5)]  # overlaps half: IoU = 50 / 150 = 1/3
    assert evaluate.detection_map(shifted, targets, iou=0.5) == pytest.approx(0.0)
    assert evaluate.detection_map(shifted, targets, iou=0.3) == pytest.approx(100.0)


def test_detection_map_over_some_classes_averages_only_their_ap():
    targets = [{"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0]]), "labels": torch.tensor([label])} for label in (1, 2)]
    predictions = [_one_box(0, label=1), _one_box(30, label=2)]  # class 1 found, class 2 missed
    assert evaluate.detection_map(predictions, targets) == pytest.approx(50.0)
    assert evaluate.detection_map(predictions, targets, classes=[1]) == pytest.approx(100.0)
    assert evaluate.detection_map(predictions, targets, classes=[2]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="no true box"):
        evaluate.detection_map(predictions, targets, classes=[3])


def test_detection_map_wants_one_prediction_per_image():
    with pytest.raises(ValueError, match="one of each per image"):
        evaluate.detection_map([_one_box(0)], [])


def test_recall_at_k_counts_queries_with_their_class_in_the_top_k():
    gallery = torch.tensor([0, 1, 2])
    scores = torch.tensor([[0.9, 0.5, 0.1],   # query of class 0: its class first
                           [0.9, 0.1, 0.5],   # class 1: its class last
                           [0.9, 0.1, 0.5]])  # class 2: its class second
    queries = torch.tensor([0, 1, 2])
    assert evaluate.recall_at_k(scores, queries, gallery, k=1) == pytest.approx(1 / 3)
    assert evaluate.recall_at_k(scores, queries, gallery, k=2) == pytest.approx(2 / 3)
    assert evaluate.recall_at_k(scores, queries, gallery, k=3) == pytest.approx(1.0)


def test_recall_at_k_wants_one_score_per_query_and_gallery_item():
    with pytest.raises(ValueError, match="queries x"):
        evaluate.recall_at_k(torch.zeros(2, 3), torch.zeros(2), torch.zeros(4))


def test_cluster_purity_of_one_cluster_is_the_commonest_class_share():
    assert evaluate.cluster_purity(torch.zeros(4, dtype=torch.long), torch.tensor([1, 1, 1, 2])) == 0.75


def test_cluster_purity_is_one_for_clusters_that_are_classes_whatever_their_ids():
    truth = torch.tensor([0, 0, 1, 1, 2, 2])
    assert evaluate.cluster_purity(torch.tensor([7, 7, 3, 3, 5, 5]), truth) == 1.0
    assert evaluate.cluster_purity([0, 1, 2, 3, 4, 5], truth.tolist()) == 1.0  # finer clusters are pure too
    assert evaluate.cluster_purity(torch.tensor([0, 1, 0, 1, 0, 1]), truth) == pytest.approx(2 / 6)


def test_embed_of_a_bound_method_freezes_the_network_it_belongs_to():
    backbone = nets.Backbone(1, width=4)  # a fresh module is in training mode
    before = {name: value.clone() for name, value in backbone.state_dict().items()}
    x = torch.rand(6, 1, 28, 28)
    alone = evaluate.embed(backbone.embed, x[:1])
    among_others = evaluate.embed(backbone.embed, torch.cat([x[:1], 5 * x[1:]]))[:1]
    assert torch.allclose(alone, among_others, atol=1e-6)  # an image's features do not depend on its batch-mates
    assert all(torch.equal(value, backbone.state_dict()[name]) for name, value in before.items())  # BN buffers too


def _scores(test, val):
    return evaluate.LayerScores(test={k: evaluate.Spread(v) for k, v in test.items()}, val=val)


def test_layer_table_picks_each_rows_layer_on_validation_not_on_test():
    table = evaluate.layer_table({"a": _scores({"conv1": 50.0, "conv2": 70.0}, {"conv1": 60.0, "conv2": 55.0}),
                                  "b": _scores({"conv1": 60.0, "conv2": 40.0}, {"conv1": 30.0, "conv2": 45.0})})
    assert list(table.columns) == ["conv1", "conv2", evaluate.BEST_LAYER, evaluate.AT_BEST, evaluate.STD]
    assert table.loc["a", evaluate.BEST_LAYER] == "conv1" and table.loc["a", evaluate.AT_BEST] == 50.0  # not 70
    assert table.loc["b", evaluate.BEST_LAYER] == "conv2" and table.loc["b", evaluate.AT_BEST] == 40.0  # not 60


def test_best_of_keeps_the_number_of_draws_even_when_they_agree():
    scores = evaluate.LayerScores(test={"conv1": evaluate.Spread(80.0, 0.0, 3)}, val={"conv1": 75.0})
    best = evaluate.best_of(evaluate.layer_table({"a": scores}), "a")
    assert best == 80.0 and best.std == 0.0 and best.draws == 3  # three identical draws are still three draws


def test_probe_table_has_a_row_per_backbone_and_a_column_per_stage():
    torch.manual_seed(0)
    x, y = torch.rand(60, 1, 28, 28), torch.arange(60) % 2
    x[y == 1] += 1.0  # brighter images are class 1: every stage of any network can read that
    backbones = {"seed 0": nets.random_backbone(1, 4, seed=0), "seed 1": nets.random_backbone(1, 4, seed=1)}
    table = evaluate.probe_table(backbones, (x[:30], y[:30]), (x[30:40], y[30:40]), (x[40:], y[40:]),
                                 stages=("conv1", "conv3"), per_class=5, draws=3)
    assert list(table.index) == ["seed 0", "seed 1"]
    assert list(table.columns) == ["conv1", "conv3", evaluate.BEST_LAYER, evaluate.AT_BEST, evaluate.STD,
                                   evaluate.VAL_LABELS]
    assert (table[evaluate.VAL_LABELS] == 10).all()  # the 10 labelled validation images that chose the layers
    assert (table[evaluate.AT_BEST] >= 90).all() and table[evaluate.BEST_LAYER].isin(["conv1", "conv3"]).all()


def test_a_random_row_is_probed_in_both_reads_and_keeps_the_better_one_on_validation():
    torch.manual_seed(0)
    x, y = torch.rand(60, 1, 28, 28), torch.arange(60) % 2
    x[y == 1] += 1.0
    runs = []

    def trained(model, run, fit):
        runs.append(run)
        return fit()

    table = evaluate.probe_table({"random init": nets.random_backbone(1, 4, seed=0)}, (x[:30], y[:30]),
                                 (x[30:40], y[30:40]), (x[40:], y[40:]), stages=("conv1", "conv3"), per_class=5,
                                 draws=2, desc="probe", trained=trained, random_row="random init")
    assert [run.split(",")[0] for run in runs] == ["probe: random init", "probe: random init"]
    assert f"probe: random init, {evaluate.RECALIBRATED}, 10 labels x 2 draws" in runs  # each read's own run
    assert table.loc["random init", evaluate.BEST_LAYER] in ("conv1", "conv3")
    assert evaluate.read_of(table, "random init") in (evaluate.AS_INITIALISED, evaluate.RECALIBRATED)


def test_probe_layers_averages_draws_and_keeps_their_spread():
    generator = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 2
    features = {"signal": y[:, None].float() + 0.8 * torch.randn(200, 3, generator=generator),
                "noise": torch.randn(200, 3, generator=generator)}
    train = {k: v[:100] for k, v in features.items()}
    val = {k: v[100:150] for k, v in features.items()}
    test = {k: v[150:] for k, v in features.items()}
    scores = evaluate.probe_layers(train, y[:100], val, y[100:150], test, y[150:], per_class=3, draws=4)
    assert scores.best_layer == "signal" and scores.best.draws == 4
    assert scores.test["signal"].std > 0  # three labels per class: the draws differ
    assert scores.test["noise"] < scores.test["signal"]


def _strength_matters(n_train: int = 40):
    """Two classes whose mean differs along 20 noisy dimensions: few examples, so the strength of the L2 penalty
    moves the validation accuracy; the same features twice, as two "layers"."""
    generator = torch.Generator().manual_seed(1)
    y = torch.arange(400) % 2
    x = 0.3 * y[:, None].float() + torch.randn(400, 20, generator=generator)
    split = {"train": slice(0, n_train), "val": slice(200, 300), "test": slice(300, 400)}
    return {part: ({"a": x[s], "b": x[s]}, y[s]) for part, s in split.items()}


def test_probe_layers_chooses_each_layers_C_on_validation():
    parts = _strength_matters()
    args = [v for part in ("train", "val", "test") for v in parts[part]]
    by_C = {C: evaluate.probe_layers(*args, Cs=[C]) for C in (0.001, 100.0)}
    chosen = evaluate.probe_layers(*args, Cs=[100.0, 0.001])
    best = max(by_C, key=lambda C: by_C[C].val["a"])
    assert by_C[0.001].val["a"] != by_C[100.0].val["a"]  # the choice matters on these features
    assert chosen.C == {"a": best, "b": best} and chosen.best_C == best
    assert float(chosen.test["a"]) == float(by_C[best].test["a"]) and chosen.val["a"] == by_C[best].val["a"]


def test_one_C_is_no_choice_and_names_no_column():
    parts = _strength_matters()
    args = [v for part in ("train", "val", "test") for v in parts[part]]
    fixed = evaluate.probe_layers(*args)
    assert fixed.C == {} and fixed.best_C == evaluate.PROBE_C
    assert evaluate.PROBE_C_COLUMN not in evaluate.layer_table({"x": fixed}).columns
    chosen = evaluate.probe_layers(*args, Cs=evaluate.PROBE_CS)
    assert evaluate.layer_table({"x": chosen}).loc["x", evaluate.PROBE_C_COLUMN] in evaluate.PROBE_CS


def test_a_warm_started_fit_reaches_the_cold_fits_optimum():
    parts = _strength_matters(n_train=200)
    (x, y) = parts["train"][0]["a"], parts["train"][1]
    cold = evaluate.LinearProbe(20, 2).fit(x, y, C=1.0)
    warm = evaluate.LinearProbe(20, 2).fit(x, y, C=1.0, start=evaluate.LinearProbe(20, 2).fit(x, y, C=0.1))
    assert torch.allclose(warm.linear.weight, cold.linear.weight, atol=1e-3)


def test_spread_is_its_mean_and_keeps_std_and_draws():
    value = evaluate.Spread.of([70.0, 72.0, 74.0])
    assert value == 72.0 and value + 1 == 73.0 and f"{value:.1f}" == "72.0"
    assert value.std == pytest.approx(1.633, abs=1e-3) and value.draws == 3
    assert value.text() == "72.0 ± 1.6" and evaluate.Spread(50.0).text() == "50.0"
    assert value.values == (70.0, 72.0, 74.0) and evaluate.Spread(50.0).values == ()  # the draws, in order


def test_differ_counts_a_gap_inside_the_spread_as_no_difference():
    a, b = evaluate.Spread(72.0, 1.0, 3), evaluate.Spread(70.5, 1.0, 3)
    assert not evaluate.differ(a, b) and evaluate.differ(a, evaluate.Spread(69.0, 0.5, 3))
    assert "no difference" in evaluate.compare_text(a, b, ("ours", "random"))
    assert evaluate.compare_text(a, 60.0, ("ours", "random")).endswith("ours higher")
    assert evaluate.compare_text(60.0, a, ("ours", "random"), lower_is_better=True).endswith("ours lower")


def test_split_validation_holds_out_disjoint_examples():
    x, y = torch.arange(20).float()[:, None], torch.arange(20)
    (train_x, train_y), (val_x, val_y) = evaluate.split_validation(x, y, 5, seed=1)
    assert len(val_y) == 5 and len(train_y) == 15
    assert set(val_y.tolist()).isdisjoint(train_y.tolist()) and torch.equal(val_x[:, 0].long(), val_y)
    with pytest.raises(ValueError, match="validation split"):
        evaluate.split_validation(x, y, 20)


def test_beats_needs_a_higher_mean_outside_the_spread():
    a = evaluate.Spread(72.0, 1.0, 3)
    assert evaluate.beats(a, evaluate.Spread(69.0, 0.5, 3))
    assert not evaluate.beats(a, evaluate.Spread(71.0, 0.5, 3)) and not evaluate.beats(evaluate.Spread(69.0), a)


def test_knn_scores_read_classes_that_lie_apart_and_vote_by_similarity():
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 16, generator=generator) * 5
    y = torch.arange(60) % 3
    x = centres[y] + torch.randn(60, 16, generator=generator) * 0.1
    test_y = torch.arange(30) % 3
    test_x = centres[test_y] + torch.randn(30, 16, generator=generator) * 0.1
    assert evaluate.knn_scores(x, y, [(test_x, test_y)], k=5) == [100.0]
    shuffled = evaluate.knn_scores(x, y[torch.randperm(60, generator=generator)], [(test_x, test_y)], k=5)[0]
    assert shuffled < 70.0  # labels that do not follow the features: near chance
    # one labelled example per class: with k larger than the bank, every example votes, the nearest weighs most
    assert evaluate.knn_scores(centres, torch.arange(3), [(test_x, test_y), (test_x, test_y)], k=50) == [100.0, 100.0]


def test_knn_scores_by_k_give_each_k_what_its_own_search_gives():
    generator = torch.Generator().manual_seed(1)
    x, y = torch.randn(40, 8, generator=generator), torch.arange(40) % 4  # overlapping classes: k matters
    graded = [(torch.randn(25, 8, generator=generator), torch.arange(25) % 4)] * 2
    by_k = evaluate.knn_scores_by_k(x, y, graded, (1, 5, 60))
    assert list(by_k) == [1, 5, 60] and all(len(scores) == 2 for scores in by_k.values())
    for k, scores in by_k.items():
        assert scores == evaluate.knn_scores(x, y, graded, k=k)


def test_mean_average_precision_matches_sklearn_per_query_and_leaves_excluded_pairs_out():
    from sklearn.metrics import average_precision_score

    g = torch.Generator().manual_seed(5)
    scores, queries, gallery = torch.randn(12, 30, generator=g), torch.randint(3, (12,), generator=g), \
        torch.randint(3, (30,), generator=g)
    want = sum(average_precision_score((gallery == q).numpy(), s.numpy())
               for s, q in zip(scores, queries, strict=True)) / len(queries)
    assert evaluate.mean_average_precision(scores, queries, gallery) == pytest.approx(want, rel=1e-5)
    perfect = (queries[:, None] == gallery[None, :]).float()
    assert evaluate.mean_average_precision(perfect, queries, gallery) == pytest.approx(1.0)
    labels = torch.tensor([0, 0, 1, 1])
    itself = torch.eye(4) * 10 + torch.tensor([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]) * 5.0
    assert evaluate.mean_average_precision(itself, labels, labels, exclude=torch.eye(4, dtype=torch.bool)) == 1.0


def test_probe_network_embeds_only_the_drawn_images_and_scores_as_probing_all_of_them():
    from course_lib import nets

    torch.manual_seed(0)
    network = nets.random_backbone(in_channels=1, width=4, seed=0)
    x, y = torch.randn(200, 1, 16, 16), torch.arange(200) % 4
    held = (torch.randn(40, 1, 16, 16), torch.arange(40) % 4)
    seen, features = [], network.features
    network.features = lambda images, stages: seen.append(len(images)) or features(images, stages)
    fast = evaluate.probe_network(network, (x, y), held, held, ["conv1", "conv2"], 64, per_class=5, draws=2)
    del network.features
    assert sum(n for n in seen if n > 1) <= 2 * 20 + 2 * 40  # the two draws' 20 images at most, validation, test
    full = [evaluate.stage_features(network, images, ["conv1", "conv2"], 64) for images in (x, held[0], held[0])]
    slow = evaluate.probe_layers(full[0], y, full[1], held[1], full[2], held[1], per_class=5, draws=2)
    assert {k: float(v) for k, v in fast.test.items()} == pytest.approx({k: float(v) for k, v in slow.test.items()})


def test_a_random_baseline_is_read_as_initialised_and_recalibrated_without_touching_its_weights():
    backbone = nets.random_backbone(1, 4, seed=0)
    reads = evaluate.random_reads(backbone, 3.0 + torch.rand(16, 1, 28, 28))
    assert list(reads) == [evaluate.AS_INITIALISED, evaluate.RECALIBRATED]
    assert reads[evaluate.AS_INITIALISED] is backbone
    plain, recalibrated = (net.stages["conv1"][1].running_mean for net in reads.values())
    assert torch.equal(plain, torch.zeros_like(plain)) and not torch.equal(recalibrated, plain)
    assert torch.equal(reads[evaluate.RECALIBRATED].stages["conv1"][0].weight, backbone.stages["conv1"][0].weight)


def test_the_better_read_is_chosen_on_validation():
    assert evaluate.better_on_validation({evaluate.AS_INITIALISED: 71.0, evaluate.RECALIBRATED: 74.5}) == (
        evaluate.RECALIBRATED)
    scores = evaluate.LayerScores(test={"conv1": evaluate.Spread(50.0), "conv2": evaluate.Spread(90.0)},
                                  val={"conv1": 60.0, "conv2": 55.0})
    assert scores.best_val == 60.0  # the validation score that chose conv1, not the test set's best
