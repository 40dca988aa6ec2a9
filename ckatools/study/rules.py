"""The rules that decided the study, as the protocol states them: trend statistics and the
regime rule (stages 1-3), the pilot's rules (stage 4), the dataset rule (stage 5), the regime and
base-depth rules (stage 6); and the block measure's agreement with the labelled heatmaps."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

import numpy as np

from ckatools.analysis.blocks import MIN_BLOCK_FRACTION, Block
from ckatools.analysis.verdicts import FIT, Verdict
from ckatools.data import TRAIN_SIZES
from ckatools.page import COLUMN_CHARS
from ckatools.stats import rho_interval, spearman
from ckatools.study.records import Label, Measured, labels, load_results
from ckatools.study.stages import (
    PILOT_SEEDS,
    SEEDS,
    STAGE6_BASES,
    STAGE6_DEEPEST,
    STUDY_RECIPE,
    stage6_regimes,
)
from ckatools.training import TrainConfig, fraction_label

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "agreement",
    "span_agreement",
    "pilot_decisions",
    "series_scores",
    "trends",
    "choose",
    "stage5_items",
    "stage5_trends",
    "stage7_trends",
    "stage7_fig1",
    "mean_off_diagonal",
    "dataset_table",
    "dataset_reading",
    "trend_sentence",
    "choose_dataset",
    "stage6_decisions",
    "COLAB_REPLACED",
    "colab_regime",
    "less_data",
]


def _labelled_measures() -> list[tuple[Label, Block, Measured]]:
    """Each labelled heatmap's label, what the block measure says of it, and its network."""
    rows = labels()
    found = {
        item.file: item for dataset in {r.dataset for r in rows} for item in load_results(dataset)
    }
    return [(row, found[row.result].block, found[row.result]) for row in rows]


def agreement(among=None) -> pd.DataFrame:
    """The confusion table of the block measure (:func:`~ckatools.analysis.blocks.measure`)
    against the labels: one row per label, the heatmaps the measure calls 'block' and 'no block'.
    ``among``: only the networks whose configuration is in it (e.g. one stage's), else all."""
    import pandas as pd

    table = pd.DataFrame(0, index=["block", "no block", "unsure"], columns=["block", "no block"])
    for row, block, item in _labelled_measures():
        if among is not None and item.config not in among:
            continue
        table.loc[row.label, "block" if block.present else "no block"] += 1
    table.index.name, table.columns.name = "labelled", "measure says"
    return table


def span_agreement() -> pd.DataFrame:
    """For every heatmap labelled 'block': the labelled span, the measure's span when it finds a
    block, and their overlap (intersection over union of the two runs of representations)."""
    import pandas as pd

    rows = []
    for row, block, item in _labelled_measures():
        if row.label != "block":
            continue
        found = (block.start, block.end) if block.present else None
        overlap = 0.0
        if found:
            inter = max(0, min(row.end, block.end) - max(row.start, block.start) + 1)
            union = max(row.end, block.end) - min(row.start, block.start) + 1
            overlap = inter / union
        rows.append(
            dict(
                dataset=row.dataset,
                network=f"{item.config.label}, {fraction_label(item.config.fraction)}, "
                f"{item.config.epochs} epochs"
                + (", warm-up" if item.config.warmup_epochs else "")
                + (", bf16" if item.config.bf16_cpu else "")
                + f", seed {item.config.seed}",
                labelled=f"{row.start}-{row.end}",
                measured=f"{found[0]}-{found[1]}" if found else "no block",
                overlap=round(overlap, 2),
            )
        )
    return pd.DataFrame(rows).set_index(["dataset", "network"])


