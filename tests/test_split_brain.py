import dataclasses

import pytest
import torch

from course_lib import checks, config, cross_channel, evaluate, nets
from course_lib.pretext import colorization as col
from course_lib.pretext import split_brain as sb


@pytest.fixture(scope="module")
def lab():
    torch.manual_seed(0)
    return sb.scaled_lab(torch.rand(12, 3, 16, 16))


def test_scaled_lab_is_about_minus_one_to_one(lab):
    assert lab.shape == (12, 3, 16, 16)
    assert lab.abs().max() <= 1.0 + 1e-4


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


def test_the_experiment_trains_every_network_and_records_every_cell(lab):
    tiny = dataclasses.replace(config.PROFILES["ci"], split_width=4, split_steps=1, batch_size=6)
    labels = torch.arange(12) % 3
    trained, histories = cross_channel.train_all(lab, labels, col.ab_gamut(), tiny, progress=False)
    assert set(trained) == set(cross_channel.NETWORKS) and all(h.step for h in histories.values())
    assert trained["L→ab (cl), half"].channels["conv1"] == 2 and trained["Lab→Lab autoencoder"].channels["conv1"] == 4
    rows = cross_channel.backbones(trained, tiny)
    assert list(rows) == list(cross_channel.KEYS)
    table = cross_channel.probe_table({k: rows[k] for k in ("random init", "split-brain (cl,cl)")},
                                      (lab, labels), (lab[:6], labels[:6]))
    assert list(table.columns[:5]) == list(nets.STAGES) and table["best layer"].isin(nets.STAGES).all()
    assert set(cross_channel.metrics(table)) == {f"probe_{k}_{s}" for k in ("random", "split_brain_cl")
                                                 for s in nets.STAGES}


def test_paper_table_has_every_quoted_row_at_every_layer():
    table = cross_channel.paper_table()
    assert list(table.columns) == list(nets.STAGES) and len(table) == len(cross_channel.PAPER_ROWS)
    assert table.loc["split-brain (cl,cl)", "conv3"] > table.loc["Gaussian init", "conv3"]


def test_concatenation_checker():
    cross_channel.check_concatenation(lambda a, b: torch.cat([a, b], 1))
    with pytest.raises(checks.NotYet, match="dim 1"):
        cross_channel.check_concatenation(lambda a, b: torch.cat([b, a], 1))


def test_quoted_table_numbers_are_marked_as_not_checked():
    from course_lib import papers

    table = papers.side_by_side("zhang2017", {"ours": (None, 1.0), "paper": ("split-brain (cl,cl), conv3", None)})
    assert table.loc["paper", "paper"] == 35.4 and table.loc["paper", "note"] == "not checked against the paper"
    assert all(not r.checked for r in papers.REPORTED if r.paper == "zhang2017")
