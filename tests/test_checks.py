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


def test_verdict_says_a_name_is_not_defined_instead_of_the_tests_hint():
    def no_import(x):
        return torch.zeros(x)  # noqa: F821 (the import a student's cell forgot)

    fn = checks.guarded(no_import)
    with pytest.raises(checks.NotYet, match="raised NameError: name 'torch' is not defined; a name your function uses "
                                            "is not defined here: a missing import .* or a typo") as rejected:
        checks.verdict("ex", [(lambda: fn(3) == 1, "sizes that must match")])
    assert "sizes that must match" not in str(rejected.value)


def test_verdict_says_a_variable_is_read_before_it_is_set():
    def unbound(x):
        if x > 5:
            total = x
        return total

    with pytest.raises(checks.NotYet, match="raised UnboundLocalError: .*read before it is given a value"):
        checks.verdict("ex", [(lambda: checks.guarded(unbound)(3) == 1, "sizes that must match")])


def test_guarded_lets_an_exercise_stub_through():
    def stub():
        raise NotImplementedError("exercise: fill this in")

    with pytest.raises(NotImplementedError):
        checks.verdict("ex", [(lambda: checks.guarded(stub)() == 1, "hint")])


def test_claim_on_a_capped_run_says_so(capsys):
    checks.check_claim("a beats b", True, "60 vs 50", capped=["b"])
    assert "stopped at the time cap: b" in capsys.readouterr().out


def test_answer_calls_the_function_once_and_turns_what_it_raised_into_the_hint():
    calls = []

    def fn(x):
        calls.append(x)
        return x * 2

    answer = checks.answer(fn, 21)
    checks.verdict("ex", [checks.returns(answer, "never shown"), (lambda: answer() == 42, "double it")])
    assert calls == [21]
    broken = checks.answer(lambda x: [1, 2][x], 5)
    with pytest.raises(checks.NotYet, match="your function raised IndexError: list index out of range; it is given 5"):
        checks.verdict("ex", [checks.returns(broken, "it is given 5"), (lambda: broken() == 1, "never reached")])


def test_has_shape_names_both_shapes_and_the_advice():
    import torch

    test, hint = checks.has_shape(lambda: torch.zeros(3, 4), (4, 3), "rows are recordings")
    assert not test() and hint() == "your function returned shape (3, 4); expected shape (4, 3): rows are recordings"
    with pytest.raises(checks.NotYet, match=r"returned shape \(3, 4\); expected shape \(4, 3\): rows are recordings"):
        checks.verdict("ex", [checks.has_shape(lambda: torch.zeros(3, 4), (4, 3), lambda: "rows are recordings")])
    assert checks.has_shape(lambda: torch.zeros(4, 3), torch.Size([4, 3]))[0]()


def test_has_shape_of_one_number_takes_any_one_element_answer():
    import numpy as np
    import torch

    for one in (torch.tensor(1.0), torch.ones(1), 1.0, np.float32(1.0)):
        assert checks.has_shape(lambda one=one: one, ())[0]()
    test, hint = checks.has_shape(lambda: torch.ones(8), (), "the mean over the batch")
    assert not test() and hint() == ("your function returned shape (8,); expected one number, shape (): the mean over "
                                     "the batch")


def test_has_shape_says_when_nothing_or_no_tensor_came_back():
    assert "returned None (is a `return` missing?)" in checks.has_shape(lambda: None, (2,))[1]()
    assert "returned a list, not a tensor" in checks.has_shape(lambda: [1, 2], (2,))[1]()


def _right(x):
    return 2 * x


def _ours(x):
    return x + x


def _checker(fn):
    checks.exercise("double", fn(3) == 6, "twice x")


def test_yours_or_ours_takes_the_students_function_once_its_checker_accepts_it(capsys):
    assert checks.yours_or_ours(_right, _ours, _checker) is _right
    out = capsys.readouterr().out
    assert out == "this run uses your _right\n"  # the checker's own "correct" is not printed twice


def test_yours_or_ours_runs_the_courses_function_while_the_stub_is_not_written(capsys):
    def stub(x):
        raise NotImplementedError("exercise: write it")

    assert checks.yours_or_ours(stub, _ours, _checker) is _ours
    assert "your stub is not written yet, so this run uses the course's" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [lambda x: x + 1, lambda x: x["nope"]], ids=["not-accepted", "raises"])
def test_yours_or_ours_says_why_a_wrong_answer_is_not_used(wrong, capsys):
    assert checks.yours_or_ours(wrong, _ours, _checker) is _ours
    out = capsys.readouterr().out
    assert "is not accepted yet (" in out and "this run uses the course's" in out


def test_scalar_reads_a_students_one_number_answer_and_close_allows_float32_rounding():
    import torch  # here, not at the top: a test above needs the name torch undefined in this module

    loss = torch.tensor([2.5], requires_grad=True) * 1.0
    assert checks.scalar(loss) == 2.5 and checks.scalar(2.5) == 2.5 and checks.scalar(torch.tensor(2.5)) == 2.5
    assert checks.close(100.005, 100.0) and not checks.close(100.02, 100.0)
    assert checks.close(1e-5, 0.0) and not checks.close(1e-3, 0.0)  # below 1 the tolerance is absolute
