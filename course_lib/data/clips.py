"""Real video clips, one file each, decoded with PyAV: a UCF101 clip and a Kinetics-400 clip.

Both are test and demo assets of mmaction2 (Apache-2.0), downloaded from GitHub at a pinned commit -- a URL whose
bytes cannot change -- and checked against a SHA-256 written here. They land in ``<root>/video/<dataset>/``.

    ucf101    v_ApplyEyeMakeup_g01_c01.avi   320 x 240, 25 fps, 164 frames  (Soomro et al. 2012)
    kinetics  arm wrestling, mmaction2 demo  340 x 256, 28 fps, 280 frames  (Kay et al. 2017)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch
import torch.nn.functional as F

from course_lib.data import _fetch

NAME = "clips"
_MMACTION2 = "https://raw.githubusercontent.com/open-mmlab/mmaction2/4d6c93474730cad2f25e51109adcf96824efc7a3/"


@dataclass(frozen=True)
class Source:
    """Where one clip comes from, where it goes (relative to ``<root>/video``), and its SHA-256."""

    path: str
    url: str
    sha256: str
    about: str


CLIPS = {
    "ucf101": Source("ucf101/v_ApplyEyeMakeup_g01_c01.avi", _MMACTION2 + "tests/data/test.avi",
                     "cc3ebb11e80d2900071ff929633b7476a33ee1698ac9a91206e2ba64c1c28920",
                     "UCF101 v_ApplyEyeMakeup_g01_c01 (K. Soomro, A. R. Zamir, M. Shah, UCF101, 2012)"),
    "kinetics": Source("kinetics400/mmaction2_demo_arm_wrestling.mp4", _MMACTION2 + "demo/demo.mp4",
                       "071e60535eaf0aed475ddac06269ee0cdfc4740158f22d9ccd2c3b93b42aa344",
                       "Kinetics-400, arm wrestling (W. Kay et al., The Kinetics Human Action Video Dataset, 2017)"),
}


@dataclass
class VideoClip:
    """Frames (float32, T x 3 x H x W in [0, 1]), frames per second, and what the clip is."""

    frames: torch.Tensor
    fps: float
    name: str
    about: str

    def __len__(self) -> int:
        return len(self.frames)

    def grey(self) -> torch.Tensor:
        """The frames in grey (ITU-R 601 luma), T x 1 x H x W."""
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        return (self.frames * weights).sum(1, keepdim=True)

    def __repr__(self) -> str:
        t, _, h, w = self.frames.shape
        return f"VideoClip({self.name}: {t} frames of {w} x {h}, {self.fps:g} fps)"


def where(root: Path | None = None) -> Path:
    return _fetch.resolve(root) / "video"


def _source(name: str) -> Source:
    if name not in CLIPS:
        raise ValueError(f"no clip called {name!r}; choose one of {', '.join(CLIPS)}")
    return CLIPS[name]


def status(root: Path | None = None) -> str:
    present = [name for name, source in CLIPS.items() if (where(root) / source.path).is_file()]
    if not present:
        return "missing"
    return f"complete ({len(present)} clips)" if len(present) == len(CLIPS) else f"partial: {', '.join(present)}"


def _download(source: Source, root: Path, why: str) -> None:
    """Download one clip next to where it belongs, check its SHA-256, and only then move it into place."""
    _fetch.download_file(NAME, source.url, source.sha256, where(root) / source.path, root, why)


def _decode(path: Path) -> tuple[np.ndarray, float]:
    """All video frames of a file as one uint8 array (T, H, W, 3), and the frame rate, through PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
    if not frames:
        raise ValueError("no video frames decoded")
    return np.stack(frames), fps


def load_clip(name: str = "ucf101", size: tuple[int, int] | None = None, root: Path | None = None) -> VideoClip:
    """A real clip's frames, checked against its SHA-256 and decoded; ``size`` = (height, width) resizes them
    (area averaging, as a camera with fewer pixels would see it)."""
    source = _source(name)
    root = _fetch.resolve(root)
    path = where(root) / source.path
    if not path.is_file():
        _download(source, root, f"{path.name} missing" if path.parent.is_dir() else "nothing there yet")
    if _fetch.sha256(path) != source.sha256:
        raise _fetch.DataCorrupt(NAME, path, "its SHA-256 differs from the one the course expects")
    try:
        pixels, fps = _decode(path)
    except (av.FFmpegError, ValueError) as err:
        raise _fetch.DataCorrupt(NAME, path, f"PyAV could not decode it: {err}") from None
    frames = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255)
    if size is not None:
        frames = F.interpolate(frames, size=size, mode="area")
    return VideoClip(frames, fps, name, source.about)


def fetch(root: Path | None = None) -> str:
    """Download what is missing, then decode every clip, so a damaged file shows now rather than in a lab."""
    loaded = [load_clip(name, root=root) for name in CLIPS]
    return f"complete: {', '.join(f'{c.name} ({len(c)} frames)' for c in loaded)} in {where(root)}"
