"""One rule, stated once, that turns a chapter's numbers into a verdict on a paper figure.

Every paper figure a chapter rebuilds prints exactly one line

    Verdict (Fig. 2): inconclusive - block extent rises with less data: 0 of 3 series ...

A claim is made of *parts*, and each part is a comparison the claim predicts to be positive,
measured with its own uncertainty (a :class:`Check`: a value, the half-width of its 95 %
interval, and the p-value of the test that interval makes). A part *holds* when its interval
lies above zero, goes *against* the claim when it lies below zero, and *cannot tell*
otherwise; a NaN cannot tell, it never counts as a "no".

A part *decides* the claim, for or against, only beyond chance. Alone, a part that holds or
goes against decides: its interval is a test at 5 %. Of many parts, some land outside zero by
chance alone: of 18 parts on a true claim, one goes against it by chance at up to 37 %
(1 - 0.975^18). So when a claim has several parts with intervals, each part's p-value (of "its
value is zero", the test its interval makes) is adjusted by the Holm-Sidak step-down over
those parts (:func:`ckatools.stats.holm_sidak`, 5 % family-wise), and a part decides when it
holds or goes against and its adjusted p-value is below 5 % (:func:`deciding`). An exact part
(a yes/no with no uncertainty, such as "this network has a block") is no chance finding: it
decides alone. The outcome:

* every part holds: **reproduced**;
* some part that holds decides and none that goes against does: **partly reproduced**;
* some part that goes against the claim decides (the data say otherwise): **not reproduced**;
* no part decides (the data cannot tell): **inconclusive**;
* a claim of stated checks none of which could be computed at all: **not testable**.

The parts of the three kinds of claim:

* a *trend* ("the block structure grows with width"): each series of networks (one row of a
  grid, all seeds pooled) is a part: Spearman's rank correlation between the knob and the block
  extent over its networks, against what chance gives it (:func:`ckatools.stats.rho_chance`,
  the 95 % band of |rho| with the extents shuffled among the networks: a permutation test at
  the two-sided 5 % level); a series that cannot reach 5 % at all
  (:func:`ckatools.stats.can_reach_95`) cannot tell;
* a *presence* ("every seed of this network has a block"): each network is a part, exact (the
  block measure says yes or no; unknown cannot tell);
* stated *checks* ("PC1 explains more variance inside the block than outside"): each check is a
  part, usually a difference of means with Welch's 95 % t interval (:func:`mean_difference`),
  or an equivalence within a stated margin by two one-sided tests (:func:`equivalent`).

A figure whose experiment the active profile does not run gets ``not run in this profile``.

The paper's claims about capacity (``claims.CAPACITY``: the block structure and what it does) are
made of networks trained until they fit their data. Such a claim is judged only in that regime:
:func:`in_regime` turns its verdict into **not testable** when one of the networks that decide it
(the largest of each series) reaches less than :data:`FIT` unaugmented training accuracy, and
prints the accuracies that decided it, with what the parts alone would have said.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ckatools.analysis.claims import CAPACITY
from ckatools.page import signed
from ckatools.stats import (
    Z95,
    holm_sidak,
    null_band,
    null_p,
    rho_null,
    spearman,
    t_quantile,
    t_tail,
    welch,
)

__all__ = [
    "FAMILY_ERROR",
    "UNVERDICTED",
    "Verdict",
    "Check",
    "OUTCOMES",
    "LINE",
    "Z95",
    "mean_difference",
    "mean_above",
    "equivalent",
    "interval",
    "contrast_check",
    "rank_check",
    "exact",
    "outcome",
    "deciding",
    "normal",
    "trend_verdict",
    "presence_verdict",
    "checks_verdict",
    "not_run",
    "FIT",
    "in_regime",
]

OUTCOMES = (
    "reproduced",
    "partly reproduced",
    "not reproduced",
    "inconclusive",
    "not testable",
    "not run in this profile",
)
# The paper's regime: a network fits its training data at this unaugmented training accuracy
# (the paper trains 300 epochs to about 100 %; ckatools.study's stage 6 chose its regime by it).
FIT = 0.99
# How often the parts of a claim may decide it, for or against, by chance alone: what one 95 %
# interval allows one part (see deciding()).
FAMILY_ERROR = 0.05
# The paper's other figures and tables: what each shows, and where the book shows it without a
# verdict line (or why it cannot rebuild it). The scorecard lists them under the verdicts.
UNVERDICTED: dict[str, tuple[str, str]] = {
    "Fig. D.7": (
        "PC1 and CKA in networks without a block structure",
        "not rebuilt: Chapter 5 shows PC1 in the networks it compares; D.7's networks are the "
        "ones without a block, which this profile's measure must first provide",
    ),
    "Fig. F.4": (
        "per-example differences of wide and deep ResNet-50s on ImageNet",
        "not rebuilt: ImageNet cannot be downloaded or trained here; Chapter 9 rebuilds Fig. 7 "
        "and F.1-F.3 on the profile's data",
    ),
    "Table F.1": (
        "AIC of nested logistic models of per-example correctness",
        "not rebuilt: Chapter 9 tests the same question (does architecture explain per-example "
        "correctness beyond class?) with Welch tests and a same-architecture baseline",
    ),
    "Table F.2": (
        "wide vs deep accuracy on ImageNet synsets",
        "Chapter 9's analogue on groups of classes, printed as a table (no ImageNet here)",
    ),
}
LINE = re.compile(
    r"^Verdict \((?P<figure>[^)]+)\): (?P<outcome>" + "|".join(OUTCOMES) + r") - (?P<evidence>.+)$",
    re.M,
)


@dataclass(frozen=True)
class Check:
    """One part of a claim: a value the claim predicts to be positive, the half-width of its
    95 % interval (0 for an exact comparison), and the p-value of the test the interval makes
    ("the value is zero"; one-sided for an equivalence test): alone, the part holds or goes
    against when p < 0.05. A part known only by its interval (p NaN) counts as p = 0.05, the
    weakest evidence that decides alone, which never decides among several parts."""

    value: float
    uncertainty: float = 0.0
    from_interval: bool = False  # made by interval(): value is the midpoint, not an estimate
    chance: bool = False  # uncertainty is what chance gives the value (a permutation band)
    p: float = math.nan

    @property
    def tested(self) -> bool:
        """Whether the part is a test with an interval (what the Holm-Sidak step-down counts):
        not an exact part (no uncertainty), nor one that cannot tell whatever the data
        (undefined, or too few values for an interval)."""
        finite = math.isfinite(self.value) and math.isfinite(self.uncertainty)
        return finite and self.uncertainty > 0

    @property
    def state(self) -> str:
        """'holds' (interval above zero), 'against' (below zero) or 'cannot tell'."""
        if not (math.isfinite(self.value) and math.isfinite(self.uncertainty)):
            return "cannot tell"
        if self.value > self.uncertainty:
            return "holds"
        if self.value < -self.uncertainty:
            return "against"
        return "cannot tell"

    def describe(self) -> str:
        """The numbers in words: yes/no, "undefined", an estimate ± half-width, or the interval
        itself when the check was made from one (its midpoint is no statistic to quote)."""
        if not math.isfinite(self.value):
            return "undefined"
        if self.uncertainty == 0 and abs(self.value) == 1:
            return "yes" if self.value > 0 else "no"
        if not math.isfinite(self.uncertainty):
            return f"{signed(self.value)}, too few values for an interval"
        if self.chance:
            return f"{signed(self.value)}, chance gives up to ±{self.uncertainty:.3f}"
        if self.from_interval:
            low, high = self.value - self.uncertainty, self.value + self.uncertainty
            return f"95 % interval [{signed(low)}, {signed(high)}]"
        return f"{signed(self.value)} ± {self.uncertainty:.3f}"


def normal(value: float, se: float) -> Check:
    """The part "``value`` is positive", an estimate with standard error ``se`` whose
    distribution is about normal (a large sample, a bootstrap): its 95 % interval and p-value."""
    from scipy import stats

    p = 2 * stats.norm.sf(abs(value) / se) if se > 0 else math.nan
    return Check(value, Z95 * se, p=float(p))


def exact(answer: bool | None) -> Check:
    """An exact yes/no part (``None``, unknown: cannot tell)."""
    return Check(float("nan")) if answer is None else Check(1.0 if answer else -1.0)


def mean_difference(values_a: Sequence[float], values_b: Sequence[float]) -> Check:
    """mean(a) - mean(b) with the half-width of Welch's 95 % interval (t quantile with the
    Welch-Satterthwaite degrees of freedom: with three networks a side it is about 2.8 standard
    errors, not 1.96), NaNs dropped; a side with fewer than two values cannot tell."""
    found = welch(values_a, values_b)
    return Check(found.difference, found.half_width() if found.se > 0 else found.se, p=found.p())


def interval(low: float, high: float, p: float = math.nan) -> Check:
    """The part "this quantity is positive", from its 95 % interval [low, high] (and the
    p-value of the test it makes, where known)."""
    return Check((low + high) / 2, (high - low) / 2, from_interval=True, p=p)


def mean_above(values: Sequence[float], level: float = 0.0) -> Check:
    """mean(values) - level with the half-width of its 95 % t interval, NaNs dropped."""
    found = welch(values)
    half = found.half_width() if found.se > 0 else found.se
    return Check(found.difference - level, half, p=found.p(level))


def equivalent(values_a: Sequence[float], values_b: Sequence[float] | None, margin: float) -> Check:
    """The part "the means of a and b are equal within ``margin``", by two one-sided Welch tests
    (TOST) at the 5 % level: it holds when the 90 % interval of mean(a) - mean(b) lies inside
    (-margin, margin), goes against when the one-sided 95 % bound of the difference's size is
    beyond the margin, and cannot tell otherwise. "No difference found" (p >= 0.05) is not
    equivalence: it is what too few networks give too. With ``values_b`` None, "the mean of a is
    within ``margin`` of zero" (one-sample t)."""
    found = welch(values_a, values_b)
    if not found.se > 0:
        return Check(margin - abs(found.difference), found.se)
    value = margin - abs(found.difference)
    p = t_tail(abs(value) / found.se, found.df)  # one-sided: the larger of TOST's two p-values
    return Check(value, t_quantile(0.95, found.df) * found.se, p=p)


