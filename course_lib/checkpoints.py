"""The shipped weights: a folder of checkpoints, its manifest, and the archive a release publishes.

    python -m course_lib.checkpoints build [NN ...]   # run the notebooks (lab, seed 0) and keep what they train
    python -m course_lib.checkpoints pack             # one archive of the lab weights, and its SHA-256
    python -m course_lib.checkpoints fetch            # download and verify a release's archive (an installed course)
    python -m course_lib.checkpoints list             # what is shipped

A run is named "<notebook>/<desc>"; its weights go to ``<root>/<notebook>/<desc>.pt`` and ``manifest.json`` says how
they were made: the recipe's fingerprint (architecture and sizes, steps, optimiser, loss, data and augmentation
settings, seed: ``fingerprint``) and its parts, profile, seconds, SHA-256, library version, and the training history
(so curves still draw). Loading checks the hash, the recipe and that the weights fit the model; anything else is one
``StaleCheckpoint`` sentence that names the build command. Where the weights come from in a notebook is one visible
step of the lesson code, ``course_lib.pretrained.load_or_train``; nothing below it knows of this module.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import sys
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

import course_lib
from course_lib import config
from course_lib.data import _fetch
from course_lib.data._fetch import sha256 as _sha256  # the datasets' check, for files of weights too

MANIFEST = "manifest.json"
MAX_BYTES = 2 * 1024 * 1024  # one checkpoint
MAX_TOTAL_BYTES = 45e6  # the set: what a rebuild of every notebook adds to the repository's history
BUILD_PROFILE, BUILD_SEED = "lab", 0
ARCHIVE = "course-weights-{profile}.tar.gz"  # the release asset's file name


class StaleCheckpoint(RuntimeError):
    """A shipped checkpoint does not fit the code (or its file is damaged): rebuild it."""


def build_command(notebook: str) -> str:
    return f"python -m course_lib.checkpoints build {notebook[:2]}"


def slug(desc: str) -> str:
    """A file name for a run's ``desc``: "AVC, concatenation" -> "avc-concatenation"."""
    return re.sub(r"[^a-z0-9]+", "-", desc.lower()).strip("-") or "run"


def key(run: str) -> str:
    """"05_transformations/AVC, concatenation" -> "05_transformations/avc-concatenation"."""
    notebook, _, desc = run.partition("/")
    if not desc:
        raise ValueError(f"a run is named '<notebook>/<desc>', got {run!r}")
    return f"{notebook}/{slug(desc)}"


# --- the recipe --------------------------------------------------------------------------------------------------

