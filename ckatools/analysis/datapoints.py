"""After the paper: where the block structure comes from, and what linear CKA does not see.

*Dominant datapoints* (Nguyen, Raghu & Kornblith, TMLR 2022): inside the block structure a few
examples have activations of very large norm, and they carry the shared first principal
component; without them the block fades. :func:`activation_norms` measures each example's norm
at every layer, :func:`dominant` names the largest ones.

*A blind spot of linear CKA* (Davari et al., ICLR 2023): moving a subset of the examples far
along one direction changes linear CKA a lot, because CKA weighs directions by their variance,
while what a linear read-out can do with the representation hardly changes.
:func:`translated` makes such a representation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn as nn

from ckatools.analysis.verdicts import Check
from ckatools.capture import activations

__all__ = ["activation_norms", "dominant", "shared_source", "translated"]


def activation_norms(
    model: nn.Module, images: torch.Tensor, names: Sequence[str], *, group: int = 16
) -> np.ndarray:
    """(layers, examples) Euclidean norm of each example's centred activations at each layer,
    ``group`` layers per forward pass."""
    norms = []
    for start in range(0, len(names), group):
        for x in activations(model, images, names[start : start + group]):
            norms.append((x - x.mean(0)).norm(dim=1).numpy())
    return np.stack(norms)


def dominant(norms: np.ndarray, fraction: float = 0.01) -> np.ndarray:
    """Indices of the ``fraction`` of examples with the largest norms (at least one)."""
    count = max(1, round(fraction * len(norms)))
    return np.argsort(-np.asarray(norms))[:count]


def shared_source(top: np.ndarray, sources: np.ndarray) -> tuple[int, float, float, Check]:
    """Do the examples ``top`` share an image source (say, one photograph) more often than the
    examples ``sources`` describes? Returns the source most common among them, its share among
    them and among all, and the part "more often": the difference of the shares with the 95 %
    half-width of a share among ``len(top)`` examples, Bonferroni-corrected for picking the
    most common of the sources."""
    from scipy import stats

    sources = np.asarray(sources)
    kinds = int(sources.max()) + 1
    counts = np.bincount(sources[top], minlength=kinds)
    best = int(counts.argmax())
    share, base = counts[best] / len(top), float(np.mean(sources == best))
    z = float(stats.norm.ppf(1 - 0.025 / kinds))
    return best, float(share), base, Check(share - base, z * np.sqrt(base * (1 - base) / len(top)))


def translated(x, mask, distance: float, *, seed: int = 0) -> np.ndarray:
    """``x`` (n, p) with the examples of ``mask`` moved by ``distance`` times the
    representation's root-mean-square norm, along one random unit direction."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    direction = np.random.default_rng(seed).normal(size=x.shape[1])
    direction /= np.linalg.norm(direction)
    scale = np.sqrt(np.mean(np.sum((x - x.mean(0)) ** 2, 1)))
    moved = x.copy()
    moved[np.asarray(mask, dtype=bool)] += distance * scale * direction
    return moved
