"""Notebook 02's experiment: its sizes, who sees which photos, and the detection transfer of the four
initialisations of one backbone (``pretraining``).

Downstream of the pretraining: detection on scenes of
*other* CIFAR-10 photos pasted on blurred backgrounds with known boxes (``course_lib.detection``), mAP@0.5 on scenes
made from the test set, over all ten classes and over the four vehicle classes, with the backbone **frozen** (only
the head trains, on features computed once) or **fine-tuned** (backbone and head, the same steps for every start).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field

import pandas as pd
import torch

from course_lib import config, evaluate, nets, pretrained, train
from course_lib.data import ImageData
from course_lib.detection import (
    DetectionHead,
    Detector,
    Scenes,
    detect,
    detection_loss,
    frozen_features,
    make_scenes,
)
from course_lib.pretext import relative_position as rp

NOTEBOOK = "02_relative_position"  # its runs' shipped weights are named after it

INITS = ("supervised", "supervised_other", "relative_position", "random")
NAMES = {"supervised": "supervised (all 10 classes: oracle)", "supervised_other": "supervised (animals only)",
         "relative_position": "relative position", "random": "random init"}
# The detection classes are CIFAR-10's own, so a start supervised on CIFAR-10 labels has seen the test classes (the
# paper's ImageNet start was trained on another label set than VOC's). The control: a start supervised on the animals
# only, judged on the vehicles, which no start saw labelled (as a network trained on UCF's actions is judged on
# HMDB's).
OTHER_CLASSES = ("bird", "cat", "deer", "dog", "frog", "horse")
UNSEEN_CLASSES = ("airplane", "automobile", "ship", "truck")
STAGE = "conv3"  # the detection head reads conv3: stride 4, a 16 x 16 map on a 64-pixel scene (CenterNet's stride)
# Scale matters for transfer: pasted photos keep at least 3/4 of their 32-pixel side, the scale the supervised backbone
# learned, and the pretext photos are magnified 1.5x (not 2x), so a 12-pixel patch shows about what a detector cell
# sees. Chosen while sizing this notebook: with 16-32-pixel objects and 2x magnification, relative position sat at
# the level of random init on some seeds.
OBJECT_SIZES = (24, 32)
GRID = rp.PatchGrid(image_side=48, patch=12, gap=4, jitter=2)
ABERRATION = 0.05  # the shortcut lab's synthetic chromatic aberration: green magnified by 1 + ABERRATION


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 02's own sizes, beside the shared ones."""

    pretrain_images: int  # CIFAR-10 training photos that pretrain (the other loaded ones make detection scenes)
    supervised_steps: int  # optimiser steps of the supervised pretraining on CIFAR-10 labels
    pretext_steps: int  # optimiser steps of the relative-position pretext task
    pretrain_seconds: float  # time cap of each pretraining run and of each detector training
    shortcut_steps: int  # steps of each of the three pretext runs of the shortcut lab
    train_scenes: int  # detection scenes (64 x 64, 1-3 pasted photos) the detectors train on
    test_scenes: int  # detection scenes mAP@0.5 is measured on (made from test-set photos)
    head_steps: int  # steps of a detection head on a frozen backbone
    detector_batch: int  # scenes per step of a detection head or a fine-tuned detector
    finetune_steps: int  # steps of a detector fine-tuned end to end (lab, full: the head's, enough to move every start)


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(pretrain_images=6000, supervised_steps=60, pretext_steps=150, pretrain_seconds=20, shortcut_steps=40,
            train_scenes=1000, test_scenes=400, head_steps=100, detector_batch=64, finetune_steps=10),
    lab=dict(pretrain_images=7000, supervised_steps=150, pretext_steps=500, pretrain_seconds=60, shortcut_steps=150,
             train_scenes=1500, test_scenes=500, head_steps=200, detector_batch=64, finetune_steps=200),
    full=dict(pretrain_images=40_000, supervised_steps=3000, pretext_steps=6000, pretrain_seconds=300,
              shortcut_steps=1500, train_scenes=10_000, test_scenes=2000, head_steps=1500, detector_batch=128,
              finetune_steps=1500),
)


VALIDATION_SCENES = 300  # scenes that choose random init's read (as initialised, or BatchNorm recalibrated)


@dataclass
class Split:
    """Who sees which photos: pretraining images, the photos pasted into training scenes, the test scenes, and the
    validation scenes that choose random init's read. Those are made of pretraining photos: random init, the only
    row chosen on them, saw no photo at all, and no detection head trains on them."""

    pretrain: ImageData
    scenes: Scenes
    test_scenes: Scenes
    val_scenes: Scenes

    def __str__(self) -> str:
        return (f"pretraining: {len(self.pretrain)} CIFAR-10 training photos\n"
                f"detection: {len(self.scenes)} training scenes (other training photos), {len(self.test_scenes)} "
                f"test scenes (test-set photos), {self.test_scenes.side} x {self.test_scenes.side} pixels\n"
                f"validation: {len(self.val_scenes)} scenes of pretraining photos (they choose random init's read)")


