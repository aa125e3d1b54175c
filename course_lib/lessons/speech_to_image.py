"""Speech to image (notebook 10): draw the spoken digit in a writer's style, then lip motion and sound in GRID.

The method -- styles, the Speech2Image network, the L1 loss, the pairs -- is ``course_lib.pretext.speech2image``
(after Chung, Jamaludin & Zisserman, "You said that?", BMVC 2017). This module runs the notebook's experiment:

* ``Sizes`` / ``SIZES``  how big the experiment is in each profile (``sizes = SIZES[session.profile.name]``);
* ``load``           FSDD recordings split by speaker as in notebook 08 (``audio.by_speaker``: one whole speaker
                     held out, so every test recording is a voice never heard in training) as log-mel spectrograms,
                     MNIST training images to pair them with, MNIST test images as the identities of the evaluation;
* ``train_generators``  Speech2Image networks with and without skip connections (the ablation), each trained from
                     ``sizes.seeds`` seeds, so that the ablation is read against the spread between seeds;
* ``train_judge``    an MNIST classifier (digit labels, written in random styles) that reads the generated images;
* ``score_generators`` / ``results_table``  every test recording with a test image of some digit in some style: how
                     often the judge reads the spoken digit (chance 10 %), how often it reads the identity image's
                     digit instead (copying), and whether the drawn digit takes on the identity's slant and ink, as
                     mean ± std over the seeds;
* ``show_l1_optimum``  why the drawings are blurred: the L1-optimal drawing is the per-pixel median of every image of
                     the spoken digit in that hand (``speech2image.l1_optimum``);
* the GRID part: ``motion_energy`` in a fixed mouth box (temporal order's motion energy, on the crop), the
  loudness ``audio.envelope`` per video frame, ``sync_curve`` (their correlation at every offset) and
  ``sync_table`` (the best offset per clip).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from course_lib import audio, checks, config, data, evaluate, nets, show, train
from course_lib.data.grid import CLIPS as GRID_CLIPS
from course_lib.data.grid import TalkingClip, load_grid
from course_lib.pretext import speech2image as s2i
from course_lib.pretext import temporal_order

LR = 3e-3  # AdamW learning rate of the generators (cosine decay over the steps)
CHANCE = 10.0  # % of generated images a judge would read as the spoken digit by guessing among ten digits


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus this notebook's own sizes."""

    images: int  # MNIST training images the speech-to-image pairs are drawn from (identities and targets)
    network_width: int  # width of the speech-to-image encoders and decoder, and of the judge (an MNIST classifier)
    batch: int  # (recording, identity, target) triples per step; also the judge's batch
    steps: int  # optimiser steps of each generator (with skips, without skips)
    judge_steps: int  # optimiser steps of the judge
    seconds: float  # time cap of each of those trainings
    seeds: int  # training seeds of each generator variant: the ablation's spread is the spread between them


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(images=6000, network_width=8, batch=64, steps=150, judge_steps=100, seconds=30, seeds=2),
    lab=dict(images=20_000, network_width=8, batch=64, steps=450, judge_steps=300, seconds=150, seeds=3),
    full=dict(images=60_000, network_width=32, batch=128, steps=4000, judge_steps=1500, seconds=300, seeds=3),
)
# lab: 3 seeds x 2 variants x 450 steps, about 23 s each on 2 CPU cores (600 steps made 3 seeds too slow for 4 min)
VARIANTS = {"with skips": True, "no skips": False}  # the ablation: the decoder with and without the identity's maps


@dataclass
class Experiment:
    """Everything the notebook trains and tests on (tensors on one device)."""

    train_specs: torch.Tensor  # FSDD, every speaker but the held-out one: N x 1 x 32 x 32 log-mel, standardised
    train_digits: torch.Tensor
    test_specs: torch.Tensor  # FSDD, the held-out speaker, standardised with the *training* statistics
    test_digits: torch.Tensor
    test_spoken: data.SpokenDigits  # the test recordings themselves (for the audio players)
    images: data.ImageData  # MNIST training images: identities and targets of the training pairs
    test_images: data.ImageData  # MNIST test images: the identities of the evaluation


