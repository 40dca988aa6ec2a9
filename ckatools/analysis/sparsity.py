"""Fig. D.8: how sparse the ReLU activations are, layer by layer.

A *unit* is one position of one channel of a ReLU's output. For each ReLU representation:
the fraction of (unit, example) activations that are zero, the fraction of units that are
never zero on the examples (always active: locally linear there) and the fraction that are
always zero (dead). A layer that merely passed its input through would have every unit always
active; the paper finds a large share of always-active units both inside and outside the block.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ckatools.capture import _evaluating, representations_of

__all__ = ["relu_sparsity"]


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
