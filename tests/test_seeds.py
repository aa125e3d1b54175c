"""Verdicts over pretraining seeds (course_lib.seeds) and the claims a seeds run reports instead of raising."""

import json
import subprocess
import sys

import nbformat
import pytest

from course_lib import checks, config, results, seeds

BEATS = seeds.Ordering("a beats b", "a", "b")


def _write_seeds(root, notebook, runs):
    path = seeds.seeds_file(notebook, "lab", root)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"notebook": notebook, "seeds": {
        str(seed): {"metrics": metrics, "capped": [], "claims": []} for seed, metrics in runs.items()}}))


@pytest.mark.parametrize("gaps, words", [
    ([1.0, 2.0, 3.0], "holds on 3 of 3"),
    ([0.1, 0.2, 9.0], "no difference (3 of 3)"),  # all positive, but the mean lies inside the spread
    ([9.0, 8.0, -0.5], "2 of 3: not robust"),
    ([1.0, -1.0, 0.5], "no difference (2 of 3)"),
    ([-2.0, -3.0, -2.5], "reversed on 3 of 3"),
    ([4.0], "one seed: no verdict"),
])
def test_verdict_in_words(gaps, words):
    assert seeds.verdict(gaps) == words


def test_gap_is_positive_when_the_ordering_holds_for_errors_too():
    assert BEATS.gap({"a": 3.0, "b": 1.0}) == 2.0
    error = seeds.Ordering("a has less error", "a", "b", higher_is_better=False)
    assert error.gap({"a": 1.0, "b": 3.0}) == 2.0


def test_gap_against_several_metrics_is_against_the_best_of_them():
    ordering = seeds.Ordering("a beats every baseline", "a", ("b", "c"))
    assert ordering.gap({"a": 5.0, "b": 1.0, "c": 4.0}) == 1.0
    lower = seeds.Ordering("a errs least", "a", ("b", "c"), higher_is_better=False)
    assert lower.gap({"a": 2.0, "b": 3.0, "c": 9.0}) == 1.0


def test_several_metrics_on_the_left_must_each_beat_the_right():
    every = seeds.Ordering("a and c both beat b", ("a", "c"), "b")
    assert every.gap({"a": 5.0, "b": 1.0, "c": 2.0}) == 1.0 and every.metrics == {"a", "b", "c"}


def test_load_adds_the_notebooks_own_run_as_its_seed(tmp_path):
    _write_seeds(tmp_path, "99_fake", {1: {"a": 2.0, "b": 1.0}, 2: {"a": 3.0, "b": 1.0}})
    results.record("99_fake", {"a": 4.0, "b": 1.0}, profile="lab", seed=0, root=tmp_path)
    runs = seeds.load("99_fake", "lab", tmp_path)
    assert list(runs) == [0, 1, 2] and runs[0]["metrics"]["a"] == 4.0 and runs[0]["claims"] is None


def test_the_seeds_file_wins_over_the_recorded_run_of_the_same_seed(tmp_path):
    _write_seeds(tmp_path, "99_fake", {0: {"a": 2.0, "b": 1.0}})
    results.record("99_fake", {"a": 4.0, "b": 1.0}, profile="lab", seed=0, root=tmp_path)
    assert seeds.load("99_fake", "lab", tmp_path)[0]["metrics"]["a"] == 2.0


def test_table_has_a_paired_difference_per_seed_its_spread_and_the_verdict(tmp_path, capsys):
    _write_seeds(tmp_path, "99_fake", {0: {"a": 3.0, "b": 1.0}, 1: {"a": 4.0, "b": 1.0}, 2: {"a": 5.0, "b": 1.0}})
    table = seeds.table("99_fake", [BEATS], "lab", tmp_path)
    row = table.loc["a beats b"]
    assert (row["seed 0"], row["seed 1"], row["seed 2"]) == ("+2.0", "+3.0", "+4.0")
    assert row["mean ± std"] == "+3.0 ± 1.0" and row["verdict"] == "holds on 3 of 3"
    assert "99_fake.json" in capsys.readouterr().out
    assert seeds.robust("99_fake", BEATS, "lab", tmp_path)


