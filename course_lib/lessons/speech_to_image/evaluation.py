"""What the judge reads in the drawings (the spoken digit, the identity's), whether the style came through, and the
ordering the notebook states (``ORDERINGS``, measured over pretraining seeds by ``course_lib.seeds``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from course_lib import audio, config, evaluate
from course_lib.lessons.speech_to_image.training import Experiment
from course_lib.pretext import speech2image as s2i
from course_lib.seeds import Ordering

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


# --- the ordering the notebook states, on its recorded numbers (recognised %, mean over the generator seeds) --------

ORDERINGS = [
    Ordering("with skips vs no skips, recognised % (the notebook: no difference at this scale)",
             "generated_recognised_accuracy", "generated_recognised_accuracy_no_skips"),
]


# --- the L1-optimal image (the notebook's exercise): what a network that knows only the digit would draw -----------

TARGETS_PER_DIGIT = 300  # styled training images per digit that its L1-optimal image is taken over (ci has >= 500)


def l1_optimal(images: torch.Tensor) -> torch.Tensor:
    """The single image closest to all of ``images`` (N x C x H x W) in summed L1 distance: their per-pixel median,
    C x H x W (for even N torch takes the lower of the two middle values; any value between them is as good)."""
    return images.median(dim=0).values


def digit_targets(ex: Experiment, n: int = TARGETS_PER_DIGIT, seed: int = 0) -> list[torch.Tensor]:
    """For each digit d = 0 ... 9: up to ``n`` training images of d, each in a random writer's style (K x 1 x 28 x 28):
    what the generator is trained to draw when it hears d (``make_pairs`` draws its targets like this)."""
    generator = torch.Generator().manual_seed(30_000 + seed)
    targets = []
    for digit in range(10):
        images = ex.images.x[ex.images.y == digit][:n]
        targets.append(s2i.apply_style(images, s2i.random_styles(len(images), generator, images.device)))
    return targets


def per_digit(optimal, targets: list[torch.Tensor]) -> torch.Tensor:
    """``optimal`` (a function of a stack of images, such as ``l1_optimal``) applied to each digit's targets: one
    image per digit, 10 x 1 x H x W (a NumPy answer is taken as a tensor)."""
    return torch.stack([torch.as_tensor(optimal(t)).to(t).reshape(t.shape[1:]) for t in targets])


def judge_reads(judge, images: torch.Tensor) -> torch.Tensor:
    """The digit the judge reads in each image."""
    return evaluate.embed(judge, images).argmax(1)


# --- the headline decomposed: which part limits "recognised %" ------------------------------------------------------

EMBEDDING = "audio embedding"  # the one "layer" the audio encoder's read-out probes


def audio_encoder_reads(models: list, ex: Experiment, Cs: Sequence[float] = config.PROBE_CS) -> evaluate.Spread:
    """How much of the spoken digit the generators' audio encoders carry: a linear probe of each one's frozen
    embedding, fit on the training voices' recordings with their digits but ``VALIDATION_SPEAKER``'s, its C chosen
    among ``Cs`` on that voice, tested on the held-out voice (%, mean ± std over the seeds; notebook 08's audio
    probes choose alike). The digit labels serve this read-out only; the generators never saw them."""
    held = audio.said_by(ex.train_speakers)
    train_y, test_y = ex.train_digits.cpu(), ex.test_digits.cpu()

    def probe(model) -> float:
        train_x, test_x = (evaluate.embed(model.audio.embed, specs) for specs in (ex.train_specs, ex.test_specs))
        on = held.to(train_x.device)
        scores = evaluate.probe_layers({EMBEDDING: train_x[~on]}, train_y[~held], {EMBEDDING: train_x[on]},
                                       train_y[held], {EMBEDDING: test_x}, test_y, Cs=Cs, desc="audio encoder read")
        return float(scores.test[EMBEDDING])

    return evaluate.Spread.of(probe(model) for model in models)


L1_CANDIDATES = 100  # training images of the spoken digit behind each test pair's L1 optimum (500 pairs: ~3 s)


def l1_optimum_reads(judge, ex: Experiment, pairs: TestPairs, candidates: int = L1_CANDIDATES) -> float:
    """The judge on the best drawing an L1-trained generator that heard the digit right could make: for each test
    pair, the per-pixel median of ``candidates`` training images of the spoken digit in the identity's style
    (``speech2image.l1_optimum``). % read as the spoken digit."""
    by_digit = {d: ex.images.x[ex.images.y == d][:candidates] for d in range(10)}
    optimum = torch.stack([s2i.l1_optimum(by_digit[d], pairs.style[i]) for i, d in enumerate(ex.test_digits.tolist())])
    return 100.0 * (judge_reads(judge, optimum).cpu() == ex.test_digits.cpu()).float().mean().item()


def headline_decomposed(judge, generators: dict[str, list], ex: Experiment, pairs: TestPairs,
                        scores: dict[str, dict[str, evaluate.Spread]], Cs: Sequence[float] = config.PROBE_CS,
                        seed: int = 0) -> pd.DataFrame:
    """Where "recognised %" (with skips) loses against perfection, one link of the chain per row: does the audio
    encoder carry the digit, can the judge read real digits, can it read the L1 optimum of the right digit, and what
    it reads in the drawings. ``Cs``: the audio encoder's probe chooses its C among them (``sizes.probe_cs``)."""
    rows = {
        "audio encoder: the spoken digit in its embedding (linear probe, held-out voice)":
            audio_encoder_reads(generators["with skips"], ex, Cs),
        "judge: real MNIST test digits in random styles": evaluate.Spread(judge_accuracy(judge, ex, seed)),
        "judge: the L1 optimum of the spoken digit in the writer's style (per test pair)":
            evaluate.Spread(l1_optimum_reads(judge, ex, pairs)),
        "judge: the generator's drawings (recognised %, the headline)": scores["with skips"]["recognised %"],
    }
    return pd.DataFrame({"%": {name: value.text() for name, value in rows.items()}})
