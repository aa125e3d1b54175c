import dataclasses
import functools
import http.server
import json
import threading

import pytest
import torch
from torch import nn

from course_lib import checkpoints, config, pretrained, release, results, train
from course_lib.data import DataUnavailable


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """An empty checkpoints folder and the lab profile, seed 0; neither loading nor building."""
    monkeypatch.setenv("COURSE_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("COURSE_PROFILE", "lab")
    monkeypatch.setenv("COURSE_SEED", "0")
    monkeypatch.delenv("COURSE_PRETRAINED", raising=False)
    monkeypatch.delenv("COURSE_CHECKPOINT_BUILD", raising=False)
    return tmp_path


def _build(monkeypatch, build="b1"):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", build)
    monkeypatch.delenv("COURSE_PRETRAINED", raising=False)


def _pretrained(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKPOINT_BUILD", raising=False)
    monkeypatch.setenv("COURSE_PRETRAINED", "1")


def _squared_error(m, b):
    return ((m(b[0]) - b[1]) ** 2).mean()


def _absolute_error(m, b):
    return (m(b[0]) - b[1]).abs().mean()


def _run(model, desc="egomotion", steps=5, lr=2e-3, loss=_squared_error, **recipe):
    x = torch.randn(32, 3)
    batches = train.batches(x, x.sum(1, keepdim=True), batch_size=8)
    return pretrained.load_or_train(
        model, f"05_x/{desc}",
        lambda: train.fit(model, batches, loss, steps=steps, lr=lr, progress=False, log_every=1, desc=desc),
        steps=steps, lr=lr, loss=loss, **recipe)


def test_a_build_keeps_the_weights_their_recipe_and_history(shipped, monkeypatch):
    _build(monkeypatch)
    _run(nn.Linear(3, 1))
    entry = checkpoints.read_manifest()["05_x/egomotion"]
    assert (shipped / entry["file"]).exists() and entry["profile"] == "lab" and entry["seed"] == 0
    assert len(entry["sha256"]) == 64 and entry["history"]["step"] == [1, 2, 3, 4, 5]
    assert entry["recipe"]["steps"] == 5 and entry["recipe"]["loss"].endswith("_squared_error")
    assert entry["recipe"]["trainer"]["optimiser"] == "AdamW" and len(entry["fingerprint"]) == 16


def test_pretrained_mode_loads_the_same_weights_and_history_without_training(shipped, monkeypatch, capsys):
    _build(monkeypatch)
    trained = nn.Linear(3, 1)
    history = _run(trained)
    _pretrained(monkeypatch)
    fresh = nn.Linear(3, 1)
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("pretrained mode trained"))
    loaded = _run(fresh)
    assert torch.equal(fresh.weight, trained.weight.half().float())  # stored in half precision
    assert loaded.values == history.values
    assert "loaded 05_x/egomotion.pt" in capsys.readouterr().out


def test_one_build_may_not_name_two_runs_alike_but_a_rebuild_may(shipped, monkeypatch):
    _build(monkeypatch, "b1")
    _run(nn.Linear(3, 1))
    with pytest.raises(ValueError, match="its own desc"):
        _run(nn.Linear(3, 1))
    _build(monkeypatch, "b2")
    _run(nn.Linear(3, 1))


@pytest.mark.parametrize("changed, named", [
    (dict(steps=10), "steps 5 -> 10"),
    (dict(lr=1e-3), "lr 0.002 -> 0.001"),
    (dict(loss=_absolute_error), "_absolute_error"),
    (dict(augment="flip"), "augment"),
    (dict(model=nn.Linear(3, 2)), "architecture"),
], ids=["steps", "learning rate", "loss", "augmentation", "architecture"])
def test_weights_made_by_another_recipe_are_stale_and_the_message_names_the_change(shipped, monkeypatch, changed,
                                                                                   named):
    _build(monkeypatch)
    _run(nn.Linear(3, 1))
    _pretrained(monkeypatch)
    model = changed.pop("model", nn.Linear(3, 1))
    with pytest.raises(checkpoints.StaleCheckpoint, match="checkpoints build 05") as error:
        _run(model, **changed)
    assert named in str(error.value)


def test_a_change_of_the_lessons_sizes_is_seen(shipped, monkeypatch):
    @dataclasses.dataclass(frozen=True)
    class Sizes:
        width: int
        steps: int

    _build(monkeypatch)
    _run(nn.Linear(3, 1), sizes=Sizes(16, 5))
    _pretrained(monkeypatch)
    with pytest.raises(checkpoints.StaleCheckpoint, match="sizes.width 16 -> 32"):
        _run(nn.Linear(3, 1), sizes=Sizes(32, 5))


def test_weights_of_another_seed_or_profile_name_the_knobs(shipped, monkeypatch):
    _build(monkeypatch)
    _run(nn.Linear(3, 1))
    _pretrained(monkeypatch)
    monkeypatch.setenv("COURSE_SEED", "1")
    with pytest.raises(checkpoints.StaleCheckpoint, match="COURSE_SEED=0"):
        _run(nn.Linear(3, 1))


def test_a_damaged_checkpoint_file_is_refused(shipped, monkeypatch):
    _build(monkeypatch)
    _run(nn.Linear(3, 1))
    (shipped / "05_x" / "egomotion.pt").write_bytes(b"not a checkpoint")
    _pretrained(monkeypatch)
    with pytest.raises(checkpoints.StaleCheckpoint, match="damaged"):
        _run(nn.Linear(3, 1))


def test_without_a_checkpoint_pretrained_mode_trains_and_says_so(shipped, monkeypatch, capsys):
    _pretrained(monkeypatch)
    history = _run(nn.Linear(3, 1), desc="never built")
    assert history.stopped_by == "5 steps" and "no checkpoint for '05_x/never built'" in capsys.readouterr().out


def test_a_profile_that_ships_no_weights_trains_and_says_so(shipped, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_CHECKPOINTS")
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.setattr(config, "user_cache", lambda: shipped / "cache")
    _pretrained(monkeypatch)
    history = _run(nn.Linear(3, 1))
    assert history.stopped_by == "5 steps" and "the ci profile ships no weights" in capsys.readouterr().out


def test_checkpoints_are_stored_in_half_precision_and_load_back_as_float32(shipped, monkeypatch):
    _build(monkeypatch)
    trained = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    _run(trained)
    stored = torch.load(shipped / "05_x" / "egomotion.pt", weights_only=True)
    assert stored["0.weight"].dtype == torch.float16 and stored["1.num_batches_tracked"].dtype == torch.int64
    _pretrained(monkeypatch)
    loaded = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    _run(loaded)
    assert loaded[0].weight.dtype == torch.float32
    assert torch.allclose(loaded[0].weight, trained[0].weight, atol=1e-3)


def test_the_after_hook_has_the_last_word_on_the_kept_weights(shipped, monkeypatch):
    _build(monkeypatch)

    def reset_to_zero(model, history):  # e.g. early stopping putting its best weights back
        torch.nn.init.zeros_(model.weight)
        history.values["best_step"] = [3.0]

    x, model = torch.randn(32, 3), nn.Linear(3, 1)
    pretrained.load_or_train(model, "05_x/egomotion", lambda: train.fit(
        model, train.batches(x, x.sum(1, keepdim=True), batch_size=8), _squared_error, steps=5, progress=False,
        after=reset_to_zero))
    stored = torch.load(shipped / "05_x" / "egomotion.pt", weights_only=True)
    assert not stored["weight"].any()
    assert checkpoints.read_manifest()["05_x/egomotion"]["history"]["values"]["best_step"] == [3.0]


def test_many_runs_of_one_kind_load_with_one_line(shipped, monkeypatch, capsys):
    _build(monkeypatch)
    for draw in (1, 2, 3):
        _run(nn.Linear(3, 1), desc=f"fine-tuning, draw {draw}")
    _pretrained(monkeypatch)
    capsys.readouterr()
    x = torch.randn(32, 3)
    with pretrained.Runs("05_x", "fine-tuning", steps=5, lr=2e-3, loss=_squared_error) as runs:
        for draw in (1, 2, 3):
            model = nn.Linear(3, 1)
            runs(model, f"fine-tuning, draw {draw}", lambda: train.fit(  # noqa: B023 (called at once)
                model, train.batches(x, x, batch_size=8), _squared_error, steps=5, progress=False))  # noqa: B023
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loaded 3 checkpoints of fine-tuning")


def test_fitted_probes_are_kept_and_loaded_without_solving_again(shipped, monkeypatch):
    from course_lib import evaluate

    g = torch.Generator().manual_seed(0)
    y = torch.arange(60) % 3
    features = {"conv1": torch.randn(60, 5, generator=g) + y[:, None], "conv2": torch.randn(60, 4, generator=g)}
    kwargs = dict(per_class=5, draws=2, seed=0, desc="probe of x")
    _build(monkeypatch)
    with pretrained.Runs("05_x", "probes", draws=2) as runs:
        built = evaluate.probe_layers(features, y, features, y, features, y, trained=runs, **kwargs)
    _pretrained(monkeypatch)
    def solved(*args, **kwargs):
        raise RuntimeError("probes solved again")

    monkeypatch.setattr(evaluate.LinearProbe, "fit", solved)
    with pretrained.Runs("05_x", "probes", draws=2) as runs:
        loaded = evaluate.probe_layers(features, y, features, y, features, y, trained=runs, **kwargs)
    for layer in features:
        assert abs(float(loaded.test[layer]) - float(built.test[layer])) <= 100 / 60 + 1e-6
    assert checkpoints.key("05_x/probe of x, 15 labels x 2 draws") in checkpoints.read_manifest()
    with pytest.raises(RuntimeError, match="solved again"):  # probes of another budget are not these: solved
        evaluate.probe_layers(features, y, features, y, features, y, trained=pretrained.Runs("05_x", "probes"),
                              **{**kwargs, "per_class": 10})


def test_probes_fitted_at_several_Cs_are_kept_under_their_grid_and_choose_alike_when_loaded(shipped, monkeypatch):
    from course_lib import evaluate

    g = torch.Generator().manual_seed(0)
    y = torch.arange(60) % 3
    features = {"conv1": torch.randn(60, 5, generator=g) + y[:, None], "conv2": torch.randn(60, 4, generator=g)}
    kwargs = dict(per_class=5, draws=2, seed=0, desc="probe of x", Cs=evaluate.PROBE_CS)
    _build(monkeypatch)
    with pretrained.Runs("05_x", "probes", draws=2) as runs:
        built = evaluate.probe_layers(features, y, features, y, features, y, trained=runs, **kwargs)
    assert checkpoints.key("05_x/probe of x, 15 labels x 2 draws, C 0.3 1 3") in checkpoints.read_manifest()
    _pretrained(monkeypatch)
    monkeypatch.setattr(evaluate.LinearProbe, "fit", lambda *a, **k: pytest.fail("probes solved again"))
    with pretrained.Runs("05_x", "probes", draws=2) as runs:
        loaded = evaluate.probe_layers(features, y, features, y, features, y, trained=runs, **kwargs)
    assert loaded.C == built.C and loaded.best_layer == built.best_layer


# --- the comparison of a pretrained run with the committed numbers -------------------------------------------------

@pytest.mark.parametrize("committed, stale", [
    ({"acc": 72.0, "acc_std": 0.8}, {"acc": 70.0}),  # an accuracy (%), 2.5 of its spreads off
    ({"recall@1": 0.312}, {"recall@1": 0.296}),  # a recall fraction without a spread, 5 % off
    ({"reconstruction error": 0.0123}, {"reconstruction error": 0.0131}),  # a reconstruction error, 6.5 % off
], ids=["accuracy", "recall fraction", "reconstruction error"])
def test_stale_weights_move_every_kind_of_metric_past_its_tolerance(committed, stale):
    assert results.disagreements(committed, {**committed, **stale})
    half_precision = {k: v * 1.004 for k, v in committed.items()}  # float16 weights move a number a little
    assert not results.disagreements(committed, half_precision)


def test_a_metric_without_its_own_spread_is_not_given_another_metrics_spread():
    committed = {"acc": 72.0, "acc_std": 5.0, "recall@1": 0.30}
    assert results.disagreements(committed, {**committed, "recall@1": 0.33})


@pytest.fixture
def pretrained_session(shipped, monkeypatch, tmp_path_factory):
    """A pretrained-mode lab session of "05_x" whose results folder holds a committed lab run."""
    from course_lib import session

    folder = tmp_path_factory.mktemp("results")
    monkeypatch.setattr(config, "results_root", lambda: folder)
    results.record("05_x", {"error": 10.0, "error_std": 0.5}, profile="lab", seed=0, root=folder)
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    monkeypatch.setenv("COURSE_SEED", "0")
    return session.setup("05_x", quiet=True), folder


def test_pretrained_numbers_are_compared_with_the_committed_run_and_never_overwrite_it(pretrained_session, capsys):
    session, folder = pretrained_session
    path = session.record(error=10.6, error_std=0.4)
    assert path.parent.name == "lab-pretrained" and "match the committed" in capsys.readouterr().out
    assert (folder / "lab" / "05_x.json").read_text().count("10.0") == 1  # the committed run is untouched


def test_pretrained_numbers_beyond_the_spread_name_the_build_command(pretrained_session):
    from course_lib import checks

    session, _ = pretrained_session
    with pytest.raises(checks.ClaimFailed, match="checkpoints build 05"):
        session.record(error=12.0, error_std=0.5)


def test_a_build_run_records_beside_the_committed_results_not_over_them(pretrained_session, monkeypatch, capsys):
    session, folder = pretrained_session
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    path = session.record(error=14.0, error_std=0.5)  # a build reports a change instead of failing on it
    assert path.parent.name == "lab-build" and "differ from results/lab/05_x.json" in capsys.readouterr().out
    assert (folder / "lab" / "05_x.json").read_text().count("10.0") == 1


# --- the archive a release publishes --------------------------------------------------------------------------------

def test_pack_writes_one_reproducible_archive_of_the_listed_files(shipped, monkeypatch, tmp_path_factory):
    _build(monkeypatch)
    _run(nn.Linear(3, 1))
    (shipped / "stray.pt").write_bytes(b"not listed")
    out = tmp_path_factory.mktemp("out")
    first, digest = checkpoints.pack(out / "a.tar.gz", folder=shipped)
    again, same = checkpoints.pack(out / "b.tar.gz", folder=shipped)
    assert digest == same and len(digest) == 64
    import tarfile

    with tarfile.open(first) as tar:
        assert sorted(tar.getnames()) == ["05_x/egomotion.pt", "manifest.json"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a client that closes early (torchvision probes redirects)
        pass


@pytest.fixture
def served(tmp_path_factory):
    """A folder served over HTTP on 127.0.0.1 (a stand-in for the release's asset host)."""
    folder = tmp_path_factory.mktemp("served")
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _publish(monkeypatch, course, archive, url, digest):
    (course / "course_lib" / "release").mkdir(parents=True)
    (course / release.RELEASE_FILE).write_text(json.dumps(
        {"repo": "a/b", "ref": "v1", "weights": {"lab": {"url": url, "sha256": digest}}}))
    monkeypatch.setattr(release, "weights_asset", lambda profile: release.read(course)["weights"].get(profile))


def test_an_installed_course_downloads_verifies_and_loads_the_released_weights(shipped, monkeypatch, served,
                                                                               tmp_path_factory):
    _build(monkeypatch)
    trained = nn.Linear(3, 1)
    _run(trained)
    folder, address = served
    _, digest = checkpoints.pack(folder / "course-weights-lab.tar.gz", folder=shipped)
    course, cache = tmp_path_factory.mktemp("course"), tmp_path_factory.mktemp("cache")
    _publish(monkeypatch, course, folder, f"{address}/course-weights-lab.tar.gz", digest)
    monkeypatch.delenv("COURSE_CHECKPOINTS")
    monkeypatch.setattr(config, "checkpoints_root", lambda profile=None: cache / "checkpoints" / "lab")
    _pretrained(monkeypatch)
    loaded = nn.Linear(3, 1)
    _run(loaded)
    assert torch.equal(loaded.weight, trained.weight.half().float())
    assert (cache / "checkpoints" / "lab" / "manifest.json").exists()


def test_a_corrupt_or_unreachable_weights_archive_is_one_clear_message(shipped, monkeypatch, served,
                                                                      tmp_path_factory):
    folder, address = served
    (folder / "course-weights-lab.tar.gz").write_bytes(b"truncated")
    course, cache = tmp_path_factory.mktemp("course"), tmp_path_factory.mktemp("cache")
    monkeypatch.delenv("COURSE_CHECKPOINTS")
    monkeypatch.setattr(config, "checkpoints_root", lambda profile=None: cache / "lab")
    _pretrained(monkeypatch)
    _publish(monkeypatch, course, folder, f"{address}/course-weights-lab.tar.gz", "0" * 64)
    with pytest.raises(DataUnavailable, match="does not match its SHA-256") as error:
        _run(nn.Linear(3, 1))
    assert "python -m course_lib.checkpoints fetch --profile lab" in str(error.value)
    assert not (cache / "lab").exists() or not any((cache / "lab").iterdir())  # nothing half-written is kept
    monkeypatch.setattr(release, "weights_asset", lambda profile: {"url": "http://127.0.0.1:9/none", "sha256": "0"})
    with pytest.raises(DataUnavailable, match="downloading it failed"):
        _run(nn.Linear(3, 1))


def test_the_shipped_checkpoints_match_their_manifest_and_fit_the_budget():
    folder = config.REPO_ROOT / "checkpoints"
    manifest = checkpoints.read_manifest(folder)
    listed = {entry["file"] for entry in manifest.values()}
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*.pt")}
    assert listed == on_disk, "every checkpoint file is in the manifest and every listed file exists"
    for entry in manifest.values():
        path = folder / entry["file"]
        assert checkpoints._sha256(path) == entry["sha256"], f"{entry['file']} is not what the manifest says"
        assert path.stat().st_size <= checkpoints.MAX_BYTES
        assert entry["profile"] == "lab" and entry["seed"] == 0 and len(entry["fingerprint"]) == 16
    assert sum((folder / f).stat().st_size for f in listed) <= checkpoints.MAX_TOTAL_BYTES


def test_a_size_that_only_judges_is_not_part_of_the_recipe():
    lab = config.PROFILES["lab"]
    assert checkpoints.canonical(dataclasses.replace(lab, probe_cs=(1.0,))) == checkpoints.canonical(lab)
    assert checkpoints.canonical(dataclasses.replace(lab, batch_size=64)) != checkpoints.canonical(lab)
    assert "probe_cs" not in checkpoints.canonical(lab)