def contrast_check(matrix, start: int, end: int) -> Check:
    """A block's contrast, mean CKA between different layers inside start..end minus mean CKA
    between them and the rest, with Welch's half-width over the pairs. Unlike
    :func:`~ckatools.analysis.blocks.contrast` it leaves out the diagonal (1s: no evidence)."""
    m = np.asarray(getattr(matrix, "matrix", matrix), dtype=float)
    inside = np.zeros(len(m), dtype=bool)
    inside[start : end + 1] = True
    pairs = m[inside][:, inside][~np.eye(int(inside.sum()), dtype=bool)]
    return mean_difference(pairs, m[inside][:, ~inside].ravel())


def rank_check(xs: Sequence[float], ys: Sequence[float], *, seed: int = 0) -> tuple[float, Check]:
    """Spearman's rho of ys against xs over all the networks, and the part "ys rise with xs":
    it holds when rho is above what chance gives (:func:`ckatools.stats.rho_chance`, the 95 %
    band of |rho| with ys shuffled among the networks), goes against below minus that, and
    cannot tell in between, or when the design cannot reach 5 %
    (:func:`ckatools.stats.can_reach_95`)."""
    rho = spearman(xs, ys)
    null = rho_null(xs, ys, seed=seed)
    if null is None:
        return rho, Check(rho, math.nan, chance=True)
    return rho, Check(rho, null_band(null), chance=True, p=null_p(null, rho))


