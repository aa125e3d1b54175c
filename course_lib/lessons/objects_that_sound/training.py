"""The AVOL-Net trained label-free and with weak labels, its heat maps, and its recall on single digits."""

from __future__ import annotations

import copy

import torch

from course_lib import config, evaluate, pretrained, train
from course_lib.lessons.objects_that_sound.canvases import (
    DIGITS,
    LABEL_FREE,
    LOSSES,
    NOTEBOOK,
    SINGLE,
    Sizes,
    SoundsAndDigits,
    labelled_batches,
    single_digit_videos,
    video_batches,
)
from course_lib.pretext import audio_visual as av
from course_lib.pretext import objects_that_sound as ots

# --- training -----------------------------------------------------------------------------------------------------

# The canvas stage fine-tunes the single-digit model at a quarter of the course's learning rate (``train.LR``). At the
# full rate its fresh optimiser's first steps undid the single-digit stage on some seeds: lab seed 3 pointed at 78.4 %
# after the single digits and 17.1 % after the canvases (a random point: 19.5 %; results/lab/seeds/further/
# 09_objects_that_sound.full_rate.json). The quarter was chosen on validation canvases (MNIST training digits the run
# never pastes, the training voices), lab seeds 0-3, among 2e-4, 5e-4 and 2e-3: mean pointing 91.2, 93.5, 77.7 %.
CANVAS_LR = train.LR / 4


def _fresh_model(sizes: Sizes, seed: int, device) -> ots.AVOLNet:
    """The AVOL-Net at its initial weights for ``seed``: every setting and sampling starts from the same ones."""
    with config.isolated_rng(seed):
        return ots.AVOLNet(sizes.width).to(device).to(memory_format=torch.channels_last)


def train_label_free(data: SoundsAndDigits, sizes: Sizes, seed: int = 0, device="cpu", progress: bool = True,
                     digits: int = DIGITS, canvas_loss=ots.video_loss):
    """The AVOL-Net trained without a label: first ``sizes.single_steps`` steps on single-digit videos (a 28 x 28
    frame and its soundtrack, 08's setting, where correspondence is easy to learn), then ``sizes.canvas_steps``
    steps on canvases of ``digits`` digits at ``CANVAS_LR`` (fine-tuning), as the paper trains on its scenes; both
    with diagonal-only targets (``ots.video_loss``: every other video of the batch is a negative, whatever it
    shows; ``canvas_loss`` may be another label-free loss for the canvases, e.g. ``ots.contrastive_loss``).
    Returns ({SINGLE: the model after the single-digit videos, LABEL_FREE: after the canvases too},
    {phase: history})."""
    model = _fresh_model(sizes, seed, device)
    phases = {
        "single-digit videos": (single_digit_videos(data, sizes.single_batch, seed, device), sizes.single_steps),
        "canvases": (video_batches(data, sizes.batch, digits, seed, device), sizes.canvas_steps),
    }
    losses = {"single-digit videos": ots.video_loss, "canvases": canvas_loss}
    rates = {"single-digit videos": train.LR, "canvases": CANVAS_LR}
    models, histories = {}, {}
    for (phase, (stream, steps)), name in zip(phases.items(), (SINGLE, LABEL_FREE), strict=True):
        desc = f"label-free, {phase}"
        histories[phase] = pretrained.load_or_train(
            model, f"{NOTEBOOK}/{desc}",
            lambda: train.fit(model, stream, losses[phase], steps=steps, max_seconds=sizes.seconds,  # noqa: B023
                              lr=rates[phase], desc=desc, progress=progress),  # noqa: B023 (called at once)
            sizes=sizes, seed=seed, digits=digits, loss=losses[phase], lr=rates[phase])
        models[name] = copy.deepcopy(model).eval()  # each phase's model, to compare what the canvases change
    return models, histories


def train_avol(data: SoundsAndDigits, sizes: Sizes, seed: int = 0, sampling: str = "every pair in the batch",
               steps: int | None = None, device="cpu", progress: bool = True, lr: float = 2e-3,
               digits: int = DIGITS):
    """An AVOL-Net trained with the weak labels (told the digits on each canvas), with one of the ``LOSSES``, on
    canvases of ``digits`` digits; returns (model, history). Every sampling starts from the same weights."""
    model = _fresh_model(sizes, seed, device)
    stream = labelled_batches(data, sizes.batch, digits, seed, device)
    steps = steps or sizes.steps
    history = pretrained.load_or_train(
        model, f"{NOTEBOOK}/{sampling}",
        lambda: train.fit(model, stream, LOSSES[sampling], steps=steps, max_seconds=sizes.seconds, desc=sampling,
                          progress=progress, lr=lr),
        sizes=sizes, seed=seed, steps=steps, lr=lr, digits=digits, loss=LOSSES[sampling])
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
