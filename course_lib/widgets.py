"""Interactive demos (ipywidgets), built by factory functions that tests can drive without a browser.

Each factory returns a ``Demo``: ``.widget`` to display as a cell's value, ``.controls`` by name, and
``.update(**values)``, which sets controls exactly as a student's mouse would and returns the picture drawn, as an
array. ``.render(...)`` computes a picture from control values without touching the widgets.

    latent_explorer(encode, decode, images)   walk the latent space of an autoencoder: mix the codes of two
                                              images, move along the first principal directions, decode
    colorization_demo(colorize, images)       "Let's test it!": colour a chosen or uploaded photo, with a
                                              temperature slider; a file that is not an image gets a message
    say_a_digit(locate, canvases, recordings) objects that sound: pick a spoken digit and a canvas of digits,
                                              see the similarity map over the canvas (and hear the recording)
    nearest_neighbours(neighbours, queries)   a joint embedding space: pick a query (a recording, a caption, an
                                              image) and see its nearest items of the other modalities
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import ipywidgets
import numpy as np
import torch
from PIL import Image, UnidentifiedImageError


@dataclass
class Demo:
    """A displayed widget, its controls by name, and the function that draws its picture."""

    widget: ipywidgets.Widget
    controls: dict[str, ipywidgets.ValueWidget]
    render: Callable[..., np.ndarray]  # control values (keywords) -> the picture, without touching the widgets
    redraw: Callable[[], np.ndarray] = field(repr=False)  # draw what the controls now say; return the picture

    def update(self, **values) -> np.ndarray:
        """Set controls (as a student would) and return the picture they now show."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(f"no control called {sorted(unknown)}; controls are {sorted(self.controls)}")
        for name, value in values.items():
            self.controls[name].value = value  # bounded controls clip, as in the browser
        return self.redraw()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}


def png(image: np.ndarray, scale: int = 4) -> bytes:
    """A grey (H x W) or colour (H x W x 3) image with values in [0, 1] as PNG bytes, each pixel drawn as a
    ``scale`` x ``scale`` block."""
    pixels = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    picture = Image.fromarray(pixels).resize((pixels.shape[1] * scale, pixels.shape[0] * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="png")
    return buffer.getvalue()


def _grey(image: torch.Tensor) -> np.ndarray:
    """A 1 x H x W (or H x W) tensor as an H x W numpy array."""
    return image.detach().float().cpu().reshape(image.shape[-2:]).numpy()


@torch.no_grad()
def latent_explorer(encode: Callable[[torch.Tensor], torch.Tensor], decode: Callable[[torch.Tensor], torch.Tensor],
                    images: torch.Tensor, n_directions: int = 4, span: float = 3.0, first: int = 0,
                    second: int = 1, scale: int = 4) -> Demo:
    """Explore a latent space: decode (1 - t) code(a) + t code(b) + sum_i s_i sigma_i v_i.

    ``encode`` maps images (N x 1 x H x W) to codes of any shape, ``decode`` maps codes back to images in [0, 1].
    a and b index ``images``; v_i is the i-th principal direction of the codes of all ``images`` and sigma_i the
    codes' standard deviation along it, so a slider at s_i = 1 moves one typical step in that direction.
    The picture is image a | the decoded code | image b.
    """
    codes = torch.cat([encode(images[i:i + 500]) for i in range(0, len(images), 500)])
    code_shape, flat = codes.shape[1:], codes.flatten(1).float()
    centred = flat - flat.mean(0)
    _, singular, directions = torch.linalg.svd(centred, full_matrices=False)
    n_directions = max(0, min(n_directions, len(singular)))
    sigma = singular[:n_directions] / max(1, len(flat) - 1) ** 0.5
    directions = directions[:n_directions]

    def render(first: int = first, second: int = second, mix: float = 0.0, **moves: float) -> np.ndarray:
        steps = torch.tensor([float(moves.get(f"pc{i + 1}", 0.0)) for i in range(n_directions)], device=flat.device)
        unknown = set(moves) - {f"pc{i + 1}" for i in range(n_directions)}
        if unknown:
            raise KeyError(f"no direction called {sorted(unknown)}; there are pc1 .. pc{n_directions}")
        code = (1 - mix) * flat[first] + mix * flat[second] + (steps * sigma) @ directions
        return _grey(decode(code.view(1, *code_shape).to(codes.dtype))[0])

    last = len(images) - 1
    controls = {
        "first": ipywidgets.BoundedIntText(value=first, min=0, max=last, description="image a"),
        "second": ipywidgets.BoundedIntText(value=second, min=0, max=last, description="image b"),
        "mix": ipywidgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="a -> b"),
        **{f"pc{i + 1}": ipywidgets.FloatSlider(value=0.0, min=-span, max=span, step=0.25,
                                                description=f"direction {i + 1}") for i in range(n_directions)},
    }
    picture = ipywidgets.Image(format="png")
    caption = ipywidgets.Label()

    def redraw(_change=None) -> np.ndarray:
        values = {name: control.value for name, control in controls.items()}
        decoded = render(**values)
        a, b = _grey(images[values["first"]]), _grey(images[values["second"]])
        gap = np.ones((decoded.shape[0], 2))
        picture.value = png(np.hstack([a, gap, decoded, gap, b]), scale)
        caption.value = (f"left: image a (#{values['first']}) | middle: decoded | right: image b "
                         f"(#{values['second']}); mix {values['mix']:.2f}")
        return decoded

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    widget = ipywidgets.HBox([ipywidgets.VBox(list(controls.values())), ipywidgets.VBox([picture, caption])])
    return Demo(widget=widget, controls=controls, render=render, redraw=redraw)


