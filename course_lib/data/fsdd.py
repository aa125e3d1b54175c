"""Free Spoken Digit Dataset (FSDD) v1.0.10: 3,000 recordings of spoken digits, 6 speakers, 8 kHz.

Every file is checked against a SHA-256 manifest shipped in this package (``fsdd_manifest.sha256``): GitHub's
release archives are not byte-stable, so the archive cannot be pinned, but each recording can.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import soundfile
import torch

from course_lib.data import _fetch

NAME = "fsdd"
URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
SAMPLE_RATE = 8000
TEST_TAKES = range(5)  # the official split: takes 0-4 are the test set, 5-49 the training set
SPLITS = ("all", "train", "test")


@dataclass
class SpokenDigits:
    """Recordings and what they say. ``waves`` vary in length, so they are a list of 1-D float32 tensors."""

    waves: list[torch.Tensor]
    digit: torch.Tensor  # int64, the digit spoken
    speaker: list[str]
    take: torch.Tensor  # int64, 0-49: the recording's index for that digit and speaker
    sample_rate: int = SAMPLE_RATE

    def __len__(self) -> int:
        return len(self.waves)

    def subset(self, index) -> SpokenDigits:
        """The recordings picked by a boolean mask or by integer indices, e.g. to build a speaker-disjoint split."""
        index = torch.as_tensor(index)
        if index.dtype == torch.bool:
            if index.shape != (len(self),):
                raise ValueError(f"a mask must have {len(self)} entries, got shape {tuple(index.shape)}")
            index = index.nonzero().flatten()
        picked = index.long().tolist()
        return SpokenDigits([self.waves[i] for i in picked], self.digit[picked], [self.speaker[i] for i in picked],
                            self.take[picked], self.sample_rate)

    def __repr__(self) -> str:
        return f"SpokenDigits({len(self)} recordings, speakers={sorted(set(self.speaker))}, {self.sample_rate} Hz)"


def manifest() -> dict[str, str]:
    """{path relative to <root>/fsdd, e.g. 'recordings/7_jackson_32.wav': sha256} for all 3,000 files."""
    text = resources.files(__package__).joinpath("fsdd_manifest.sha256").read_text()
    return {path: digest for digest, path in (line.split() for line in text.splitlines() if line.strip())}


def _describe(path: str) -> tuple[int, str, int]:
    """'recordings/7_jackson_32.wav' -> (7, 'jackson', 32)."""
    digit, rest = Path(path).stem.split("_", 1)
    speaker, take = rest.rsplit("_", 1)
    return int(digit), speaker, int(take)


def where(root: Path | None = None) -> Path:
    return _fetch.resolve(root) / "fsdd" / "recordings"


def status(root: Path | None = None) -> str:
    base, expected = where(root).parent, manifest()
    present = sum((base / path).is_file() for path in expected)
    if present == 0:
        return "missing"
    return f"complete ({present} recordings)" if present == len(expected) else \
        f"partial: {present} of {len(expected)} recordings"


def _matches(path: Path, digest: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest


def _download(root: Path, why: str) -> None:
    """Download the release, check every recording against the manifest, and only then move the missing ones in."""
    with _fetch.download(NAME, URL, root, looked_in=where(root), why=why) as tmp:
        unpacked = next((folder.parent for folder in tmp.glob("*/recordings")), tmp)
        bad = [path for path, digest in manifest().items() if not _matches(unpacked / path, digest)]
        if bad:
            raise _fetch.DataUnavailable(NAME, where(root), f"{why}, and the download does not match the manifest "
                                         f"({len(bad)} files missing or different, e.g. {bad[0]})")
        _fetch.move_missing(unpacked, where(root).parent, manifest())


def load_fsdd(split: str = "all", root: Path | None = None) -> SpokenDigits:
    """All recordings of the official ``split`` ('all', 'train': takes 5-49, 'test': takes 0-4), each verified.

    Ordered by digit, speaker and take, so every run sees the same order.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = _fetch.resolve(root)
    base, expected = where(root).parent, manifest()
    files = sorted((_describe(path), path) for path in expected)
    files = [(about, path) for about, path in files if split == "all" or (about[2] in TEST_TAKES) == (split == "test")]
    missing = [path for _, path in files if not (base / path).is_file()]
    if missing:
        why = f"{len(missing)} of {len(files)} recordings missing (e.g. {Path(missing[0]).name})"
        _download(root, why if where(root).is_dir() else "nothing there yet")
    waves = []
    for _, path in files:
        raw = (base / path).read_bytes()
        if hashlib.sha256(raw).hexdigest() != expected[path]:
            raise _fetch.DataCorrupt(NAME, base / path, "its SHA-256 differs from the FSDD v1.0.10 manifest")
        wave, rate = soundfile.read(io.BytesIO(raw), dtype="float32")
        if rate != SAMPLE_RATE or wave.ndim != 1:
            raise _fetch.DataCorrupt(NAME, base / path, f"expected mono {SAMPLE_RATE} Hz, got {rate} Hz")
        waves.append(torch.from_numpy(wave))
    digits, speakers, takes = ([about[i] for about, _ in files] for i in range(3))
    return SpokenDigits(waves, torch.tensor(digits, dtype=torch.int64), speakers,
                        torch.tensor(takes, dtype=torch.int64))


def fetch(root: Path | None = None) -> str:
    """Download what is missing, then verify every recording against the manifest."""
    count = len(load_fsdd("all", root))
    return f"complete: {count} recordings verified in {where(root)}"
