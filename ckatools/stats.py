"""The statistics the book's checks rest on, in one place: rank correlation, what chance gives
it (a permutation test) and the study's bootstrap interval, the Holm-Sidak step-down, Welch's
difference of means with its Welch-Satterthwaite degrees of freedom and t quantiles, and
per-layer means split by a mask.

Each takes plain sequences or arrays and returns floats or arrays; nothing here knows about
networks. The tests check each against scipy or a closed form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Z95",
    "split_values",
    "split_means",
    "spearman",
    "can_reach_95",
    "rho_interval",
    "rho_chance",
    "rho_null",
    "null_p",
    "null_band",
    "resampled_test",
    "holm_sidak",
    "Welch",
    "welch",
    "t_quantile",
    "t_tail",
]


def split_values(values: Sequence[float], inside: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """``values`` where ``inside`` is true and where it is false."""
    values, inside = np.asarray(values, dtype=float), np.asarray(inside, dtype=bool)
    return values[inside], values[~inside]


def split_means(values: Sequence[float], inside: Sequence[bool]) -> tuple[float, float]:
    """Mean of ``values`` where ``inside`` is true and where it is false (NaN for none, NaN-safe):
    a per-layer quantity inside the block against outside it."""

    def mean(x: np.ndarray) -> float:
        return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")

    return tuple(mean(part) for part in split_values(values, inside))


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their average rank (as Spearman's correlation needs)."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # the rank of each distinct value's first occurrence
    return (first + (counts - 1) / 2)[inverse]


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation (ties share their average rank); NaN when a side is constant."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(xs) < 2 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return float("nan")
    return float(np.corrcoef(_ranks(xs), _ranks(ys))[0, 1])


def can_reach_95(xs: Sequence[float]) -> bool:
    """Whether a series with these levels can show a trend at 95 % at all: the chance that a
    random assignment of its networks to the levels comes out perfectly ordered, one in
    N! / (n_1! ... n_k!), is under 2.5 % (two-sided). Two levels of three seeds: 1 in 20, no."""
    counts = np.unique(np.asarray(xs, dtype=float), return_counts=True)[1]
    orderings = math.factorial(len(xs)) / math.prod(math.factorial(int(c)) for c in counts)
    return orderings > 1 / 0.025


def rho_interval(
    xs: Sequence[float], ys: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % bootstrap interval of Spearman's rho between levels and scores when each level has
    several networks (seeds): each resample draws one network per level. NaN when no level has
    more than one network (there is nothing to resample), and when rho is undefined (a constant
    series) in more than 2.5 % of the resamples: dropping those would place the interval on the
    few resamples that happen to vary. NaN too when the design cannot reach 95 % at all
    (:func:`can_reach_95`): with two levels of three seeds every resample can come out perfectly
    ordered, yet 1 in 20 random assignments of those six networks to the levels does as well."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    levels = np.unique(xs)
    groups = [ys[xs == x] for x in levels]
    if all(len(g) < 2 for g in groups) or not can_reach_95(xs):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    boot = np.array([spearman(levels, [rng.choice(g) for g in groups]) for _ in range(resamples)])
    if np.isnan(boot).mean() > 0.025:  # rho is undefined (constant scores) in too many resamples:
        return float("nan"), float("nan")  # the 95 % interval cannot be placed, for or against
    low, high = np.nanpercentile(boot, [2.5, 97.5])
    return float(low), float(high)


def rho_chance(
    xs: Sequence[float], ys: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> float:
    """What chance gives Spearman's rho over these networks: the 95 % quantile of |rho| when the
    scores are shuffled among the networks (a permutation test of "no trend", which keeps the
    levels' ties and the scores' ties as they are). A rho beyond it, either way, is a trend at
    the two-sided 5 % level; the test's units are the networks, as the paper's claims are.

    NaN when rho is undefined (one level, or constant scores) and when the design cannot reach
    5 % at all (:func:`can_reach_95`: the most ordered assignment is itself too common).
    """
    null = rho_null(xs, ys, resamples=resamples, seed=seed)
    return float("nan") if null is None else null_band(null)


def rho_null(
    xs: Sequence[float], ys: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> np.ndarray | None:
    """Spearman's rho over these networks with the scores shuffled among them, ``resamples``
    times: the permutation null of :func:`rho_chance`. None where it gives none (the cases
    where :func:`rho_chance` is NaN)."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} levels for {len(ys)} scores")
    if not math.isfinite(spearman(xs, ys)) or not can_reach_95(xs):
        return None
    rng = np.random.default_rng(seed)
    return np.array([spearman(xs, rng.permutation(ys)) for _ in range(resamples)])


