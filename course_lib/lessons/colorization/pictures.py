"""Notebook 06's pictures: what the network is asked, the colour space, training, and the "Let's test it!" demo."""

from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from course_lib import show, train, widgets
from course_lib.lessons.colorization.evaluation import lightness_input
from course_lib.lessons.colorization.training import ColourSpace
from course_lib.pretext import colorization as col

# --- what the network is asked -----------------------------------------------------------------------------------

def show_task(rgb: torch.Tensor, space: ColourSpace):
    """Input and target as pictures: the image, X_L (what the network sees), X_ab shown at constant lightness
    (what it must predict), and the bin q* of each output pixel (the class of the classification loss)."""
    lightness, ab = col.split_lab(rgb)
    flat = torch.full_like(lightness, 65.0)  # the colour alone, at one lightness for every pixel
    ab_small = F.avg_pool2d(ab, col.OUTPUT_STRIDE)
    q_star = space.centres[col.nearest_bin(ab_small, space.centres)].permute(0, 3, 1, 2)
    side = ab_small.shape[-1]
    rows = {"image": rgb, "input: X_L": col.grey(rgb), "target: X_ab": col.to_rgb(flat, ab),
            f"target: bin q* ({side}x{side}, Q={space.q})": col.to_rgb(
                flat, F.interpolate(q_star, scale_factor=float(col.OUTPUT_STRIDE)))}
    return show.image_rows(rows)


def show_colour_space(space: ColourSpace):
    """The Q bins in the ab plane: p~ (log scale), how rare each colour is, and the weight w it gets."""
    ab = space.centres.cpu().numpy()
    swatch = col.to_rgb(torch.full((1, 1, 1, space.q), 65.0), space.centres.cpu().T.reshape(1, 2, 1, space.q))
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.3))
    axes[0].scatter(ab[:, 1], ab[:, 0], c=swatch[0, :, 0].T.numpy(), marker="s", s=30)
    axes[0].set_title(f"the Q = {space.q} bins (grid {col.GRID})", fontsize=9)
    rarest_shown = 1e-6  # p~ of far bins is ~0 after smoothing: show them at this floor
    for ax, values, title in ((axes[1], space.p_smooth.clamp_min(rarest_shown).log10(), "log10 p~ (CIFAR-10)"),
                              (axes[2], space.weights.log10(), "log10 w (lambda = 1/2)")):
        points = ax.scatter(ab[:, 1], ab[:, 0], c=values.cpu().numpy(), marker="s", s=30, cmap="viridis")
        fig.colorbar(points, ax=ax)
        ax.set_title(title, fontsize=9)
    for ax in axes:
        ax.set(xlabel="b", ylabel="a", aspect="equal")
    return show.finish(fig)


def show_training(histories: dict[str, train.History]):
    """Each method's training loss in a panel of its own (different losses: compare shapes, not heights)."""
    return show.training(histories, separate=True)


# --- "Let's test it!" --------------------------------------------------------------------------------------------

def bundled_photos(side: int = 128) -> dict[str, torch.Tensor]:
    """Photos that ship with scikit-image (no download), centre-cropped square, ``side`` pixels, 1 x 3 x side x side."""
    import skimage.data

    return {name: widgets.square_image(getattr(skimage.data, name)(), side) for name in ("astronaut", "chelsea",
                                                                                          "coffee")}


def colorize_any(model: col.Colorizer, space: ColourSpace, rgb: torch.Tensor, temperature: float = col.T_PAPER,
                 side: int = 32) -> torch.Tensor:
    """Colour an image of any size with a network trained at ``side`` x ``side``: predict ab on a shrunk copy,
    then put it (enlarged) on the full-size lightness -- colour varies slowly, lightness carries the detail."""
    device = next(model.parameters()).device
    rgb = rgb.to(device)
    small = F.interpolate(rgb, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    with torch.no_grad():
        logits = model.eval()(lightness_input(small))
    ab = col.annealed_mean(logits, space.centres, temperature)
    return col.to_rgb(col.split_lab(rgb)[0], ab).cpu()


def demo(model: col.Colorizer, space: ColourSpace, test_rgb: torch.Tensor, n_test: int = 6,
         side: int = 128) -> widgets.Demo:
    """The "Let's test it!" demo: CIFAR test images, bundled photos, or an upload, coloured by ``model``."""
    # CIFAR images enlarged (nearest) to the photos' size, so that all show alike; the network shrinks them back
    images = {f"CIFAR test #{i}": F.interpolate(test_rgb[i:i + 1].cpu(), size=(side, side), mode="nearest")
              for i in range(n_test)}
    images.update({f"photo: {name}": photo for name, photo in bundled_photos(side).items()})
    return widgets.colorization_demo(functools.partial(colorize_any, model, space), images)


def show_photos(model: col.Colorizer, space: ColourSpace, temperature: float = col.T_PAPER):
    """The demo without a kernel: each bundled photo, its grey input and the network's colours."""
    photos = bundled_photos()
    rows = {"photo": torch.cat(list(photos.values())),
            "input X_L": col.grey(torch.cat(list(photos.values()))),
            f"colorized, T = {temperature:g}": torch.cat([colorize_any(model, space, p, temperature)
                                                          for p in photos.values()])}
    return show.image_rows(rows, size=2.0)
