"""The split-brain loss of both halves at once, and the training step a student's own loss goes through."""

import pytest
import torch

from course_lib import nets
from course_lib.pretext import colorization as col
from course_lib.pretext import split_brain as sb


@pytest.fixture(scope="module")
def lab():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return sb.scaled_lab(torch.rand(6, 3, 16, 16))


def _halves(width_l=4, width_ab=2):
    centres = col.ab_gamut()
    return (sb.CrossChannel("l_ab", nets.Backbone(1, width_l), len(centres), 16),
            sb.CrossChannel("ab_l", nets.Backbone(2, width_ab), sb.L_BINS, 16), centres)


def test_the_split_brain_loss_is_the_sum_of_what_each_half_trains_on(lab):
    l_ab, ab_l, centres = _halves()
    both = sb.split_brain_loss(l_ab.net, ab_l.net, lab, centres)  # Colorizers: each reads only its own channels
    apart = sb.cross_channel_loss(l_ab, (lab,), "cl", centres) + sb.cross_channel_loss(ab_l, (lab,), "cl", centres)
    assert torch.allclose(both, apart)
    both.backward()
    assert all(p.grad is not None for p in [*l_ab.parameters(), *ab_l.parameters()])


def test_a_training_step_uses_the_loss_it_is_given_and_reads_each_halfs_predictions(lab):
    l_ab, ab_l, centres = _halves()
    halves = torch.nn.ModuleList([l_ab.net, ab_l.net])
    seen = []

    def mine(l_to_ab, ab_to_l, images, bins):
        seen.append((l_to_ab, ab_to_l))
        return sb.split_brain_loss(l_to_ab, ab_to_l, images, bins)

    value, metrics = sb.split_brain_step(halves, (lab,), centres, loss=mine)
    assert seen == [(l_ab.net, ab_l.net)] and value.requires_grad
    assert set(metrics) == {"acc_ab", "acc_l"} and all(0 <= float(m) <= 1 for m in metrics.values())
    assert not any(half._forward_hooks for half in halves)  # the recording hooks are gone after the step
    default, _ = sb.split_brain_step(halves, (lab,), centres)
    assert torch.allclose(default, value)


def test_perfect_scores_are_right_everywhere(lab):
    centres = col.ab_gamut()
    pooled = torch.nn.functional.avg_pool2d(lab, col.OUTPUT_STRIDE)
    ab_bins = col.nearest_bin(pooled[:, 1:] * col.AB_SCALE, centres)
    l_bins = sb.lightness_bins((pooled[:, 0] + 1) * col.L_SCALE)
    as_scores = lambda bins, k: torch.nn.functional.one_hot(bins, k).permute(0, 3, 1, 2).float()  # noqa: E731
    accuracy = sb.halves_accuracy(as_scores(ab_bins, len(centres)), as_scores(l_bins, sb.L_BINS), lab, centres)
    assert {key: float(value) for key, value in accuracy.items()} == {"acc_ab": 1.0, "acc_l": 1.0}