def split(train_set: ImageData, test_set: ImageData, sizes: Sizes, seed: int = 0) -> Split:
    """The first ``sizes.pretrain_images`` training photos pretrain; the rest, and the test set, make scenes; the
    pretraining photos also make ``VALIDATION_SCENES`` validation scenes."""
    n = sizes.pretrain_images
    if not 0 < n < len(train_set):
        raise ValueError(f"pretrain_images={n} must leave training photos for the scenes (there are {len(train_set)})")
    pretrain = ImageData(train_set.x[:n], train_set.y[:n], train_set.classes)
    rest = ImageData(train_set.x[n:], train_set.y[n:], train_set.classes)
    return Split(pretrain=pretrain,
                 scenes=make_scenes(rest.x, rest.y, sizes.train_scenes, rest.classes, sizes=OBJECT_SIZES, seed=seed),
                 test_scenes=make_scenes(test_set.x, test_set.y, sizes.test_scenes, test_set.classes,
                                         sizes=OBJECT_SIZES, seed=seed + 1),
                 val_scenes=make_scenes(pretrain.x, pretrain.y, VALIDATION_SCENES, pretrain.classes,
                                        sizes=OBJECT_SIZES, seed=seed + 2))


# ---------------------------------------------------------------- detection transfer


def _frozen_copy(backbone: nets.Backbone, scenes: Scenes, recalibrate: bool) -> nets.Backbone:
    """A copy of ``backbone`` in eval mode (the original is left alone), with BatchNorm statistics re-estimated on
    the detection scenes if ``recalibrate``."""
    frozen = copy.deepcopy(backbone).eval()
    return nets.recalibrate_batchnorm(frozen, scenes.x) if recalibrate else frozen


def _train_detector(model, inputs: torch.Tensor, scenes: Scenes, steps: int, sizes: Sizes, seed: int,
                    progress: bool, desc: str, lr: float = 2e-3) -> train.History:
    loss = functools.partial(detection_loss, image_side=scenes.side)
    stream = train.batches(inputs, scenes.boxes, scenes.labels, batch_size=sizes.detector_batch, seed=seed)
    return pretrained.load_or_train(
        model, f"{NOTEBOOK}/{desc}",
        lambda: train.fit(model, stream, loss, steps=steps, max_seconds=sizes.pretrain_seconds, progress=progress,
                          desc=desc, lr=lr),
        sizes=sizes, seed=seed, steps=steps, loss=loss, lr=lr)


def _frozen_run(backbone: nets.Backbone, data: Split, sizes: Sizes, seed: int, progress: bool,
                recalibrate: bool = False, desc: str = "detection head (frozen backbone)"
                ) -> tuple[list[dict[str, torch.Tensor]], DetectionHead, train.History]:
    """The head's detections on the test scenes, the head, and its training history."""
    frozen = _frozen_copy(backbone, data.scenes, recalibrate)
    with config.isolated_rng(seed):  # the head's initial weights
        head = DetectionHead(frozen.channels[STAGE], len(data.scenes.classes)).to(data.scenes.x.device)
        history = _train_detector(head, frozen_features(frozen, data.scenes.x, STAGE), data.scenes,
                                  sizes.head_steps, sizes, seed, progress, desc)
    return detect(head, frozen_features(frozen, data.test_scenes.x, STAGE), data.test_scenes.side), head, history


def frozen_map(backbone: nets.Backbone, data: Split, sizes: Sizes, seed: int = 0, progress: bool = True,
               recalibrate: bool = False, desc: str = "detection head (frozen backbone)"
               ) -> tuple[float, DetectionHead]:
    """mAP@0.5 (%) of a detection head trained on the frozen backbone's ``STAGE`` features (computed once), and the
    head.

    ``recalibrate=True`` first re-estimates the BatchNorm statistics on the scenes (``nets.recalibrate_batchnorm``): a
    data-dependent rescaling, like the data-dependent initialisations (Krähenbühl et al. 2015) that make "no
    pretraining" a strong baseline.
    """
    predictions, head, _ = _frozen_run(backbone, data, sizes, seed, progress, recalibrate, desc)
    return evaluate.detection_map(predictions, data.test_scenes.targets()), head


FINETUNE_LR = 5e-4  # a quarter of the default: the weights start from something worth keeping


