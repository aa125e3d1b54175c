"""Notebook 02's exercises: the relative-position pair sampler (checked, then trained with) and box IoU.

The sampler is the heart of Doersch et al.'s method: the centre patch, one of its eight neighbours, the label in
reading order, and the gap and jitter that close the boundary shortcuts. ``check_patch_pairs`` reads what a student's
sampler did from *coordinate photos* (each pixel holds its own row, column and photo number), so it can say where
each patch came from, on several grids, batch sizes and seeds. ``train_with_your_sampler`` then trains a fresh
network with the student's sampler inside the course's own loss (``rp.relative_position_loss(pairs=...)``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torchvision.ops import box_iou

from course_lib import checks, config, nets, show, train
from course_lib.lessons.relative_position.detection_transfer import GRID, Sizes
from course_lib.lessons.relative_position.pretraining import pretext_accuracy
from course_lib.pretext import relative_position as rp

# ---------------------------------------------------------------- exercise 1: the pair sampler

# (grid, photos, generator seed): the notebook's grid, the module's default one, and a wider one with more jitter
SAMPLER_CASES = ((GRID, 300, 0), (rp.PatchGrid(), 256, 1),
                 (rp.PatchGrid(image_side=56, patch=8, gap=6, jitter=3), 320, 7))


def coordinate_photos(n: int, side: int) -> torch.Tensor:
    """``n`` photos whose pixels say where they are: channel 0 its row, channel 1 its column, channel 2 the photo's
    number. A patch cut from them tells its photo and its top-left corner."""
    rows = torch.arange(side, dtype=torch.float).view(1, side, 1).expand(n, side, side)
    cols = torch.arange(side, dtype=torch.float).view(1, 1, side).expand(n, side, side)
    which = torch.arange(n, dtype=torch.float).view(n, 1, 1).expand(n, side, side)
    return torch.stack([rows, cols, which], dim=1).contiguous()


def _is_crop(patches: torch.Tensor, transposed: bool = False) -> torch.Tensor:
    """Per patch: is it an unflipped cut of its own coordinate photo (or, ``transposed``, a cut with rows and
    columns exchanged)?"""
    steps = torch.arange(patches.shape[-1], dtype=patches.dtype)
    row, col = patches[:, 0, :1, :1], patches[:, 1, :1, :1]
    down, across = steps.view(1, -1, 1), steps.view(1, 1, -1)
    if transposed:
        down, across = across, down
    number = torch.arange(len(patches), dtype=patches.dtype).view(-1, 1, 1)
    same = (patches[:, 0] == row + down) & (patches[:, 1] == col + across) & (patches[:, 2] == number)
    return same.flatten(1).all(1)


def _corners(patches: torch.Tensor) -> torch.Tensor:
    """(row, col) of each patch's top-left pixel, read off a coordinate photo."""
    return patches[:, :2, 0, 0].round().long()


def _off_the_grid(corners: torch.Tensor, cells: torch.Tensor, grid: rp.PatchGrid) -> str:
    """What went wrong with corners that are not within jitter of their cells' corners, in words."""
    def near(margin: int, pitch: int) -> bool:
        return bool(((corners - margin - cells * pitch).abs() <= grid.jitter).all())

    if near(grid.margin, grid.patch):
        return "they sit as if there were no gap between the cells: a cell's corner is grid.pitch pixels after the last"
    if near(0, grid.pitch) or near(0, grid.patch):
        return "the 3 x 3 grid starts at the image's border: it starts grid.margin pixels in"
    if bool(((corners - grid.margin - cells * grid.pitch).abs() <= 3 * grid.jitter + 1).all()):
        return f"they move by more than the jitter, which is at most +-grid.jitter (here {grid.jitter}) pixels"
    return ("they are not where the grid puts them: a cell's corner is grid.margin + cell * grid.pitch along each "
            "axis, plus at most grid.jitter pixels")