def deciding(parts: Sequence[Check]) -> list[bool]:
    """Which of ``parts`` decide the claim (the module's rule): an exact part that holds or goes
    against; a tested part that does, alone, or, among several tested parts, with a p-value
    still below :data:`FAMILY_ERROR` after the Holm-Sidak step-down over them (a part whose
    p-value is unknown counts as p = 0.05)."""
    tested = [i for i, part in enumerate(parts) if part.tested]
    found = [part.state != "cannot tell" and not part.tested for part in parts]
    p = [parts[i].p if math.isfinite(parts[i].p) else FAMILY_ERROR for i in tested]
    for i, adjusted in zip(tested, holm_sidak(p)):
        clear = parts[i].state != "cannot tell"
        found[i] = clear and (len(tested) == 1 or bool(adjusted < FAMILY_ERROR))
    return found


def outcome(parts: Sequence[Check], decide: Sequence[bool] | None = None) -> str:
    """The module's rule: every part holds, reproduced; a part that goes against decides, not
    reproduced; a part that holds decides, partly reproduced; otherwise inconclusive.
    ``decide``: :func:`deciding` of ``parts``, when the caller has it already."""
    decide = deciding(parts) if decide is None else decide
    decisive = [part.state for part, d in zip(parts, decide) if d]
    if "against" in decisive:
        return "not reproduced"
    if parts and all(part.state == "holds" for part in parts):
        return "reproduced"
    return "partly reproduced" if "holds" in decisive else "inconclusive"


