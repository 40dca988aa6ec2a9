"""How the minibatch estimator of Eq. 2 approaches the full-data value (Appendix A of the paper)."""

from __future__ import annotations

import numpy as np
import torch

from ckatools.capture import minibatches
from ckatools.cka import MinibatchCKA

__all__ = ["minibatch_trajectory"]


def minibatch_trajectory(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    passes: int,
    *,
    unbiased: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """Minibatch CKA between x and y (n, ...) after each of ``passes`` shuffled passes over the n
    examples.

    Appendix A: with the unbiased HSIC, the average over random partitions converges to the
    full-data HSIC_1, so the estimate approaches ``linear_cka(x, y, unbiased=True)`` for any batch
    size. The biased HSIC_0 does not: its minibatch estimate converges to a batch-size-dependent
    value.
    """
    acc = MinibatchCKA(unbiased=unbiased)
    estimates = []
    for p in range(passes):
        for index in minibatches(len(x), batch_size, 1, seed=seed * 100_003 + p):
            acc.update([x[index]], [y[index]])
        estimates.append(acc.compute().item())
    return np.array(estimates)
