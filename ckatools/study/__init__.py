"""The Fashion-MNIST study: what it takes to see the block structure at CPU scale.

The protocol is ``protocol.md`` beside this file (``PROTOCOL``, printed by
``python -m ckatools.study protocol``); each stage was committed before any of its networks was
trained. :mod:`~ckatools.study.stages` lists what each stage trains,
:mod:`~ckatools.study.records` measures each network once into a small ``.npz`` in
``results/`` (shipped with the package, so the book shows the study without retraining) and
reads it back as a typed record, and :mod:`~ckatools.study.rules` holds the rules that decided
each stage. Training goes through the zoo, so an interrupted run resumes.

    python -m ckatools.study run [--stages 1 2]   # trains and measures what is missing
    python -m ckatools.study table                # per-network results and the trend statistics
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ckatools.analysis.verdicts import FIT
from ckatools.study import records
from ckatools.study import stages as stage_table
from ckatools.study.records import (
    Label,
    Measured,
    Span,
    labels,
    load_results,
    measure_network,
)
from ckatools.study.rules import (
    COLAB_REPLACED,
    _regime,
    agreement,
    choose,
    choose_dataset,
    colab_regime,
    dataset_reading,
    dataset_table,
    less_data,
    mean_off_diagonal,
    pilot_decisions,
    series_scores,
    span_agreement,
    stage5_items,
    stage5_trends,
    stage6_decisions,
    stage7_fig1,
    stage7_networks,
    stage7_trends,
    trend_sentence,
    trends,
)
from ckatools.study.stages import (
    PILOT_SEEDS,
    SEEDS,
    STAGE6_FRACTIONS,
    STAGE6_STEPS,
    STAGE7_DEPTHS,
    STAGE7_WIDTHS,
    STUDY_ARCHITECTURES,
    STUDY_RECIPE,
    stage6_regimes,
)
from ckatools.training import TrainConfig

__all__ = [
    "COLAB_REPLACED",
    "PROTOCOL",
    "PILOT_SEEDS",
    "SEEDS",
    "STAGE6_FRACTIONS",
    "STAGE6_STEPS",
    "STUDY_ARCHITECTURES",
    "STUDY_RECIPE",
    "Label",
    "Measured",
    "Span",
    "agreement",
    "choose",
    "choose_dataset",
    "colab_regime",
    "configs",
    "dataset_reading",
    "dataset_table",
    "labels",
    "less_data",
    "load_results",
    "mean_off_diagonal",
    "measure_network",
    "of_stages",
    "pilot_decisions",
    "run",
    "series_scores",
    "span_agreement",
    "stage5_items",
    "stage5_trends",
    "stage6_decisions",
    "stage6_regimes",
    "stage7_plan",
    "stage7_progress",
    "stage7_fig1",
    "stage7_networks",
    "stage7_trends",
    "trend_sentence",
    "trends",
]

PROTOCOL = Path(__file__).with_name("protocol.md").read_text()  # committed before the runs


def stage7_plan() -> list[tuple[dict, tuple, tuple]]:
    """Stage 7's series, in the regime and on the base depth that stage 6's rules chose from the
    committed results (empty until both are chosen). Each seed's networks go cheapest first
    (:func:`ckatools.training.cost.cpu_seconds`), so that an interrupted run has measured as
    many networks as its time allowed; the order changes no network."""
    from ckatools.training.cost import cpu_seconds

    decided = stage6_decisions(load_results("fashion-mnist-m"))
    regime, base = decided["regime"], decided["base"]
    if regime is None or base is None:
        return []
    wanted = [(base, w) for w in STAGE7_WIDTHS] + [(d, 1) for d in STAGE7_DEPTHS]
    cost = lambda arch: cpu_seconds(TrainConfig(**regime, depth=arch[0], width=arch[1]))
    return [(regime, tuple(sorted(dict.fromkeys(wanted), key=cost)), SEEDS)]


def stage7_progress() -> list[tuple[TrainConfig, Measured | None]]:
    """Each network of stage 7's plan, in training order, with its record once measured."""
    measured = {i.config: i for i in load_results("fashion-mnist-m")}
    return [(config, measured.get(config)) for config in configs((7,))]


def configs(stages=(1, 2, 3)) -> list[TrainConfig]:
    """Every network of the given stages, in the order the driver trains them."""
    found = []
    for stage in stages:
        for regime, architectures, seeds in (
            stage7_plan() if stage == 7 else stage_table.STAGES[stage]
        ):
            for seed in seeds:  # all architectures of seed 0 first: a trend is visible early
                for depth, width in architectures:
                    found.append(TrainConfig(**regime, depth=depth, width=width, seed=seed))
    return list(dict.fromkeys(found))


