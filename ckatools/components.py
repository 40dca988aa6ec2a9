"""Principal components of every representation, from Gram matrices (no p x p matrices).

For n examples of a representation X (n x p), the centred Gram matrix K = HXX^T H has the same
non-zero eigenvalues as the scatter matrix of X, and its eigenvectors are the principal
components in example space (the projections of the examples on each principal direction,
normalized). So everything the paper's Sec. 5.1 needs comes from the n x n matrices, whatever p
is: the fraction of variance of the first component (lambda_1 / sum of eigenvalues), the first
component u_1 itself, the squared cosine between the u_1 of two layers, and the Gram matrix with
the first component removed, K - lambda_1 u_1 u_1^T (the Gram matrix of X with its projection on
the first principal direction subtracted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from ckatools.capture import _evaluating, capture_grams, representations_of
from ckatools.cka import MinibatchCKA
from ckatools.stats import split_means

__all__ = [
    "Components",
    "centred",
    "components",
    "top_eigenpair",
    "pc1_fractions",
    "gram_stack",
    "inside_outside",
]


def centred(grams: torch.Tensor) -> torch.Tensor:
    """H K H for a stack of Gram matrices (..., n, n): rows and columns of each sum to zero."""
    grams = grams - grams.mean(-1, keepdim=True)
    return grams - grams.mean(-2, keepdim=True)


@dataclass
class Components:
    """The first principal component of each of L representations of the same n examples."""

    fraction: np.ndarray  # (L,) variance fraction of PC1; NaN where a layer has no variance
    # (L, n) unit PC1 vectors in example space (sign fixed: largest entry > 0)
    vectors: torch.Tensor
    eigenvalues: torch.Tensor  # (L,) lambda_1
    grams: torch.Tensor  # (L, n, n) centred Gram matrices

    def cosines(self) -> np.ndarray:
        """(L, L) squared cosine between the PC1 vectors of every pair of layers (Fig. 3a)."""
        return ((self.vectors @ self.vectors.T) ** 2).cpu().numpy()

    def cka(self, *, without_pc1: bool = False) -> np.ndarray:
        """(L, L) unbiased linear CKA between the layers, optionally with PC1 removed from each."""
        grams = self.grams
        if without_pc1:
            grams = grams - self.eigenvalues[:, None, None] * torch.einsum(
                "li,lj->lij", self.vectors, self.vectors
            )
        acc = MinibatchCKA()
        acc.update_grams(grams)
        return acc.compute().numpy()


def gram_stack(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """(L, n, n) float64 Gram matrices of every representation, one forward pass of ``images``."""
    layers = representations_of(model)
    device = next(model.parameters()).device
    with torch.no_grad(), _evaluating(model), capture_grams(model, layers) as grams:
        model(images.to(device))
    return grams[len(images)]


def components(grams: torch.Tensor) -> Components:
    """First principal components from a stack of (uncentred or centred) Gram matrices."""
    k = centred(grams)
    value, u = top_eigenpair(k)
    u = u * torch.where(u.gather(1, u.abs().argmax(1, keepdim=True)) < 0, -1.0, 1.0)
    return Components(_pc1_fraction(value, k), u, value, k)


def top_eigenpair(
    k: torch.Tensor, *, rank: int = 8, iterations: int = 30
) -> tuple[torch.Tensor, torch.Tensor]:
    """The largest eigenvalue (L,) and its unit eigenvector (L, n) of each symmetric positive
    semi-definite matrix of a stack (L, n, n).

    Subspace iteration on ``rank`` vectors, then the exact eigen-decomposition of the
    (rank x rank) projected matrix (Rayleigh-Ritz): the top pair converges like
    (lambda_{rank+1} / lambda_1)^iterations, so far fewer operations than a full decomposition.
    """
    generator = torch.Generator(device=k.device).manual_seed(0)
    shape = (k.shape[0], k.shape[1], min(rank, k.shape[1]))
    q = torch.randn(shape, generator=generator, dtype=k.dtype, device=k.device)
    for _ in range(iterations):
        q, _ = torch.linalg.qr(k @ q)
    values, vectors = torch.linalg.eigh(q.transpose(1, 2) @ k @ q)
    return values[:, -1], (q @ vectors[:, :, -1:]).squeeze(-1)


def _pc1_fraction(top: torch.Tensor, k: torch.Tensor) -> np.ndarray:
    """lambda_1 / sum of eigenvalues (the trace) per layer of a centred stack; NaN if 0."""
    total = k.diagonal(dim1=-2, dim2=-1).sum(-1)
    return torch.where(total > 0, top / total, torch.nan).cpu().numpy()


def pc1_fractions(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    """Fraction of variance explained by the first principal component of every representation.

    One forward pass of ``images`` (all at once, in eval mode); returns one value per
    representation in the model's order, NaN for a representation with zero variance.
    """
    k = centred(gram_stack(model, images))
    return _pc1_fraction(top_eigenpair(k)[0], k)


def inside_outside(values, start: int, end: int) -> tuple[float, float]:
    """Mean of per-layer ``values`` inside layers start..end (inclusive) and outside (NaN-safe)."""
    index = np.arange(len(values))
    return split_means(values, (start <= index) & (index <= end))
