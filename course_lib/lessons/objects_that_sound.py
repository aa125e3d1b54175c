"""Objects that sound (notebook 09): where in the picture is the digit that was spoken?

The method -- canvases, the AVOL-Net, the losses, pointing -- is ``course_lib.pretext.objects_that_sound``
(Arandjelović & Zisserman, ECCV 2018). This module runs the notebook's experiment:

* ``Sizes`` / ``SIZES``  how big the experiment is in each profile (``sizes = SIZES[session.profile.name]``);
* ``load``            MNIST digits (train / test) and real FSDD recordings, split by speaker (the test voice is never
                      heard in training), log-mel spectrograms standardised with training statistics, and the
                      simulated videos: every digit image with one recording of its digit, drawn once
                      (``av.simulate_videos``), so that a canvas sounds like the digit whose soundtrack it carries;
* ``video_batches``   the paper's setting: fresh canvases, each with the soundtrack of one of its digits, and nothing
                      else -- recording i belongs to canvas i and to no other canvas of the batch;
* ``labelled_batches``  the weakly labelled variant: the same canvases and recordings, *plus* the digits on each
                      canvas and the digit spoken, from which ``ots.all_pairs_loss`` reads its targets;
* ``train_label_free``  the AVOL-Net trained label-free: first on single-digit videos (08's setting, 28 x 28 frames),
                      then on the canvases, both with diagonal-only targets (``ots.video_loss``); the model after
                      each phase is kept, to see what training on the scenes changes;
* ``train_avol``      the AVOL-Net trained with the weak labels, with either sampling (``LOSSES``);
* ``test_scenes`` and ``pointing_table``  fixed test canvases (MNIST test digits) with the held-out voice, and pointing
                      accuracy of each model beside three baselines: the centre of the canvas, a random point, a
                      random digit;
* pictures, the "say a digit" demo (``widgets.say_a_digit``, one colour scale for every map) and the exercise checkers.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile
import torch

from course_lib import audio, checks, config, evaluate, show, train, widgets
from course_lib.data import ImageData, SpokenDigits, load_fsdd, load_mnist
from course_lib.pretext import audio_visual as av
from course_lib.pretext import objects_that_sound as ots

DIGITS = 2  # different digits on each 64 x 64 canvas (the recording names one of them); the same in every profile
SINGLE = "AVOL-Net, label-free: single-digit videos only"
LABEL_FREE = "AVOL-Net, label-free: then two-digit canvases (the paper's setting)"
WEAK = "AVOL-Net, told the digits on each canvas (weak labels)"
LOSSES = {"every pair in the batch": ots.all_pairs_loss, "one negative per canvas": ots.one_negative_loss}
TEST_SPEAKERS = ("theo",)  # the held-out voice: FSDD split by speaker, not by take
VIDEO_SEED = 2000  # the simulated videos are the run's seed + this: their own draw
BASELINES = {"centre of the canvas": "pointing_centre_prior", "a random point": "pointing_random",
             "one of the digits at random": "pointing_pick_a_digit"}
METRICS = {SINGLE: "pointing_label_free_single_digits", LABEL_FREE: "pointing_label_free",
           WEAK: "pointing_weak_labels", **BASELINES}


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus this notebook's own sizes."""

    train_images: int  # MNIST training digits pasted onto the training canvases (test canvases use n_test)
    batch: int  # canvases (each with a recording) per step; every recording is scored against every canvas
    steps: int  # optimiser steps of each weakly labelled AVOL-Net (the one-negative ablation gets as many)
    single_steps: int  # label-free: optimiser steps on single-digit videos (28 x 28 frames) before the canvases
    single_batch: int  # label-free: single-digit videos per step
    canvas_steps: int  # label-free: optimiser steps on the canvases after the single-digit videos
    seconds: float  # time cap of each training phase (stops early, says so)
    test_canvases: int  # test canvases (test digits, held-out voice) pointing accuracy is measured on


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(train_images=10_000, batch=64, steps=120, single_steps=300, single_batch=128, canvas_steps=40,
            seconds=60, test_canvases=1000),
    lab=dict(train_images=20_000, batch=64, steps=500, single_steps=300, single_batch=128, canvas_steps=200,
             seconds=300, test_canvases=2000),
    full=dict(train_images=60_000, batch=128, steps=3000, single_steps=2000, single_batch=256, canvas_steps=2000,
              seconds=300, test_canvases=5000),
)


