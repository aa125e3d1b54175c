"""Notebook 10's sizes and data, and its training: the generators (with and without skips) and the judge."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from course_lib import audio, config, data, nets, pretrained, train
from course_lib.pretext import speech2image as s2i

NOTEBOOK = "10_speech_to_image"  # its runs' shipped weights are named after it

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
    train_speakers: tuple[str, ...]  # who says each training recording (a probe's validation voice is one of them)
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
    return Experiment(train_specs.to(device), train_set.digit.to(device), tuple(train_set.speaker),
                      test_specs.to(device), test_set.digit.to(device), test_set,
                      data.load_mnist(True, sizes.images, root).to(device),
                      data.load_mnist(False, root=root).to(device))


# --- training -----------------------------------------------------------------------------------------------------

def train_generator(ex: Experiment, sizes: Sizes, seed: int = 0, skips: bool = True, progress: bool = True,
                    desc: str | None = None):
    """One Speech2Image network trained with the L1 loss on fresh (recording, identity, target) pairs: (model, history).

    Both variants start from the same seed and see the same stream of pairs, so the skips are the only difference.
    The run is named ``desc`` (default "with skips" or "no skips"; ``train_generators`` adds the seed).
    """
    desc = desc or ("with skips" if skips else "no skips")
    with config.isolated_rng(seed):  # the initial weights: both variants of a seed start alike
        model = s2i.Speech2Image(sizes.network_width, skips).to(ex.train_specs.device)
        model = model.to(memory_format=torch.channels_last)
        pairs = s2i.pair_batches(ex.train_specs, ex.train_digits, ex.images.x, ex.images.y, sizes.batch, seed)
        history = pretrained.load_or_train(
            model, f"{NOTEBOOK}/{desc}",
            lambda: train.fit(model, pairs, s2i.l1_loss, steps=sizes.steps, max_seconds=sizes.seconds, lr=LR,
                              desc=desc, progress=progress),
            sizes=sizes, seed=seed, loss=s2i.l1_loss, lr=LR, skips=skips)
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
    generator = torch.Generator().manual_seed(seed + 1)

    def in_random_styles(x):
        return s2i.apply_style(x, s2i.random_styles(len(x), generator, x.device))

    with config.isolated_rng(seed):  # the judge's initial weights
        judge = nets.Classifier(nets.Backbone(1, sizes.network_width), 10).to(ex.images.x.device)
        history = pretrained.load_or_train(
            judge, f"{NOTEBOOK}/judge",
            lambda: train.train_classifier(judge, ex.images.x, ex.images.y, steps=sizes.judge_steps,
                                           batch_size=sizes.batch, augment=in_random_styles, seed=seed,
                                           desc="judge", progress=progress),
            sizes=sizes, seed=seed, loss="cross-entropy", augment=s2i.random_styles)
    return judge.eval(), history
