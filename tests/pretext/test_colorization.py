import pytest
import torch

from course_lib import nets, train
from course_lib.pretext import colorization as col


@pytest.fixture(scope="module")
def centres():
    return col.ab_gamut()


def test_lab_round_trip_through_the_library():
    rgb = torch.rand(2, 3, 5, 7)
    lightness, ab = col.split_lab(rgb)
    assert lightness.shape == (2, 1, 5, 7) and ab.shape == (2, 2, 5, 7)
    black_grey_white = torch.tensor([0.0, 0.5, 1.0]).view(1, 1, 1, 3).expand(1, 3, 1, 3)  # R = G = B
    l_greys, ab_greys = col.split_lab(black_grey_white)
    assert l_greys.flatten().tolist() == pytest.approx([0.0, 53.39, 100.0], abs=0.05)  # the lightness runs 0 ... 100
    assert ab_greys.abs().max() < 1e-2  # greys have no colour
    assert torch.allclose(col.to_rgb(lightness, ab), rgb, atol=1e-3)


def test_rgb_to_lab_refuses_grey_images_with_a_clear_message():
    with pytest.raises(ValueError, match="N x 3 x H x W"):
        col.rgb_to_lab(torch.rand(2, 1, 4, 4))


def test_grey_has_the_lightness_and_no_colour():
    rgb = torch.rand(3, 3, 4, 4)
    g = col.grey(rgb)
    assert torch.allclose(col.split_lab(g)[0], col.split_lab(rgb)[0], atol=0.05)
    assert col.split_lab(g)[1].abs().max() < 0.5


def test_gamut_bins_lie_on_the_grid_and_include_grey(centres):
    assert 150 < len(centres) < 400  # the paper keeps Q = 313 at grid 10
    assert torch.all(centres % col.GRID == 0)
    assert (centres == 0).all(dim=1).any()  # a = b = 0, grey, is displayable
    assert not ((centres[:, 0] == 110) & (centres[:, 1] == -110)).any()  # a corner of the plane is not


def test_soft_encoding_puts_most_weight_on_the_nearest_bin(centres):
    ab = torch.tensor([[3.0, -2.0], [41.0, 19.0]]).T.reshape(1, 2, 1, 2)
    index, weights = col.soft_encode(ab, centres)
    assert index.shape == weights.shape == (1, 5, 1, 2)
    assert torch.allclose(weights.sum(1), torch.ones(1, 1, 2))
    assert torch.equal(centres[index[0, 0, 0]], torch.tensor([[0.0, 0.0], [40.0, 20.0]]))
    assert torch.all(weights[:, 0] >= weights[:, 1:].max(1).values)
    assert torch.equal(index[:, 0], col.nearest_bin(ab, centres))


def test_smoothing_keeps_the_mass_and_spreads_it(centres):
    p = torch.zeros(len(centres))
    p[0] = 1.0
    p_smooth = col.smooth(p, centres)
    assert torch.isclose(p_smooth.sum(), torch.tensor(1.0))
    assert p_smooth[0] < 1.0 and (p_smooth > 1e-3).sum() > 1


def test_rebalancing_weights_favour_rare_colours_and_average_to_one():
    p = torch.tensor([0.7, 0.2, 0.1, 0.0])
    w = col.rebalancing_weights(p, lam=0.5)
    assert torch.all(w[:-1] < w[1:])  # rarer -> heavier
    assert torch.isclose((p * w).sum(), torch.tensor(1.0))
    assert torch.allclose(col.rebalancing_weights(p, lam=1.0), torch.ones(4))  # lambda = 1: no rebalancing
    with pytest.raises(ValueError, match="lambda"):
        col.rebalancing_weights(p, lam=0.0)


def test_annealed_mean_runs_from_the_mean_to_the_mode():
    centres = torch.tensor([[0.0, 0.0], [50.0, 0.0]])
    logits = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)
    mean = col.annealed_mean(logits, centres, 1.0)
    assert torch.allclose(mean[0, :, 0, 0], torch.softmax(torch.tensor([1.0, 0.0]), 0) @ centres)
    assert torch.allclose(col.annealed_mean(logits, centres, 0.01)[0, :, 0, 0], centres[0], atol=1e-3)
    with pytest.raises(ValueError, match="temperature"):
        col.annealed_mean(logits, centres, 0.0)


