"""Run a profile's experiment end to end: train (or fetch) each network, its heatmap and block
measures.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ckatools.analysis.blocks import Block, measure, strict_block
from ckatools.analysis.mistakes import Group
from ckatools.analysis.verdicts import Verdict, in_regime, not_run, presence_verdict
from ckatools.book.profiles import (
    CAPTION_WIDTH,
    Experiment,
    bfloat16_native,
    training_configs,
)
from ckatools.book.regime import architecture_size
from ckatools.capture import CKAResult
from ckatools.training import TRAINED_ACCURACY, TrainConfig, TrainResult, fraction_label, zoo

__all__ = [
    "Run",
    "heatmaps",
    "distinct",
    "distinct_runs",
    "provenance",
    "block_table",
    "series",
    "points",
    "presence_of",
    "largest",
    "judged",
    "describe_blocks",
    "with_and_without_block",
    "groups",
    "group_provenance",
    "wide_deep_pairs",
    "trained_precision",
    "CAPTION_WIDTH",
]


@dataclass
class Run:
    """One trained network of an experiment: its results, its heatmap and its block measures."""

    config: TrainConfig
    results: TrainResult
    cka: CKAResult
    block: Block  # ckatools.analysis.blocks.measure: the book's measure
    strict: Block  # strict_block: every pair >= 0.9

    @property
    def title(self) -> str:
        """Two lines for a heatmap panel: architecture, data; seed, test accuracy, block score."""
        c = self.config
        return (
            f"{c.label}, {fraction_label(c.fraction)} data\n"
            f"seed {c.seed}: test {self.results.accuracy:.0%}, {self.verdict_word}"
        )

    @property
    def trained(self) -> bool:
        """Whether the network counts as trained (:attr:`TrainResult.trained`)."""
        return self.results.trained

    @property
    def begins_late(self) -> bool:
        """Whether the block begins in the last two stages (or after them, in the head): where
        the paper's block lies ("mostly appears in the later layers (the last two stages)")."""
        if not self.block.present:
            return False
        return self.stage_of(self.block.start) >= self._last_stage - 1

    @property
    def _last_stage(self) -> int:
        return max(layer.stage or 0 for layer in self.cka.layers_a)

    def stage_of(self, index: int) -> int:
        """The stage of representation ``index``: 0 for the stem (before stage 1), the last
        stage for the head (after it)."""
        layers = self.cka.layers_a
        if layers[index].stage is not None:
            return layers[index].stage
        first_staged = next(i for i, layer in enumerate(layers) if layer.stage is not None)
        return 0 if index < first_staged else self._last_stage

    @property
    def block_stages(self) -> str:
        """The stages the block spans, e.g. '2-3' ('' without a block); 0 is the stem."""
        if not self.block.present:
            return ""
        first, last = self.stage_of(self.block.start), self.stage_of(self.block.end)
        return str(first) if first == last else f"{first}-{last}"

    @property
    def verdict_word(self) -> str:
        """'block 0.45', 'no block', or 'did not train' (such a network measures nothing)."""
        if not self.trained:
            return "did not train"
        return f"block {self.block.score:.2f}" if self.block.present else "no block"


def _networks(exp: Experiment, progress: bool):
    """Each network of ``exp`` (trained, or fetched from the cache) as (config, model, results),
    under one progress bar; once all are through, says how many came from the cache and how many
    were trained."""
    from tqdm.auto import tqdm

    configs = training_configs(exp)
    missing = [c for c in configs if not zoo.cached(c)]
    if missing:  # seeds of narrow networks train faster stacked (zoo.prepare chooses where)
        zoo.prepare(missing, progress=progress)
    trained = len(missing)
    for config in tqdm(configs, desc=exp.name, disable=not progress):
        model, results = zoo.get(config, progress=False, announce=False)
        yield config, model, results
    print(f"{exp.name}: {len(configs) - trained} networks loaded from the cache, {trained} trained")


def heatmaps(exp: Experiment, progress: bool = True) -> list[Run]:
    """Train or fetch every network of ``exp``, compute (or fetch) its within-model heatmap, and
    say in one line how many networks came from the cache and how many were trained."""
    runs = []
    for config, model, results in _networks(exp, progress):
        cka = zoo.cka_matrix(
            config,
            model,
            images=exp.images,
            passes=exp.passes,
            batch_size=exp.batch_size,
            progress=False,
        )
        runs.append(Run(config, results, cka, measure(cka), strict_block(cka)))
    return runs


def distinct(series: Iterable[Sequence[Run]]) -> list[Run]:
    """The runs of several series, in order, a network that two of them share counted once."""
    return list({r.config: r for runs in series for r in runs}.values())