def _finetune_run(backbone: nets.Backbone, head: DetectionHead, data: Split, sizes: Sizes, seed: int,
                  progress: bool, desc: str = "detector (fine-tuning)") -> tuple[Detector, train.History]:
    with config.isolated_rng(seed):
        model = Detector(copy.deepcopy(backbone), len(data.scenes.classes), STAGE, frozen_batchnorm=True)
        model.head.load_state_dict(head.state_dict())
        model = model.to(data.scenes.x.device)
        history = _train_detector(model, data.scenes.x, data.scenes, sizes.finetune_steps, sizes, seed, progress,
                                  desc, lr=FINETUNE_LR)
    return model.eval(), history


def finetune(backbone: nets.Backbone, head: DetectionHead, data: Split, sizes: Sizes, seed: int = 0,
             progress: bool = True, desc: str = "detector (fine-tuning)") -> Detector:
    """A ``Detector`` from copies of ``backbone`` and of the ``head`` trained on it frozen, then backbone and head
    trained together on the scenes ("linear probe, then fine-tune": a fresh random head would send large, random
    gradients into the pretrained layers during the first steps). BatchNorm statistics stay frozen."""
    return _finetune_run(backbone, head, data, sizes, seed, progress, desc)[0]


def finetuned_map(backbone: nets.Backbone, head: DetectionHead, data: Split, sizes: Sizes, seed: int = 0,
                  progress: bool = True, desc: str = "detector (fine-tuning)"):
    """mAP@0.5 (%) after fine-tuning the whole detector (starting from ``head``), and the detector."""
    model = finetune(backbone, head, data, sizes, seed, progress, desc)
    predictions = detect(model, data.test_scenes.x, data.test_scenes.side)
    return evaluate.detection_map(predictions, data.test_scenes.targets()), model


def unseen_map(predictions: list[dict[str, torch.Tensor]], scenes: Scenes) -> float:
    """mAP@0.5 (%) over the ``UNSEEN_CLASSES`` only: the vehicles, whose labels no start but the oracle saw."""
    classes = [scenes.classes.index(name) for name in UNSEEN_CLASSES]
    return evaluate.detection_map(predictions, scenes.targets(), classes=classes)


@dataclass
class Transfer:
    """Detection mAP@0.5 (%) per initialisation, frozen and fine-tuned, over all classes and over the
    ``UNSEEN_CLASSES`` (``*_unseen``), with the heads and detectors behind them, the detector trainings that
    stopped at their time cap, and the read random init was kept at (``random_read``: chosen on the validation
    scenes, whose mAP for each read ``read_val_map`` holds)."""

    frozen: dict[str, float]
    finetuned: dict[str, float]
    frozen_unseen: dict[str, float]
    finetuned_unseen: dict[str, float]
    heads: dict[str, DetectionHead]
    detectors: dict[str, Detector]
    capped: list[str]
    random_read: str = ""
    read_val_map: dict[str, float] = field(default_factory=dict)


def transfer(backbones: dict[str, nets.Backbone], data: Split, sizes: Sizes, seed: int = 0,
             progress: bool = True, random_row: str = "random") -> Transfer:
    """Every backbone judged by detection: a head on the frozen backbone, then the whole detector fine-tuned.
    Each training is named after its backbone, e.g. "detection head, relative position" (its own checkpoint).
    ``random_row`` is read at its best first (``random_at_its_best``); both protocols then start from that read."""
    scores = {column: {} for column in ("frozen", "finetuned", "frozen_unseen", "finetuned_unseen")}
    heads, detectors, capped = {}, {}, []

    def keep(column: str, name: str, predictions) -> None:
        scores[column][name] = evaluate.detection_map(predictions, data.test_scenes.targets())
        scores[f"{column}_unseen"][name] = unseen_map(predictions, data.test_scenes)

    backbones, frozen_runs, read, read_val_map = dict(backbones), {}, "", {}
    if random_row in backbones:
        backbones[random_row], frozen_runs[random_row], read, read_val_map, capped_reads = random_at_its_best(
            backbones[random_row], data, sizes, seed, progress, random_row)
        capped += [f"detection head ({random_row}, {r})" for r in capped_reads if r != read]  # the kept one: below
    for name, backbone in backbones.items():
        predictions, heads[name], history = frozen_runs.get(name) or _frozen_run(
            backbone, data, sizes, seed, progress, desc=f"detection head, {_words(name)}")
        keep("frozen", name, predictions)
        capped += [f"detection head ({name})"] if history.capped else []
    for name, backbone in backbones.items():
        detectors[name], history = _finetune_run(backbone, heads[name], data, sizes, seed, progress,
                                                 desc=f"detector fine-tuning, {_words(name)}")
        keep("finetuned", name, detect(detectors[name], data.test_scenes.x, data.test_scenes.side))
        capped += [f"fine-tuning ({name})"] if history.capped else []
    return Transfer(**scores, heads=heads, detectors=detectors, capped=capped, random_read=read,
                    read_val_map=read_val_map)


