"""Notebook 03's exercises: the tuple sampler of Shuffle and Learn (checked, then trained with) and, as an optional
warm-up, the motion energy that finds where a clip moves.

``check_draw_tuples`` feeds a student's sampler *probe clips* that move at one step only (at their start, their
end or their middle), so it can tell from the frame indices alone whether each tuple came from a window that moves,
whether its label says the truth, whether the outside frame of a negative keeps tau_min from the ends (and may lie
exactly tau_min away), whether the five frames are drawn at random, on three clip lengths, window sizes, minimum
gaps and seeds. Then *strength clips*, with two windows, one moving three times as much as the other, show how often
the busier window is drawn: about 3 in 4 times when windows are drawn in proportion to their motion.
``train_with_your_sampler`` then trains a fresh triplet network with the student's sampler inside the course's own
loss (``temporal_order.tuple_loss(draw=...)``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from course_lib import checks, config, show, train
from course_lib.lessons.temporal_order.pretraining import TUPLE_LR, Sizes, initial_backbone
from course_lib.pretext import temporal_order

# ---------------------------------------------------------------- the tuple sampler

# (clips, frames, window, tuples per clip, tau_min, generator seed): the notebook's own sizes first
SAMPLER_CASES = ((48, 16, 12, 8, 3, 0), (30, 20, 10, 16, 2, 1), (40, 24, 14, 12, 4, 5))


def probe_clips(n: int, frames: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` clips (N x T x 2 x 3 x 5: every axis its own length) that change at one step only, and that step per
    clip: at the start, at the end or in the middle, in turn. A window without that step shows nothing moving."""
    generator = torch.Generator().manual_seed(seed)
    before = torch.rand(n, 1, 2, 3, 5, generator=generator)
    after = 1 + torch.rand(n, 1, 2, 3, 5, generator=generator)  # every pixel changes at the step
    moves = torch.tensor([(0, frames - 2, (frames - 2) // 2)[i % 3] for i in range(n)])
    frame = torch.arange(frames).view(1, frames, 1, 1, 1)
    return torch.where(frame <= moves.view(n, 1, 1, 1, 1), before, after), moves


def strength_clips(n: int, window: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` clips (N x (window + 1) x 2 x 3 x 5) with two windows of ``window`` frames: the first holds the clip's
    first step, the second its last, and only those two steps move, one by 3 and the other by 1 (every pixel).
    Returns the clips and, per clip, whether its last step is the busier (odd clips) or its first (even clips).
    Drawn in proportion to its motion, the busier window is drawn 3 times in 4."""
    generator = torch.Generator().manual_seed(seed)
    frames = window + 1
    late = torch.arange(n) % 2 == 1
    first_step = torch.where(late, 1.0, 3.0).view(n, 1, 1, 1, 1)
    last_step = torch.where(late, 3.0, 1.0).view(n, 1, 1, 1, 1)
    frame = torch.arange(frames).view(1, frames, 1, 1, 1)
    start = torch.rand(n, 1, 2, 3, 5, generator=generator)
    return start + first_step * (frame >= 1) + last_step * (frame >= frames - 1), late


BUSIER_SHARE = 0.75  # how often the busier window of a strength clip is drawn, in proportion to the motion (3 to 1)


@dataclass
class _Drawn:
    """A sampler's tuples read back: ends and middle of each, its label, and the frames its five must span."""

    tuples: torch.Tensor  # (M, 3)
    labels: torch.Tensor  # (M,)
    min_gap: int

    @property
    def low(self) -> torch.Tensor:
        return torch.minimum(self.tuples[:, 0], self.tuples[:, 2])

    @property
    def high(self) -> torch.Tensor:
        return torch.maximum(self.tuples[:, 0], self.tuples[:, 2])

    @property
    def middle(self) -> torch.Tensor:
        return self.tuples[:, 1]

    @property
    def in_order(self) -> torch.Tensor:
        first, middle, last = self.tuples.unbind(1)
        return ((first < middle) & (middle < last)) | ((first > middle) & (middle > last))

    @property
    def forwards(self) -> torch.Tensor:
        return self.tuples[:, 0] < self.tuples[:, 2]

    def gap(self) -> torch.Tensor:
        """How far a negative's middle frame lies beyond the nearer end (<= 0: between the ends or on one)."""
        return torch.maximum(self.low - self.middle, self.middle - self.high)

    def extent(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The first and last frame the five frames a ... e of each tuple must at least span: the tuple's frames and
        min_gap beyond each end, where a and e lie at the least."""
        return (torch.minimum(self.middle, self.low - self.min_gap),
                torch.maximum(self.middle, self.high + self.min_gap))


def _in_a_moving_window(drawn: _Drawn, moves: torch.Tensor, window: int, frames: int) -> torch.Tensor:
    """Per tuple: is there a window of ``window`` frames that holds its extent and the step at which its clip moves?
    (Window [s, s + window - 1] holds steps s ... s + window - 2.)"""
    first, last = drawn.extent()
    lowest = torch.stack([torch.zeros_like(last), last - window + 1, moves - window + 2]).amax(0)
    highest = torch.stack([first, moves, torch.full_like(first, frames - window)]).amin(0)
    return lowest <= highest


def _sampler_tests(fn: Callable, n: int, frames: int, window: int, per_clip: int, min_gap: int, seed: int) -> list:
    """``checks.verdict``'s (test, hint) pairs for a sampler on one set of probe clips and one seed."""
    videos, moves = probe_clips(n, frames, seed)
    got = checks.answer(fn, videos, per_clip, window, torch.Generator().manual_seed(seed), min_gap)
    again = checks.answer(fn, videos, per_clip, window, torch.Generator().manual_seed(seed), min_gap)
    other = checks.answer(fn, videos, per_clip, window, torch.Generator().manual_seed(seed + 1000), min_gap)
    given = (f"{n} clips of {frames} frames (N x T x C x H x W = {tuple(videos.shape)}), per_clip={per_clip}, "
             f"window={window}, min_gap={min_gap}")
    part = [lambda i=i: got()[i] for i in range(2)]
    drawn = functools.cache(lambda: _Drawn(torch.as_tensor(got()[0]).reshape(-1, 3),
                                           torch.as_tensor(got()[1]).flatten(), min_gap))
    clip_moves = moves.repeat_interleave(per_clip)

    def same(a, b) -> bool:
        return all(torch.equal(torch.as_tensor(x), torch.as_tensor(z)) for x, z in zip(a(), b(), strict=True))

    def whole(i: int) -> bool:
        value = torch.as_tensor(got()[i])
        return not value.is_floating_point() and value.dtype != torch.bool

    def share(mask: torch.Tensor) -> float:
        return float(mask.float().mean())

    def positives() -> _Drawn:
        d = drawn()
        return _Drawn(d.tuples[d.labels == 1], d.labels[d.labels == 1], min_gap)

    def negatives() -> _Drawn:
        d = drawn()
        return _Drawn(d.tuples[d.labels == 0], d.labels[d.labels == 0], min_gap)

    def fits() -> bool:
        first, last = drawn().extent()
        return bool((last - first <= window - 1).all())

    def shuffled_hint() -> str:
        neg = negatives()
        if bool(neg.in_order.any()) and not bool((neg.in_order & neg.forwards).any()):
            return ("some tuples labelled 0 (shuffled) are reversed positives, such as (d, c, b): reversed, a tuple "
                    "is still in order (monotonic in time), so a reversed positive keeps its label 1")
        if bool(neg.in_order.any()):
            return ("some tuples labelled 0 (shuffled) are in order, such as (a, b, c): a negative keeps b and d at "
                    "the ends and puts a frame from outside them, a or e, in the middle")
        return ("the middle frame of some negatives is one of their ends: a negative's middle frame is a or e, "
                "outside b ... d")

    def shapes() -> int:
        """How many different spacings the tuples show: their frames, sorted, less the first."""
        ordered = drawn().tuples.sort(1).values
        return len(torch.unique(ordered - ordered[:, :1], dim=0))

    def one_direction_per_clip() -> bool:
        forwards = drawn().forwards.view(n, per_clip)
        return bool((forwards == forwards[:, :1]).all())

    def forwards_of_call(call_seed: int) -> float:
        tuples = checks.guarded(fn)(videos, per_clip, window, torch.Generator().manual_seed(call_seed), min_gap)[0]
        return share(_Drawn(torch.as_tensor(tuples).reshape(-1, 3), drawn().labels, min_gap).forwards)

    def per_clip_hint() -> str:
        if share(drawn().forwards) not in (0.0, 1.0):
            return ("all the tuples of a clip run the same way (one decision to reverse per clip): decide for each "
                    "tuple on its own whether to reverse it")
        calls = {share(drawn().forwards), *(forwards_of_call(seed + 1 + i) for i in range(6))}
        if calls == {0.0, 1.0}:
            return ("all the tuples of one call run the same way, forwards in some calls and backwards in others: "
                    "you decide once per call whether to reverse. Decide for each tuple on its own")
        return direction_hint()

    def direction_hint() -> str:
        if share(drawn().forwards) in (0.0, 1.0):
            return ("every tuple runs the same way: order means monotonic, forwards or backwards, so reverse half of "
                    "all tuples, positives and negatives alike")
        return "reverse positives and negatives alike (half of each): otherwise the direction gives the label away"

    return [
        checks.returns(got, f"it was given {given} and a torch.Generator; it should return (tuples, labels)"),
        (lambda: isinstance(got(), (tuple, list)) and len(got()) == 2,
         "return two things: the tuples of frame indices and their labels"),
        checks.has_shape(part[0], (n, per_clip, 3), "per_clip tuples of each clip, the three frame indices of a "
                                                    "tuple along the last axis (stack them along dim=-1)"),
        checks.has_shape(part[1], (n, per_clip), "one label per tuple"),
        (lambda: whole(0) and torch.as_tensor(got()[1]).dtype == torch.long,
         lambda: f"frame indices and labels are whole numbers, the labels of type torch.long for the cross-entropy "
                 f"(yours: {torch.as_tensor(got()[0]).dtype} and {torch.as_tensor(got()[1]).dtype})"),
        (lambda: set(drawn().labels.unique().tolist()) <= {0, 1}, "labels are 1 (in order) or 0 (shuffled)"),
        (lambda: same(got, again),
         "the same generator seed gave different tuples: draw every random number (window, frames, label, "
         "direction) from the `generator` you are given (generator=generator), not from torch's own stream"),
        (lambda: not same(got, other),
         "two different generator seeds gave the same tuples: draw from the `generator` you are given"),
        (lambda: bool(((drawn().tuples >= 0) & (drawn().tuples < frames)).all()),
         f"some frame indices lie outside the clip (0 ... {frames - 1} here): a window starts at most T - window "
         "frames in, and the frames are counted along the time axis (dim 1 of videos)"),
        (lambda: bool(positives().in_order.all()),
         "some tuples labelled 1 (in order) are not in order: label 1 means b, c, d (or d, c, b), 0 shuffled"),
        (lambda: bool((~negatives().in_order).all() and (negatives().gap() > 0).all()), shuffled_hint),
        (lambda: bool((negatives().gap() >= min_gap).all()),
         f"tau_min is not kept: the outside frame of a negative must lie at least min_gap frames (here {min_gap}) "
         "beyond the end it is next to, b - a >= min_gap and e - d >= min_gap"),
        (fits,
         f"some tuples do not fit in one window of {window} frames together with their outside frames: all five "
         "frames a ... e come from the same window, with b - a and e - d at least min_gap (draw the five first, then "
         "make the tuple)"),
        (lambda: bool(_in_a_moving_window(drawn(), clip_moves, window, frames).all()),
         "some tuples come from windows in which nothing moves: draw each window's start with a probability "
         "proportional to the motion inside it (the motion energy of its window - 1 steps, along time, dim 1)"),
        (lambda: bool((negatives().gap() == min_gap).any()),
         f"no negative has its outside frame exactly min_gap frames (here {min_gap}) beyond the end it is next to: "
         "tau_min is the least gap allowed, and the least is allowed too (b - a = min_gap, e - d = min_gap)"),
        (lambda: shapes() > 3,
         "your five frames sit at the same places in every window (every tuple of a kind has its frames the same "
         "distance apart): a < b < c < d < e are drawn at random inside the window, every allowed choice possible"),
        (lambda: not one_direction_per_clip(), per_clip_hint),
        (lambda: all(0.3 <= share(part.forwards) <= 0.7 for part in (positives(), negatives())), direction_hint),
        (lambda: 0.3 <= share(negatives().middle < negatives().low) <= 0.7,
         "make both negatives, (b, a, d) and (b, e, d), about equally often"),
        (lambda: abs(share(drawn().labels == 1) - temporal_order.POSITIVE_FRACTION) <= 0.1,
         lambda: f"{100 * share(drawn().labels == 1):.0f} % of your tuples are positives: the paper (and "
                 f"temporal_order.POSITIVE_FRACTION) has about one in four"),
    ]


# (clips, window, tuples per clip, tau_min, generator seed) of the strength clips: 3,000 tuples of each kind of clip
STRENGTH_CASE = (40, 10, 150, 2, 3)


def _window_share_tests(fn: Callable, n: int, window: int, per_clip: int, min_gap: int, seed: int) -> list:
    """``checks.verdict``'s (test, hint) pairs: on strength clips, the busier window is drawn about 3 times in 4.

    The share is read off the frame indices: a tuple from the second window is a tuple from the first moved one frame
    later, whatever the way the five frames are drawn inside a window, so the mean frame of the clips whose busier
    window is the second, less that of the others, is (busier share) - (1 - busier share). Its sampling error is below
    0.02 on 3,000 tuples of each kind (the course's sampler and two others, over 400 generator seeds); the test
    allows 0.1."""
    videos, late = strength_clips(n, window, seed)
    got = checks.answer(fn, videos, per_clip, window, torch.Generator().manual_seed(seed), min_gap)
    given = (f"{n} clips of {window + 1} frames (N x T x C x H x W = {tuple(videos.shape)}), per_clip={per_clip}, "
             f"window={window}, min_gap={min_gap}")

    @functools.cache
    def busier_share() -> float:
        mean_frame = torch.as_tensor(got()[0]).reshape(n, per_clip, 3).double().mean(-1)
        return float(1 + mean_frame[late].mean() - mean_frame[~late].mean()) / 2

    def share_hint() -> str:
        p = min(max(busier_share(), 0.0), 1.0)  # an estimate: the frames' spread inside a window adds noise
        said = (f"in clips of {window + 1} frames whose two windows of {window} frames hold motion 3 and 1, yours drew "
                f"the busier window about {p:.0%} of the time; drawn with a probability proportional to the motion "
                f"inside it, it is {BUSIER_SHARE:.0%}")
        if p >= 0.95:
            return said + (": you always take the window with the most motion. The busiest window is only the most "
                           "likely, the others are drawn too, less often")
        if abs(p - 0.5) <= 0.1:
            return said + ": your windows are drawn about equally often, whatever their motion (as long as it moves)"
        if p < 0.5:
            return said + ": the quieter window is drawn more often than the busier one"
        return said

    return [
        checks.returns(got, f"it was given {given} and a torch.Generator; it should return (tuples, labels)"),
        checks.has_shape(lambda: got()[0], (n, per_clip, 3), "per_clip tuples of each clip"),
        (lambda: abs(busier_share() - BUSIER_SHARE) <= 0.1, share_hint),
    ]


def check_draw_tuples(fn) -> None:
    """Exercise: ``fn(videos, per_clip, window, generator, min_gap)`` = (tuples (N, per_clip, 3), labels (N,
    per_clip)) as ``temporal_order.draw_tuples`` draws them: from high-motion windows, five frames a < b < c < d < e
    with tau_min = ``min_gap``, the positive (b, c, d) or a negative (b, a, d) / (b, e, d), half of them reversed.
    Checked on probe clips for three sizes and seeds, then on strength clips for how often each window is drawn."""
    with config.isolated_rng(0):  # whatever the student draws from torch's stream, the notebook's stays as it was
        checks.verdict("tuple sampler", [*(test for case in SAMPLER_CASES for test in _sampler_tests(fn, *case)),
                                         *_window_share_tests(fn, *STRENGTH_CASE)])


# The short tuple-verification run a student's sampler trains (after the exercise): steps per profile, a few clips
# per step with many tuples each (the tuples cost little beside the frames' pass through the backbone), so that
# order verification leaves chance behind within seconds.
YOUR_RUN_STEPS = {"ci": 80, "lab": 200, "full": 1000}
YOUR_RUN_CLIPS, YOUR_RUN_TUPLES = 4, 48


@dataclass
class YourRun:
    """The short run with a student's sampler: its history and its balanced order-verification accuracy (%) on
    held-out clips."""

    history: train.History
    held_out: float
    steps: int


def train_with_your_sampler(sampler: Callable, videos: torch.Tensor, held_out: torch.Tensor, sizes: Sizes,
                            seed: int = 0) -> YourRun:
    """A fresh triplet network trained for ``YOUR_RUN_STEPS`` steps on ``videos`` by the course's loss with
    ``sampler(videos, per_clip, window, generator, min_gap)`` drawing its tuples (a student's ``draw_tuples``, or
    the course's); then its balanced accuracy on tuples the same sampler draws from the ``held_out`` clips (chance
    50 %). Never saved: it shows a sampler at work, it is not one of the notebook's rows."""
    draws = torch.Generator().manual_seed(seed)

    def draw(clips, per_clip, window, generator=draws, min_gap=temporal_order.MIN_GAP):
        return sampler(clips, per_clip, window, generator, min_gap)

    with config.isolated_rng(seed):  # the head's initial weights: the notebook's random stream is left alone
        model = temporal_order.TupleNet(initial_backbone(sizes, seed, videos.device)).to(videos.device)
    loss = functools.partial(temporal_order.tuple_loss, per_clip=YOUR_RUN_TUPLES, draw=draw)
    history = train.fit(model, train.batches(videos, batch_size=YOUR_RUN_CLIPS, seed=seed), loss,
                        steps=YOUR_RUN_STEPS[sizes.name], max_seconds=sizes.pretrain_seconds, lr=TUPLE_LR,
                        desc="your tuple sampler")
    accuracy = temporal_order.tuple_accuracy(model, held_out, seed=seed, draw=draw)
    return YourRun(history, accuracy, history.step[-1])


def show_your_run(run: YourRun):
    """The short run's held-out order verification against chance (50 %, balanced), and its training curve against
    the majority answer (3 in 4 training tuples are negatives)."""
    print(f"after {run.steps} steps: order verification {run.held_out:.1f} % on held-out clips "
          "(balanced accuracy, chance 50 %)")
    majority = 1 - temporal_order.POSITIVE_FRACTION
    return show.against_chance(run.history, "acc", majority, ylabel='training accuracy (always "shuffled": 0.75)',
                               title="tuple verification, trained on tuples from the sampler above")


# ---------------------------------------------------------------- warm-up: motion energy

# (what clip i shows, for a hint that describes the first clip the answer gets wrong)
_CLIPS = ("clip 0 (dark, one bright frame at t = 2)", "clip 1 (one pixel brightening by 1 per frame)",
          "clip 2 (steps of several sizes, different at every pixel)")


def check_motion_energy(fn) -> None:
    """Warm-up: ``fn(videos)`` = mean absolute difference of consecutive frames, (N, T - 1), on three clips whose
    axes all have different lengths (N x T x C x H x W = 3 x 6 x 2 x 4 x 7), so that a wrong axis shows."""
    videos = torch.zeros(3, 6, 2, 4, 7)
    videos[0, 2] = 1.0  # clip 0: a flash at frame 2, so steps 1 and 2 change everything
    videos[1, :, 0, 0, 0] = torch.arange(6.0)  # clip 1: one pixel brightening by 1 per frame
    # clip 2: steps of other sizes than 0 and 1 (a square, or no absolute value, would show), different per pixel
    videos[2] = (torch.tensor([0.0, 0.5, 2.5, 2.0, 1.0, 3.0]).view(6, 1, 1, 1) *
                 torch.linspace(0.2, 1.0, 2 * 4 * 7).view(1, 2, 4, 7))
    expected = temporal_order.motion_energy(videos)
    answer = checks.answer(fn, videos.clone())
    step = videos[:, 1:] - videos[:, :-1]
    mistakes = {
        "the signed differences are averaged, so brightening and darkening cancel: the energy is the size of each "
        "change": step.mean(dim=(2, 3, 4)),
        "the size of each change is squared: the energy takes its absolute value": step.pow(2).mean(dim=(2, 3, 4)),
        "the changes are summed over channels and pixels, not averaged": step.abs().sum(dim=(2, 3, 4)),
        "every frame is compared with the first frame, not with the one before it":
            (videos[:, 1:] - videos[:, :1]).abs().mean(dim=(2, 3, 4)),
    }

    def got() -> torch.Tensor:
        return torch.as_tensor(answer()).float()

    def value_hint() -> str:
        named = [mistake for mistake, wrong in mistakes.items() if torch.allclose(got(), wrong)]
        if named:
            return named[0]
        clip = next(i for i in range(len(videos)) if not torch.allclose(got()[i], expected[i]))
        return (f"the shape is right but not the values: for {_CLIPS[clip]} you gave "
                f"{[round(v, 4) for v in got()[clip].tolist()]}; each step's energy is the mean, over channels and "
                "pixels, of the size of the change between a frame and the next")

    checks.verdict("motion energy", [
        checks.returns(answer, "the checker gives it videos of shape 3 x 6 x 2 x 4 x 7 (N x T x C x H x W): an error "
                               "about a dimension usually means an axis that is not there or the wrong one"),
        checks.has_shape(answer, expected.shape, "one number per clip and per step between consecutive frames, "
                                                 "N x (T - 1); another shape comes from differences or means along "
                                                 "the wrong axes (time is the second axis)"),
        (lambda: torch.allclose(got(), expected), value_hint),
    ])
