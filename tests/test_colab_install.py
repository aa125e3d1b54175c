"""The Colab path end to end: publish the course to a local git repository, stamp it with that repository's
``git+file://`` address, and run notebook 00 the way a Colab user does.

The stand-in for Colab is a fresh virtual environment that sees every package of the running interpreter (Colab
ships torch, torchvision, numpy, matplotlib, ipywidgets, ... preinstalled) except ``course_lib`` itself, and that
imports a stand-in ``google.colab`` at start-up, as Colab's kernel does. The notebook's own install cell (``%pip
install "course_lib @ git+file://...@TAG"``) must install the library; the test then checks that the notebook ran
top to bottom on that fresh install, not on the development checkout.

Nothing here uses the network: pip runs with no index, no find-links, no config file and no build isolation (the
environment variables below), so the git address is its only source and every dependency must already be installed,
as on Colab. About 15 s on 2 CPU cores.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sysconfig
import threading
import venv
from pathlib import Path

import pytest

from course_lib import checkpoints, release

COURSE = Path(__file__).resolve().parents[1]
NOTEBOOK = "00_learning_paradigms.ipynb"
REF = "v0.0-colab-test"
HIDDEN = ("course_lib", "__editable__")  # the development install, which Colab does not have
GIT = ["git", "-c", "user.name=course test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false",
       "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"]
# the last cell prints where course_lib came from, and which python ran the kernel
REPORT_CELL = 'import json, sys\n\nimport course_lib\n\nprint(json.dumps([course_lib.__file__, sys.executable]))'

# executes a notebook with the "colab" kernel, in the fresh environment's own nbclient
RUNNER = """
import sys
import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="colab", resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(notebook, sys.argv[1])
"""


def _run(*command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _course_files() -> list[str]:
    """The course as the working tree has it now (committed or not), without what git ignores."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: pip installs the course from a git address")
    listed = subprocess.run(["git", "-C", str(COURSE), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip(f"{COURSE} is not a git checkout: {listed.stderr.strip()}")
    return [name for name in listed.stdout.split("\0") if name and (COURSE / name).is_file()]


def _publish(origin: Path, weights: dict | None = None) -> str:
    """A git repository holding the current course, stamped with its own address (and ``weights``, the release's
    weights archives) and tagged: the stand-in for the course's GitHub repository after ``release stamp``. Returns
    its address."""
    for name in _course_files():
        (origin / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(COURSE / name, origin / name)
    address = f"file://{origin}"
    _run(*GIT, "init", "-q", origin)
    _run(*GIT, "-C", origin, "add", "-A")
    _run(*GIT, "-C", origin, "commit", "-q", "-m", "the course as it is")
    release.stamp(address, REF, origin, weights=weights)
    _run(*GIT, "-C", origin, "commit", "-q", "-am", f"stamp {REF}")
    _run(*GIT, "-C", origin, "tag", REF)
    return release.git_url(address)


def _site_packages(prefix: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)}))