def null_p(null: np.ndarray, value: float) -> float:
    """Two-sided permutation p-value of ``value`` against the draws ``null`` of its statistic
    under "no effect": (1 + k) / (N + 1), k the draws at least as large in size (never 0: the
    observed assignment is one of those chance could give)."""
    size = np.abs(np.asarray(null, dtype=float))
    return float((1 + np.sum(size >= abs(value))) / (len(size) + 1))


def null_band(null: np.ndarray) -> float:
    """What chance gives a statistic's size at the two-sided 5 % level: the order statistic of
    |``null``| that the size must exceed for :func:`null_p` to fall below 0.05 (inf when no
    value can, too few draws)."""
    size = np.sort(np.abs(np.asarray(null, dtype=float)))
    index = math.floor(0.95 * (len(size) + 1))  # beyond it, at most 5 % (N + 1) - 1 draws
    return float(size[index]) if index < len(size) else math.inf


def resampled_test(draws: Sequence[float], point: float = 0.0) -> tuple[float, float, float]:
    """A two-sided test at 5 % of "the draws' centre is ``point``" from resamples (a bootstrap
    of an estimate, with ``point`` 0; or a permutation null, with ``point`` the observed value),
    and the interval that makes the same test. Returns (low, high, p): p = 2 (1 + k) / (N + 1),
    k the draws on the far side of ``point`` (at most 1), and ``point`` lies below low or above
    high exactly when p < 0.05 (low and high are order statistics of the draws, not
    interpolated percentiles, so that the interval and the p-value never disagree)."""
    d = np.sort(np.asarray(draws, dtype=float))
    d = d[np.isfinite(d)]
    k = math.ceil(0.025 * (len(d) + 1) - 1)  # at most k - 1 draws beyond an end
    low, high = (float(d[k - 1]), float(d[len(d) - k])) if k >= 1 else (-math.inf, math.inf)
    far = min(np.sum(d <= point), np.sum(d >= point))
    return low, high, float(min(1.0, 2 * (1 + far) / (len(d) + 1)))


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


Z95 = 1.959964  # the standard normal's 97.5 % quantile: half-width of a 95 % interval in SEs


def t_quantile(probability: float, df: float) -> float:
    """Student's t quantile: the half-width of a two-sided 95 % interval is t_quantile(0.975, df)
    standard errors (1.96 only for large df: 4.30 for two degrees of freedom)."""
    from scipy import stats

    return float(stats.t.ppf(probability, df))


def t_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom: a one-sided p-value."""
    from scipy import stats

    return float(stats.t.sf(t, df))


@dataclass(frozen=True)
class Welch:
    """mean(a) - mean(b), its standard error and Welch-Satterthwaite degrees of freedom."""

    difference: float
    se: float
    df: float

    def half_width(self, level: float = 0.95) -> float:
        """Half-width of the two-sided ``level`` interval (t quantile, ``df`` degrees)."""
        return t_quantile(0.5 + level / 2, self.df) * self.se

    def p(self, null: float = 0.0) -> float:
        """Two-sided p-value of "the difference is ``null``" (NaN without a standard error)."""
        if not self.se > 0:
            return math.nan
        return 2 * t_tail(abs(self.difference - null) / self.se, self.df)


def welch(a: Sequence[float], b: Sequence[float] | None = None) -> Welch:
    """Welch's difference of means of two samples, or the mean of one (``b`` None: one-sample t,
    ``n - 1`` degrees of freedom). NaNs dropped; a sample of fewer than two values gives a NaN
    standard error."""
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    if b is None:
        mean = float(a.mean()) if len(a) else math.nan
        if len(a) < 2:
            return Welch(mean, math.nan, math.nan)
        return Welch(mean, float(a.std(ddof=1)) / math.sqrt(len(a)), len(a) - 1.0)
    b = np.asarray(b, dtype=float)
    b = b[np.isfinite(b)]
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
    if len(a) < 2 or len(b) < 2:
        return Welch(diff, math.nan, math.nan)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Welch(diff, 0.0, float(len(a) + len(b) - 2))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return Welch(diff, se, float(df))