CHECK = ("longer", "python -m make.the.check")
C_BEATS_B = seeds.Ordering("c beats b", "c", "b")


def test_a_checks_numbers_join_each_seeds_own_and_a_rerun_seed_replaces_its_old_numbers(tmp_path):
    _write_seeds(tmp_path, "99_fake", {0: {"b": 1.0}, 1: {"b": 1.0}, 2: {"b": 2.0}})
    seeds.write_check("99_fake", CHECK[0], CHECK[1], {0: {"c": 0.0}, 1: {"c": 3.0}}, root=tmp_path)
    path = seeds.write_check("99_fake", CHECK[0], CHECK[1], {0: {"c": 2.0}, 2: {"c": 4.0}}, root=tmp_path)
    assert path == seeds.check_file("99_fake", CHECK[0], "lab", tmp_path)
    assert json.loads(path.read_text())["seeds"] == {"0": {"c": 2.0}, "1": {"c": 3.0}, "2": {"c": 4.0}}
    table = seeds.table("99_fake", [C_BEATS_B], "lab", tmp_path, check=CHECK)
    assert [table.loc["c beats b", f"seed {s}"] for s in range(3)] == ["+1.0", "+2.0", "+2.0"]  # c - b per seed
    assert table.loc["c beats b", "mean ± std"] == "+1.7 ± 0.6"


def test_a_missing_check_is_an_empty_table_that_names_its_command(tmp_path, capsys):
    _write_seeds(tmp_path, "99_fake", {0: {"b": 1.0}, 1: {"b": 1.0}})
    assert seeds.table("99_fake", [C_BEATS_B], "lab", tmp_path, check=CHECK).empty
    assert "make.the.check" in capsys.readouterr().out


def test_a_check_that_lacks_a_seed_names_its_own_command(tmp_path):
    _write_seeds(tmp_path, "99_fake", {0: {"b": 1.0}, 1: {"b": 1.0}})
    seeds.write_check("99_fake", CHECK[0], CHECK[1], {0: {"c": 2.0}}, root=tmp_path)
    with pytest.raises(KeyError, match="make.the.check"):
        seeds.table("99_fake", [C_BEATS_B], "lab", tmp_path, check=CHECK)


def _write_seeds_with_draws(root, notebook, runs):
    path = seeds.seeds_file(notebook, "lab", root)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"notebook": notebook, "seeds": {str(seed): {
        "metrics": {k: sum(v) / len(v) for k, v in draws.items()}, "capped": [], "claims": [], "draws": draws}
        for seed, draws in runs.items()}}))


def test_draw_gaps_pair_the_shared_draws_and_need_every_metrics_draws():
    assert BEATS.draw_gaps({"a": [3.0, 1.0], "b": [1.0, 2.0]}) == [2.0, -1.0]
    assert BEATS.draw_gaps({"a": [3.0, 1.0]}) == [] and BEATS.draw_gaps({"a": [1.0], "b": [1.0, 2.0]}) == []


def test_sign_test_is_the_chance_of_as_many_wins_by_coin_tosses():
    assert seeds.sign_test([1.0] * 9) == pytest.approx(1 / 512)
    assert seeds.sign_test([1.0, 1.0, -1.0]) == pytest.approx(0.5) and seeds.sign_test([0.0]) == 1.0


