"""Notebook 06's exercise: the checker of the student's annealed mean, and the trained colorizer decoded by it."""

from __future__ import annotations

import torch

from course_lib import checks, config, show
from course_lib.lessons.colorization.training import TEMPERATURES, ColourSpace
from course_lib.pretext import colorization as col

# --- exercise checker -------------------------------------------------------------------------------------------

annealed_mean = col.annealed_mean  # the course's, for the run after the exercise while the student's is not accepted

# (N, Q, H, W, T): the paper's T on three bins, the plain mean (T = 1) on images that are not square, the notebook's
# own bins at T = 0.1, and a T above 1 (flatter than the mean), where T multiplied and T divided differ most
# (N, Q, H, W, T), Q = 0 for the notebook's own bins; the last case, at a T so small that the probabilities raised to
# 1 / T underflow in float32 (every pixel, for logits of scale 2 over the notebook's bins), is where a literal
# exp(log z / T) / sum gives nan while the annealed mean itself is finite
ANNEALED_CASES = ((2, 3, 4, 4, col.T_PAPER), (3, 7, 2, 5, 1.0), (1, 0, 3, 3, 0.1), (2, 5, 3, 2, 2.5),
                  (1, 0, 3, 3, 0.01))
SMALL_T_CASE = 4


def _annealed_cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]]:
    """(logits, centres, weights of a random loss to compare gradients, T) of every case; Q = 0 stands for the
    notebook's own bins (``col.ab_gamut``)."""
    gamut = col.ab_gamut()
    with config.isolated_rng(2):
        cases = []
        for n, q, h, w, t in ANNEALED_CASES:
            centres = gamut if q == 0 else (torch.rand(q, 2) * 200 - 100).round()
            cases.append((2 * torch.randn(n, len(centres), h, w), centres, torch.randn(n, 2, h, w), t))
        return cases


