"""Interactive demos (ipywidgets), built by factory functions that tests can drive without a browser.

Each factory returns a ``Demo``: ``.widget`` to display as a cell's value, ``.controls`` by name, and
``.update(**values)``, which sets controls exactly as a student's mouse would and returns the picture drawn, as an
array. ``.render(...)`` computes a picture from control values without touching the widgets.

    latent_explorer(encode, decode, images)   walk the latent space of an autoencoder: mix the codes of two
                                              images, move along the first principal directions, decode
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import ipywidgets
import numpy as np
import torch
from PIL import Image


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
    """A grey image with values in [0, 1] as PNG bytes, each pixel drawn as a ``scale`` x ``scale`` block."""
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
