"""The verdict rule on made-up numbers: every outcome, the uncertainty of each part, and the
line's format."""

import math

import numpy as np
import pytest
from scipy import stats

from ckatools.analysis.verdicts import (
    LINE,
    Z95,
    Check,
    Verdict,
    checks_verdict,
    contrast_check,
    deciding,
    equivalent,
    exact,
    interval,
    mean_above,
    mean_difference,
    normal,
    not_run,
    outcome,
    presence_verdict,
    rank_check,
    trend_verdict,
)
from ckatools.stats import null_band, null_p, resampled_test, rho_chance

UP = ([1, 1, 1, 2, 2, 2, 3, 3, 3], [0.1, 0.11, 0.12, 0.2, 0.21, 0.22, 0.3, 0.31, 0.32])
DOWN = (UP[0], UP[1][::-1])
NOISE = ([1, 1, 1, 2, 2, 2, 3, 3, 3], [0.1, 0.5, 0.3, 0.4, 0.2, 0.3, 0.5, 0.1, 0.3])


def test_a_part_holds_goes_against_or_cannot_tell():
    assert Check(0.3, 0.1).state == "holds"
    assert Check(-0.3, 0.1).state == "against"
    assert Check(0.05, 0.1).state == "cannot tell"
    assert Check(float("nan"), 0.1).state == "cannot tell"  # a NaN is never a "no"
    assert Check(0.3, float("nan")).state == "cannot tell"
    assert exact(True).state == "holds" and exact(False).state == "against"
    assert exact(None).state == "cannot tell"


def test_a_part_prints_undefined_values_as_words_and_intervals_as_intervals():
    assert Check(0.1234, 0.05).describe() == "+0.123 ± 0.050"
    assert Check(float("nan"), 0.1).describe() == "undefined"
    assert Check(-0.129, float("nan")).describe() == "-0.129, too few values for an interval"
    assert Check(-0.00004, 0.026).describe() == "+0.000 ± 0.026"  # no "-0.000"
    assert exact(True).describe() == "yes" and exact(None).describe() == "undefined"
    assert interval(0.2, 0.9).describe() == "95 % interval [+0.200, +0.900]"  # not +0.550 ± 0.350
    assert interval(0.2, 0.9).state == Check(0.55, 0.35).state == "holds"
    flat = ([1, 2, 3, 4], [0.2, 0.2, 0.2, 0.2])
    assert "a undefined (one level" in trend_verdict("Fig. 1", "width", {"a": flat}).evidence
    assert "nan" not in str(trend_verdict("Fig. 1", "width", {"a": flat}))


def test_a_presence_verdict_names_what_each_no_means():
    fades = {"ResNet-8 s0": False, "ResNet-8 s1": True}
    assert presence_verdict(
        "Fig. D.6", "no block once PC1 is removed", fades, missing="a block remains"
    ).against == ("ResNet-8 s0 (a block remains)",)
    assert presence_verdict("Fig. D.1", "a block", fades).against == ("ResNet-8 s0 (no block)",)


def test_the_rule_separates_refuted_from_too_noisy():
    holds, against, unsure = Check(1, 0.5, p=0.001), Check(-1, 0.5, p=0.001), Check(0.1, 0.5, p=0.8)
    assert outcome([holds, holds]) == "reproduced"
    assert outcome([holds, unsure]) == "partly reproduced"
    assert outcome([holds, against]) == "not reproduced"
    assert outcome([unsure, against]) == "not reproduced"
    assert outcome([unsure, unsure]) == "inconclusive"
    assert outcome([]) == "inconclusive"


