"""Temporal order verification: is this tuple of frames in the right order? (Misra, Zitnick & Hebert, ECCV 2016)

"Shuffle and Learn". From an unlabelled video take five frames f_a, f_b, f_c, f_d, f_e with a < b < c < d < e.
The tuple (f_b, f_c, f_d) is in order: a *positive*, and so is its reverse (f_d, f_c, f_b) -- which way time runs
is often ambiguous, so order means "monotonic", not "forward". Replacing the middle frame by one from outside,
(f_b, f_a, f_d) or (f_b, f_e, f_d), gives a *negative*. Both keep the same two end frames, so the network cannot
tell them apart by the ends: it has to judge whether the middle frame lies *between* them, which needs a sense of
the pose of what moves. The paper trained with about 3 negatives per positive (25 % positives).

Tuples are drawn from windows of high motion: where nothing moves, order is unknowable and the tuple only adds
noise. The paper used optical flow to find those windows; here the mean absolute frame difference does the job.
A negative's outside frame keeps a minimum gap from the end it lies beyond (the paper's tau_min = min(|a - b|,
|d - e|)): a frame right next to b or d looks almost the same, and a "shuffled" tuple that shows nearly the same
picture as a positive is a wrong label, not a hard example.

The network is a triplet siamese network: one backbone embeds each frame (shared weights), the three codes are
concatenated *in the tuple's order*, and a small MLP answers in order / shuffled (a 2-way softmax).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.nets import Backbone, mlp

POSITIVE_FRACTION = 0.25  # Misra et al.: about 3 negatives per positive
FIVE = 5  # frames a < b < c < d < e
MIN_GAP = 3  # tau_min in frames: b - a >= MIN_GAP and e - d >= MIN_GAP (16-frame clips, 12-frame windows)


def motion_energy(videos: torch.Tensor) -> torch.Tensor:
    """How much each step of each clip moves: mean |x_{t+1} - x_t| over pixels, shape (N, T - 1)."""
    return (videos[:, 1:] - videos[:, :-1]).abs().flatten(2).mean(2)


def high_motion_starts(videos: torch.Tensor, window: int, per_clip: int = 1,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """``per_clip`` window starts per clip, (N, per_clip), each drawn with probability proportional to the motion
    inside the window. A window of ``window`` frames spans ``window - 1`` steps; its weight is their energy sum."""
    n, t = videos.shape[:2]
    if not FIVE <= window <= t:
        raise ValueError(f"a window must hold 5 frames and fit in {t}, got {window}")
    steps = motion_energy(videos).cpu()
    weights = steps.unfold(1, window - 1, 1).sum(-1) + 1e-8  # (N, T - window + 1); no motion anywhere: uniform
    return torch.multinomial(weights, per_clip, replacement=True, generator=generator)


def five_frames(starts: torch.Tensor, window: int, generator: torch.Generator | None = None,
                min_gap: int = MIN_GAP) -> torch.Tensor:
    """Frame indices a < b < c < d < e, shape (*starts.shape, 5), inside each window, with b - a >= ``min_gap`` and
    e - d >= ``min_gap``; every such choice is equally likely.

    Five sorted positions are drawn from a window shortened by the two gaps, then b, c, d are moved up by one gap
    and e by two: a one-to-one map onto the allowed choices, so no draw is rejected.
    """
    slack = min_gap - 1
    if min_gap < 1 or window - 2 * slack < FIVE:
        raise ValueError(f"a window of {window} frames cannot hold a < b < c < d < e with gaps of {min_gap} "
                         f"frames around b ... d (it needs {FIVE + 2 * slack})")
    pick = torch.rand(*starts.shape, window - 2 * slack, generator=generator).argsort(-1)[..., :FIVE].sort(-1).values
    return starts[..., None] + pick + torch.tensor([0, slack, slack, slack, 2 * slack], device=starts.device)


def order_tuples(indices: torch.Tensor, generator: torch.Generator | None = None):
    """From a < b < c < d < e (... x 5) make tuples and labels: (..., 3) frame indices, (...) 1 = in order.

    With probability ``POSITIVE_FRACTION`` a tuple is (b, c, d), else (b, a, d) or (b, e, d) with equal chance;
    then half of all tuples, positive or not, are reversed.
    """
    a, b, c, d, e = indices.unbind(-1)
    shape = indices.shape[:-1]
    positive = torch.rand(shape, generator=generator) < POSITIVE_FRACTION
    outside = torch.where(torch.rand(shape, generator=generator) < 0.5, a, e)
    tuples = torch.stack([b, torch.where(positive, c, outside), d], -1)
    reverse = torch.rand(shape, generator=generator) < 0.5
    return torch.where(reverse[..., None], tuples.flip(-1), tuples), positive.long()


def draw_tuples(videos: torch.Tensor, per_clip: int = 1, window: int = 12, generator: torch.Generator | None = None,
                min_gap: int = MIN_GAP):
    """The pairs maker: ``per_clip`` tuples of each clip from high-motion windows -> frame indices (N, per_clip, 3)
    and labels (N, per_clip), 1 = in order."""
    starts = high_motion_starts(videos, window, per_clip, generator)
    return order_tuples(five_frames(starts, window, generator, min_gap), generator)


def pick(sequences: torch.Tensor, tuples: torch.Tensor) -> torch.Tensor:
    """Each clip's tuples from its sequence of frames or codes: (N, T, ...) and (N, ..., 3) -> (N, ..., 3, ...)."""
    clip = torch.arange(len(sequences), device=sequences.device).view(-1, *[1] * (tuples.ndim - 1))
    return sequences[clip, tuples.to(sequences.device)]


