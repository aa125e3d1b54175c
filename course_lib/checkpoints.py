"""Pretrained weights for every training run a notebook does through ``train.fit`` (and for the linear probes
``evaluate.probe_layers`` fits when given a ``desc``), so a section shows at once.

    python -m course_lib.checkpoints build [NN ...]   # run the notebooks (lab, seed 0) and keep what they train
    COURSE_PRETRAINED=1 jupyter lab                    # every ``train.fit`` loads its weights instead of training

A run is named by its notebook and its ``desc`` (each ``train.fit`` call of a notebook has its own); its weights go
to ``checkpoints/<notebook>/<desc>.pt`` and ``checkpoints/manifest.json`` says how they were made (notebook, model,
profile, seed, steps, seconds, SHA-256, library version) and keeps the training history, so curves still draw.
Loading checks the hash and that the weights fit the model; anything else is one clear message that names the
build command.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

import course_lib
from course_lib import config

MANIFEST = "manifest.json"
MAX_BYTES = 2 * 1024 * 1024  # one checkpoint
BUILD_PROFILE, BUILD_SEED = "lab", 0


class StaleCheckpoint(RuntimeError):
    """A shipped checkpoint does not fit the code (or its file is damaged): rebuild it."""


def root() -> Path:
    return Path(os.environ.get("COURSE_CHECKPOINTS", config.REPO_ROOT / "checkpoints")).expanduser()


def mode() -> str:
    """"load" (COURSE_PRETRAINED=1), "build" (COURSE_CHECKPOINT_BUILD=1, set by the build command) or "off"."""
    if os.environ.get("COURSE_CHECKPOINT_BUILD", "") == "1":
        return "build"
    return "load" if os.environ.get("COURSE_PRETRAINED", "") == "1" else "off"


def slug(desc: str) -> str:
    """A file name for a run's ``desc``: "AVC, concatenation" -> "avc-concatenation"."""
    return re.sub(r"[^a-z0-9]+", "-", desc.lower()).strip("-") or "run"


def build_command(notebook: str) -> str:
    return f"python -m course_lib.checkpoints build {notebook[:2]}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(folder: Path | None = None) -> dict[str, dict]:
    path = (folder or root()) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def _key(notebook: str, desc: str) -> str:
    return f"{notebook}/{slug(desc)}"


