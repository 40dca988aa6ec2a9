"""Fig. D.8: how sparse the ReLU activations are, layer by layer.

A *unit* is one position of one channel of a ReLU's output. For each ReLU representation:
the fraction of (unit, example) activations that are zero, the fraction of units that are
never zero on the examples (always active: locally linear there) and the fraction that are
always zero (dead). A layer that merely passed its input through would have every unit always
active; the paper finds a large share of always-active units both inside and outside the block.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn as nn

from ckatools.analysis.verdicts import Check, equivalent, mean_above
from ckatools.capture import _evaluating, representations_of
from ckatools.stats import split_means

__all__ = ["relu_sparsity", "block_sparsity", "fig_d8_checks", "SAME_SHARE", "NOT_LINEAR"]

SAME_SHARE = 0.1  # "about as large inside as outside": always-active shares within 10 points
NOT_LINEAR = 0.05  # a ReLU that zeros more than 5 % of its activations is not the identity


@torch.no_grad()
def relu_sparsity(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> list[dict]:
    """Per ReLU representation: name, index, zero fraction, always-active and dead fractions."""
    relus = [r for r in representations_of(model) if r.kind == "relu"]
    zeros = {r.name: 0 for r in relus}
    active = {r.name: None for r in relus}  # units non-zero on every example so far
    dead = {r.name: None for r in relus}  # units zero on every example so far

    def hook(name):
        def record(module, inputs, out):
            nonzero = out.flatten(1) != 0
            zeros[name] += (~nonzero).sum().item()
            every, none = nonzero.all(0), (~nonzero).all(0)
            active[name] = every if active[name] is None else active[name] & every
            dead[name] = none if dead[name] is None else dead[name] & none

        return record

    device = next(model.parameters()).device
    handles = [model.get_submodule(r.name).register_forward_hook(hook(r.name)) for r in relus]
    try:
        with _evaluating(model):
            for start in range(0, len(images), batch_size):
                model(images[start : start + batch_size].to(device))
    finally:
        for h in handles:
            h.remove()
    rows = []
    for r in relus:
        units = active[r.name].numel()
        rows.append(
            dict(
                name=r.name,
                index=r.index,
                zero=zeros[r.name] / (units * len(images)),
                always_active=active[r.name].float().mean().item(),
                dead=dead[r.name].float().mean().item(),
            )
        )
    return rows


def block_sparsity(rows: Sequence[dict], start: int, end: int) -> tuple[float, float]:
    """One network's Fig. D.8 numbers, from its :func:`relu_sparsity` rows and its block's span
    (representation indices ``start..end``): the mean always-active share of its ReLUs inside
    the block minus outside it, and the mean zero share inside (NaN where a side has no ReLU)."""
    inside = [start <= r["index"] <= end for r in rows]
    if all(inside) or not any(inside):
        return float("nan"), float("nan")
    active_in, active_out = split_means([r["always_active"] for r in rows], inside)
    zeros_in, _ = split_means([r["zero"] for r in rows], inside)
    return active_in - active_out, zeros_in


def fig_d8_checks(networks: Sequence[tuple[float, float]]) -> dict[str, Check]:
    """Fig. D.8's parts with networks as units, from :func:`block_sparsity` of each network
    with a block: the always-active shares inside and outside are equal within
    :data:`SAME_SHARE` (two one-sided t tests over the networks' gaps at 5 %: the 90 % interval
    inside the margin), and more than :data:`NOT_LINEAR` of the activations inside the block are
    zeros (a t interval over the networks). One network (or none) cannot tell."""
    gaps = np.array([g for g, _ in networks], dtype=float)
    gaps = gaps[np.isfinite(gaps)]
    zeros = np.array([z for _, z in networks], dtype=float)
    mean_gap = float(gaps.mean()) if len(gaps) else float("nan")
    return {
        f"always-active shares within {SAME_SHARE:.1f} inside and outside ({len(gaps)} networks, "
        f"mean gap {mean_gap:+.3f}; the value: {SAME_SHARE:.1f} less the gap's size)": equivalent(
            gaps, None, SAME_SHARE
        ),
        f"more than {NOT_LINEAR:.0%} zeros inside the block (not linear)": mean_above(
            zeros[np.isfinite(zeros)], NOT_LINEAR
        ),
    }
