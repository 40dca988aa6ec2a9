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
            "trend: per series (depth, width), Spearman's rho between the knob and the extent "
            "of the paper's block (one that begins in the last two stages; an earlier block "
            "counts as none) over all its networks; holds when it is above what chance gives "
            "(the 95 % band of rho with the extents shuffled among the networks)"
        ),
        unit="networks (seeds pooled per architecture)",
        departs="",
        capacity=True,
    ),
    Claim(
        "Fig. 2",
        "with less training data, narrower networks show the block structure",
        quote="Block structure emerges in narrower networks when trained on less data.",
        section="Section 4.2 (Figure 2's caption)",
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
            "checks over the networks with a block (t intervals over networks): PC1 explains "
            "a majority (>= 0.5) of the variance inside the block; the PC1s inside are aligned "
            "(cos² contrast above 0); removing PC1 leaves at most half of the block's contrast "
            "on its own span"
        ),
        unit="networks with a block",
        departs=(
            "no part compares PC1 inside the block with outside it; 'eliminates' read as at "
            "most half the contrast left (the same part as Fig. D.6's first)"
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
            "checks, one number per network and a t interval over the networks: without a "
            "block, accuracy rises with depth (Spearman's rho above 0); with a block, the "
            "probe's gain per block smaller inside than outside, and after the residual "
            "connection above before, inside"
        ),
        unit="networks (four with a block, four without, picked by the block measure)",
        departs=(
            "'monotonic' read as a mean rank correlation above zero (a long plateau passes); "
            "'little improvement' read only as smaller than outside the block"
        ),
        capacity=True,
    ),
    Claim(
        "Fig. 5",
        "blocks inside the block structure can be deleted at little cost in accuracy",
        quote=(
            "find that there is little impact on test accuracy when blocks are dropped from the "
            "middle stage (Figure 5), unlike what happens in models without block structure."
        ),
        section="Section 5.2",
        test=(
            "checks, one number per network and t intervals over the networks: with a "
            "block, deleting a residual block inside it costs less accuracy than outside (all "
            "three stages); a middle-stage deletion inside it costs below 2 points ('minimal "
            "loss', pruning.MINIMAL_LOSS); and less than a middle-stage deletion in networks "
            "without a block (Welch)"
        ),
        unit=(
            "networks (the four with the most contrasting blocks and four with none or the "
            "smallest, picked by the block measure among those whose middle stage can lose at "
            "least two blocks; the parts count them by whether they have a block)"
        ),
        departs=(
            "'little impact' is a margin the book states (2 points per deleted block, set after "
            "runs in the earlier regime); the first part compares inside and outside the block "
            "over all three stages, where 'outside' is mostly another stage; the third part "
            "compares networks that differ in size as well as in the block (those with one are "
            "the wider or deeper, where one residual block is a smaller share of its stage), as "
            "the paper's own comparison does"
        ),
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
            "checks, per architecture, t intervals over its pairs of seeds: where both have a "
            "block, the mean CKA inside each network's own block square above the mean CKA "
            "between the two blocks across the pair; where either has one, corresponding "
            "layers more alike outside the blocks than inside"
        ),
        unit="pairs of seeds with a block",
        departs=(
            "'highly dissimilar' read as any positive gap, and 'some similarity' outside as "
            "more than inside (early layers, which agree across seeds anyway, lie outside "
            "blocks more often); pairs of seeds share networks, so the pairs are not "
            "independent units and the interval is too narrow"
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
            "checks: equal mean accuracy within 0.5 points (two one-sided Welch tests; the "
            "comparison's premise: accuracies that differ beyond it make the figure not "
            "testable); "
            "per-example scatter above each same-architecture baseline, two groups of the deep "
            "architecture (the paper's Fig. 7b) and two of the wide one (bootstrap); more "
            "classes differ than in either baseline"
        ),
        unit="networks (20 a group)",
        departs="'statistically indistinguishable' read as equal within 0.5 points",
        capacity=False,
    ),
    Claim(
        "Fig. C.1",
        "plain networks without residual connections show it as they widen",
        quote="Block structure also appears in models without residual connections.",
        section="Appendix C (Figure C.1's caption)",
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
        section="Appendix D (Figure D.1's caption)",
        test=(
            "presence: the block measure finds a block that begins in the last two stages (the "
            "paper's) in every seed of the deepest network"
        ),
        unit="networks (seeds)",
        departs="",
        capacity=True,
    ),
    Claim(
        "Fig. D.2",
        "with less training data, shallower networks show the block structure",
        quote="Block structure emerges in shallower networks when trained on less data (CIFAR-10).",
        section="Appendix D (Figure D.2's caption)",
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
        section="Appendix D (Figure D.3's caption)",
        test="trend, as Fig. 2, on CIFAR-100",
        unit="networks",
        departs="",
        capacity=True,
    ),
    Claim(
        "Fig. D.4",
        "the same on CIFAR-100 with width",
        quote="Block structure emerges in narrower networks when trained on less data (CIFAR-100).",
        section="Appendix D (Figure D.4's caption)",
        test="trend, as Fig. 2, on CIFAR-100",
        unit="networks",
        departs="",
        capacity=True,
    ),
    Claim(
        "Fig. D.5",
        "inside the block, the first principal component explains most of the variance",
        quote=(
            "We observe that this variance measure is significantly higher in model seeds where "
            "the block structure is present."
        ),
        section="Appendix D (Figure D.5's caption)",
        test=(
            "checks: PC1's share of the variance of the last two stages' combined "
            "activations, higher in seeds with a block than in seeds of the same architecture "
            "without one (one difference per architecture with both; t interval over them)"
        ),
        unit="architectures (a difference over their seeds)",
        departs="only architectures whose seeds differ in having a block can take part",
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
        section="Appendix D (Figure D.6's caption)",
        test=(
            "checks: with a block, at most half of the block's contrast left on its own span "
            "without PC1; the heatmap changes more with a block than without; without one, a "
            "mean change below the block measure's own excess (negligible); t and Welch "
            "intervals over networks"
        ),
        unit="networks",
        departs="'eliminates' read as at most half the contrast left; 'negligible' as below 0.05",
        capacity=True,
    ),
    Claim(
        "Fig. D.8",
        "ReLUs inside the block are as sparse as outside: the block is not linear",
        quote="ReLU activations inside and outside the block structure are similarly sparse.",
        section="Appendix D (Figure D.8's caption)",
        test=(
            "checks, every network with a block one unit: the shares of always-active ReLUs "
            "inside and outside the block within 0.1 of each other (two one-sided t tests); "
            "more than 5 % zeros inside (t interval)"
        ),
        unit="networks with a block",
        departs=(
            "'similarly sparse' read as always-active shares within 0.1, and the zeros as more "
            "than 5 % (the book's margins, not derived from the paper)"
        ),
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
            "checks, on a wide network and a deeper, narrower one, both without a block and "
            "closest in accuracy (or not testable): best-matching layers keep the order of "
            "depth (Spearman); their mean offset in relative depth below what shuffled layer "
            "orders give (two-sided, 5 %)"
        ),
        unit="layers of one pair",
        departs="beating chance is not 'the same proportional depth'; one pair, not seeds",
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
            "the picks of each same-architecture baseline (the wide one and, where trained, "
            "the deep one; normal intervals over the picked examples)"
        ),
        unit="examples (picked on half the seeds, measured on the networks of the other half)",
        departs=(
            "the interval's units are the picked examples, not the networks: examples share "
            "the networks that measure them, so it is narrower than one over networks would be"
        ),
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
            "checks: Spearman's rho between depth and accuracy; more examples gain than lose "
            "(a sign test over the examples that moved, set after a run in which a bare "
            "comparison of the counts called 470 against 480 a result); "
            "the gain is larger where the smallest network is often but not always right "
            "(each small network held out in turn: the others choose the examples, it "
            "measures the gain; a bootstrap over examples)"
        ),
        unit="networks (the trend); examples (the gains)",
        departs="the sign test of the second check was chosen after a run (8 December 2026)",
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
        departs="the sign test of the second check was chosen after a run (8 December 2026)",
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
            "share a photograph more often than the test set; the block's contrast on its own "
            "span at least halves without them"
        ),
        unit="layers of one network (the norms); its test images (the photographs)",
        departs=(
            "one network, its layers taken as units for the norms; 'fades' read as the contrast "
            "on the block's span at least halved (set on 6 December 2026, after a run that "
            "re-ran the measure instead)"
        ),
        capacity=True,
    ),
    Claim(
        "Nguyen 2022, during training",
        "the block structure appears early in training and stays",
        test=(
            "checks: a block within the first quarter of training; a block in at least 80 % "
            "of the snapshots after it first appears, and in the last (datapoints.STAYS)"
        ),
        unit="snapshots of one network (every early epoch, then a few later ones)",
        departs=(
            "'stays' read as 80 % of the later snapshots, a threshold set after a run in which "
            "2 of 14 later snapshots showed no block (the earlier rule asked for every one); "
            "the snapshots are dense early in training, so the early epochs weigh most"
        ),
        capacity=True,
    ),
    Claim(
        "Davari 2023, translation",
        "moving one class far changes linear CKA a lot but not what a linear probe can read",
        test=(
            "checks, both at the largest distance (8 RMS norms): linear CKA falls by more than "
            "0.2 as one class moves; probe accuracy falls by less than 5 points (paired over "
            "the scored images)"
        ),
        unit="images",
        departs=(
            "one representation of one network; the distance was fixed on 6 December 2026, "
            "after a run that compared the largest falls over all distances"
        ),
        capacity=False,
    ),
)
# Every figure of the paper that makes a claim, in the paper's order; later work last.
CLAIMS: dict[str, Claim] = {claim.figure: claim for claim in _CLAIMS}
# Claims about capacity: what the block structure is and does in networks that fit their data.
# Judged only when the networks that decide them fit (verdicts.in_regime); the others (accuracy,
# per-example mistakes, CKA's own behaviour) can be judged in any regime.
CAPACITY = frozenset(figure for figure, claim in CLAIMS.items() if claim.capacity)
