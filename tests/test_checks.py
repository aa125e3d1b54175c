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
