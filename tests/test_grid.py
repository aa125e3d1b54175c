"""Tests of course_lib.data.grid: a tiny talking clip made with PyAV (video + a tone) stands in for a GRID file; no
test touches the network. The real shared copy, when present, is checked too."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from offline import fake_download, no_network, offline  # noqa: F401  (no_network: autouse fixture)

from course_lib.data import DataCorrupt, DataUnavailable, _fetch, grid, load_grid
from course_lib.data.__main__ import main

REPO = Path(__file__).resolve().parents[1]
REAL = Path(os.environ["COURSE_DATA"]) if os.environ.get("COURSE_DATA") else REPO.parent / "shared" / "data"
RATE = 8000


def tiny_talking_clip(frames: int = 10, seconds: float = 0.4) -> bytes:
    """An mpeg1 video (frame t uniformly grey at 20 t) with a stereo mp2 sound track: a 440 Hz tone at 0.5."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpeg") as container:
        video = container.add_stream("mpeg1video", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        sound = container.add_stream("mp2", rate=RATE * 4)  # mp2 wants 16 kHz or more
        sound.layout = "stereo"
        for t in range(frames):
            pixels = np.full((32, 32, 3), 20 * t, dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        n = int(seconds * RATE * 4)
        tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / (RATE * 4))).astype(np.float32)
        for start in range(0, n, 1152):
            chunk = np.stack([tone[start:start + 1152]] * 2)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = RATE * 4
            for packet in sound.encode(frame):
                container.mux(packet)
        for stream in (video, sound):
            for packet in stream.encode():
                container.mux(packet)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def clip_bytes() -> bytes:
    return tiny_talking_clip()


@pytest.fixture
def fake_grid(monkeypatch, clip_bytes) -> bytes:
    """The tiny clip as GRID's "bbaf2n": its SHA-256 is the one the loader expects."""
    monkeypatch.setitem(grid.CLIPS, "bbaf2n", hashlib.sha256(clip_bytes).hexdigest())
    return clip_bytes


def write_clip(root: Path, payload: bytes, name: str = "bbaf2n") -> Path:
    path = root / "video" / "grid" / f"{name}.mpg"
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
    assert clip.wave.abs().max() <= 1.0 and 0.3 < clip.wave.abs().max() < 0.7  # the tone, mixed to mono
    assert clip.samples_per_frame() == RATE * 4 / 25
    assert clip.sentence == "bin blue at f two now" and "bin blue" in repr(clip)


def test_unknown_clip_is_refused(tmp_path):
    with pytest.raises(ValueError, match="bbaf2n"):
        load_grid("xxxx1a", root=tmp_path)


def test_changed_file_is_named_and_kept(tmp_path, fake_grid):
    path = write_clip(tmp_path, fake_grid[:-10])
    with pytest.raises(DataCorrupt, match="SHA-256") as err:
        load_grid("bbaf2n", root=tmp_path)
    assert str(path) in str(err.value) and path.exists()


def test_undecodable_file_with_the_right_hash_is_named(tmp_path, monkeypatch):
    junk = b"not a video at all"
    monkeypatch.setitem(grid.CLIPS, "bbaf2n", hashlib.sha256(junk).hexdigest())
    write_clip(tmp_path, junk)
    with pytest.raises(DataCorrupt, match="PyAV"):
        load_grid("bbaf2n", root=tmp_path)


def test_download_is_verified_then_moved_into_place(tmp_path, fake_grid, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", fake_download(fake_grid))
    assert len(load_grid("bbaf2n", root=tmp_path)) == 10
    assert [p.name for p in (tmp_path / "video" / "grid").iterdir()] == ["bbaf2n.mpg"]  # no temporary folder left


def test_download_with_wrong_checksum_is_not_kept(tmp_path, fake_grid, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", fake_download(fake_grid + b"tampered"))
    with pytest.raises(DataUnavailable, match="SHA-256"):
        load_grid("bbaf2n", root=tmp_path)
    assert list((tmp_path / "video" / "grid").iterdir()) == []


def test_offline_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", offline)
    with pytest.raises(DataUnavailable, match="GRID") as err:
        load_grid("bbaf2n", root=tmp_path)
    message = str(err.value)
    assert "python -m course_lib.data fetch grid" in message and "COURSE_DATA" in message
    assert str(tmp_path / "video" / "grid") in message
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_read_only_root_gives_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", lambda *a, **k: pytest.fail("tried to download"))
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(DataUnavailable, match="read-only"):
            load_grid("bbaf2n", root=tmp_path)
        assert list(tmp_path.iterdir()) == []
    finally:
        tmp_path.chmod(0o755)


def test_cli_lists_grid_and_fetch_offline_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_fetch, "download_url", offline)
    assert main(["status", "--root", str(tmp_path)]) == 0
    assert "grid" in capsys.readouterr().out
    assert main(["fetch", "grid", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "python -m course_lib.data fetch grid" in err and "Traceback" not in err


@pytest.mark.skipif(not (REAL / "video" / "grid").is_dir(), reason=f"no real GRID clips under {REAL}")
def test_real_grid_clip():
    clip = load_grid("id2_vcd_swwp2s", root=REAL)
    assert clip.frames.shape == (75, 3, 288, 360) and clip.fps == 25
    assert clip.sample_rate == 44100 and abs(len(clip.wave) / clip.sample_rate - 2.98) < 0.01
    assert clip.sentence == "set white with p two soon"
