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

How far the scatter of one group's example accuracies against another's spreads off the diagonal
is their *dispersion*, the mean squared difference. Two groups of one architecture have a
dispersion too, from the finite number of networks alone: such a baseline pair's dispersion is
the floor, and a pair's excess over it says how much of the spread the architectures add.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ckatools.analysis.verdicts import (
    Check,
    Verdict,
    checks_verdict,
    equivalent,
    interval,
    normal,
    rank_check,
)
from ckatools.stats import Z95, holm_sidak, resampled_test, welch
from ckatools.training import TRAINED_ACCURACY

__all__ = [
    "Group",
    "equal_trained",
    "example_accuracy",
    "joint_counts",
    "dispersion",
    "excess_dispersion",
    "shifts",
    "more_easier",
    "split_half",
    "holm_sidak",
    "class_tests",
    "class_group_tests",
    "accuracy_match",
    "Comparison",
    "compare",
    "growth",
]


def _as_matrix(correct) -> np.ndarray:
    matrix = np.asarray(correct, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(
            f"correctness must be a (networks, examples) array, got shape {matrix.shape}"
        )
    return matrix


def _pick(values: tuple, index) -> tuple:
    """The items of ``values`` that ``index`` (a mask or a slice) selects; () stays ()."""
    return tuple(np.array(values, dtype=object)[index].tolist()) if values else ()


@dataclass
class Group:
    """Networks of one architecture on different seeds: what they got right, and how often."""

    label: str  # the architecture, e.g. "ResNet-8 ×0.5"
    seeds: tuple[int, ...]
    correct: np.ndarray  # (networks, test examples), True where a network is right
    train_accuracy: np.ndarray  # (networks,) on the unaugmented training set
    depth: int = 0
    width: float = 0.0
    configs: tuple = ()  # the networks' training configurations (provenance), seed order
    devices: tuple = ()  # the kind of device each trained on (TrainResult.device), seed order
    train_size: int = 0  # the training images of each network (0: not known)

    @property
    def name(self) -> str:
        """The architecture and its seeds, runs of three or more as ranges, e.g. "ResNet-8 ×0.5,
        seeds 0-19" or "ResNet-38 ×0.25, seeds 0-3, 5, 6, 8-19"."""
        runs: list[list[int]] = []
        for seed in sorted(self.seeds):
            if runs and seed == runs[-1][-1] + 1:
                runs[-1].append(seed)
            else:
                runs.append([seed])
        parts = [
            f"{run[0]}-{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs
        ]
        return f"{self.label}, seeds {', '.join(parts)}"

    @property
    def accuracy(self) -> np.ndarray:
        """(networks,) test accuracy of each network."""
        return self.correct.mean(1)

    @property
    def _trained_mask(self) -> np.ndarray:
        """(networks,) True where a network trained (as `TrainResult.trained` counts it)."""
        return np.asarray(self.train_accuracy) >= TRAINED_ACCURACY

    @property
    def untrained(self) -> tuple[int, ...]:
        """The seeds whose network did not train."""
        return tuple(np.array(self.seeds)[~self._trained_mask].tolist())

    def trained(self) -> Group:
        """The group without its networks that did not train."""
        return self._take(self._trained_mask)

    def _take(self, index) -> Group:
        """The group of the networks ``index`` selects (a mask or a slice)."""
        return dataclasses.replace(
            self,
            seeds=tuple(np.array(self.seeds)[index].tolist()),
            correct=self.correct[index],
            train_accuracy=self.train_accuracy[index],
            configs=_pick(self.configs, index),
            devices=_pick(self.devices, index),
        )

    def __len__(self) -> int:
        return len(self.correct)


def equal_trained(groups: list[Group], *, minimum: int = 4) -> list[Group]:
    """The groups without their networks that did not train, each cut to its first k networks,
    k the fewest trained networks of any group: a failed network is wrong on most examples and
    would widen the scatter, and the baseline comparison needs groups of equal size. With fewer
    than ``minimum`` (what a split half needs) the groups are returned whole, with a warning."""
    kept = [g.trained() for g in groups]
    k = min(map(len, kept))
    if k < minimum:
        warnings.warn(
            f"a group has {k} trained networks, fewer than {minimum}: every network is compared, "
            "trained or not",
            stacklevel=2,
        )
        return list(groups)
    return [g._take(slice(k)) for g in kept]


def example_accuracy(correct) -> np.ndarray:
    """(examples,) fraction of a group's networks that classify each example correctly."""
    return _as_matrix(correct).mean(0)


def joint_counts(correct_a, correct_b) -> np.ndarray:
    """(networks of a + 1, networks of b + 1) array: how many examples exactly i networks of
    group a and j of group b classify correctly. The scatter of Fig. 7 as a 2-D histogram, which
    shows how many examples sit on each point where a scatter would draw them on top of each
    other."""
    a, b = _as_matrix(correct_a), _as_matrix(correct_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the groups were scored on {a.shape[1]} and {b.shape[1]} examples")
    counts = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    np.add.at(counts, (a.sum(0).astype(int), b.sum(0).astype(int)), 1)
    return counts


def dispersion(correct_a, correct_b) -> float:
    """Mean over examples of the squared difference of two groups' example accuracies."""
    gap = example_accuracy(correct_a) - example_accuracy(correct_b)
    return float(np.mean(gap**2))


def excess_dispersion(
    pair: tuple, baseline: tuple, *, resamples: int = 1000, seed: int = 0
) -> dict:
    """How much a pair of groups' dispersion exceeds a baseline pair's (same architecture, other
    seeds): the difference, with a 95 % percentile bootstrap interval that resamples the networks
    of all four groups, and the ratio as a description.

    With n networks per group, a dispersion is the squared gap the architectures make plus a
    floor of about mean(2 p (1 - p) / n) from the finite number of networks; the baseline pair
    measures that floor, so the difference estimates what the architectures add. A bootstrap
    resample repeats networks, which raises the floor of both pairs by about the same amount: the
    difference's bootstrap stays centred on its estimate, where a ratio's would sink below it.
    The baseline pair must therefore have as many networks per group as the pair.
    """
    groups = [_as_matrix(g) for g in (*pair, *baseline)]
    if sorted(map(len, groups[:2])) != sorted(map(len, groups[2:])):
        raise ValueError(
            "the baseline pair needs as many networks per group as the pair "
            f"({[len(g) for g in groups[:2]]} vs {[len(g) for g in groups[2:]]})"
        )
    rng = np.random.default_rng(seed)

    def excess(a, b, c, d) -> float:
        return dispersion(a, b) - dispersion(c, d)

    def resample(g: np.ndarray) -> np.ndarray:
        return g[rng.integers(0, len(g), len(g))]

    draws = [excess(*map(resample, groups)) for _ in range(resamples)]
    low, high, p = resampled_test(draws)
    pair_value, baseline_value = dispersion(*groups[:2]), dispersion(*groups[2:])
    return dict(
        pair=pair_value,
        baseline=baseline_value,
        excess=pair_value - baseline_value,
        low=float(low),
        high=float(high),
        p=p,  # the percentile interval's test of "no excess"
        ratio=pair_value / baseline_value if baseline_value > 0 else float("inf"),
    )


def shifts(correct_a, correct_b, *, threshold: float) -> dict:
    """How many examples group b gets right more often than group a by at least ``threshold``
    (easier for b) and how many less often by at least as much (harder for b)."""
    gap = example_accuracy(correct_b) - example_accuracy(correct_a)
    edge = threshold - 1e-9  # fractions of networks such as 2/3 compare equal to the threshold
    return dict(easier=int(np.sum(gap >= edge)), harder=int(np.sum(gap <= -edge)))


def more_easier(moved: dict) -> Check:
    """The part "more examples get easier than harder" of Figs. F.2 and F.3, as a two-sided sign
    test over the examples that moved: with no change between the networks, each is as likely to
    move either way, so the share that got easier is 1/2 up to chance. The part is the 95 %
    Clopper-Pearson interval of that share, less 1/2, with the sign test's two-sided p-value (a
    near tie such as 470 against 480 cannot tell; a bare comparison of the counts called it a
    result). No example moved: cannot tell. The examples are its units, as in the paper's
    figures; they share the networks that measure them, so the test is a lenient one.

    Args:
        moved: ``{"easier": count, "harder": count}``, as :func:`shifts` returns it.
    """
    n = moved["easier"] + moved["harder"]
    if n == 0:
        return Check(float("nan"))
    test = stats.binomtest(moved["easier"], n)
    found = test.proportion_ci(0.95)  # exact (Clopper-Pearson)
    return interval(found.low - 0.5, found.high - 0.5, p=test.pvalue)


def split_half(correct_a, correct_b, *, threshold: float = 0.5, seed: int = 0) -> dict:
    """Examples selected on one half of each group's networks, measured on the other half.

    An example is *selected* when the two groups' example accuracies on the selection halves
    differ by at least ``threshold``. Returns the selected indices; per selected example, the
    gap (a minus b) on the selection halves and each group's accuracy on its held-out half; and
    the mean gap, sign-aligned with the selection, on the selection halves and on the held-out
    halves, with the standard error of the held-out mean over the selected examples.
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
    nan = float("nan")
    return dict(
        examples=picked,
        selected_gaps=selected_gap[picked],
        held_out_a=measure_a[picked],
        held_out_b=measure_b[picked],
        held_out_gaps=held_out,
        selected=float(np.mean(np.abs(selected_gap[picked]))) if len(picked) else nan,
        held_out=float(np.mean(held_out)) if len(picked) else nan,
        held_out_se=float(stats.sem(held_out)) if len(picked) > 1 else nan,
    )


def _welch(per_a: np.ndarray, per_b: np.ndarray, alpha: float) -> list[dict]:
    """Per column of two (networks, columns) accuracy arrays: the means, Welch's t-test and the
    Holm-Sidak correction over the columns."""
    with warnings.catch_warnings():  # columns every network gets right: constant samples
        warnings.simplefilter("ignore", RuntimeWarning)
        t, p = stats.ttest_ind(per_a, per_b, axis=0, equal_var=False)
    p = np.where(np.isnan(p), 1.0, p)  # identical constant groups: no evidence of a difference
    adjusted = holm_sidak(p)
    return [
        dict(
            accuracy_a=float(per_a[:, k].mean()),
            accuracy_b=float(per_b[:, k].mean()),
            t=float(t[k]),
            p=float(p[k]),
            p_adjusted=float(adjusted[k]),
            differs=bool(adjusted[k] < alpha),
        )
        for k in range(per_a.shape[1])
    ]


def _accuracy_on(correct: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    """(networks, masks) accuracy of each network on the examples of each mask."""
    return np.stack([correct[:, mask].mean(1) for mask in masks], 1)


def class_tests(correct_a, correct_b, labels, *, alpha: float = 0.05) -> list[dict]:
    """Per class: each group's mean accuracy over its networks, Welch's t-test between the
    groups, and whether the class differs after the Holm-Sidak correction at ``alpha``."""
    a, b, labels = _as_matrix(correct_a), _as_matrix(correct_b), np.asarray(labels)
    classes = np.unique(labels)
    masks = [labels == c for c in classes]
    rows = _welch(_accuracy_on(a, masks), _accuracy_on(b, masks), alpha)
    return [dict(label=int(c), **row) for c, row in zip(classes, rows)]


def class_group_tests(
    correct_a, correct_b, labels, groups: dict[str, tuple[int, ...]], *, alpha: float = 0.05
) -> list[dict]:
    """Table F.2: per group of classes (``data.class_groups``), each network's accuracy on all
    the group's examples, Welch's t-test between the two groups of networks and the Holm-Sidak
    correction over the class groups."""
    a, b, labels = _as_matrix(correct_a), _as_matrix(correct_b), np.asarray(labels)
    masks = [np.isin(labels, classes) for classes in groups.values()]
    empty = [name for name, mask in zip(groups, masks) if not mask.any()]
    if empty:
        raise ValueError(f"class groups without test examples: {', '.join(empty)}")
    rows = _welch(_accuracy_on(a, masks), _accuracy_on(b, masks), alpha)
    return [
        dict(group=name, classes=len(classes), **row)
        for (name, classes), row in zip(groups.items(), rows)
    ]


def accuracy_match(accuracies_a, accuracies_b) -> dict:
    """Each group's mean accuracy and standard error, Welch's test that the means differ (``p``),
    and the difference of means (``difference``, a minus b) with its 90 % interval
    (``interval90``, t quantile with Welch-Satterthwaite degrees of freedom): the interval that
    two one-sided tests at 5 % compare with a margin (:func:`~ckatools.analysis.verdicts.
    equivalent`)."""
    a, b = np.asarray(accuracies_a, dtype=float), np.asarray(accuracies_b, dtype=float)
    result = stats.ttest_ind(a, b, equal_var=False)
    found = welch(a, b)
    half = found.half_width(0.90)
    return dict(
        mean_a=float(a.mean()),
        se_a=float(stats.sem(a)),
        mean_b=float(b.mean()),
        se_b=float(stats.sem(b)),
        p=float(result.pvalue),
        difference=found.difference,
        interval90=(found.difference - half, found.difference + half),
    )


# Fig. 7's "statistically indistinguishable" accuracy, as an equivalence margin (fixed before its
# first run, as issue 27 proposed): half a point of test accuracy. The paper's groups differ by
# 0.01 +- 0.014 points; a gap under half a point cannot explain per-example differences of tens
# of points. "No difference found" (Welch p >= 0.05) is not used: too few networks give it too.
EQUAL_ACCURACY = 0.005


@dataclass
class Comparison:
    """A wide and a deep group against a baseline pair of one architecture (Figs. 7, F.1)."""

    pair: tuple[Group, Group]
    baseline: tuple[Group, Group]
    accuracy: dict  # accuracy_match of the pair
    dispersion: dict  # excess_dispersion of the pair over the baseline
    split: dict  # split_half of the pair
    baseline_split: dict  # split_half of the baseline pair
    classes: list[dict]  # class_tests of the pair
    baseline_classes: list[dict]  # class_tests of the baseline pair

    def verdicts(self, also: Comparison | None = None) -> tuple[Verdict, Verdict]:
        """Fig. 7: equal accuracy (within :data:`EQUAL_ACCURACY`, by two one-sided tests), yet
        more scatter than the baseline and more classes that differ; Fig. F.1: examples picked on
        half the seeds differ on the other half, by more than the baseline's. Equal accuracy is
        the comparison's premise: where the accuracies differ beyond the margin, Fig. 7 is
        **not testable** (its parts are listed in the evidence).

        Args:
            also: the same pair compared with a second baseline (the paper's Fig. 7b compares
                two groups of the deep architecture; Fig. F.1, of the wide one): its scatter,
                class and held-out parts are added, named by its baseline's architecture.
        """
        a, b = (g.label for g in self.pair)
        acc = self.accuracy
        equal = equivalent(*(g.accuracy for g in self.pair), EQUAL_ACCURACY)
        accuracy = {
            f"equal mean accuracy within ±{EQUAL_ACCURACY:.1%} (two one-sided Welch tests; "
            f"{acc['mean_a']:.2%} vs {acc['mean_b']:.2%}, Welch p = {acc['p']:.2g}; the value: "
            f"the margin less the gap, as a fraction)": equal
        }
        held_out = {
            f"they differ on the other half (gap {self.split['held_out']:.2f}, 95 % lower bound "
            f"{self.split['held_out'] - Z95 * self.split['held_out_se']:.2f})": normal(
                self.split["held_out"], self.split["held_out_se"]
            )
        }
        fig7_parts, f1_parts = [accuracy], [held_out]
        for found in (self,) if also is None else (self, also):
            fig7_parts.append(found._against_baseline(named=also is not None))
            f1_parts.append(found._picks_against_baseline(named=also is not None))
        fig7 = checks_verdict("Fig. 7", f"{a} against {b}", _merged(fig7_parts))
        if equal.state == "against":  # the comparison's premise fails
            fig7 = Verdict(
                "Fig. 7",
                "not testable",
                f"the groups' mean accuracies differ beyond ±{EQUAL_ACCURACY:.1%}, so their "
                f"different mistakes would partly be different accuracy (the paper compares "
                f"groups of equal accuracy); its parts alone: {fig7.outcome} - {fig7.evidence}",
            )
        f1 = checks_verdict(
            "Fig. F.1",
            f"{len(self.split['examples'])} examples picked on half the seeds",
            _merged(f1_parts),
        )
        return fig7, f1

    def _baseline_name(self, named: bool) -> str:
        return f"the {self.baseline[0].label} baseline" if named else "the baseline"

    def _against_baseline(self, named: bool) -> dict[str, Check | bool]:
        """Fig. 7's parts against this comparison's baseline pair."""
        differ = sum(row["differs"] for row in self.classes)
        baseline_differ = sum(row["differs"] for row in self.baseline_classes)
        d, whose = self.dispersion, self._baseline_name(named)
        return {
            f"per-example scatter above {whose}'s ({d['ratio']:.1f}x; excess "
            f"{d['excess']:.4f})": interval(d["low"], d["high"], d["p"]),
            f"more classes differ than in {whose} ({differ} vs {baseline_differ} of "
            f"{len(self.classes)})": differ > baseline_differ,
        }

    def _picks_against_baseline(self, named: bool) -> dict[str, Check]:
        """Fig. F.1's part against this comparison's baseline pair's picks."""
        s, base = self.split, self.baseline_split
        base_gap, base_se = (  # none picked: no gap
            (base["held_out"], base["held_out_se"]) if len(base["examples"]) else (0.0, 0.0)
        )
        return {
            f"by more than {self._baseline_name(named)}'s picks ({base_gap:.2f} on "
            f"{len(base['examples'])} examples)": normal(
                s["held_out"] - base_gap, float(np.hypot(s["held_out_se"], base_se))
            ),
        }


def _merged(parts: list[dict]) -> dict:
    return {name: check for found in parts for name, check in found.items()}


def compare(
    pair: tuple[Group, Group], baseline: tuple[Group, Group], labels, *, threshold: float = 0.5
) -> Comparison:
    """Every number of Figs. 7 and F.1 for a pair of groups and a baseline pair; ``labels`` are
    the test examples' classes, ``threshold`` the split-half selection's gap."""
    correct = [g.correct for g in pair]
    base = [g.correct for g in baseline]
    return Comparison(
        pair=pair,
        baseline=baseline,
        accuracy=accuracy_match(*(g.accuracy for g in pair)),
        dispersion=excess_dispersion(correct, base),
        split=split_half(*correct, threshold=threshold),
        baseline_split=split_half(*base, threshold=threshold),
        classes=class_tests(*correct, labels),
        baseline_classes=class_tests(*base, labels),
    )


def gain_where_often_right(
    correct_small, correct_large, *, seed: int = 0, resamples: int = 1000
) -> dict:
    """Figs. F.2/F.3's middle clause: is the gain from the small to the large architecture
    largest on examples "where smaller networks were often but not always correct"?

    Each small network is held out in turn: the others say where the small architecture is often
    but not always right (example accuracy at least 0.5 and below 1), the held-out one measures
    the gain (large's example accuracy minus its own), so that selecting and measuring do not
    share noise (regression to the mean). With three seeds the other two decide (one of two
    right); a split in halves would leave one network, which is never "often but not always"
    right. The gains are pooled over the folds; the check "inside minus outside" gets its 95 %
    interval from a bootstrap over examples (each example's folds are resampled together, so
    their overlap is not counted as independent evidence). With fewer than three small networks
    (or no large one) the check cannot tell.

    Args:
        correct_small: (networks, examples) correctness of the small architecture's networks.
        correct_large: (networks, examples) correctness of the large architecture's networks.
        seed: the bootstrap's random seed.
        resamples: bootstrap resamples.

    Returns:
        ``examples`` (the average size of the set per fold), ``inside`` and ``outside`` (mean
        gains) and ``check`` (a :class:`Check`).
    """
    small, large = _as_matrix(correct_small), _as_matrix(correct_large)
    n = len(small)
    if n < 3 or len(large) < 1:  # too few networks to hold one out: the part cannot tell
        nan = float("nan")
        return dict(examples=0, inside=nan, outside=nan, check=Check(nan, nan))
    others = (small.sum(0) - small) / (n - 1)  # (n, examples): accuracy without network j
    inside = (others >= 0.5) & (others < 1)
    gain = large.mean(0) - small  # (n, examples): the held-out network measures
    # per example, summed over the folds: gains and counts inside and outside the set
    sums = np.stack([(gain * inside).sum(0), (gain * ~inside).sum(0)])  # (2, examples)
    counts = np.stack([inside.sum(0), (~inside).sum(0)]).astype(float)

    def difference(weights: np.ndarray) -> np.ndarray:
        """Pooled inside minus outside mean gain with example ``weights`` (..., examples)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (weights @ sums.T) / (weights @ counts.T)  # (..., 2)
        return means[..., 0] - means[..., 1]

    n_examples = small.shape[1]
    value = float(difference(np.ones(n_examples)))
    rng = np.random.default_rng(seed)
    spread = np.array(
        [
            difference(np.bincount(rng.integers(n_examples, size=n_examples), minlength=n_examples))
            for _ in range(resamples)
        ]
    )
    se = float(np.std(spread[np.isfinite(spread)], ddof=1))
    pooled_inside, pooled_outside = sums.sum(1) / counts.sum(1)
    return dict(
        examples=int(round(inside.sum() / n)),
        inside=float(pooled_inside) if counts[0].sum() else float("nan"),
        outside=float(pooled_outside) if counts[1].sum() else float("nan"),
        check=normal(value, se) if np.isfinite(value) else Check(value, float("nan")),
    )


def growth(figure: str, knob: str, series: dict[float, Group], *, threshold: float = 0.5):
    """Figs. F.2 and F.3: along a series (knob value -> group), does accuracy rise, do more
    examples get easier than harder from the smallest network to the largest (gap of at least
    ``threshold``), and is the gain largest where the smallest is often but not always right
    (:func:`gain_where_often_right`)? Networks that did not train are left out. Returns the
    shifts and the verdict."""
    series = {knob_value: group.trained() for knob_value, group in series.items()}
    knobs = sorted(series)
    xs = [k for k in knobs for _ in range(len(series[k]))]
    ys = [a for k in knobs for a in series[k].accuracy]
    rho, rises = rank_check(xs, ys)
    small, large = series[knobs[0]], series[knobs[-1]]
    moved = shifts(small.correct, large.correct, threshold=threshold)
    where = gain_where_often_right(small.correct, large.correct)
    verdict = checks_verdict(
        figure,
        f"from {series[knobs[0]].label} to {series[knobs[-1]].label}",
        {
            f"accuracy rises with {knob} (Spearman {rho:+.2f})": rises,
            f"more examples get easier than harder ({moved['easier']} vs {moved['harder']}; "
            "sign test, share easier less 1/2; set after an earlier run)": more_easier(moved),
            f"the gain is largest where {small.label} is often but not always right "
            f"({where['examples']} examples: {where['inside']:+.3f} against "
            f"{where['outside']:+.3f} elsewhere)": where["check"],
        },
    )
    return moved, verdict