def _compact(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.half() if tensor.is_floating_point() else tensor


def save(notebook: str, desc: str, model: nn.Module, history, steps: int, folder: Path | None = None) -> Path:
    """Keep a trained model's weights and how they were made (the build command calls this through ``train.fit``)."""
    folder = folder or root()
    key = _key(notebook, desc)
    manifest = read_manifest(folder)
    path = folder / f"{key}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    # float16 halves the files (every checkpoint under 2 MB, the set under 40 MB); load_state_dict casts back
    torch.save({name: _compact(value.detach().cpu()) for name, value in model.state_dict().items()}, path)
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path} is {path.stat().st_size / 1e6:.1f} MB, over the 2 MB a checkpoint may take")
    manifest[key] = {"notebook": notebook, "model": desc, "profile": config.profile_name(), "seed": config.seed(),
                     "steps": steps, "seconds": round(history.seconds[-1], 1) if history.seconds else 0.0,
                     "sha256": _sha256(path), "library": course_lib.__version__, "file": f"{key}.pt",
                     "history": asdict(history)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return path


def load(notebook: str, desc: str, model: nn.Module, folder: Path | None = None) -> dict | None:
    """Load a run's shipped weights into ``model``; the manifest entry, or None when there is no such checkpoint."""
    folder = folder or root()
    entry = read_manifest(folder).get(_key(notebook, desc))
    if entry is None:
        return None
    path = folder / entry["file"]
    if not path.exists() or _sha256(path) != entry["sha256"]:
        raise StaleCheckpoint(f"the checkpoint {path} is missing or damaged (its SHA-256 is not the manifest's): "
                              f"run `{build_command(notebook)}`, or unset COURSE_PRETRAINED to train instead")
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise StaleCheckpoint(f"the checkpoint for {desc!r} ({path.name}, library {entry['library']}) no longer fits "
                              f"the model ({first}): run `{build_command(notebook)}`, or unset COURSE_PRETRAINED "
                              "to train instead") from None
    return entry


# --- the hooks train.fit calls ----------------------------------------------------------------------------------

_session: dict = {"notebook": None, "saved": set(), "batch": None}  # set by config.setup at run time, never on import


def activate(notebook: str) -> None:
    """Name the notebook whose runs are saved or loaded (``config.setup`` calls this)."""
    _session["notebook"], _session["saved"] = notebook, set()


def active_notebook() -> str | None:
    """The notebook ``config.setup`` named in this kernel (None before the setup cell)."""
    return _session["notebook"]


def restore(model: nn.Module, desc: str, steps: int):
    """With COURSE_PRETRAINED=1: load the run's weights into ``model`` and return its recorded ``History``
    (printing one line on what was loaded); None when checkpoints are off or this run has none."""
    from course_lib.train import History

    notebook = _session["notebook"]
    if mode() != "load" or notebook is None:
        return None
    entry = load(notebook, desc, model)
    if entry is None:
        print(f"no checkpoint for {desc!r}: training it (`{build_command(notebook)}` would ship one)")
        return None
    if entry["profile"] != config.profile_name() or entry["steps"] != steps:
        raise StaleCheckpoint(f"the checkpoint for {desc!r} was trained in {entry['profile']} for {entry['steps']} "
                              f"steps; this run asks for {config.profile_name()}, {steps} steps: run "
                              f"`{build_command(notebook)}`, or unset COURSE_PRETRAINED to train instead")
    model.eval()
    if _session.get("batch") is not None:  # inside ``one_line_for``: summed up there
        _session["batch"].append(entry)
    else:
        print(f"loaded {entry['file']} ({entry['profile']}, seed {entry['seed']}, {entry['steps']} steps, "
              f"{entry['seconds']:.0f} s of training, library {entry['library']}) instead of training {desc!r}")
    return History(**entry["history"])


@contextmanager
def one_line_for(what: str):
    """Many runs of one kind (a fine-tuning curve: a run per label budget and draw) load with one printed line."""
    _session["batch"] = []
    try:
        yield
    finally:
        loaded, _session["batch"] = _session["batch"], None
        if loaded:
            first = loaded[0]
            print(f"loaded {len(loaded)} checkpoints of {what} ({first['profile']}, seed {first['seed']}, "
                  f"{sum(e['seconds'] for e in loaded):.0f} s of training in all, library {first['library']}) "
                  "instead of training them")


def keep(model: nn.Module, desc: str, history, steps: int) -> None:
    """In a build (COURSE_CHECKPOINT_BUILD=1): save the trained weights of this run."""
    notebook = _session["notebook"]
    if mode() != "build" or notebook is None:
        return
    key = _key(notebook, desc)
    if key in _session["saved"]:
        raise ValueError(f"two training runs of {notebook} are named {desc!r}: give each train.fit its own desc")
    _session["saved"].add(key)
    save(notebook, desc, model, history, steps)


def check_recorded(session, metrics: dict[str, float], capped=()) -> Path:
    """The headline numbers of a run that loads (or builds) checkpoints: written to results/<profile>-pretrained/
    (or -build/), never over the committed results/<profile>/, and compared with them. With loaded weights, numbers
    further apart than the spread of label draws mean the shipped weights are not what the notebook trains."""
    from course_lib import checks, results

    profile, how = session.profile.name, "pretrained" if mode() == "load" else "build"
    path = results.record(session.notebook, metrics, profile=f"{profile}-{how}", seed=session.seed,
                          seconds=session.seconds, capped=capped)
    committed = results.load(profile).get(session.notebook)
    if committed is None or committed["seed"] != session.seed:
        print(f"no committed {profile} results of {session.notebook} with seed {session.seed} to compare with")
        return path
    differ = results.disagreements(committed["metrics"], json.loads(path.read_text())["metrics"])
    if differ and how == "build":  # the code changed the numbers: re-run the notebook so its outputs agree
        print(f"this build's numbers differ from results/{profile}/{session.notebook}.json: " + "; ".join(differ))
    elif differ:
        raise checks.ClaimFailed(f"with the shipped weights, {len(differ)} numbers differ from results/{profile}/"
                                 f"{session.notebook}.json by more than the spread of label draws ("
                                 + "; ".join(differ) + f"): run `{build_command(session.notebook)}`")
    print(f"the {len(metrics)} numbers match the committed results/{profile}/{session.notebook}.json within the "
          "spread of label draws")
    return path


# --- the build command ------------------------------------------------------------------------------------------

def build(numbers: list[str] | None = None, timeout: int = 900) -> list[str]:
    """Run the notebooks (lab, seed 0) with saving on; return the notebooks built."""
    import subprocess
    import tempfile

    notebooks = sorted((config.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in notebooks if not numbers or p.name[:2] in {n.zfill(2) for n in numbers}]
    env = {**os.environ, "COURSE_PROFILE": BUILD_PROFILE, "COURSE_SEED": str(BUILD_SEED),
           "COURSE_CHECKPOINT_BUILD": "1", "COURSE_PRETRAINED": "0"}
    manifest = read_manifest()
    for path in chosen:  # a rebuilt notebook replaces all of its old runs
        for key in [k for k, v in manifest.items() if v["notebook"] == path.stem]:
            (root() / manifest.pop(key)["file"]).unlink(missing_ok=True)
    root().mkdir(parents=True, exist_ok=True)
    (root() / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    with tempfile.TemporaryDirectory() as scratch:
        for path in chosen:
            print(f"building {path.stem} ...", flush=True)
            subprocess.run(["jupyter", "nbconvert", "--to", "notebook", "--execute", f"--output-dir={scratch}",
                            f"--ExecutePreprocessor.timeout={timeout}", str(path)], env=env, check=True)
    return [p.stem for p in chosen]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_lib.checkpoints", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("build", help="train what the notebooks train (lab, seed 0) and keep the weights")
    make.add_argument("numbers", nargs="*", help="notebook numbers, e.g. 05 07 (default: all)")
    sub.add_parser("list", help="what is shipped")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.numbers)
    entries = read_manifest()
    total = sum((root() / e["file"]).stat().st_size for e in entries.values() if (root() / e["file"]).exists())
    for key, e in sorted(entries.items()):
        print(f"{key}: {e['profile']}, seed {e['seed']}, {e['steps']} steps, {e['seconds']:.0f} s")
    print(f"{len(entries)} checkpoints, {total / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