def test_a_holds_over_seeds_needs_the_shared_draws_too(tmp_path):
    # every seed's mean is ahead, but on the draws themselves the ordering is a coin toss: 5 of 9
    _write_seeds_with_draws(tmp_path, "99_fake", {
        seed: {"a": [9.0, 0.0, 2.5], "b": [1.0, 1.0, 1.0]} if seed else {"a": [9.0, 9.0, 0.0], "b": [1.0, 1.0, 1.0]}
        for seed in (0, 1, 2)})
    row = seeds.table("99_fake", [BEATS], "lab", tmp_path).loc["a beats b"]
    assert row["shared draws"].startswith("6 of 9") and row["verdict"] == "3 of 3 seeds, but 6 of 9 draws: not robust"
    assert not seeds.robust("99_fake", BEATS, "lab", tmp_path)


def test_a_clear_ordering_holds_on_the_seeds_and_the_shared_draws(tmp_path):
    clear = {s: {"a": [3.0 + s, 4.0, 5.0], "b": [1.0, 1.5, 2.0]} for s in (0, 1, 2)}
    _write_seeds_with_draws(tmp_path, "99_fake", clear)
    row = seeds.table("99_fake", [BEATS], "lab", tmp_path).loc["a beats b"]
    assert row["shared draws"] == "9 of 9 (sign test p 0.002)" and row["verdict"] == "holds on 3 of 3"


def test_table_says_how_to_make_missing_seeds(tmp_path, capsys):
    results.record("99_fake", {"a": 4.0, "b": 1.0}, profile="lab", seed=0, root=tmp_path)
    table = seeds.table("99_fake", [BEATS], "lab", tmp_path)
    assert table.loc["a beats b", "verdict"] == "one seed: no verdict"
    assert "--seeds 1 2" in capsys.readouterr().out
    assert not seeds.robust("99_fake", BEATS, "lab", tmp_path)


def test_table_names_the_command_when_a_metric_is_missing(tmp_path):
    _write_seeds(tmp_path, "99_fake", {1: {"a": 2.0}})
    with pytest.raises(KeyError, match="results seeds 99"):
        seeds.table("99_fake", [BEATS], "lab", tmp_path)


def test_a_seeds_run_gets_past_an_ordering_its_older_seeds_lack(tmp_path, monkeypatch, capsys):
    """A new ordering's numbers come from the seeds run itself, so that run must not stop at the table."""
    _write_seeds(tmp_path, "99_fake", {1: {"a": 2.0, "b": 1.0}, 2: {"a": 3.0, "b": 1.0, "c": 0.0}})
    monkeypatch.setenv("COURSE_CLAIMS", "report")
    newer = seeds.Ordering("a beats c", "a", "c")
    table = seeds.table("99_fake", [BEATS, newer], "lab", tmp_path)
    assert list(table.index) == ["a beats b"] and "results seeds 99" in capsys.readouterr().out


def test_a_failed_claim_raises_but_is_only_reported_in_a_seeds_run(monkeypatch, tmp_path, capsys):
    with pytest.raises(checks.ClaimFailed):
        checks.check_claim("x beats y", False)
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("COURSE_CLAIMS", "report")
    monkeypatch.setenv("COURSE_CLAIMS_LOG", str(log))
    checks.check_claim("x beats y", False, "1 vs 2")
    checks.report_claim("z beats y", True)
    assert "reported, not raised" in capsys.readouterr().out
    assert [json.loads(line) for line in log.read_text().splitlines()] == [
        {"statement": "x beats y", "holds": False, "asserted": True},
        {"statement": "z beats y", "holds": True, "asserted": False}]


def test_the_command_runs_a_notebook_per_seed_and_keeps_the_failed_claims(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))
    notebook = tmp_path / "99_fake.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from course_lib import checks\nfrom course_lib.session import setup\nsession = setup('99_fake')\n"
        "checks.check_claim('the seed is even', session.seed % 2 == 0)\n"
        "session.record(a=float(session.seed), b=0.5)")]
    nbformat.write(nb, notebook)
    path = seeds.run_seeds(str(notebook), seeds=(1,), profile="ci", root=tmp_path)
    run = json.loads(path.read_text())["seeds"]["1"]
    assert run["metrics"] == {"a": 1.0, "b": 0.5}
    assert run["claims"] == [{"statement": "the seed is even", "holds": False, "asserted": True}]
    assert not (config.results_root() / "ci" / "99_fake.json").exists()  # the run's numbers stayed in scratch