def load(sizes: Sizes, device: torch.device | str = "cpu", root=None) -> Experiment:
    """FSDD split by speaker (``audio.by_speaker``, notebook 08's split: the test voice is never heard in training)
    as spectrograms, and ``sizes.images`` MNIST training images, on ``device``."""
    train_set, test_set = audio.by_speaker(data.load_fsdd("all", root))
    train_specs, test_specs = audio.spectrograms(train_set, test_set)
    return Experiment(train_specs.to(device), train_set.digit.to(device), test_specs.to(device),
                      test_set.digit.to(device), test_set, data.load_mnist(True, sizes.images, root).to(device),
                      data.load_mnist(False, root=root).to(device))


# --- training -----------------------------------------------------------------------------------------------------

def train_generator(ex: Experiment, sizes: Sizes, seed: int = 0, skips: bool = True, progress: bool = True,
                    desc: str | None = None):
    """One Speech2Image network trained with the L1 loss on fresh (recording, identity, target) pairs: (model, history).

    Both variants start from the same seed and see the same stream of pairs, so the skips are the only difference.
    The run is named ``desc`` (default "with skips" or "no skips"; ``train_generators`` adds the seed).
    """
    torch.manual_seed(seed)
    model = s2i.Speech2Image(sizes.network_width, skips).to(ex.train_specs.device).to(memory_format=torch.channels_last)
    pairs = s2i.pair_batches(ex.train_specs, ex.train_digits, ex.images.x, ex.images.y, sizes.batch, seed)
    history = train.fit(model, pairs, s2i.l1_loss, steps=sizes.steps, max_seconds=sizes.seconds,
                        lr=LR, desc=desc or ("with skips" if skips else "no skips"), progress=progress)
    return model.eval(), history


def generator_seeds(seed: int, n: int) -> list[int]:
    """The ``n`` training seeds of a generator variant: ``seed``, ``seed + 1000``, ... (clear of other runs' seeds)."""
    return [seed + 1000 * r for r in range(n)]


def train_generators(ex: Experiment, sizes: Sizes, seed: int = 0, progress: bool = True):
    """Every variant (``VARIANTS``) trained from each of ``generator_seeds(seed, sizes.seeds)``:
    ({variant: [model per seed]}, {variant: [history per seed]}). For one seed both variants start alike and see
    the same pairs, so the skips are the only difference; across seeds, everything else varies too."""
    models: dict[str, list] = {name: [] for name in VARIANTS}
    histories: dict[str, list] = {name: [] for name in VARIANTS}
    for run_seed in generator_seeds(seed, sizes.seeds):
        for name, skips in VARIANTS.items():
            model, history = train_generator(ex, sizes, run_seed, skips, progress, desc=f"{name}, seed {run_seed}")
            models[name].append(model)
            histories[name].append(history)
    return models, histories


def named_runs(histories: dict[str, list[train.History]], seed: int = 0) -> dict[str, train.History]:
    """Every training run by name, e.g. "with skips, seed 1000" (for ``show.training`` and the results file)."""
    seeds = generator_seeds(seed, max(len(runs) for runs in histories.values()))
    return {f"{name}, seed {run_seed}": history for name, runs in histories.items()
            for run_seed, history in zip(seeds, runs, strict=False)}


def capped_runs(histories: dict[str, list[train.History]], seed: int = 0) -> list[str]:
    """The names of the training runs that stopped at their time cap (their numbers are those of a shorter run)."""
    return [name for name, history in named_runs(histories, seed).items() if history.capped]


def train_judge(ex: Experiment, sizes: Sizes, seed: int = 0, progress: bool = True):
    """An MNIST classifier (labels!) trained on the same images written in random styles: (judge, history).

    It never sees a generated image. Trained on every style the generator may be asked for, so that a miss means
    the drawing is not that digit, not that the judge has never seen a bold or slanted one.
    """
    torch.manual_seed(seed)
    judge = nets.Classifier(nets.Backbone(1, sizes.network_width), 10).to(ex.images.x.device)
    generator = torch.Generator().manual_seed(seed + 1)

    def in_random_styles(x):
        return s2i.apply_style(x, s2i.random_styles(len(x), generator, x.device))

    history = train.train_classifier(judge, ex.images.x, ex.images.y, steps=sizes.judge_steps,
                                     batch_size=sizes.batch, augment=in_random_styles, seed=seed,
                                     desc="judge", progress=progress)
    return judge.eval(), history


# --- evaluation ---------------------------------------------------------------------------------------------------

@dataclass
class TestPairs:
    """Every test recording with an identity: a test image (of any digit) in a random style."""

    identity: torch.Tensor
    identity_digits: torch.Tensor
    style: s2i.Style


