"""Per-example and per-class comparisons of groups of networks, on made-up correctness."""

import numpy as np
import pytest

from ckatools.mistakes import (
    accuracy_match,
    class_tests,
    example_accuracy,
    holm_sidak,
    split_half,
)

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


def test_split_half_separates_real_differences_from_selection_noise():
    same = split_half(group(20, 0.5, 0), group(20, 0.5, 1), threshold=0.4)
    assert len(same["examples"]) > 0 and same["selected"] >= 0.4
    assert abs(same["held_out"]) < 0.05  # selected by noise: gone on the other halves
    planted = np.arange(len(LABELS)) < 100  # a is right on these, b mostly wrong
    a, b = group(20, np.where(planted, 1.0, 0.5), 2), group(20, np.where(planted, 0.1, 0.5), 3)
    real = split_half(a, b, threshold=0.4)
    assert len(set(range(100)) & set(real["examples"])) >= 95
    assert real["held_out"] > 0.2
    with pytest.raises(ValueError, match="at least 4 networks"):
        split_half(group(3, 0.5, 0), group(20, 0.5, 1))


def test_example_accuracy_and_accuracy_match():
    correct = np.array([[1, 0, 1], [1, 1, 0]])
    np.testing.assert_allclose(example_accuracy(correct), [1, 0.5, 0.5])
    match = accuracy_match([0.80, 0.82, 0.81], [0.80, 0.81, 0.82])
    assert match["mean_a"] == pytest.approx(0.81) and match["p"] > 0.5
    assert accuracy_match([0.80, 0.81, 0.80], [0.90, 0.91, 0.90])["p"] < 0.001
    with pytest.raises(ValueError, match="networks, examples"):
        example_accuracy([1, 0, 1])
