"""Heatmaps to label by eye, blind: the study's unlabelled networks, with nothing but the map.

    python tools/label_sheet.py OUT [--stage 7] [--dataset fashion-mnist-m] [--seeds 1 2]
        [--sample N]

Each unlabelled result file of ``--dataset`` (of one ``--stage`` of the study and the given seeds;
a random ``--sample`` of them)
is drawn as the book draws a heatmap (the 0-1 colour scale, stage lines, layer ticks) but with
no title, no architecture and no block measure, as ``OUT/<random id>.png``; ``OUT/key.csv`` maps
the ids to result files for whoever copies the labels into ``ckatools/study/results/labels.csv``
(block with its first and last representation / no block / unsure). The labels are committed
before the block measure (``ckatools.analysis.blocks.measure``) is run on those networks, so
that they check it blind (issue 27). Nothing here computes a block.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ckatools import page, study  # noqa: E402
from ckatools.capture import CKAResult  # noqa: E402
from ckatools.models import resnet  # noqa: E402
from ckatools.plot import heatmap  # noqa: E402
from ckatools.study.records import labels, load_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--dataset", default="fashion-mnist-m")
    parser.add_argument("--stage", type=int, help="only this stage's networks")
    parser.add_argument("--seeds", type=int, nargs="*", help="only these seeds")
    parser.add_argument("--sample", type=int, help="a random sample of this many")
    args = parser.parse_args()
    done = {label.result for label in labels()}
    stage = set(study.configs((args.stage,))) if args.stage is not None else None
    todo = [
        item
        for item in load_results(args.dataset)
        if item.file not in done
        and (args.seeds is None or item.config.seed in args.seeds)
        and (stage is None or item.config in stage)
    ]
    rng = random.Random(0)
    if args.sample is not None:
        todo = rng.sample(todo, min(args.sample, len(todo)))
    rng.shuffle(todo)  # the order says nothing either
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "key.csv", "w", newline="") as file:
        key = csv.writer(file)
        key.writerow(["id", "dataset", "result", "representations"])
        for n, item in enumerate(todo):
            c = item.config
            layers = resnet(c.depth, c.width, residual=c.residual).representations()
            ax = heatmap(CKAResult(torch.as_tensor(item.cka), layers, layers))
            name = f"map{n:02d}"
            page.save(ax.figure, args.out / f"{name}.png")
            plt.close(ax.figure)
            key.writerow([name, args.dataset, item.file, len(layers)])
    print(f"{len(todo)} heatmaps in {args.out} (key.csv maps their ids to result files)")


if __name__ == "__main__":
    main()
