"""The paper's claims, one record each: its sentence, quoted, and what the book tests in its place.

Every paper figure and table that makes a claim has a :class:`Claim`: the claim in brief, the
paper's own sentence (verbatim, with its section: ``tests/test_claims.py`` finds each quote in
the paper's text when the paper is at hand), what the book computes and the test that decides
each part, the unit of replication, and, where the test is not yet the paper's sentence, how it
departs (issue 27 of the book's tracker lists the fixes). ``capacity`` marks a claim about the
block structure, made of networks that fit their data: :func:`ckatools.analysis.verdicts.in_regime`
judges it only in that regime. The scorecard shows the quoted sentence beside each verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Claim", "CLAIMS", "CAPACITY"]


@dataclass(frozen=True)
class Claim:
    """One claim of the paper (or of later work that Chapter 10 rebuilds)."""

    figure: str  # "Fig. 1", "Table B.1", or "Nguyen 2022, during training"
    brief: str  # the claim in a few words
    quote: str = ""  # the paper's sentence, verbatim ("" for later work: not quoted here)
    section: str = ""  # where the quote is, e.g. "Section 4.1"
    test: str = ""  # what the book computes and how each part is decided
    unit: str = ""  # the unit of replication of the test
    departs: str = ""  # how the test departs from the sentence ("" when it does not)
    capacity: bool = False  # a claim about networks that fit their data


_CLAIMS = (
    Claim(
        "Fig. 1",
        "a block structure emerges as networks get deeper or wider",
        quote=(
            "As the model gets wider or deeper, we see the emergence of a distinctive block "
            "structure — a considerable range of hidden layers that have very high "
            "representation similarity (seen as a yellow square on the heatmap)."
        ),
        section="Section 4.1",
        test=(
            "trend: per series (depth, width), Spearman's rho between the knob and the block "
            "extent over all its networks; holds when it is above what chance gives (the 95 % "
            "band of rho with the extents shuffled among the networks)"
        ),
        unit="networks (seeds pooled per architecture)",
        departs="counts a block anywhere; the paper's lies in the last two stages",
        capacity=True,
    ),
    Claim(
        "Fig. 2",
        "with less training data, narrower networks show the block structure",
        quote="Block structure emerges in narrower networks when trained on less data.",
        section="Section 4.2",
        test=(
            "trend: per architecture, Spearman's rho between less data and the block extent "
            "over its networks, against the 95 % band of shuffled networks"
        ),
        unit="networks",
        departs=(
            "the cpu profile: three fractions of Fashion-MNIST-M, three seeds each (the paper: "
            "four fractions of CIFAR-10)"
        ),
        capacity=True,
    ),
    Claim(
        "Fig. 3",
        "the block structure propagates a dominant first principal component",
        quote=(
            "the block structure arises from preserving and propagating the first principal "
            "component across its constituent layers."
        ),
        section="Section 5.1",
        test=(
            "checks: PC1's share of the variance higher inside the block than outside (Welch "
            "over layers); the PC1s inside aligned (cos² contrast); removing PC1 lowers the "
            "block's contrast"
        ),
        unit="layers of one network",
        departs=(
            "'dominant' is a majority (>= 0.5) and 'eliminates' more than any drop; layers of "
            "one network are not independent samples"
        ),
        capacity=True,
    ),
    Claim(
        "Fig. 4",
        "linear probe accuracy stops improving inside the block structure",
        quote=(
            "In models without the block structure (first 2 panes), we see a monotonic "
            "increase in accuracy throughout the network, but in models with the block "
            "structure (last 2 panes), linear probe accuracy shows little improvement inside "
            "the block structure."
        ),
        section="Section 5.2",
        test=(
            "checks: per network, the probe's gain per layer inside the block below outside "
            "(Welch), and after residual connections above before"
        ),
        unit="layer steps of one network",
        departs="units are layer steps, not networks",
        capacity=True,
    ),
    Claim(
        "Fig. 5",
        "blocks inside the block structure can be deleted at little cost in accuracy",
        quote=(
            "show that some layers that make up the block structure can be removed with "
            "minimal performance loss."
        ),
        section="Section 5",
        test=(
            "checks: per network, deleting a residual block inside the block structure costs "
            "less accuracy than outside (Welch)"
        ),
        unit="deletions in one network",
        departs="no absolute 'minimal loss' and no network without a block to compare with",
        capacity=True,
    ),
    Claim(
        "Fig. 6",
        "the block structure is unique to each model; other layers match across seeds",
        quote=(
            "comparisons across seeds (off-diagonal plots) show that while layers not in the "
            "block structure exhibit some similarity, the block structure representations are "
            "highly dissimilar across models."
        ),
        section="Section 6",
        test=(
            "checks: per architecture with a block, CKA between corresponding layers of "
            "different seeds lower inside the block than outside (Welch over layers)"
        ),
        unit="layers of seed pairs",
        departs=(
            "compares corresponding layers (the diagonal), not the block's square; units are "
            "layers of three seed pairs"
        ),
        capacity=True,
    ),
    Claim(
        "Fig. 7",
        "wide and deep networks make systematically different per-example mistakes",
        quote=(
            "Although the average accuracy of these groups is statistically "
            "indistinguishable, they tend to make different errors"
        ),
        section="Section 7",
        test=(
            "checks: equal mean accuracy within 0.5 points (two one-sided Welch tests); "
            "per-example scatter above a same-architecture baseline (bootstrap); more classes "
            "differ than in the baseline"
        ),
        unit="networks (20 a group)",
        departs="no deep/deep baseline beside the wide/wide one",
        capacity=False,
    ),
    Claim(
        "Fig. C.1",
        "plain networks without residual connections show it as they widen",
        quote="Block structure also appears in models without residual connections.",
        section="Appendix C",
        test=(
            "trend: Spearman's rho between width and block extent of plain networks, against "
            "the 95 % band of shuffled networks"
        ),
        unit="networks",
        departs="",
        capacity=True,
    ),
    Claim(
        "Fig. D.1",
        "a network with a block structure has it in every seed, at varying positions",
        quote=(
            "While the size and position vary, the block structure is clearly visible in all seeds."
        ),
        section="Appendix D",
        test="presence: the block measure finds a block in every seed of the deepest network",
        unit="networks (seeds)",
        departs="",
        capacity=True,
    ),
    Claim(
        "Fig. D.2",
        "with less training data, shallower networks show the block structure",
        quote="Block structure emerges in shallower networks when trained on less data (CIFAR-10).",
        section="Appendix D",
        test="trend, as Fig. 2, over depth",
        unit="networks",
        departs="as Fig. 2",
        capacity=True,
    ),
    Claim(
        "Fig. D.3",
        "the same on CIFAR-100 with depth",
        quote=(
            "Block structure emerges in shallower networks when trained on less data (CIFAR-100)."
        ),
        section="Appendix D",
        test="trend, as Fig. 2, on CIFAR-100",
        unit="networks",
        departs="",
        capacity=True,
    ),
    Claim(
        "Fig. D.4",
        "the same on CIFAR-100 with width",
        quote="Block structure emerges in narrower networks when trained on less data (CIFAR-100).",
        section="Appendix D",
        test="trend, as Fig. 2, on CIFAR-100",
        unit="networks",
        departs="",
        capacity=True,
    ),
    Claim(
        "Fig. D.5",
        "inside the block, the first principal component explains most of the variance",
        quote=(
            "in networks with a visible block structure, the first principal component "
            "explains a large fraction of the variance, whereas in networks with no visible "
            "block structure, it does not"
        ),
        section="Section 5.1",
        test=(
            "checks: per network, PC1's share of the variance in layers inside its block "
            "above outside (Welch over layers)"
        ),
        unit="layers of one network",
        departs=(
            "the paper compares networks with and without a block, on the last two stages "
            "combined; one part against in 18 decides"
        ),
        capacity=True,
    ),
    Claim(
        "Fig. D.6",
        "removing the first principal component removes the block structure",
        quote=(
            "Compared to Figure 1, we observe that while this process significantly "
            "eliminates the block structure in large capacity models (as also shown in Figure "
            "3), it has negligible impact on the representational structures of smaller "
            "models (where no block structure is present)."
        ),
        section="Appendix D",
        test="presence: the block measure, re-run on the heatmap without PC1, finds no block",
        unit="networks",
        departs=(
            "re-running the measure re-thresholds against a new background (it can create "
            "blocks); the paper looks at the block's own span"
        ),
        capacity=True,
    ),
    Claim(
        "Fig. D.8",
        "ReLUs inside the block are as sparse as outside: the block is not linear",
        quote="ReLU activations inside and outside the block structure are similarly sparse.",
        section="Appendix D",
        test=(
            "checks: the shares of always-active ReLUs inside and outside the block within "
            "0.1 of each other (Welch); more than 5 % zeros inside"
        ),
        unit="layers of one network",
        departs="units are layers",
        capacity=True,
    ),
    Claim(
        "Fig. E.1",
        "without a block structure, layers match across architectures at equal depth",
        quote=(
            "Wide and deep models without the block structure do exhibit representation "
            "similarity with each other, with corresponding layers broadly being of the same "
            "proportional depth in the model."
        ),
        section="Section 6",
        test=(
            "checks: best-matching layers keep the order of depth (Spearman); their mean "
            "offset in relative depth below 0.1"
        ),
        unit="layers of one pair",
        departs="judged on a pair of which one has a block, with a fixed 0.1 instead of a null",
        capacity=True,
    ),
    Claim(
        "Fig. F.1",
        "per-example differences between wide and deep networks hold on held-out seeds",
        quote=(
            "Accuracies are reported on a subset of models that is disjoint from those used "
            "to select the examples."
        ),
        section="Appendix F.1",
        test=(
            "checks: examples picked on half the seeds differ on the other half, by more than "
            "a same-architecture baseline's picks (normal intervals)"
        ),
        unit="networks (held-out half)",
        departs="",
        capacity=False,
    ),
    Claim(
        "Fig. F.2",
        "with depth, accuracy rises, most where small networks are often right",
        quote=(
            "As the architecture becomes wider or deeper, accuracy on many examples "
            "increases, and the effect is most pronounced for examples where smaller networks "
            "were often but not always correct."
        ),
        section="Section 7",
        test=(
            "checks: Spearman's rho between depth and accuracy; more examples gain than lose; "
            "the gain is larger where the smallest network is often but not always right "
            "(each small network held out in turn: the others choose the examples, it "
            "measures the gain; a bootstrap over examples)"
        ),
        unit="networks (the trend); examples (the gains)",
        departs="",
        capacity=False,
    ),
    Claim(
        "Fig. F.3",
        "with width, accuracy rises, most where small networks are often right",
        quote=(
            "As the architecture becomes wider or deeper, accuracy on many examples "
            "increases, and the effect is most pronounced for examples where smaller networks "
            "were often but not always correct."
        ),
        section="Section 7",
        test="checks: as Fig. F.2, over width",
        unit="networks (the trend); examples (the gains)",
        departs="",
        capacity=False,
    ),
    Claim(
        "Table B.1",
        "test accuracy rises with depth and with width",
        quote=(
            "We observe that increasing depth and/or width indeed yields better-performing models."
        ),
        section="Section 3",
        test=(
            "trend: Spearman's rho between depth (width) and test accuracy over the networks, "
            "against the 95 % band of shuffled networks"
        ),
        unit="networks",
        departs="",
        capacity=False,
    ),
    Claim(
        "Nguyen 2022, dominant datapoints",
        (
            "the block comes from a few dominant examples, which share an image statistic; "
            "without them it fades"
        ),
        test=(
            "checks: their norms stand out more inside the block (Welch over layers); they "
            "share a photograph more often than the test set; the block's extent at least "
            "halves without them"
        ),
        unit="examples of one network",
        departs="",
        capacity=True,
    ),
    Claim(
        "Nguyen 2022, during training",
        "the block structure appears early in training and stays",
        test=(
            "checks: a block within the first quarter of training; a block at every epoch "
            "after it first appears"
        ),
        unit="epochs of one network",
        departs="one flickering epoch fails 'stays'",
        capacity=True,
    ),
    Claim(
        "Davari 2023, translation",
        "moving one class far changes linear CKA a lot but not what a linear probe can read",
        test=(
            "checks: linear CKA falls by more than 0.2 as one class moves; probe accuracy "
            "falls by less than 5 points (normal interval)"
        ),
        unit="images",
        departs="the probe part uses an unpaired interval on the same images",
        capacity=False,
    ),
)
# Every figure of the paper that makes a claim, in the paper's order; later work last.
CLAIMS: dict[str, Claim] = {claim.figure: claim for claim in _CLAIMS}
# Claims about capacity: what the block structure is and does in networks that fit their data.
# Judged only when the networks that decide them fit (verdicts.in_regime); the others (accuracy,
# per-example mistakes, CKA's own behaviour) can be judged in any regime.
CAPACITY = frozenset(figure for figure, claim in CLAIMS.items() if claim.capacity)
