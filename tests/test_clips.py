"""Tests of course_lib.data.clips: a tiny video made with PyAV stands in for the real clip; no test touches the network.

The real shared copy, when present, is checked too (first frame's mean, as a public torch test asserts it).
"""

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

from course_lib.data import DataCorrupt, DataUnavailable, _fetch, clips, load_clip
from course_lib.data.__main__ import main

REPO = Path(__file__).resolve().parents[1]
REAL = Path(os.environ["COURSE_DATA"]) if os.environ.get("COURSE_DATA") else REPO.parent / "shared" / "data"


def tiny_video(frames: int = 6, height: int = 16, width: int = 24) -> bytes:
    """An mpeg4 .avi whose frame t is uniformly grey at level 40 t (so decoding can be checked)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for t in range(frames):
            pixels = np.full((height, width, 3), 40 * t, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())
    return buffer.getvalue()


@pytest.fixture
def fake_clip(monkeypatch) -> bytes:
    """A tiny video as the "ucf101" clip: its SHA-256 is the one the loader expects."""
    video = tiny_video()
    source = clips.CLIPS["ucf101"]
    monkeypatch.setitem(clips.CLIPS, "ucf101", clips.Source(source.path, source.url,
                                                            hashlib.sha256(video).hexdigest(), source.about))
    return video


def write_clip(root: Path, video: bytes) -> Path:
    path = root / "video" / clips.CLIPS["ucf101"].path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(video)
    return path


def test_clip_frames_are_t_by_3_by_h_by_w_in_unit_range(tmp_path, fake_clip):
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


def test_unknown_clip_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ucf101"):
        load_clip("hmdb51", root=tmp_path)


def test_changed_file_is_named_and_kept(tmp_path, fake_clip):
    path = write_clip(tmp_path, fake_clip[:-10])
    with pytest.raises(DataCorrupt, match="SHA-256") as err:
        load_clip("ucf101", root=tmp_path)
    assert str(path) in str(err.value) and path.exists()


def test_undecodable_file_with_the_right_hash_is_named(tmp_path, monkeypatch):
    junk = b"not a video at all"
    source = clips.CLIPS["ucf101"]
    monkeypatch.setitem(clips.CLIPS, "ucf101", clips.Source(source.path, source.url,
                                                            hashlib.sha256(junk).hexdigest(), source.about))
    write_clip(tmp_path, junk)
    with pytest.raises(DataCorrupt, match="PyAV"):
        load_clip("ucf101", root=tmp_path)


def test_download_is_verified_then_moved_into_place(tmp_path, fake_clip, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", fake_download(fake_clip))
    assert len(load_clip("ucf101", root=tmp_path)) == 6
    folder = tmp_path / "video" / "ucf101"
    assert [p.name for p in folder.iterdir()] == ["v_ApplyEyeMakeup_g01_c01.avi"]  # no temporary folder left


def test_download_with_wrong_checksum_is_not_kept(tmp_path, fake_clip, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", fake_download(fake_clip + b"tampered"))
    with pytest.raises(DataUnavailable, match="SHA-256"):
        load_clip("ucf101", root=tmp_path)
    assert list((tmp_path / "video" / "ucf101").iterdir()) == []


def test_offline_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", offline)
    with pytest.raises(DataUnavailable, match="video clips") as err:
        load_clip("ucf101", root=tmp_path)
    message = str(err.value)
    assert "python -m course_lib.data fetch clips" in message and "COURSE_DATA" in message
    assert str(tmp_path / "video" / "ucf101") in message
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_read_only_root_gives_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", lambda *a, **k: pytest.fail("tried to download"))
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(DataUnavailable, match="read-only"):
            load_clip("ucf101", root=tmp_path)
        assert list(tmp_path.iterdir()) == []
    finally:
        tmp_path.chmod(0o755)


def test_cli_lists_clips_and_fetch_offline_exits_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_fetch, "download_url", offline)
    assert main(["status", "--root", str(tmp_path)]) == 0
    assert "clips" in capsys.readouterr().out
    assert main(["fetch", "clips", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "python -m course_lib.data fetch clips" in err and "Traceback" not in err


@pytest.mark.skipif(not (REAL / "video" / "ucf101").is_dir(), reason=f"no real clip under {REAL}")
def test_real_ucf101_clip():
    clip = load_clip("ucf101", root=REAL)
    assert clip.frames.shape == (164, 3, 240, 320) and clip.fps == 25
    assert float(clip.frames[0].mean()) * 255 == pytest.approx(87.119574652778, abs=1e-3)