# --- colorization: "Let's test it!" ------------------------------------------------------------------------------

def square_image(image, side: int) -> torch.Tensor:
    """An H x W x 3 uint8 array (or PIL image) -> 1 x 3 x side x side floats in [0, 1], centre-cropped square."""
    pixels = np.asarray(image)
    if pixels.ndim == 2:  # a grey photo: three equal channels
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected an H x W x 3 colour image, got an array of shape {pixels.shape}")
    h, w = pixels.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = torch.from_numpy(np.ascontiguousarray(pixels[top:top + s, left:left + s, :3])).float() / 255.0
    return torch.nn.functional.interpolate(crop.permute(2, 0, 1)[None], size=(side, side), mode="bilinear",
                                           antialias=True, align_corners=False).clamp(0.0, 1.0)


def uploaded_image(data: bytes, side: int = 128) -> torch.Tensor:
    """The bytes of an uploaded file as a square image (``square_image``); a ValueError that says why if they are
    not a picture PIL can read."""
    if not data:
        raise ValueError("the file is empty")
    try:
        with Image.open(io.BytesIO(bytes(data))) as picture:
            picture.load()  # decode now: a truncated or corrupt file fails here, not later
            rgb = picture.convert("RGB")
    except UnidentifiedImageError:
        raise ValueError("not an image (no image format recognised); upload a PNG or JPEG photo") from None
    except Exception as err:  # PIL raises OSError, SyntaxError, ... on damaged image data
        raise ValueError(f"a damaged image file ({err}); upload a PNG or JPEG photo") from None
    return square_image(rgb, side)


def _files(upload_value) -> list[tuple[str, bytes]]:
    """(name, bytes) of every file in a FileUpload's value (ipywidgets 8: a tuple of dicts; 7: a dict by name)."""
    if isinstance(upload_value, dict):
        return [(name, bytes(f["content"])) for name, f in upload_value.items()]
    return [(f["name"], bytes(f["content"])) for f in upload_value]


