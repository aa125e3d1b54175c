"""Tests of course_lib.data.grid: a tiny talking clip made with PyAV (video + a tone) stands in for a GRID file; no
test touches the network. What it does about a missing, changed or undecodable file is tested with the UCF101 clip's
in test_video_downloads.py. The real shared copy, when present, is checked too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from fake_videos import RATE, expect_as_grid, tiny_talking_clip
from offline import no_network  # noqa: F401  (no_network: autouse fixture)

from course_lib.data import grid, load_grid

REPO = Path(__file__).resolve().parents[1]
REAL = Path(os.environ["COURSE_DATA"]) if os.environ.get("COURSE_DATA") else REPO.parent / "shared" / "data"


@pytest.fixture(scope="module")
def clip_bytes() -> bytes:
    return tiny_talking_clip()


@pytest.fixture
def fake_grid(monkeypatch, clip_bytes) -> bytes:
    """The tiny clip as GRID's "bbaf2n": its SHA-256 is the one the loader expects."""
    return expect_as_grid(monkeypatch, clip_bytes)


def write_clip(root: Path, payload: bytes) -> Path:
    path = root / "video" / "grid" / "bbaf2n.mpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path


def test_sentence_is_spelled_by_the_name():
    assert grid.sentence("bbaf2n") == "bin blue at f two now"
    assert grid.sentence("id2_vcd_swwp2s") == "set white with p two soon"
    assert grid.sentence("lwbsza.mpg") == "lay white by s zero again"
    with pytest.raises(ValueError, match="GRID"):
        grid.sentence("hello")


def test_urls_are_pinned_to_a_commit():
    assert grid.url("bbaf2n").endswith("/bec592aa1e66378bc7ab33f6110f1c8a431b3b9a/evaluation/samples/GRID/bbaf2n.mpg")
    assert grid.url("id2_vcd_swwp2s").endswith("/evaluation/samples/id2_vcd_swwp2s.mpg")


def test_clip_has_frames_and_sound(tmp_path, fake_grid):
    write_clip(tmp_path, fake_grid)
    clip = load_grid("bbaf2n", root=tmp_path)
    assert clip.frames.shape[1:] == (3, 32, 32) and clip.frames.dtype == torch.float32
    assert clip.fps == 25 and len(clip) == 10
    levels = clip.frames.mean(dim=(1, 2, 3)) * 255
    assert torch.allclose(levels, 20 * torch.arange(10.0), atol=8)  # lossy codec: close, not equal
    assert clip.sample_rate == RATE * 4 and clip.wave.ndim == 1
    assert 0.3 < clip.wave.abs().max() < 0.7  # the tone at 0.5 in both channels, mixed to mono
    spectrum = torch.fft.rfft(clip.wave).abs()
    assert float(spectrum.argmax()) * clip.sample_rate / len(clip.wave) == pytest.approx(440, abs=10)  # its pitch
    assert clip.samples_per_frame() == RATE * 4 / 25
    assert clip.sentence == "bin blue at f two now" and "bin blue" in repr(clip)


@pytest.mark.skipif(not (REAL / "video" / "grid").is_dir(), reason=f"no real GRID clips under {REAL}")
def test_real_grid_clip():
    clip = load_grid("id2_vcd_swwp2s", root=REAL)
    assert clip.frames.shape == (75, 3, 288, 360) and clip.fps == 25
    assert clip.sample_rate == 44100 and abs(len(clip.wave) / clip.sample_rate - 2.98) < 0.01
    assert clip.sentence == "set white with p two soon"
