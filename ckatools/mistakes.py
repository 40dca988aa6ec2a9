"""Do wide and deep networks make the same mistakes? (Sec. 7, Figs. 7 and F.1-F.3)

Each network of a group contributes its per-example correctness on the test set (the zoo keeps
it with every trained network). Three comparisons:

* per example: a group's *example accuracy* is the fraction of its networks right on that
  example. To tell real differences from noise, examples are *selected* on one half of each
  group's networks and *measured* on the other half (Fig. F.1b): a difference that selection
  noise alone made would vanish on the held-out half.
* per class: every network's accuracy on each class; Welch's t-test (``scipy.stats``) between the
  two groups per class, with the Holm-Sidak correction for testing every class at once.
* overall: each group's mean accuracy with its standard error, and Welch's test of whether the
  groups match (the paper compares groups of equal accuracy).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "example_accuracy",
    "split_half",
    "holm_sidak",
    "class_tests",
    "accuracy_match",
]


def _as_matrix(correct) -> np.ndarray:
    matrix = np.asarray(correct, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(
            f"correctness must be a (networks, examples) array, got shape {matrix.shape}"
        )
    return matrix


def example_accuracy(correct) -> np.ndarray:
    """(examples,) fraction of a group's networks that classify each example correctly."""
    return _as_matrix(correct).mean(0)


def split_half(correct_a, correct_b, *, threshold: float = 0.5, seed: int = 0) -> dict:
    """Examples selected on one half of each group's networks, measured on the other half.

    An example is *selected* when the two groups' example accuracies on the selection halves
    differ by at least ``threshold``; returns the selected indices and the mean difference
    (a minus b, sign-aligned with the selection) on the selection halves and on the held-out
    halves.
    """
    rng = np.random.default_rng(seed)
    halves = []
    for correct in (_as_matrix(correct_a), _as_matrix(correct_b)):
        if len(correct) < 4:
            raise ValueError(
                f"a split half needs at least 4 networks per group, got {len(correct)}"
            )
        order = rng.permutation(len(correct))
        middle = len(correct) // 2
        halves.append((correct[order[:middle]].mean(0), correct[order[middle:]].mean(0)))
    (select_a, measure_a), (select_b, measure_b) = halves
    selected_gap = select_a - select_b
    picked = np.flatnonzero(np.abs(selected_gap) >= threshold)
    sign = np.sign(selected_gap[picked])
    held_out = (measure_a - measure_b)[picked] * sign
    return dict(
        examples=picked,
        selected=float(np.mean(np.abs(selected_gap[picked]))) if len(picked) else float("nan"),
        held_out=float(np.mean(held_out)) if len(picked) else float("nan"),
    )


def holm_sidak(pvalues) -> np.ndarray:
    """Holm-Sidak step-down adjusted p-values, which control the family-wise error rate for
    independent tests: the i-th smallest (from 0) of m p-values becomes 1 - (1 - p)^(m - i),
    made non-decreasing."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    m = len(p)
    adjusted = 1 - (1 - p[order]) ** (m - np.arange(m))
    adjusted = np.minimum(np.maximum.accumulate(adjusted), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def class_tests(correct_a, correct_b, labels, *, alpha: float = 0.05) -> list[dict]:
    """Per class: each group's mean accuracy over its networks, Welch's t-test between the
    groups, and whether the class differs after the Holm-Sidak correction at ``alpha``."""
    a, b, labels = _as_matrix(correct_a), _as_matrix(correct_b), np.asarray(labels)
    classes = np.unique(labels)
    per_a = np.stack([a[:, labels == c].mean(1) for c in classes], 1)  # (networks, classes)
    per_b = np.stack([b[:, labels == c].mean(1) for c in classes], 1)
    t, p = stats.ttest_ind(per_a, per_b, axis=0, equal_var=False)
    p = np.where(np.isnan(p), 1.0, p)  # identical constant groups: no evidence of a difference
    adjusted = holm_sidak(p)
    return [
        dict(
            label=int(c),
            accuracy_a=float(per_a[:, k].mean()),
            accuracy_b=float(per_b[:, k].mean()),
            t=float(t[k]),
            p=float(p[k]),
            p_adjusted=float(adjusted[k]),
            differs=bool(adjusted[k] < alpha),
        )
        for k, c in enumerate(classes)
    ]


def accuracy_match(accuracies_a, accuracies_b) -> dict:
    """Each group's mean accuracy and standard error, and Welch's test that the means differ."""
    a, b = np.asarray(accuracies_a, dtype=float), np.asarray(accuracies_b, dtype=float)
    result = stats.ttest_ind(a, b, equal_var=False)
    return dict(
        mean_a=float(a.mean()),
        se_a=float(stats.sem(a)),
        mean_b=float(b.mean()),
        se_b=float(stats.sem(b)),
        p=float(result.pvalue),
    )
