"""Per-example and per-class comparisons of groups of networks, on made-up correctness."""

import dataclasses
import re

import numpy as np
import pytest
from scipy import stats

from ckatools.analysis.mistakes import (
    Group,
    accuracy_match,
    class_group_tests,
    class_tests,
    compare,
    dispersion,
    equal_trained,
    example_accuracy,
    excess_dispersion,
    growth,
    holm_sidak,
    joint_counts,
    more_easier,
    shifts,
    split_half,
)
from ckatools.data import class_groups

LABELS = np.arange(2000) % 10


def group(networks, rate, seed):
    """Correctness of `networks` networks, each right on each example with probability rate."""
    rng = np.random.default_rng(seed)
    rate = np.broadcast_to(rate, LABELS.shape)
    return rng.random((networks, len(LABELS))) < rate


def test_holm_sidak_against_hand_computed_values():
    adjusted = holm_sidak([0.01, 0.04, 0.03, 0.2])
    expected = [1 - 0.99**4, 1 - 0.97**3, 1 - 0.97**3, 0.2]  # 0.04's own value is below 0.03's
    np.testing.assert_allclose(adjusted, expected)
    assert holm_sidak([0.5]) == pytest.approx([0.5])


def test_identical_groups_differ_in_no_class_and_a_planted_class_is_found():
    rates = np.where(LABELS == 3, 0.9, 0.8)
    a, b = group(20, rates, 0), group(20, rates, 1)
    assert not any(row["differs"] for row in class_tests(a, b, LABELS))
    assert not any(row["differs"] for row in class_tests(a, a, LABELS))  # p = 1, not NaN
    worse = group(20, np.where(LABELS == 3, 0.6, 0.8), 2)
    rows = class_tests(a, worse, LABELS)
    assert [row["label"] for row in rows if row["differs"]] == [3]
    assert rows[3]["accuracy_a"] - rows[3]["accuracy_b"] == pytest.approx(0.3, abs=0.03)


def test_class_groups_pool_their_classes_and_find_a_planted_group():
    groups = {
        "low": (0, 1, 2, 3, 4),
        "high": (5, 6, 7, 8, 9),
        "just 3": (3,),
        "all": tuple(range(10)),
    }
    rates = np.where(LABELS < 5, 0.8, 0.7)
    a, b = group(20, rates, 0), group(20, rates, 1)
    assert not any(row["differs"] for row in class_group_tests(a, b, LABELS, groups))
    worse = group(20, np.where(LABELS < 5, 0.7, 0.7), 2)  # worse on every class of "low"
    rows = {row["group"]: row for row in class_group_tests(a, worse, LABELS, groups)}
    assert rows["low"]["differs"] and not rows["high"]["differs"]
    assert rows["low"]["classes"] == 5 and rows["all"]["classes"] == 10
    # a group's accuracy pools its examples: the mean of its networks' accuracy on them
    assert rows["low"]["accuracy_a"] == pytest.approx(a[:, LABELS < 5].mean())
    # a group of one class is that class's own test (before the correction)
    one = class_tests(a, worse, LABELS)[3]
    assert rows["just 3"]["t"] == pytest.approx(one["t"]) and rows["just 3"]["p"] == pytest.approx(
        one["p"]
    )
    with pytest.raises(ValueError, match="without test examples: none"):
        class_group_tests(a, b, LABELS, {"none": (11,)})


def test_dataset_class_groups():
    superclasses = class_groups("cifar100")
    assert len(superclasses) == 20 and sorted(sum(superclasses.values(), ())) == list(range(100))
    assert superclasses["people"] == (2, 11, 35, 46, 98)  # baby, boy, girl, man, woman
    assert class_groups("fashion-mnist")["footwear"] == (5, 7, 9)  # sandal, sneaker, boot
    with pytest.raises(ValueError, match="no class groups for dataset 'mnist'"):
        class_groups("mnist")


def test_split_half_separates_real_differences_from_selection_noise():
    same = split_half(group(20, 0.5, 0), group(20, 0.5, 1), threshold=0.4)
    assert len(same["examples"]) > 0 and same["selected"] >= 0.4
    assert abs(same["held_out"]) < 0.05  # selected by noise: gone on the other halves
    planted = np.arange(len(LABELS)) < 100  # a is right on these, b mostly wrong
    a, b = group(20, np.where(planted, 1.0, 0.5), 2), group(20, np.where(planted, 0.1, 0.5), 3)
    real = split_half(a, b, threshold=0.4)
    assert len(set(range(100)) & set(real["examples"])) >= 95
    assert real["held_out"] > 0.2
    assert real["held_out"] - 1.96 * real["held_out_se"] > 0.15
    assert same["held_out_se"] == pytest.approx(
        np.std(same["held_out_gaps"], ddof=1) / np.sqrt(len(same["examples"]))
    )
    with pytest.raises(ValueError, match="at least 4 networks"):
        split_half(group(3, 0.5, 0), group(20, 0.5, 1))


