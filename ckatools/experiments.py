"""Run a profile's experiment end to end: train (or fetch) each network, its heatmap and block
measures.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import zoo
from .blocks import Block, relative_block, strict_block
from .capture import CKAResult
from .mistakes import Group
from .profiles import CAPTION_WIDTH, Experiment, training_configs
from .train import TRAINED_ACCURACY, TrainConfig, fraction_label, has_trained
from .verdicts import Verdict, not_run, presence_verdict

__all__ = [
    "Run",
    "heatmaps",
    "distinct_runs",
    "provenance",
    "block_table",
    "series",
    "points",
    "presence_of",
    "with_and_without_block",
    "groups",
    "group_provenance",
    "CAPTION_WIDTH",
]


@dataclass
class Run:
    """One trained network of an experiment: its results, its heatmap and its block measures."""

    config: TrainConfig
    results: dict
    cka: CKAResult
    block: Block  # relative_block: the book's measure
    strict: Block  # strict_block: every pair >= 0.9

    @property
    def title(self) -> str:
        """Two lines for a heatmap panel: architecture, data; seed, test accuracy, block score."""
        c = self.config
        return (
            f"{c.label}, {fraction_label(c.fraction)} data\n"
            f"seed {c.seed}: test {self.results['accuracy']:.0%}, block {self.block.score:.2f}"
        )


def _networks(exp: Experiment, progress: bool):
    """Each network of ``exp`` (trained, or fetched from the cache) as (config, model, results),
    under one progress bar; once all are through, says how many came from the cache and how many
    were trained."""
    from tqdm.auto import tqdm

    configs = training_configs(exp)
    trained = sum(not zoo.cached(c) for c in configs)
    for config in tqdm(configs, desc=exp.name, disable=not progress):
        model, results = zoo.get(config, progress=False, announce=False)
        yield config, model, results
    print(f"{exp.name}: {len(configs) - trained} networks loaded from the cache, {trained} trained")


def heatmaps(exp: Experiment, progress: bool = True) -> list[Run]:
    """Train or fetch every network of ``exp``, compute (or fetch) its within-model heatmap, and
    say in one line how many networks came from the cache and how many were trained."""
    runs = []
    for config, model, results in _networks(exp, progress):
        cka = zoo.heatmap(
            config,
            model,
            images=exp.images,
            passes=exp.passes,
            batch_size=exp.batch_size,
            progress=False,
        )
        runs.append(Run(config, results, cka, relative_block(cka), strict_block(cka)))
    return runs


def distinct_runs(exps: list[Experiment], progress: bool = True) -> list[Run]:
    """The runs of several experiments (:func:`heatmaps` of each), a network that two of them
    share counted once."""
    return list({r.config: r for exp in exps for r in heatmaps(exp, progress)}.values())


def provenance(exp: Experiment, runs: list[Run]) -> str:
    """Where a figure's numbers come from, as a short caption wrapped to the text column."""
    first = runs[0].config
    data = ", ".join(
        f"{fraction_label(f)} ({n:,} images)"
        for f, n in sorted({(r.config.fraction, r.results["train_size"]) for r in runs})
    )
    seeds = ", ".join(map(str, sorted({r.config.seed for r in runs})))
    accuracies = "; ".join(
        f"{r.config.label} {fraction_label(r.config.fraction)} s{r.config.seed} "
        f"{r.results['train_accuracy']:.0%}/{r.results['accuracy']:.1%}"
        + ("" if has_trained(r.results) else " (did not train)")
        for r in runs
    )
    recipe = "".join(
        [
            f", {first.warmup_epochs}-epoch warm-up" if first.warmup_epochs else "",
            ", bfloat16 on the CPU" if first.bf16_cpu else "",
        ]
    )
    lines = [
        f"Provenance: {exp.profile} profile; {first.dataset}, class-balanced training sets: {data}",
        f"{first.epochs} epochs, learning rate {first.lr}{recipe}, seeds {seeds}; CKA on "
        f"{exp.images:,} test images, "
        f"{exp.passes} passes, minibatches of {exp.batch_size}",
        f"Accuracy, train (unaugmented) / test: {accuracies}",
    ]
    failed = [r for r in runs if not has_trained(r.results)]
    if failed:
        lines.append(
            f"Did not train (training accuracy < {TRAINED_ACCURACY:.0%}; they measure nothing): "
            + ", ".join(f"{r.config.label} s{r.config.seed}" for r in failed)
        )
    return "\n".join(textwrap.fill(line, CAPTION_WIDTH, subsequent_indent="  ") for line in lines)


