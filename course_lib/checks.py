"""Claim checks and exercise checkers: the cells that tell a notebook's reader whether things hold.

A claim check asserts a paper's qualitative claim on numbers the notebook just measured; an exercise
checker gives a student feedback on their answer. Both fail with a sentence, not a bare AssertionError.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
from collections.abc import Callable, Iterable

import torch

from course_lib import config


class ClaimFailed(AssertionError):
    """A paper's claim did not hold on the numbers this run measured."""


def check_claim(statement: str, holds: bool, evidence: str = "", capped: Iterable[str] = ()) -> None:
    """Assert ``statement`` (a paper's claim) given the measured ``evidence``; print the verdict.

    ``capped``: the training runs behind the evidence that stopped at their time budget; the verdict says so.
    In a seeds run (``config.claims_reported``) a failed claim is printed and logged instead: the run goes on.
    """
    holds, detail = bool(holds), _detail(evidence, capped)
    _log(statement, holds, asserted=True)
    if not holds and config.claims_reported():
        print(f"CLAIM FAILED (seeds run: reported, not raised): {statement}{detail}")
    elif not holds:
        raise ClaimFailed(f"CLAIM FAILED: {statement}{detail}")
    else:
        print(f"claim holds: {statement}{detail}")


def report_claim(statement: str, holds: bool, evidence: str = "", capped: Iterable[str] = ()) -> None:
    """Print whether ``statement`` holds on this run without asserting it: for a claim that does not hold on every
    pretraining seed (see the notebook's seeds table), or that the profile is too small for."""
    holds = bool(holds)
    _log(statement, holds, asserted=False)
    print(f"reported, not asserted: {statement}: {'holds' if holds else 'does not hold'} on this run"
          f"{_detail(evidence, capped)}")


def _detail(evidence: str, capped: Iterable[str]) -> str:
    capped = sorted(capped)
    note = f"; stopped at the time cap: {', '.join(capped)}" if capped else ""
    return f" ({evidence}{note})" if evidence or note else ""


def _log(statement: str, holds: bool, asserted: bool) -> None:
    """Append the claim to COURSE_CLAIMS_LOG (a seeds run's record of which claims held), when it is set."""
    path = config.claims_log()
    if path is not None:
        with path.open("a") as log:
            log.write(json.dumps({"statement": statement, "holds": holds, "asserted": asserted}) + "\n")


class NotYet(AssertionError):
    """An exercise answer is not right yet; the message says what to look at."""


def exercise(name: str, ok: bool, hint: str) -> None:
    """Feedback for exercise ``name``: a hint when the answer is not right yet."""
    if not ok:
        raise NotYet(f"{name}: not yet. Hint: {hint}")
    print(f"{name}: correct, well done.")


def verdict(name: str, tests: Iterable[tuple[Callable[[], bool], str | Callable[[], str]]]) -> None:
    """Run an exercise checker's ``(test, hint)`` pairs in order: the hint of the first that fails, else "correct".

    Tests are callables so that a later one may assume an earlier one held (a shape before its values); a hint may
    be a callable too, for a message that shows the student's own (wrong) numbers.

    A test that calls a student's function through ``guarded`` fails with what that function raised, then the
    test's hint (a callable hint is left out: it may read the answer that was never returned). A NameError gets its
    own hint instead, whatever the test's: a name the function uses is not defined, which no advice on the inputs'
    sizes or types explains.
    """
    for test, hint in tests:
        try:
            if test():
                continue
            message = hint() if callable(hint) else hint
        except Raised as raised:
            error = raised.__cause__
            said = (str(error).strip().splitlines() or [""])[0][:200]
            advice = _undefined_name(error) or ("" if callable(hint) else hint)
            message = f"your function raised {type(error).__name__}: {said}" + (f"; {advice}" if advice else "")
        exercise(name, False, message)
    exercise(name, True, "")


def _undefined_name(error: BaseException) -> str:
    """The hint for a NameError (a name not defined), else ""."""
    if isinstance(error, UnboundLocalError):
        return ("a variable of your function is read before it is given a value (assigned later in the function, or "
                "only on some paths)")
    if isinstance(error, NameError):
        return ("a name your function uses is not defined here: a missing import (run the notebook's setup cell "
                "at the top, or import it in your cell) or a typo in the name")
    return ""


