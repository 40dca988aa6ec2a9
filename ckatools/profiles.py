"""Four budgets for one book: each chapter asks the active profile for its experiments by name.

``smoke``: synthetic data, seconds per notebook (CI). ``cpu``: Fashion-MNIST subsets on a laptop
(the committed outputs). ``colab``: CIFAR on one Colab GPU. ``paper``: the paper's recipe.
The active profile is ``CKATOOLS_PROFILE`` when set, otherwise ``colab`` on a CUDA machine and
``cpu`` elsewhere.
"""
from __future__ import annotations

import itertools
import os
from types import SimpleNamespace

import torch

from .train import TrainConfig

__all__ = ["PROFILES", "EXPERIMENTS", "active", "experiment", "training_configs"]

PROFILES = ("smoke", "cpu", "colab", "paper")

# experiment -> profile -> parameters. Chapters never hard-code a budget; they read it from here.
EXPERIMENTS: dict[str, dict[str, dict]] = {
    # Chapter 01: estimators on real data (pixels and random-feature layers of an untrained ResNet).
    "cka_basics": {
        "smoke": dict(dataset="synthetic", examples=256, batch_sizes=[16, 32, 64], passes=4, depth=8, width=0.25),
        "cpu": dict(dataset="fashion-mnist", examples=2048, batch_sizes=[16, 32, 64, 128, 256, 512], passes=30, depth=14, width=0.5),
        "colab": dict(dataset="cifar10", examples=4096, batch_sizes=[16, 32, 64, 128, 256, 512], passes=50, depth=20, width=1),
        "paper": dict(dataset="cifar10", examples=10000, batch_sizes=[16, 32, 64, 128, 256, 512, 1024], passes=100, depth=20, width=1),
    },
    # Chapter 01: a heatmap before and after a short training run (short schedules use a larger
    # learning rate than the official 0.01, which is tuned for 300 epochs).
    "first_heatmap": {
        "smoke": dict(dataset="synthetic", fraction=1.0, depth=8, width=0.25, epochs=1, lr=0.05, images=128, passes=1),
        "cpu": dict(dataset="fashion-mnist", fraction=1 / 16, depth=14, width=0.5, epochs=15, lr=0.05, images=1024, passes=2),
        "colab": dict(dataset="cifar10", fraction=1.0, depth=20, width=1, epochs=15, lr=0.05, images=10000, passes=10),
        "paper": dict(dataset="cifar10", fraction=1.0, depth=20, width=1, epochs=300, lr=0.01, images=10000, passes=10),
    },
}


def active(profile: str | None = None) -> str:
    """The profile to use: the argument, else ``CKATOOLS_PROFILE``, else ``colab`` with CUDA and ``cpu`` without."""
    name = profile or os.environ.get("CKATOOLS_PROFILE") or ("colab" if torch.cuda.is_available() else "cpu")
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    return name


def experiment(name: str, profile: str | None = None) -> SimpleNamespace:
    """The parameters of experiment ``name`` under a profile, plus ``.name`` and ``.profile``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; valid experiments: {', '.join(EXPERIMENTS)}")
    profile = active(profile)
    return SimpleNamespace(name=name, profile=profile, **EXPERIMENTS[name][profile])


def training_configs(exp: SimpleNamespace) -> list[TrainConfig]:
    """Every network an experiment trains: the product of its depth(s), width(s), fraction(s) and seed(s)."""
    params = vars(exp)
    if "epochs" not in params:
        return []
    axes = {key: params.get(key + "s", [params[key]] if key in params else [getattr(TrainConfig, key)])
            for key in ("depth", "width", "fraction", "seed")}
    fixed = {key: params[key] for key in ("dataset", "epochs", "lr", "batch_size", "residual") if key in params}
    return [TrainConfig(**fixed, **dict(zip(axes, values))) for values in itertools.product(*axes.values())]
