"""Tests of course_lib.data: tiny fake datasets in tmp_path, plus checks on the real shared copy when present.

No test touches the network: downloads are replaced by fakes, and urlopen itself fails if anything slips through.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import torchvision.datasets.mnist
from offline import no_network, offline  # noqa: F401  (no_network: autouse fixture)

from course_lib.data import (
    DataCorrupt,
    DataUnavailable,
    ImageData,
    _fetch,
    cifar10,
    fsdd,
    load_cifar10,
    load_digits,
    load_fsdd,
    load_mnist,
    writable,
)
from course_lib.data.__main__ import main

REPO = Path(__file__).resolve().parents[1]
REAL = Path(os.environ["COURSE_DATA"]) if os.environ.get("COURSE_DATA") else REPO.parent / "shared" / "data"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def assert_one_clear_message(err: DataUnavailable, name: str, folder: Path) -> None:
    message = str(err)
    assert str(folder) in message
    assert f"python -m course_lib.data fetch {name}" in message
    assert "COURSE_DATA" in message
    assert err.__cause__ is None and err.__suppress_context__


# ---------------------------------------------------------------- fakes


def write_mnist(root: Path, n_train: int = 20, n_test: int = 10) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        pixels = (np.arange(n * 784) % 256).astype(np.uint8).tobytes()
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + pixels)
        labels = bytes(i % 10 for i in range(n))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels)


def cifar_batch(shift: int = 0, rows: int = 10_000) -> bytes:
    data = np.zeros((rows, 3072), dtype=np.uint8)
    data[:, 0] = np.arange(rows) % 256  # image i starts with pixel i % 256
    labels = [(i + shift) % 10 for i in range(rows)]
    return pickle.dumps({"batch_label": "fake", "data": data, "labels": labels}, protocol=2)


@pytest.fixture(scope="module")
def batches() -> dict[str, bytes]:
    return {"batches.meta": pickle.dumps({"label_names": CLASSES}, protocol=2), "test_batch": cifar_batch(3),
            "data_batch_1": cifar_batch(0), "data_batch_2": cifar_batch(5)}


def write_cifar(root: Path, batches: dict[str, bytes], names=("batches.meta", "test_batch", "data_batch_1")) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(batches[name])
    return folder


def wav_bytes(digit: int, take: int) -> bytes:
    buffer = io.BytesIO()
    wave = np.sin(np.arange(200 + 10 * take) * (digit + 1) / 10).astype(np.float32) * 0.5
    soundfile.write(buffer, wave, 8000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture
def fake_fsdd(monkeypatch) -> dict[str, bytes]:
    """40 fake recordings (digits 0-1, speakers ann and bob, takes 0-9), their hashes as the shipped manifest."""
    files = {f"recordings/{d}_{s}_{t}.wav": wav_bytes(d, t)
             for d in range(2) for s in ("ann", "bob") for t in range(10)}
    monkeypatch.setattr(fsdd, "manifest", lambda: {p: hashlib.sha256(b).hexdigest() for p, b in files.items()})
    return files


def write_fsdd(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (root / "fsdd" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "fsdd" / path).write_bytes(data)


def fake_download(files: dict[str, bytes], top: str):
    """A stand-in for torchvision's download_url that 'downloads' a tar.gz holding ``files`` under ``top``."""

    def download_url(url, root, filename=None, md5=None):
        with tarfile.open(Path(root) / filename, "w:gz", compresslevel=1) as tar:
            for path, data in files.items():
                info = tarfile.TarInfo(f"{top}/{path}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

    return download_url


# ---------------------------------------------------------------- image loaders


def test_image_data_len_to_and_repr():
    data = ImageData(torch.zeros(4, 1, 8, 8), torch.arange(4), ["a", "b", "c", "d"])
    moved = data.to("cpu")
    assert len(moved) == 4 and moved.classes == data.classes and "float32[4, 1, 8, 8]" in repr(moved)


def test_digits_are_1x8x8_floats_in_unit_range():
    data = load_digits(n=100)
    assert data.x.shape == (100, 1, 8, 8) and data.x.dtype == torch.float32
    assert data.x.min() == 0 and data.x.max() == 1
    assert data.y.dtype == torch.int64 and data.y[:10].tolist() == list(range(10))
    assert len(data.classes) == 10


def test_mnist_shapes_dtypes_and_first_n(tmp_path):
    write_mnist(tmp_path)
    data = load_mnist(train=True, n=5, root=tmp_path)
    assert data.x.shape == (5, 1, 28, 28) and data.x.dtype == torch.float32
    assert torch.equal(data.x.flatten(), (torch.arange(5 * 784) % 256) / 255.0)  # the bytes written, 255 -> 1
    assert data.y.dtype == torch.int64 and data.y.tolist() == [0, 1, 2, 3, 4]
    assert len(load_mnist(train=False, root=tmp_path)) == 10


def test_mnist_truncated_file_is_named_and_kept(tmp_path):
    write_mnist(tmp_path)
    images = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    with pytest.raises(DataCorrupt, match="train-images-idx3-ubyte") as err:
        load_mnist(root=tmp_path)
    assert "Delete it and fetch again" in str(err.value) and images.exists()


def test_mnist_offline_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    with pytest.raises(DataUnavailable, match="MNIST") as err:
        load_mnist(root=tmp_path)
    assert_one_clear_message(err.value, "mnist", tmp_path / "MNIST" / "raw")


def test_n_larger_than_the_split_is_refused(tmp_path):
    with pytest.raises(ValueError, match="10000"):
        load_cifar10(train=False, n=10_001, root=tmp_path)


def test_cifar_shapes_dtypes_and_classes(tmp_path, batches):
    write_cifar(tmp_path, batches)
    data = load_cifar10(train=False, n=7, root=tmp_path)
    assert data.x.shape == (7, 3, 32, 32) and data.x.dtype == torch.float32
    assert 0 <= data.x.min() and data.x.max() <= 1 and data.x[6, 0, 0, 0] == pytest.approx(6 / 255)
    assert data.y.dtype == torch.int64 and data.y.tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert data.classes[3] == "cat"


def test_cifar_reads_only_the_batches_n_needs(tmp_path, batches, monkeypatch):
    folder = write_cifar(tmp_path, batches)
    (folder / "data_batch_2").write_bytes(b"not a pickle")  # read only when n > 10,000
    read = []
    real_read = cifar10.read_batch
    monkeypatch.setattr(cifar10, "read_batch", lambda path: read.append(path.name) or real_read(path))
    assert len(load_cifar10(train=True, n=10_000, root=tmp_path)) == 10_000
    assert read == ["data_batch_1"]
    with pytest.raises(DataCorrupt, match="data_batch_2"):
        load_cifar10(train=True, n=10_001, root=tmp_path)


@pytest.mark.parametrize("damage, reason", [
    ("truncated", "cannot be unpickled"),
    ("wrong shape", "10000 x 3072 uint8"),
    ("label out of range", "integers in 0..9"),
    ("foreign object", "unexpected object"),
])
def test_cifar_damaged_batch_is_named_and_kept(tmp_path, batches, damage, reason):
    folder = write_cifar(tmp_path, batches)
    bad = {"truncated": batches["test_batch"][:5000], "wrong shape": cifar_batch(rows=9_999),
           "label out of range": pickle.dumps({"data": np.zeros((10_000, 3072), np.uint8), "labels": [10] * 10_000},
                                              protocol=2),
           "foreign object": pickle.dumps({"data": os.getcwd, "labels": []}, protocol=2)}[damage]
    (folder / "test_batch").write_bytes(bad)
    with pytest.raises(DataCorrupt, match="test_batch") as err:
        load_cifar10(train=False, root=tmp_path)
    assert reason in str(err.value) and "Delete it and fetch again" in str(err.value)
    assert (folder / "test_batch").exists()


def test_cifar_offline_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", offline)
    with pytest.raises(DataUnavailable, match="CIFAR-10") as err:
        load_cifar10(train=False, root=tmp_path)
    assert_one_clear_message(err.value, "cifar10", tmp_path / "cifar-10-batches-py")
    assert list(tmp_path.iterdir()) == []  # the temporary download folder is gone


def test_cifar_download_adds_missing_files_only(tmp_path, batches, monkeypatch):
    folder = write_cifar(tmp_path, batches)
    shipped = {"data_batch_1": cifar_batch(9), "data_batch_2": batches["data_batch_2"]}
    monkeypatch.setattr(_fetch, "download_url", fake_download(shipped, "cifar-10-batches-py"))
    data = load_cifar10(train=True, n=10_002, root=tmp_path)
    assert data.y[:2].tolist() == [0, 1] and data.y[-2:].tolist() == [5, 6]  # batch 1 kept, batch 2 added
    assert (folder / "data_batch_1").read_bytes() == batches["data_batch_1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-batches-py"]


# ---------------------------------------------------------------- read-only roots


def test_writable_looks_at_the_nearest_existing_folder(tmp_path):
    assert writable(tmp_path / "not" / "yet")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)  # os.access says yes to root, the permission bits still say no
    try:
        assert not writable(locked / "data")
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("load", [load_mnist, load_cifar10, load_fsdd])
def test_read_only_root_gives_clear_error_and_writes_nothing(tmp_path, monkeypatch, load):
    monkeypatch.setattr(_fetch, "writable", lambda path: False)
    for module, name in ((_fetch, "download_url"), (torchvision.datasets.mnist, "download_and_extract_archive")):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("downloaded into a read-only root"))
    with pytest.raises(DataUnavailable, match="read-only") as err:
        load(root=tmp_path / "data")
    assert "COURSE_DATA" in str(err.value)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- FSDD