@dataclass
class _Sample:
    """One call of a student's sampler on coordinate photos, read back: where each patch came from."""

    grid: rp.PatchGrid
    first: torch.Tensor
    second: torch.Tensor
    y: torch.Tensor

    @property
    def cells(self) -> torch.Tensor:
        """The second patches' (row, col) cells, the nearest to their corners."""
        return ((_corners(self.second) - self.grid.margin) / self.grid.pitch).round().long().clamp(-1, 3)

    def jitter(self, patches: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
        return _corners(patches) - self.grid.margin - cells * self.grid.pitch


def _pair_tests(fn: Callable, grid: rp.PatchGrid, n: int, seed: int) -> list:
    """``checks.verdict``'s (test, hint) pairs for a sampler on one grid, batch size and seed."""
    photos = coordinate_photos(n, grid.image_side)
    got = checks.answer(fn, photos, grid, torch.Generator().manual_seed(seed))
    again = checks.answer(fn, photos, grid, torch.Generator().manual_seed(seed))
    other = checks.answer(fn, photos, grid, torch.Generator().manual_seed(seed + 1000))
    p, side = grid.patch, grid.image_side
    where = f"{n} photos of {side} x {side} pixels, a {p}-pixel grid.patch, a generator seeded {seed}"
    part = [lambda i=i: got()[i] for i in range(3)]
    sample = functools.cache(lambda: _Sample(grid, *(torch.as_tensor(t) for t in got())))
    centre = torch.ones(n, 2, dtype=torch.long)

    def same(a, b) -> bool:
        return all(torch.equal(torch.as_tensor(x), torch.as_tensor(z)) for x, z in zip(a(), b(), strict=True))

    def labels() -> torch.Tensor:
        return torch.as_tensor(got()[2])

    def lies_where_labelled() -> torch.Tensor:
        offsets = torch.tensor(rp.NEIGHBOURS)[labels().clamp(0, 7)]
        return (sample().cells - 1 == offsets).all(1)

    def wrong_place() -> str:
        s = sample()
        offsets = s.cells - 1
        if bool((offsets.flip(1) == torch.tensor(rp.NEIGHBOURS)[s.y]).all()):
            return ("each second patch lies at its label's offset with rows and columns exchanged (label 1 ended up "
                    "left of the centre, not above it): d_row moves down the photo, d_col across it")
        i = int((~lies_where_labelled()).nonzero()[0])
        return (f"the second patch does not lie where its label says: for label {int(s.y[i])} yours lay at "
                f"(d_row, d_col) = {tuple(offsets[i].tolist())} from the centre; the labels count the eight "
                "neighbours in reading order, 0 1 2 / 3 . 4 / 5 6 7")

    def jitters() -> tuple[torch.Tensor, torch.Tensor]:
        s = sample()
        return s.jitter(s.first, centre), s.jitter(s.second, s.cells)

    def jitter_hint() -> str:
        first, second = jitters()
        both = torch.cat([first, second])
        if not both.any():
            return "no jitter: every patch sits exactly on its cell's corner; move each by up to +-grid.jitter pixels"
        if bool((both == both[:1]).all()):
            return "every patch moves by the same jitter: draw it anew for each patch"
        if not (both[:, 0].any() and both[:, 1].any()):
            return "the jitter moves the patches along one axis only: jitter the row and the column"
        if torch.equal(first, second):
            return ("the two patches of a pair move by the same jitter, so their spacing is always exactly the same "
                    "(a cue the network can use): each patch draws its own jitter")
        if not first.any() and second.any():
            return ("your first (centre) patches never move: only the second patch is jittered. The centre patch is "
                    "jittered too, by a jitter of its own")
        if first.any() and not second.any():
            return ("your second patches never move: only the first (centre) patch is jittered. The second patch is "
                    "jittered too, by a jitter of its own")
        if any(torch.equal(j[:, 0], j[:, 1]) for j in (first, second)):
            return ("your patches only ever move diagonally: a patch's row and column move by one and the same "
                    "jitter. The row's jitter and the column's are drawn separately, each from -grid.jitter ... "
                    "+grid.jitter")
        return ("draw the jitter uniformly from -grid.jitter ... +grid.jitter, both ends included "
                f"({2 * grid.jitter + 1} values), for each patch and each axis")

    def full_jitter() -> bool:
        first, second = jitters()
        values = set(range(-grid.jitter, grid.jitter + 1))
        return (all(set(j[:, axis].tolist()) == values for j in (first, second) for axis in (0, 1))
                and not torch.equal(first, second) and not any(torch.equal(j[:, 0], j[:, 1]) for j in (first, second)))

    return [
        checks.returns(got, f"it was given {where}; it should return (first patches, second patches, labels)"),
        (lambda: isinstance(got(), (tuple, list)) and len(got()) == 3,
         "return three things: the first (centre) patches, the second patches and the labels"),
        checks.has_shape(part[0], (n, 3, p, p), "the first patches: one grid.patch x grid.patch patch per photo"),
        checks.has_shape(part[1], (n, 3, p, p), "the second patches: one grid.patch x grid.patch patch per photo"),
        checks.has_shape(part[2], (n,), "one label per photo"),
        (lambda: labels().dtype == torch.long,
         lambda: f"your labels are {labels().dtype}; the cross-entropy wants whole class numbers of type torch.long"),
        (lambda: int(labels().max()) <= 7,
         lambda: f"your labels reach {int(labels().max())}: there are eight neighbours, labels 0 ... 7 (the centre "
                 "is the first patch, never a label)"),
        (lambda: int(labels().min()) >= 0, "labels start at 0"),
        (lambda: same(got, again),
         "the same generator seed gave different pairs: draw every random number (label and jitter) from the "
         "`generator` you are given, e.g. torch.randint(..., generator=generator), not from torch's own stream"),
        (lambda: not same(got, other),
         "two different generator seeds gave the same pairs: draw from the `generator` you are given, not from one "
         "of your own"),
        (lambda: bool((sample().jitter(sample().first, centre).abs() <= grid.jitter).all()),
         lambda: "your first patches are not the centre cell's (row 1, column 1 of the 3 x 3 grid): "
                 + _off_the_grid(_corners(sample().first), centre, grid)),
        (lambda: bool(_is_crop(sample().first).all() and _is_crop(sample().second).all()),
         lambda: ("your patches are cut with rows and columns exchanged (transposed): a corner is (row, col), rows "
                  "run down the photo" if bool(_is_crop(sample().second, transposed=True).all()) else
                  "each patch must be a grid.patch x grid.patch cut of its own photo (patch i from photo i), as "
                  "rp.crop(photos, corners, grid.patch) cuts it")),
        (lambda: bool((sample().jitter(sample().second, sample().cells).abs() <= grid.jitter).all()),
         lambda: "your second patches are off the grid: " + _off_the_grid(_corners(sample().second), sample().cells,
                                                                           grid)),
        (lambda: not bool((sample().cells == 1).all(1).any()),
         "some second patches are the centre cell itself: the centre is the first patch, not a neighbour; skip it"),
        (lambda: bool(lies_where_labelled().all()), wrong_place),
        (full_jitter, jitter_hint),
        (lambda: bool(torch.bincount(labels(), minlength=8).min() >= n / 16),
         "some labels are (almost) never drawn: draw each pair's label uniformly from the eight neighbours"),
    ]


def check_patch_pairs(fn) -> None:
    """Exercise: ``fn(photos, grid, generator)`` = (first, second, y) as ``rp.patch_pairs`` draws them: the centre
    patch, one of its eight neighbours (y in reading order), each patch jittered, every draw from ``generator``.
    Checked on coordinate photos for three grids, batch sizes and seeds."""
    with config.isolated_rng(0):  # whatever the student draws from torch's stream, the notebook's stays as it was
        checks.verdict("pair sampler", [test for case in SAMPLER_CASES for test in _pair_tests(fn, *case)])


# Steps of the short pretext run a student's own sampler trains (after the exercise): enough to leave the 8-way
# chance level behind on held-out photos, short enough to rerun after every edit.
YOUR_RUN_STEPS = {"ci": 100, "lab": 300, "full": 1000}


@dataclass
class YourRun:
    """The short run with a student's sampler: its training history and its 8-way accuracy (%) on held-out photos."""

    history: train.History
    held_out: float
    steps: int


def train_with_your_sampler(sampler: Callable, x: torch.Tensor, held_out: torch.Tensor, sizes: Sizes,
                            seed: int = 0) -> YourRun:
    """A fresh relative-position network trained for ``YOUR_RUN_STEPS`` steps on photos ``x`` by the course's loss
    with ``sampler(photos, grid, generator)`` making its pairs (a student's ``patch_pairs``, or ``rp.patch_pairs``),
    all colours as in the notebook's main run; then its 8-way accuracy on pairs the same sampler makes from
    ``held_out`` photos. Never saved: it shows a sampler at work, it is not one of the notebook's rows."""
    draws = torch.Generator(device=x.device).manual_seed(seed)
    steps = YOUR_RUN_STEPS[sizes.name]
    with config.isolated_rng(seed):  # the network's initial weights: the notebook's random stream is left alone
        model = rp.RelativePositionNet(nets.random_backbone(3, sizes.width, seed, x.device), GRID).to(x.device)
    loss = functools.partial(rp.relative_position_loss, colour_dropping=False,
                             pairs=lambda photos, grid: sampler(photos, grid, draws))
    history = train.fit(model, train.batches(x, batch_size=sizes.batch_size, seed=seed), loss, steps=steps,
                        max_seconds=sizes.pretrain_seconds, desc="your pair sampler")
    test_draws = torch.Generator(device=x.device).manual_seed(seed + 1)
    accuracy = pretext_accuracy(model, held_out, colour_dropping=False, seed=seed,
                                pairs=lambda photos, grid: sampler(photos, grid, test_draws))
    return YourRun(history, accuracy, history.step[-1])


def show_your_run(run: YourRun):
    """The short run's 8-way pretext accuracy against chance (1/8): one line, and its training curve."""
    print(f"after {run.steps} steps: pretext accuracy {run.held_out:.1f} % on held-out photos (chance 12.5 %)")
    return show.against_chance(run.history, "acc", 1 / len(rp.NEIGHBOURS), ylabel="8-way accuracy (training pairs)",
                               title="relative position, trained on pairs from the sampler above")


# ---------------------------------------------------------------- exercise 2: box IoU


def _overlap(a, b) -> tuple[float, float]:
    return min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])