def test_example_accuracy_and_accuracy_match():
    correct = np.array([[1, 0, 1], [1, 1, 0]])
    np.testing.assert_allclose(example_accuracy(correct), [1, 0.5, 0.5])
    match = accuracy_match([0.80, 0.82, 0.81], [0.80, 0.81, 0.82])
    assert match["mean_a"] == pytest.approx(0.81) and match["p"] > 0.5
    assert accuracy_match([0.80, 0.81, 0.80], [0.90, 0.91, 0.90])["p"] < 0.001
    # the 90 % interval of the difference is Welch's, as scipy computes it
    a, b = [0.80, 0.83, 0.81, 0.84], [0.80, 0.81, 0.79]
    expected = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.90)
    match = accuracy_match(a, b)
    assert match["difference"] == pytest.approx(np.mean(a) - np.mean(b))
    np.testing.assert_allclose(match["interval90"], tuple(expected), rtol=1e-9)
    with pytest.raises(ValueError, match="networks, examples"):
        example_accuracy([1, 0, 1])


def test_joint_counts_count_each_example_once_at_its_two_accuracies():
    a = np.array([[1, 1, 0, 0], [1, 0, 0, 1]])  # example accuracies 1, 1/2, 0, 1/2
    b = np.array([[1, 0, 0, 1], [1, 0, 1, 1], [1, 0, 0, 1]])  # 1, 0, 1/3, 1
    counts = joint_counts(a, b)
    expected = np.zeros((3, 4), int)
    expected[2, 3] = expected[1, 0] = expected[0, 1] = expected[1, 3] = 1
    np.testing.assert_array_equal(counts, expected)
    with pytest.raises(ValueError, match="2000 and 4 examples"):
        joint_counts(group(4, 0.5, 0), b)


def test_dispersion_matches_its_expected_value_and_the_baseline_excess_detects_a_difference():
    # two independent groups of n networks with one accuracy p per example: E = 2 p (1 - p) / n
    a, b = group(20, 0.7, 0), group(20, 0.7, 1)
    assert dispersion(a, b) == pytest.approx(2 * 0.7 * 0.3 / 20, rel=0.1)
    assert dispersion(a, a) == 0
    c, d = group(20, 0.7, 2), group(20, 0.7, 3)
    same = excess_dispersion((a, b), (c, d), resamples=200)
    assert same["low"] < 0 < same["high"]  # same architecture twice: no excess
    assert same["low"] < same["excess"] < same["high"]
    # b is right on every other example with 0.5 where a has 0.9, and the other way round: the
    # architectures add a squared gap of 0.4^2 = 0.16 on every example
    rates = np.where(np.arange(len(LABELS)) % 2 == 0, 0.9, 0.5)
    shifted = group(20, np.where(rates == 0.9, 0.5, 0.9), 4)
    differ = excess_dispersion((group(20, rates, 5), shifted), (c, d), resamples=200)
    assert differ["excess"] == pytest.approx(0.16, abs=0.02)
    assert 0 < differ["low"] < differ["excess"] < differ["high"]  # centred: a ratio's is not
    assert differ["ratio"] == pytest.approx(differ["pair"] / same["baseline"])
    with pytest.raises(ValueError, match="as many networks per group"):
        excess_dispersion((a, b), (c, d[:10]))


def test_shifts_count_examples_that_get_easier_or_harder():
    small = np.array([[0, 0, 1, 1, 1], [0, 1, 1, 1, 0], [0, 0, 1, 0, 1]])  # 0, 1/3, 1, 2/3, 2/3
    large = np.array([[1, 1, 0, 1, 1], [1, 1, 0, 1, 1], [0, 1, 0, 0, 1]])  # 2/3, 1, 0, 2/3, 1
    assert shifts(small, large, threshold=2 / 3) == dict(easier=2, harder=1)
    assert shifts(small, small, threshold=1 / 3) == dict(easier=0, harder=0)


def named(correct, label="ResNet-8 ×0.5", seeds=None, **knobs):
    seeds = tuple(range(len(correct))) if seeds is None else seeds
    return Group(label, seeds, correct, np.ones(len(correct)), **knobs)


