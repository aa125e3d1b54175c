"""Captioned scenes: two real MNIST digits side by side, each in a colour, and a sentence that says what is where.

Real digits, generated scenes and captions. A scene is a 3 x 28 x 56 picture: a left and a right slot, each holding
one MNIST digit painted in one of ``COLOURS``. Its caption is generated from what the scene holds, in one of two
word orders chosen at random:

    "a red 3 left of a blue 7"      or      "a blue 7 right of a red 3"

so the ground truth of every retrieval is exact: a caption describes every scene with the same four attributes
(colour and digit, left and right). Every caption has ``LENGTH`` words, so a batch of captions is one integer
tensor (no padding).

``heldout`` (a set of (colour, digit) pairs) keeps those combinations out of a scene: training scenes are drawn
without them, and a compositional test asks about scenes that show one of them -- pairs of attributes never seen
together in training, each attribute seen often with others.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

COLOURS = ("red", "green", "blue")
RGB = torch.tensor([[1.0, 0.15, 0.15], [0.15, 0.9, 0.15], [0.25, 0.45, 1.0]])  # how each colour paints the ink
DIGIT_WORDS = tuple(str(d) for d in range(10))
VOCABULARY = ("a", "left", "right", "of", *COLOURS, *DIGIT_WORDS)
LENGTH = 8  # "a <colour> <digit> <left|right> of a <colour> <digit>"
SIDE = 28


@dataclass
class CaptionedScenes:
    """Scenes (N x 3 x 28 x 56 in [0, 1]), their captions as word indices (N x ``LENGTH``, into ``VOCABULARY``), and
    what each slot holds: ``colour`` and ``digit`` (N x 2: left, right; indices into ``COLOURS``, digits 0-9), and
    ``source`` (N x 2: the MNIST image pasted in each slot)."""

    images: torch.Tensor
    tokens: torch.Tensor
    colour: torch.Tensor
    digit: torch.Tensor
    source: torch.Tensor

    def __len__(self) -> int:
        return len(self.images)

    @property
    def kind(self) -> torch.Tensor:
        """One integer per scene naming its four attributes (what a caption pins down): scenes of the same kind
        answer the same captions."""
        slot = self.colour * 10 + self.digit  # 0..29 per slot
        return slot[:, 0] * 30 + slot[:, 1]

    def captions(self, index=None) -> list[str]:
        rows = self.tokens if index is None else self.tokens[index]
        return [decode(row) for row in rows]

    def to(self, device: torch.device | str) -> CaptionedScenes:
        return CaptionedScenes(*(getattr(self, name).to(device) for name in
                                 ("images", "tokens", "colour", "digit", "source")))


def encode(words: list[str] | str) -> torch.Tensor:
    """A caption (a string or a list of words) as word indices into ``VOCABULARY``."""
    words = words.split() if isinstance(words, str) else words
    unknown = [w for w in words if w not in VOCABULARY]
    if unknown:
        raise ValueError(f"words {unknown} are not in the vocabulary {VOCABULARY}")
    return torch.tensor([VOCABULARY.index(w) for w in words])


def decode(tokens: torch.Tensor) -> str:
    return " ".join(VOCABULARY[int(t)] for t in tokens)


def caption_tokens(colour: torch.Tensor, digit: torch.Tensor, right_first: torch.Tensor) -> torch.Tensor:
    """Word indices (N x ``LENGTH``) of "a <c0> <d0> left of a <c1> <d1>", or, where ``right_first``, of the same
    scene said the other way round, "a <c1> <d1> right of a <c0> <d0>". ``colour`` and ``digit`` are N x 2."""
    word = {w: VOCABULARY.index(w) for w in ("a", "left", "right", "of")}
    first = torch.where(right_first, 1, 0)
    second = 1 - first
    rows = torch.arange(len(colour))
    colour_word = lambda slot: colour[rows, slot] + VOCABULARY.index(COLOURS[0])  # noqa: E731
    digit_word = lambda slot: digit[rows, slot] + VOCABULARY.index("0")  # noqa: E731
    n = len(colour)
    relation = torch.where(right_first, word["right"], word["left"])
    columns = [torch.full((n,), word["a"]), colour_word(first), digit_word(first), relation,
               torch.full((n,), word["of"]), torch.full((n,), word["a"]), colour_word(second), digit_word(second)]
    return torch.stack(columns, dim=1)


def paint(images: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """Grey digits (N x 1 x 28 x 28 in [0, 1]) painted in ``COLOURS[colour]`` on black: N x 3 x 28 x 28."""
    return images * RGB.to(images.device)[colour][:, :, None, None]


def _draw_slots(n: int, heldout: set[tuple[int, int]], include_heldout: bool, generator: torch.Generator):
    """(colour, digit) of both slots of ``n`` scenes. Without ``include_heldout`` no slot holds a held-out pair; with
    it, exactly one slot (at random) does and the other does not."""
    allowed = torch.tensor([(c, d) not in heldout for c in range(len(COLOURS)) for d in range(10)])
    seen, unseen = allowed.nonzero().flatten(), (~allowed).nonzero().flatten()
    slots = seen[torch.randint(len(seen), (n, 2), generator=generator)]
    if include_heldout:
        if len(unseen) == 0:
            raise ValueError("no held-out (colour, digit) pair to include")
        which = torch.randint(2, (n,), generator=generator)
        slots[torch.arange(n), which] = unseen[torch.randint(len(unseen), (n,), generator=generator)]
    return slots // 10, slots % 10


def make_scenes(images: torch.Tensor, labels: torch.Tensor, n: int, *, heldout=(), include_heldout: bool = False,
                seed: int = 0) -> CaptionedScenes:
    """``n`` captioned scenes from MNIST ``images`` (N x 1 x 28 x 28, [0, 1]) with their ``labels``: each slot a
    random (colour, digit) -- outside ``heldout`` unless ``include_heldout`` puts one held-out pair in one slot --
    filled with a random image of that digit; each caption in one of the two word orders at random. Deterministic in
    ``seed``."""
    heldout = {(COLOURS.index(c) if isinstance(c, str) else int(c), int(d)) for c, d in heldout}
    generator = torch.Generator().manual_seed(seed)
    colour, digit = _draw_slots(n, heldout, include_heldout, generator)
    labels = labels.cpu()
    source = torch.empty(n, 2, dtype=torch.int64)
    for d in range(10):
        pool = (labels == d).nonzero().flatten()
        wanted = digit == d
        if wanted.any() and len(pool) == 0:
            raise ValueError(f"no image of digit {d} to paint")
        if wanted.any():
            source[wanted] = pool[torch.randint(len(pool), (int(wanted.sum()),), generator=generator)]
    device = images.device
    left = paint(images[source[:, 0].to(device)], colour[:, 0].to(device))
    right = paint(images[source[:, 1].to(device)], colour[:, 1].to(device))
    right_first = torch.rand(n, generator=generator) < 0.5
    tokens = caption_tokens(colour, digit, right_first)
    return CaptionedScenes(torch.cat([left, right], dim=3), tokens.to(device), colour.to(device), digit.to(device),
                           source.to(device))


def alternatives(scenes: CaptionedScenes, slot: torch.Tensor) -> torch.Tensor:
    """For every scene, the captions of all 30 (colour, digit) choices of its slot ``slot[i]`` (0 left, 1 right),
    the other slot as it is: N x 30 x ``LENGTH`` word indices, said left-to-right. Choice ``c * 10 + d`` is
    colour c and digit d; the scene's own choice is the right answer of a 30-way zero-shot question."""
    n = len(scenes)
    choices = torch.arange(30)
    colour = scenes.colour.cpu()[:, None, :].expand(n, 30, 2).clone()
    digit = scenes.digit.cpu()[:, None, :].expand(n, 30, 2).clone()
    rows = torch.arange(n)[:, None].expand(n, 30)
    slot = slot.cpu()[:, None].expand(n, 30)
    colour[rows, torch.arange(30).expand(n, 30), slot] = (choices // 10).expand(n, 30)
    digit[rows, torch.arange(30).expand(n, 30), slot] = (choices % 10).expand(n, 30)
    tokens = caption_tokens(colour.flatten(0, 1), digit.flatten(0, 1), torch.zeros(n * 30, dtype=torch.bool))
    return tokens.view(n, 30, -1).to(scenes.tokens.device)