def test_one_part_in_many_does_not_decide_a_claim_alone():
    """Issue 27: one part of 18 going against made Fig. D.5 "not reproduced". Of 18 parts on a
    true claim, one goes against it by chance at up to 37 %; after the Holm-Sidak step-down a
    part decides only with a p-value that chance rarely gives over 18 parts."""
    strong, against, unsure = Check(1, 0.5, p=0.001), Check(-1, 0.5, p=0.02), Check(0.1, 0.5, p=0.6)
    many = [strong] * 7 + [against] + [unsure] * 10
    assert outcome(many) == "partly reproduced"  # the first rule said "not reproduced"
    assert deciding(many) == [True] * 7 + [False] * 11
    clear_against = Check(-1, 0.1, p=1e-10)  # beyond any correction
    assert outcome([strong] * 7 + [clear_against] + [unsure] * 10) == "not reproduced"
    assert outcome([against] + [unsure] * 17) == "inconclusive"
    # two parts: the step-down compares the larger p-value with 5 % itself
    assert outcome([Check(1, 0.5, p=0.01), Check(-1, 0.5, p=0.04)]) == "not reproduced"
    assert outcome([Check(1, 0.5, p=0.03), Check(-1, 0.5, p=0.04)]) == "inconclusive"
    # an exact part is no chance finding: one "no" decides however many parts there are
    assert outcome([exact(False)] + [Check(1, 0.5, p=0.03)] * 17) == "not reproduced"
    assert outcome([exact(True)] + [unsure] * 17) == "partly reproduced"
    # a part known only by its interval decides alone, and never among several
    assert (
        outcome([Check(1, 0.5)]) == "reproduced" and outcome([Check(-1, 0.5)]) == "not reproduced"
    )
    assert outcome([Check(-1, 0.5), unsure]) == "inconclusive"
    line = checks_verdict("Fig. D.5", "PC1", {f"n{i}": c for i, c in enumerate(many)})
    assert (
        "7 of 18 hold, 1 against, 10 cannot tell; 7 of those 8 decide after Holm-Sidak over 18"
        in (line.evidence)
    )


def test_a_verdict_names_only_the_parts_that_decide_and_explains_the_others():
    against, unsure = Check(-1, 0.5, p=0.02), Check(0.1, 0.5, p=0.6)
    line = checks_verdict(
        "Fig. 4", "a claim", {"a": against, **{f"u{i}": unsure for i in range(5)}}
    )
    assert line.outcome == "inconclusive" and line.against == ()
    assert "0 of those 1 decide after Holm-Sidak over 6 parts" in line.evidence
    strong = checks_verdict("Fig. 4", "a claim", {"a": Check(-1, 0.1, p=1e-9), "b": unsure})
    assert strong.outcome == "not reproduced" and strong.against == ("a",)
    every = checks_verdict("Fig. 4", "a claim", {f"h{i}": Check(1, 0.5) for i in range(6)})
    assert every.outcome == "reproduced" and "decide after" not in every.evidence  # no correction


@pytest.mark.parametrize("n", [19, 999, 2000])
def test_resampled_intervals_and_p_values_make_the_same_test(n):
    """The order statistics of resampled_test and null_band against their p-values at every
    draw and between draws, where interpolated percentiles would disagree at the ends."""
    draws = np.random.default_rng(n).normal(0.3, 1, n)
    low, high, _ = resampled_test(draws)
    band = null_band(draws)
    ordered = np.sort(draws)
    for point in np.concatenate([ordered, (ordered[1:] + ordered[:-1]) / 2, [-9.0, 9.0]]):
        p = resampled_test(draws, point)[2]
        assert (point < low or point > high) == (p < 0.05), (point, p)
        assert (abs(point) > band) == (null_p(draws, point) < 0.05), point
    assert null_p(draws, 99.0) == 1 / (n + 1)  # never 0


def test_alone_a_part_decides_exactly_when_its_p_value_is_below_5_percent():
    """Each kind of part's p-value is the test its interval makes (Welch's t, one sample, two
    one-sided tests, a permutation of Spearman's rho, a normal estimate): alone, it holds or goes
    against exactly when p < 0.05, so that the step-down adjusts the test the line prints."""
    rng = np.random.default_rng(0)
    kinds = {"welch": [], "mean_above": [], "equivalent": [], "rank": [], "normal": []}
    for shift in np.linspace(-2, 2, 41):
        a, b = rng.normal(shift, 1, 40), rng.normal(0, 1, 4)
        kinds["welch"].append(mean_difference(a, b))
        kinds["mean_above"].append(mean_above(a, 0.3))
        kinds["equivalent"].append(equivalent(a, rng.normal(0, 1, 40), margin=1.0))
        kinds["normal"].append(normal(shift, 0.9))
    xs = np.repeat([1.0, 2.0, 3.0], 3)
    for shift in np.linspace(0, 2, 9):  # 2,000 shuffles each: fewer steps
        kinds["rank"].append(rank_check(xs, xs * shift + rng.normal(0, 1, 9), seed=1)[1])
    for kind, parts in kinds.items():
        states = {part.state for part in parts}
        assert {"holds", "cannot tell"} <= states, kind
        for part in parts:
            assert (part.state != "cannot tell") == (part.p < 0.05), (kind, part)
    welch_p = stats.ttest_ind([1.0, 2.0, 3.5], [0.1, 0.4, 0.3, 0.2], equal_var=False).pvalue
    assert mean_difference([1.0, 2.0, 3.5], [0.1, 0.4, 0.3, 0.2]).p == pytest.approx(welch_p)