def pilot_decisions(items: list[Measured]) -> dict:
    """Stage 4's two rules applied to the pilot's results: the warm-up and the precision that
    stage 5 trains with, and the numbers that decided them."""

    def find(depth, width, seed, warmup, fast):
        (item,) = [
            i
            for i in items
            if (i.config.depth, i.config.width, i.config.seed) == (depth, width, seed)
            and i.config.warmup_epochs == warmup
            and i.config.bf16_cpu == fast
        ]
        return item

    pairs = [(find(44, 0.5, 100, 0, False), find(44, 0.5, 100, 2, False))]
    pairs.append((find(56, 1, 100, 0, True), find(56, 1, 100, 2, True)))
    rescued = any(not cold.trained and warm.trained for cold, warm in pairs)
    better = all(warm.results.accuracy > cold.results.accuracy for cold, warm in pairs)
    precision = [
        (find(d, 1, s, 2, False), find(d, 1, s, 2, True)) for d in (8, 14) for s in PILOT_SEEDS
    ]
    difference = float(np.mean([f.results.accuracy - p.results.accuracy for p, f in precision]))
    noise = max(
        abs(find(d, 1, 100, 2, False).results.accuracy - find(d, 1, 101, 2, False).results.accuracy)
        for d in (8, 14)
    )
    return dict(
        warmup_epochs=2 if rescued or better else 0,
        warmup_pairs=[
            (
                c.config.label,
                c.results.train_accuracy,
                c.results.accuracy,
                w.results.train_accuracy,
                w.results.accuracy,
            )
            for c, w in pairs
        ],
        bf16_cpu=abs(difference) <= noise,
        bf16_difference=difference,
        seed_noise=noise,
    )


def _regime(config: TrainConfig) -> str:
    return f"{fraction_label(config.fraction)} data, {config.epochs} epochs"


def series_scores(items: list[Measured], regime: str, series: str):
    """The networks of one series ("width": ResNet-14; "depth": x0.5) in one regime, its knob's
    levels and the block scores of every seed at each level."""
    fixed, anchor = ("depth", 14) if series == "width" else ("width", 0.5)
    found = [i for i in items if _regime(i.config) == regime and getattr(i.config, fixed) == anchor]
    levels = sorted({getattr(i.config, series) for i in found})
    by_level = [[i.relative.score for i in found if getattr(i.config, series) == x] for x in levels]
    return found, levels, by_level


def trends(items: list[Measured], *, seed: int = 0):
    """One row per (regime, series): scores per level, Spearman's rho and interval, separation."""
    import pandas as pd

    rows = []
    for regime in sorted({_regime(i.config) for i in items}):
        for name in ("width", "depth"):
            series, levels, by_level = series_scores(items, regime, name)
            if len(levels) < 2:
                continue
            xs = [x for x, ys in zip(levels, by_level) for _ in ys]
            rho = spearman(xs, [y for ys in by_level for y in ys])
            low, high = rho_interval(xs, [y for ys in by_level for y in ys], seed=seed)
            spread = max(np.std(by_level[0]), np.std(by_level[-1]))
            gap = np.mean(by_level[-1]) - np.mean(by_level[0])
            rows.append(
                dict(
                    regime=regime,
                    series=name,
                    networks=len(xs),
                    levels=len(levels),
                    scores=", ".join(
                        f"{x:g}: {np.mean(ys):.2f}±{np.std(ys):.2f}"
                        for x, ys in zip(levels, by_level)
                    ),
                    rho=round(rho, 2),
                    rho_low=round(low, 2),
                    rho_high=round(high, 2),
                    separation=round(gap / spread, 1) if spread > 0 else np.inf * np.sign(gap),
                    with_block=sum(s >= MIN_BLOCK_FRACTION for ys in by_level for s in ys),
                    cost=round(sum(_cost(i.config) for i in series), 2),
                    fitted=sum(i.results.train_accuracy >= FIT for i in series),
                )
            )
    return pd.DataFrame(rows)


def _cost(config: TrainConfig) -> float:
    """The amendment's deterministic training cost: epochs x training images x parameters, in
    units of a pass over all 60,000 Fashion-MNIST images by a million parameters.
    """
    from ckatools.models import parameter_count

    return config.epochs * config.fraction * parameter_count(config.depth, config.width) / 1e6


def choose(table) -> str | None:
    """The regime the protocol's rule picks from :func:`trends`' table (None: keep the profile).

    Only complete regimes (a width and a depth series of at least 3 levels) take part.
    """
    if table.empty:
        return None
    table = table[table.levels >= 3]
    complete = table.groupby("regime").series.nunique() == 2
    table = table[table.regime.isin(complete[complete].index)]
    if table.empty:
        return None
    table = table.assign(shows=(table.rho >= 0.5) & (table.separation > 2))
    per_regime = table.groupby("regime").agg(
        shows=("shows", "sum"), both=("shows", "all"), rho=("rho", "mean"), cost=("cost", "sum")
    )
    if per_regime.shows.max() == 0:
        return None
    both = per_regime[per_regime.both]
    if len(both):
        return both.cost.idxmin()
    return per_regime.sort_values(["shows", "rho"], ascending=False).index[0]


