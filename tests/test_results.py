import json

import pytest

from course_lib import results


def test_record_writes_the_documented_shape(tmp_path):
    path = results.record("01_strong_supervision", {"acc": 91.5}, profile="ci", seed=1, seconds=12.34,
                          root=tmp_path)
    assert path == tmp_path / "ci" / "01_strong_supervision.json"
    entry = json.loads(path.read_text())
    assert entry == {"notebook": "01_strong_supervision", "profile": "ci", "seed": 1, "seconds": 12.3,
                     "capped": [], "metrics": {"acc": 91.5}}


def test_record_names_the_runs_that_stopped_at_their_time_cap(tmp_path):
    path = results.record("nb", {"acc": 1.0}, profile="ci", seed=0, capped=["scratch", "avol"], root=tmp_path)
    assert json.loads(path.read_text())["capped"] == ["avol", "scratch"]


def test_record_refuses_what_is_not_a_finite_number(tmp_path):
    for bad in (float("nan"), "91", None, True):
        with pytest.raises(ValueError, match="acc"):
            results.record("nb", {"acc": bad}, profile="ci", seed=0, root=tmp_path)


def test_record_keeps_the_draws_behind_a_mean_and_checks_them(tmp_path):
    path = results.record("nb", {"acc": 2.0}, profile="lab", seed=0, root=tmp_path, draws={"acc": [1, 3.0]})
    assert json.loads(path.read_text())["draws"] == {"acc": [1.0, 3.0]}
    assert "draws" not in json.loads(results.record("nb", {"acc": 2.0}, profile="lab", seed=0, root=tmp_path)
                                     .read_text())  # none given, none written
    with pytest.raises(ValueError, match="acc"):
        results.record("nb", {"acc": 2.0}, profile="lab", seed=0, root=tmp_path, draws={"acc": [1.0, float("nan")]})


def test_load_reads_back_every_notebook(tmp_path):
    results.record("a", {"x": 1}, profile="lab", seed=0, root=tmp_path)
    results.record("b", {"y": 2}, profile="lab", seed=0, root=tmp_path)
    assert sorted(results.load("lab", root=tmp_path)) == ["a", "b"]


def test_session_record_uses_the_notebook_name(monkeypatch, tmp_path):
    from course_lib import config, session

    monkeypatch.setattr(config, "results_root", lambda: tmp_path)
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.delenv("COURSE_PRETRAINED", raising=False)
    session = session.setup("07_x", quiet=True)
    path = session.record(score=3)
    assert json.loads(path.read_text())["notebook"] == "07_x"


def test_markdown_table_lists_every_metric(tmp_path):
    results.record("a", {"x": 1.23456, "y": 2}, profile="lab", seed=3, seconds=4, root=tmp_path)
    results.record("b", {"z": 5}, profile="lab", seed=3, seconds=4, capped=["scratch"], root=tmp_path)
    table = results.markdown_table("lab", root=tmp_path).splitlines()
    assert table[2] == "| a | 3 | 4 | - | `x` | 1.235 |"
    assert table[3] == "|  |  |  |  | `y` | 2 |"
    assert table[4] == "| b | 3 | 4 | scratch | `z` | 5 |"


def test_update_readme_replaces_only_the_block(tmp_path):
    results.record("a", {"x": 1}, profile="lab", seed=0, root=tmp_path)
    readme = tmp_path / "README.md"
    begin = results.BEGIN.format(profile="lab")
    readme.write_text(f"intro\n{begin}\nold\n{results.END}\noutro\n")
    results.update_readme(readme, "lab", root=tmp_path)
    text = readme.read_text()
    assert "old" not in text and "`x`" in text and text.startswith("intro\n") and text.endswith("outro\n")


def test_a_metric_within_twice_its_spread_of_label_draws_agrees():
    committed = {"acc": 50.0, "acc_std": 1.0}
    assert results.disagreements(committed, {"acc": 51.9, "acc_std": 1.0}) == []
    assert len(results.disagreements(committed, {"acc": 52.5, "acc_std": 1.0})) == 1


def test_a_metric_without_its_own_spread_gets_a_relative_tolerance_not_its_neighbours_spread():
    committed = {"acc": 50.0, "acc_std": 0.5, "acc_conv1": 40.0, "other_std": 2.0}
    assert results.disagreements(committed, {"acc_conv1": 40.7}) == []  # within 2 % of itself
    assert results.disagreements(committed, {"acc_conv1": 41.0})[0].startswith("acc_conv1: 41 now, 40 committed")


def test_a_metric_with_a_tiny_spread_still_allows_for_half_precision_weights():
    committed = {"acc": 80.0, "acc_std": 0.0}
    assert results.disagreements(committed, {"acc": 80.6}) == []
    assert results.disagreements(committed, {"acc": 81.0}) != []
