import pytest
import torch
from torch import nn

from course_lib import checkpoints, train


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """An empty checkpoints folder, the lab profile and notebook "05_x" active."""
    monkeypatch.setenv("COURSE_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("COURSE_PROFILE", "lab")
    monkeypatch.delenv("COURSE_PRETRAINED", raising=False)
    monkeypatch.delenv("COURSE_CHECKPOINT_BUILD", raising=False)
    checkpoints.activate("05_x")
    yield tmp_path
    checkpoints.activate(None)


def _fit(model, desc="egomotion", steps=5):
    x = torch.randn(32, 3)
    batches = train.batches(x, x.sum(1, keepdim=True), batch_size=8)
    return train.fit(model, batches, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), steps=steps, progress=False,
                     log_every=1, desc=desc)


def test_a_build_keeps_the_weights_and_how_they_were_made(shipped, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    _fit(nn.Linear(3, 1))
    entry = checkpoints.read_manifest()["05_x/egomotion"]
    assert (shipped / entry["file"]).exists() and entry["steps"] == 5 and entry["profile"] == "lab"
    assert len(entry["sha256"]) == 64 and entry["history"]["step"] == [1, 2, 3, 4, 5]


def test_pretrained_mode_loads_the_same_weights_and_history_without_training(shipped, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    trained = nn.Linear(3, 1)
    history = _fit(trained)
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "0")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    fresh = nn.Linear(3, 1)
    loaded = _fit(fresh)
    assert torch.equal(fresh.weight, trained.weight.half().float())  # stored in half precision
    assert loaded.values == history.values
    assert "loaded 05_x/egomotion.pt" in capsys.readouterr().out


def test_a_notebook_may_not_name_two_runs_alike(shipped, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    _fit(nn.Linear(3, 1))
    with pytest.raises(ValueError, match="its own desc"):
        _fit(nn.Linear(3, 1))


def test_a_checkpoint_that_no_longer_fits_names_the_build_command(shipped, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    _fit(nn.Linear(3, 1))
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "0")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    with pytest.raises(checkpoints.StaleCheckpoint, match="checkpoints build 05"):
        _fit(nn.Linear(3, 2))  # the model changed shape since the build
    with pytest.raises(checkpoints.StaleCheckpoint, match="10 steps"):
        _fit(nn.Linear(3, 1), steps=10)  # the notebook asks for a different run


def test_a_damaged_checkpoint_file_is_refused(shipped, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    _fit(nn.Linear(3, 1))
    (shipped / "05_x" / "egomotion.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "0")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    with pytest.raises(checkpoints.StaleCheckpoint, match="damaged"):
        _fit(nn.Linear(3, 1))


def test_without_a_checkpoint_pretrained_mode_trains_and_says_so(shipped, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    history = _fit(nn.Linear(3, 1), desc="never built")
    assert history.stopped_by == "5 steps" and "no checkpoint for 'never built'" in capsys.readouterr().out


def test_checkpoints_are_stored_in_half_precision_and_load_back_as_float32(shipped, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    trained = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    _fit(trained)
    stored = torch.load(shipped / "05_x" / "egomotion.pt", weights_only=True)
    assert stored["0.weight"].dtype == torch.float16 and stored["1.num_batches_tracked"].dtype == torch.int64
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "0")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    loaded = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    _fit(loaded)
    assert loaded[0].weight.dtype == torch.float32
    assert torch.allclose(loaded[0].weight, trained[0].weight, atol=1e-3)


def test_the_after_hook_has_the_last_word_on_the_kept_weights(shipped, monkeypatch):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")

    def reset_to_zero(model, history):  # e.g. early stopping putting its best weights back
        torch.nn.init.zeros_(model.weight)
        history.values["best_step"] = [3.0]

    x = torch.randn(32, 3)
    train.fit(nn.Linear(3, 1), train.batches(x, x.sum(1, keepdim=True), batch_size=8),
              lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), steps=5, progress=False, desc="egomotion",
              after=reset_to_zero)
    stored = torch.load(shipped / "05_x" / "egomotion.pt", weights_only=True)
    assert not stored["weight"].any()
    assert checkpoints.read_manifest()["05_x/egomotion"]["history"]["values"]["best_step"] == [3.0]


def test_many_runs_of_one_kind_load_with_one_line(shipped, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    for draw in (1, 2, 3):
        _fit(nn.Linear(3, 1), desc=f"fine-tuning, draw {draw}")
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "0")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    capsys.readouterr()
    with checkpoints.one_line_for("fine-tuning"):
        for draw in (1, 2, 3):
            _fit(nn.Linear(3, 1), desc=f"fine-tuning, draw {draw}")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("loaded 3 checkpoints of fine-tuning (lab, seed 0")


def _probe(desc="probe: random init", per_class=3):
    """Probes of two layers' (fake) features, 2 labelled draws of ``per_class`` per class, named ``desc``."""
    from course_lib import evaluate

    torch.manual_seed(0)
    y = torch.arange(60) % 3
    features = {layer: torch.randn(60, 4) + y[:, None] * scale for layer, scale in (("conv1", 0.5), ("conv2", 2.0))}
    train, val, test = ({layer: f[part] for layer, f in features.items()} for part in (range(30), range(30, 45),
                                                                                       range(45, 60)))
    return evaluate.probe_layers(train, y[:30], val, y[30:45], test, y[45:60], per_class=per_class, draws=2,
                                 desc=desc)


def test_fitted_probes_are_a_run_that_loads_and_scores_as_they_did(shipped, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    built = _probe()
    entry = checkpoints.read_manifest()["05_x/probe-random-init-9-labels-x-2-draws"]
    assert entry["history"]["values"]["probes"] == [4.0]  # 2 layers x 2 draws
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "0")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    monkeypatch.setattr("course_lib.evaluate.LinearProbe.fit", lambda *a, **k: pytest.fail("solved again"))
    loaded = _probe()
    assert "loaded 05_x/probe-random-init-9-labels-x-2-draws.pt" in capsys.readouterr().out
    assert loaded.best_layer == built.best_layer
    for layer in built.test:  # half-precision weights: the same accuracies, give or take one borderline example
        assert abs(loaded.test[layer] - built.test[layer]) <= 100 / 15 + 1e-6


def test_probes_fitted_on_another_label_budget_do_not_load(shipped, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "1")
    _probe(per_class=3)
    monkeypatch.setenv("COURSE_CHECKPOINT_BUILD", "0")
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    _probe(per_class=4)
    assert "no checkpoint for 'probe: random init, 12 labels x 2 draws'" in capsys.readouterr().out


@pytest.fixture
def pretrained_session(shipped, monkeypatch, tmp_path_factory):
    """A pretrained-mode lab session of "05_x" whose results folder holds a committed lab run."""
    from course_lib import config, results

    folder = tmp_path_factory.mktemp("results")
    monkeypatch.setattr(config, "results_root", lambda: folder)
    results.record("05_x", {"error": 10.0, "error_std": 0.5}, profile="lab", seed=0, root=folder)
    monkeypatch.setenv("COURSE_PRETRAINED", "1")
    monkeypatch.setenv("COURSE_SEED", "0")
    return config.setup("05_x", quiet=True), folder


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


def test_the_shipped_checkpoints_match_their_manifest_and_fit_the_budget():
    """Every shipped file is in the manifest with its hash, each under 2 MB, all together under 40 MB."""
    folder = checkpoints.config.REPO_ROOT / "checkpoints"
    manifest = checkpoints.read_manifest(folder)
    files = {path.relative_to(folder).as_posix(): path for path in folder.rglob("*.pt")}
    assert set(files) == {entry["file"] for entry in manifest.values()}
    for entry in manifest.values():
        assert checkpoints._sha256(files[entry["file"]]) == entry["sha256"], entry["file"]
    sizes = [path.stat().st_size for path in files.values()]
    assert max(sizes) <= checkpoints.MAX_BYTES and sum(sizes) <= 40e6