def _tally(parts: Sequence[Check], decide: Sequence[bool]) -> str:
    """How many of ``parts`` hold, go against and cannot tell, and, where a clear part does not
    decide, how many do (``decide``: :func:`deciding` of the parts)."""
    states = [p.state for p in parts]
    text = (
        f"{states.count('holds')} of {len(states)} hold, {states.count('against')} against, "
        f"{states.count('cannot tell')} cannot tell"
    )
    clear = sum(p.state != "cannot tell" for p in parts)
    every = bool(parts) and all(s == "holds" for s in states)  # needs no correction: reproduced
    if sum(decide) < clear and not every:  # why a clear part does not decide
        tested = sum(p.tested for p in parts)
        text += f"; {sum(decide)} of those {clear} decide after Holm-Sidak over {tested} parts"
    return text


@dataclass(frozen=True, repr=False)
class Verdict:
    """A paper figure, the outcome for it, and the numbers that decided it.

    Printed or shown as plain text it is the one-line form above; in a notebook it renders as
    Markdown, so that the line wraps to the page.
    """

    figure: str  # e.g. "Fig. 2"
    outcome: str  # one of OUTCOMES
    evidence: str
    against: tuple[str, ...] = ()  # the parts that go against the claim beyond noise

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")

    def __str__(self) -> str:
        return f"Verdict ({self.figure}): {self.outcome} - {self.evidence}"

    __repr__ = __str__

    @property
    def reading(self) -> str:
        """One sentence chosen by the outcome: what the numbers say, in words."""
        if self.outcome == "reproduced":
            return "Every part of the claim holds beyond its uncertainty in this run."
        if self.outcome == "partly reproduced":
            return (
                "Some parts of the claim hold beyond their uncertainty, more than chance gives "
                "over all its parts, and none goes against it as clearly; the others cannot "
                "tell, or do not clear chance over that many parts."
            )
        if self.outcome == "not reproduced":
            return (
                "This run goes against the paper: "
                + ", ".join(self.against or ("a part",))
                + " points the other way beyond its uncertainty."
            )
        if self.outcome == "inconclusive":
            return (
                "This run cannot tell: no part of the claim is clear of its uncertainty, for or "
                "against, by more than chance gives over all its parts."
            )
        if self.outcome == "not testable" and _UNFIT in self.evidence:
            return (
                "The claim is about networks that fit their training data, and these do not: "
                "the run cannot test it, for or against."
            )
        if self.outcome == "not testable":
            return (
                "What the claim is about is not in this run (the line above says why): it "
                "cannot test it, for or against."
            )
        return "This profile does not rebuild the figure."

    def _repr_markdown_(self) -> str:
        return f"**Verdict ({self.figure}): {self.outcome}** - {self.evidence}\n\n*{self.reading}*"


def _rho_text(rho: float, check: Check) -> str:
    """Spearman's rho and what chance gives it, as a trend verdict lists them."""
    if not math.isfinite(rho):
        return "undefined (one level, or no extent varies)"
    if not math.isfinite(check.uncertainty):
        return f"{rho:+.2f} (too few networks to beat chance)"
    return f"{rho:+.2f} (chance ±{check.uncertainty:.2f})"


def trend_verdict(
    figure: str, claim: str, series: Mapping[str, tuple[Sequence[float], Sequence[float]]]
) -> Verdict:
    """Verdict on "the block extent rises with the knob": ``series`` maps a name to (knob
    values, block extents); each series is a part (its rho against chance, :func:`rank_check`).

    ``claim`` completes "block extent rises with ...", e.g. "less data".
    """
    found = {name: rank_check(xs, ys) for name, (xs, ys) in series.items()}
    parts = [check for _, check in found.values()]
    decide = deciding(parts)
    numbers = ", ".join(f"{name} {_rho_text(rho, c)}" for name, (rho, c) in found.items())
    evidence = (
        f"block extent rises with {claim}: {_tally(parts, decide)} (Spearman's rho over the "
        f"networks, and the 95 % band of shuffled ones: {numbers})"
    )
    against = _against(dict(zip(found, parts)), decide)
    return Verdict(figure, outcome(parts, decide), evidence, against)


def presence_verdict(
    figure: str, claim: str, present: Mapping[str, bool | None], missing: str = "no block"
) -> Verdict:
    """Verdict on "every one of these networks has it": ``present`` maps names to answers (each
    an exact part; ``None``, unknown, cannot tell). ``missing`` says what a "no" means, as the
    parts that go against are named: "ResNet-8 ×1 s0 (no block)"."""
    parts = [exact(p) for p in present.values()]
    hits = sum(p is True for p in present.values())
    names = ", ".join(name for name, p in present.items() if p) or "none"
    unknown = sum(p is None for p in present.values())
    evidence = f"{claim} in {hits} of {len(present)} networks (where it holds: {names})" + (
        f"; {unknown} cannot tell" if unknown else ""
    )
    against = tuple(f"{name} ({missing})" for name, p in present.items() if p is False)
    return Verdict(figure, outcome(parts) if parts else "inconclusive", evidence, against)