def test_fsdd_official_split_by_take(tmp_path, fake_fsdd):
    write_fsdd(tmp_path, fake_fsdd)
    sizes = {split: len(load_fsdd(split, root=tmp_path)) for split in ("all", "train", "test")}
    assert sizes == {"all": 40, "train": 20, "test": 20}
    assert load_fsdd("test", root=tmp_path).take.max() == 4
    assert load_fsdd("train", root=tmp_path).take.min() == 5


def test_fsdd_types_and_order(tmp_path, fake_fsdd):
    write_fsdd(tmp_path, fake_fsdd)
    data = load_fsdd(root=tmp_path)
    assert data.sample_rate == 8000 and all(w.dtype == torch.float32 and w.ndim == 1 for w in data.waves)
    assert data.digit.dtype == torch.int64 and data.take.dtype == torch.int64
    assert (data.digit[0].item(), data.speaker[0], data.take[0].item()) == (0, "ann", 0)
    assert len(data.waves[3]) == 230  # take 3 of the fake set has 230 samples


def test_fsdd_subset_by_mask_or_indices(tmp_path, fake_fsdd):
    write_fsdd(tmp_path, fake_fsdd)
    data = load_fsdd(root=tmp_path)
    bob = data.subset([s == "bob" for s in data.speaker])
    assert len(bob) == 20 and set(bob.speaker) == {"bob"}
    picked = data.subset(torch.tensor([2, 0]))
    assert picked.take.tolist() == [2, 0] and picked.waves[1] is data.waves[0]