def colorization_demo(colorize: Callable[[torch.Tensor, float], torch.Tensor], images: dict[str, torch.Tensor],
                      temperature: float = 0.38, scale: int = 1) -> Demo:
    """Colour a chosen image: grey input | the network's colours | the original, with a temperature slider.

    ``colorize(rgb, T)`` maps a 1 x 3 x H x W image in [0, 1] to its colorized version; ``images`` are the choices.
    An uploaded file is added to the choices and shown; a file that is not an image leaves everything as it was and
    says why under the picture. ``render(image=name, temperature=T)`` returns the colorized picture (H x W x 3).
    """
    images = dict(images)
    if not images:
        raise ValueError("give at least one image to choose from")

    def render(image: str = next(iter(images)), temperature: float = temperature) -> np.ndarray:
        if image not in images:
            raise KeyError(f"no image called {image!r}; there are {sorted(images)}")
        return colorize(images[image], temperature)[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy()

    controls = {
        "image": ipywidgets.Dropdown(options=list(images), description="image"),
        "temperature": ipywidgets.FloatSlider(value=temperature, min=0.05, max=1.0, step=0.01, description="T"),
        "upload": ipywidgets.FileUpload(accept="image/*", multiple=False, description="your photo"),
    }
    picture, caption, message = ipywidgets.Image(format="png"), ipywidgets.Label(), ipywidgets.Label()

    def redraw(_change=None) -> np.ndarray:
        name, t = controls["image"].value, controls["temperature"].value
        original = images[name][0].permute(1, 2, 0).cpu().numpy()
        coloured = render(name, t)
        grey = np.repeat(original @ np.array([0.299, 0.587, 0.114])[:, None], 3, axis=2)
        gap = np.ones((original.shape[0], 3, 3))
        picture.value = png(np.hstack([grey, gap, coloured, gap, original]), scale)
        caption.value = f"{name}: grey input | colorized (T = {t:.2f}) | original"
        return coloured

    def add_upload(change) -> None:
        for name, data in _files(change["new"]):
            try:
                images[f"upload: {name}"] = uploaded_image(data)
            except ValueError as err:
                message.value = f"{name}: {err}. Nothing changed."
                continue
            message.value = f"{name} added to the choices."
            controls["image"].options = list(images)
            controls["image"].value = f"upload: {name}"  # redraws

    controls["image"].observe(redraw, names="value")
    controls["temperature"].observe(redraw, names="value")
    controls["upload"].observe(add_upload, names="value")
    redraw()
    widget = ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), picture, caption, message])
    return Demo(widget=widget, controls=controls, render=render, redraw=redraw)


# --- objects that sound: "say a digit" ---------------------------------------------------------------------------

def heat_overlay(canvas: torch.Tensor, heat: np.ndarray, alpha: float = 0.45, vmin: float | None = None,
                 vmax: float | None = None) -> np.ndarray:
    """A grey canvas (1 x H x W or H x W in [0, 1]) with a heat map (h x w, any range) laid over it: H x W x 3.

    The map is stretched to [0, 1] -- from its own lowest to its own highest value, or from ``vmin`` to ``vmax``
    when given (one scale for several maps, so that a weak map looks weak) -- enlarged (bilinear) to the canvas and
    coloured with the "jet" colour map."""
    from matplotlib import colormaps  # imported here: only this demo needs it

    grey = _grey(canvas)
    heat = torch.as_tensor(np.asarray(heat, dtype=np.float32))
    low = heat.min() if vmin is None else torch.tensor(float(vmin))
    high = heat.max() if vmax is None else torch.tensor(float(vmax))
    heat = ((heat - low) / (high - low).clamp_min(1e-8)).clamp(0, 1)
    big = torch.nn.functional.interpolate(heat[None, None], size=grey.shape, mode="bilinear", align_corners=False)
    coloured = colormaps["jet"](big[0, 0].numpy())[..., :3]
    return (1 - alpha) * np.repeat(grey[..., None], 3, axis=2) + alpha * coloured


