"""What the study trains, stage by stage: each stage's regimes, architectures and seeds as
committed in ``protocol.md`` before its networks were trained, and the constants its rules read
(the seeds, the fit threshold, stage 6's regimes and candidates)."""

from __future__ import annotations

__all__ = [
    "STAGES",
    "FAST",
    "REGIME_1_64",
    "PILOT",
    "WARM",
    "PILOT_SEEDS",
    "STUDY_RECIPE",
    "STUDY_ARCHITECTURES",
    "REGIME_1_16_SHORT",
    "SEEDS",
    "WIDTHS",
    "DEPTHS",
    "STAGE6_RECIPE",
    "STAGE6_STEPS",
    "STAGE6_FRACTIONS",
    "STAGE6_BASES",
    "STAGE6_DEEPEST",
    "STAGE6_PILOT",
    "stage6_regimes",
    "STAGE7_WIDTHS",
    "STAGE7_DEPTHS",
]


REGIME_1_64 = dict(dataset="fashion-mnist", fraction=1 / 64, epochs=60, lr=0.05)
PILOT = dict(dataset="fashion-mnist-m", fraction=1 / 16, epochs=15, lr=0.05)
WARM, FAST = dict(warmup_epochs=2), dict(bf16_cpu=True)
PILOT_SEEDS = (100, 101)  # never used by the study's stages
STUDY_RECIPE = dict(fraction=1 / 16, epochs=15, lr=0.05, warmup_epochs=2, bf16_cpu=True)
STUDY_ARCHITECTURES = tuple((14, w) for w in (0.25, 0.5, 1, 2, 4)) + tuple(
    (d, 1) for d in (8, 14, 26, 44, 56)
)
REGIME_1_16_SHORT = dict(dataset="fashion-mnist", fraction=1 / 16, epochs=15, lr=0.05)
SEEDS = (0, 1, 2)
WIDTHS = ((14, 0.25), (14, 0.5), (14, 1), (14, 2))
DEPTHS = ((8, 0.5), (14, 0.5), (26, 0.5), (56, 0.5))
STAGES: dict[int, list[tuple[dict, tuple, tuple]]] = {  # stage -> [(regime, architectures, seeds)]
    1: [(REGIME_1_64, WIDTHS + DEPTHS, SEEDS)],
    2: [(REGIME_1_16_SHORT, WIDTHS + ((8, 0.5), (26, 0.5), (44, 0.5)), SEEDS)],
    3: [
        ({**REGIME_1_64, "fraction": 1 / 16}, ((14, 0.5), (14, 1)), SEEDS),
        (REGIME_1_64, ((14, 4),), SEEDS),
    ],
    4: [
        (PILOT, ((44, 0.5),), (100,)),
        ({**PILOT, **WARM}, ((44, 0.5),), (100,)),
        ({**PILOT, **FAST}, ((56, 1),), (100,)),
        ({**PILOT, **WARM, **FAST}, ((56, 1),), (100,)),
        ({**PILOT, **WARM}, ((8, 1), (14, 1)), PILOT_SEEDS),
        ({**PILOT, **WARM, **FAST}, ((8, 1), (14, 1)), PILOT_SEEDS),
        ({**PILOT, **WARM, **FAST}, ((14, 0.25), (14, 2)), (100,)),
    ],
    5: [
        ({**STUDY_RECIPE, "dataset": name}, tuple(dict.fromkeys(STUDY_ARCHITECTURES)), SEEDS)
        for name in ("fashion-mnist-m", "fashion-mnist")
    ],
}
STAGE6_RECIPE = dict(dataset="fashion-mnist-m", lr=0.05, warmup_epochs=2, bf16_cpu=True)
STAGE6_STEPS = (480, 960, 1920)  # SGD steps of a regime, at batch 128
STAGE6_FRACTIONS = {1 / 16: 30, 1 / 32: 15, 1 / 64: 8}  # fraction -> steps an epoch
STAGE6_BASES = (20, 26, 32)  # candidate base depths of the width series
STAGE6_DEEPEST = (56, 1)
STAGE6_PILOT = tuple((d, w) for d in STAGE6_BASES for w in (1, 4)) + (STAGE6_DEEPEST,)


def stage6_regimes() -> list[dict]:
    """Stage 6's regimes, cheapest first: by steps, then more data first."""
    return [
        dict(STAGE6_RECIPE, fraction=fraction, epochs=steps // per_epoch)
        for steps in STAGE6_STEPS
        for fraction, per_epoch in STAGE6_FRACTIONS.items()
    ]


# The rule's deciding networks in every regime first, then the base candidates.
STAGES[6] = [(r, (STAGE6_DEEPEST, (STAGE6_BASES[0], 4)), PILOT_SEEDS) for r in stage6_regimes()]
STAGES[6] += [(r, STAGE6_PILOT, PILOT_SEEDS) for r in stage6_regimes()]

STAGE7_WIDTHS = (0.5, 1, 2, 4)  # the width series: the base depth at these widths
STAGE7_DEPTHS = (8, 14, 20, 32, 44, 56)  # the depth series, at x1