def test_pairs(ex: Experiment, seed: int = 0) -> TestPairs:
    generator = torch.Generator().manual_seed(10_000 + seed)
    n = len(ex.test_digits)
    pick = torch.randint(len(ex.test_images), (n,), generator=generator).to(ex.test_images.x.device)
    style = s2i.random_styles(n, generator, ex.test_images.x.device)
    return TestPairs(s2i.apply_style(ex.test_images.x[pick], style), ex.test_images.y[pick], style)


@torch.no_grad()
def generate(model: s2i.Speech2Image, specs: torch.Tensor, identity: torch.Tensor, batch_size: int = 500):
    model.eval()
    return torch.cat([model(specs[i:i + batch_size], identity[i:i + batch_size])
                      for i in range(0, len(specs), batch_size)])


def _correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.corrcoef(torch.stack([a.float().cpu(), b.float().cpu()]))[0, 1])


def evaluate_generated(judge, generated: torch.Tensor, ex: Experiment, pairs: TestPairs) -> dict[str, float]:
    """What the judge reads in the generated images, and whether the style came through.

    recognised %       the judge reads the spoken digit (chance: 10 %)
    identity digit %   the judge reads the identity image's digit, among pairs where that differs from the spoken
                       one (chance 10 %; high means the network copies the identity image instead of listening)
    slant r, ink r     Pearson correlation of the drawn digit's slant with the style's slant, and of its ink with
                       the identity image's ink (0 = the style is ignored)
    """
    read = evaluate.embed(judge, generated).argmax(1)
    spoken, shown = ex.test_digits.cpu(), pairs.identity_digits.cpu()
    other = shown != spoken
    return {"recognised %": 100.0 * (read == spoken).float().mean().item(),
            "identity digit %": 100.0 * (read[other] == shown[other]).float().mean().item(),
            "slant r": _correlation(s2i.slant(generated), pairs.style.slant),
            "ink r": _correlation(s2i.ink(generated), s2i.ink(pairs.identity))}


def score_generators(judge, generators: dict[str, list], ex: Experiment, pairs: TestPairs
                     ) -> dict[str, dict[str, evaluate.Spread]]:
    """{variant: {column of ``evaluate_generated``: mean ± std over the variant's trained seeds}}."""
    scores = {}
    for name, models in generators.items():
        runs = [evaluate_generated(judge, generate(model, ex.test_specs, pairs.identity), ex, pairs)
                for model in models]
        scores[name] = {column: evaluate.Spread.of(run[column] for run in runs) for column in runs[0]}
    return scores


def results_table(scores: dict[str, dict[str, evaluate.Spread]]) -> pd.DataFrame:
    """One row per variant, each cell mean ± std over the seeds (percentages to 1 decimal, correlations to 2)."""
    def cell(column: str, value: evaluate.Spread) -> str:
        return value.text(1 if column.endswith("%") else 2)

    return pd.DataFrame({name: {column: cell(column, v) for column, v in row.items()}
                         for name, row in scores.items()}).T


def judge_accuracy(judge, ex: Experiment, seed: int = 0) -> float:
    """The judge's accuracy (%) on real MNIST test images written in random styles: how well it reads digits at all."""
    generator = torch.Generator().manual_seed(20_000 + seed)
    style = s2i.random_styles(len(ex.test_images), generator, ex.test_images.x.device)
    return evaluate.accuracy(judge, s2i.apply_style(ex.test_images.x, style), ex.test_images.y)


def metrics(scores: dict[str, dict[str, evaluate.Spread]]) -> dict[str, float]:
    """The notebook's recorded numbers (percentages, means over the seeds, and their stds)."""
    with_skips, without = scores["with skips"]["recognised %"], scores["no skips"]["recognised %"]
    return {"generated_recognised_accuracy": float(with_skips), "generated_recognised_accuracy_std": with_skips.std,
            "generated_recognised_accuracy_no_skips": float(without),
            "generated_recognised_accuracy_no_skips_std": without.std}


# --- pictures -----------------------------------------------------------------------------------------------------

