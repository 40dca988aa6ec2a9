"""Checked exercises: right, wrong and unanswered answers of each kind."""

import numpy as np
import pytest
import torch

from ckatools.book.exercises import check


def test_right_answers_pass_and_say_so(capsys):
    assert check(0.51, 0.5, tolerance=0.02) is True
    assert check(3, 3) is True
    assert check(" Stage 3 ", "stage 3") is True
    assert check(True, True) is True
    assert check((1, 2), (1, 2)) is True
    assert check(np.float64(0.51), torch.tensor(0.5), tolerance=0.02) is True  # scalars unwrapped
    assert check(True, np.True_) is True
    assert capsys.readouterr().out.count("Correct.") == 7


@pytest.mark.parametrize(
    "answer, expected, tolerance",
    [
        (0.53, 0.5, 0.02),  # outside the tolerance
        (float("nan"), 0.5, 1.0),  # NaN is never right
        ("0.5", 0.5, 0.1),  # text for a number
        (1, True, 0.0),  # a number for yes/no
        ("stage 2", "stage 3", 0.0),
        (1, np.True_, 0.0),  # a number is no yes/no, numpy's yes/no included
    ],
)
def test_wrong_answers_raise_with_the_hint_and_not_the_answer(answer, expected, tolerance):
    with pytest.raises(AssertionError, match="Hint: look at the last row") as error:
        check(answer, expected, tolerance=tolerance, hint="look at the last row")
    assert repr(expected) not in str(error.value).replace(repr(answer), "")


def test_an_unanswered_exercise_lets_the_chapter_run_on(capsys):
    result = check(None, 0.5)
    assert not result and repr(result) == "not answered yet"
    assert "set `answer`" in capsys.readouterr().out
    with pytest.raises(ValueError, match="tolerance"):
        check(0.5, 0.5, tolerance=-1)