def distinct_runs(exps: list[Experiment], progress: bool = True) -> list[Run]:
    """The runs of several experiments (:func:`heatmaps` of each), a network that two of them
    share counted once."""
    return distinct(heatmaps(exp, progress) for exp in exps)


def trained_precision(config: TrainConfig, device: str | None) -> str:
    """The arithmetic a network trained in, from its configuration and the kinds of device it
    trained on (``TrainResult.device``, e.g. "cpu" or "cpu, cuda"; None, for records that predate
    it, counts as the CPU: every network of those was trained on one). CUDA always trains in
    mixed precision; the CPU in bfloat16 where ``config.bf16_cpu``; anything else in float32."""
    cpu = "bfloat16 on the CPU" if config.bf16_cpu else "float32"
    kinds = (device or "cpu").split(", ")
    named = {"cuda": "mixed precision on a GPU", "cpu": cpu}
    return " and ".join(dict.fromkeys(named.get(kind, "float32") for kind in kinds))


def _recipe(networks: Sequence[tuple[TrainConfig, str | None]]) -> str:
    """What a caption adds to the learning rate: the warm-up and the precision of ``networks``
    ((config, device) pairs), float32 being the unstated default. Where networks trained in
    different precisions (a build continued on a machine without native bfloat16:
    :func:`ckatools.book.profiles.training_configs`, or on a GPU), the most common precision is
    stated and the others' networks are named."""
    first = networks[0][0]
    named: dict[str, list[str]] = defaultdict(list)
    for config, device in networks:
        named[trained_precision(config, device)].append(
            f"{config.label} {fraction_label(config.fraction)} s{config.seed}"
        )
    main, *others = sorted(named, key=lambda p: (-len(named[p]), p == "float32"))
    stated = "" if main == "float32" and not others else f", {main}"
    if others:
        stated += " (" + "; ".join(f"{p}: " + ", ".join(named[p]) for p in others) + ")"
    return (f", {first.warmup_epochs}-epoch warm-up" if first.warmup_epochs else "") + stated


def provenance(exp: Experiment, runs: list[Run]) -> str:
    """Where a figure's numbers come from, as a short caption wrapped to the text column."""
    first = runs[0].config
    data = ", ".join(
        f"{fraction_label(f)} ({n:,} images)"
        for f, n in sorted({(r.config.fraction, r.results.train_size) for r in runs})
    )
    seeds = ", ".join(map(str, sorted({r.config.seed for r in runs})))

    def name(r: Run) -> str:
        return f"{r.config.label} {fraction_label(r.config.fraction)} s{r.config.seed}"

    recipe = _recipe([(r.config, r.results.device) for r in runs])
    accuracies = "; ".join(
        f"{name(r)} {r.results.train_accuracy:.1%}/{r.results.accuracy:.1%}"
        + ("" if r.trained else " (did not train)")
        for r in runs
    )
    lines = [
        f"Provenance: {exp.profile} profile; {first.dataset}, class-balanced training sets: {data}",
        f"{first.epochs} epochs, learning rate {first.lr}{recipe}, "
        f"seeds {seeds}; CKA on "
        f"{exp.images:,} test images, "
        f"{exp.passes} passes, minibatches of {exp.batch_size}",
        f"Accuracy, train (unaugmented) / test: {accuracies}",
    ]
    failed = [r for r in runs if not r.trained]
    if failed:
        lines.append(
            f"Did not train (training accuracy < {TRAINED_ACCURACY:.0%}; they measure nothing): "
            + ", ".join(map(name, failed))
        )
    return "\n".join(textwrap.fill(line, CAPTION_WIDTH, subsequent_indent="  ") for line in lines)


def block_table(runs: list[Run]):
    """Where each network's block lies (:func:`~ckatools.analysis.blocks.measure`), one row per run:
    its span (representations and stages; the paper's block lies in the last two), its extent
    (fraction of representations, 0 without a block) and contrast."""
    import pandas as pd

    rows = [
        {
            "network": r.config.label,
            "data": fraction_label(r.config.fraction),
            "seed": r.config.seed,
            "test acc.": round(r.results.accuracy, 3),
            "block": "did not train" if not r.trained else "yes" if r.block.present else "no",
            "from": r.block.first if r.block.present else "",
            "to": r.block.last if r.block.present else "",
            "stages": r.block_stages,
            "extent": round(r.block.extent, 2),
            "contrast": f"{r.block.contrast:+.2f}" if r.block.present else "",
        }
        for r in runs
    ]
    return pd.DataFrame(rows).set_index(["network", "data", "seed"])