def show_task(ex: Experiment, n: int = 8, seed: int = 0):
    """What the network is asked: rows = the spoken digit's spectrogram, the identity (any digit, a style), the
    target (an image of the spoken digit in the same style)."""
    generator = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ex.train_digits), generator=generator)[:n].to(ex.train_digits.device)
    identity, target, _ = s2i.make_pairs(ex.train_digits[idx], ex.images.x, ex.images.y, generator)
    specs = F.interpolate(ex.train_specs[idx], size=28, mode="bilinear").flip(-2)  # pitch up, as in a spectrogram
    specs = (specs - specs.amin((1, 2, 3), keepdim=True)) / (specs.amax((1, 2, 3), keepdim=True) -
                                                             specs.amin((1, 2, 3), keepdim=True))
    fig = show.image_rows({"input: speech": specs, "input: identity": identity, "target": target})
    for i, ax in enumerate(fig.axes[:n]):
        ax.set_title(f"says {int(ex.train_digits[idx[i]])}", fontsize=8)
    return fig


def show_generated(judge, models: dict, ex: Experiment, pairs: TestPairs, n: int = 10, seed: int = 0):
    """Test recordings drawn by each model: rows = identity, the spoken digit, then each model's drawing, titled
    with what the judge reads in it (green when it is the spoken digit)."""
    idx = torch.randperm(len(ex.test_digits), generator=torch.Generator().manual_seed(seed))[:n]
    idx = idx.to(ex.test_digits.device)
    drawn = {name: generate(model, ex.test_specs[idx], pairs.identity[idx]) for name, model in models.items()}
    fig, axes = plt.subplots(1 + len(drawn), n, figsize=(1.0 * n + 1.5, 1.25 * (1 + len(drawn))), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(pairs.identity[idx[i], 0].cpu(), cmap="gray", vmin=0, vmax=1)
        axes[0, i].set_title(f"says {int(ex.test_digits[idx[i]])}", fontsize=9, fontweight="bold")
        for r, images in enumerate(drawn.values(), start=1):
            read = int(evaluate.embed(judge, images[i:i + 1]).argmax(1))
            axes[r, i].imshow(images[i, 0].cpu(), cmap="gray", vmin=0, vmax=1)
            axes[r, i].set_title(f"reads {read}", fontsize=8,
                                 color="green" if read == int(ex.test_digits[idx[i]]) else "red")
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    for r, name in enumerate(["identity (input)", *drawn]):
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return show.finish(fig)


def show_one_voice_many_writers(model, ex: Experiment, digit: int = 3, n: int = 8, seed: int = 0):
    """One recording of ``digit`` drawn with ``n`` different identities: the style should follow the identity."""
    generator = torch.Generator().manual_seed(seed)
    recording = int((ex.test_digits == digit).nonzero()[0])
    pick = torch.randint(len(ex.test_images), (n,), generator=generator).to(ex.test_images.x.device)
    identity = s2i.apply_style(ex.test_images.x[pick], s2i.random_styles(n, generator, ex.test_images.x.device))
    drawn = generate(model, ex.test_specs[recording:recording + 1].expand(n, -1, -1, -1), identity)
    return show.image_rows({"identity": identity, f"'{digit}', drawn": drawn})


def show_l1_optimum(model, ex: Experiment, pairs: TestPairs, n: int = 8, seed: int = 0):
    """Why the drawings are blurred: rows = the identity, the network's drawing, and the L1-optimal drawing (the
    per-pixel median of every training image of the spoken digit written in the identity's style), then one real
    image of the spoken digit in that style (what a sharp answer would look like)."""
    idx = torch.randperm(len(ex.test_digits), generator=torch.Generator().manual_seed(seed))[:n]
    idx = idx.to(ex.test_digits.device)
    drawn = generate(model, ex.test_specs[idx], pairs.identity[idx])
    optimum, real = [], []
    for i in idx.tolist():
        same_digit = ex.images.x[ex.images.y == ex.test_digits[i]]
        optimum.append(s2i.l1_optimum(same_digit, pairs.style[i]))
        real.append(s2i.apply_style(same_digit[:1], pairs.style[i:i + 1])[0])
    fig = show.image_rows({"identity": pairs.identity[idx], "drawn": drawn,
                           "L1 optimum (median)": torch.stack(optimum), "one real digit": torch.stack(real)})
    for i, ax in zip(idx.tolist(), fig.axes[:n], strict=True):
        ax.set_title(f"says {int(ex.test_digits[i])}", fontsize=8)
    return fig


# --- GRID: does the mouth move with the sound? ------------------------------------------------------------------

MOUTH_BOX = (190, 240, 120, 200)  # top, bottom, left, right in GRID's 288 x 360 frames: the lower face, fixed
MAX_OFFSET = 10  # frames (0.4 s at 25 fps) searched on either side


def motion_energy(clip: TalkingClip, box: tuple[int, int, int, int] = MOUTH_BOX) -> torch.Tensor:
    """Mean absolute grey-level change inside ``box`` between frames t and t + 1 (T - 1 values): how much the
    mouth moves (notebook 03's ``motion_energy``, on the crop). Value t sits between frames t and t + 1, where the
    loudness of sound chunk t sits too."""
    top, bottom, left, right = box
    return temporal_order.motion_energy(clip.grey()[None, :, :, top:bottom, left:right])[0]  # as 1 clip of T frames


def loudness(clip: TalkingClip) -> torch.Tensor:
    """The log energy of the sound during each video frame (``audio.envelope`` with one frame's samples as hop)."""
    return audio.envelope(clip.wave, hop=round(clip.samples_per_frame()))


def sync_curve(sound: torch.Tensor, motion: torch.Tensor, max_offset: int = MAX_OFFSET) -> torch.Tensor:
    """Pearson correlation of ``sound[t]`` with ``motion[t + o]`` for o = -max_offset ... max_offset.

    o > 0: the mouth moves o frames *after* the sound. Every offset compares the same frames of the sound (all but
    ``max_offset`` at each end), so no offset wins by being averaged over fewer frames.
    """
    n = min(len(sound), len(motion))
    if n <= 2 * max_offset + 2:
        raise ValueError(f"{n} frames are too few for offsets up to {max_offset}")
    a = sound[max_offset:n - max_offset].float()
    curve = [_correlation(a, motion[max_offset + o:n - max_offset + o]) for o in range(-max_offset, max_offset + 1)]
    return torch.tensor(curve)


def best_offset(curve: torch.Tensor) -> int:
    """The offset (frames) where a ``sync_curve`` peaks."""
    return int(curve.argmax()) - (len(curve) - 1) // 2


def sync_table(names=tuple(GRID_CLIPS), root=None, box=MOUTH_BOX, max_offset: int = MAX_OFFSET):
    """For every GRID clip: its sentence, the best offset and the correlation there and at 0. Returns (table, curves).

    Clips are loaded one at a time (a clip's frames take about 90 MB as floats)."""
    rows, curves = {}, {}
    for name in names:
        clip = load_grid(name, root)
        curve = sync_curve(loudness(clip), motion_energy(clip, box), max_offset)
        curves[name] = curve
        rows[name] = {"sentence": clip.sentence, "best offset (frames)": best_offset(curve),
                      "r at best": round(float(curve.max()), 3), "r at 0": round(float(curve[max_offset]), 3)}
    return pd.DataFrame.from_dict(rows, orient="index"), curves


def show_mouth_box(clip: TalkingClip, box=MOUTH_BOX, frame: int = 35):
    """A frame with the mouth box drawn on it, and the two signals of the clip over time."""
    top, bottom, left, right = box
    fig, (ax_image, ax_signals) = plt.subplots(1, 2, figsize=(10, 3.2), gridspec_kw={"width_ratios": [1, 1.7]})
    ax_image.imshow(clip.frames[frame].permute(1, 2, 0).numpy())
    ax_image.add_patch(plt.Rectangle((left, top), right - left, bottom - top, fill=False, color="red", lw=2))
    ax_image.set(xticks=[], yticks=[], title=f"{clip.name}: '{clip.sentence}'")
    sound, motion = loudness(clip), motion_energy(clip, box)
    seconds = np.arange(len(sound)) / clip.fps
    ax_signals.plot(seconds, (sound - sound.mean()) / sound.std(), label="loudness (log energy)")
    seconds = (np.arange(len(motion)) + 0.5) / clip.fps
    ax_signals.plot(seconds, (motion - motion.mean()) / motion.std(), label="mouth motion energy")
    ax_signals.set(xlabel="time (s)", ylabel="standardised", title="sound and mouth motion")
    ax_signals.legend(fontsize=8)
    ax_signals.grid(alpha=0.3)
    return show.finish(fig)


def show_sync_curves(curves: dict[str, torch.Tensor]):
    """Correlation against offset for every clip (thin) and their mean (thick)."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    offsets = np.arange(len(next(iter(curves.values())))) - (len(next(iter(curves.values()))) - 1) // 2
    for curve in curves.values():
        ax.plot(offsets, curve.numpy(), color="gray", alpha=0.4, lw=1)
    mean = torch.stack(list(curves.values())).mean(0)
    ax.plot(offsets, mean.numpy(), color="C0", lw=2.5, label=f"mean of {len(curves)} clips")
    ax.axvline(0, color="k", lw=0.8, ls=":")
    ax.set(xlabel="offset o (frames; o > 0: the mouth moves after the sound)", ylabel="Pearson r",
           title="loudness vs mouth motion at each offset")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return show.finish(fig)


# --- exercises ----------------------------------------------------------------------------------------------------

def check_training_loss(fn) -> None:
    """Exercise: ``fn(model, batch)`` = the loss ``train.fit`` minimises, compared with ``s2i.l1_loss`` on a small
    random Speech2Image and a random batch (spectrograms, identity images, target images)."""
    with config.isolated_rng(0):  # the same network and batch every time; the notebook's random stream untouched
        model = s2i.Speech2Image(width=4).eval()  # eval: the same drawing on every call
        batch = (torch.randn(3, 1, 32, 32), torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28))
    answer = torch.as_tensor(fn(model, batch))
    trainable, got = answer.requires_grad, answer.detach().float()
    with torch.no_grad():
        want = float(s2i.l1_loss(model, batch))
        drawn, (_, identity, target) = model(*batch[:2]), batch
    mistakes = {  # plausible wrong answers, each with what to change
        "that is the squared error (L2); Speech2Vid's loss is L1, the mean absolute difference": F.mse_loss(drawn,
                                                                                                           target),
        "compare the drawing with the target (the spoken digit in this hand), not with the identity image":
            F.l1_loss(drawn, identity),
        "average the absolute differences over images and pixels, do not add them up": (drawn - target).abs().sum(),
    }

    def value_hint() -> str:
        named = [advice for advice, value in mistakes.items() if abs(float(got) - float(value)) < 1e-5]
        return f"on a random batch the loss is {want:.4f}, you gave {float(got):.4f}: " + (named[0] if named else (
            "draw with model(spectrogram, identity), then take the mean of |drawn - target| over images and pixels"))

    checks.verdict("training loss", [
        (lambda: got.numel() == 1, lambda: f"return one number for the batch; you gave shape {tuple(got.shape)}"),
        (lambda: trainable, "compute the loss from the model's output with torch (no .item(), no torch.no_grad()): "
                            "train.fit back-propagates through it"),
        (lambda: abs(float(got) - want) < 1e-5, value_hint),
    ])


def check_best_offset(fn) -> None:
    """Checker for the exercise: ``fn(sound, motion, max_offset)`` must find a shift planted in a random signal."""
    generator = torch.Generator().manual_seed(0)
    sound = torch.randn(80, generator=generator)
    ok = True
    for shift in (-4, 0, 3):
        motion = torch.roll(sound, shift) + 0.1 * torch.randn(80, generator=generator)
        got = fn(sound, motion, 8)
        ok = ok and got == shift
    checks.exercise("best offset", ok,
                    "compare sound[t] with motion[t + o] on the same frames of the sound for every o, and return the "
                    "o with the largest correlation (torch.roll(x, 3)[t] == x[t - 3]: the motion lags by 3)")


# --- beside the paper ---------------------------------------------------------------------------------------------

_ABSTRACT = "the paper's abstract"
_UNCHECKED = "from a summary of the paper, not checked in the paper itself"
DESIGN_VS_PAPER = [
    {"what": "inputs", "paper": "still image(s) of the target face + an audio speech segment",
     "ours": "one MNIST digit in a writer's style + a spoken digit (0.77 s, 32 x 32 log-mel)", "note": _ABSTRACT},
    {"what": "model", "paper": "encoder-decoder CNN on a joint embedding of the face and the audio",
     "ours": "audio encoder + identity encoder (nets.Backbone), joint embedding at 3 x 3, upsampling decoder",
     "note": _ABSTRACT},
    {"what": "skip connections", "paper": "from the identity encoder to the decoder, important to keep the identity",
     "ours": "conv1 and conv2 maps into the decoder; ablation without them", "note": _UNCHECKED},
    {"what": "loss", "paper": "L1 to the real video frame", "ours": "L1 to the target image", "note": _UNCHECKED},
    {"what": "training data", "paper": "tens of hours of unlabelled video",
     "ours": "2,500 FSDD recordings of five speakers (the sixth is the test set), MNIST images paired by the spoken "
             "digit", "note": _ABSTRACT},
    {"what": "sharpening", "paper": "a separate deblurring CNN", "ours": "none", "note": _UNCHECKED},
]
