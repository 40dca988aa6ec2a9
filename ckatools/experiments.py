"""Run a profile's experiment end to end: train (or fetch) each network, its heatmap and block score."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from types import SimpleNamespace

from . import zoo
from .blocks import BlockStructure, block_structure
from .capture import CKAResult
from .profiles import training_configs
from .train import TrainConfig

__all__ = ["Run", "heatmaps", "provenance", "label"]


def label(config: TrainConfig) -> str:
    """A short name such as 'ResNet-26 ×0.5', plus 'plain' when there are no residual connections."""
    return f"{'Plain' if not config.residual else 'ResNet'}-{config.depth} ×{config.width:g}"


@dataclass
class Run:
    """One trained network of an experiment, with its results, its heatmap and its block structure."""

    config: TrainConfig
    results: dict
    cka: CKAResult
    block: BlockStructure

    @property
    def title(self) -> str:
        return f"{label(self.config)}, acc. {self.results['accuracy']:.1%}\nblock score {self.block.score:.2f}"


def heatmaps(exp: SimpleNamespace, progress: bool = True) -> list[Run]:
    """Train or fetch every network of ``exp`` and compute (or fetch) its within-model heatmap."""
    from tqdm.auto import tqdm

    runs = []
    for config in tqdm(training_configs(exp), desc=exp.name, disable=not progress):
        _, results = zoo.get(config, progress=False)
        cka = zoo.heatmap(config, images=exp.images, passes=exp.passes, progress=False)
        runs.append(Run(config, results, cka, block_structure(cka)))
    return runs


def provenance(exp: SimpleNamespace, runs: list[Run]) -> str:
    """Where the numbers of a figure come from, in one paragraph."""
    first = runs[0]
    sizes = sorted({r.results["train_size"] for r in runs})
    seeds = sorted({r.config.seed for r in runs})
    accuracies = ", ".join(f"{label(r.config)} (fraction {r.config.fraction:.3g}, seed {r.config.seed}) {r.results['accuracy']:.1%}" for r in runs)
    return textwrap.fill(f"Provenance: profile {exp.profile}; {first.config.dataset}, training sets of {', '.join(map(str, sizes))} images "
            f"(class-balanced); {first.config.epochs} epochs, learning rate {first.config.lr}, seeds {seeds}; CKA on "
            f"{exp.images} test images, {exp.passes} passes, minibatches of 256. "
            f"Test accuracy: {accuracies}.", width=110)