def stage5_items(dataset: str) -> list[Measured]:
    """Stage 5's measured networks of ``dataset`` (its recipe, the study's seeds)."""
    return [
        i
        for i in load_results(dataset)
        if i.config.seed in SEEDS
        and all(getattr(i.config, k) == v for k, v in STUDY_RECIPE.items())
    ]


def _trend_row(members: list, series: str, seed: int) -> dict:
    """One series' statistics, as the protocol fixes them for stages 5 and 7: Spearman's rho
    between the knob and the presence-weighted block size (the measure's score where it finds a
    block, else 0) over the trained networks, its 95 % bootstrap interval, and the outcome:
    'shows' (interval above zero), 'against' (below) or 'inconclusive'. Untrained networks are
    counted and left out. ``members``: records or runs (``config``, ``trained``, ``block``)."""
    good = [i for i in members if i.trained]
    blocks = [i.block for i in good]
    xs = [getattr(i.config, series) for i in good]
    ys = [b.extent for b in blocks]
    rho = spearman(xs, ys) if good else float("nan")
    low, high = rho_interval(xs, ys, seed=seed) if good else (np.nan, np.nan)
    outcome = "shows" if low > 0 else "against" if high < 0 else "inconclusive"
    return dict(
        series=series,
        networks=len(members),
        untrained=len(members) - len(good),
        levels=len(set(xs)),
        with_block=sum(b.present for b in blocks),
        rho=round(rho, 2),
        rho_low=round(low, 2),
        rho_high=round(high, 2),
        outcome=outcome,
    )


def _series(items: list, width_base: int) -> dict[str, list]:
    """The width series (``width_base`` at every width) and the depth series (every depth at
    x1) among ``items`` (records or runs: anything with a ``config``)."""
    return {
        "width": [i for i in items if i.config.depth == width_base],
        "depth": [i for i in items if i.config.width == 1],
    }


def stage5_trends(items: list[Measured], *, seed: int = 0) -> pd.DataFrame:
    """Stage 5's statistics per dataset and series (:func:`_trend_row`; the width series on
    ResNet-14)."""
    import pandas as pd

    rows = []
    for dataset in sorted({i.config.dataset for i in items}):
        mine = [i for i in items if i.config.dataset == dataset]
        for series, members in _series(mine, 14).items():
            rows.append(dict(dataset=dataset, **_trend_row(members, series, seed)))
    return pd.DataFrame(rows)


def _stage7_series(progress: list[tuple[TrainConfig, Measured | None]]) -> dict | None:
    """Stage 7's width and depth series (:func:`_series`) as chapter runs
    (:func:`~ckatools.study.records.as_run`), once every network of its plan is measured; None
    before. The width series' base is the depth its widths other than x1 share."""
    from ckatools.study.records import as_run

    if not progress or any(item is None for _, item in progress):
        return None
    (base,) = {c.depth for c, _ in progress if c.width != 1}
    return _series([as_run(item) for _, item in progress], base)


def stage7_trends(
    progress: list[tuple[TrainConfig, Measured | None]], *, seed: int = 0
) -> pd.DataFrame | None:
    """Stage 7's statistics per series once every network of its plan is measured (None
    before): stage 5's (:func:`_trend_row`), plus how many networks fit their training set
    (>= 99 % unaugmented) and how many blocks begin in the last two stages, where the paper's
    block lies (reported beside the protocol's outcome, which counts every block).

    ``progress``: each network of the plan with its record or None
    (:func:`ckatools.study.stage7_progress`)."""
    import pandas as pd

    found = _stage7_series(progress)
    if found is None:
        return None
    rows = [
        dict(
            **_trend_row(runs, series, seed),
            fit=sum(r.results.train_accuracy >= FIT for r in runs),
            late=sum(r.begins_late for r in runs if r.trained),
        )
        for series, runs in found.items()
    ]
    return pd.DataFrame(rows).set_index("series")


