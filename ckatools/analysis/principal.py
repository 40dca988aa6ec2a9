"""The block structure and the first principal component (Sec. 5.1, Figs. 3, D.5 and D.6), with
networks as the units.

For each network, :func:`pc_numbers` reduces its components (:class:`ckatools.components.
Components`, on one set of test images) and its measured block to a few numbers; the checks
then compare those numbers across networks, as the paper's sentences do:

* Fig. 3, "layers belonging to the block structure have a highly dominant first principal
  component ... removing the first principal component ... eliminates the block structure":
  in networks with a block, PC1 explains a majority of each block layer's variance, the PC1s
  inside the block are aligned, and removing PC1 at least halves the block's contrast, measured
  on the block's own span (not by re-running the block measure, which re-thresholds against
  the new background and can find, or even create, another block).
* Fig. D.5, "this variance measure is significantly higher in model seeds where the block
  structure is present": PC1's share of the variance of the last two stages' activations
  combined, networks with a block against networks without one.
* Fig. D.6, "significantly eliminates the block structure in large capacity models ... it has
  negligible impact on the representational structures of smaller models (where no block
  structure is present)": the heatmap's change when PC1 is removed, larger in networks with a
  block than without, and below :data:`NEGLIGIBLE` without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ckatools.analysis.blocks import EXCESS, Block
from ckatools.analysis.verdicts import Check, contrast_check, mean_above, mean_difference
from ckatools.components import Components, top_eigenpair

__all__ = [
    "MAJORITY",
    "HALVED",
    "NEGLIGIBLE",
    "PCNumbers",
    "pc_numbers",
    "late_stages",
    "combined_fraction",
    "fig3_checks",
    "fig_d5_checks",
    "fig_d6_checks",
]

MAJORITY = 0.5  # "highly dominant": PC1 explains at least half of a layer's variance
HALVED = 0.5  # "eliminates": the contrast without PC1 is at most half the contrast with it
# "negligible impact": a change of CKA smaller than the excess a pair of layers needs to stand
# out from its distance's mean in the block measure (blocks.EXCESS) can neither make nor undo
# a block by the measure's own standard.
NEGLIGIBLE = EXCESS


@dataclass(frozen=True)
class PCNumbers:
    """One network's numbers for Figs. 3, D.5 and D.6 (NaN where a number needs a block and the
    network has none)."""

    has_block: bool
    inside: float  # mean PC1 fraction of the layers inside the block
    aligned: float  # the block's contrast in the squared cosines of the layers' PC1s
    contrast: float  # the block's contrast in CKA (diagonal left out)
    contrast_without: float  # the same span's contrast once PC1 is removed from every layer
    late: float  # PC1 fraction of the last two stages' activations combined (Fig. D.5)
    change: float  # mean |CKA - CKA without PC1| over pairs of different layers (Fig. D.6)
    architecture: str  # what its seeds share, e.g. "ResNet-20 ×1": Fig. D.5 compares seeds

    @property
    def remaining(self) -> float:
        """The share of the block's contrast left once PC1 is removed (NaN without a block)."""
        return self.contrast_without / self.contrast if self.contrast > 0 else float("nan")


def late_stages(layers) -> np.ndarray:
    """(L,) mask of the representations in the last two stages (where the paper's block lies)."""
    stages = np.array([layer.stage or 0 for layer in layers])
    return stages >= stages.max() - 1


def combined_fraction(comps: Components, mask: np.ndarray) -> float:
    """PC1's share of the variance of the masked layers' activations concatenated feature-wise:
    the centred Gram matrix of a concatenation is the sum of the layers' centred Gram matrices,
    so its top eigenvalue over its trace is that share."""
    keep = torch.as_tensor(np.asarray(mask, dtype=bool), device=comps.grams.device)
    gram = comps.grams[keep].sum(0, keepdim=True)
    total = float(gram.diagonal(dim1=-2, dim2=-1).sum())
    return float(top_eigenpair(gram)[0][0]) / total if total > 0 else float("nan")


