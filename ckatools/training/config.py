"""What determines a trained network: :class:`TrainConfig` (and so its cache key), validated
field by field with messages that name the allowed values."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from ckatools.data import DATASETS
from ckatools.models import nearest_valid_depths

__all__ = ["TrainConfig", "fraction_label"]


def fraction_label(fraction: float) -> str:
    """A fraction of the training set as a reader writes it: '1/16', '1/4', 'all', '6 %'."""
    if fraction >= 1:
        return "all"
    inverse = 1 / fraction
    return (
        f"1/{round(inverse)}"
        if abs(inverse - round(inverse)) < 1e-6
        else f"{fraction:.0%}".replace("%", " %")
    )


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained network (and so its cache key)."""

    dataset: str = "cifar10"
    fraction: float = 1.0  # class-balanced fraction of the training set
    depth: int = 20
    width: float = 1.0
    residual: bool = True
    epochs: int = 300
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 2e-4  # on conv and dense weights only
    augment: bool = True
    seed: int = 0  # initialization and data order
    subset_seed: int = 0  # which examples a fraction keeps
    warmup_epochs: int = 0  # linear learning-rate warm-up before the cosine decay (0: none)
    bf16_cpu: bool = False  # on the CPU: bfloat16 autocast and channels-last (CUDA always is)

    def __post_init__(self):
        problems = _problems(self)
        if problems:
            raise ValueError("TrainConfig: " + "; ".join(problems))

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    @property
    def label(self) -> str:
        """The architecture as the book names it: 'ResNet-26 ×0.5', or 'Plain-14 ×2' if plain."""
        return f"{'ResNet' if self.residual else 'Plain'}-{self.depth} ×{self.width:g}"


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _problems(config: TrainConfig) -> list[str]:
    """What is wrong with a configuration, one message per field, naming the allowed values."""
    c, found = config, []
    if c.dataset not in DATASETS:
        found.append(f"dataset must be one of {', '.join(DATASETS)}, got {c.dataset!r}")
    if not _is_number(c.fraction) or not 0 < c.fraction <= 1:
        found.append(f"fraction must be a number in (0, 1], got {c.fraction!r}")
    if not _is_int(c.depth) or c.depth < 8 or (c.depth - 2) % 6:
        near = " or ".join(map(str, nearest_valid_depths(c.depth))) if _is_int(c.depth) else "20"
        found.append(
            f"depth must be 6n+2 with n >= 1 (8, 14, 20, ...), got {c.depth!r}; try {near}"
        )
    if not _is_number(c.width) or c.width <= 0:
        found.append(f"width must be a positive number, got {c.width!r}")
    for name in ("residual", "augment", "bf16_cpu"):
        if not isinstance(getattr(c, name), bool):
            found.append(f"{name} must be True or False, got {getattr(c, name)!r}")
    top = c.epochs if _is_int(c.epochs) and c.epochs >= 1 else 1
    if not _is_int(c.warmup_epochs) or not 0 <= c.warmup_epochs < top:
        found.append(f"warmup_epochs must be an integer in [0, epochs), got {c.warmup_epochs!r}")
    for name in ("epochs", "batch_size"):
        if not _is_int(getattr(c, name)) or getattr(c, name) < 1:
            found.append(f"{name} must be an integer >= 1, got {getattr(c, name)!r}")
    if not _is_number(c.lr) or c.lr <= 0:
        found.append(f"lr must be a finite positive number, got {c.lr!r}")
    if not _is_number(c.momentum) or not 0 <= c.momentum < 1:
        found.append(f"momentum must be a number in [0, 1), got {c.momentum!r}")
    if not _is_number(c.weight_decay) or c.weight_decay < 0:
        found.append(f"weight_decay must be a finite number >= 0, got {c.weight_decay!r}")
    for name in ("seed", "subset_seed"):
        if not _is_int(getattr(c, name)) or getattr(c, name) < 0:
            found.append(f"{name} must be an integer >= 0, got {getattr(c, name)!r}")
    return found
