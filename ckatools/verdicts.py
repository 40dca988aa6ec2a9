"""One rule, stated once, that turns a chapter's numbers into a verdict on a paper figure.

Every paper figure a chapter rebuilds prints exactly one line

    Verdict (Fig. 2): partly reproduced - block score rises with less data in 1 of 3 series (...)

The paper's claims about the block structure are of two kinds, and each has its rule:

* a *trend* ("the block structure grows with width"): for each series of networks (one row of a
  grid, all seeds pooled) Spearman's rank correlation between the knob and the block score.
  A series *follows the claim* when rho >= ``RISING_RHO``. Every series follows it: reproduced;
  some do: partly reproduced; none does (including when every rho is NaN): not reproduced.
* a *presence* ("every seed of this network has a block"): reproduced when every network
  has it, partly reproduced when some do, not reproduced when none does.
* a claim made of stated *checks* ("PC1 explains more variance inside the block than outside;
  removing it lowers the block's contrast"): reproduced when every check holds, partly when
  some do, not reproduced when none does.

A figure whose experiment the active profile does not run gets ``not run in this profile``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .blocks import spearman

__all__ = [
    "CLAIMS",
    "UNVERDICTED",
    "Verdict",
    "OUTCOMES",
    "LINE",
    "RISING_RHO",
    "trend_verdict",
    "presence_verdict",
    "checks_verdict",
    "not_run",
]

OUTCOMES = ("reproduced", "partly reproduced", "not reproduced", "not run in this profile")
# Every figure of the paper that makes a claim, in the paper's order, with the claim in brief.
CLAIMS: dict[str, str] = {
    "Fig. 1": "a block structure emerges as networks get deeper or wider",
    "Fig. 2": "with less training data, narrower networks show the block structure",
    "Fig. 3": "the block structure propagates a dominant first principal component",
    "Fig. 4": "linear probe accuracy stops improving inside the block structure",
    "Fig. 5": "blocks inside the block structure can be deleted at little cost in accuracy",
    "Fig. 6": "the block structure is unique to each model; other layers match across seeds",
    "Fig. 7": "wide and deep networks make systematically different per-example mistakes",
    "Fig. C.1": "plain networks without residual connections show it as they widen",
    "Fig. D.1": "a network with a block structure has it in every seed, at varying positions",
    "Fig. D.2": "with less training data, shallower networks show the block structure",
    "Fig. D.3": "the same on CIFAR-100 with depth",
    "Fig. D.4": "the same on CIFAR-100 with width",
    "Fig. D.5": "inside the block, the first principal component explains most of the variance",
    "Fig. D.6": "removing the first principal component removes the block structure",
    "Fig. D.8": "ReLUs inside the block are as sparse as outside: the block is not linear",
    "Fig. E.1": "without a block structure, layers match across architectures at equal depth",
    "Fig. F.1": "per-example differences between wide and deep networks hold on held-out seeds",
    "Fig. F.2": "with depth, accuracy rises and more examples get easier than harder",
    "Fig. F.3": "with width, accuracy rises and more examples get easier than harder",
}
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
    "Table B.1": (
        "test accuracy of every architecture on CIFAR-10 and CIFAR-100",
        "Chapter 2 sets the profile's accuracies beside the paper's; on Fashion-MNIST the "
        "numbers are not comparable, so no verdict",
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
RISING_RHO = 0.5  # Spearman's rho at or above which a series follows a claimed rise
LINE = re.compile(
    r"^Verdict \((?P<figure>[^)]+)\): (?P<outcome>" + "|".join(OUTCOMES) + r") - (?P<evidence>.+)$",
    re.M,
)


@dataclass(frozen=True, repr=False)
class Verdict:
    """A paper figure, the outcome for it, and the numbers that decided it.

    Printed or shown as plain text it is the one-line form above; in a notebook it renders as
    Markdown, so that the line wraps to the page.
    """

    figure: str  # e.g. "Fig. 2"
    outcome: str  # one of OUTCOMES
    evidence: str

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")

    def __str__(self) -> str:
        return f"Verdict ({self.figure}): {self.outcome} - {self.evidence}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return f"**Verdict ({self.figure}): {self.outcome}** - {self.evidence}"


def _share(hits: int, total: int) -> str:
    if total == 0 or hits == 0:
        return "not reproduced"
    return "reproduced" if hits == total else "partly reproduced"


def trend_verdict(
    figure: str, claim: str, series: Mapping[str, tuple[Sequence[float], Sequence[float]]]
) -> Verdict:
    """Verdict on "the score rises with the knob": ``series`` maps a name to (knob values, scores).

    ``claim`` completes "block score rises with ...", e.g. "less data".
    """
    rhos = {name: spearman(xs, ys) for name, (xs, ys) in series.items()}
    hits = sum(rho >= RISING_RHO for rho in rhos.values() if not math.isnan(rho))
    numbers = ", ".join(f"{name} {rho:+.2f}" for name, rho in rhos.items())
    evidence = (
        f"block score rises with {claim} in {hits} of {len(rhos)} series (Spearman: {numbers})"
    )
    return Verdict(figure, _share(hits, len(rhos)), evidence)


def presence_verdict(figure: str, claim: str, present: Mapping[str, bool]) -> Verdict:
    """Verdict on "every one of these networks has a block": ``present`` maps names to answers."""
    hits = sum(map(bool, present.values()))
    names = ", ".join(name for name, p in present.items() if p) or "none"
    evidence = f"{claim} in {hits} of {len(present)} networks (where it holds: {names})"
    return Verdict(figure, _share(hits, len(present)), evidence)


def checks_verdict(figure: str, claim: str, checks: Mapping[str, bool]) -> Verdict:
    """Verdict on a claim made of several comparisons: ``checks`` maps each stated comparison to
    whether it holds; all hold: reproduced, some: partly reproduced, none: not reproduced."""
    hits = sum(map(bool, checks.values()))
    listed = "; ".join(f"{name}: {'yes' if ok else 'no'}" for name, ok in checks.items())
    return Verdict(
        figure, _share(hits, len(checks)), f"{claim}: {hits} of {len(checks)} hold ({listed})"
    )


def not_run(figure: str, reason: str) -> Verdict:
    """The verdict of a figure the active profile does not rebuild."""
    return Verdict(figure, "not run in this profile", reason)