def canonical(value: Any) -> Any:
    """A recipe ingredient as plain JSON: dataclasses by their fields, functions by their qualified name, networks by
    their architecture (layers and their sizes), tensors by shape and dtype, numbers rounded to 10 significant
    digits. Devices are left out: weights trained on a GPU fit a CPU."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__qualname__,
                **{f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if f.metadata.get("recipe", True)}}  # not sizes that only judge (``config.EVALUATION_ONLY``)
    if isinstance(value, nn.Module):
        return architecture(value)
    if isinstance(value, torch.Tensor):  # not its values: computed data differs in the last bits between devices
        return {"shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, torch.device):
        return None
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if hasattr(value, "func") and hasattr(value, "keywords"):  # functools.partial
        return {"partial": canonical(value.func), "args": canonical(value.args), "keywords": canonical(value.keywords)}
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
    return repr(value)


def architecture(model: nn.Module) -> str:
    """A network's architecture and sizes as a hash: every submodule's name and class, every weight's name and shape.
    Not its ``repr``, whose wording may change between torch versions (a student's Colab torch is not ours)."""
    layers = [(name, type(module).__name__) for name, module in model.named_modules()]
    shapes = [(name, list(value.shape)) for name, value in model.state_dict().items()]
    return hashlib.sha256(json.dumps([layers, shapes]).encode()).hexdigest()[:16]


def recipe_of(model: nn.Module, recipe: Mapping[str, Any]) -> dict[str, Any]:
    """Everything that makes a run's weights, as JSON: the architecture (its hash) and the lesson's ``recipe``."""
    return {"architecture": architecture(model), **canonical(dict(recipe))}


def fingerprint(recipe: Mapping[str, Any]) -> str:
    """The SHA-256 (16 hex digits) of a canonical recipe (``recipe_of``)."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def _shown(value: Any) -> str:
    return str(value) if isinstance(value, (int, float)) or value is None else repr(str(value)[:60])


def _what_changed(then: Mapping, now: Mapping) -> str:
    """The recipe's parts that differ, in words: "steps 400 -> 500; loss ..." (at most three)."""
    changed = []
    for part in sorted(set(then) | set(now)):
        old, new = then.get(part), now.get(part)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changed += [f"{part}.{f} {_shown(old.get(f))} -> {_shown(new.get(f))}"
                        for f in sorted(set(old) | set(new)) if old.get(f) != new.get(f)]
        else:
            changed.append(f"{part} {_shown(old)} -> {_shown(new)}")
    return "; ".join(changed[:3]) + (f"; and {len(changed) - 3} more" if len(changed) > 3 else "")


# --- the folder and its manifest ---------------------------------------------------------------------------------

def root(profile: str | None = None) -> Path:
    return config.checkpoints_root(profile)


def read_manifest(folder: Path | None = None) -> dict[str, dict]:
    path = (folder or root()) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def _write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _compact(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.half() if tensor.is_floating_point() else tensor


def save(run: str, model: nn.Module, history, recipe: Mapping[str, Any], folder: Path | None = None,
         build: str = "") -> Path:
    """Keep a trained model's weights, its recipe and its history. ``build`` (the build's id) refuses a second run
    of the same name in one build: each run of a notebook needs its own desc."""
    folder = folder or root()
    name, manifest = key(run), read_manifest(folder)
    if build and manifest.get(name, {}).get("build") == build:
        raise ValueError(f"two training runs are named {run!r}: give each its own desc")
    path = folder / f"{name}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    # float16 halves the files (every checkpoint under 2 MB, the set under 45 MB); load_state_dict casts back
    torch.save({k: _compact(v.detach().cpu()) for k, v in model.state_dict().items()}, path)
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path} is {path.stat().st_size / 1e6:.1f} MB, over the 2 MB a checkpoint may take")
    parts = recipe_of(model, recipe)
    manifest[name] = {"notebook": name.split("/")[0], "model": run.partition("/")[2], "file": f"{name}.pt",
                      "profile": config.profile_name(), "seed": config.seed(), "build": build,
                      "fingerprint": fingerprint(parts), "recipe": parts, "sha256": _sha256(path),
                      "seconds": round(history.seconds[-1], 1) if history.seconds else 0.0,
                      "library": course_lib.__version__, "history": dataclasses.asdict(history)}
    _write_manifest(folder, manifest)
    return path


def load(run: str, model: nn.Module, recipe: Mapping[str, Any], folder: Path | None = None) -> dict | None:
    """Load a run's shipped weights into ``model`` after checking its file and recipe; the manifest entry, or None
    when there is no such checkpoint."""
    folder = folder or root()
    name = key(run)
    entry = read_manifest(folder).get(name)
    if entry is None:
        return None
    notebook, path = name.split("/")[0], folder / entry["file"]
    rebuild = f"run `{build_command(notebook)}`, or unset COURSE_PRETRAINED to train instead"
    if (entry["profile"], entry["seed"]) != (config.profile_name(), config.seed()):
        raise StaleCheckpoint(f"the shipped weights of {run!r} were trained in the {entry['profile']} profile with "
                              f"seed {entry['seed']}; this run is {config.profile_name()}, seed {config.seed()}: set "
                              f"COURSE_PROFILE={entry['profile']} COURSE_SEED={entry['seed']}, or unset "
                              "COURSE_PRETRAINED to train instead")
    if not path.exists() or _sha256(path) != entry["sha256"]:
        raise StaleCheckpoint(f"the checkpoint {path} is missing or damaged (its SHA-256 is not the manifest's): "
                              f"{rebuild}")
    now = recipe_of(model, recipe)
    if entry.get("fingerprint") != fingerprint(now):
        raise StaleCheckpoint(f"the checkpoint for {run!r} was made by another recipe "
                              f"({_what_changed(entry.get('recipe', {}), now)}): {rebuild}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise StaleCheckpoint(f"the checkpoint for {run!r} ({path.name}) no longer fits the model ({first}): "
                              f"{rebuild}") from None
    return entry


# --- the archive a release publishes ------------------------------------------------------------------------------

def pack(out: Path | None = None, profile: str = BUILD_PROFILE, folder: Path | None = None) -> tuple[Path, str]:
    """One .tar.gz of a profile's weights (manifest and every listed file, nothing else); returns it and its
    SHA-256. Files are added in a fixed order with fixed times, so the same weights give the same archive."""
    folder = folder or root(profile)
    manifest = read_manifest(folder)
    if not manifest:
        raise FileNotFoundError(f"no {MANIFEST} in {folder}: build the weights first "
                                "(python -m course_lib.checkpoints build)")
    out = out or Path.cwd() / ARCHIVE.format(profile=profile)
    out.parent.mkdir(parents=True, exist_ok=True)

    def fixed(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    with open(out, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w") as tar:
            for name in [MANIFEST, *sorted(entry["file"] for entry in manifest.values())]:
                tar.add(folder / name, arcname=name, filter=fixed)
    return out, _sha256(out)


def fetch(profile: str = BUILD_PROFILE, target: Path | None = None) -> Path:
    """Download the release's weights archive of ``profile``, check its SHA-256 and unpack it into ``target`` (the
    per-user cache): the same guarded download the datasets use, so offline or corrupt gives the same one clear
    message (``DataUnavailable``). Returns the folder; nothing is downloaded when it already holds a manifest."""
    from course_lib.release import weights_asset

    target = target or root(profile)
    if (target / MANIFEST).exists():
        return target
    name, command = f"the course's {profile} weights", f"python -m course_lib.checkpoints fetch --profile {profile}"
    asset = weights_asset(profile)
    if asset is None:
        raise _fetch.DataUnavailable(name, target, "this copy of the course names no release that publishes its "
                                     "weights (an instructor runs `python -m course_lib.release stamp`)", command)
    archive = target.parent / ARCHIVE.format(profile=profile)
    _fetch.download_file(name, asset["url"], asset["sha256"], archive, target.parent,
                         "the shipped weights are not in the per-user cache", command)
    try:
        with tarfile.open(archive) as tar:
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.10.12 / 3.11.4
            tar.extractall(target, **safe)
    except (tarfile.TarError, OSError) as err:
        raise _fetch.DataCorrupt(name, archive, f"{type(err).__name__}: {err}", command) from None
    finally:
        archive.unlink(missing_ok=True)
    return target


SHIPPED_PROFILES = ("lab", "full")  # the profiles whose weights a release publishes (ci trains in seconds)


def folder_for_loading(profile: str | None = None) -> Path | None:
    """The weights of ``profile`` to load from: the checkout's (or COURSE_CHECKPOINTS), else the per-user cache,
    downloaded from the release on first use; None for a profile that ships no weights."""
    profile = profile or config.profile_name()
    folder = root(profile)
    if (folder / MANIFEST).exists() or os.environ.get("COURSE_CHECKPOINTS"):
        return folder
    return fetch(profile, folder) if profile in SHIPPED_PROFILES else None


# --- the build command ------------------------------------------------------------------------------------------

def build(numbers: list[str] | None = None, timeout: int = 900) -> list[str]:
    """Run the notebooks (lab, seed 0) with saving on; return the notebooks built."""
    import subprocess
    import tempfile

    notebooks = sorted((config.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in notebooks if not numbers or p.name[:2] in {n.zfill(2) for n in numbers}]
    build_id = time.strftime("%Y%m%dT%H%M%S")
    env = {**os.environ, "COURSE_PROFILE": BUILD_PROFILE, "COURSE_SEED": str(BUILD_SEED),
           "COURSE_CHECKPOINT_BUILD": build_id, "COURSE_PRETRAINED": "0"}
    folder = root(BUILD_PROFILE)
    manifest = read_manifest(folder)
    for path in chosen:  # a rebuilt notebook replaces all of its old runs
        for name in [k for k, v in manifest.items() if v["notebook"] == path.stem]:
            (folder / manifest.pop(name)["file"]).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    _write_manifest(folder, manifest)
    with tempfile.TemporaryDirectory() as scratch:
        for path in chosen:
            print(f"building {path.stem} ...", flush=True)
            subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                            f"--output-dir={scratch}",
                            f"--ExecutePreprocessor.timeout={timeout}", str(path)], env=env, check=True)
    return [p.stem for p in chosen]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.checkpoints", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("build", help="train what the notebooks train (lab, seed 0) and keep the weights")
    make.add_argument("numbers", nargs="*", help="notebook numbers, e.g. 05 07 (default: all)")
    packing = sub.add_parser("pack", help="one archive of the weights, to publish as a release asset")
    packing.add_argument("--out", type=Path, help=f"archive to write (default: ./{ARCHIVE.format(profile='lab')})")
    packing.add_argument("--profile", default=BUILD_PROFILE, choices=("lab", "full"))
    getting = sub.add_parser("fetch", help="download and verify the release's weights into the per-user cache")
    getting.add_argument("--profile", default=BUILD_PROFILE, choices=("lab", "full"))
    sub.add_parser("list", help="what is shipped")
    args = parser.parse_args(argv)
    if args.command == "pack":
        out, digest = pack(args.out, args.profile)
        print(f"{out} ({out.stat().st_size / 1e6:.1f} MB)\nsha256 {digest}")
        return 0
    if args.command == "fetch":
        from course_lib.data import DataUnavailable

        try:
            print(f"weights ({args.profile}) in {fetch(args.profile)}")
        except DataUnavailable as err:  # the message says it all
            print(err)
            return 1
        return 0
    if args.command == "build":
        build(args.numbers)
    entries = read_manifest()
    total = sum((root() / e["file"]).stat().st_size for e in entries.values() if (root() / e["file"]).exists())
    for name, e in sorted(entries.items()):
        print(f"{name}: {e['profile']}, seed {e['seed']}, recipe {e.get('fingerprint', '?')}, {e['seconds']:.0f} s")
    print(f"{len(entries)} checkpoints, {total / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