def random_at_its_best(backbone: nets.Backbone, data: Split, sizes: Sizes, seed: int = 0, progress: bool = True,
                       name: str = "random"):
    """A random-init backbone read twice (``evaluate.random_reads``: as initialised, and with its BatchNorm
    statistics re-estimated on the training scenes' images, no labels), a frozen head trained on each; the read whose
    head scores the better mAP on the validation scenes is kept, as a layer is kept elsewhere: a baseline gets every
    choice its rivals get. Returns (the backbone at that read, its frozen run, the read, {read: validation mAP},
    the reads whose head stopped at its time cap: a choice between a short run and a full one is named)."""
    reads = evaluate.random_reads(backbone, data.scenes.x)
    runs, val_map = {}, {}
    for read, network in reads.items():
        suffix = "" if read == evaluate.AS_INITIALISED else f", {read}"  # as initialised: the run it always was
        runs[read] = _frozen_run(network, data, sizes, seed, progress, desc=f"detection head, {_words(name)}{suffix}")
        features = frozen_features(_frozen_copy(network, data.scenes, False), data.val_scenes.x, STAGE)
        val_map[read] = evaluate.detection_map(detect(runs[read][1], features, data.val_scenes.side),
                                               data.val_scenes.targets())
    best = evaluate.better_on_validation(val_map)
    return reads[best], runs[best], best, val_map, [read for read, (_, _, history) in runs.items() if history.capped]


def random_read_table(result: Transfer, val_scenes: Scenes) -> pd.DataFrame:
    """Random init's two reads: the mAP@0.5 (%) of each one's frozen head on the validation scenes, and which was kept
    (the one compared in every table)."""
    return pd.DataFrame({"validation mAP@0.5": result.read_val_map,
                         "kept": {read: read == result.random_read for read in result.read_val_map},
                         "validation scenes": len(val_scenes)}).round(1)


def _words(name: str) -> str:
    """"relative_position" -> "relative position", "supervised_other" -> "supervised other classes": a run's name."""
    return {"supervised_other": "supervised other classes"}.get(name, name.replace("_", " "))


def _place_prior_guesses(scenes: Scenes) -> list[dict[str, torch.Tensor]]:
    """The same guesses for every scene: in each quadrant one box of the middle object size, once per class."""
    half, side = scenes.side // 2, sum(OBJECT_SIZES) / 2
    centres = torch.tensor([[x, y] for y in (half / 2, 3 * half / 2) for x in (half / 2, 3 * half / 2)])
    boxes = torch.cat([centres - side / 2, centres + side / 2], 1)  # 4 quadrants, (x0, y0, x1, y1)
    n_classes = len(scenes.classes)
    guess = {"boxes": boxes.repeat(n_classes, 1), "scores": torch.ones(4 * n_classes),
             "labels": torch.arange(n_classes).repeat_interleave(4)}
    return [guess] * len(scenes)


def place_prior_map(scenes: Scenes, unseen: bool = False) -> float:
    """mAP@0.5 (%) of a detector that sees nothing (over the ``UNSEEN_CLASSES`` only if ``unseen``): in every
    quadrant a box of the middle object size at the quadrant's centre, once for every class, all with the same
    score. It knows where objects can be and how big they are, not what they are: a trivial baseline that any
    detector reading its features should beat."""
    guesses = _place_prior_guesses(scenes)
    return unseen_map(guesses, scenes) if unseen else evaluate.detection_map(guesses, scenes.targets())


PLACE_PRIOR = "place prior (sees nothing)"
ALL_CLASSES, VEHICLES = "all 10 classes", "vehicles (no label seen but the oracle's)"


def transfer_table(result: Transfer, scenes: Scenes | None = None) -> pd.DataFrame:
    """mAP@0.5 (%) per initialisation, over all classes and over the vehicles: frozen backbone + trained head, and
    fine-tuned end to end; with the test ``scenes``, a last row for the detector that sees nothing."""
    table = pd.DataFrame({(ALL_CLASSES, "frozen"): result.frozen, (ALL_CLASSES, "fine-tuned"): result.finetuned,
                          (VEHICLES, "frozen"): result.frozen_unseen,
                          (VEHICLES, "fine-tuned"): result.finetuned_unseen}).round(1)
    table.index = [NAMES[name] for name in table.index]
    if scenes is not None:
        every, vehicles = (round(place_prior_map(scenes, unseen), 1) for unseen in (False, True))
        table.loc[PLACE_PRIOR] = [every, every, vehicles, vehicles]
    return table
