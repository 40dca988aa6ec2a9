"""The CIFAR ResNet family of the paper (ResNet v1, basic blocks, depth 6n+2, any width).

Built as in the official code (google-research ``do_wide_and_deep_networks_learn_the_same_things/
resnet_cifar.py``): a 3x3 conv-BN-ReLU stem with round(16k) channels, three stages of n basic
blocks with round(16k), 2*round(16k) and 4*round(16k) channels, stride 2 and a 1x1 projection
(a conv with bias, no BatchNorm) at the first block of stages 2 and 3, then global average
pooling, flatten and a dense layer. Convolutions have biases; He-normal initialization;
BatchNorm epsilon 1e-3 and momentum 0.01 (Keras' 0.99).

Every intermediate representation the paper's heatmaps use is the output of a named submodule,
listed in execution order by :meth:`ResNet.representations` without running the network.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "resnet",
    "ResNet",
    "BasicBlock",
    "Representation",
    "Add",
    "Projection",
    "nearest_valid_depths",
    "delete_blocks",
    "removable_blocks",
    "parameter_count",
]


@dataclass(frozen=True)
class Representation:
    """One intermediate representation: the output of ``model.get_submodule(name)``."""

    index: int
    name: str
    kind: str  # input, conv, bn, relu, add, projection, pool, flatten, logits
    stage: int | None = None  # 1, 2, 3 inside the stages; None for input, stem and head
    block: int | None = None  # block number within the stage, from 0
    post_residual: bool = False  # a block's output: after the add and its ReLU
    pre_residual: bool = False  # the BN output just before the add


class Add(nn.Module):
    """The residual sum as a module of its own, so that it can be hooked."""

    def forward(self, shortcut: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return shortcut + residual


class Projection(nn.Conv2d):
    """The 1x1 projection shortcut with stride ``stride`` and a bias: an ``nn.Conv2d`` whose
    forward pass on a batch of odd size computes the same products another way.

    A 1x1 convolution of stride s is the stride-1 one of every s-th pixel. On a batch of odd
    size it is computed so, because oneDNN's bfloat16 weight gradient of the strided 1x1
    convolution corrupts the heap there (torch 2.14.1, a CPU with AVX-512 BF16 and no AMX such
    as AMD Zen 5; a network with an 8-channel projection crashes on the last, partial batch of
    an epoch: ``tests/test_models.py``). Even batches keep the strided kernel, which is faster.
    """

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__(cin, cout, 1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) % 2 == 0:
            return super().forward(x)
        every_s = x[:, :, :: self.stride[0], :: self.stride[1]]
        return F.conv2d(every_s, self.weight, self.bias)


# Standard deviation of a unit normal truncated to [-2, 2]. Keras' he_normal draws from that
# truncated normal scaled by std / 0.8796..., so that the weights' final standard deviation is std.
TRUNCATED_NORMAL_STD = 0.87962566103423978


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class BasicBlock(nn.Module):
    """conv-BN-ReLU-conv-BN, plus the shortcut (identity or 1x1 projection), then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.bn1 = _bn(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.bn2 = _bn(cout)
        if residual:
            needs_projection = stride != 1 or cin != cout
            self.projection = Projection(cin, cout, stride) if needs_projection else None
            self.add = Add()
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x)
        y = self.bn1(y)
        y = self.relu1(y)
        y = self.conv2(y)
        y = self.bn2(y)
        if self.residual:
            shortcut = x if self.projection is None else self.projection(x)
            y = self.add(shortcut, y)
        return self.relu2(y)

    def representations(self) -> list[tuple[str, str]]:
        """(submodule name, kind) in execution order, as in the official code."""
        reps = [
            ("conv1", "conv"),
            ("bn1", "bn"),
            ("relu1", "relu"),
            ("conv2", "conv"),
            ("bn2", "bn"),
        ]
        if self.residual:
            if self.projection is not None:
                reps.append(("projection", "projection"))
            reps.append(("add", "add"))
        return reps + [("relu2", "relu")]


