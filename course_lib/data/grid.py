"""GRID talking-face clips with their speech: video frames and the audio track, decoded with PyAV.

GRID (Cooke, Barker, Cunningham & Shao, JASA 2006) films people reading six-word sentences of a fixed grammar
("bin blue at f two now") facing the camera: 25 fps, 360 x 288, about 3 s, speech in the sound track. The eleven
clips here are the samples the LipNet repository ships (code MIT, GRID CC BY 4.0), downloaded from GitHub at a pinned
commit -- a URL whose bytes cannot change -- and checked against a SHA-256 written here. They land in
``<root>/video/grid/``.

A clip's name spells its sentence: command, colour, preposition, letter, digit, adverb, one letter each
(``sentence("bbaf2n")`` = "bin blue at f two now").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch

from course_lib.data import _fetch
from course_lib.data.clips import VideoClip, _decode

NAME = "grid"
_LIPNET = "https://raw.githubusercontent.com/rizkiarm/LipNet/bec592aa1e66378bc7ab33f6110f1c8a431b3b9a/evaluation/samples/"
CITATION = ("GRID audio-visual speech corpus (M. Cooke, J. Barker, S. Cunningham, X. Shao, JASA 120(5), 2006), "
            "a sample of the LipNet repository")
# file name -> SHA-256 (the same digests as the shared copy's PROVENANCE.md)
CLIPS = {
    "bbaf2n": "e468120039e208b5ff9b9e269f8dc96bbddc45701f8dddcf2c0ae21abc0df546",
    "brbk7n": "2122707c6dd3b59a32b5272870afb37397dc6b20cf52241cf8ff7cfda7b3efa3",
    "id2_vcd_swwp2s": "3bb8cffd51399caaf0c97abcd32bcab3493b2878ffda73bd648490ea47c75cc0",
    "lbax4n": "8f80c8ced6a8cb47d55c5c01704d4669b410369af653f6be7fbda9003337dedf",
    "lbbc2a": "9447e5e0732eeaf4444b5ba1e3412c8a9e194975ba7c814fa64c4c41c83d4e4c",
    "lrwp9a": "1a6c86fc5e7d4e9ee66a891f188f9a648c9b8be3bdc2431d73ac7e533aa70b3f",
    "lwbsza": "09090d1f7a8a946233a015a1b4258fafcb790ed6dbbd884ed88ae51fe36841a0",
    "pwij3p": "a610d98c101dde3587cc66d70cb569d3b1d0111cfad90bd0037e47e21316beda",
    "sbia1a": "768e49272122f1577839db576ea00146d08e83d778c7fe8b9ca1b194dff57c7d",
    "sbwe5n": "6707e709f1d713a6ff6673c85605e2fa721cfe59749c56b9f34e6d159c5fdf55",
    "swiz3n": "080f3e1511879a3baa41cdc31aa7029981f29c71434a570de3d52ee78f9e5dd0",
}

# the GRID grammar, one letter per word (Cooke et al. 2006, table 1); the letter and the digit are spelled as said
_WORDS = (
    {"b": "bin", "l": "lay", "p": "place", "s": "set"},
    {"b": "blue", "g": "green", "r": "red", "w": "white"},
    {"a": "at", "b": "by", "i": "in", "w": "with"},
    None,  # the letter is itself
    {"z": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
     "8": "eight", "9": "nine"},
    {"a": "again", "n": "now", "p": "please", "s": "soon"},
)


@dataclass(repr=False)
class TalkingClip(VideoClip):
    """A ``VideoClip`` (frames T x 3 x H x W in [0, 1], fps) with its sound: a mono waveform and its sample rate."""

    wave: torch.Tensor
    sample_rate: int
    sentence: str

    def samples_per_frame(self) -> float:
        return self.sample_rate / self.fps

    def __repr__(self) -> str:
        return (f"TalkingClip({self.name}: '{self.sentence}', {len(self)} frames at {self.fps:g} fps, "
                f"{len(self.wave) / self.sample_rate:.2f} s of sound at {self.sample_rate} Hz)")


def sentence(name: str) -> str:
    """The sentence a GRID file name spells: 'bbaf2n' -> 'bin blue at f two now' (a prefix like 'id2_vcd_' is
    ignored)."""
    code = name.rsplit("_", 1)[-1].removesuffix(".mpg")
    if len(code) != len(_WORDS):
        raise ValueError(f"{name!r} is not a GRID clip name (six letters, e.g. 'bbaf2n')")
    try:
        return " ".join(char if words is None else words[char] for char, words in zip(code, _WORDS, strict=True))
    except KeyError as err:
        raise ValueError(f"{name!r} is not a GRID clip name: no word for {err}") from None


def where(root: Path | None = None) -> Path:
    return _fetch.resolve(root) / "video" / "grid"


def url(name: str) -> str:
    folder = "" if name.startswith("id2_") else "GRID/"  # LipNet keeps one sample beside the folder
    return f"{_LIPNET}{folder}{name}.mpg"


def status(root: Path | None = None) -> str:
    present = sum((where(root) / f"{name}.mpg").is_file() for name in CLIPS)
    if present == 0:
        return "missing"
    return f"complete ({present} clips)" if present == len(CLIPS) else f"partial: {present} of {len(CLIPS)} clips"


def _decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """The first audio stream as one mono float32 array in [-1, 1] (the mean of its channels) and its sample rate.

    PyAV converts whatever sample format the file holds to planar floats (channels x samples); the rate is kept.
    """
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        resampler = av.AudioResampler(format="fltp", rate=rate)
        chunks = [out.to_ndarray() for frame in container.decode(stream) for out in resampler.resample(frame)]
        chunks += [out.to_ndarray() for out in resampler.resample(None)]
    if not chunks:
        raise ValueError("no audio decoded")
    return np.concatenate(chunks, axis=1).mean(0).astype(np.float32), int(rate)


def load_grid(name: str = "bbaf2n", root: Path | None = None) -> TalkingClip:
    """One GRID clip, checked against its SHA-256, downloaded first when absent: frames, fps, sound and sentence."""
    if name not in CLIPS:
        raise ValueError(f"no GRID clip called {name!r}; choose one of {', '.join(CLIPS)}")
    root = _fetch.resolve(root)
    path = where(root) / f"{name}.mpg"
    if not path.is_file():
        _fetch.download_file(NAME, url(name), CLIPS[name], path, root,
                             f"{path.name} missing" if path.parent.is_dir() else "nothing there yet")
    if _fetch.sha256(path) != CLIPS[name]:
        raise _fetch.DataCorrupt(NAME, path, "its SHA-256 differs from the one the course expects")
    try:
        pixels, fps = _decode(path)
        wave, rate = _decode_audio(path)
    except (av.FFmpegError, ValueError, IndexError) as err:  # IndexError: a file with no audio stream
        raise _fetch.DataCorrupt(NAME, path, f"PyAV could not decode its video and sound: {err or 'no stream'}"
                                 ) from None
    frames = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255)
    return TalkingClip(frames, fps, name, CITATION, torch.from_numpy(wave), rate, sentence(name))


def fetch(root: Path | None = None) -> str:
    """Download what is missing, then decode every clip, so a damaged file shows now rather than in a lab."""
    loaded = [load_grid(name, root) for name in CLIPS]
    return f"complete: {len(loaded)} clips ({sum(len(c) for c in loaded)} frames, with sound) in {where(root)}"