def test_welch_difference_matches_scipy():
    rng = np.random.default_rng(0)
    for n_a, n_b in ((12, 30), (3, 3), (3, 5)):  # networks as units: three seeds a side
        a, b = rng.normal(1.0, 1.0, n_a), rng.normal(0.2, 2.0, n_b)
        check = mean_difference(a, b)
        low, high = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
        assert check.value == pytest.approx(a.mean() - b.mean(), rel=1e-12)
        assert check.value - check.uncertainty == pytest.approx(low, rel=1e-9)
        assert check.value + check.uncertainty == pytest.approx(high, rel=1e-9)
    assert mean_difference(a, b).uncertainty > Z95 * np.hypot(
        a.std(ddof=1) / 3**0.5, b.std(ddof=1) / 5**0.5
    )
    assert math.isnan(mean_difference([1.0], b).uncertainty)  # one value: no variance
    above = mean_above([1.0, 2.0, 3.0, float("nan")], 1.0)
    assert above.value == pytest.approx(1.0)
    low, high = stats.ttest_1samp([1.0, 2.0, 3.0], 1.0).confidence_interval(0.95)
    assert above.uncertainty == pytest.approx((high - low) / 2)  # t with 2 df: 4.30 / sqrt(3)


def _tost_p(a, b, margin):
    """Two one-sided Welch tests with scipy: the larger of the two p-values."""
    lower = stats.ttest_ind(np.asarray(a) + margin, b, equal_var=False, alternative="greater")
    upper = stats.ttest_ind(np.asarray(a) - margin, b, equal_var=False, alternative="less")
    return max(lower.pvalue, upper.pvalue)


def test_equivalence_is_two_one_sided_tests():
    rng = np.random.default_rng(1)
    states = set()
    for shift, n in ((0.0, 40), (0.3, 40), (1.25, 3), (0.1, 3), (3.0, 20), (-3.0, 20)):
        a, b = rng.normal(shift, 0.5, n), rng.normal(0.0, 0.5, n)
        check = equivalent(a, b, margin=0.5)
        states.add(check.state)
        assert (check.state == "holds") == (_tost_p(a, b, 0.5) < 0.05), (shift, n)
        side = "greater" if a.mean() > b.mean() else "less"  # beyond the margin, one-sided
        beyond = stats.ttest_ind(
            a - np.sign(shift or 1) * 0.5, b, equal_var=False, alternative=side
        )
        assert (check.state == "against") == (beyond.pvalue < 0.05), (shift, n)
    assert states == {"holds", "against", "cannot tell"}
    # the paper's "statistically indistinguishable" at chapter 9's numbers: a 1.25-point gap
    # with Welch p = 0.18 is no difference found, and no equivalence either
    wide, deep = [0.71, 0.73, 0.735], [0.70, 0.705, 0.7325]
    assert stats.ttest_ind(wide, deep, equal_var=False).pvalue > 0.05
    assert equivalent(wide, deep, margin=0.005).state != "holds"


def test_contrast_check_compares_pairs_inside_with_pairs_between():
    m = np.full((6, 6), 0.2)
    m[1:4, 1:4] = 0.9
    m[2, 3] = m[3, 2] = 0.8
    np.fill_diagonal(m, 1.0)
    check = contrast_check(m, 1, 3)
    inside = [0.9, 0.9, 0.9, 0.8, 0.9, 0.8]  # the six off-diagonal pairs inside
    assert check.value == pytest.approx(np.mean(inside) - 0.2)
    assert check.state == "holds"


