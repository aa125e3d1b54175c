import pytest
import torch

from course_lib import nets, train
from course_lib.pretext import relative_position as rp


def test_the_eight_labels_are_the_neighbours_in_reading_order():
    assert rp.NEIGHBOURS == ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def test_default_grid_fits_a_64_pixel_image_with_room_to_jitter():
    grid = rp.PatchGrid()
    assert grid.margin >= grid.jitter
    assert 2 * grid.margin + 3 * grid.patch + 2 * grid.gap <= grid.image_side


def test_a_grid_that_does_not_fit_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        rp.PatchGrid(image_side=48, patch=16, gap=6, jitter=2)
    with pytest.raises(ValueError, match=">= 8 pixels"):
        rp.PatchGrid(patch=4)


def test_jittered_corners_stay_within_jitter_of_the_cell_and_inside_the_image():
    torch.manual_seed(0)
    grid = rp.PatchGrid()
    cells = torch.tensor([[r, c] for r in range(3) for c in range(3)]).repeat(50, 1)
    corners = grid.corners(cells)
    nominal = grid.margin + cells * grid.pitch
    assert (corners - nominal).abs().max() <= grid.jitter
    assert corners.min() >= 0 and (corners + grid.patch).max() <= grid.image_side
    assert len(torch.unique(corners - nominal)) > 1  # jitter is drawn, not constant


def test_crop_takes_each_image_patch_at_its_own_corner():
    x = torch.arange(2 * 3 * 10 * 10, dtype=torch.float).reshape(2, 3, 10, 10)
    corners = torch.tensor([[0, 0], [3, 5]])
    patches = rp.crop(x, corners, 4)
    assert patches.shape == (2, 3, 4, 4)
    assert torch.equal(patches[0], x[0, :, 0:4, 0:4])
    assert torch.equal(patches[1], x[1, :, 3:7, 5:9])


def test_the_second_patch_lies_where_its_label_says():
    # an image whose pixel values are their own (row, col): a patch's corner can be read from its first pixel
    grid = rp.PatchGrid(jitter=0)
    side = grid.image_side
    rows = torch.arange(side, dtype=torch.float).view(side, 1).expand(side, side)
    cols = torch.arange(side, dtype=torch.float).view(1, side).expand(side, side)
    x = torch.stack([rows, cols, rows]).expand(40, 3, side, side)
    torch.manual_seed(0)
    first, second, y = rp.patch_pairs(x, grid)
    assert first.shape == second.shape == (40, 3, grid.patch, grid.patch) and y.shape == (40,)
    assert 0 <= y.min() and y.max() <= 7 and len(y.unique()) > 4
    for i in range(40):
        d_row = (second[i, 0, 0, 0] - first[i, 0, 0, 0]) / grid.pitch
        d_col = (second[i, 1, 0, 0] - first[i, 1, 0, 0]) / grid.pitch
        assert (int(d_row), int(d_col)) == rp.NEIGHBOURS[int(y[i])]


def test_patch_pairs_refuse_images_that_were_not_upsampled():
    with pytest.raises(ValueError, match="upsample"):
        rp.patch_pairs(torch.rand(2, 3, 32, 32), rp.PatchGrid())


def test_cell_patches_come_with_their_cell():
    torch.manual_seed(0)
    patch, cell = rp.cell_patches(torch.rand(30, 3, 64, 64), rp.PatchGrid())
    assert patch.shape == (30, 3, 16, 16) and 0 <= cell.min() and cell.max() <= 8


