import math

import pytest
import torch

from course_lib import nets, train
from course_lib.pretext import transformations as tr

# ---------------------------------------------------------------- simulated egomotion


def test_pairs_have_a_label_for_every_parameter_drawn_over_all_its_classes():
    torch.manual_seed(0)
    bins = tr.EgomotionBins()
    x = torch.rand(64, 1, 28, 28)
    first, second, classes = tr.egomotion_pairs(x, bins)
    assert first.shape == second.shape == x.shape
    assert set(classes) == set(bins.classes) == {"tx", "ty", "rotation"}
    for name in bins.classes:
        assert classes[name].shape == (64,) and classes[name].dtype == torch.long
    assert set(classes["tx"].tolist()) == set(classes["ty"].tolist()) == set(range(7))  # both ends of [-3, 3] too
    assert len(classes["rotation"].unique()) > 10  # drawn per image, not per batch


def test_paper_bins_are_7_7_and_20():
    assert tr.EgomotionBins().classes == {"tx": 7, "ty": 7, "rotation": 20}


def test_every_drawn_angle_lies_in_its_bin():
    torch.manual_seed(0)
    bins = tr.EgomotionBins(max_degrees=30, rotation_bins=20)
    shift, degrees, classes = bins.draw(500)
    low = -30 + 3 * classes["rotation"]
    assert ((degrees >= low) & (degrees < low + 3)).all()
    assert torch.equal(shift[:, 0].long() + 3, classes["tx"])
    assert shift.abs().max() <= 3


def test_identity_transform_leaves_the_image_unchanged():
    x = torch.rand(4, 3, 32, 32)
    same = tr.warp(x, torch.zeros(4, 2), torch.zeros(4))
    assert torch.allclose(same, x, atol=1e-5)


def test_translation_moves_a_bright_pixel_right_and_down_by_the_shift():
    x = torch.zeros(2, 1, 28, 28)
    x[:, 0, 10, 12] = 1.0
    moved = tr.warp(x, torch.tensor([[3.0, 2.0], [-2.0, -1.0]]), torch.zeros(2))
    assert moved[0, 0, 12, 15] == pytest.approx(1.0, abs=1e-5)  # tx = +3 (right), ty = +2 (down)
    assert moved[1, 0, 9, 10] == pytest.approx(1.0, abs=1e-5)
    assert moved.sum(dim=(1, 2, 3)).tolist() == pytest.approx([1.0, 1.0], abs=1e-5)


def test_rotation_turns_clockwise_on_screen():
    x = torch.zeros(1, 1, 27, 27)
    x[0, 0, 13, 20] = 1.0  # right of the centre (13, 13)
    turned = tr.warp(x, torch.zeros(1, 2), torch.tensor([90.0]))
    row, col = divmod(int(turned.flatten().argmax()), 27)
    assert (row, col) == (20, 13)  # now below the centre


def _dot(row, col, side=27):
    x = torch.zeros(1, 1, side, side)
    x[0, 0, row, col] = 1.0
    return x


def _where(image):
    return divmod(int(image.flatten().argmax()), image.shape[-1])


def test_composed_motions_apply_the_first_one_first():
    shift, quarter = torch.tensor([[3.0, 0.0]]), torch.tensor([90.0])
    move, turn = tr.motion_matrix(shift, torch.zeros(1), 27), tr.motion_matrix(torch.zeros(1, 2), quarter, 27)
    x = _dot(13, 13)  # the centre
    assert _where(tr.warp_by(x, turn @ move)) == (16, 13)  # moved right to (13, 16), then turned to below the centre
    assert _where(tr.warp_by(x, move @ turn)) == (13, 16)  # turning the centre leaves it, then moved right


def test_the_first_view_is_moved_too_and_the_second_is_t_of_the_first():
    torch.manual_seed(0)
    x = _dot(13, 13).repeat(64, 1, 1, 1)
    first, second, classes = tr.egomotion_pairs(x)
    rows_cols = torch.tensor([_where(image) for image in first])
    assert len(set(map(tuple, rows_cols.tolist()))) > 5  # the first view is not the untransformed image
    shift = torch.stack([classes["tx"], classes["ty"]], 1).float() - 3
    moved = torch.tensor([_where(image) for image in second])
    centre = torch.tensor([13.0, 13.0])
    # T rotates about the centre, then shifts: where the dot of the first view lands, up to the rotation bin's width
    for (r, c), (r2, c2), (tx, ty), k in zip(rows_cols.tolist(), moved.tolist(), shift.tolist(),
                                             classes["rotation"].tolist(), strict=True):
        angle = torch.deg2rad(torch.tensor(-30.0 + 3 * k + 1.5))
        offset = torch.tensor([c, r]) - centre.flip(0)  # (x right, y down)
        turned = torch.stack([offset[0] * angle.cos() - offset[1] * angle.sin(),
                              offset[0] * angle.sin() + offset[1] * angle.cos()]) + centre.flip(0)
        assert abs(turned[0] + tx - c2) <= 1.5 and abs(turned[1] + ty - r2) <= 1.5


def test_without_moving_the_first_view_it_is_the_image():
    x = torch.rand(8, 1, 28, 28)
    first, second, _ = tr.egomotion_pairs(x, move_first=False)
    assert first is x and not torch.allclose(second, x)


def test_the_head_reads_conv5_pooled_to_three_by_three():
    fmaps = torch.rand(2, 8, 6, 6)
    code = tr.EgomotionNet.code(fmaps)
    assert code.shape == (2, 8 * 9)
    assert code[0, 0] == pytest.approx(fmaps[0, 0, :2, :2].mean().item())