@dataclass
class SoundsAndDigits:
    """Digit images to paste and recordings to pair, for training and for testing; ``*_soundtrack[i]`` is the
    recording of image i's video (a recording of its digit, drawn once)."""

    train_images: ImageData
    test_images: ImageData
    train_sounds: torch.Tensor  # N x 1 x 32 x 32 standardised log-mel spectrograms
    test_sounds: torch.Tensor
    train_spoken: SpokenDigits
    test_spoken: SpokenDigits
    train_soundtrack: torch.Tensor
    test_soundtrack: torch.Tensor


def load(sizes: Sizes, seed: int = 0) -> SoundsAndDigits:
    """MNIST train / test digits and FSDD recordings split by speaker (``TEST_SPEAKERS`` held out); the test
    spectrograms are standardised with the training set's statistics; the videos are drawn for ``seed``."""
    train_spoken, test_spoken = audio.by_speaker(load_fsdd("all"), TEST_SPEAKERS)
    train_sounds, test_sounds = audio.spectrograms(train_spoken, test_spoken)
    train_images, test_images = load_mnist(True, sizes.train_images), load_mnist(False, sizes.n_test)
    return SoundsAndDigits(train_images, test_images, train_sounds, test_sounds, train_spoken, test_spoken,
                           av.simulate_videos(train_images.y, train_spoken.digit, seed + VIDEO_SEED),
                           av.simulate_videos(test_images.y, test_spoken.digit, seed + VIDEO_SEED + 1))


# --- scenes with a recording ---------------------------------------------------------------------------------------

@dataclass
class Scenes:
    """Canvases, and for each one the recording that names one of its digits (``slot``: which one)."""

    canvases: ots.Canvases
    slot: torch.Tensor  # N: index into canvases.digits of the spoken digit
    recording: torch.Tensor  # N: index into the recordings

    @property
    def spoken(self) -> torch.Tensor:
        return self.canvases.digits.gather(1, self.slot[:, None])[:, 0]

    @property
    def spoken_box(self) -> torch.Tensor:
        return self.canvases.boxes[torch.arange(len(self.slot)), self.slot]


def scenes(images: ImageData, soundtrack: torch.Tensor, n: int, k: int, generator: torch.Generator) -> Scenes:
    """``n`` canvases of ``k`` different digits, each with the soundtrack of one of its digit images (a video of
    several objects, one of which sounds)."""
    canvases = ots.make_canvases(images.x, images.y, n, k, generator=generator)
    slot = ots.spoken_slot(n, k, generator)
    sounding = canvases.sources.gather(1, slot[:, None])[:, 0]  # the image whose soundtrack is heard
    return Scenes(canvases, slot, soundtrack[sounding])


def video_batches(data: SoundsAndDigits, batch_size: int, k: int, seed: int, device="cpu"):
    """The paper's setting: endless batches (spectrograms, canvases) of fresh scenes, recording i with canvas i.
    Nothing else: no digit reaches the loss, which can only say "own canvas" or "another canvas"."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        s = scenes(data.train_images, data.train_soundtrack, batch_size, k, generator)
        yield data.train_sounds[s.recording].to(device), s.canvases.x.to(device)


def single_digit_videos(data: SoundsAndDigits, batch_size: int, seed: int, device="cpu"):
    """Endless batches (spectrograms, 28 x 28 frames) of different single-digit videos, each frame with its own
    soundtrack (``av.video_batches``): 08's label-free setting, the warm start of ``train_label_free``."""
    for frames, sounds in av.video_batches(data.train_images.x.to(device), data.train_soundtrack,
                                           data.train_sounds.to(device), batch_size, seed):
        yield sounds, frames


def labelled_batches(data: SoundsAndDigits, batch_size: int, k: int, seed: int, device="cpu"):
    """The weakly labelled variant: the same scenes as ``video_batches`` (same seed, same scenes), plus the digit
    each recording says and the digits on each canvas -- labels the paper did not have."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        s = scenes(data.train_images, data.train_soundtrack, batch_size, k, generator)
        yield (data.train_sounds[s.recording].to(device), s.canvases.x.to(device), s.spoken.to(device),
               s.canvases.digits.to(device))


def test_scenes(data: SoundsAndDigits, sizes: Sizes, seed: int, digits: int = DIGITS) -> Scenes:
    """The evaluation: test-set digits on the canvases (``digits`` on each), the held-out speaker's recordings."""
    return scenes(data.test_images, data.test_soundtrack, sizes.test_canvases, digits,
                  torch.Generator().manual_seed(10_000 + seed))


