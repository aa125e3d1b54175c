"""Notebook 09's exercise checkers: the target matrix and the similarity map."""

from __future__ import annotations

import torch

from course_lib import checks, config
from course_lib.pretext import objects_that_sound as ots

# --- exercise checkers --------------------------------------------------------------------------------------------

def check_targets(fn) -> None:
    """Exercise: ``fn(spoken, digits)`` = the B x B target matrix of the all-pairs loss."""
    spoken = torch.tensor([3, 7, 0, 3])
    digits = torch.tensor([[3, 5], [1, 2], [0, 7], [9, 4]])
    want = ots.correspondence(spoken, digits)
    got = torch.as_tensor(fn(spoken, digits)).float()
    if got.shape != want.shape:
        checks.exercise("target matrix", False, f"return a {tuple(want.shape)} matrix: rows are recordings, columns "
                        f"canvases; got shape {tuple(got.shape)}")
    if torch.equal(got, want.T):
        checks.exercise("target matrix", False, "rows and columns are swapped: row i is recording i")
    checks.exercise("target matrix", torch.equal(got, want),
                    "entry (i, j) is 1 when the digit spoken in recording i is one of the digits on canvas j -- "
                    "not only when i == j")



def check_similarity_map(fn) -> None:
    """Exercise: ``fn(audio, image_map)`` = the similarity map of every recording with every canvas, compared with
    ``ots.similarity`` on random unit embeddings (3 recordings, 5 canvases, maps 4 x 6: swapped axes show)."""
    with config.isolated_rng(0):  # the same test embeddings every time; the notebook's random stream untouched
        audio = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)  # a: B_audio x D, unit length
        image_map = torch.nn.functional.normalize(torch.randn(5, 8, 4, 6), dim=1)  # V: B_canvas x D x H x W
    want = ots.similarity(audio, image_map)
    got = torch.as_tensor(fn(audio, image_map)).detach().float()

    def shape_hint() -> str:
        if got.shape == (5, 3, 4, 6):
            return "rows and columns are swapped: S[i, j] is recording i (audio) against canvas j (image_map)"
        return ("return one map per (recording, canvas) pair, every recording against every canvas (not only "
                f"recording i with canvas i): shape (B_audio, B_canvas, H, W) = "
                f"{tuple(want.shape)} for 3 recordings, 5 canvases and 4 x 6 maps; you gave {tuple(got.shape)}")

    def value_hint() -> str:
        if torch.allclose(got * audio.shape[1], want, atol=1e-5):
            return "sum the products over the D embedding dimensions, do not average them"
        return (f"S[i, j, h, w] = sum over d of a[i, d] * V[j, d, h, w] (both have unit length, so it is the cosine); "
                f"recording 0 against canvas 0, top row: expected {[round(v, 3) for v in want[0, 0, 0].tolist()]}, "
                f"you gave {[round(v, 3) for v in got[0, 0, 0].tolist()]}")

    checks.verdict("similarity map", [(lambda: got.shape == want.shape, shape_hint),
                                      (lambda: torch.allclose(got, want, atol=1e-5), value_hint)])
