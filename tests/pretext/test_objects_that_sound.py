import pytest
import torch

from course_lib.pretext import objects_that_sound as ots


def _digits(n=40, side=28, seed=0):
    """Fake digit images: a bright square whose brightness encodes nothing; labels 0-9 in turn."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, side, side, generator=g) * 0.5 + 0.5
    return images, torch.arange(n) % 10


def test_canvases_have_the_right_shape_and_different_digits():
    images, labels = _digits()
    c = ots.make_canvases(images, labels, 50, k=3, generator=torch.Generator().manual_seed(1))
    assert c.x.shape == (50, 1, 64, 64) and c.digits.shape == (50, 3) and c.boxes.shape == (50, 3, 4)
    assert all(len(set(row.tolist())) == 3 for row in c.digits)


def test_boxes_do_not_overlap_and_stay_on_the_canvas():
    images, labels = _digits()
    c = ots.make_canvases(images, labels, 200, k=2, generator=torch.Generator().manual_seed(2))
    (a, b) = c.boxes.unbind(1)
    apart = (a[:, 2] <= b[:, 0]) | (b[:, 2] <= a[:, 0]) | (a[:, 3] <= b[:, 1]) | (b[:, 3] <= a[:, 1])
    assert apart.all()
    assert (c.boxes >= 0).all() and (c.boxes <= 64).all()
    assert ((c.boxes[..., 2:] - c.boxes[..., :2]) == 28).all()


def test_each_digit_is_pasted_inside_its_box():
    images, labels = _digits()
    c = ots.make_canvases(images, labels, 20, k=2, generator=torch.Generator().manual_seed(3))
    for i in range(20):
        inside = torch.zeros(64, 64, dtype=torch.bool)
        for x0, y0, x1, y1 in c.boxes[i].tolist():
            inside[y0:y1, x0:x1] = True
            assert c.x[i, 0, y0:y1, x0:x1].min() >= 0.5  # the fake digits are bright everywhere
        assert (c.x[i, 0][~inside] == 0).all()


def test_pasted_pixels_come_from_an_image_of_the_named_digit():
    images = torch.arange(10).float().view(10, 1, 1, 1).expand(10, 1, 28, 28) / 10  # image d has value d / 10
    c = ots.make_canvases(images, torch.arange(10), 10, k=2, generator=torch.Generator().manual_seed(4))
    for i in range(10):
        for (x0, y0, _, _), d in zip(c.boxes[i].tolist(), c.digits[i].tolist(), strict=True):
            assert c.x[i, 0, y0, x0].item() == pytest.approx(d / 10)


def test_too_many_digits_are_refused():
    images, labels = _digits()
    with pytest.raises(ValueError, match="1 to 10"):
        ots.make_canvases(images, labels, 2, k=11)


def test_correspondence_marks_every_pair_whose_spoken_digit_is_on_the_canvas():
    spoken = torch.tensor([3, 7, 1])
    digits = torch.tensor([[3, 5], [7, 3], [0, 2]])
    expected = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    assert torch.equal(ots.correspondence(spoken, digits), expected)


def test_model_gives_a_map_per_pair_with_cosines():
    model = ots.AVOLNet(width=4, embed=8).eval()
    maps = model(torch.randn(3, 1, 32, 32), torch.rand(5, 1, 64, 64))
    assert maps.shape == (3, 5, 16, 16)
    with torch.no_grad():
        places = model.image_map(torch.rand(2, 1, 64, 64))  # 2 x D x 16 x 16, unit length at every place
    hot = ots.similarity(places[1, :, 5, 9][None], places)  # a sound embedded exactly as canvas 1 at (5, 9)
    assert hot[0, 1].argmax() == 5 * 16 + 9 and hot[0, 1, 5, 9] == pytest.approx(1.0, abs=1e-5)  # a cosine of 1
    paired = ots.paired_maps(model, torch.randn(5, 1, 32, 32), torch.rand(5, 1, 64, 64))
    assert paired.shape == (5, 16, 16)


def test_paired_maps_are_the_diagonal_of_all_maps():
    model = ots.AVOLNet(width=4, embed=8).eval()
    sounds, canvases = torch.randn(4, 1, 32, 32), torch.rand(4, 1, 64, 64)
    with torch.no_grad():
        everything = model(sounds, canvases)
        paired = ots.paired_maps(model, sounds, canvases)
    assert torch.allclose(everything[torch.arange(4), torch.arange(4)], paired, atol=1e-5)


def test_logit_is_the_calibrated_max_over_locations():
    model = ots.AVOLNet(width=4, embed=8)
    maps = torch.zeros(2, 2, 16, 16)
    maps[0, 1, 3, 4] = 0.9
    logits = model.logits(maps)
    assert logits[0, 1].item() == pytest.approx(model.scale.item() * 0.9 + model.bias.item())
    assert logits[1, 1].item() == pytest.approx(model.bias.item())


@pytest.mark.parametrize("loss", [ots.all_pairs_loss, ots.one_negative_loss])
def test_losses_train_the_whole_model(loss):
    torch.manual_seed(0)
    model = ots.AVOLNet(width=4, embed=8)
    batch = (torch.randn(6, 1, 32, 32), torch.rand(6, 1, 64, 64), torch.tensor([1, 2, 3, 4, 5, 6]),
             torch.tensor([[1, 0], [2, 0], [3, 0], [4, 0], [5, 0], [6, 0]]))
    value, logged = loss(model, batch)
    value.backward()
    assert value.item() > 0 and 0 <= logged["acc"] <= 1
    assert model.image_projection[0].weight.grad.abs().sum() > 0
    assert model.audio_projection[0].weight.grad.abs().sum() > 0


def test_pointing_reads_the_arg_max_cell_in_canvas_pixels():
    maps = torch.zeros(2, 16, 16)
    maps[0, 2, 5] = 1.0  # row 2, column 5
    maps[1, 15, 0] = 1.0
    assert torch.equal(ots.pointing(maps), torch.tensor([[22.0, 10.0], [2.0, 62.0]]))


def test_point_gives_the_max_over_locations_and_the_arg_max_as_row_and_column():
    audio = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    image_map = torch.zeros(2, 2, 3, 5)
    image_map[0, 0, 2, 4] = 0.9  # canvas 0 matches recording 0 best at row 2, column 4
    image_map[1, 1, 0, 1] = 0.7  # canvas 1 matches recording 1 best at row 0, column 1
    image_map[1, 0, 2, 2] = 1.0  # recording 0 would like canvas 1 here: not canvas 1's own recording
    image_map.requires_grad_()
    score, where = ots.point(audio, image_map)
    assert torch.allclose(score, torch.tensor([0.9, 0.7])) and torch.equal(where, torch.tensor([[2, 4], [0, 1]]))
    score.sum().backward()
    assert audio.grad.abs().sum() > 0 and image_map.grad.abs().sum() > 0  # the score trains both towers
    maps = torch.einsum("nd,ndhw->nhw", audio, image_map).detach()
    pixels = where.flip(1).float() * ots.MAP_STRIDE + ots.MAP_STRIDE / 2
    assert torch.equal(pixels, ots.pointing(maps))  # the same place as ``pointing`` reads from the maps


def test_inside_treats_the_far_edges_as_outside():
    boxes = torch.tensor([[10, 20, 38, 48]] * 4)
    points = torch.tensor([[10.0, 20.0], [37.9, 47.9], [38.0, 30.0], [9.9, 30.0]])
    assert ots.inside(points, boxes).tolist() == [True, True, False, False]


def test_canvases_remember_which_image_was_pasted_in_each_box():
    images = torch.arange(10).float().view(10, 1, 1, 1).expand(10, 1, 28, 28) / 10
    c = ots.make_canvases(images, torch.arange(10), 10, k=2, generator=torch.Generator().manual_seed(4))
    assert c.sources.shape == (10, 2) and torch.equal(c.sources, c.digits)  # image d is the only image of digit d
    for i in range(10):
        for (x0, y0, _, _), source in zip(c.boxes[i].tolist(), c.sources[i].tolist(), strict=True):
            assert c.x[i, 0, y0, x0].item() == pytest.approx(images[source, 0, 0, 0].item())


class _Maps(torch.nn.Module):
    """A stand-in AVOL-Net whose similarity maps are given: the losses see exactly the maps a test hands them."""

    def __init__(self, best):
        super().__init__()
        self.best = torch.nn.Parameter(best.clone())  # B x B: the max over locations of every pair's map
        self.scale, self.bias = torch.tensor(10.0), torch.tensor(-5.0)

    def forward(self, spectrograms, canvases):
        return self.best[:, :, None, None].expand(-1, -1, 2, 2)

    logits = ots.AVOLNet.logits


def test_video_loss_calls_every_other_canvas_a_negative_even_one_with_the_spoken_digit():
    batch = (torch.zeros(3, 1, 32, 32), torch.zeros(3, 1, 64, 64))  # no digits: the loss cannot read any
    own_only = torch.eye(3)  # cosine 1 on the diagonal: "yes"; 0 elsewhere: "no"
    loss, logged = ots.video_loss(_Maps(own_only), batch)
    assert logged["acc"] == 1.0
    another_says_yes = own_only.clone()
    another_says_yes[0, 2] = 1.0  # canvas 2 may well show recording 0's digit: still a negative
    worse, logged = ots.video_loss(_Maps(another_says_yes), batch)
    assert worse > loss and logged["acc"] < 1.0


def test_video_loss_weighs_the_diagonal_as_much_as_the_rest():
    loss, logged = ots.video_loss(_Maps(torch.zeros(6, 6)), (torch.zeros(6, 1, 32, 32), torch.zeros(6, 1, 64, 64)))
    assert logged["acc"] == pytest.approx(0.5)  # "no" everywhere: right on 30 of 36 pairs, but half the weight missed


def test_contrastive_loss_is_low_when_each_recording_picks_its_own_canvas():
    batch = (torch.zeros(4, 1, 32, 32), torch.zeros(4, 1, 64, 64))
    own = ots.contrastive_loss(_Maps(torch.eye(4)), batch)
    swapped = ots.contrastive_loss(_Maps(1 - torch.eye(4)), batch)
    assert own[0] < swapped[0] and own[1]["acc"] == 1.0 and swapped[1]["acc"] == 0.0


@pytest.mark.parametrize("loss", [ots.video_loss, ots.contrastive_loss])
def test_label_free_losses_train_the_whole_model(loss):
    torch.manual_seed(0)
    model = ots.AVOLNet(width=4, embed=8)
    value, logged = loss(model, (torch.randn(6, 1, 32, 32), torch.rand(6, 1, 64, 64)))
    value.backward()
    assert value.item() > 0 and 0 <= logged["acc"] <= 1
    assert model.image_projection[0].weight.grad.abs().sum() > 0
    assert model.audio_projection[0].weight.grad.abs().sum() > 0


def test_balanced_bce_weighs_positives_and_negatives_half_each_whatever_their_share():
    always_no = torch.full((10,), -5.0)
    few, many = torch.zeros(10), torch.zeros(10)
    few[0], many[:5] = 1.0, 1.0  # one positive in ten, five in ten
    loss_few, logged_few = ots.balanced_bce(always_no, few)
    loss_many, logged_many = ots.balanced_bce(always_no, many)
    assert loss_few.item() == pytest.approx(loss_many.item())  # the same answer costs the same at any share
    assert logged_few["acc"].item() == pytest.approx(0.5) == logged_many["acc"].item()  # "always no": half right
    loss, logged = ots.balanced_bce(torch.full((4,), 5.0), torch.ones(4))  # no negative at all: still a number
    assert torch.isfinite(loss) and logged["acc"].item() == pytest.approx(0.5)