def test_group_names_its_seeds_and_scores_its_networks():
    g = named(np.array([[1, 0], [1, 1], [0, 0]]), seeds=(20, 21, 22))
    assert g.name == "ResNet-8 ×0.5, seeds 20-22" and len(g) == 3
    np.testing.assert_allclose(g.accuracy, [0.5, 1, 0])
    assert named(g.correct, seeds=(0, 2, 5)).name == "ResNet-8 ×0.5, seeds 0, 2, 5"
    gaps = named(np.zeros((8, 2)), seeds=(5, 0, 1, 2, 3, 6, 8, 9))
    assert gaps.name == "ResNet-8 ×0.5, seeds 0-3, 5, 6, 8, 9"


def test_a_group_names_and_drops_its_networks_that_did_not_train():
    g = Group(
        "ResNet-38 ×0.25", (0, 1, 2), np.array([[1, 0], [0, 0], [1, 1]]), np.array([0.7, 0.3, 0.5])
    )
    assert g.untrained == (1,)
    kept = g.trained()
    assert kept.seeds == (0, 2) and kept.correct.tolist() == [[1, 0], [1, 1]]
    assert kept.train_accuracy.tolist() == [0.7, 0.5] and kept.untrained == ()


def test_equal_trained_drops_failed_networks_and_cuts_groups_to_one_size():
    a = Group("a", (0, 1, 2, 3), np.eye(4, dtype=bool), np.array([0.6, 0.2, 0.7, 0.8]))
    b = Group("b", (5, 6, 7, 8), ~np.eye(4, dtype=bool), np.full(4, 0.9))
    kept_a, kept_b = equal_trained([a, b], minimum=3)
    assert kept_a.seeds == (0, 2, 3) and kept_b.seeds == (5, 6, 7)
    assert kept_b.correct.tolist() == (~np.eye(4, dtype=bool))[:3].tolist()
    assert kept_a.train_accuracy.tolist() == [0.6, 0.7, 0.8]
    with pytest.warns(UserWarning, match="fewer than 4: every network is compared"):
        whole = equal_trained([a, b], minimum=4)
    assert [g.seeds for g in whole] == [a.seeds, b.seeds]


def test_more_examples_easier_is_a_sign_test_not_a_comparison_of_counts():
    """A near tie cannot tell (the bare comparison called 470 against 480 "against"); clear
    majorities decide either way; the interval is the exact binomial one of the share, less 1/2,
    and its p-value is the two-sided sign test's (checked against the binomial sum)."""
    assert more_easier(dict(easier=470, harder=480)).state == "cannot tell"
    assert more_easier(dict(easier=784, harder=454)).state == "holds"
    assert more_easier(dict(easier=400, harder=600)).state == "against"
    assert more_easier(dict(easier=0, harder=0)).state == "cannot tell"
    check = more_easier(dict(easier=7, harder=1))
    tail = sum(stats.binom.pmf(k, 8, 0.5) for k in (0, 1, 7, 8))  # as or more extreme, both sides
    assert check.p == pytest.approx(tail, rel=1e-9)
    low, high = check.value - check.uncertainty, check.value + check.uncertainty
    assert stats.binom.sf(6, 8, low + 0.5) == pytest.approx(0.025, rel=1e-6)  # P(X >= 7) at low
    assert stats.binom.cdf(7, 8, high + 0.5) == pytest.approx(0.025, rel=1e-6)  # P(X <= 7) at high


def test_growth_leaves_out_networks_that_did_not_train():
    small = named(group(3, 0.6, 0), "ResNet-8 ×0.5", depth=8)
    large = named(group(3, np.where(LABELS < 5, 0.95, 0.55), 1), "ResNet-14 ×0.5", depth=14)
    failed = named(group(3, 0.1, 2), "ResNet-14 ×0.5", seeds=(3, 4, 5), depth=14)
    both = Group(
        large.label,
        large.seeds + failed.seeds,
        np.vstack([large.correct, failed.correct]),
        np.r_[np.ones(3), np.full(3, 0.2)],
        depth=14,
    )
    kept_moved, kept = growth("Fig. F.2", "depth", {8: small, 14: large})
    moved, verdict = growth("Fig. F.2", "depth", {8: small, 14: both})
    assert moved == kept_moved and verdict.evidence == kept.evidence
    counted = dataclasses.replace(both, train_accuracy=np.ones(6))  # as if all had trained
    assert growth("Fig. F.2", "depth", {8: small, 14: counted})[0] != kept_moved


