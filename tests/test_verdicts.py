"""The verdict rule on made-up numbers: every outcome, and the line's format."""

import pytest

from ckatools.verdicts import LINE, Verdict, not_run, presence_verdict, trend_verdict


def test_trend_verdicts_cover_every_outcome():
    up, down, flat = (
        ([1, 2, 3], [0.1, 0.2, 0.3]),
        ([1, 2, 3], [0.3, 0.2, 0.1]),
        ([1, 2, 3], [0.2, 0.2, 0.2]),
    )
    assert trend_verdict("Fig. 1", "width", {"a": up, "b": up}).outcome == "reproduced"
    assert trend_verdict("Fig. 1", "width", {"a": up, "b": down}).outcome == "partly reproduced"
    assert trend_verdict("Fig. 1", "width", {"a": down, "b": flat}).outcome == "not reproduced"
    weak = ([1, 2, 3], [0.1, 0.3, 0.2])  # rho = +0.5: counts as rising
    assert trend_verdict("Fig. 1", "width", {"a": weak}).outcome == "reproduced"


def test_the_verdict_line_states_the_numbers_and_parses_back():
    v = trend_verdict(
        "Fig. 2",
        "less data",
        {"×0.25": ([4, 16, 64], [0.29, 0.29, 0.25]), "×0.5": ([4, 16, 64], [0.37, 0.33, 0.27])},
    )
    line = str(v)
    assert line == (
        "Verdict (Fig. 2): not reproduced - block score rises with less data in 0 of 2 series "
        "(Spearman: ×0.25 -0.87, ×0.5 -1.00)"
    )
    match = LINE.search("noise\n" + line + "\nmore")
    assert match["figure"] == "Fig. 2" and match["outcome"] == "not reproduced"


def test_presence_and_not_run():
    assert presence_verdict("Fig. D.1", "a block", {"s0": True, "s1": True}).outcome == "reproduced"
    v = presence_verdict("Fig. D.1", "a block", {"s0": True, "s1": False})
    assert v.outcome == "partly reproduced" and "1 of 2 networks (where it holds: s0)" in v.evidence
    assert presence_verdict("Fig. D.1", "a block", {"s0": False}).outcome == "not reproduced"
    assert (
        str(not_run("Fig. D.3", "needs CIFAR-100"))
        == "Verdict (Fig. D.3): not run in this profile - needs CIFAR-100"
    )


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome must be one of"):
        Verdict("Fig. 1", "sort of", "")