def _area(box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _box_mistakes() -> dict[str, Callable]:
    """IoU as students get it wrong, each with the words that name the mistake (never the answer)."""
    def clipped(a, b):
        width, height = _overlap(a, b)
        return max(0, width) * max(0, height)

    return {
        "boxes that do not overlap must give 0: a negative width or height of the overlap means no overlap":
            lambda a, b: (_overlap(a, b)[0] * _overlap(a, b)[1]) / (_area(a) + _area(b) - _overlap(a, b)[0]
                                                                    * _overlap(a, b)[1]),
        "the union counts the overlap twice: area(a) + area(b) includes it once too often":
            lambda a, b: clipped(a, b) / (_area(a) + _area(b)),
        "IoU divides by the union of both boxes, not by one box's area":
            lambda a, b: clipped(a, b) / _area(a),
    }


BOX_CASES = [((0, 0, 10, 10), (0, 0, 10, 10)), ((0, 0, 10, 10), (5, 0, 15, 10)), ((0, 0, 10, 10), (20, 20, 30, 30)),
             ((0, 0, 16, 16), (4, 4, 20, 20)), ((2, 3, 12, 8), (0, 0, 4, 5)), ((0, 0, 10, 10), (12, 0, 20, 10))]


def check_box_iou(fn) -> None:
    """Exercise: ``fn(a, b)`` = intersection over union of two (x0, y0, x1, y1) boxes (a float or a one-element
    tensor), against ``torchvision.ops.box_iou`` on touching, nested, partial and disjoint pairs."""
    def iou(a, b) -> float:
        return float(box_iou(torch.tensor([a], dtype=torch.float), torch.tensor([b], dtype=torch.float)))

    got = [checks.answer(fn, a, b) for a, b in BOX_CASES]

    def close(i: int) -> bool:
        return abs(float(got[i]()) - iou(*BOX_CASES[i])) < 1e-4

    def hint(i: int) -> str:
        a, b = BOX_CASES[i]
        numbers = f"for boxes {a} and {b} the IoU is {iou(a, b):.4f}, you gave {float(got[i]()):.4f}"
        for mistake, wrong in _box_mistakes().items():  # named only if it explains every answer, not one by chance
            if all(abs(float(value()) - wrong(*case)) < 1e-4 for value, case in zip(got, BOX_CASES, strict=True)):
                return f"{numbers}: {mistake}"
        return f"{numbers} (the hint below helps)"

    checks.verdict("box IoU", [
        checks.returns(got[0], "it was given two boxes as tuples (x0, y0, x1, y1) of whole numbers"),
        *(checks.has_shape(value, (), "one number, the IoU of the two boxes") for value in got),
        *((lambda i=i: close(i), lambda i=i: hint(i)) for i in range(len(BOX_CASES))),
    ])
