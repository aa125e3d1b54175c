"""What every video loader of ``course_lib.data`` does about its file, run for each: the UCF101 clip
(``load_clip``) and a GRID talking clip (``load_grid``). A file that is not the pinned one is named and kept; a
download is verified before it is moved into place; offline, a read-only root and the command line each give one
clear message. Tiny videos made with PyAV stand in for the real files; no test touches the network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_videos import expect_as_grid, expect_as_ucf101, tiny_talking_clip, tiny_video
from offline import fake_download, no_network, offline  # noqa: F401  (no_network: autouse fixture)

from course_lib.data import DataCorrupt, DataUnavailable, _fetch, load_clip, load_grid
from course_lib.data.__main__ import main


@dataclass(frozen=True)
class Videos:
    """One loader's side of the tests."""

    what: str  # the name ``python -m course_lib.data fetch`` takes
    loader: Callable  # loader(name, root=...)
    name: str  # the clip the tests load
    unknown: str  # a name the loader does not know
    folder: str  # where its files live under the data root
    file: str  # the clip's file name there
    frames: int  # in the stand-in video
    make: Callable[[], bytes]  # the stand-in video
    expect: Callable[[pytest.MonkeyPatch, bytes], bytes]  # make the loader expect those bytes
    offline_words: str  # what the offline message calls the data

    def load(self, root: Path):
        return self.loader(self.name, root=root)

    def write(self, root: Path, payload: bytes) -> Path:
        path = root / self.folder / self.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        return path


VIDEOS = [
    Videos("clips", load_clip, "ucf101", "hmdb51", "video/ucf101", "v_ApplyEyeMakeup_g01_c01.avi", 6, tiny_video,
           expect_as_ucf101, "video clips"),
    Videos("grid", load_grid, "bbaf2n", "xxxx1a", "video/grid", "bbaf2n.mpg", 10, tiny_talking_clip, expect_as_grid,
           "GRID"),
]


@pytest.fixture(scope="module", params=VIDEOS, ids=lambda videos: videos.what)
def videos(request) -> Videos:
    return request.param


@pytest.fixture(scope="module")
def stand_in(videos) -> bytes:
    """The loader's stand-in video, made once per loader."""
    return videos.make()


@pytest.fixture
def pinned(videos, stand_in, monkeypatch) -> bytes:
    """The stand-in video, with the loader expecting exactly its bytes."""
    return videos.expect(monkeypatch, stand_in)


def test_unknown_clip_is_refused(tmp_path, videos):
    with pytest.raises(ValueError, match=videos.name):
        videos.loader(videos.unknown, root=tmp_path)


def test_changed_file_is_named_and_kept(tmp_path, videos, pinned):
    path = videos.write(tmp_path, pinned[:-10])
    with pytest.raises(DataCorrupt, match="SHA-256") as err:
        videos.load(tmp_path)
    assert str(path) in str(err.value) and path.exists()


def test_undecodable_file_with_the_right_hash_is_named(tmp_path, videos, monkeypatch):
    junk = videos.expect(monkeypatch, b"not a video at all")
    videos.write(tmp_path, junk)
    with pytest.raises(DataCorrupt, match="PyAV"):
        videos.load(tmp_path)


def test_download_is_verified_then_moved_into_place(tmp_path, videos, pinned, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", fake_download(pinned))
    assert len(videos.load(tmp_path)) == videos.frames
    assert [p.name for p in (tmp_path / videos.folder).iterdir()] == [videos.file]  # no temporary folder left


def test_download_with_wrong_checksum_is_not_kept(tmp_path, videos, pinned, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", fake_download(pinned + b"tampered"))
    with pytest.raises(DataUnavailable, match="SHA-256"):
        videos.load(tmp_path)
    assert list((tmp_path / videos.folder).iterdir()) == []


def test_offline_gives_one_clear_error(tmp_path, videos, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", offline)
    with pytest.raises(DataUnavailable, match=videos.offline_words) as err:
        videos.load(tmp_path)
    message = str(err.value)
    assert f"python -m course_lib.data fetch {videos.what}" in message and "COURSE_DATA" in message
    assert str(tmp_path / videos.folder) in message
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_read_only_root_gives_clear_error_and_writes_nothing(tmp_path, videos, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", lambda *a, **k: pytest.fail("tried to download"))
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(DataUnavailable, match="read-only"):
            videos.load(tmp_path)
        assert list(tmp_path.iterdir()) == []
    finally:
        tmp_path.chmod(0o755)


def test_cli_lists_the_videos_and_fetch_offline_exits_1(tmp_path, videos, monkeypatch, capsys):
    monkeypatch.setattr(_fetch, "download_url", offline)
    assert main(["status", "--root", str(tmp_path)]) == 0
    assert videos.what in capsys.readouterr().out
    assert main(["fetch", videos.what, "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"python -m course_lib.data fetch {videos.what}" in err and "Traceback" not in err
