"""Notebook 09's pictures (the heat-map grids on one colour scale each, with a colour bar), and the "say a digit"
demo (one colour scale for every map)."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import soundfile
import torch

from course_lib import show, train, widgets
from course_lib.data import SpokenDigits
from course_lib.lessons.objects_that_sound.canvases import DIGITS, Scenes, SoundsAndDigits, scenes
from course_lib.lessons.objects_that_sound.training import heat_maps
from course_lib.pretext import objects_that_sound as ots

# --- pictures -----------------------------------------------------------------------------------------------------

def _draw_boxes(ax, boxes: torch.Tensor, digits: torch.Tensor, spoken_slot: int | None = None) -> None:
    for j, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        colour = "lime" if j == spoken_slot else "white"
        ax.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, lw=1, ec=colour))
        ax.text(x0, y0 - 1, str(int(digits[j])), color=colour, fontsize=7, va="bottom")


def show_scenes(data: SoundsAndDigits, test: Scenes, n: int = 6):
    """Test canvases with their digit boxes (the spoken one green) and the spectrogram of the recording."""
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 3.4))
    for i in range(n):
        axes[0, i].imshow(test.canvases.x[i, 0], cmap="gray", vmin=0, vmax=1)
        _draw_boxes(axes[0, i], test.canvases.boxes[i], test.canvases.digits[i], int(test.slot[i]))
        axes[1, i].imshow(data.test_sounds[test.recording[i], 0], origin="lower", aspect="auto", cmap="magma")
        axes[1, i].set_title(f'"{int(test.spoken[i])}"', fontsize=8)
        for ax in axes[:, i]:
            ax.set(xticks=[], yticks=[])
    axes[0, 0].set_ylabel("canvas", fontsize=8)
    axes[1, 0].set_ylabel("recording", fontsize=8)
    return show.finish(fig)


def show_task(data: SoundsAndDigits, n: int = 6, k: int = DIGITS, seed: int = 0, weak_labels: bool = False):
    """What the network is asked, as a picture: every recording (rows) against every canvas (columns) of a batch.
    Label-free (the paper's setting): "yes" only for a canvas's own recording (green); a canvas that shows the spoken
    digit but carries another soundtrack is a "no" (orange: the learner cannot know). ``weak_labels``: "yes" wherever
    the spoken digit is on the canvas."""
    s = scenes(data.train_images, data.train_soundtrack, n, k, torch.Generator().manual_seed(seed))
    on_canvas = ots.correspondence(s.spoken, s.canvases.digits).bool()
    fig, axes = plt.subplots(n + 1, n + 1, figsize=(1.05 * (n + 1), 1.05 * (n + 1)))
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    axes[0, 0].axis("off")
    axes[0, 0].text(0.5, 0.5, "same?", ha="center", va="center", fontsize=9)
    for j in range(n):
        axes[0, j + 1].imshow(s.canvases.x[j, 0], cmap="gray", vmin=0, vmax=1)
        axes[j + 1, 0].imshow(data.train_sounds[s.recording[j], 0], origin="lower", aspect="auto", cmap="magma")
        axes[j + 1, 0].set_ylabel(f'"{int(s.spoken[j])}"', rotation=0, ha="right", va="center", fontsize=8)
    for i in range(n):
        for j in range(n):
            yes = bool(on_canvas[i, j]) if weak_labels else i == j
            hidden = not yes and bool(on_canvas[i, j])  # label-free: the digit is there, the soundtrack is not its
            axes[i + 1, j + 1].set_facecolor("#9be39b" if yes else "#f7c58f" if hidden else "#f2f2f2")
            axes[i + 1, j + 1].text(0.5, 0.5, "yes" if yes else "no", ha="center", va="center", fontsize=8)
    return show.finish(fig)


def _one_scale(fig):
    """A colour bar beside a grid of heat maps drawn on one colour scale (``show.heatmaps`` with vmin and vmax): the
    overlay of the first panel stands for all of them."""
    panels = [ax for ax in fig.axes if len(ax.images) == 2]  # the canvas and its map
    fig.colorbar(panels[0].images[-1], ax=fig.axes, shrink=0.8, pad=0.02, label="similarity (cosine)")
    return fig


def show_heat_maps(model: ots.AVOLNet, data: SoundsAndDigits, test: Scenes, n: int = 12):
    """Test canvases with the similarity map of their recording laid over them, all on one colour scale (the lowest
    and highest similarity over the grid, a colour bar beside it); the title says what was said and whether the
    arg-max fell in that digit's box."""
    maps = heat_maps(model, data.test_sounds[test.recording[:n]], test.canvases.x[:n])
    hit = ots.inside(ots.pointing(maps), test.spoken_box[:n])
    titles = [f'"{int(d)}": {"hit" if h else "miss"}' for d, h in zip(test.spoken[:n], hit, strict=True)]
    return _one_scale(show.heatmaps(test.canvases.x[:n], maps, titles, vmin=float(maps.min()),
                                    vmax=float(maps.max())))


def recording_of(spoken: SpokenDigits, digit: int, nth: int = 0) -> int:
    """The index of the ``nth`` recording of ``digit``."""
    return int((spoken.digit == digit).nonzero().flatten()[nth])


def show_every_word(model: ots.AVOLNet, data: SoundsAndDigits, test: Scenes, canvas: int = 0):
    """One canvas, ten recordings (one of each digit, the held-out voice): the map moves with the word. All maps share
    one colour scale (a colour bar beside them), and each title gives the map's peak cosine, so that maps can be
    compared."""
    which = torch.tensor([recording_of(data.test_spoken, d) for d in range(10)])
    maps = heat_maps(model, data.test_sounds[which], test.canvases.x[canvas:canvas + 1].expand(10, -1, -1, -1))
    on = set(test.canvases.digits[canvas].tolist())
    titles = [f'"{d}"' + (" (on it)" if d in on else "") + f": {maps[d].max():.2f}" for d in range(10)]
    return _one_scale(show.heatmaps(test.canvases.x[canvas:canvas + 1].expand(10, -1, -1, -1), maps, titles, ncols=5,
                                    vmin=float(maps.min()), vmax=float(maps.max())))


def show_training(histories: dict[str, train.History]):
    """Correspondence accuracy on the training batches, for each sampling: balanced, as the losses weigh it (50 %:
    "always no")."""
    return show.training(histories, "acc", ylabel="correspondence accuracy (train)")


# --- "say a digit" ------------------------------------------------------------------------------------------------

def wav_bytes(wave: torch.Tensor, sample_rate: int = 8000) -> bytes:
    """A recording as the bytes of a WAV file (what an audio widget plays)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, wave.numpy(), sample_rate, format="WAV")
    return buffer.getvalue()


def demo(model: ots.AVOLNet, data: SoundsAndDigits, test: Scenes, n_canvases: int = 8, takes: int = 3
         ) -> widgets.Demo:
    """Pick a test canvas and a recording of the held-out voice; see where the model looks. Every map is drawn on
    one colour scale (the lowest and highest similarity over all canvases and recordings of the demo), as in
    ``show_every_word``: a word whose digit is not on the canvas lights up nothing."""
    recordings = {f'"{d}" (take {t})': recording_of(data.test_spoken, d, t) for d in range(10) for t in range(takes)}
    canvases = test.canvases.x[:n_canvases]
    sounds = data.test_sounds[list(recordings.values())]
    maps = {i: heat_maps(model, sounds, canvases[i:i + 1].expand(len(sounds), -1, -1, -1))
            for i in range(len(canvases))}  # every (canvas, recording) map, computed once: one scale for all
    lowest, highest = min(float(m.min()) for m in maps.values()), max(float(m.max()) for m in maps.values())
    names = list(recordings)

    def locate(canvas: int, recording: str) -> np.ndarray:
        return maps[canvas][names.index(recording)].numpy()

    players = {name: wav_bytes(data.test_spoken.waves[i]) for name, i in recordings.items()}
    return widgets.say_a_digit(locate, canvases, names, players, vmin=lowest, vmax=highest)