def checks_verdict(figure: str, claim: str, checks: Mapping[str, Check | bool | None]) -> Verdict:
    """Verdict on a claim made of stated comparisons: ``checks`` maps each to a :class:`Check`
    (or an exact answer: True, False, None for unknown). When no part has a value at all (no
    parts, or every part undefined: no network in the run has what a part compares, such as a
    block, or nothing was left to compare), the claim is **not testable** here, as against
    inconclusive (values measured, too noisy to tell)."""
    parts = {name: c if isinstance(c, Check) else exact(c) for name, c in checks.items()}
    listed = "; ".join(f"{name}: {c.state} ({c.describe()})" for name, c in parts.items())
    if not any(math.isfinite(c.value) for c in parts.values()):
        missing = f"{claim}: none of its parts could be computed in this run"
        return Verdict(figure, "not testable", missing + (f" ({listed})" if parts else ""))
    values = list(parts.values())
    decide = deciding(values)
    return Verdict(
        figure,
        outcome(values, decide),
        f"{claim}: {_tally(values, decide)} ({listed})",
        _against(parts, decide),
    )


def _against(parts: Mapping[str, Check], decide: Sequence[bool]) -> tuple[str, ...]:
    """The names of the parts that go against the claim and decide it (``decide``:
    :func:`deciding` of the parts)."""
    return tuple(n for (n, c), d in zip(parts.items(), decide) if d and c.state == "against")


def not_run(figure: str, reason: str) -> Verdict:
    """The verdict of a figure the active profile does not rebuild."""
    return Verdict(figure, "not run in this profile", reason)


def _accuracy(value: float) -> str:
    """A training accuracy in words: whole percent, tenths close to a fit (98.6 % is not 99 %)."""
    return f"{value:.1%}" if value >= 0.95 else f"{value:.0%}"


_GATED = re.compile(r"\d+ of \d+ largest networks")  # what in_regime adds to the evidence
_UNFIT = "largest networks do not fit their data"  # ... when it makes a verdict not testable


def in_regime(verdict: Verdict, train_accuracies: Mapping[str, float]) -> Verdict:
    """The verdict, or **not testable** when its claim is about capacity
    (:data:`ckatools.analysis.claims.CAPACITY`) and a
    network that decides it does not fit its data. A verdict that passes the gate says so in its
    evidence ("3 of 3 largest networks fit their data"), and a verdict that went through the
    gate once is returned unchanged: the book's build applies it again to the stored lines, with
    coarser information, and must not overrule a chapter that gated with its own networks.

    Args:
        verdict: what the claim's parts say.
        train_accuracies: network name -> unaugmented training accuracy (0-1) of the networks
            that decide the claim: the largest of each series, every seed (a NaN does not fit).
            Names that end in " s<seed>" are listed together, as one architecture.
            Empty: nothing to gate on, the verdict is returned unchanged.
    """
    judged = verdict.outcome not in ("not testable", "not run in this profile")
    gated = _GATED.search(verdict.evidence) is not None  # in_regime has seen it already
    if verdict.figure not in CAPACITY or not judged or gated or not train_accuracies:
        return verdict
    short = {n: a for n, a in train_accuracies.items() if not a >= FIT}
    n = len(train_accuracies)
    if not short:
        lowest = min(train_accuracies.values())
        fitted = f"; {n} of {n} largest networks fit their data (lowest {lowest:.1%})"
        return Verdict(verdict.figure, verdict.outcome, verdict.evidence + fitted, verdict.against)
    by_architecture: dict[str, list[float]] = {}  # "ResNet-56 ×1 1/16 s0" -> "ResNet-56 ×1 1/16"
    for name, accuracy in short.items():
        by_architecture.setdefault(re.sub(r" s\d+$", "", name), []).append(accuracy)
    listed = ", ".join(
        f"{name} {_accuracy(min(a))}" + ("" if min(a) == max(a) else f"-{_accuracy(max(a))}")
        for name, a in by_architecture.items()
    )
    evidence = (
        f"{len(short)} of {n} {_UNFIT} (>= {FIT:.0%} training "
        f"accuracy; {listed}); "
        f"its parts alone: {verdict.outcome} - {verdict.evidence}"
    )
    return Verdict(verdict.figure, "not testable", evidence)