def block_table(runs: list[Run]):
    """Where each network's block lies and how it scores, as a table (one row per run)."""
    import pandas as pd

    rows = [
        {
            "network": r.config.label,
            "data": fraction_label(r.config.fraction),
            "seed": r.config.seed,
            "block from": r.block.first,
            "to": r.block.last,
            "size": r.block.size,
            "score": round(r.block.score, 2),
            "contrast": round(r.block.contrast, 2),
            "strict score": round(r.strict.score, 2),
        }
        for r in runs
    ]
    return pd.DataFrame(rows).set_index(["network", "data", "seed"])


def with_and_without_block(runs: list[Run], k: int = 1) -> tuple[list[Run], list[Run]]:
    """Networks to contrast, picked by rule rather than by eye: the ``k`` whose blocks stand out
    most (highest contrast among those with a block, or among all when none has one) and the
    ``k`` others with the lowest block scores."""
    present = [r for r in runs if r.block.present] or runs
    with_block = sorted(present, key=lambda r: -r.block.contrast)[:k]
    others = [r for r in runs if r not in with_block]
    return with_block, sorted(others, key=lambda r: r.block.score)[:k]


def series(runs: list[Run], by: Callable[[TrainConfig], object]) -> dict[str, list[Run]]:
    """Runs grouped into named series: the runs sharing ``by(config)``, e.g. the architecture."""
    groups: dict[str, list[Run]] = defaultdict(list)
    for r in runs:
        groups[str(by(r.config))].append(r)
    return dict(groups)


def points(
    runs: list[Run], knob: Callable[[TrainConfig], float]
) -> tuple[list[float], list[float]]:
    """(knob values, block scores) of ``runs``: one series of a trend verdict."""
    return [knob(r.config) for r in runs], [r.block.score for r in runs]


def presence_of(figure: str, claim: str, runs: list[Run]) -> Verdict:
    """The presence verdict of ``figure``: does every network of ``runs`` have a block?"""
    if not runs:
        return not_run(figure, "this profile trains no networks for it")
    return presence_verdict(
        figure, claim, {f"{r.config.label} s{r.config.seed}": r.block.present for r in runs}
    )


def groups(exp: Experiment, progress: bool = True) -> dict[str, Group]:
    """Train or fetch every network of ``exp`` and gather each architecture's seeds into a
    :class:`Group` of test-set correctness (no extra pass: the zoo keeps it with the network)."""
    found: dict[TrainConfig, list] = defaultdict(list)
    for config, _, results in _networks(exp, progress):
        found[config.replace(seed=0)].append((config.seed, results))
    made = [
        Group(
            label=config.label,
            seeds=tuple(seed for seed, _ in members),
            correct=np.stack([r["correct"].numpy() for _, r in members]),
            train_accuracy=np.array([r["train_accuracy"] for _, r in members]),
            depth=config.depth,
            width=config.width,
        )
        for config, members in found.items()
    ]
    return {g.name: g for g in made}


def group_provenance(exp: Experiment, found: list[Group]) -> str:
    """Where a comparison of groups comes from: the profile, the data, the training, and each
    group's size and accuracies (mean ± SD over its networks), wrapped to the text column."""
    config = training_configs(exp)[0]
    accuracies = "; ".join(
        f"{g.name} ({len(g)} networks): train {g.train_accuracy.mean():.1%} ± "
        f"{g.train_accuracy.std(ddof=1):.1%}, test {g.accuracy.mean():.1%} ± "
        f"{g.accuracy.std(ddof=1):.1%}"
        for g in found
    )
    lines = [
        f"Provenance: {exp.profile} profile; {config.dataset}, class-balanced training set "
        f"{fraction_label(config.fraction)}; {config.epochs} epochs, learning rate {config.lr}",
        f"Accuracy (train, unaugmented; test): {accuracies}",
    ]
    return "\n".join(textwrap.fill(line, CAPTION_WIDTH, subsequent_indent="  ") for line in lines)