# --- training -----------------------------------------------------------------------------------------------------

def _fresh_model(sizes: Sizes, seed: int, device) -> ots.AVOLNet:
    """The AVOL-Net at its initial weights for ``seed``: every setting and sampling starts from the same ones."""
    with config.isolated_rng(seed):
        return ots.AVOLNet(sizes.width).to(device).to(memory_format=torch.channels_last)


def train_label_free(data: SoundsAndDigits, sizes: Sizes, seed: int = 0, device="cpu", progress: bool = True,
                     digits: int = DIGITS, canvas_loss=ots.video_loss):
    """The AVOL-Net trained without a label: first ``sizes.single_steps`` steps on single-digit videos (a 28 x 28
    frame and its soundtrack, 08's setting, where correspondence is easy to learn), then ``sizes.canvas_steps``
    steps on canvases of ``digits`` digits, as the paper trains on its scenes; both with diagonal-only targets
    (``ots.video_loss``: every other video of the batch is a negative, whatever it shows; ``canvas_loss`` may be
    another label-free loss for the canvases, e.g. ``ots.contrastive_loss``).
    Returns ({SINGLE: the model after the single-digit videos, LABEL_FREE: after the canvases too},
    {phase: history})."""
    model = _fresh_model(sizes, seed, device)
    phases = {
        "single-digit videos": (single_digit_videos(data, sizes.single_batch, seed, device), sizes.single_steps),
        "canvases": (video_batches(data, sizes.batch, digits, seed, device), sizes.canvas_steps),
    }
    losses = {"single-digit videos": ots.video_loss, "canvases": canvas_loss}
    models, histories = {}, {}
    for (phase, (stream, steps)), name in zip(phases.items(), (SINGLE, LABEL_FREE), strict=True):
        histories[phase] = train.fit(model, stream, losses[phase], steps=steps, max_seconds=sizes.seconds,
                                     desc=f"label-free, {phase}", progress=progress)
        models[name] = copy.deepcopy(model).eval()  # each phase's model, to compare what the canvases change
    return models, histories


def train_avol(data: SoundsAndDigits, sizes: Sizes, seed: int = 0, sampling: str = "every pair in the batch",
               steps: int | None = None, device="cpu", progress: bool = True, lr: float = 2e-3,
               digits: int = DIGITS):
    """An AVOL-Net trained with the weak labels (told the digits on each canvas), with one of the ``LOSSES``, on
    canvases of ``digits`` digits; returns (model, history). Every sampling starts from the same weights."""
    model = _fresh_model(sizes, seed, device)
    stream = labelled_batches(data, sizes.batch, digits, seed, device)
    history = train.fit(model, stream, LOSSES[sampling], steps=steps or sizes.steps,
                        max_seconds=sizes.seconds, desc=sampling, progress=progress, lr=lr)
    return model.eval(), history


def capped_runs(histories: dict[str, train.History]) -> list[str]:
    """The names of the runs that stopped at their time cap (for ``session.record(capped=...)`` and the claims)."""
    return [name for name, history in histories.items() if history.capped]