class ResNet(nn.Module):
    """A CIFAR ResNet; build one with :func:`resnet`."""

    def __init__(
        self,
        blocks_per_stage: int,
        width: float,
        num_classes: int,
        in_channels: int,
        residual: bool,
    ) -> None:
        super().__init__()
        base = max(1, int(round(16 * width)))
        self.width, self.residual = width, residual
        self.stem = nn.Sequential()
        self.stem.add_module("conv", nn.Conv2d(in_channels, base, 3, 1, 1))
        self.stem.add_module("bn", _bn(base))
        self.stem.add_module("relu", nn.ReLU())
        cin = base
        for s in range(3):
            cout = base * 2**s
            blocks = [
                BasicBlock(cin if b == 0 else cout, cout, 2 if (s > 0 and b == 0) else 1, residual)
                for b in range(blocks_per_stage)
            ]
            self.add_module(f"stage{s + 1}", nn.Sequential(*blocks))
            cin = cout
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(cin, num_classes)
        self.reset_parameters()

    @property
    def stages(self) -> list[nn.Sequential]:
        return [self.stage1, self.stage2, self.stage3]

    @property
    def depth(self) -> int:
        """Conv and dense layers on the main path, 6n+2 (block deletion lowers it)."""
        return 2 * sum(len(s) for s in self.stages) + 2

    def reset_parameters(self) -> None:
        """He-normal (Keras' truncated normal, std sqrt(2/fan_in)) weights and zero biases."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                std = math.sqrt(2.0 / nn.init._calculate_correct_fan(m.weight, "fan_in"))
                scale = std / TRUNCATED_NORMAL_STD
                nn.init.trunc_normal_(m.weight, std=scale, a=-2 * scale, b=2 * scale)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        x = self.pool(x)
        x = self.flatten(x)
        return self.fc(x)

    def representations(self) -> list[Representation]:
        """Every intermediate representation in execution order: 9 + 21n, or 7 + 18n if plain."""
        reps = [("input", "input", None, None, False, False)]
        reps += [
            (f"stem.{name}", kind, None, None, False, False)
            for name, kind in (("conv", "conv"), ("bn", "bn"), ("relu", "relu"))
        ]
        for s, stage in enumerate(self.stages, start=1):
            for b, block in enumerate(stage):
                for name, kind in block.representations():
                    post = self.residual and name == "relu2"
                    pre = self.residual and name == "bn2"
                    reps.append((f"stage{s}.{b}.{name}", kind, s, b, post, pre))
        reps += [
            ("pool", "pool", None, None, False, False),
            ("flatten", "flatten", None, None, False, False),
            ("fc", "logits", None, None, False, False),
        ]
        return [Representation(i, *r) for i, r in enumerate(reps)]


def nearest_valid_depths(depth: int) -> list[int]:
    """The valid depths 6n+2 (n >= 1) just below and just above ``depth``."""
    below = 6 * ((depth - 2) // 6) + 2
    return [d for d in (below, below + 6) if d >= 8] or [8]


def resnet(
    depth: int,
    width: float = 1,
    *,
    num_classes: int = 10,
    in_channels: int = 3,
    residual: bool = True,
) -> ResNet:
    """ResNet-``depth`` with width multiplier ``width`` (fractions allowed); ``residual=False``
    gives the plain net of Fig. C.1.

    Args:
        depth: 6n + 2 (8, 14, 20, ...): n basic blocks in each of the three stages.
        width: channel multiplier k; the stages have round(16k), 2 round(16k), 4 round(16k).
        num_classes: outputs of the final dense layer.
        in_channels: channels of the input images (3 for CIFAR, 1 for Fashion-MNIST).

    Returns:
        A :class:`ResNet` mapping (N, in_channels, H, W) images to (N, num_classes) logits,
        whose ``representations()`` are the 9 + 21n of the paper's Appendix B.
    """
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        nearest = " and ".join(map(str, nearest_valid_depths(int(depth))))
        raise ValueError(
            f"depth must be 6n+2 with n >= 1 (8, 14, 20, 26, ...), got {depth}; nearest valid: "
            f"{nearest}"
        )
    if not width > 0:
        raise ValueError(f"width must be positive, got {width}")
    return ResNet((depth - 2) // 6, width, num_classes, in_channels, residual)


def parameter_count(depth: int, width: float = 1, **kwargs) -> int:
    """Number of parameters of ``resnet(depth, width, **kwargs)``, without allocating them."""
    with torch.device("meta"):
        return sum(p.numel() for p in resnet(depth, width, **kwargs).parameters())


def removable_blocks(model: ResNet, stage: int) -> int:
    """How many blocks at the end of ``stage`` can be deleted: all with an identity shortcut
    (every block of stage 1, whose input already has its width; all but the first elsewhere)."""
    blocks = list(model.stages[stage - 1])
    return (
        sum(b.projection is None for b in blocks)
        if blocks[0].projection is None
        else len(blocks) - 1
    )


def delete_blocks(model: ResNet, stage: int, k: int) -> ResNet:
    """A copy of ``model`` with the last ``k`` blocks of ``stage`` (1, 2 or 3) removed (Fig. 5).

    The shortcut path is kept: a removed identity block simply passes its input through, so the
    rest of the network sees the representation the residual stream carried at that point. Blocks
    with a projection shortcut change the shape and cannot be removed.
    """
    if stage not in (1, 2, 3):
        raise ValueError(f"stage must be 1, 2 or 3, got {stage}")
    if not model.residual:
        raise ValueError(
            "block deletion needs residual connections (a plain network has no shortcut path "
            "to keep)"
        )
    blocks = list(model.stages[stage - 1])
    removable = removable_blocks(model, stage)
    if not 0 <= k <= removable:
        raise ValueError(
            f"stage {stage} has {removable} removable blocks (those with an identity "
            f"shortcut), cannot delete {k}"
        )
    pruned = copy.deepcopy(model)
    setattr(
        pruned, f"stage{stage}", nn.Sequential(*list(pruned.stages[stage - 1])[: len(blocks) - k])
    )
    return pruned
