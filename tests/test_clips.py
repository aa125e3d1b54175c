"""Tests of course_lib.data.clips: a tiny video made with PyAV stands in for the real clip; no test touches the network.
What it does about a missing, changed or undecodable file is tested with GRID's in test_video_downloads.py.

The real shared copy, when present, is checked too (first frame's mean, as a public torch test asserts it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from fake_videos import expect_as_ucf101, tiny_video
from offline import no_network  # noqa: F401  (no_network: autouse fixture)

from course_lib.data import clips, load_clip

REPO = Path(__file__).resolve().parents[1]
REAL = Path(os.environ["COURSE_DATA"]) if os.environ.get("COURSE_DATA") else REPO.parent / "shared" / "data"


@pytest.fixture
def fake_clip(monkeypatch) -> bytes:
    """A tiny video as the "ucf101" clip: its SHA-256 is the one the loader expects."""
    return expect_as_ucf101(monkeypatch, tiny_video())


def write_clip(root: Path, video: bytes) -> Path:
    path = root / "video" / clips.CLIPS["ucf101"].path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(video)
    return path


def test_clip_frames_are_t_by_3_by_h_by_w_at_the_grey_levels_written(tmp_path, fake_clip):
    write_clip(tmp_path, fake_clip)
    clip = load_clip("ucf101", root=tmp_path)
    assert clip.frames.shape == (6, 3, 16, 24) and clip.frames.dtype == torch.float32
    assert clip.fps == 25 and len(clip) == 6
    levels = clip.frames.mean(dim=(1, 2, 3)) * 255
    assert torch.allclose(levels, 40 * torch.arange(6.0), atol=6)  # lossy codec: close, not equal


def test_resize_and_grey(tmp_path, fake_clip):
    write_clip(tmp_path, fake_clip)
    clip = load_clip("ucf101", size=(8, 12), root=tmp_path)
    assert clip.frames.shape == (6, 3, 8, 12)
    assert clip.grey().shape == (6, 1, 8, 12)


@pytest.mark.skipif(not (REAL / "video" / "ucf101").is_dir(), reason=f"no real clip under {REAL}")
def test_real_ucf101_clip():
    clip = load_clip("ucf101", root=REAL)
    assert clip.frames.shape == (164, 3, 240, 320) and clip.fps == 25
    assert float(clip.frames[0].mean()) * 255 == pytest.approx(87.119574652778, abs=1e-3)