def test_a_cell_patch_is_cut_from_the_cell_it_names():
    grid = rp.PatchGrid(jitter=0)
    side = grid.image_side
    rows = torch.arange(side, dtype=torch.float).view(side, 1).expand(side, side)
    cols = torch.arange(side, dtype=torch.float).view(1, side).expand(side, side)
    torch.manual_seed(0)
    patch, cell = rp.cell_patches(torch.stack([rows, cols, rows]).expand(60, 3, side, side), grid)
    assert len(cell.unique()) == 9
    corner = grid.margin + torch.stack([cell // 3, cell % 3], 1) * grid.pitch  # (row, col) of each cell's patch
    assert torch.equal(patch[:, :2, 0, 0].long(), corner)


def test_blank_patches_are_rejected_and_textured_ones_kept():
    blank, textured = torch.full((1, 3, 16, 16), 0.4), torch.rand(1, 3, 16, 16)
    assert rp.informative(torch.cat([blank, textured]), 0.03).tolist() == [False, True]


def test_colour_dropping_keeps_exactly_one_channel_per_patch():
    torch.manual_seed(0)
    patches = 0.2 + 0.6 * torch.rand(50, 3, 16, 16)
    dropped = rp.drop_colour(patches)
    same = (dropped == patches).flatten(2).all(dim=2)  # (50, 3): which channels were kept untouched
    assert same.sum(dim=1).tolist() == [1] * 50
    assert dropped[~same].abs().max() < 0.05  # the others are faint noise
    assert len(same.float().argmax(1).unique()) == 3  # every channel gets kept sometimes


def test_chromatic_aberration_moves_green_outwards_and_leaves_red_and_blue():
    x = torch.zeros(1, 3, 64, 64)
    x[:, :, 50, 50] = 1.0  # a white dot low and right of the centre
    out = rp.chromatic_aberration(x, strength=0.1)
    assert torch.equal(out[:, 0], x[:, 0]) and torch.equal(out[:, 2], x[:, 2])
    row, col = divmod(int(out[0, 1].flatten().argmax()), 64)
    assert row > 50 and col > 50  # green moved away from the centre
    centre = torch.zeros(1, 3, 64, 64)
    centre[:, :, 31:33, 31:33] = 1.0  # at the centre nothing moves
    assert rp.chromatic_aberration(centre, 0.1)[0, 1, 31:33, 31:33].min() > 0.5


def test_chromatic_aberration_needs_colour():
    with pytest.raises(ValueError, match="3 channels"):
        rp.chromatic_aberration(torch.rand(2, 1, 64, 64))


def test_late_fusion_net_gives_eight_logits_and_codes_each_patch_alone():
    torch.manual_seed(0)
    model = rp.RelativePositionNet(nets.Backbone(3, 4)).eval()
    a, b = torch.rand(5, 3, 16, 16), torch.rand(5, 3, 16, 16)
    assert model(a, b).shape == (5, 8)
    assert torch.allclose(model.code(a)[:2], model.code(a[:2]), atol=1e-5)  # eval mode: no batch coupling


def test_a_few_steps_train_and_report_accuracy_and_kept_fraction():
    torch.manual_seed(0)
    model = rp.RelativePositionNet(nets.Backbone(3, 4))
    history = train.fit(model, train.batches(torch.rand(64, 3, 32, 32), batch_size=32),
                        rp.relative_position_loss, steps=3, progress=False, log_every=1)
    assert len(history["loss"]) == 3 and set(history.values) == {"loss", "acc", "kept"}
    assert all(0 <= k <= 1 for k in history["kept"])


def test_a_generator_draws_the_pairs_and_none_keeps_the_global_stream():
    x = torch.rand(20, 3, 64, 64)
    grid = rp.PatchGrid()
    same = [rp.patch_pairs(x, grid, torch.Generator().manual_seed(4)) for _ in range(2)]
    assert all(torch.equal(a, b) for a, b in zip(*same, strict=True))
    torch.manual_seed(1)
    from_global = rp.patch_pairs(x, grid)
    assert all(torch.equal(a, b) for a, b in zip(from_global, rp.patch_pairs(x, grid, torch.Generator().manual_seed(1)),
                                                 strict=True))  # the same draws, in the same order


def test_the_loss_trains_on_the_pairs_its_sampler_makes():
    calls = []

    def sampler(photos, grid):
        calls.append(photos.shape)
        return rp.patch_pairs(photos, grid)

    torch.manual_seed(0)
    model = rp.RelativePositionNet(nets.Backbone(3, 4))
    loss, metrics = rp.relative_position_loss(model, (torch.rand(6, 3, 32, 32),), pairs=sampler)
    assert calls == [(6, 3, 64, 64)] and loss.requires_grad and set(metrics) == {"acc", "kept"}