def stage7_networks(progress: list[tuple[TrainConfig, Measured | None]]) -> pd.DataFrame:
    """Every network of stage 7's plan, one row each, in the plan's order: its training and
    test accuracy, its training time (and device, where its file records one), and the block
    the book's measure finds (``not measured yet`` for a network without a record).

    ``progress``: each network of the plan with its record or None
    (:func:`ckatools.study.stage7_progress`)."""
    import pandas as pd

    from ckatools.study.records import as_run

    rows = []
    for config, item in progress:
        row = dict(network=config.label, seed=config.seed)
        if item is None:
            rows.append(dict(row, block="not measured yet"))
            continue
        run, results = as_run(item), item.results
        rows.append(
            dict(
                row,
                **{
                    "train acc.": f"{results.train_accuracy:.1%}",
                    "test acc.": f"{results.accuracy:.1%}",
                    "training (min)": round(results.seconds / 60),
                    "device": results.device or "not recorded",
                    "block": run.verdict_word,
                    "span": f"{run.block.start}-{run.block.end}" if run.block.present else "",
                },
            )
        )
    table = pd.DataFrame(rows).set_index(["network", "seed"]).fillna("")
    if "device" in table and (table["device"].isin(["not recorded", ""])).all():
        table = table.drop(columns="device")  # stage 7's files predate the device field
    return table


def stage7_fig1(progress: list[tuple[TrainConfig, Measured | None]]) -> Verdict | None:
    """Fig. 1 judged on stage 7's networks by Chapter 3's own rule (None until every network is
    measured): :func:`~ckatools.analysis.verdicts.trend_verdict` over the depth and the width
    series' extents of the paper's block (one that begins in the last two stages; an earlier
    block counts as 0), gated on the fit of each series' largest networks
    (:func:`~ckatools.book.experiments.judged`). A second reading beside the protocol's
    (:func:`stage7_trends`, which counts any block), with the rule the chapters use."""
    from ckatools.analysis.verdicts import trend_verdict
    from ckatools.book.experiments import judged, points

    found = _stage7_series(progress)
    if found is None:
        return None
    width, depth = found["width"], found["depth"]
    verdict = trend_verdict(
        "Fig. 1",
        "depth and width (stage 7)",
        {
            "depth": points(depth, lambda c: c.depth, late=True),
            "width": points(width, lambda c: c.width, late=True),
        },
    )
    return judged(verdict, depth, width)


def mean_off_diagonal(matrix: np.ndarray) -> float:
    """Mean CKA between different representations: how alike a network's layers are overall."""
    m = np.asarray(matrix, dtype=float)
    return float(np.nanmean(m[~np.eye(len(m), dtype=bool)]))


def dataset_table(items: list[Measured]) -> pd.DataFrame:
    """Stage 5's datasets side by side: networks, how many trained, the median (and range) of
    the mean off-diagonal CKA, how many trained networks have a block by the measure, and the
    median training and test accuracy."""
    import pandas as pd

    rows = []
    for dataset in sorted({i.config.dataset for i in items}):
        members = [i for i in items if i.config.dataset == dataset]
        good = [i for i in members if i.trained]
        alike = [mean_off_diagonal(i.cka) for i in good]
        rows.append(
            {
                "dataset": dataset,
                "networks": len(members),
                "trained": len(good),
                "mean CKA (median)": round(float(np.median(alike)), 2) if alike else np.nan,
                "range": f"{min(alike):.2f}-{max(alike):.2f}" if alike else "",
                "with a block": sum(i.block.present for i in good),
                "train acc.": round(float(np.median([i.results.train_accuracy for i in good])), 3),
                "test acc.": round(float(np.median([i.results.accuracy for i in good])), 3),
            }
        )
    return pd.DataFrame(rows).set_index("dataset")