class Raised(Exception):
    """A student's function, called through ``guarded``, raised the exception this one is raised ``from``."""


def answer(fn: Callable, *args, **kwargs) -> Callable[[], object]:
    """What ``fn(*args, **kwargs)`` returns, computed through ``guarded`` the first time a test asks for it and kept
    for the next: a checker's tests read a student's answer through it, so that what the function raises (a shape
    error deep inside it) reaches ``verdict`` and becomes a hint."""
    return functools.cache(lambda: guarded(fn)(*args, **kwargs))


def scalar(value: object) -> float:
    """A student's one-number answer (a 0-d tensor, a one-element tensor, a float) as a float, gradients dropped:
    what a checker compares with the reference's value."""
    return float(torch.as_tensor(value).detach().float().reshape(()))


def close(a: float, b: float, rel: float = 1e-4) -> bool:
    """``a`` equals the reference ``b`` up to float32 rounding: within ``rel`` of it (of 1 for numbers below 1)."""
    return abs(a - b) < rel * max(1.0, abs(b))


def returns(value: Callable[[], object], hint: str) -> tuple[Callable[[], bool], str]:
    """A ``(test, hint)`` pair for ``verdict``: the student's function returns (``value`` is an ``answer``) instead of
    raising. What it raised is shown with ``hint``, which should say what the checker feeds it (shapes, types) and
    which mistake usually raises there, in words, not the answer."""
    return (lambda: (value(), True)[1]), hint


def has_shape(value: Callable[[], object], expected: Iterable[int],
              advice: str | Callable[[], str] = "") -> tuple[Callable[[], bool], Callable[[], str]]:
    """A ``(test, hint)`` pair for ``verdict``: the answer ``value()`` (a tensor, an array or a number) has shape
    ``expected``, else the hint "your function returned shape (…); expected (…)" and ``advice``, what usually gives
    that shape (a callable may read the answer). ``expected == ()``, one number, accepts any one-element answer."""
    expected = tuple(expected)

    def shape() -> tuple[int, ...] | None:
        got = value()
        if isinstance(got, (int, float)):
            return ()
        return tuple(got.shape) if hasattr(got, "shape") else None

    def test() -> bool:
        got = shape()
        return got == expected or (expected == () and got is not None and math.prod(got) == 1)

    def hint() -> str:
        got, said = shape(), advice() if callable(advice) else advice
        what = (f"shape {got}" if got is not None else "None (is a `return` missing?)" if value() is None
                else f"a {type(value()).__name__}, not a tensor")
        want = "one number, shape ()" if expected == () else f"shape {expected}"
        return f"your function returned {what}; expected {want}" + (f": {said}" if said else "")

    return test, hint


def guarded(fn: Callable) -> Callable:
    """``fn`` with what it raises wrapped in ``Raised``, for ``verdict`` to turn into a hint; NotImplementedError
    (an exercise's stub, not done yet) is left as it is."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotImplementedError:
            raise
        except Exception as error:
            raise Raised(error) from error
    return call


def yours_or_ours(yours: Callable, ours: Callable, checker: Callable[[Callable], None]) -> Callable:
    """The function a notebook's next run calls: the student's ``yours`` once ``checker`` accepts it, else the
    course's ``ours``, with one line saying which (and why not yours), so that nobody mistakes one for the other.

    This is how an exercise does the notebook's own work: the cell after it trains (or evaluates) with what this
    returns. A stub not written yet, or an answer the checker does not accept yet, leaves the run to the course's
    function instead of stopping the notebook."""
    name = getattr(yours, "__name__", "function")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the checker's "correct" was shown above already
            checker(yours)
    except NotImplementedError:
        print(f"your {name} is not written yet, so this run uses the course's (write it above, run both cells again)")
        return ours
    except Exception as error:  # whatever a student's answer raises, the run goes on with the course's
        said = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        print(f"your {name} is not accepted yet ({said}), so this run uses the course's")
        return ours
    print(f"this run uses your {name}")
    return yours