def test_fsdd_hash_mismatch_is_named(tmp_path, fake_fsdd):
    write_fsdd(tmp_path, fake_fsdd)
    changed = tmp_path / "fsdd" / "recordings" / "1_bob_7.wav"
    changed.write_bytes(wav_bytes(0, 0))
    with pytest.raises(DataCorrupt, match="1_bob_7.wav"):
        load_fsdd("train", root=tmp_path)


def test_fsdd_download_is_verified_then_moved_into_place(tmp_path, fake_fsdd, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", fake_download(fake_fsdd, "free-spoken-digit-dataset-1.0.10"))
    assert len(load_fsdd(root=tmp_path)) == 40
    assert len(list((tmp_path / "fsdd" / "recordings").iterdir())) == 40
    assert [p.name for p in tmp_path.iterdir()] == ["fsdd"]


def test_fsdd_download_not_matching_manifest_is_not_moved(tmp_path, fake_fsdd, monkeypatch):
    bad = dict(fake_fsdd, **{"recordings/0_ann_0.wav": wav_bytes(1, 1)})
    monkeypatch.setattr(_fetch, "download_url", fake_download(bad, "free-spoken-digit-dataset-1.0.10"))
    with pytest.raises(DataUnavailable, match="0_ann_0.wav"):
        load_fsdd(root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_fsdd_offline_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_fetch, "download_url", offline)
    with pytest.raises(DataUnavailable, match="FSDD") as err:
        load_fsdd(root=tmp_path)
    assert_one_clear_message(err.value, "fsdd", tmp_path / "fsdd" / "recordings")


def test_errors_survive_pickling():
    err = pickle.loads(pickle.dumps(DataCorrupt("cifar10", Path("/x/test_batch"), "truncated")))
    assert isinstance(err, DataCorrupt) and "/x/test_batch" in str(err)


# ---------------------------------------------------------------- command line


def test_cli_status_lists_every_dataset(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in ("batches.meta", "test_batch", "data_batch_1"):
        (folder / name).touch()  # status looks for files, it does not read them
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "partial: test + 1 of 5 train batches" in out and str(tmp_path / "MNIST" / "raw") in out
    for name in ("mnist", "cifar10", "fsdd", "digits"):
        assert name in out


def test_cli_fetch_offline_exits_1_with_the_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_fetch, "download_url", offline)
    assert main(["fetch", "cifar10", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "python -m course_lib.data fetch cifar10" in err and "COURSE_DATA" in err and "Traceback" not in err


# ---------------------------------------------------------------- the real shared copy (skipped when absent)


def real(*parts: str):
    return pytest.mark.skipif(not REAL.joinpath(*parts).exists(), reason=f"no real data at {REAL.joinpath(*parts)}")


@real("MNIST", "raw", "train-images-idx3-ubyte")
def test_real_mnist():
    train, test = load_mnist(train=True, root=REAL), load_mnist(train=False, root=REAL)
    assert (len(train), len(test)) == (60_000, 10_000)
    assert train.y[:5].tolist() == [5, 0, 4, 1, 9] and test.y[:5].tolist() == [7, 2, 1, 0, 4]


@real("cifar-10-batches-py", "test_batch")
def test_real_cifar10_test():
    data = load_cifar10(train=False, root=REAL)
    assert len(data) == 10_000 and data.y[0] == 3 and data.classes[3] == "cat"
    assert len(load_cifar10(train=True, n=10_000, root=REAL)) == 10_000


@real("cifar-10-batches-py", "data_batch_1")
def test_real_read_only_copy_is_never_written(monkeypatch):
    if writable(REAL) or (REAL / "cifar-10-batches-py" / "data_batch_2").exists():
        pytest.skip("only for a read-only copy without data_batch_2")
    monkeypatch.setattr(_fetch, "download_url", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(DataUnavailable, match="read-only"):
        load_cifar10(train=True, n=10_001, root=REAL)


@real("fsdd", "recordings")
def test_real_fsdd():
    data = load_fsdd("all", root=REAL)
    assert len(data) == 3000 and data.sample_rate == 8000 and len(set(data.speaker)) == 6
    assert int((data.take < 5).sum()) == 300 and int((data.take >= 5).sum()) == 2700
    assert len(load_fsdd("test", root=REAL)) == 300
