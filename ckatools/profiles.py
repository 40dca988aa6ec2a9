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

GPU_ONLY = dict(skip="CIFAR-100 grids need a GPU: run this chapter with the colab or paper profile")

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
    # Chapter 02: the family of networks, a depth series and a width series (Table B.1).
    "family": {
        "smoke": dict(dataset="synthetic", fraction=1.0, architectures=[(8, 0.25), (14, 0.25), (8, 0.5)], epochs=2, lr=0.05),
        "cpu": dict(dataset="fashion-mnist", fraction=1 / 16, epochs=15, lr=0.05,
                    architectures=[(8, 0.5), (14, 0.5), (20, 0.5), (32, 0.5), (44, 0.5), (14, 0.25), (14, 1), (14, 2)]),
        "colab": dict(dataset="cifar10", fraction=1.0, epochs=15, lr=0.05,
                      architectures=[(20, 1), (32, 1), (56, 1), (110, 1), (14, 1), (14, 2), (14, 4)]),
        "paper": dict(dataset="cifar10", fraction=1.0, epochs=300, lr=0.01,
                      architectures=[(32, 1), (44, 1), (56, 1), (110, 1), (164, 1)] + [(d, w) for d in (14, 20, 26, 38) for w in (1, 2, 4, 8, 10)]),
    },
    # Chapter 03 (Fig. 1, D.1, C.1): heatmaps along a depth series and a width series, across seeds,
    # and for plain networks. "heatmap" sets the CKA budget: test images and passes.
    "depth_series": {
        "smoke": dict(dataset="synthetic", fraction=1.0, epochs=2, lr=0.05, architectures=[(8, 0.25), (14, 0.25)], images=128, passes=1),
        "cpu": dict(dataset="fashion-mnist", fraction=1 / 16, epochs=15, lr=0.05, architectures=[(8, 0.5), (14, 0.5), (26, 0.5), (44, 0.5)],
                    images=2048, passes=2),
        "colab": dict(dataset="cifar10", fraction=1.0, epochs=15, lr=0.05, architectures=[(20, 1), (32, 1), (56, 1), (110, 1)],
                      images=10000, passes=2),
        "paper": dict(dataset="cifar10", fraction=1.0, epochs=300, lr=0.01,
                      architectures=[(32, 1), (44, 1), (56, 1), (110, 1), (164, 1)], images=10000, passes=10),
    },
    "width_series": {
        "smoke": dict(dataset="synthetic", fraction=1.0, epochs=2, lr=0.05, architectures=[(8, 0.25), (8, 0.5)], images=128, passes=1),
        "cpu": dict(dataset="fashion-mnist", fraction=1 / 16, epochs=15, lr=0.05, architectures=[(14, 0.25), (14, 0.5), (14, 1), (14, 2)],
                    images=2048, passes=2),
        "colab": dict(dataset="cifar10", fraction=1.0, epochs=15, lr=0.05, architectures=[(14, 1), (14, 2), (14, 4)],
                      images=10000, passes=2),
        "paper": dict(dataset="cifar10", fraction=1.0, epochs=300, lr=0.01,
                      architectures=[(26, 1), (26, 2), (26, 4), (26, 8), (26, 10)], images=10000, passes=10),
    },
    "seeds": {
        "smoke": dict(dataset="synthetic", fraction=1.0, epochs=2, lr=0.05, architectures=[(14, 0.25)], seeds=[0, 1], images=128, passes=1),
        "cpu": dict(dataset="fashion-mnist", fraction=1 / 16, epochs=15, lr=0.05, architectures=[(44, 0.5)], seeds=[0, 1, 2],
                    images=2048, passes=2),
        "colab": dict(dataset="cifar10", fraction=1.0, epochs=15, lr=0.05, architectures=[(110, 1)], seeds=[0, 1, 2],
                      images=10000, passes=2),
        "paper": dict(dataset="cifar10", fraction=1.0, epochs=300, lr=0.01, architectures=[(110, 1)], seeds=[0, 1, 2, 3, 4],
                      images=10000, passes=10),
    },
    "plain": {
        "smoke": dict(dataset="synthetic", fraction=1.0, epochs=2, lr=0.05, residual=False, architectures=[(8, 0.25), (8, 0.5)],
                      images=128, passes=1),
        "cpu": dict(dataset="fashion-mnist", fraction=1 / 16, epochs=15, lr=0.05, residual=False,
                    architectures=[(14, 0.25), (14, 0.5), (14, 1), (14, 2)], images=2048, passes=2),
        "colab": dict(dataset="cifar10", fraction=1.0, epochs=15, lr=0.05, residual=False, architectures=[(20, 1), (20, 2), (20, 4)],
                      images=10000, passes=2),
        "paper": dict(dataset="cifar10", fraction=1.0, epochs=300, lr=0.01, residual=False,
                      architectures=[(20, 1), (20, 2), (20, 4), (20, 8)], images=10000, passes=10),
    },
    # Chapter 04 (Fig. 2, D.2-D.4): the same series on less data.
    "data_width": {
        "smoke": dict(dataset="synthetic", fractions=[0.25, 1.0], epochs=2, lr=0.05, architectures=[(8, 0.25), (8, 0.5)], images=128, passes=1),
        "cpu": dict(dataset="fashion-mnist", fractions=[1 / 64, 1 / 16, 1 / 4], epochs=15, lr=0.05,
                    architectures=[(14, 0.25), (14, 0.5), (14, 1)], images=2048, passes=2),
        "colab": dict(dataset="cifar10", fractions=[1 / 16, 1 / 4, 1.0], epochs=15, lr=0.05, architectures=[(14, 1), (14, 2), (14, 4)],
                      images=10000, passes=2),
        "paper": dict(dataset="cifar10", fractions=[0.06, 0.25, 0.5, 1.0], epochs=300, lr=0.01,
                      architectures=[(26, 1), (26, 2), (26, 4), (26, 8), (26, 10)], images=10000, passes=10),
    },
    "data_depth": {
        "smoke": dict(dataset="synthetic", fractions=[0.25, 1.0], epochs=2, lr=0.05, architectures=[(8, 0.25), (14, 0.25)], images=128, passes=1),
        "cpu": dict(dataset="fashion-mnist", fractions=[1 / 64, 1 / 16, 1 / 4], epochs=15, lr=0.05,
                    architectures=[(8, 0.5), (14, 0.5), (26, 0.5)], images=2048, passes=2),
        "colab": dict(dataset="cifar10", fractions=[1 / 16, 1 / 4, 1.0], epochs=15, lr=0.05, architectures=[(20, 1), (56, 1), (110, 1)],
                      images=10000, passes=2),
        "paper": dict(dataset="cifar10", fractions=[0.06, 0.25, 0.5, 1.0], epochs=300, lr=0.01,
                      architectures=[(32, 1), (44, 1), (56, 1), (110, 1), (164, 1)], images=10000, passes=10),
    },
    "data_width_cifar100": {
        "smoke": GPU_ONLY,
        "cpu": GPU_ONLY,
        "colab": dict(dataset="cifar100", fractions=[1 / 4, 1.0], epochs=15, lr=0.05, architectures=[(14, 1), (14, 4)],
                      images=10000, passes=2),
        "paper": dict(dataset="cifar100", fractions=[0.06, 0.25, 0.5, 1.0], epochs=300, lr=0.01,
                      architectures=[(26, 1), (26, 2), (26, 4), (26, 8), (26, 10)], images=10000, passes=10),
    },
    "data_depth_cifar100": {
        "smoke": GPU_ONLY,
        "cpu": GPU_ONLY,
        "colab": dict(dataset="cifar100", fractions=[1 / 4, 1.0], epochs=15, lr=0.05, architectures=[(56, 1), (110, 1)],
                      images=10000, passes=2),
        "paper": dict(dataset="cifar100", fractions=[0.06, 0.25, 0.5, 1.0], epochs=300, lr=0.01,
                      architectures=[(56, 1), (110, 1), (164, 1), (218, 1), (224, 1)], images=10000, passes=10),
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
    """Every network an experiment trains: its architectures (or depth(s) x width(s)) x fraction(s) x seed(s)."""
    params = vars(exp)
    if "epochs" not in params:
        return []
    axis = lambda key: params.get(key + "s", [params[key]] if key in params else [getattr(TrainConfig, key)])
    architectures = params.get("architectures") or list(itertools.product(axis("depth"), axis("width")))
    fixed = {key: params[key] for key in ("dataset", "epochs", "lr", "batch_size", "residual") if key in params}
    return [TrainConfig(**fixed, depth=d, width=w, fraction=f, seed=s)
            for (d, w), f, s in itertools.product(architectures, axis("fraction"), axis("seed"))]
