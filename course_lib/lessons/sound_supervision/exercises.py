"""Notebook 08's exercise checkers: the AVE-Net logit, the correspondence loss with fair negatives (the method) and
recall@1 (an optional warm-up)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_lib import checks, config, evaluate


def check_distance_logit(fn) -> None:
    """Exercise: ``fn(a, v, b, s)`` = the AVE-Net logit b - s ||a - v||^2 for each row of a and v."""
    with config.isolated_rng(0):  # the same test vectors every time, and the notebook's random stream is left alone
        a, v = F.normalize(torch.randn(5, 8), dim=1), F.normalize(torch.randn(5, 8), dim=1)
    b, s = 3.0, 2.0
    squared, cosine = (a - v).pow(2).sum(1), (a * v).sum(1)
    want = b - s * squared
    got = torch.as_tensor(fn(a, v, b, s)).float()
    sign = ("the sign is flipped: the closer the two embeddings, the larger the logit; a pair at distance 0 gets the "
            "largest, b")
    mistakes = {  # what the usual wrong answers give on these vectors, each with the mistake it names
        sign: b + s * squared,
        "that is the Euclidean distance itself, not its square": b - s * squared.sqrt(),
        "the squared differences are averaged over the D coordinates, not added up": b - s * squared / a.shape[1],
        "that is a cosine distance (one minus the cosine), not the squared Euclidean distance of the two "
        "embeddings": b - s * (1 - cosine),
        "that is the cosine similarity, not the squared Euclidean distance of the two embeddings": b - s * cosine,
        "that is the cosine similarity, not the squared Euclidean distance of the two embeddings; and a pair "
        "farther apart must get a lower logit": b + s * cosine,
        "s scales b as well: b is added as it is, s multiplies the distance only": s * (b - squared),
    }

    def value_hint() -> str:
        named = [words for words, wrong in mistakes.items() if torch.allclose(got, wrong, atol=1e-5)]
        return named[0] if named else (
            f"for the first pair (b = {b:g}, s = {s:g}) the logit is {float(want[0]):.4f}, you gave "
            f"{float(got[0]):.4f}: b minus s times the squared Euclidean distance between the pair's two rows")

    checks.verdict("AVE-Net logit", [
        (lambda: got.shape == want.shape,
         f"return one logit per pair, shape {tuple(want.shape)}; got {tuple(got.shape)}"),
        (lambda: torch.allclose(got, want, atol=1e-5), value_hint),
        (lambda: bool((torch.as_tensor(fn(a, a, b, s)).float() >= got).all()), sign),
    ])


def check_recall_at_1(fn) -> None:
    """Exercise: ``fn(scores, query_labels, gallery_labels)`` = recall@1, as ``evaluate.recall_at_k`` computes it."""
    with config.isolated_rng(0):
        scores, queries, gallery = torch.randn(50, 40), torch.randint(4, (50,)), torch.randint(4, (40,))
    want = evaluate.recall_at_k(scores, queries, gallery, k=1)
    best = scores.argmax(1)
    mistakes = {  # what the usual wrong answers give here, each with the mistake it names
        "that takes each query's lowest-scored gallery item: a higher score means more alike":
            float((gallery[scores.argmin(1)] == queries).float().mean()),
        "that is the number of hits, not the fraction of the queries that get one":
            float((gallery[best] == queries).float().sum()),
        "that is a percentage: recall@1 here is a fraction, between 0 and 1": 100 * want,
        "that compares the best item's position in the gallery with the query's label, not the best item's label "
        "with it": float((best == queries).float().mean()),
        **{f"that counts a hit when the query's class is among the {k} best-scored items (recall@{k}): recall@1 "
           f"looks at the single best one": evaluate.recall_at_k(scores, queries, gallery, k=k) for k in (2, 3, 5)},
    }
    ran = ("the checker gives it scores of 50 queries x 40 gallery items, 50 query labels and 40 gallery labels: an "
           "index out of range usually means the best item was looked for among the queries (down each column), not "
           "among the gallery items of each query (along its row)")
    got = functools.cache(lambda: torch.as_tensor(checks.guarded(fn)(scores, queries, gallery)).float())

    def value_hint() -> str:
        named = [words for words, wrong in mistakes.items() if abs(float(got()) - wrong) < 1e-6]
        return f"expected {want:.3f}, got {float(got()):.3f}: " + (
            named[0] if named else "recall@1 is the fraction of queries whose best-scored gallery item has the "
                                   "query's label")

    checks.verdict("recall@1", [
        (lambda: got() is not None, ran),  # it runs: what it raises (an index out of range) comes with the hint
        (lambda: got().numel() == 1,
         lambda: f"your function returned shape {tuple(got().shape)}; expected one number: the fraction of the "
                 "queries whose best item has their label, not a hit per query"),
        (lambda: abs(float(got()) - want) < 1e-6, value_hint),
    ])


# --- the correspondence loss with fair negatives (the method: Look, Listen and Learn's AVC task) -------------------

# (videos in the batch, embedding size, seed): several sizes, two videos the smallest (the only negative is the other
# video), so that a negative that may be the video's own pair is caught on one of them; the last a batch large enough
# to tell negatives spread over the other videos from negatives that mostly take one recording (``SPREAD``)
AVC_CASES = ((4, 6, 0), (2, 5, 1), (7, 3, 2), (3, 8, 3), (5, 4, 4), (40, 3, 5))

# From this many videos on, no video's sound may be the negative of more than a third of the frames: with a random
# other video for each frame, one sound takes 14 of 40 negatives less than once in 10^9 batches; a shift takes each once
SPREAD = 24


class _Fuse:
    """The checker's ``fuse``: an AVE-Net head, b - s ||a - v||^2 per row (trainable through v and a), which notes
    every pair a student's loss asks it about, so that the checker can tell which frame met which sound."""

    def __init__(self):
        self.calls: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def __call__(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        logits = self.of(v, a)
        self.calls.append((v, a, logits))
        return logits

    @staticmethod
    def of(v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return 1.0 - 1.5 * (a - v).pow(2).sum(1)


class _Run:
    """One call of a student's loss on B matched videos (random unit embeddings that need gradients), and what the
    checker reads from it: the loss, the pairs its ``fuse`` saw (video of the frame, video of the sound) and their
    logits, and the gradients that reach the embeddings."""

    def __init__(self, fn, n: int, dim: int, seed: int):
        with config.isolated_rng(seed):  # the same embeddings every time; the notebook's random stream left alone
            self.v = F.normalize(torch.randn(n, dim), dim=1).requires_grad_()
            self.a = F.normalize(torch.randn(n, dim), dim=1).requires_grad_()
            self.fuse = _Fuse()
            self.loss = fn(self.fuse, self.v, self.a)  # the student may draw negatives from torch's random stream
        self.n = n

    def rows(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(frame's video, sound's video) of every pair ``fuse`` saw, or None if a row is not one of v's or a's."""
        if not self.fuse.calls:
            return None
        v = torch.cat([call[0] for call in self.fuse.calls]).detach()
        a = torch.cat([call[1] for call in self.fuse.calls]).detach()
        if v.ndim != 2 or a.ndim != 2 or v.shape[1] != self.v.shape[1] or a.shape[1] != self.a.shape[1]:
            return None
        exact = "donot_use_mm_for_euclid_dist"  # a row passed as it is lies at distance 0, not about 1e-4
        found_v = torch.cdist(v, self.v.detach(), compute_mode=exact).min(1)
        found_a = torch.cdist(a, self.a.detach(), compute_mode=exact).min(1)
        if (found_v.values > 1e-5).any() or (found_a.values > 1e-5).any():
            return None
        return found_v.indices, found_a.indices

    def logits(self) -> torch.Tensor:
        """The logits of the pairs fuse saw, computed again from v and a themselves: their gradients are the ones
        training needs, whatever the student's function detached on the way."""
        frames, sounds = self.rows()
        return _Fuse.of(self.v[frames], self.a[sounds])

    def own(self) -> torch.Tensor:
        frames, sounds = self.rows()
        return frames == sounds

    def counts(self) -> tuple[int, int]:
        """(own pairs, mismatched pairs) among the pairs ``fuse`` saw."""
        own = self.own()
        return int(own.sum()), int((~own).sum())

    def fair(self) -> bool:
        """B own pairs, one each; B negatives, every frame once, each with another video's sound."""
        frames, sounds = self.rows()
        own = frames == sounds
        return (torch.equal(frames[own].sort().values, torch.arange(self.n))
                and torch.equal(frames[~own].sort().values, torch.arange(self.n)))

    def commonest_negative(self) -> tuple[int, int]:
        """(video, how many negatives took its sound) for the sound that most negatives took."""
        frames, sounds = self.rows()
        counts = torch.bincount(sounds[frames != sounds], minlength=self.n)
        return int(counts.argmax()), int(counts.max())

    def spread(self) -> bool:
        """The negatives' sounds spread over the videos: no one recording is the negative of most frames."""
        return self.n < SPREAD or self.commonest_negative()[1] <= self.n // 3

    def expected(self, flipped: bool = False) -> torch.Tensor:
        """Binary cross-entropy of the logits ``fuse`` gave, own pairs 1 and the others 0 (or flipped), averaged."""
        target = self.own().float()
        return F.binary_cross_entropy_with_logits(self.logits(), 1 - target if flipped else target)

    def value(self) -> float:
        return float(torch.as_tensor(self.loss).detach().float().reshape(-1)[0])

    def right(self, flipped: bool = False) -> float:
        return float(self.expected(flipped).detach())

    def gradients_match(self) -> bool:
        got = torch.autograd.grad(self.loss.reshape(()), [self.v, self.a], retain_graph=True, allow_unused=True)
        want = torch.autograd.grad(self.expected(), [self.v, self.a], retain_graph=True, allow_unused=True)
        return all(g is not None and w is not None and torch.allclose(g, w, atol=1e-5)
                   for g, w in zip(got, want, strict=True))


def check_avc_loss(fn) -> None:
    """Exercise: ``fn(fuse, v, a)`` = the AVC loss of a batch of B different videos (``av.avc_loss``): the B own pairs
    (v_i, a_i) labelled 1, B negatives -- each frame with the sound of *another* video of the batch -- labelled 0,
    binary cross-entropy of ``fuse``'s logits averaged over the 2B pairs. Checked on several batch sizes and seeds,
    with a ``fuse`` that notes which frame met which sound, on embeddings that need gradients (training
    back-propagates through the loss to both towers). Any choice of the other video is right, but never the own, and
    not one recording for (nearly) every frame: on a large batch the negatives' sounds must spread (``SPREAD``)."""
    runs = [checks.answer(_Run, fn, n, dim, seed) for n, dim, seed in AVC_CASES]
    sizes = "; ".join(f"{n} videos, embeddings {n} x {dim}" for n, dim, _ in AVC_CASES[:2])

    def each(test) -> Callable[[], bool]:
        return lambda: all(test(run()) for run in runs)

    def first_wrong(test):
        return next(run() for run in runs if not test(run()))

    def negatives_hint() -> str:
        run = first_wrong(lambda r: r.fair())
        own, other = run.counts()
        if other == 0 and own == run.n:
            return ("fuse saw only the B own pairs: there are no negatives, so a model that says 'together' to "
                    "everything wins; add each frame with the sound of another video")
        if other == 0:
            return ("your negatives are the videos' own pairs again (shifted by 0 -- or by B, which is the same -- "
                    "or the same index): a negative is a frame with the sound of *another* video")
        if own > run.n:
            return (f"with {run.n} videos, a negative was a video's own pair (a random permutation can leave an "
                    "index in place): draw the other video so that it can never be the same one")
        if other > run.n:
            return (f"with {run.n} videos fuse saw {other} mismatched pairs: one negative per frame, as many "
                    "negatives as positives (half each), not every other sound")
        return (f"with {run.n} videos fuse saw {own} own pairs and {other} mismatched ones: every frame once with "
                "its own sound and once with the sound of another video of the batch")

    def spread_hint() -> str:
        run = first_wrong(lambda r: r.spread())
        video, taken = run.commonest_negative()
        return (f"with {run.n} videos, {taken} of the {run.n} negatives took the sound of one video (video {video}): "
                "each frame's negative is the sound of another video of the batch, and different frames get "
                "different ones (a shifted index, or a video drawn at random for each), so that every video's sound "
                "is heard as a negative, not one recording the model can learn to call 'apart'")

    def value_hint() -> str:
        run = first_wrong(lambda r: abs(r.value() - r.right()) < 1e-5)
        mistakes = {
            "the labels are flipped: an own pair is 1 ('together'), a negative 0": run.right(flipped=True),
            "that is the sum over the pairs: average the binary cross-entropy": run.right() * 2 * run.n,
            "that is twice the loss: the mean over the own pairs and the mean over the negatives are added, where "
            "the loss is one mean over all 2B pairs": run.right() * 2,
        }
        named = [words for words, wrong in mistakes.items() if abs(run.value() - wrong) < 1e-4]
        return named[0] if named else (f"with {run.n} videos the binary cross-entropy of the logits fuse gave is "
                                       f"{run.right():.4f}, you gave {run.value():.4f}: fuse's outputs are "
                                       "logits (no sigmoid before a ...with_logits loss), own pairs 1, negatives 0")

    checks.verdict("AVC loss", [
        checks.returns(runs[0], f"the checker calls fn(fuse, v, a) with {sizes}: fuse(v_rows, a_rows) takes two "
                                "N x D tensors, row i of one with row i of the other, and gives N logits (any real "
                                "number)"),
        checks.has_shape(lambda: runs[0]().loss, (), "one loss for the batch: average over the pairs"),
        *(checks.returns(run, "it ran on the first batch size but not on others: a size written into the function?")
          for run in runs[1:]),
        (each(lambda r: isinstance(r.loss, torch.Tensor)),
         lambda: f"you returned a {type(runs[0]().loss).__name__}: keep the loss a torch tensor (no .item()), "
                 "training back-propagates through it"),
        (each(lambda r: r.loss.numel() == 1), "one loss for the batch: average over the pairs"),
        (each(lambda r: r.loss.requires_grad),
         "the loss carries no gradient (.detach(), .item(), torch.no_grad() or a new tensor made of its value): "
         "training back-propagates through it, to both towers"),
        (each(lambda r: r.rows() is not None),
         "call fuse(frames, sounds), frames first, with rows of v and of a as they are (picked, rolled or "
         "concatenated, not changed): it scores each (frame, sound) pair itself"),
        (each(lambda r: all(call[0].requires_grad and call[1].requires_grad for call in r.fuse.calls)),
         "some pairs were built from detached embeddings (.detach(), .data): both towers learn from every pair"),
        (each(lambda r: r.fair()), negatives_hint),
        (each(lambda r: r.spread()), spread_hint),
        (each(lambda r: abs(r.value() - r.right()) < 1e-5), value_hint),
        (each(lambda r: r.gradients_match()),
         "the value is right but the gradients are not: part of the loss uses detached values (.detach(), .data), "
         "the negatives' maybe; both towers learn from every pair"),
    ])