def test_colourfulness_is_zero_for_grey_and_known_for_pure_red():
    assert col.colourfulness(torch.full((1, 3, 4, 4), 0.5)).item() == pytest.approx(0.0, abs=1e-4)
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 1.0
    # rg = 255, yb = 127.5 everywhere: no spread, M = 0.3 * sqrt(255^2 + 127.5^2)
    assert col.colourfulness(red).item() == pytest.approx(0.3 * (255 ** 2 + 127.5 ** 2) ** 0.5, rel=1e-5)
    half = torch.cat([red[..., :2], torch.full((1, 3, 4, 2), 0.5)], dim=-1)
    assert col.colourfulness(half) > col.colourfulness(red * 0 + 0.5)


@pytest.mark.parametrize("classify", [True, False])
def test_a_colorizer_trains_on_either_loss(centres, classify):
    torch.manual_seed(0)
    rgb = torch.rand(16, 3, 16, 16)
    model = col.Colorizer(nets.Backbone(1, 4), len(centres) if classify else 2, image_size=16)
    x = col.network_input(col.split_lab(rgb)[0])
    assert model(x).shape == (16, len(centres) if classify else 2, 4, 4)
    weights = torch.ones(len(centres))
    loss = ((lambda m, b: col.classification_loss(m, b, centres, weights)) if classify else col.regression_loss)
    history = train.fit(model, train.batches(rgb, batch_size=8), loss, steps=4, progress=False, log_every=1)
    assert all(torch.isfinite(torch.tensor(history["loss"])))
    out = col.colorize(model, rgb[:3], centres if classify else None)
    assert out.shape == (3, 3, 16, 16)
    change = (col.split_lab(out)[0] - col.split_lab(rgb[:3])[0]).abs()  # colorizing keeps the photo's own lightness
    assert change.mean() < 0.5 and change.max() < 5  # but for the odd pixel whose colour left the RGB gamut


def test_soft_encoding_matches_a_search_over_all_bins(centres):
    torch.manual_seed(0)
    _, ab = col.split_lab(torch.rand(4, 3, 6, 6))
    index, weights = col.soft_encode(ab, centres)
    distances = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), centres)
    nearest, everywhere = distances.topk(5, dim=1, largest=False)
    assert torch.equal(index.permute(0, 2, 3, 1).reshape(-1, 5).sort(1).values, everywhere.sort(1).values)
    expected = torch.softmax(-nearest.pow(2) / (2 * col.SIGMA ** 2), dim=1)
    assert torch.allclose(weights.permute(0, 2, 3, 1).reshape(-1, 5), expected, atol=1e-5)


def _ab(*pairs):
    """One image of len(pairs) pixels in a row, with these (a, b) colours: 1 x 2 x 1 x n."""
    return torch.tensor(pairs, dtype=torch.float32).T.reshape(1, 2, 1, len(pairs))


def test_ab_auc_is_the_area_under_the_fraction_of_pixels_within_each_threshold():
    truth = _ab((0.0, 0.0), (30.0, 40.0), (-60.0, 80.0), (10.0, 0.0))
    guess = _ab((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (10.0, 30.0))  # errors 0, 50, 100, 30
    thresholds = torch.linspace(0, 150, 15001)
    errors = torch.tensor([0.0, 50.0, 100.0, 30.0])
    swept = (errors[None] <= thresholds[:, None]).float().mean(1)  # the cumulative curve, threshold by threshold
    assert col.ab_auc(guess, truth) == pytest.approx(100 * torch.trapezoid(swept, thresholds).item() / 150, abs=0.01)
    assert col.ab_auc(truth, truth) == pytest.approx(100.0)
    assert col.ab_auc(truth + 200.0, truth) == pytest.approx(0.0)  # every pixel beyond the last threshold


def test_ab_auc_weights_pixels():
    truth, guess = _ab((0.0, 0.0), (0.0, 0.0)), _ab((0.0, 0.0), (75.0, 0.0))  # one right, one half-way off
    assert col.ab_auc(guess, truth) == pytest.approx(75.0)
    assert col.ab_auc(guess, truth, weights=torch.tensor([[[1.0, 3.0]]])) == pytest.approx((100 + 3 * 50) / 4)


def test_per_colour_weights_make_every_true_colour_count_the_same(centres):
    truth = _ab((1.0, 1.0), (2.0, -1.0), (0.0, 0.0), (60.0, 20.0))  # three greys and one saturated colour
    weights = col.per_colour_weights(truth, centres)
    assert weights.shape == (1, 1, 4)
    assert torch.allclose(weights, torch.tensor([[[1 / 3, 1 / 3, 1 / 3, 1.0]]]))
    grey_guess = torch.zeros_like(truth)  # right on the greys, 63 off on the rare colour
    assert col.ab_auc(grey_guess, truth, weights) < col.ab_auc(grey_guess, truth)
