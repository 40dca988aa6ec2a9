"""A number for the block structure, so that readers need not squint at colours.

Definition. The *block structure* of a within-model CKA matrix is the longest run of consecutive
representations i..j in which every pair has CKA of at least ``threshold``. Its *score* is the
fraction of the network's representations inside that run.

Why this definition. The paper describes the block structure as "a large, contiguous set of
layers" with highly similar representations. Requiring *every* pair in the run to be similar
(not only neighbours) is what separates a block from two patterns that are not blocks: the
gradual decay along the diagonal of every network, where neighbours are similar but distant
layers are not, and the checkerboard that residual connections draw inside a stage, where the
block outputs resemble each other but the representations inside each block do not. The default
threshold of 0.9 sits well above the CKA between the inside and the output of a block in networks
without the block structure, and below the near-1 values inside a block.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

__all__ = ["BlockStructure", "block_structure", "trend", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.9


@dataclass(frozen=True)
class BlockStructure:
    """The longest run of mutually similar consecutive representations."""

    start: int  # index of its first representation
    end: int  # index of its last representation (inclusive)
    size: int  # number of representations in it
    fraction: float  # size / number of representations: the score
    first: Optional[str] = None  # names, when the representation list is given
    last: Optional[str] = None

    @property
    def score(self) -> float:
        return self.fraction


def block_structure(result, layers: Optional[Sequence] = None, *, threshold: float = DEFAULT_THRESHOLD) -> BlockStructure:
    """Find the block structure in a square CKA matrix (or a :class:`~ckatools.capture.CKAResult`).

    NaN entries (zero-variance layers) count as dissimilar. O(L^2) for L representations.
    """
    matrix = np.asarray(getattr(result, "matrix", result), dtype=float)
    layers = layers if layers is not None else getattr(result, "layers_a", None)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or len(matrix) == 0:
        raise ValueError(f"block_structure needs a non-empty square within-model CKA matrix, got shape {matrix.shape}")
    similar = np.minimum(matrix, matrix.T) >= threshold  # NaN compares False
    best, start = (0, 0), 0
    for j in range(len(matrix)):
        dissimilar = np.flatnonzero(~similar[j, start:j + 1])
        if len(dissimilar):  # every pair inside start..j-1 is similar; row j decides where the run may begin
            start += dissimilar[-1] + 1
        if j - start > best[1] - best[0]:
            best = (start, j)
    i, j = best
    names = (layers[i].name, layers[j].name) if layers is not None else (None, None)
    return BlockStructure(i, j, j - i + 1, (j - i + 1) / len(matrix), *names)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their average rank (as Spearman's correlation needs)."""
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
    for v in np.unique(values):
        ranks[values == v] = ranks[values == v].mean()
    return ranks


def trend(xs: Sequence[float], scores: Sequence[float], name: str) -> str:
    """One sentence on whether ``scores`` rise with ``xs``: monotone or not, and Spearman's rank correlation."""
    xs, scores = np.asarray(xs, dtype=float), np.asarray(scores, dtype=float)
    order = np.argsort(xs)
    ys = scores[order]
    rho = np.corrcoef(_ranks(xs), _ranks(scores))[0, 1] if len(xs) > 1 and np.ptp(scores) > 0 else float("nan")
    monotone = "rises at every step" if np.all(np.diff(ys) > 0) else "does not rise at every step"
    values = ", ".join(f"{x:g}: {y:.2f}" for x, y in zip(xs[order], ys))
    return f"Block score against {name} ({values}) {monotone}; Spearman rank correlation {rho:+.2f}."