def run(stages=(1, 2, 3), *, jobs: int = 1, minutes: float | None = None) -> None:
    """Measure every network of ``stages`` that has no result file yet (resumable at any point).

    With ``jobs`` > 1, that many worker processes measure networks at once, in the stages'
    order (on a GPU, several small networks share it). With ``minutes``, no network is started
    after that many minutes; those running finish.
    """
    import time
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    from tqdm.auto import tqdm

    todo = [c for c in configs(stages) if not records.result_path(c).exists()]
    print(f"{len(configs(stages)) - len(todo)} networks measured, {len(todo)} to go")
    deadline = None if minutes is None else time.monotonic() + 60 * minutes
    late = lambda: deadline is not None and time.monotonic() > deadline
    bar = tqdm(total=len(todo), desc="study", unit="net")
    if jobs == 1:
        for config in todo:
            if late():
                break
            records.measure_network(config)
            bar.update()
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            queue, pending = list(todo), set()
            while queue or pending:
                while queue and len(pending) < jobs and not late():
                    pending.add(pool.submit(records.measure_network, queue.pop(0)))
                if not pending:
                    break
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()  # a failure stops the run, naming its network
                    bar.update()
    bar.close()


def of_stages(items: list[Measured], stages=(1, 2, 3)) -> list[Measured]:
    """The results of ``items`` that belong to the given stages (stage 5 shares a regime with
    stage 2 but not its recipe, so their networks must not be pooled)."""
    wanted = set(configs(stages))
    return [i for i in items if i.config in wanted]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ckatools.study", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "command", choices=("run", "table", "protocol", "stage5", "stage6", "stage7")
    )
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--jobs", type=int, default=1, help="networks measured at once")
    parser.add_argument("--minutes", type=float, help="start no network after this many minutes")
    args = parser.parse_args(argv)
    if args.command == "protocol":
        print(PROTOCOL)
    elif args.command == "run":
        run(args.stages, jobs=args.jobs, minutes=args.minutes)
    elif args.command == "stage6":
        decisions = stage6_decisions(load_results("fashion-mnist-m"))
        for row in decisions["searched"]:
            print(row)
        print(
            f"regime: {decisions['regime']}; base depth: {decisions['base']}"
            + ("" if decisions["complete"] else " (pilot incomplete: the search stopped)")
        )
        if decisions["base_missing"]:
            print("the base rule waits for: " + ", ".join(decisions["base_missing"]))
    elif args.command == "stage7":
        progress = stage7_progress()
        for config, item in progress:
            found = "not measured yet"
            if item is not None:  # no block: seeds 1 and 2 are labelled by eye before it is run
                fits = "fits" if item.results.train_accuracy >= FIT else "-"
                test = item.results.accuracy
                found = f"train {item.results.train_accuracy:.3f} ({fits}), test {test:.3f}"
            print(f"{config.label:>15}, seed {config.seed}: {found}")
        done = sum(item is not None for _, item in progress)
        table = stage7_trends(progress)
        if table is None:
            print(f"{done} of {len(progress)} measured; its trends are computed once all are")
        else:
            print(table.to_string())
    elif args.command == "stage5":
        items = stage5_items("fashion-mnist-m") + stage5_items("fashion-mnist")
        table = stage5_trends(items)
        print(table.to_string(index=False))
        print(
            f"{len(items)} of {len(configs((5,)))} networks measured; the rule picks: "
            f"{choose_dataset(table)}"
        )
    else:
        import pandas as pd

        items = of_stages(load_results())
        rows = [
            dict(
                network=i.config.label,
                regime=_regime(i.config),
                seed=i.config.seed,
                train=round(i.results.train_accuracy, 3),
                test=round(i.results.accuracy, 3),
                score=round(i.relative.score, 2),
                contrast=round(i.relative.contrast, 2),
                strict=round(i.strict.score, 2),
            )
            for i in items
        ]
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(pd.DataFrame(rows).to_string(index=False))
            table = trends(items)
            print(table.to_string(index=False))
            data = less_data(items)
            if not data.empty:
                print(data.to_string(index=False))
        print(f"regime chosen by the protocol's rule: {choose(table)}")


if __name__ == "__main__":
    main()