def exact_group(networks, rate, seed):
    """Like group(), but each network is right on exactly `rate` of the examples of each rate:
    every network's accuracy is the same, as if the group's mean were known exactly."""
    rng = np.random.default_rng(seed)
    rate = np.broadcast_to(rate, LABELS.shape)
    correct = np.zeros((networks, len(LABELS)), dtype=bool)
    for value in np.unique(rate):
        where = np.flatnonzero(rate == value)
        for row in correct:
            row[rng.permutation(where)[: round(value * len(where))]] = True
    return correct


def test_compare_reproduces_fig_7_only_for_planted_per_example_differences():
    rates = np.where(np.arange(len(LABELS)) % 2 == 0, 0.9, 0.6)  # mean accuracy 0.75 for both
    wide, again = named(exact_group(20, rates, 0)), named(exact_group(20, rates, 1))
    swapped = named(exact_group(20, np.where(rates == 0.9, 0.6, 0.9), 2), "ResNet-38 ×0.25")
    fig7, f1 = compare((wide, swapped), (wide, again), LABELS).verdicts()
    assert fig7.outcome == "reproduced" and f1.outcome == "reproduced", (fig7, f1)
    assert "two one-sided Welch tests" in fig7.evidence
    # the same per-example differences with Bernoulli noise in each network's accuracy: Welch
    # finds no difference (p >= 0.05), but 20 networks cannot show equality within half a point
    noisy = named(group(20, np.where(rates == 0.9, 0.6, 0.9), 2), "ResNet-38 ×0.25")
    found = compare((named(group(20, rates, 0)), noisy), (wide, again), LABELS)
    fig7 = found.verdicts()[0]
    assert found.accuracy["p"] >= 0.05
    assert fig7.outcome == "partly reproduced" and "equal mean accuracy" in fig7.evidence
    same = named(group(20, rates, 3), "ResNet-38 ×0.25")
    fig7, f1 = compare((wide, same), (wide, again), LABELS).verdicts()
    assert f1.outcome != "reproduced"
    assert "scatter above the baseline's" in fig7.evidence and "cannot tell" in fig7.evidence
    assert fig7.outcome == "not reproduced"  # no more classes differ than in the baseline


def test_fig_7_can_be_judged_against_the_deep_baseline_too():
    # the paper's Fig. 7b baseline is two groups of the deep architecture: where two of its
    # groups differ example by example as much as wide and deep do, the pair shows nothing more
    rates = np.where(np.arange(len(LABELS)) % 2 == 0, 0.9, 0.6)
    flipped = np.where(rates == 0.9, 0.6, 0.9)
    wide, again = named(exact_group(20, rates, 0)), named(exact_group(20, rates, 1))
    deep = named(exact_group(20, flipped, 2), "ResNet-38 ×0.25")
    fig7, f1 = compare((wide, deep), (wide, again), LABELS).verdicts()
    assert fig7.outcome == "reproduced" and f1.outcome == "reproduced"
    scattered = named(exact_group(20, rates, 3), "ResNet-38 ×0.25")  # deep seeds that disagree
    also = compare((wide, deep), (deep, scattered), LABELS)
    fig7, f1 = compare((wide, deep), (wide, again), LABELS).verdicts(also=also)
    assert "scatter above the ResNet-38 ×0.25 baseline's" in fig7.evidence
    assert "scatter above the ResNet-8 ×0.5 baseline's" in fig7.evidence
    assert fig7.outcome != "reproduced" and f1.outcome != "reproduced"
    steady = named(exact_group(20, flipped, 4), "ResNet-38 ×0.25")  # deep seeds that agree
    fig7, _ = compare((wide, deep), (wide, again), LABELS).verdicts(
        also=compare((wide, deep), (deep, steady), LABELS)
    )
    assert fig7.outcome == "reproduced"


def rates(sometimes, never, always=1.0):
    """Example accuracies by class: classes 0-2 `sometimes`, 3-5 `never`, 6-9 `always`."""
    return np.where(LABELS < 3, sometimes, np.where(LABELS < 6, never, always))