def test_egomotion_model_gives_logits_for_every_bin():
    bins = tr.EgomotionBins(max_shift=2, rotation_bins=8)
    model = tr.EgomotionNet(nets.Backbone(3, width=4), bins, hidden=16)
    logits = model(torch.rand(5, 3, 32, 32), torch.rand(5, 3, 32, 32))
    assert {name: tuple(v.shape) for name, v in logits.items()} == {"tx": (5, 5), "ty": (5, 5), "rotation": (5, 8)}


def test_egomotion_loss_starts_near_chance_and_reports_accuracies():
    torch.manual_seed(0)
    model = tr.EgomotionNet(nets.Backbone(1, width=4), hidden=16).eval()
    loss, metrics = tr.egomotion_loss(model, (torch.rand(32, 1, 28, 28),))
    chance = 2 * math.log(7) + math.log(20)  # the sum of three cross-entropies at uniform predictions
    assert loss.item() == pytest.approx(chance, rel=0.3)
    assert set(metrics) == {"acc_tx", "acc_ty", "acc_rotation"}
    assert all(0 <= v <= 1 for v in metrics.values())


def test_a_few_fit_steps_lower_the_egomotion_loss(rectangles):
    torch.manual_seed(0)
    model = tr.EgomotionNet(nets.Backbone(1, width=4), hidden=32)
    history = train.fit(model, train.batches(rectangles(32), batch_size=32), tr.egomotion_loss, steps=40,
                        lr=1e-2, progress=False, log_every=1)
    first, last = _mean_of_first_and_last(history, "loss")
    assert last < 0.95 * first


# ---------------------------------------------------------------- NT-Xent and SimCLR


def _nt_xent_by_the_formula(z1, z2, tau):
    """SimCLR's equation, one term at a time: l(i, j) = -log exp(s_ij / tau) / sum_{k != i} exp(s_ik / tau)."""
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    n2, total = len(z), 0.0
    for i in range(n2):
        j = (i + n2 // 2) % n2
        others = [k for k in range(n2) if k != i]
        total += -(z[i] @ z[j] / tau - torch.logsumexp(torch.stack([z[i] @ z[k] / tau for k in others]), 0))
    return total / n2


def test_nt_xent_matches_the_papers_formula():
    torch.manual_seed(0)
    z1, z2 = torch.randn(5, 8), torch.randn(5, 8)
    assert tr.nt_xent(z1, z2, 0.5).item() == pytest.approx(_nt_xent_by_the_formula(z1, z2, 0.5).item(), rel=1e-5)


@pytest.mark.parametrize("n", [1, 4, 32])
def test_nt_xent_of_identical_embeddings_is_log_2n_minus_1(n):
    z = torch.ones(n, 16)  # every logit is 1 / tau: the positive is one of 2N - 1 equals
    assert tr.nt_xent(z, z.clone(), 0.1).item() == pytest.approx(math.log(2 * n - 1), abs=1e-5)


def test_nt_xent_is_lower_for_matched_than_for_shuffled_pairs():
    torch.manual_seed(0)
    z1 = torch.randn(16, 32)
    z2 = z1 + 0.1 * torch.randn(16, 32)
    shuffled = z2[torch.randperm(16)]
    assert tr.nt_xent(z1, z2) < 0.5 * tr.nt_xent(z1, shuffled)


def test_nt_xent_is_symmetric_in_the_two_views():
    torch.manual_seed(0)
    z1, z2 = torch.randn(8, 16), torch.randn(8, 16)
    assert tr.nt_xent(z1, z2).item() == pytest.approx(tr.nt_xent(z2, z1).item(), rel=1e-6)


def test_nt_xent_ignores_the_scale_of_the_projections():
    torch.manual_seed(0)
    z1, z2 = torch.randn(8, 16), torch.randn(8, 16)
    assert tr.nt_xent(3 * z1, z2).item() == pytest.approx(tr.nt_xent(z1, z2).item(), rel=1e-5)


def test_simclr_views_are_two_different_random_views_per_image():
    torch.manual_seed(0)
    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 8:20, 8:20] = 1.0
    view1, view2 = tr.simclr_views(x)
    assert view1.shape == view2.shape == x.shape
    assert not torch.allclose(view1, view2)
    assert not torch.allclose(view1[0], view1[1])  # same image, different draws
    assert view1.min() >= 0 and view1.max() <= 1


def test_simclr_views_without_augmentation_are_the_image():
    x = torch.rand(4, 1, 28, 28)
    view1, view2 = tr.simclr_views(x, degrees=0, translate=0, scale=(1, 1), erase=0)
    assert torch.allclose(view1, x, atol=1e-5) and torch.allclose(view2, x, atol=1e-5)


def test_simclr_model_projects_and_keeps_the_backbone():
    backbone = nets.Backbone(3, width=4)
    model = tr.SimCLR(backbone, projection_dim=12)
    assert model.backbone is backbone
    assert model(torch.rand(6, 3, 32, 32)).shape == (6, 12)


def _mean_of_first_and_last(history, name, k=5):
    values = history[name]
    return sum(values[:k]) / k, sum(values[-k:]) / k


def test_a_few_fit_steps_lower_the_simclr_loss(rectangles):
    torch.manual_seed(0)
    model = tr.SimCLR(nets.Backbone(1, width=4), projection_dim=16)
    history = train.fit(model, train.batches(rectangles(32), batch_size=32), tr.simclr_loss, steps=30, lr=1e-2,
                        progress=False, log_every=1)
    first, last = _mean_of_first_and_last(history, "loss")
    assert last < 0.93 * first
    assert 0 <= history.last("acc") <= 1