def trend_sentence(row) -> str:
    """One series' outcome in words, with its numbers: 'with width the block's extent falls,
    against the paper (Spearman -0.66, 95 % interval -0.97 to -0.45)'. ``row``: a row of
    :func:`stage5_trends` or :func:`stage7_trends` (``series`` as a column or as its name)."""
    words = {
        "shows": "rises, as in the paper",
        "against": "falls, against the paper",
        "inconclusive": "moves too little to tell",
    }
    series = getattr(row, "series", None) or row.name
    numbers = (
        f"Spearman {row.rho:+.2f}, 95 % interval {row.rho_low:+.2f} to {row.rho_high:+.2f}"
        if np.isfinite(row.rho_low)
        else "no interval: too few networks with a block"
    )
    return f"with {series} the block's extent {words[row.outcome]} ({numbers})"


def dataset_reading(datasets: pd.DataFrame, trends_table: pd.DataFrame) -> str:
    """What stage 5 found, in sentences chosen by its numbers (:func:`dataset_table` and
    :func:`stage5_trends`)."""
    lines = []
    for dataset, row in datasets.iterrows():
        series = trends_table[trends_table.dataset == dataset]
        moves = "; ".join(trend_sentence(r) for r in series.itertuples())
        lines.append(
            f"{dataset}: layers alike at a median mean CKA of {row['mean CKA (median)']:.2f}; "
            f"a block in {row['with a block']} of {row['trained']} trained networks; {moves}."
        )
    lines = [textwrap.fill(line, COLUMN_CHARS, subsequent_indent="  ") for line in lines]
    a, b = (
        datasets.loc[name, "mean CKA (median)"] for name in ("fashion-mnist", "fashion-mnist-m")
    )
    lines.append(
        "Photographed backgrounds make the layers "
        + ("less alike" if b < a else "no less alike")
        + f" than black ones ({b:.2f} against {a:.2f})."
    )
    return "\n".join(lines)


def choose_dataset(table: pd.DataFrame) -> str:
    """Stage 5's rule: the dataset with more series whose trend shows; a tie goes to the one with
    more trained networks with a block; a further tie to Fashion-MNIST-M."""
    per = table.groupby("dataset").agg(
        shows=("outcome", lambda o: int((o == "shows").sum())), blocks=("with_block", "sum")
    )
    per["prefer"] = [name == "fashion-mnist-m" for name in per.index]
    return per.sort_values(["shows", "blocks", "prefer"], ascending=False).index[0]


def stage6_decisions(items: list[Measured]) -> dict:
    """Stage 6's two rules applied to its pilot's results: the regime (the cheapest in which
    ResNet-56 x1 and ResNet-20 x4 fit for both pilot seeds; None if none does) and the base
    depth of the width series, with the training accuracies that decided them.

    A regime whose deciding networks are not all measured yet stops the search (its answer is
    unknown, so no costlier regime can be the cheapest that fits): ``complete`` is then False.
    The base rule is read shallowest candidate first and asks only for the networks its answer
    depends on (:func:`_base_depth`); until they are measured the base is None and
    ``base_missing`` names them.
    """

    def found(regime: dict, depth: int, width: float) -> list[Measured]:
        return [
            i
            for i in items
            if i.config.seed in PILOT_SEEDS
            and (i.config.depth, i.config.width) == (depth, width)
            and all(getattr(i.config, k) == v for k, v in regime.items())
        ]

    def fits(regime: dict, depth: int, width: float) -> bool | None:
        """Fits in both seeds; False as soon as one seed does not; None until known."""
        runs = found(regime, depth, width)
        if any(i.results.train_accuracy < FIT for i in runs):
            return False
        return True if {i.config.seed for i in runs} == set(PILOT_SEEDS) else None

    rows, chosen, complete = [], None, True
    for regime in stage6_regimes():
        deciding = [fits(regime, *STAGE6_DEEPEST), fits(regime, STAGE6_BASES[0], 4)]
        accuracies = {
            TrainConfig(**regime, depth=d, width=w).label: [
                round(i.results.train_accuracy, 4) for i in found(regime, d, w)
            ]
            for d, w in (STAGE6_DEEPEST, (STAGE6_BASES[0], 4))
        }
        rows.append(dict(regime=_regime(TrainConfig(**regime)), fits=deciding, **accuracies))
        if None in deciding:
            complete = False
            break
        if all(deciding):
            chosen = regime
            break
    base, missing = _base_depth(chosen, found, fits) if chosen is not None else (None, [])
    return dict(regime=chosen, base=base, complete=complete, searched=rows, base_missing=missing)