def describe_blocks(runs: list[Run]) -> str:
    """One sentence, chosen by the numbers: in how many trained networks the measure finds a
    block, and how many of those begin in the last two stages, where the paper's block lies."""
    trained = [r for r in runs if r.trained]
    found = [r for r in trained if r.block.present]
    untrained = len(runs) - len(trained)
    head = f"The measure finds a block in {len(found)} of {len(trained)} trained networks" + (
        f" ({untrained} did not train and measure nothing)" if untrained else ""
    )
    if not found:
        return textwrap.fill(head + ".", CAPTION_WIDTH)
    late = sum(r.begins_late for r in found)
    where = (
        "all of them begin in the last two stages, as in the paper"
        if late == len(found)
        else f"{late} of them begin in the last two stages, as in the paper, and "
        f"{len(found) - late} earlier, unlike the paper's"
    )
    return textwrap.fill(f"{head}; {where}.", CAPTION_WIDTH)


def with_and_without_block(runs: list[Run], k: int = 1) -> tuple[list[Run], list[Run]]:
    """Networks to contrast, picked by rule rather than by eye: the ``k`` whose blocks stand out
    most (highest contrast among those with a block, or among all when none has one) and the
    ``k`` others with the smallest blocks (those without one first). Networks that did not train
    are left out, unless fewer than ``2 k`` did."""
    trained = [r for r in runs if r.trained]
    runs = trained if len(trained) >= 2 * k else runs  # too few trained: their lines say so
    present = [r for r in runs if r.block.present] or runs
    with_block = sorted(present, key=lambda r: -r.block.contrast)[:k]
    others = [r for r in runs if r not in with_block]
    return with_block, sorted(
        others, key=lambda r: (r.block.present, r.block.extent, r.block.score)
    )[:k]


def wide_deep_pairs(depth_runs: list[Run], width_runs: list[Run]) -> list[tuple[Run, Run]]:
    """Fig. E.1's candidates, by rule: every pair of trained networks without a block of a *wide*
    network of the width series (not in the depth series) and a *deep* one of the depth series,
    the wide one wider and shallower than the deep one (the paper's roles, never inverted),
    closest in test accuracy first."""
    plain = [r for r in distinct([depth_runs, width_runs]) if r.trained and not r.block.present]
    width_only = {r.config for r in width_runs} - {r.config for r in depth_runs}
    pairs = [
        (wide, deep)
        for wide in plain
        for deep in plain
        if wide.config in width_only
        and deep.config not in width_only
        and wide.config.width > deep.config.width
        and deep.config.depth > wide.config.depth
    ]
    return sorted(pairs, key=lambda p: abs(p[0].results.accuracy - p[1].results.accuracy))


def series(runs: list[Run], by: Callable[[TrainConfig], object]) -> dict[str, list[Run]]:
    """Runs grouped into named series: the runs sharing ``by(config)``, e.g. the architecture."""
    groups: dict[str, list[Run]] = defaultdict(list)
    for r in runs:
        groups[str(by(r.config))].append(r)
    return dict(groups)


def points(
    runs: list[Run], knob: Callable[[TrainConfig], float], *, late: bool = False
) -> tuple[list[float], list[float]]:
    """(knob values, block extents) of the trained networks of ``runs``: one series of a trend
    verdict (a network that did not train measures nothing and is left out). ``late``: only a
    block that begins in the last two stages counts (:attr:`Run.begins_late`, the paper's
    block, Figs. 1 and D.1); an earlier one counts as extent 0."""
    kept = [r for r in runs if r.trained]
    extents = [r.block.extent if r.begins_late or not late else 0.0 for r in kept]
    return [knob(r.config) for r in kept], extents


def largest(runs: Sequence[Run]) -> list[Run]:
    """The largest architecture of a series that trained (depth x width², every seed and data
    fraction): the networks whose fit decides whether a claim about capacity can be tested on
    the series. A network that did not train decides nothing, as in
    :attr:`ckatools.book.regime.Regime.largest`, the build's reading of the same rule."""
    trained = [r for r in runs if r.trained]
    size = {r.config: architecture_size(r.config.depth, r.config.width) for r in trained}
    top = max(size.values(), default=None)
    return [r for r in trained if size[r.config] == top]


def judged(verdict: Verdict, *series: Sequence[Run]) -> Verdict:
    """``verdict`` in its regime (:func:`ckatools.analysis.verdicts.in_regime`), decided by the
    fit of the largest networks of each of ``series``.

    The rule every chapter follows: ``series`` are the networks the verdict's numbers were
    computed from, one argument per row of the figure. A trend passes its whole series (Fig. 1:
    the depth and the width series); a figure computed on a few chosen networks (Figs. 4 and 5)
    passes those, so its gate is their fit and not that of a larger network it never looked at."""
    deciding = {
        f"{r.config.label} {fraction_label(r.config.fraction)} s{r.config.seed}": (
            r.results.train_accuracy
        )
        for runs in series
        for r in largest(runs)
    }
    return in_regime(verdict, deciding)