@torch.no_grad()
def heat_maps(model: ots.AVOLNet, sounds: torch.Tensor, canvases: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """The similarity map of each recording with its own canvas (N x 16 x 16)."""
    device = next(model.parameters()).device
    return torch.cat([ots.paired_maps(model, sounds[i:i + batch_size].to(device),
                                      canvases[i:i + batch_size].to(device)).cpu()
                      for i in range(0, len(canvases), batch_size)])


@torch.no_grad()
def single_digit_recall(model: ots.AVOLNet, data: SoundsAndDigits, n: int = 1000) -> tuple[float, float]:
    """Recall@1 of the label-free question on single digits, judged by the digits: each recording of the unheard
    voice ranks ``n`` MNIST test images (28 x 28, one digit each) by the model's score, the max over locations of
    its similarity map; a hit is a top image of the spoken digit. Returns (recall@1, the recall@1 of a random
    ranking, about 0.1). It needs no threshold, so it shows whether the towers pair sounds with digits even where
    the logit's calibration is off."""
    model.eval()
    device = next(model.parameters()).device
    frames = data.test_images.x[:n].to(device)
    image_maps = torch.cat([model.image_map(frames[i:i + 500]) for i in range(0, len(frames), 500)])
    audio = model.audio_embedding(data.test_sounds.to(device))
    scores = ots.similarity(audio, image_maps).flatten(2).amax(-1).cpu()
    digits = data.test_images.y[:n]
    return (evaluate.recall_at_k(scores, data.test_spoken.digit, digits),
            av.chance_recall(data.test_spoken.digit, digits))


# --- pointing and its baselines -----------------------------------------------------------------------------------

COLUMN = "pointing accuracy (%)"


def pointing_table(models: dict[str, ots.AVOLNet], data: SoundsAndDigits, test: Scenes, seed: int = 0
                   ) -> pd.DataFrame:
    """Pointing accuracy (%): how often the point falls in the spoken digit's box, for each model (the arg-max of
    its map) and for three guesses that never hear the recording."""
    n, k = test.canvases.digits.shape
    generator = torch.Generator().manual_seed(seed)
    box = test.spoken_box
    points = {name: ots.pointing(heat_maps(model, data.test_sounds[test.recording], test.canvases.x))
              for name, model in models.items()}
    points.update({
        "centre of the canvas": torch.full((n, 2), ots.SIDE / 2),
        "a random point": torch.rand(n, 2, generator=generator) * ots.SIDE,
        "one of the digits at random": test.canvases.centres[torch.arange(n), torch.randint(k, (n,),
                                                                                            generator=generator)],
    })
    accuracy = {name: 100 * ots.inside(p, box).float().mean().item() for name, p in points.items()}
    return pd.DataFrame({COLUMN: accuracy})


@torch.no_grad()
def correspondence_accuracy(model: ots.AVOLNet | None, data: SoundsAndDigits, test: Scenes, block: int = 64
                            ) -> float:
    """How often (%) the model answers "same?" right for every recording against every canvas of blocks of
    ``block`` test scenes, judged as the weak labels judge it (the spoken digit on the canvas or not): the weakly
    labelled training task, on test data. ``model=None`` always answers "no"."""
    right, total = 0.0, 0
    for start in range(0, len(test.slot) - block + 1, block):
        part = slice(start, start + block)
        target = ots.correspondence(test.spoken[part], test.canvases.digits[part])
        if model is None:
            said_yes = torch.zeros_like(target)
        else:
            device = next(model.parameters()).device
            said_yes = (model.logits(model(data.test_sounds[test.recording[part]].to(device),
                                           test.canvases.x[part].to(device))) > 0).float().cpu()
        right += (said_yes == target).float().sum().item()
        total += target.numel()
    return 100 * right / total


def sampling_table(models: dict[str, ots.AVOLNet], data: SoundsAndDigits, test: Scenes) -> pd.DataFrame:
    """The ablation: for each sampling, correspondence accuracy (every test recording against every test canvas of
    a block) and pointing accuracy."""
    pointing = pointing_table(models, data, test)[COLUMN]
    rows = {name: {"correspondence accuracy (%)": correspondence_accuracy(model, data, test),
                   COLUMN: pointing[name]}
            for name, model in models.items()}
    rows['always answering "no"'] = {"correspondence accuracy (%)": correspondence_accuracy(None, data, test),
                                     COLUMN: float("nan")}
    return pd.DataFrame(rows).T


def metrics(table: pd.DataFrame) -> dict[str, float]:
    """The numbers to record: each model's pointing accuracy and the baselines'."""
    return {METRICS[name]: float(table[COLUMN][name]) for name in METRICS if name in table.index}


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


def show_heat_maps(model: ots.AVOLNet, data: SoundsAndDigits, test: Scenes, n: int = 12):
    """Test canvases with the similarity map of their recording laid over them; the title says what was said and
    whether the arg-max fell in that digit's box."""
    maps = heat_maps(model, data.test_sounds[test.recording[:n]], test.canvases.x[:n])
    hit = ots.inside(ots.pointing(maps), test.spoken_box[:n])
    titles = [f'"{int(d)}": {"hit" if h else "miss"}' for d, h in zip(test.spoken[:n], hit, strict=True)]
    return show.heatmaps(test.canvases.x[:n], maps, titles)


def recording_of(spoken: SpokenDigits, digit: int, nth: int = 0) -> int:
    """The index of the ``nth`` recording of ``digit``."""
    return int((spoken.digit == digit).nonzero().flatten()[nth])


def show_every_word(model: ots.AVOLNet, data: SoundsAndDigits, test: Scenes, canvas: int = 0):
    """One canvas, ten recordings (one of each digit, the held-out voice): the map moves with the word. All maps share
    one colour scale, and each title gives the map's peak cosine, so that maps can be compared."""
    which = torch.tensor([recording_of(data.test_spoken, d) for d in range(10)])
    maps = heat_maps(model, data.test_sounds[which], test.canvases.x[canvas:canvas + 1].expand(10, -1, -1, -1))
    on = set(test.canvases.digits[canvas].tolist())
    titles = [f'"{d}"' + (" (on it)" if d in on else "") + f": {maps[d].max():.2f}" for d in range(10)]
    return show.heatmaps(test.canvases.x[canvas:canvas + 1].expand(10, -1, -1, -1), maps, titles, ncols=5,
                         vmin=float(maps.min()), vmax=float(maps.max()))


def show_training(histories: dict[str, train.History]):
    """Correspondence accuracy on the training batches, for each sampling."""
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


# --- exercise checkers --------------------------------------------------------------------------------------------

def check_targets(fn) -> None:
    """Exercise: ``fn(spoken, digits)`` = the B x B target matrix of the all-pairs loss."""
    spoken = torch.tensor([3, 7, 0, 3])
    digits = torch.tensor([[3, 5], [1, 2], [0, 7], [9, 4]])
    want = ots.correspondence(spoken, digits)
    got = torch.as_tensor(fn(spoken, digits)).float()
    if got.shape != want.shape:
        checks.exercise("target matrix", False, f"return a {tuple(want.shape)} matrix: rows are recordings, columns "
                        f"canvases; got shape {tuple(got.shape)}")
    if torch.equal(got, want.T):
        checks.exercise("target matrix", False, "rows and columns are swapped: row i is recording i")
    checks.exercise("target matrix", torch.equal(got, want),
                    "entry (i, j) is 1 when the digit spoken in recording i is one of the digits on canvas j -- "
                    "not only when i == j")



def check_similarity_map(fn) -> None:
    """Exercise: ``fn(audio, image_map)`` = the similarity map of every recording with every canvas, compared with
    ``ots.similarity`` on random unit embeddings (3 recordings, 5 canvases, maps 4 x 6: swapped axes show)."""
    with config.isolated_rng(0):  # the same test embeddings every time; the notebook's random stream untouched
        audio = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)  # a: B_audio x D, unit length
        image_map = torch.nn.functional.normalize(torch.randn(5, 8, 4, 6), dim=1)  # V: B_canvas x D x H x W
    want = ots.similarity(audio, image_map)
    got = torch.as_tensor(fn(audio, image_map)).detach().float()

    def shape_hint() -> str:
        if got.shape == (5, 3, 4, 6):
            return "rows and columns are swapped: S[i, j] is recording i (audio) against canvas j (image_map)"
        return ("return one map per (recording, canvas) pair, every recording against every canvas (not only "
                f"recording i with canvas i): shape (B_audio, B_canvas, H, W) = "
                f"{tuple(want.shape)} for 3 recordings, 5 canvases and 4 x 6 maps; you gave {tuple(got.shape)}")

    def value_hint() -> str:
        if torch.allclose(got * audio.shape[1], want, atol=1e-5):
            return "sum the products over the D embedding dimensions, do not average them"
        return (f"S[i, j, h, w] = sum over d of a[i, d] * V[j, d, h, w] (both have unit length, so it is the cosine); "
                f"recording 0 against canvas 0, top row: expected {[round(v, 3) for v in want[0, 0, 0].tolist()]}, "
                f"you gave {[round(v, 3) for v in got[0, 0, 0].tolist()]}")

    checks.verdict("similarity map", [(lambda: got.shape == want.shape, shape_hint),
                                      (lambda: torch.allclose(got, want, atol=1e-5), value_hint)])
