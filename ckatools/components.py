"""Principal components of every representation, from Gram matrices (no p x p matrices).

For n examples of a representation X (n x p), the centred Gram matrix HXX^T H has the same
non-zero eigenvalues as the covariance matrix (times n - 1). So the fraction of variance the
first principal component explains is lambda_1 / sum(lambda) of that n x n matrix, whatever p is.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .capture import _evaluating, capture_grams, representations_of

__all__ = ["pc1_fractions", "centred"]


def centred(grams: torch.Tensor) -> torch.Tensor:
    """H K H for a stack of Gram matrices (..., n, n): rows and columns of each sum to zero."""
    grams = grams - grams.mean(-1, keepdim=True)
    return grams - grams.mean(-2, keepdim=True)


@torch.no_grad()
def pc1_fractions(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    """Fraction of variance explained by the first principal component of every representation.

    One forward pass of ``images`` (all at once, in eval mode); returns one value per
    representation in the model's order, NaN for a representation with zero variance.
    """
    layers = representations_of(model)
    device = next(model.parameters()).device
    with _evaluating(model), capture_grams(model, layers) as grams:
        model(images.to(device))
    eigenvalues = torch.linalg.eigvalsh(centred(grams[len(images)]))  # ascending, (L, n)
    total = eigenvalues.clamp(min=0).sum(-1)
    fractions = eigenvalues[:, -1] / total
    return torch.where(total > 0, fractions, torch.nan).cpu().numpy()
