"""What a network costs to train, before it is trained: multiply-adds and a rough time.

The time model is fitted to training on this project's build machine (2 CPU cores, no GPU, one
epoch of ResNet-8 x0.25, -38 x0.25, -20 x1 and -14 x2 each): seconds per training image and epoch
= a + c x depth + b x multiply-adds of one forward pass, where ``a`` and ``c`` are the per-image
and per-layer overheads that dominate narrow networks; the evaluation after training (two passes
over the training images, one over the test set, forward only) costs a third of that per image.
It is an estimate for planning (a dry run, a warning), good to a factor of about 1.5 on a machine
like that one; GPU times were not measured here and are not guessed. It describes float32
training: checked again on a 2-core AMD EPYC with AVX2 only, measured training steps of
ResNet-8 x0.5 to ResNet-20 x4 took 0.7-1.1x the modelled time. A CPU with native bfloat16 trains
the book's profiles faster (``bf16_cpu``: 128 epochs of ResNet-20 x4 on 1/32 of Fashion-MNIST-M
took 19 min with AMX; in float32 on the AVX2 machine, about 100 min).
"""

from __future__ import annotations

import functools

import torch
import torch.nn as nn

from ckatools.data import IMAGE_SHAPES, TEST_SIZES, TRAIN_SIZES
from ckatools.training.config import TrainConfig, fraction_label
from ckatools.training.loop import build_model

__all__ = [
    "forward_macs",
    "cpu_seconds",
    "describe_seconds",
    "plan_line",
    "overhead_share",
    "stack_size",
]

# Fitted on the build machine (2 cores, torch 2.14): seconds per training image and epoch.
CPU_SECONDS_PER_IMAGE = 2.2e-4  # a: the fixed overhead of one image
CPU_SECONDS_PER_LAYER = 3.5e-5  # c: per unit of depth (small layers cost their launch, not math)
CPU_SECONDS_PER_MAC = 5.3e-11  # b: forward + backward, per multiply-add of the forward pass


@functools.lru_cache(maxsize=256)
def forward_macs(depth: int, width: float, residual: bool, dataset: str) -> int:
    """Multiply-adds of one forward pass on one image of ``dataset`` (convolutions and dense)."""
    channels, height, width_px = IMAGE_SHAPES[dataset]
    config = TrainConfig(dataset=dataset, depth=depth, width=width, residual=residual)
    model = build_model(config, 100 if dataset == "cifar100" else 10, channels).eval()
    total = 0

    def count(module: nn.Module, inputs, output) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_output = (
                module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            )
            total += output.numel() * per_output
        else:
            total += module.in_features * module.out_features

    hooks = [
        m.register_forward_hook(count)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    with torch.no_grad():
        model(torch.zeros(1, channels, height, width_px))
    for h in hooks:
        h.remove()
    return total


def cpu_seconds(config: TrainConfig) -> float:
    """Estimated seconds to train ``config`` on 2 CPU cores (see the module's note)."""
    images = TRAIN_SIZES[config.dataset] * config.fraction
    macs = forward_macs(config.depth, config.width, config.residual, config.dataset)
    per_image = (
        CPU_SECONDS_PER_IMAGE + CPU_SECONDS_PER_LAYER * config.depth + CPU_SECONDS_PER_MAC * macs
    )
    evaluated = 2 * images + TEST_SIZES[config.dataset]
    return per_image * (config.epochs * images + evaluated / 3)


# Stacking seeds (ckatools.training.stack) pays where a network's time goes to per-image and
# per-layer overhead rather than arithmetic. Measured on the build machine (2 threads, bf16,
# channels-last, batch 128; a training step per network, stacked against alone): ResNet-38 x0.25
# (overhead 88 % of its modelled time) 2.5x with 8 seeds, ResNet-8 x0.5 (79 %) 2.3x with 8,
# ResNet-20 x0.5 (69 %) 1.7x with 4, ResNet-14 x1 (40 %) 0.9-1.05x. torch.compile gained 1.6x
# for ResNet-8 x0.5 alone but nothing on a stack, and lost 17 % on ResNet-20 x1: not used. In
# float32 on a 2-core AMD EPYC (1 thread, torch 2.14.1, 7 December 2026) it gained 1.5x a step
# for ResNet-8 x0.5 after 49 s of compiling, and crashed the process (a segmentation fault, twice)
# on ResNet-38 x0.25: still not used.
# In float32 on a CPU without native bfloat16 (2-core AMD EPYC, AVX2; torch 2.14) grouped
# convolutions lose instead: per network-step, stacks of 4 and 8 ran 0.56-1.01x as fast as one
# network alone (ResNet-8 x0.5, -38 x0.25, -20 x0.5, -14 x1, -20 x1; two runs, README), so
# stacks are for bf16.
STACK_RULE = ((0.75, 8), (0.6, 4))  # (overhead share at least, seeds per stack), first match


def overhead_share(config: TrainConfig) -> float:
    """The share of a training image's modelled CPU time that is overhead (a + c x depth), not
    multiply-adds: near 1 for narrow networks, small for wide ones."""
    macs = forward_macs(config.depth, config.width, config.residual, config.dataset)
    overhead = CPU_SECONDS_PER_IMAGE + CPU_SECONDS_PER_LAYER * config.depth
    return overhead / (overhead + CPU_SECONDS_PER_MAC * macs)


def stack_size(config: TrainConfig, device: torch.device | str | None = None) -> int:
    """How many seeds of ``config`` to train as one stack on ``device`` (:data:`STACK_RULE`; 1
    where stacking does not pay: in float32 on the CPU, and on a GPU, where it was not
    measured)."""
    from ckatools.training.loop import cpu_has_bf16, default_device

    device = torch.device(device) if device is not None else default_device()
    if device.type != "cpu" or not (config.bf16_cpu and cpu_has_bf16()):
        return 1
    share = overhead_share(config)
    return next((size for least, size in STACK_RULE if share >= least), 1)


def describe_seconds(seconds: float) -> str:
    """'45 s', '12 min', '2.4 h': a duration as a person says it."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def plan_line(config: TrainConfig) -> str:
    """One line of a dry run: the network, its data and its estimated CPU time."""
    return (
        f"{config.label}, {config.dataset} {fraction_label(config.fraction)}, seed {config.seed}, "
        f"{config.epochs} epochs: about {describe_seconds(cpu_seconds(config))} on 2 CPU cores"
    )
