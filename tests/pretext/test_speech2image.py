"""Tests of course_lib.pretext.speech2image: styles, the network's shapes and skips, the L1 loss, the pairs."""

from __future__ import annotations

import pytest
import torch

from course_lib import train
from course_lib.pretext import speech2image as s2i


def bar(n: int = 4, side: int = 28) -> torch.Tensor:
    """N images of an upright bar, 2 pixels wide and 14 tall, in the middle."""
    x = torch.zeros(n, 1, side, side)
    x[:, :, 7:21, 13:15] = 1.0
    return x


def plain(n: int) -> s2i.Style:
    return s2i.Style(torch.zeros(n, dtype=torch.int64), torch.zeros(n), torch.ones(n))


def test_random_styles_stay_in_their_ranges():
    style = s2i.random_styles(500, torch.Generator().manual_seed(0))
    assert len(style) == 500 and set(style.thickness.tolist()) == set(s2i.THICKNESS)
    assert style.slant.abs().max() <= s2i.SLANT
    assert s2i.SCALE[0] <= style.scale.min() and style.scale.max() <= s2i.SCALE[1]
    assert len(style[:3]) == 3


def test_plain_style_leaves_the_image_alone():
    x = bar()
    assert torch.allclose(s2i.apply_style(x, plain(4)), x, atol=1e-5)


def test_thickness_changes_the_ink_in_order():
    x = bar(3)
    style = s2i.Style(torch.tensor([-1, 0, 1]), torch.zeros(3), torch.ones(3))
    ink = s2i.ink(s2i.apply_style(x, style))
    assert ink[0] < ink[1] < ink[2]


def test_slant_is_measured_in_the_units_it_is_applied():
    x = bar(3)
    style = s2i.Style(torch.zeros(3, dtype=torch.int64), torch.tensor([-0.4, 0.0, 0.4]), torch.ones(3))
    measured = s2i.slant(s2i.apply_style(x, style))
    assert torch.allclose(measured, style.slant, atol=0.08)  # positive: the top leans right
    top = s2i.apply_style(x, style)[2, 0, 8]
    bottom = s2i.apply_style(x, style)[2, 0, 19]
    assert top.argmax() > bottom.argmax()


def test_scale_shrinks_the_digit():
    x = bar(2)
    style = s2i.Style(torch.zeros(2, dtype=torch.int64), torch.zeros(2), torch.tensor([1.0, 0.8]))
    ink = s2i.ink(s2i.apply_style(x, style))
    assert ink[1] < ink[0]


def test_network_maps_speech_and_identity_to_an_image():
    for skips in (True, False):
        model = s2i.Speech2Image(width=4, skips=skips)
        out = model(torch.randn(3, 1, 32, 32), torch.rand(3, 1, 28, 28))
        assert out.shape == (3, 1, 28, 28)


def test_skips_add_only_decoder_inputs():
    with_skips, without = s2i.Speech2Image(4, True), s2i.Speech2Image(4, False)
    assert with_skips.up14[1].in_channels == without.up14[1].in_channels + with_skips.identity.channels["conv2"]
    assert with_skips.up28[1].in_channels == without.up28[1].in_channels + with_skips.identity.channels["conv1"]
    assert with_skips.up7[1].in_channels == without.up7[1].in_channels


def test_output_depends_on_the_sound_and_on_the_identity():
    torch.manual_seed(0)
    model = s2i.Speech2Image(4).eval()
    speech, identity = torch.randn(2, 1, 32, 32), torch.rand(2, 1, 28, 28)
    out = model(speech, identity)
    assert not torch.allclose(out, model(speech.flip(0), identity))
    assert not torch.allclose(out, model(speech, identity.flip(0)))


def test_l1_loss_is_zero_only_for_the_target():
    class Copy(torch.nn.Module):
        def forward(self, spectrogram, identity):
            return identity

    x = bar(2)
    assert s2i.l1_loss(Copy(), (None, x, x)) == 0
    assert s2i.l1_loss(Copy(), (None, x, torch.zeros_like(x))) == x.mean()


def test_pairs_target_the_spoken_digit_in_the_identity_style():
    generator = torch.Generator().manual_seed(0)
    images = torch.stack([bar(1)[0] * (d + 1) / 10 for d in range(10)])  # image d has brightness (d + 1) / 10
    digits = torch.arange(10)
    spoken = torch.tensor([3, 3, 7, 0])
    identity, target, style = s2i.make_pairs(spoken, images, digits, generator)
    assert identity.shape == target.shape == (4, 1, 28, 28) and len(style) == 4
    faint = torch.where(style.thickness < 0, 0.5, 1.0)  # an eroded 2-pixel bar keeps half its brightness
    assert torch.allclose(target.amax((1, 2, 3)), (spoken + 1) / 10 * faint, atol=1e-5)  # the spoken digit
    assert torch.allclose(s2i.slant(identity), s2i.slant(target), atol=1e-4)  # the same style


def test_pair_batches_feed_the_training_loop():
    images, digits = torch.rand(50, 1, 28, 28), torch.arange(50) % 10
    specs, spoken = torch.randn(20, 1, 32, 32), torch.arange(20) % 10
    stream = s2i.pair_batches(specs, spoken, images, digits, batch_size=8, seed=0)
    spectrogram, identity, target = next(stream)
    assert spectrogram.shape == (8, 1, 32, 32) and identity.shape == target.shape == (8, 1, 28, 28)
    model = s2i.Speech2Image(4)
    history = train.fit(model, stream, s2i.l1_loss, steps=3, progress=False, log_every=1)
    assert len(history["loss"]) == 3


def test_l1_optimum_is_the_per_pixel_median_of_the_styled_candidates():
    candidates = torch.zeros(5, 1, 28, 28)
    for i, level in enumerate([0.1, 0.2, 0.3, 0.9, 1.0]):
        candidates[i, :, 10:18, 10:18] = level  # one square, five inks
    optimum = s2i.l1_optimum(candidates, plain(1)[0])
    assert optimum.shape == (1, 28, 28)
    assert optimum[0, 14, 14].item() == pytest.approx(0.3)  # the median, not the mean (0.5)
    assert optimum[0, 0, 0].item() == 0


def test_l1_optimum_beats_every_candidate_on_the_expected_l1():
    candidates = torch.rand(7, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    optimum = s2i.l1_optimum(candidates, plain(1)[0])

    def expected_l1(answer):
        return (answer - candidates).abs().mean().item()

    assert all(expected_l1(optimum) <= expected_l1(c) + 1e-6 for c in candidates)
    assert expected_l1(optimum) < expected_l1(candidates.mean(0)) + 1e-6  # the mean is L2's answer, not L1's
