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
    with torch.no_grad():
        a, b = decoder(encoder(images[[2, 9]]))[:, 0].numpy()
    assert demo.update(first=2, second=9, mix=0.3, pc2=-1.0).shape == (8, 8)
    assert np.allclose(demo.update(first=2, second=9, mix=0.0, pc2=0.0), a, atol=1e-6)  # image a, through the code
    assert np.allclose(demo.update(first=2, second=9, mix=1.0, pc2=0.0), b, atol=1e-6)  # image b


def test_png_scales_pixels_to_blocks():
    from io import BytesIO

    from PIL import Image

    data = widgets.png(np.array([[0.0, 1.0], [0.5, 2.0]]), scale=5)
    picture = Image.open(BytesIO(data))
    assert picture.size == (10, 10)
    assert picture.getpixel((0, 0)) == 0 and picture.getpixel((9, 9)) == 255  # clipped to 1


# --- the colorization demo ---------------------------------------------------------------------------------------

def _upload(name, data):
    """A FileUpload value as the browser sends it (ipywidgets 8)."""
    import datetime

    return ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
             "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def _png_bytes(h=20, w=30):
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.fromarray((np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8)).save(buffer, "png")
    return buffer.getvalue()


def _colour_demo():
    images = {"a": torch.rand(1, 3, 8, 8), "b": torch.rand(1, 3, 8, 8)}
    return widgets.colorization_demo(lambda rgb, t: rgb * t, images, temperature=0.5), images


def test_colorization_demo_draws_the_chosen_image_at_the_chosen_temperature():
    demo, images = _colour_demo()
    picture = demo.update(image="b", temperature=0.25)
    assert np.allclose(picture, 0.25 * images["b"][0].permute(1, 2, 0).numpy(), atol=1e-6)
    assert "b" in demo.widget.children[2].value and "0.25" in demo.widget.children[2].value
    with pytest.raises(KeyError, match="no image called"):
        demo.render(image="c")


def test_a_good_upload_is_added_and_shown():
    demo, _ = _colour_demo()
    demo.controls["upload"].value = _upload("mine.png", _png_bytes())
    assert demo.values()["image"] == "upload: mine.png"
    assert "upload: mine.png" in demo.controls["image"].options
    assert demo.render("upload: mine.png", 1.0).shape == (128, 128, 3)  # centre-cropped square


@pytest.mark.parametrize("data, says", [(b"this is not a picture", "not an image"),
                                        (_png_bytes()[:80], "damaged"), (b"", "empty")])
def test_a_wrong_upload_gets_a_message_and_nothing_is_lost(data, says):
    demo, _ = _colour_demo()
    demo.update(image="b")
    before = (demo.controls["image"].options, demo.widget.children[1].value)
    demo.controls["upload"].value = _upload("bad.png", data)
    message = demo.widget.children[-1].value
    assert "bad.png" in message and says in message and "Nothing changed" in message
    assert (demo.controls["image"].options, demo.widget.children[1].value) == before
    assert demo.values()["image"] == "b"


def test_uploaded_image_reads_grey_and_rgba_pictures_as_colour():
    from io import BytesIO

    from PIL import Image

    for mode in ("L", "RGBA"):
        buffer = BytesIO()
        Image.new(mode, (40, 10)).save(buffer, "png")
        assert widgets.uploaded_image(buffer.getvalue(), side=16).shape == (1, 3, 16, 16)


def test_picture_strip_puts_grey_and_colour_pictures_side_by_side():
    strip = widgets.picture_strip([np.zeros((4, 3)), np.ones((2, 5, 3))], gap=1)
    assert strip.shape == (4, 3 + 1 + 5, 3)
    assert (strip[:, :3] == 0).all() and (strip[:2, 4:] == 1).all() and (strip[2:, 4:] == 1).all()


def test_nearest_neighbours_shows_what_the_chosen_query_finds_and_switches_kinds():
    found = {("a sound", "one"): [np.zeros((2, 2))], ("a sound", "two"): [np.ones((2, 2)), np.ones((2, 2))],
             ("a word", "cat"): [np.full((3, 3), 0.5)]}
    demo = widgets.nearest_neighbours(lambda kind, name: (found[(kind, name)], f"{kind}: {name}"),
                                      {"a sound": ["one", "two"], "a word": ["cat"]})
    assert demo.update(query="two").shape == (2, 2 + 2 + 2, 3)  # two pictures and the default gap of 2
    assert demo.update(kind="a word").shape == (3, 3, 3) and demo.values()["query"] == "cat"
    assert np.allclose(demo.render(kind="a sound", query="one"), 0)
    with pytest.raises(KeyError):
        demo.render(kind="a smell")
