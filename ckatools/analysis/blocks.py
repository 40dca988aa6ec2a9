"""Numbers for the block structure, so that readers need not squint at colours.

The paper describes the block structure as "a large, contiguous set of layers" with highly
similar representations: a bright square in the heatmap that stands out from the rest of it.
Two measures of it live here; both return a :class:`Block` (the longest qualifying run of
consecutive representations i..j) and score a network by the fraction of its representations
inside that run.

``relative_block`` (the book's measure). Brightness is judged against the matrix itself: the
*background* is the lower quartile of the off-diagonal CKA values, and a pair is *bright* when
its CKA lies above the midpoint between the background and 1. The block is the longest run in
which at least 80 % of the pairs are bright, trimmed at either end of any representation that is
bright with fewer than half of the run (the 80 % would otherwise let a long block absorb a few
dark neighbours). Because the threshold moves with the background, a
matrix that is uniformly high (CKA 0.85 everywhere, as in small networks on easy data) has no
block, while a bright square on a high background still is one. Because 80 % of pairs (not all)
must be bright, the checkerboard that residual connections draw *inside* a block does not break
it; and because far pairs count as much as near ones, neither the gradual fading along the
diagonal nor the checkerboard *alone* (block outputs alike, their insides not) makes a block.
A network *has* a block when the run spans at least ``MIN_BLOCK_FRACTION`` of its
representations. The lower quartile assumes the block covers less than three quarters of the
matrix's area (a run of under 87 % of the layers); larger blocks read as background.

``strict_block`` (the score of earlier chapters): the longest run in which *every* pair has CKA
of at least an absolute threshold (0.9). It cannot tell a block from uniformly high CKA, and a
single dip below 0.9 inside a block breaks it.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ckatools.page import COLUMN_CHARS
from ckatools.stats import rho_chance, spearman

__all__ = [
    "Block",
    "measure",
    "diagonal_profile",
    "EXCESS",
    "relative_block",
    "contrast",
    "strict_block",
    "spearman",
    "trend",
    "STRICT_THRESHOLD",
    "BACKGROUND_QUANTILE",
    "BRIGHT_DENSITY",
    "MIN_BLOCK_FRACTION",
]

STRICT_THRESHOLD = 0.9  # strict_block: CKA every pair of the run must reach
BACKGROUND_QUANTILE = 0.25  # relative_block: the background is this quantile of off-diagonal CKA
BRIGHT_DENSITY = 0.8  # relative_block: fraction of the run's pairs that must be bright
MIN_BLOCK_FRACTION = 0.2  # a network has a block when the run spans this much of it
EXCESS = 0.05  # measure: CKA a pair must exceed its distance's mean by to stand out


@dataclass(frozen=True)
class Block:
    """The longest run of mutually similar consecutive representations start..end (inclusive)."""

    start: int
    end: int
    score: float  # (end - start + 1) / number of representations
    contrast: float  # mean CKA inside the run minus mean CKA between the run and the rest
    background: float = float("nan")  # relative_block: the matrix's background CKA
    first: str | None = None  # names of the first and last representation, when known
    last: str | None = None
    found: bool | None = None  # measure(): its own decision; None: decided by the score

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    @property
    def present(self) -> bool:
        """Whether the network has a block structure: :func:`measure`'s decision, or for the
        older measures a run spanning at least ``MIN_BLOCK_FRACTION`` of the representations."""
        return self.score >= MIN_BLOCK_FRACTION if self.found is None else self.found

    @property
    def extent(self) -> float:
        """The fraction of representations in the block, 0 without one: what a trend compares."""
        return self.score if self.present else 0.0

    def describe(self) -> str:
        span = f"{self.first} .. {self.last}" if self.first else f"{self.start} .. {self.end}"
        sizes = (
            f"{self.size} representations, score {self.score:.2f}, contrast {self.contrast:+.2f}"
        )
        return f"{span} ({sizes})"


def _square(result) -> np.ndarray:
    matrix = np.asarray(getattr(result, "matrix", result), dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or len(matrix) == 0:
        raise ValueError(
            f"a block needs a non-empty square within-model CKA matrix, got shape {matrix.shape}"
        )
    return np.minimum(
        matrix, matrix.T
    )  # NaN (a zero-variance layer) propagates and never counts as similar


def contrast(matrix, start: int, end: int) -> float:
    """Mean CKA inside layers start..end (inclusive) minus mean CKA between them and the rest."""
    matrix = np.nan_to_num(np.asarray(getattr(matrix, "matrix", matrix), dtype=float), nan=0.0)
    inside = np.zeros(len(matrix), dtype=bool)
    inside[start : end + 1] = True
    between = matrix[inside][:, ~inside]
    return float(matrix[inside][:, inside].mean() - (between.mean() if between.size else 0.0))


def _block(
    matrix: np.ndarray,
    i: int,
    j: int,
    layers,
    background: float = float("nan"),
    present: bool | None = None,
) -> Block:
    names = (layers[i].name, layers[j].name) if layers is not None else (None, None)
    score = (j - i + 1) / len(matrix)
    found = Block(int(i), int(j), score, contrast(matrix, i, j), float(background), *names)
    return found if present is None else dataclasses.replace(found, found=present)


def _layers(result, layers):
    return layers if layers is not None else getattr(result, "layers_a", None)


def relative_block(result, layers: Sequence | None = None) -> Block:
    """The longest run of representations in which 80 % of pairs are bright relative to the
    background.

    ``result``: a square CKA matrix or a :class:`~ckatools.capture.CKAResult`. O(L^2) for L
    representations, from a 2-D prefix sum of the bright pairs.
    """
    matrix = _square(result)
    n = len(matrix)
    off_diagonal = matrix[~np.eye(n, dtype=bool)]
    off_diagonal = off_diagonal[np.isfinite(off_diagonal)]
    background = float(np.quantile(off_diagonal, BACKGROUND_QUANTILE)) if off_diagonal.size else 0.0
    bright = matrix >= (background + 1.0) / 2  # NaN compares False
    counts = np.zeros((n + 1, n + 1))
    counts[1:, 1:] = bright.cumsum(0).cumsum(1)
    best = (0, 0)
    ends = np.arange(n)
    for i in range(n):
        j = ends[i:]
        inside = counts[j + 1, j + 1] - counts[i, j + 1] - counts[j + 1, i] + counts[i, i]
        ok = j[inside >= BRIGHT_DENSITY * (j - i + 1) ** 2]
        if len(ok) and ok[-1] - i > best[1] - best[0]:
            best = (i, int(ok[-1]))
    i, j = best
    while i < j:  # trim ends that are bright with fewer than half of the run
        if bright[i, i : j + 1].mean() < 0.5:
            i += 1
        elif bright[j, i : j + 1].mean() < 0.5:
            j -= 1
        else:
            break
    return _block(matrix, i, j, _layers(result, layers), background)


def diagonal_profile(matrix) -> np.ndarray:
    """Mean CKA at each distance d = |i - j| (d = 0 .. L-1), NaN-safe: what the matrix's own
    fading along the diagonal predicts for a pair of representations that far apart."""
    matrix = _square(matrix)
    n = len(matrix)
    return np.array(
        [
            np.nanmean(np.diagonal(matrix, d)) if np.isfinite(np.diagonal(matrix, d)).any() else 0.0
            for d in range(n)
        ]
    )


def _standing_out(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """Pairs that are bright and brighter than their distance predicts (see :func:`measure`),
    and the background (lower quartile of the off-diagonal CKA)."""
    n = len(matrix)
    off_diagonal = matrix[~np.eye(n, dtype=bool)]
    off_diagonal = off_diagonal[np.isfinite(off_diagonal)]
    background = float(np.quantile(off_diagonal, BACKGROUND_QUANTILE)) if off_diagonal.size else 0.0
    idx = np.arange(n)
    expected = diagonal_profile(matrix)[np.abs(idx[:, None] - idx[None, :])]
    with np.errstate(invalid="ignore"):
        out = (matrix >= (background + 1) / 2) & (matrix >= expected + EXCESS)
    return out, background


def measure(result, layers: Sequence | None = None) -> Block:
    """The block structure as a reader sees it: a bright square standing on a darker background.

    ``result``: a square within-model CKA matrix or a :class:`~ckatools.capture.CKAResult`.

    A pair of representations *stands out* when its CKA is bright (at least the midpoint between
    the matrix's background, its lower quartile, and 1) and exceeds by ``EXCESS`` what the
    matrix's own diagonal profile predicts for pairs that far apart (the mean CKA at that
    distance |i - j|). The block is the largest square of consecutive representations in which at
    least ``BRIGHT_DENSITY`` of the *far* pairs (at distance at least a quarter of its side) stand
    out, with ends trimmed that stand out with fewer than half of its far pairs. So uniformly
    high CKA is no block (nothing is bright against a high background), nor is the fading along
    the diagonal (near pairs are as bright as their distance predicts, far pairs are dark), nor
    the residual checkerboard alone (its bright pairs are too sparse), nor a stage that is merely
    brighter than the others (not bright against the background); a bright square on a darker
    background is one, with its span. The network *has* a block (``present``) when the square
    spans at least ``MIN_BLOCK_FRACTION`` of its representations.
    """
    matrix = _square(result)
    n = len(matrix)
    out, background = _standing_out(matrix)
    idx = np.arange(n)
    distance = np.abs(idx[:, None] - idx[None, :])
    smallest = max(3, int(np.ceil(MIN_BLOCK_FRACTION * n / 2)))
    best = None
    for side in range(n, smallest - 1, -1):
        near = side // 4
        far = distance >= max(near, 1)
        counts = np.zeros((n + 1, n + 1))
        counts[1:, 1:] = (out & far).cumsum(0).cumsum(1)
        starts = np.arange(n - side + 1)
        ends = starts + side
        hits = (
            counts[ends, ends]
            - counts[starts, ends]
            - counts[ends, starts]
            + counts[starts, starts]
        )
        pairs = (side - max(near, 1)) * (side - max(near, 1) + 1)  # ordered far pairs in a square
        density = hits / pairs
        if density.max() >= BRIGHT_DENSITY:
            start = int(starts[np.argmax(density)])
            best = (start, start + side - 1, near)
            break
    if best is None:
        return _block(matrix, 0, 0, _layers(result, layers), background, present=False)
    i, j, near = best
    far = distance >= max(near, 1)
    while i < j:  # trim ends that stand out with fewer than half of their far pairs in the square
        row_i, row_j = (out & far)[i, i : j + 1], (out & far)[j, i : j + 1]
        if row_i.sum() < 0.5 * far[i, i : j + 1].sum():
            i += 1
        elif row_j.sum() < 0.5 * far[j, i : j + 1].sum():
            j -= 1
        else:
            break
    present = (j - i + 1) >= MIN_BLOCK_FRACTION * n
    return _block(matrix, i, j, _layers(result, layers), background, present=present)


def strict_block(
    result, layers: Sequence | None = None, *, threshold: float = STRICT_THRESHOLD
) -> Block:
    """The longest run of consecutive representations in which every pair has CKA >= threshold."""
    matrix = _square(result)
    similar = matrix >= threshold
    best, start = (0, 0), 0
    for j in range(len(matrix)):
        dissimilar = np.flatnonzero(~similar[j, start : j + 1])
        if len(
            dissimilar
        ):  # every pair inside start..j-1 is similar; row j decides where the run may begin
            start += dissimilar[-1] + 1
        if j - start > best[1] - best[0]:
            best = (start, j)
    return _block(matrix, *best, _layers(result, layers))


def trend(xs: Sequence[float], scores: Sequence[float], name: str) -> str:
    """Two lines on how ``scores`` move with ``xs``: the values (mean ± standard deviation over
    seeds), then Spearman's rho over the networks and what chance gives it (the 95 % band of
    |rho| with the scores shuffled, :func:`ckatools.stats.rho_chance`)."""
    xs, scores = np.asarray(xs, dtype=float), np.asarray(scores, dtype=float)
    levels = np.unique(xs)
    groups = [scores[xs == x] for x in levels]
    values = ", ".join(
        f"{x:g}: {g.mean():.2f}" + (f"±{g.std():.2f}" if len(g) > 1 else "")
        for x, g in zip(levels, groups)
    )
    band = rho_chance(xs, scores)  # NaN with one level, constant scores or too few networks
    chance = "" if np.isnan(band) else f" (chance ±{band:.2f})"
    rho = spearman(xs, scores)
    if np.isnan(rho):
        why = "one level" if len(levels) < 2 else "constant scores"
        rho_text = f"undefined ({why})"
    else:
        rho_text = f"{rho:+.2f}{chance}"
    head = textwrap.fill(
        f"block extent against {name} ({values}):", COLUMN_CHARS, subsequent_indent="  "
    )
    return f"{head}\n  Spearman {rho_text}"