CODE_SIDE = 2  # conv5 pooled to 2 x 2, not 1 x 1: order is about *where* things are, which a global mean drops


def frame_codes(backbone: Backbone, frames: torch.Tensor) -> torch.Tensor:
    """One code per frame, (..., C, H, W) -> (..., out_dim x 4): the pooled conv5 map the tuple head reads.

    The downstream heads read the same code, whatever trained the backbone (tuples, labels or nothing).
    """
    fmap = backbone(frames.flatten(0, -4))
    return F.adaptive_avg_pool2d(fmap, CODE_SIDE).flatten(1).unflatten(0, frames.shape[:-3])


class TupleNet(nn.Module):
    """Triplet siamese network: a shared backbone per frame, codes concatenated in order, a 2-way MLP head."""

    def __init__(self, backbone: Backbone, hidden: int = 256):
        super().__init__()
        self.backbone = backbone
        self.head = mlp(3 * backbone.out_dim * CODE_SIDE**2, hidden, 2)

    def verify(self, codes: torch.Tensor) -> torch.Tensor:
        """Logits (M, 2) of shuffled / in order from the codes of tuples (..., 3, D), concatenated in order."""
        return self.head(codes.flatten(-2).flatten(0, -2))

    def forward(self, tuples: torch.Tensor) -> torch.Tensor:
        """Logits (N, 2) of shuffled / in order for frames (N, 3, C, H, W)."""
        return self.verify(frame_codes(self.backbone, tuples))


def tuple_loss(model: TupleNet, batch: tuple[torch.Tensor, ...], per_clip: int = 16, window: int = 12,
               min_gap: int = MIN_GAP, draw: Callable = draw_tuples):
    """For ``train.fit``: cross-entropy of in order / shuffled on ``per_clip`` fresh tuples of each clip (batch[0]).

    Every frame of a clip goes through the backbone once, and all its tuples read their three codes from there:
    the same network as running each tuple's frames through it, for a fraction of the compute.
    Metric ``acc``: the share of tuples judged right (3 in 4 are negatives: always "shuffled" scores 75 %).
    ``draw(videos, per_clip, window, min_gap=min_gap)`` is the tuple sampler: ``draw_tuples``, or a student's own
    (notebook 03's exercise).
    """
    videos = batch[0]
    tuples, labels = draw(videos, per_clip, window, min_gap=min_gap)
    logits = model.verify(pick(frame_codes(model.backbone, videos), tuples))
    labels = labels.flatten().to(logits.device)
    return F.cross_entropy(logits, labels), {"acc": (logits.argmax(1) == labels).float().mean()}


@torch.no_grad()
def tuple_accuracy(model: TupleNet, videos: torch.Tensor, repeats: int = 4, window: int = 12, seed: int = 0,
                   batch_size: int = 256, draw: Callable = draw_tuples) -> float:
    """Balanced accuracy (%) of order verification on held-out clips: the mean of the accuracy on positives and
    on negatives (so chance is 50 % whatever the mix), over ``repeats`` tuples per clip drawn by
    ``draw(clips, 1, window, generator)`` (``draw_tuples``, or a student's sampler)."""
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    right = {0: [], 1: []}
    for _ in range(repeats):
        for start in range(0, len(videos), batch_size):
            clips = videos[start:start + batch_size]
            tuples, labels = draw(clips, 1, window, generator)
            correct = model(pick(clips, tuples[:, 0])).argmax(1).cpu() == labels[:, 0]
            for label in (0, 1):
                right[label].append(correct[labels[:, 0] == label].float())
    return 100.0 * float(sum(torch.cat(right[label]).mean() for label in (0, 1)) / 2)
