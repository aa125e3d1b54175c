"""Tiny stand-ins for the course's video files, made with PyAV, shared by the video-loader tests: a UCF101 clip
(``course_lib.data.clips``) and a GRID talking clip (``course_lib.data.grid``), each with a way to make its loader
expect exactly those bytes (the SHA-256 it checks)."""

from __future__ import annotations

import hashlib
import io

import av
import numpy as np
import pytest

from course_lib.data import clips, grid

RATE = 8000  # the GRID stand-in's tone is written at 4 x RATE: mp2 wants 16 kHz or more


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


def tiny_talking_clip(frames: int = 10, seconds: float = 0.4) -> bytes:
    """An mpeg1 video (frame t uniformly grey at 20 t) with a stereo mp2 sound track: a 440 Hz tone at 0.5."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpeg") as container:
        video = container.add_stream("mpeg1video", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        sound = container.add_stream("mp2", rate=RATE * 4)
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


def expect_as_ucf101(monkeypatch: pytest.MonkeyPatch, payload: bytes) -> bytes:
    """Make ``load_clip("ucf101")`` expect ``payload`` (its SHA-256); returns it."""
    source = clips.CLIPS["ucf101"]
    monkeypatch.setitem(clips.CLIPS, "ucf101", clips.Source(source.path, source.url,
                                                            hashlib.sha256(payload).hexdigest(), source.about))
    return payload


def expect_as_grid(monkeypatch: pytest.MonkeyPatch, payload: bytes) -> bytes:
    """Make ``load_grid("bbaf2n")`` expect ``payload`` (its SHA-256); returns it."""
    monkeypatch.setitem(grid.CLIPS, "bbaf2n", hashlib.sha256(payload).hexdigest())
    return payload
