"""Exercises whose answer a cell checks: the student sets ``answer``, the next line checks it.

    answer = None  # your value
    check(answer, expected, tolerance=0.01, hint="count the networks whose block is present")

``expected`` is computed in the cell from the chapter's own numbers (never typed), so the check
holds for whatever the run measured. An answer left at ``None`` is not wrong: the cell says how
to answer and goes on, so a chapter runs from top to bottom before anyone has answered.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["NotAnswered", "check"]


class NotAnswered:
    """What :func:`check` returns for an answer left at ``None``: falsy, and says so."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "not answered yet"


def _plain(value):
    """A numpy or torch scalar (what a chapter's numbers often are) as a Python number or bool."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return item()
    return value


def _matches(answer, expected, tolerance: float) -> bool:
    answer, expected = _plain(answer), _plain(expected)
    if isinstance(expected, bool) or isinstance(answer, bool):
        return isinstance(answer, bool) and answer == bool(expected)
    if isinstance(expected, numbers.Real):
        if not isinstance(answer, numbers.Real) or not math.isfinite(float(answer)):
            return False
        return abs(float(answer) - float(expected)) <= tolerance
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip().casefold() == expected.casefold()
    return answer == expected


def check(answer, expected, *, tolerance: float = 0.0, hint: str = ""):
    """Check a student's ``answer`` against ``expected``.

    Numbers match within ``tolerance`` (absolute), text without regard to case or surrounding
    spaces, booleans exactly, anything else by ``==``. A right answer prints "Correct" and
    returns True; a wrong one raises ``AssertionError`` with the ``hint`` (never the expected
    value); ``None`` prints how to answer and returns a falsy :class:`NotAnswered`.
    """
    if tolerance < 0 or not math.isfinite(tolerance):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance}")
    if answer is None:
        print("Not answered yet: set `answer` above to your value and run the cell again.")
        return NotAnswered()
    if not _matches(answer, expected, tolerance):
        within = f" (within {tolerance:g})" if tolerance else ""
        hint = hint or "read the cell above."
        raise AssertionError(f"{answer!r} is not it{within}. Hint: {hint}")
    print("Correct.")
    return True
