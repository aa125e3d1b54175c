import dataclasses
import random

import numpy as np
import pytest
import torch

from course_lib import config
from course_lib.session import setup, short_messages


def test_default_profile_is_lab(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert config.get_profile().name == "lab"


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    assert config.get_profile().name == "ci"


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "huge")
    with pytest.raises(ValueError, match="ci, lab, full"):
        config.get_profile()


def test_profiles_grow_from_ci_to_full():
    assert tuple(config.PROFILES) == config.PROFILE_NAMES
    assert all(profile.name == name for name, profile in config.PROFILES.items())
    ci, lab, full = (config.PROFILES[n] for n in config.PROFILE_NAMES)
    for field in ("n_train", "n_test", "width", "batch_size", "max_seconds"):
        assert getattr(ci, field) <= getattr(lab, field) <= getattr(full, field), field


def test_ci_fits_one_probe_C_and_lab_chooses_from_the_grid():
    ci, lab, full = (config.PROFILES[n] for n in config.PROFILE_NAMES)
    assert ci.probe_cs == (1.0,)  # the grid triples every probe, and ci has 90 s
    assert lab.probe_cs == full.probe_cs == config.PROBE_CS and 1.0 in config.PROBE_CS


@dataclasses.dataclass(frozen=True)
class LessonSizes(config.Profile):
    steps: int  # a size of one lesson's own


def test_lesson_sizes_copy_the_shared_fields_and_add_the_lessons_own():
    sizes = config.lesson_sizes(LessonSizes, ci=dict(steps=1), lab=dict(steps=2), full=dict(steps=3))
    assert tuple(sizes) == config.PROFILE_NAMES
    for (name, own), steps in zip(sizes.items(), (1, 2, 3), strict=True):
        assert isinstance(own, LessonSizes) and own.steps == steps
        for field in dataclasses.fields(config.Profile):
            assert getattr(own, field.name) == getattr(config.PROFILES[name], field.name), (name, field.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sizes["ci"].steps = 4


def test_lesson_sizes_need_exactly_the_three_profiles():
    with pytest.raises(ValueError, match="exactly the profiles"):
        config.lesson_sizes(LessonSizes, ci=dict(steps=1), lab=dict(steps=2))
    with pytest.raises(ValueError, match="exactly the profiles"):
        config.lesson_sizes(LessonSizes, ci=dict(steps=1), lab=dict(steps=2), full=dict(steps=3), huge=dict(steps=4))


def test_lesson_sizes_need_every_own_field_in_every_profile():
    with pytest.raises(TypeError, match="steps"):
        config.lesson_sizes(LessonSizes, ci=dict(steps=1), lab=dict(), full=dict(steps=3))


def test_data_root_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert config.data_root() == tmp_path.resolve()


def test_data_root_defaults_to_repo_data_in_a_checkout(monkeypatch):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    assert config.data_root() == config.REPO_ROOT / "data"


def test_bad_seed_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "one")
    with pytest.raises(ValueError, match="COURSE_SEED"):
        config.seed()


def test_cpu_device_can_be_forced(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert config.device().type == "cpu"


def test_missing_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="Unset COURSE_DEVICE"):
        config.device()


def test_best_device_falls_back_to_cpu(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(config, "_mps_available", lambda: False)
    assert config.device().type == "cpu"


def test_seed_everything_makes_all_generators_repeat():
    config.seed_everything(3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    config.seed_everything(3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_isolated_rng_draws_the_same_for_the_same_seed():
    with config.isolated_rng(5):
        first = torch.rand(3)
    with config.isolated_rng(5):
        again = torch.rand(3)
    with config.isolated_rng(6):
        other = torch.rand(3)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_isolated_rng_leaves_the_outer_stream_where_it_was():
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    with config.isolated_rng(5):
        torch.rand(100)
    assert torch.equal(torch.rand(3), expected)


def test_isolated_rng_restores_the_outer_stream_after_an_error():
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    with pytest.raises(RuntimeError), config.isolated_rng(5):
        torch.rand(100)
        raise RuntimeError("a checker that fails")
    assert torch.equal(torch.rand(3), expected)


def test_setup_prints_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.setenv("COURSE_SEED", "2")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    session = setup("99_test")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    for part in ("profile=ci", "device=cpu", "seed=2", tmp_path.name):
        assert part in lines[0]
    assert session.seed == 2 and session.profile.name == "ci"


def test_short_messages_turn_exercise_and_claim_errors_into_one_line(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from course_lib import checkpoints, checks, data

    shell = InteractiveShell.instance()
    short_messages(shell)
    assert set(shell.custom_exceptions) == {checks.NotYet, checks.ClaimFailed, NotImplementedError,
                                            checkpoints.StaleCheckpoint, data.DataUnavailable}
    result = shell.run_cell('def f():\n    raise NotImplementedError("exercise: divide by the bin width")\nf()')
    assert isinstance(result.error_in_exec, NotImplementedError)  # the cell still fails
    shown = capsys.readouterr().out.strip()
    assert shown == "NotImplementedError: exercise: divide by the bin width"  # one line, no traceback