def pc_numbers(comps: Components, layers, block: Block, architecture: str) -> PCNumbers:
    """One network's :class:`PCNumbers` from its components and its measured block.

    Args:
        comps: the network's components on n test images (L layers).
        layers: its L representations (``CKAResult.layers_a``), for their stages.
        block: its block (:func:`ckatools.analysis.blocks.measure`); absent: no inside numbers.
        architecture: what its seeds share and other networks do not (its configuration
            less the seed), for Fig. D.5; not empty.
    """
    fraction = np.asarray(comps.fraction, dtype=float)
    if len(layers) != len(fraction):
        raise ValueError(f"{len(layers)} layers for components of {len(fraction)} layers")
    cka, without = comps.cka(), comps.cka(without_pc1=True)
    off = ~np.eye(len(cka), dtype=bool)
    change = float(np.nanmean(np.abs(cka - without)[off]))
    late = combined_fraction(comps, late_stages(layers))
    if not architecture:
        raise ValueError(
            "pc_numbers needs the network's architecture (its configuration less the seed)"
        )
    nan = float("nan")
    if not block.present:
        return PCNumbers(False, nan, nan, nan, nan, late, change, architecture)
    span = (block.start, block.end)
    # contrasts without the diagonal (its 1s are no evidence of a block); NaN for a block of
    # one layer or of every layer, which has nothing to contrast with
    contrast = lambda matrix: contrast_check(matrix, *span).value
    return PCNumbers(
        True,
        float(np.nanmean(fraction[block.start : block.end + 1])),
        contrast(comps.cosines()),
        contrast(cka),
        contrast(without),
        late,
        change,
        architecture,
    )


def _split(numbers: Sequence[PCNumbers]) -> tuple[list[PCNumbers], list[PCNumbers]]:
    """The networks with a block, and those without."""
    return [n for n in numbers if n.has_block], [n for n in numbers if not n.has_block]


def fig3_checks(numbers: Sequence[PCNumbers]) -> dict[str, Check]:
    """Fig. 3's parts over the networks with a block (each a one-sample t interval over them:
    fewer than two such networks cannot tell)."""
    found, _ = _split(numbers)
    left = _finite([n.remaining for n in found])
    return {
        f"PC1 explains a majority (>= {MAJORITY}) of the variance inside the block "
        f"({len(found)} networks with a block)": mean_above([n.inside for n in found], MAJORITY),
        "the PC1s inside the block are aligned (cos² contrast above 0)": mean_above(
            [n.aligned for n in found]
        ),
        f"removing PC1 leaves at most {HALVED:.0%} of the block's contrast on its span "
        f"({len(left)} networks with a contrast to halve)": mean_above([HALVED - r for r in left]),
    }


def _finite(values: Sequence[float]) -> list[float]:
    """The finite values: a block without contrast has no share of it left to measure."""
    return [v for v in values if np.isfinite(v)]


def fig_d5_checks(numbers: Sequence[PCNumbers]) -> dict[str, Check]:
    """Fig. D.5's part, "significantly higher in model seeds where the block structure is
    present": within each architecture that has seeds of both kinds, PC1's mean share of the
    last two stages' combined activations in its seeds with a block minus in those without; a
    t interval over those architectures (the units: pooling architectures would compare sizes
    as much as blocks). Fewer than two such architectures cannot tell."""
    by_architecture: dict[str, list[PCNumbers]] = {}
    for n in numbers:
        by_architecture.setdefault(n.architecture, []).append(n)
    differences = []
    for seeds in by_architecture.values():
        found, others = _split(seeds)
        if found and others:
            differences.append(np.mean([n.late for n in found]) - np.mean([n.late for n in others]))
    return {
        "PC1 share of the last two stages higher in seeds with a block than in seeds of the "
        f"same architecture without one ({len(differences)} architectures with both)": mean_above(
            differences
        )
    }


def fig_d6_checks(numbers: Sequence[PCNumbers]) -> dict[str, Check]:
    """Fig. D.6's parts: removing PC1 at least halves the block's contrast on its own span in
    networks with a block; it changes the heatmap more there than in networks without a block;
    and by less than :data:`NEGLIGIBLE` in those (intervals over networks)."""
    found, others = _split(numbers)
    left = _finite([n.remaining for n in found])
    return {  # the first part is Fig. 3's third, as the paper says ("as also shown in Figure 3")
        f"with a block ({len(left)}): at most {HALVED:.0%} of the contrast left on its span": (
            mean_above([HALVED - r for r in left])
        ),
        f"the heatmap changes more with a block than without ({len(others)})": mean_difference(
            [n.change for n in found], [n.change for n in others]
        ),
        f"without a block, a mean change below {NEGLIGIBLE} (negligible)": mean_above(
            [NEGLIGIBLE - n.change for n in others]
        ),
    }