def presence_of(figure: str, claim: str, runs: list[Run], *, late: bool = False) -> Verdict:
    """The presence verdict of ``figure``: does every network of ``runs`` have a block (with
    ``late``, one that begins in the last two stages: an earlier block is named as such)?"""
    if not runs:
        return not_run(figure, "this profile trains no networks for it")
    return presence_verdict(
        figure,
        claim,
        {
            f"{r.config.label} s{r.config.seed}": (
                (r.begins_late if late else r.block.present) if r.trained else None
            )
            for r in runs
        },
        missing="no block in the last two stages" if late else "no block",
    )


def snapshots(config: TrainConfig, epochs: Sequence[int]) -> tuple[TrainConfig, dict]:
    """Chapter 10's snapshots of one more training run of ``config`` after each of ``epochs``
    (:func:`ckatools.training.zoo.snapshots`), in the precision the network of ``config`` was
    trained in, except bfloat16 on a CPU where it is emulated (about 10x slower): there the run
    is float32, unless every snapshot is cached already (partial bfloat16 snapshots are then
    left unused). Returns the configuration the run used and {epoch: network}."""
    if config.bf16_cpu and not bfloat16_native() and not zoo.has_snapshots(config, epochs):
        config = config.replace(bf16_cpu=False)
    return config, zoo.snapshots(config, epochs)


def precision(config: TrainConfig) -> str:
    """How the network of ``config`` trains on this machine's device, in a few words."""
    return trained_precision(config, zoo.default_device().type)


def groups(exp: Experiment, progress: bool = True) -> dict[str, Group]:
    """Train or fetch every network of ``exp`` and gather each architecture's seeds into a
    :class:`Group` of test-set correctness (no extra pass: the zoo keeps it with the network).
    Seeds trained in different precisions (:func:`~ckatools.book.profiles.precision_here`) stay
    in one group."""
    found: dict[TrainConfig, list] = defaultdict(list)
    for config, _, results in _networks(exp, progress):
        found[config.replace(seed=0, bf16_cpu=False)].append((config, results))
    made = [
        Group(
            label=config.label,
            seeds=tuple(c.seed for c, _ in members),
            correct=np.stack([r.correct.numpy() for _, r in members]),
            train_accuracy=np.array([r.train_accuracy for _, r in members]),
            depth=config.depth,
            width=config.width,
            configs=tuple(c for c, _ in members),
            devices=tuple(r.device for _, r in members),
            train_size=members[0][1].train_size,
        )
        for config, members in found.items()
    ]
    return {g.name: g for g in made}


def group_provenance(exp: Experiment, found: list[Group]) -> str:
    """Where a comparison of groups comes from: the profile, the data, the training, and each
    group's size and accuracies (mean ± SD over its networks, and the range of the training
    accuracy of those that trained: the lowest decides whether a group fits its data), wrapped
    to the text column, in the form :func:`ckatools.book.regime.read` reads back. The precision
    is that of all of ``found``'s networks (groups of other experiments included)."""
    networks = [n for g in found for n in zip(g.configs, g.devices or [None] * len(g.configs))]
    networks = networks or [(c, None) for c in training_configs(exp)]
    config = networks[0][0]
    sizes = {g.train_size for g in found if g.train_size}
    images = f" ({sizes.pop():,} images)" if len(sizes) == 1 else ""

    def accuracy(g: Group) -> str:
        trained = g.trained().train_accuracy
        span = f"{trained.min():.1%}-{trained.max():.1%}" if len(trained) else "none"

        def spread(values: np.ndarray) -> str:  # mean ± SD; one network has no SD
            sd = f" ± {values.std(ddof=1):.1%}" if len(values) > 1 else ""
            return f"{values.mean():.1%}{sd}"

        return (
            f"{g.name} ({len(g)} network{'s' * (len(g) > 1)}): train "
            f"{spread(g.train_accuracy)} (trained: {span}), test {spread(g.accuracy)}"
        )

    failed = "; ".join(
        f"{g.label} seeds {', '.join(map(str, g.untrained))}" for g in found if g.untrained
    )
    lines = [
        f"Provenance: {exp.profile} profile; {config.dataset}, class-balanced training set "
        f"{fraction_label(config.fraction)}{images}",
        f"{config.epochs} epochs, learning rate {config.lr}" + _recipe(networks),
        f"Accuracy (train, unaugmented; test): {'; '.join(map(accuracy, found))}",
        f"Did not train (training accuracy under {TRAINED_ACCURACY:.0%}): {failed}"
        if failed
        else "Every network trained",
    ]
    return "\n".join(textwrap.fill(line, CAPTION_WIDTH, subsequent_indent="  ") for line in lines)