def _colab_python(root: Path) -> Path:
    """A fresh virtual environment with what Colab preinstalls (the running interpreter's packages but
    course_lib) and a stand-in ``google.colab`` imported at start-up; returns its python."""
    env = root / "colab-venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env)
    preinstalled = root / "preinstalled"
    preinstalled.mkdir()
    for source in {Path(sysconfig.get_path("purelib")), Path(sysconfig.get_path("platlib"))}:
        for entry in source.iterdir():
            if not entry.name.startswith(HIDDEN) and not (preinstalled / entry.name).exists():
                (preinstalled / entry.name).symlink_to(entry)
    standin = root / "standin" / "google" / "colab"  # no google/__init__.py: google stays a namespace package
    standin.mkdir(parents=True)
    (standin / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab module."""\n')
    site = _site_packages(env)
    # .pth files run in name order: first the preinstalled packages (their own .pth files included), then Colab's
    # module, imported the way Colab's kernel has it imported before the first cell runs
    (site / "a_preinstalled.pth").write_text(f"import site; site.addsitedir({str(preinstalled)!r})\n")
    (site / "b_google_colab.pth").write_text(
        f"import sys; sys.path.append({str(root / 'standin')!r}); import google.colab\n")
    return env / "bin" / "python"


def _kernel(root: Path, python: Path) -> Path:
    """A kernelspec "colab" that runs that python, so that no kernelspec of the machine is picked by mistake."""
    spec = root / "jupyter" / "kernels" / "colab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab stand-in", "language": "python"}))
    return root / "jupyter"


def _environment(root: Path, jupyter: Path, **course: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "COURSE_"))
           and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH")}
    return env | {
        "COURSE_PROFILE": "ci", "COURSE_SEED": "0",
        "COURSE_DATA": str(root / "data"),  # empty: notebook 00 needs no download (scikit-learn bundles its digits)
        "JUPYTER_PATH": str(jupyter), "MPLBACKEND": "agg",
        # pip: no index, no find-links, no config file of the machine (the git address is the only source); build
        # with the preinstalled setuptools ("0" turns isolation off); leave the user's cache alone
        "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CACHE_DIR": str(root / "pip-cache"),
        "XDG_CACHE_HOME": str(root / "user-cache")} | course


def _notebook_for_colab(origin: Path, content: Path, name: str = NOTEBOOK) -> Path:
    """A notebook as Colab opens it: the stamped file alone in an empty folder, plus a last cell that reports."""
    notebook = json.loads((origin / "notebooks" / name).read_text())
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                              "source": REPORT_CELL.splitlines(keepends=True)})
    content.mkdir()
    path = content / name
    path.write_text(json.dumps(notebook))
    return path


def _printed(cell: dict) -> str:
    texts = [out["text"] for out in cell["outputs"] if out["output_type"] == "stream"]
    return "".join("".join(text) if isinstance(text, list) else text for text in texts)  # nbformat splits lines


def test_notebook_00_installs_the_stamped_release_and_runs_on_a_fresh_colab_like_python(tmp_path):
    for needed in ("nbclient", "nbformat", "ipykernel"):
        pytest.importorskip(needed, reason=f"{needed} runs the notebook (pip install -e '.[dev]' brings it)")
    address = _publish(tmp_path / "origin")
    python = _colab_python(tmp_path)
    env = _environment(tmp_path, _kernel(tmp_path, python))
    found = "import importlib.util; print(importlib.util.find_spec('course_lib'))"
    before = _run(python, "-c", found, env=env, cwd=tmp_path).stdout.strip()
    assert before == "None", f"course_lib is importable before the install cell: {before}"

    notebook = _notebook_for_colab(tmp_path / "origin", tmp_path / "content")
    install = "".join(json.loads(notebook.read_text())["cells"][1]["source"])
    assert f'%pip install -q "course_lib @ git+{address}@{REF}"' in install
    _run(python, "-c", RUNNER, notebook, notebook.parent, env=env, cwd=notebook.parent, timeout=600)

    imported_from, kernel_python = json.loads(_printed(json.loads(notebook.read_text())["cells"][-1]))
    imported_from = Path(imported_from)
    assert imported_from.is_relative_to(_site_packages(tmp_path / "colab-venv")), imported_from
    assert not imported_from.is_relative_to(COURSE), imported_from
    assert kernel_python == str(python)
    recorded = json.loads(next(_site_packages(tmp_path / "colab-venv").glob("course_lib-*.dist-info"))
                          .joinpath("direct_url.json").read_text())
    assert recorded["url"] == address and recorded["vcs_info"]["requested_revision"] == REF
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())  # nothing was downloaded


# --- the shipped weights on Colab: downloaded from the release, verified, loaded -----------------------------------

PRETRAINED_NOTEBOOK = "10_speech_to_image.ipynb"  # the quickest lab notebook with shipped weights (about 15 s)


def _weights_archive(folder: Path, notebook: str) -> tuple[Path, str]:
    """The release's weights archive, cut down to one notebook's runs (the whole set is about 36 MB)."""
    shipped = COURSE / "checkpoints"
    manifest = {k: v for k, v in checkpoints.read_manifest(shipped).items() if v["notebook"] == notebook}
    subset = folder / "subset"
    for entry in manifest.values():
        (subset / entry["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shipped / entry["file"], subset / entry["file"])
    (subset / checkpoints.MANIFEST).write_text(json.dumps(manifest))
    return checkpoints.pack(folder / "served" / "course-weights-lab.tar.gz", folder=subset)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a client that closes early (torchvision probes redirects)
        pass


def test_shipped_weights_download_from_the_release_and_load_in_an_installed_course(tmp_path):
    for needed in ("nbclient", "nbformat", "ipykernel"):
        pytest.importorskip(needed, reason=f"{needed} runs the notebook (pip install -e '.[dev]' brings it)")
    data = os.environ.get("COURSE_DATA")
    if not data or not (Path(data) / "fsdd").is_dir():
        pytest.skip("notebook 10 needs FSDD, MNIST and GRID: point COURSE_DATA at a copy (CI does)")
    archive, digest = _weights_archive(tmp_path, PRETRAINED_NOTEBOOK.removesuffix(".ipynb"))
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(archive.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{archive.name}"
        _publish(tmp_path / "origin", weights={"lab": {"url": url, "sha256": digest}})
        python = _colab_python(tmp_path)
        env = _environment(tmp_path, _kernel(tmp_path, python), COURSE_PROFILE="lab", COURSE_PRETRAINED="1",
                           COURSE_DATA=data)
        notebook = _notebook_for_colab(tmp_path / "origin", tmp_path / "content", PRETRAINED_NOTEBOOK)
        _run(python, "-c", RUNNER, notebook, notebook.parent, env=env, cwd=notebook.parent, timeout=600)
    finally:
        server.shutdown()
    cells = json.loads(notebook.read_text())["cells"]
    printed = "".join(_printed(cell) for cell in cells if cell["cell_type"] == "code")
    assert "loaded 10_speech_to_image/" in printed
    assert "no checkpoint for" not in printed
    imported_from = Path(json.loads(_printed(cells[-1]))[0])
    assert not imported_from.is_relative_to(COURSE), imported_from  # the installed package, not the checkout
    direct = json.loads(next(_site_packages(tmp_path / "colab-venv").glob("course_lib-*.dist-info"))
                        .joinpath("direct_url.json").read_text())
    assert "dir_info" not in direct or not direct["dir_info"].get("editable")  # a plain (non-editable) install
    cache = tmp_path / "user-cache" / "course_lib" / "checkpoints" / "lab"
    assert (cache / checkpoints.MANIFEST).exists()  # downloaded, verified and unpacked into the per-user cache


# --- the demos with Colab's ipywidgets 7 (runs only where ipywidgets 7 is installed: see the README) -----------

def _upload_as_ipywidgets_7_browser_does(upload, name: str, data: bytes) -> None:
    """ipywidgets 7's FileUpload.value is read-only: the browser sends metadata and data, then bumps a counter."""
    upload.metadata = [{"name": name, "type": "image/png", "size": len(data), "lastModified": 0}]
    upload.data = [data]
    upload._counter += 1


@pytest.mark.skipif(not __import__("ipywidgets").__version__.startswith("7."),
                    reason="checks Colab's ipywidgets 7; this environment has ipywidgets 8 (tests/test_widgets.py)")
def test_the_demos_build_and_redraw_with_colabs_ipywidgets_7():
    import io

    import numpy as np
    import torch
    from PIL import Image

    from course_lib import widgets

    images = torch.rand(6, 1, 4, 4)
    explorer = widgets.latent_explorer(lambda x: x.flatten(1), lambda c: c.view(-1, 1, 4, 4), images, n_directions=2)
    assert np.allclose(explorer.update(first=2, second=2, mix=0.5), images[2, 0].numpy(), atol=1e-6)
    assert explorer.update(first=99).shape == (4, 4) and explorer.values()["first"] == 5  # clipped

    colour = widgets.colorization_demo(lambda rgb, t: rgb * t, {"a": torch.rand(1, 3, 8, 8)}, temperature=0.5)
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(buffer, "png")
    _upload_as_ipywidgets_7_browser_does(colour.controls["upload"], "mine.png", buffer.getvalue())
    assert colour.values()["image"] == "upload: mine.png"
    _upload_as_ipywidgets_7_browser_does(colour.controls["upload"], "bad.png", b"not a picture")
    assert "bad.png" in colour.widget.children[-1].value and colour.values()["image"] == "upload: mine.png"

    wav = b"RIFF" + bytes(40)
    digit = widgets.say_a_digit(lambda c, r: np.eye(4) * (r == "b"), torch.zeros(2, 1, 8, 8), ["a", "b"],
                                sounds={"a": wav, "b": wav})
    assert digit.update(recording="b", canvas=1).shape == (8, 8, 3)
    assert digit.widget.children[1].children[-1].value == wav  # the audio player holds the recording