def say_a_digit(locate: Callable[[int, str], np.ndarray], canvases: torch.Tensor, recordings: list[str],
                sounds: dict[str, bytes] | None = None, scale: int = 4, vmin: float | None = None,
                vmax: float | None = None) -> Demo:
    """Objects that sound: pick a recording and a canvas, see where the model looks.

    ``locate(canvas, recording)`` returns the similarity map (h x w) of recording ``recording`` (a name from
    ``recordings``) with canvas number ``canvas`` of ``canvases`` (N x 1 x H x W). ``sounds`` (optional) maps a
    recording's name to the bytes of a WAV file, played by an audio player. ``render(canvas=i, recording=name)``
    returns the canvas with the heat map over it (H x W x 3). ``vmin`` / ``vmax``: one colour scale for every map
    (``heat_overlay``); without them each map is stretched over its own range, and even a map with no match looks hot.
    """
    if not recordings:
        raise ValueError("give at least one recording to choose from")

    def render(canvas: int = 0, recording: str = recordings[0]) -> np.ndarray:
        if recording not in recordings:
            raise KeyError(f"no recording called {recording!r}; there are {recordings}")
        return heat_overlay(canvases[canvas], locate(canvas, recording), vmin=vmin, vmax=vmax)

    controls = {
        "recording": ipywidgets.Dropdown(options=list(recordings), description="say"),
        "canvas": ipywidgets.BoundedIntText(value=0, min=0, max=len(canvases) - 1, description="canvas"),
    }
    picture, caption = ipywidgets.Image(format="png"), ipywidgets.Label()
    player = ipywidgets.Audio(format="wav", autoplay=False) if sounds else None

    def redraw(_change=None) -> np.ndarray:
        canvas, recording = controls["canvas"].value, controls["recording"].value
        heat = np.asarray(locate(canvas, recording))
        overlay = heat_overlay(canvases[canvas], heat, vmin=vmin, vmax=vmax)
        row, col = np.unravel_index(int(heat.argmax()), heat.shape)
        picture.value = png(overlay, scale)
        caption.value = f"canvas #{canvas}, recording {recording}: the map peaks at cell (row {row}, column {col})"
        if player is not None:
            player.value = sounds[recording]
        return overlay

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    shown = [picture, caption] + ([player] if player is not None else [])
    widget = ipywidgets.HBox([ipywidgets.VBox(list(controls.values())), ipywidgets.VBox(shown)])
    return Demo(widget=widget, controls=controls, render=render, redraw=redraw)


def picture_strip(pictures: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Pictures (H x W grey or H x W x 3 colour arrays in [0, 1], any widths, heights padded to the tallest) side by
    side on white, as one H x W' x 3 array."""
    if not pictures:
        raise ValueError("no picture to show")
    coloured = [p if p.ndim == 3 else np.repeat(p[..., None], 3, axis=2) for p in pictures]
    height = max(p.shape[0] for p in coloured)
    parts = []
    for p in coloured:
        padded = np.ones((height, p.shape[1], 3))
        padded[: p.shape[0]] = p
        parts += [padded, np.ones((height, gap, 3))]
    return np.concatenate(parts[:-1], axis=1)


def nearest_neighbours(neighbours: Callable[[str, str], tuple[list[np.ndarray], str]], queries: dict[str, list[str]],
                       scale: int = 3) -> Demo:
    """A joint embedding space to explore: pick what to search with (``kind``: e.g. "a recording", "a caption",
    "an image") and which one (``query``); see its nearest items of the other modalities.

    ``queries`` maps each kind to the names of its queries; ``neighbours(kind, name)`` returns the pictures of the
    nearest items, best first (grey or colour arrays in [0, 1]), and a line of text about them (what they show or
    say). ``render(kind=..., query=...)`` returns the strip of pictures (H x W x 3)."""
    if not queries or not all(queries.values()):
        raise ValueError("give at least one query of every kind")
    kinds = list(queries)

    def render(kind: str = kinds[0], query: str | None = None) -> np.ndarray:
        if kind not in queries:
            raise KeyError(f"no kind of query called {kind!r}; there are {kinds}")
        query = queries[kind][0] if query is None else query
        if query not in queries[kind]:
            raise KeyError(f"no {kind} called {query!r}")
        return picture_strip(neighbours(kind, query)[0])

    controls = {"kind": ipywidgets.Dropdown(options=kinds, description="search with"),
                "query": ipywidgets.Dropdown(options=queries[kinds[0]], description="query")}
    picture, caption = ipywidgets.Image(format="png"), ipywidgets.Label()

    def redraw(_change=None) -> np.ndarray:
        kind = controls["kind"].value
        if controls["query"].value not in queries[kind]:  # the kind changed: offer its queries
            controls["query"].options = queries[kind]  # sets the value to the first option, which redraws
        pictures, text = neighbours(kind, controls["query"].value)
        strip = picture_strip(pictures)
        picture.value, caption.value = png(strip, scale), text
        return strip

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    widget = ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), picture, caption])
    return Demo(widget=widget, controls=controls, render=render, redraw=redraw)