def _annealed_mistakes(logits: torch.Tensor, centres: torch.Tensor, t: float) -> dict[str, torch.Tensor]:
    """The colours the usual wrong answers give, each with the words that name the mistake (never the answer)."""
    def weigh(f: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nqhw,qc->nchw", f, centres)

    wrong_axis = "the softmax runs over the wrong axis: f_T is a distribution over the Q bins, dim 1 of N x Q x H x W"
    return {
        "the temperature is multiplied: f_T divides the log-probabilities by T": weigh((logits * t).softmax(1)),
        "the temperature is left out: this is the plain mean (T = 1) whatever T is": weigh(logits.softmax(1)),
        "that weighs the centres by log-probabilities: f_T(z) is a distribution again (exponentiate, then "
        "normalise)": weigh((logits / t).log_softmax(1)),
        "that is the mode (the centre of the most likely bin), the limit T -> 0, not the annealed mean":
            centres[logits.argmax(1)].permute(0, 3, 1, 2),
        "z ** (1 / T) is not normalised again: f_T(z) must sum to 1 over the bins": weigh(logits.softmax(1) ** (1 / t)),
        "the temperature divides the probabilities, not their logs: f_T(z) = exp(log z / T) / sum": weigh(
            (logits.softmax(1) / t).softmax(1)),
        wrong_axis + " (you used the batch, dim 0)": weigh((logits / t).softmax(0)),
        wrong_axis + " (you used the last axis)": weigh((logits / t).softmax(-1)),
        wrong_axis + " (you used the rows, dim 2)": weigh((logits / t).softmax(2)),
    }


def _shape_advice(got: object, n: int, q: int, h: int, w: int) -> str:
    """What a wrong shape of the colours usually comes from."""
    shape = tuple(getattr(got, "shape", ()))
    if shape == (n, h, w, 2):
        return "the two ab channels go in dim 1, as the Q bins do in the logits (N x 2 x H x W)"
    if shape == (n, q, h, w):
        return "one map per bin: weigh each bin's centre by f_T and sum over the Q bins"
    if shape == (n, 2) or shape == (2,):
        return "one colour per image (or for everything): the annealed mean is taken at every pixel"
    return "one ab colour (2 numbers) at every pixel of every image"


def check_annealed_mean(fn) -> None:
    """Exercise: ``fn(logits, centres, T)`` = the annealed mean H(Z) = sum_q f_T(z)_q * centre_q at every pixel,
    compared with ``col.annealed_mean`` on the cases of ``ANNEALED_CASES`` (values, and gradients to the logits),
    and near the mode as T -> 0. Hints name the usual mistakes."""
    cases = _annealed_cases()

    def run(annealed, i: int) -> tuple[object, torch.Tensor | None]:
        logits, centres, weights, t = cases[i]
        logits = logits.clone().requires_grad_()
        got = annealed(logits, centres.clone(), t)
        if isinstance(got, torch.Tensor) and got.requires_grad and got.shape == weights.shape:
            (got * weights).sum().backward()
        return got, logits.grad

    want = [(got.detach(), grad) for got, grad in (run(col.annealed_mean, i) for i in range(len(cases)))]
    answers = [checks.answer(run, fn, i) for i in range(len(cases))]
    logits, centres, _, _ = cases[1]
    sharp = logits.scatter_add(1, logits.argmax(1, keepdim=True), torch.full_like(logits[:, :1], 3.0))
    near_mode = checks.answer(fn, sharp, centres, 0.02)  # the top bin ahead by at least 3: f_T is almost one-hot
    _check_annealed(cases, want, answers, near_mode, centres[sharp.argmax(1)].permute(0, 3, 1, 2))


def _check_annealed(cases, want, answers, near_mode, mode) -> None:
    """``check_annealed_mean``'s tests, in the order a student meets them (a shape before values)."""
    def got(i: int) -> torch.Tensor:
        return torch.as_tensor(answers[i]()[0]).detach().float()

    def close(i: int, other: torch.Tensor) -> bool:
        return bool(torch.allclose(got(i), other.float(), atol=1e-3, rtol=1e-4))

    def value_hint(among: list[int] | None = None) -> str:
        i = next(i for i in (among or order) if not close(i, want[i][0]))
        logits, centres, _, t = cases[i]
        named = [mistake for mistake, wrong in _annealed_mistakes(logits, centres, t).items()
                 if wrong.shape == got(i).shape and close(i, wrong)]
        return (f"on random logits ({' x '.join(map(str, logits.shape))}, Q = {len(centres)} bins) at T = {t:g} your "
                "colours differ from the annealed mean: " + (named[0] if named else
                                                             "go through f_T and the expectation step by step (the "
                                                             "hint below helps)"))

    order = [0, 3, 2, 1]  # the paper's T first, T = 1 (where several mistakes coincide with the answer) last
    regular = [i for i in range(len(cases)) if i != SMALL_T_CASE]

    def small_t_hint() -> str:
        logits, centres, _, t = cases[SMALL_T_CASE]
        bad = int((~torch.isfinite(got(SMALL_T_CASE))).any(1).sum())
        pixels = logits.shape[0] * logits.shape[2] * logits.shape[3]
        return (f"at T = {t:g}, on random logits of scale 2 over Q = {len(centres)} bins, your colours hold nan or inf "
                f"at {bad} of {pixels} pixels (the annealed mean there is finite, nearly the mode): at so small a T "
                "the probabilities raised to the power 1 / T underflow to 0 in every bin (and 0 / 0 is nan), or "
                "overflow. Keep f_T in log space until it is normalised, where no number is that small or large")

    sizes = ", ".join(f"{n} x {q or 'Q'} x {h} x {w} at T = {t:g}" for n, q, h, w, t in ANNEALED_CASES)
    checks.verdict("annealed mean", [
        *(checks.returns(answers[i], f"the checker calls it with logits N x Q x H x W that need gradients ({sizes}) "
                                     "and centres Q x 2: NumPy refuses a tensor that needs gradients, and a number "
                                     "of bins or a size written into the function fails on the other cases")
          for i in range(len(cases))),
        *(checks.has_shape(lambda i=i: answers[i]()[0], want[i][0].shape,
                           lambda i=i: _shape_advice(answers[i]()[0], *ANNEALED_CASES[i][:4]))
          for i in range(len(cases))),
        (lambda: all(isinstance(answers[i]()[0], torch.Tensor) for i in range(len(cases))),
         lambda: f"you returned a {type(answers[0]()[0]).__name__}: return a torch tensor, as the colorizer puts it "
                 "back on the lightness with torch"),
        (lambda: all(bool(torch.isfinite(got(i)).all()) for i in regular),
         "your colours hold nan or inf: the logits are not probabilities (they can be negative: log of a negative "
         "number is nan); z = softmax(logits) over the bins, or work with the logits directly"),
        (lambda: all(close(i, want[i][0]) for i in order), value_hint),
        (lambda: bool(torch.isfinite(got(SMALL_T_CASE)).all()), small_t_hint),
        (lambda: close(SMALL_T_CASE, want[SMALL_T_CASE][0]), lambda: value_hint([SMALL_T_CASE])),
        (lambda: all(answers[i]()[0].requires_grad and answers[i]()[1] is not None for i in range(len(cases))),
         "your colours carry no gradient back to the logits (.detach(), .data, .numpy() or torch.no_grad inside): "
         "keep it one torch computation from the logits"),
        (lambda: all(torch.allclose(answers[i]()[1], want[i][1], atol=1e-4 * float(want[i][1].abs().max()), rtol=0)
                     for i in regular),  # a tolerance on the scale of the gradient: float32 rounding (at T = 0.01
         # it reaches 1e-3 of the scale for a right answer in log space, so that case is left out)
         "the colours are right but their gradient to the logits is not: part of the computation uses detached "
         "values (.detach(), .data)"),
        (lambda: bool(torch.allclose(torch.as_tensor(near_mode()).detach().float(), mode, atol=0.5)),
         "as T -> 0 (T = 0.02 here) the annealed mean should become the mode, the centre of the most likely bin: "
         "is your f_T numerically safe at small T (divide the logits, not the probabilities, and let softmax "
         "normalise)?"),
    ])


# --- the exercise at work: the trained colorizer decoded by the student's annealed mean ------------------------------

@torch.no_grad()
def decode_with(decode, model: col.Colorizer, rgb: torch.Tensor, space: ColourSpace,
                temperatures=TEMPERATURES, batch_size: int = 500) -> dict[float, torch.Tensor]:
    """{T: ``rgb`` colorized by ``model``, its class scores decoded by ``decode(logits, centres, T)``} (a student's
    annealed mean, or the course's): the network runs once, every temperature decodes the same scores."""
    out = {t: [] for t in temperatures}
    for start in range(0, len(rgb), batch_size):
        lightness, _ = col.split_lab(rgb[start:start + batch_size])
        logits = model.eval()(col.network_input(lightness))
        for t in temperatures:
            out[t].append(col.to_rgb(lightness, torch.as_tensor(decode(logits, space.centres, t)).to(logits)))
    return {t: torch.cat(images) for t, images in out.items()}


def show_your_decoding(decode, model: col.Colorizer, rgb: torch.Tensor, space: ColourSpace, shown: int = 8):
    """The test photos ``rgb`` colorized by the trained ``model`` through ``decode`` at every temperature: one line
    with the mean colourfulness M of each, beside the true photos', and the first ``shown`` as pictures."""
    coloured = decode_with(decode, model, rgb, space)
    m = {t: col.colourfulness(images).mean().item() for t, images in coloured.items()}
    said = ", ".join(f"{value:.1f} at T = {t:g}" for t, value in m.items())
    truth, grey = (col.colourfulness(images).mean().item() for images in (rgb, col.grey(rgb)))
    print(f"decoded by this annealed mean, {len(rgb)} test photos: colourfulness M = {said} "
          f"(the true photos: {truth:.1f}; the grey input: {grey:.1f})")
    rows = {"ground truth": rgb[:shown], "input X_L": col.grey(rgb[:shown]),
            **{f"T = {t:g} (M = {m[t]:.1f})": images[:shown] for t, images in coloured.items()}}
    return show.image_rows(rows)