def test_further_seeds_go_to_their_own_file_which_no_table_reads(tmp_path, monkeypatch):
    run = {"metrics": {"a": 3.0}, "capped": [], "claims": [], "seconds": 1.0}
    monkeypatch.setattr(seeds, "run_once", lambda path, seed, profile: {**run, "metrics": {"a": float(seed)}})
    monkeypatch.setattr(seeds, "notebook_path", lambda number: tmp_path / "99_fake.ipynb")
    path = seeds.run_seeds("99", seeds=(3, 4), profile="lab", root=tmp_path, further=True)
    assert path == tmp_path / "lab" / "seeds" / "further" / "99_fake.json"
    assert {seed: r["metrics"]["a"] for seed, r in seeds.further_runs("99_fake", "lab", tmp_path).items()} == {3: 3.0,
                                                                                                           4: 4.0}
    assert seeds.load("99_fake", "lab", tmp_path) == {}  # the table's seeds are untouched


# --- the course's own seeds files ------------------------------------------------------------------------------

NOTEBOOKS = sorted((config.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _lesson(notebook):
    """The lesson a notebook imports as ``lesson`` (``from course_lib.lessons import x as lesson``)."""
    import importlib
    import re

    found = re.search(r"from course_lib\.lessons import (\w+) as lesson", notebook.read_text())
    return importlib.import_module(f"course_lib.lessons.{found.group(1)}")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_notebook_shows_its_orderings_over_seeds_from_recorded_numbers(notebook):
    lesson = _lesson(notebook)
    assert lesson.NOTEBOOK == notebook.stem and lesson.ORDERINGS
    assert "seeds.table(lesson.NOTEBOOK" in notebook.read_text()
    statements = [o.statement for o in lesson.ORDERINGS]
    assert len(statements) == len(set(statements))
    recorded = results.load("lab", config.REPO_ROOT / "results")[notebook.stem]["metrics"]
    for ordering in lesson.ORDERINGS:
        assert ordering.metrics <= set(recorded), ordering.statement


@pytest.mark.parametrize("path", sorted((config.REPO_ROOT / "results" / "lab" / "seeds").glob("*.json")),
                         ids=lambda p: p.stem[:2])
def test_what_a_notebook_asserts_held_on_every_seed_run(path):
    """The rule: assert what holds on 3 of 3 seeds, report the rest (checks.report_claim)."""
    runs = json.loads(path.read_text())["seeds"]
    failed = {(seed, claim["statement"]) for seed, run in runs.items() for claim in run["claims"]
              if claim["asserted"] and not claim["holds"]}
    assert not failed, f"asserted claims that failed on a seed: {sorted(failed)}"
    assert len(runs) >= 2 and all(run["metrics"] for run in runs.values())


def test_a_checks_command_runs_each_seed_asked_for_and_writes_as_it_goes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_RESULTS", str(tmp_path))
    path = seeds.run_check("99_fake", "longer", "python -m fake", lambda seed, profile: {"c": 10.0 + seed},
                           "a fake check", ["--seeds", "1", "2"])
    assert json.loads(path.read_text())["seeds"] == {"1": {"c": 11.0}, "2": {"c": 12.0}}
    assert "seed 2 (lab)" in capsys.readouterr().out


@pytest.mark.parametrize("module", ["course_lib.lessons.transformations.scratch_recipe",
                                    "course_lib.lessons.multimodal_embeddings.infonce_budget",
                                    "course_lib.lessons.scoreboard.fence_longer"])
def test_every_checks_command_starts_without_a_warning(module):
    # a module its package imported before ``python -m`` runs it draws runpy's RuntimeWarning: -W error makes it fail
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", module, "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]
    assert "--profile" in done.stdout
