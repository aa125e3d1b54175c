import pytest

from course_lib import checks


def test_claim_that_holds_prints_it(capsys):
    checks.check_claim("a beats b", True, "2 > 1")
    assert "claim holds: a beats b (2 > 1)" in capsys.readouterr().out


def test_claim_that_fails_says_which():
    with pytest.raises(checks.ClaimFailed, match="a beats b"):
        checks.check_claim("a beats b", False, "1 < 2")


def test_exercise_gives_the_hint():
    with pytest.raises(checks.NotYet, match="look at the axis"):
        checks.exercise("ex1", False, "look at the axis")


def test_verdict_reports_the_first_failing_hint_only():
    with pytest.raises(checks.NotYet, match="second"):
        checks.verdict("ex", [(lambda: True, "first"), (lambda: False, "second"), (lambda: False, "third")])


def test_verdict_hint_may_be_computed_from_the_answer():
    answer = 41
    with pytest.raises(checks.NotYet, match="got 41"):
        checks.verdict("ex", [(lambda: answer == 42, lambda: f"expected 42, got {answer}")])


def test_verdict_says_correct_when_every_test_passes(capsys):
    checks.verdict("ex", [(lambda: True, "never shown")])
    assert "ex: correct" in capsys.readouterr().out


def test_verdict_turns_what_a_guarded_function_raised_into_the_hint():
    fn = checks.guarded(lambda x: int(x))
    with pytest.raises(checks.NotYet, match="your function raised ValueError: invalid literal.*; no int"):
        checks.verdict("ex", [(lambda: fn("a") == 1, "no int")])


def test_guarded_lets_an_exercise_stub_through():
    def stub():
        raise NotImplementedError("exercise: fill this in")

    with pytest.raises(NotImplementedError):
        checks.verdict("ex", [(lambda: checks.guarded(stub)() == 1, "hint")])


def test_claim_on_a_capped_run_says_so(capsys):
    checks.check_claim("a beats b", True, "60 vs 50", capped=["b"])
    assert "stopped at the time cap: b" in capsys.readouterr().out