# The colab profile that the amendment of 2026-12-06 replaced: 15 epochs of CIFAR-10's 50,000
# training images. Its SGD steps per network are the budget of the colab profile's regime.
COLAB_REPLACED = dict(dataset="cifar10", fraction=1.0, epochs=15, batch_size=128)


def _sgd_steps(dataset: str, fraction: float, epochs: int, batch_size: int) -> int:
    """SGD steps of one network: ceil(training images / batch) an epoch."""
    return math.ceil(TRAIN_SIZES[dataset] * fraction / batch_size) * epochs


def colab_regime(regime: dict) -> dict:
    """The colab profile's regime by the rule of the amendment of 2026-12-06: stage 6's epochs
    (in which the pilot's largest networks first fitted; at equal steps, more epochs came
    closer), on the largest fraction 1/2^k of CIFAR-10 whose SGD steps per network stay
    within those of the profile it replaced (:data:`COLAB_REPLACED`).

    Args:
        regime: stage 6's chosen regime (:func:`stage6_decisions`), with its ``epochs``.

    Returns:
        dict(fraction, epochs, steps, budget): the regime, its steps per network and the budget.
    """
    budget = _sgd_steps(**COLAB_REPLACED)
    batch, epochs, fraction = COLAB_REPLACED["batch_size"], regime["epochs"], 1.0
    while _sgd_steps("cifar10", fraction, epochs, batch) > budget:
        fraction /= 2
    steps = _sgd_steps("cifar10", fraction, epochs, batch)
    return dict(fraction=fraction, epochs=epochs, steps=steps, budget=budget)


def _base_depth(regime: dict, found, fits) -> tuple[int | None, list[str]]:
    """The base rule in the chosen regime: the shallowest candidate whose x1 has no block in
    both seeds and whose x4 fits both; if none, the shallowest whose x4 fits.

    Read in order, it needs only the networks that can change its answer (amendment of
    2026-12-05): a candidate whose x1 shows a block in one seed, or whose x4 fails to fit in
    one seed, is out whatever its other networks show. The answer is the one the rule gives
    with every candidate measured; ``missing`` names the networks it needs next.
    """
    label = lambda depth, width: TrainConfig(**regime, depth=depth, width=width).label
    for depth in STAGE6_BASES:
        x1 = found(regime, depth, 1)
        block = True if any(i.block.present for i in x1) else None
        if block is None and {i.config.seed for i in x1} == set(PILOT_SEEDS):
            block = False
        fit = fits(regime, depth, 4)
        if block is False and fit:
            return depth, []
        if block or fit is False:
            continue  # out, whatever its other networks show
        missing = [label(depth, w) for w, known in ((1, block), (4, fit)) if known is None]
        return None, missing  # undecided: its networks come next
    for depth in STAGE6_BASES:  # none is plain: the shallowest whose x4 fits
        fit = fits(regime, depth, 4)
        if fit is None:
            return None, [label(depth, 4)]
        if fit:
            return depth, []
    return None, []


def less_data(items: list[Measured], *, width_levels=(0.5, 1)) -> pd.DataFrame:
    """The amendment's data question: ResNet-14's score on 1/64 and 1/16 (60 epochs) per width."""
    import pandas as pd

    rows = []
    for width in width_levels:
        scores = {
            f: [
                i.relative.score
                for i in items
                if i.config.depth == 14
                and i.config.width == width
                and i.config.epochs == 60
                and i.config.fraction == f
            ]
            for f in (1 / 64, 1 / 16)
        }
        if not all(scores.values()):
            continue
        small, large = (np.array(scores[f]) for f in (1 / 64, 1 / 16))
        spread = max(small.std(), large.std())
        rows.append(
            {
                "network": f"ResNet-14 ×{width:g}",
                "1/64 data": f"{small.mean():.2f}±{small.std():.2f}",
                "1/16 data": f"{large.mean():.2f}±{large.std():.2f}",
                "difference": round(small.mean() - large.mean(), 2),
                "holds": bool(small.mean() - large.mean() > spread),
            }
        )
    return pd.DataFrame(rows)