def test_growth_checks_the_accuracy_trend_and_the_examples_that_move():
    small = named(group(6, rates(0.75, 0.0), 0), "ResNet-8 ×0.5", depth=8)
    middle = named(group(6, rates(0.85, 0.0), 3), "ResNet-11 ×0.5", depth=11)
    large = named(group(6, rates(0.95, 0.05), 1), "ResNet-14 ×0.5", depth=14)
    moved, verdict = growth("Fig. F.2", "depth", {14: large, 8: small, 11: middle})
    assert verdict.outcome == "reproduced" and moved["easier"] > moved["harder"]
    assert "often but not always right" in verdict.evidence
    # the same networks again on other seeds: examples move both ways about equally, and the
    # part is a sign test that cannot tell (a comparison of the two counts would decide)
    again = named(group(6, rates(0.75, 0.0), 7), "ResNet-14 ×0.5", depth=14)
    moved, verdict = growth("Fig. F.2", "depth", {8: small, 14: again})
    part = re.search(
        r"easier than harder \(\d+ vs \d+; sign test[^)]*\): ([a-z ]+) \(", verdict.evidence
    )
    assert moved["easier"] != moved["harder"] and part[1] == "cannot tell"
    moved, verdict = growth("Fig. F.2", "depth", {8: large, 11: middle, 14: small})
    assert verdict.outcome == "not reproduced"
    # the same rise, but gained where the small networks are never right: the clause goes against
    elsewhere = named(group(6, rates(0.75, 0.6), 1), "ResNet-14 ×0.5", depth=14)
    _, verdict = growth("Fig. F.2", "depth", {14: elsewhere, 8: small, 11: middle})
    assert verdict.outcome == "not reproduced"
    assert len(verdict.against) == 1 and "often but not always" in verdict.against[0]
    # two levels of three seeds cannot show a trend at 95 %: the accuracy part cannot tell
    small, large = (
        named(group(3, rates(r, 0.0), k), f"ResNet-{d} ×0.5", depth=d)
        for r, k, d in ((0.75, 0, 8), (0.95, 1, 14))
    )
    _, verdict = growth("Fig. F.2", "depth", {14: large, 8: small})
    assert verdict.outcome == "partly reproduced"


def test_the_gain_where_small_networks_are_often_right_is_measured_on_held_out_networks():
    from ckatools.analysis.mistakes import gain_where_often_right

    # no gain anywhere: selecting and measuring on the same networks would find a difference
    # (examples picked by noise fall back to the mean), the held-out network does not
    same = [gain_where_often_right(group(20, 0.6, s), group(20, 0.6, 100 + s)) for s in range(5)]
    assert all(found["check"].state == "cannot tell" for found in same)
    often = group(20, 0.6, 7).mean(0)
    inside = (often >= 0.5) & (often < 1)
    gain = group(20, 0.6, 8).mean(0) - often
    assert gain[inside].mean() - gain[~inside].mean() < -0.1  # in-sample: biased
    planted = gain_where_often_right(group(20, rates(0.7, 0.0), 1), group(20, rates(0.9, 0.0), 2))
    assert planted["check"].state == "holds" and planted["inside"] > planted["outside"] + 0.1
    # three seeds, as the profiles train: the other two say "one of two right", so the part can
    # hold (a split in halves left one network, never "often but not always" right)
    three = [
        gain_where_often_right(group(3, rates(0.7, 0.0), s), group(3, rates(0.9, 0.0), 50 + s))
        for s in range(5)
    ]
    assert all(found["examples"] > 0 and found["check"].state == "holds" for found in three)
    unrelated = [gain_where_often_right(group(3, 0.6, s), group(3, 0.6, 60 + s)) for s in range(5)]
    assert sum(found["check"].state != "cannot tell" for found in unrelated) <= 1
    for too_few in ((group(2, 0.6, 0), group(3, 0.6, 1)), (group(4, 0.6, 0), group(0, 0.6, 1))):
        found = gain_where_often_right(*too_few)  # e.g. no network of a group trained
        assert found["examples"] == 0 and found["check"].state == "cannot tell"


def test_fig_7_is_not_testable_when_the_groups_accuracies_differ():
    """Equal accuracy is the comparison's premise: groups whose accuracies differ beyond the
    margin make different mistakes for that reason alone."""
    rates = np.where(np.arange(len(LABELS)) % 2 == 0, 0.9, 0.6)
    wide, again = named(exact_group(20, rates, 0)), named(exact_group(20, rates, 1))
    worse = named(exact_group(20, rates - 0.1, 2), "ResNet-38 ×0.25")  # 10 points lower
    found = compare((wide, worse), (wide, again), LABELS)
    fig7, _ = found.verdicts()
    assert fig7.outcome == "not testable" and "differ beyond ±0.5%" in fig7.evidence
    assert "its parts alone: not reproduced" in fig7.evidence  # the accuracy part is against
