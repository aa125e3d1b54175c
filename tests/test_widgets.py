import numpy as np
import pytest
import torch

from course_lib import widgets


def _linear_world(n=12, side=4, seed=0):
    """Images whose "code" is the image itself: encode flattens, decode reshapes, so every picture is known."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, side, side, generator=g)
    return images, (lambda x: x.flatten(1)), (lambda code: code.view(-1, 1, side, side))


def test_mix_runs_from_one_image_to_the_other():
    images, encode, decode = _linear_world()
    demo = widgets.latent_explorer(encode, decode, images, n_directions=2)
    assert np.allclose(demo.update(first=3, second=5, mix=0.0), images[3, 0].numpy(), atol=1e-6)
    assert np.allclose(demo.update(mix=1.0), images[5, 0].numpy(), atol=1e-6)
    assert np.allclose(demo.update(mix=0.5), ((images[3] + images[5]) / 2)[0].numpy(), atol=1e-6)


def test_a_direction_slider_moves_along_the_first_principal_direction():
    images, encode, decode = _linear_world(n=50)
    demo = widgets.latent_explorer(encode, decode, images, n_directions=3)
    flat = images.flatten(1)
    centred = flat - flat.mean(0)
    _, s, v = torch.linalg.svd(centred, full_matrices=False)
    step = demo.render(first=0, second=0, pc1=1.0) - demo.render(first=0, second=0)
    expected = (s[0] / (len(flat) - 1) ** 0.5 * v[0]).view(4, 4).numpy()
    assert np.allclose(step, expected, atol=1e-5)
    assert np.allclose(demo.render(pc2=2.0) - demo.render(pc2=-2.0), 4 * (s[1] / 7 * v[1]).view(4, 4).numpy(),
                       atol=1e-5)


def test_update_redraws_the_displayed_picture_and_caption():
    images, encode, decode = _linear_world()
    demo = widgets.latent_explorer(encode, decode, images, n_directions=1, scale=3)
    before = demo.widget.children[1].children[0].value
    demo.update(first=7, pc1=1.5)
    picture, caption = demo.widget.children[1].children
    assert picture.value != before and picture.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "#7" in caption.value
    assert demo.values()["pc1"] == 1.5


def test_controls_clip_like_the_browser_and_unknown_names_are_refused():
    images, encode, decode = _linear_world(n=5)
    demo = widgets.latent_explorer(encode, decode, images, n_directions=2, span=2.0)
    demo.update(first=99, pc1=10.0)
    assert demo.values()["first"] == 4 and demo.values()["pc1"] == 2.0
    with pytest.raises(KeyError, match="pc3"):
        demo.update(pc3=1.0)
    with pytest.raises(KeyError, match="pc1 .. pc2"):
        demo.render(pc5=1.0)


def test_more_directions_than_the_codes_have_are_cut():
    images, encode, decode = _linear_world(n=3)
    demo = widgets.latent_explorer(encode, decode, images, n_directions=10)
    assert sorted(k for k in demo.controls if k.startswith("pc")) == ["pc1", "pc2", "pc3"]


def test_works_with_a_network_and_codes_with_a_shape():
    torch.manual_seed(0)
    encoder = torch.nn.Conv2d(1, 2, 3, stride=2, padding=1)  # 1 x 8 x 8 -> 2 x 4 x 4
    decoder = torch.nn.Sequential(torch.nn.ConvTranspose2d(2, 1, 2, stride=2), torch.nn.Sigmoid())
    images = torch.rand(20, 1, 8, 8)
    demo = widgets.latent_explorer(encoder, decoder, images)
    picture = demo.update(first=2, second=9, mix=0.3, pc2=-1.0)
    assert picture.shape == (8, 8) and 0 <= picture.min() and picture.max() <= 1


def test_png_scales_pixels_to_blocks():
    from io import BytesIO

    from PIL import Image

    data = widgets.png(np.array([[0.0, 1.0], [0.5, 2.0]]), scale=5)
    picture = Image.open(BytesIO(data))
    assert picture.size == (10, 10)
    assert picture.getpixel((0, 0)) == 0 and picture.getpixel((9, 9)) == 255  # clipped to 1