def test_rank_checks_judge_pooled_rho_against_shuffled_networks():
    rho, check = rank_check(*UP)
    assert rho == pytest.approx(stats.spearmanr(*UP).statistic) and check.state == "holds"
    assert check.value == rho  # the band is around zero, not around rho: no interval to misread
    assert check.describe().startswith(f"{rho:+.3f}, chance gives up to ±")
    xs, ys = [1, 2, 3, 4, 5, 6], [0.1, 0.3, 0.2, 0.5, 0.4, 0.6]  # one network per level
    rho, check = rank_check(xs, ys)
    assert check.uncertainty == rho_chance(xs, ys) and check.state == "holds"  # 0.89 > 0.83
    rho, check = rank_check(xs, ys[::-1])
    assert check.state == "against"
    assert rank_check([1, 2, 3], [0.1, 0.2, 0.3])[1].state == "cannot tell"  # too few points


def test_trend_verdicts_cover_every_outcome():
    assert trend_verdict("Fig. 1", "width", {"a": UP, "b": UP}).outcome == "reproduced"
    assert trend_verdict("Fig. 1", "width", {"a": UP, "b": NOISE}).outcome == "partly reproduced"
    v = trend_verdict("Fig. 1", "width", {"a": UP, "b": DOWN})
    assert v.outcome == "not reproduced" and v.against == ("b",)
    assert "b points the other way" in v.reading
    assert trend_verdict("Fig. 1", "width", {"a": NOISE}).outcome == "inconclusive"
    flat = ([1, 2, 3, 4], [0.2, 0.2, 0.2, 0.2])  # rho is NaN: cannot tell, not a "no"
    assert trend_verdict("Fig. 1", "width", {"a": flat}).outcome == "inconclusive"


def test_the_verdict_line_states_the_numbers_and_parses_back():
    line = str(trend_verdict("Fig. 2", "less data", {"×0.25": NOISE}))
    assert line.startswith(
        "Verdict (Fig. 2): inconclusive - block extent rises with less data: 0 of 1 hold, "
        "0 against, 1 cannot tell (Spearman's rho over the networks, and the 95 % band of "
        "shuffled ones: ×0.25 +0."
    )
    match = LINE.search("noise\n" + line + "\nmore")
    assert match["figure"] == "Fig. 2" and match["outcome"] == "inconclusive"
    markdown = trend_verdict("Fig. 2", "less data", {"×0.25": NOISE})._repr_markdown_()
    assert markdown.startswith("**Verdict (Fig. 2): inconclusive**") and "cannot tell" in markdown


def test_presence_checks_and_not_run():
    assert presence_verdict("Fig. D.1", "a block", {"s0": True, "s1": True}).outcome == "reproduced"
    v = presence_verdict("Fig. D.1", "a block", {"s0": True, "s1": False})
    assert v.outcome == "not reproduced" and "1 of 2 networks (where it holds: s0)" in v.evidence
    v = presence_verdict("Fig. D.1", "a block", {"s0": True, "s1": None})
    assert v.outcome == "partly reproduced" and "1 cannot tell" in v.evidence
    c = checks_verdict("Fig. 5", "cheaper inside", {"a": Check(0.02, 0.01), "b": None})
    assert c.outcome == "partly reproduced" and "a: holds (+0.020 ± 0.010)" in c.evidence
    # nothing to compute on (no network with a block, say) is not the same as too noisy to tell
    empty = checks_verdict("Fig. 6", "unique to each model", {})
    undefined = checks_verdict("Fig. 3", "PC1", {"a": mean_above([]), "b": None})
    assert empty.outcome == undefined.outcome == "not testable"
    assert "none of its parts could be computed" in undefined.evidence
    assert "fit" not in undefined.reading
    noisy = checks_verdict("Fig. 3", "PC1", {"a": mean_above([0.1]), "b": None})
    assert noisy.outcome == "inconclusive"  # one network: a value without an interval
    assert (
        str(not_run("Fig. D.3", "needs CIFAR-100"))
        == "Verdict (Fig. D.3): not run in this profile - needs CIFAR-100"
    )


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome must be one of"):
        Verdict("Fig. 1", "sort of", "")
