"""K networks of one architecture as one: the seeds of a configuration trained together.

Every convolution becomes a grouped convolution with K times the channels (``groups=K``), every
BatchNorm K times as wide, the dense layer a :class:`GroupedLinear`. Member k owns channel block
k of every layer: its own weights, its own BatchNorm statistics (BatchNorm is per channel), its
own input channels (its own batch, in its own order, with its own augmentation) and its own
logits; the loss is the sum of the members' losses, so each member's gradient is the one it
would get alone, and SGD with momentum and weight decay acts on each parameter separately. One
kernel call then does K networks' work for one call's overhead, which is what narrow networks
spend their time on. (``torch.func.vmap`` over stacked parameters lowers a batched convolution
to the same grouped convolution and measured 3-9 % slower a step: ``bench_stack_step.py``.)
"""

from __future__ import annotations

import copy
import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F

from ckatools.models import ResNet

__all__ = ["GroupedLinear", "stack_models", "unstack_into", "member_losses", "nonfinite_members"]


class GroupedLinear(nn.Linear):
    """K dense layers side by side: (B, K * in) -> (B, K * out), member k's weight the k-th
    block of ``weight`` rows (K * out, in), as K ordinary layers' weights concatenated."""

    def __init__(self, members: int, in_features: int, out_features: int, **factory) -> None:
        super().__init__(in_features, members * out_features, **factory)
        self.members = members

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.members
        weight = self.weight.view(k, -1, self.in_features)  # (K, out, in)
        y = torch.einsum("bki,koi->bko", x.view(len(x), k, self.in_features), weight)
        return y.reshape(len(x), -1) + self.bias


def _stacked(module: nn.Module, members: list[nn.Module]) -> nn.Module:
    """The stacked version of one layer, holding copies of the members' parameters."""
    k = len(members)
    factory = dict(device=module.weight.device, dtype=module.weight.dtype)
    if isinstance(module, nn.Conv2d):
        stacked = nn.Conv2d(
            k * module.in_channels,
            k * module.out_channels,
            module.kernel_size,
            module.stride,
            module.padding,
            groups=k * module.groups,
            bias=module.bias is not None,
            **factory,
        )
    elif isinstance(module, nn.BatchNorm2d):
        stacked = nn.BatchNorm2d(k * module.num_features, module.eps, module.momentum, **factory)
    else:  # nn.Linear
        stacked = GroupedLinear(k, module.in_features, module.out_features, **factory)
    with torch.no_grad():
        for name, tensor in stacked.state_dict().items():
            parts = [m.state_dict()[name] for m in members]
            if tensor.ndim == 0:  # num_batches_tracked: the same count for every member
                tensor.copy_(parts[0])
            else:
                tensor.copy_(torch.cat(parts))
    return stacked


def stack_models(models: list[ResNet]) -> ResNet:
    """One network computing ``models`` (same architecture) at once: input (B, K * C, H, W),
    member k's images in channels k*C..(k+1)*C-1; output (B, K * classes), member k's logits in
    block k. Built from copies: the members are left as they are."""
    stacked = copy.deepcopy(models[0])
    modules = [dict(m.named_modules()) for m in models]
    for name, module in models[0].named_modules():
        if isinstance(module, (nn.Conv2d, nn.BatchNorm2d, nn.Linear)):
            stacked.set_submodule(name, _stacked(module, [m[name] for m in modules]))
    return stacked


@torch.no_grad()
def unstack_into(stacked: ResNet, models: list[ResNet]) -> None:
    """Copy member k's block of every layer of ``stacked`` into ``models[k]``."""
    k = len(models)
    layers = dict(stacked.named_modules())
    for name, module in models[0].named_modules():
        if not isinstance(module, (nn.Conv2d, nn.BatchNorm2d, nn.Linear)):
            continue
        state = layers[name].state_dict()
        for index, model in enumerate(models):
            target = model.get_submodule(name)
            for key, tensor in target.state_dict().items():
                whole = state[key]
                part = whole if whole.ndim == 0 else whole.chunk(k)[index]
                tensor.copy_(part)


@torch.no_grad()
def nonfinite_members(stacked: nn.Module, members: int) -> list[int]:
    """The indices of the members of ``stacked`` (a stack of ``members`` networks, or one
    network when ``members`` is 1) with a non-finite value in their own weights or BatchNorm
    statistics. Member k's part of every floating-point tensor is the k-th block of its first
    dimension, as :func:`unstack_into` reads it (one reduction per tensor)."""
    tensors = [
        t for t in itertools.chain(stacked.parameters(), stacked.buffers()) if t.is_floating_point()
    ]
    uneven = [tuple(t.shape) for t in tensors if t.dim() == 0 or t.shape[0] % members]
    if uneven:  # a tensor that is not stacked member by member: its parts would be misread
        raise ValueError(f"tensors of shapes {uneven} do not split into {members} members")
    finite = [t.reshape(members, -1).isfinite().all(1) for t in tensors]
    return torch.stack(finite).all(0).logical_not().nonzero().flatten().tolist()


def member_losses(logits: torch.Tensor, labels: list[torch.Tensor]) -> torch.Tensor:
    """(K,) cross-entropy of each member: ``logits`` (B, K * classes), ``labels`` K of (B,)."""
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # bf16 -> float32
    per_member = logits.view(len(logits), len(labels), -1).unbind(1)
    return torch.stack([F.cross_entropy(out, y) for out, y in zip(per_member, labels)])
