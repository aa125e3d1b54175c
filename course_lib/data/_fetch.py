"""What every real dataset shares: where it lives, the two errors, and a guarded download.

Students meet these datasets in a lab, often offline or on a read-only shared copy. Whatever goes wrong, they
should get one message that says which dataset, where it was looked for and how to fix it -- never a traceback
from deep inside urllib, never a write into a folder that is not theirs, never other data in its place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from torchvision.datasets.utils import download_url, extract_archive

from course_lib import config

TITLES = {"mnist": "MNIST", "cifar10": "CIFAR-10", "fsdd": "FSDD (Free Spoken Digit Dataset)",
          "digits": "scikit-learn digits", "clips": "Real video clips (UCF101, Kinetics-400)",
          "grid": "GRID talking-face clips (audio-visual speech)"}


def fetch_command(name: str) -> str:
    return f"python -m course_lib.data fetch {name}"


class DataUnavailable(RuntimeError):
    """A dataset is not where it was looked for and could not be downloaded there."""

    def __init__(self, name: str, folder: Path | str, problem: str, command: str | None = None):
        self.name, self.folder, self.problem, self.command = name, Path(folder), problem, command
        super().__init__(
            f"{TITLES.get(name, name)} is not available: {problem}\n"
            f"  Looked in: {folder}\n"
            f"  Fix it in one of two ways:\n"
            f"  - on a machine with internet access, run `{command or fetch_command(name)}` (downloads and verifies), "
            "or\n"
            f"  - point COURSE_DATA at a folder that holds a copy, e.g. `export COURSE_DATA=/path/to/data`."
        )

    def __reduce__(self):  # so the error survives pickling (DataLoader workers, multiprocessing)
        return type(self), (self.name, self.folder, self.problem, self.command)


class DataCorrupt(DataUnavailable):
    """A dataset file is there but damaged. It is named, and left in place: deleting user files is the user's call."""

    def __init__(self, name: str, path: Path | str, problem: str, command: str | None = None):
        self.name, self.path, self.folder, self.problem = name, Path(path), Path(path).parent, problem
        self.command = command
        RuntimeError.__init__(
            self,
            f"{TITLES.get(name, name)}: the file {path} is corrupt or incomplete ({problem}).\n"
            f"  Delete it and fetch again with `{command or fetch_command(name)}`,\n"
            f"  or point COURSE_DATA at a folder that holds a good copy."
        )

    def __reduce__(self):
        return type(self), (self.name, self.path, self.problem, self.command)


def resolve(root: Path | str | None) -> Path:
    """The data root: the argument if given, else COURSE_DATA / the default (see ``config.data_root``)."""
    return Path(root).expanduser() if root is not None else config.data_root()


def writable(path: Path | str) -> bool:
    """Whether files may be created at ``path``: asks ``os.access`` about the nearest folder that exists.

    Permission bits that deny everyone writing also count as read-only, because ``os.access`` says yes to root
    even there, and a shared copy made read-only with ``chmod a-w`` must stay untouched.
    """
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK) and bool(folder.stat().st_mode & 0o222)


def require_writable(name: str, root: Path, looked_in: Path, why: str, command: str | None = None) -> None:
    """Refuse, before anything is written, to download into a read-only data root."""
    if not writable(root):
        raise DataUnavailable(name, looked_in, f"{why}, and the data folder {root} is read-only, "
                                               "so it cannot be downloaded there", command)


@contextmanager
def download_errors(name: str, looked_in: Path, why: str, command: str | None = None) -> Iterator[None]:
    """Turn any failure of a download (offline, timeout, bad checksum, broken archive) into one DataUnavailable.

    Raised ``from None``: the urllib traceback says nothing a student can act on.
    """
    try:
        yield
    except DataUnavailable:
        raise
    except (OSError, RuntimeError, EOFError, tarfile.TarError) as err:  # URLError and timeouts are OSErrors
        reason = " ".join(str(err).split())
        reason = reason if len(reason) < 300 else reason[:297] + "..."
        raise DataUnavailable(name, looked_in, f"{why}, and downloading it failed ({type(err).__name__}: {reason})",
                              command) from None


@contextmanager
def download(name: str, url: str, root: Path, *, looked_in: Path, why: str, md5: str | None = None) -> Iterator[Path]:
    """Download ``url`` and unpack it in a fresh hidden folder inside ``root``; yield that folder, remove it after.

    Inside the root (not /tmp) so that moving the verified files into place is a rename on the same disk, and an
    interrupted download never leaves half a dataset where a loader would find it. torchvision checks ``md5``.
    """
    require_writable(name, root, looked_in, why)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-download-", dir=root))
    try:
        with download_errors(name, looked_in, why):
            print(f"{TITLES[name]}: downloading {url} into {root} ...", flush=True)
            download_url(url, str(tmp), filename=f"{name}.tar.gz", md5=md5)
            extract_archive(str(tmp / f"{name}.tar.gz"), str(tmp), remove_finished=True)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def move_missing(src: Path, dst: Path, names: Iterable[str]) -> int:
    """Move each of ``names`` that ``src`` has and ``dst`` lacks; never overwrite what is there. Returns the count."""
    moved = 0
    for name in names:
        if (src / name).is_file() and not (dst / name).exists():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(src / name, dst / name)
            moved += 1
    return moved


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def download_file(name: str, url: str, digest: str, target: Path, root: Path, why: str,
                  command: str | None = None) -> None:
    """Download one file next to ``target``, check its SHA-256 ``digest``, and only then move it into place.

    For datasets that are a few files at pinned URLs (a commit's raw files): nothing half-downloaded or unverified
    is ever where a loader would look, and every failure is one ``DataUnavailable`` that names ``name`` (and
    ``command``, the fix to run, when it is not ``python -m course_lib.data fetch NAME``).
    """
    require_writable(name, root, target.parent, why, command)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-download-", dir=target.parent))
    try:
        with download_errors(name, target.parent, why, command):
            print(f"{TITLES.get(name, name)}: downloading {url} into {target.parent} ...", flush=True)
            download_url(url, str(tmp), filename=target.name)
        if not (tmp / target.name).is_file() or sha256(tmp / target.name) != digest:
            raise DataUnavailable(name, target.parent, f"{why}, and the download of {url} does not match its SHA-256",
                                  command)
        os.replace(tmp / target.name, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
