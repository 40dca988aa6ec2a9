"""Training many networks: ``zoo.prepare`` with several jobs against one job at a time.

The same networks (one architecture, several seeds) trained into two empty caches: once one at a
time with every CPU thread, once ``--jobs`` at a time, each job in its own process with its share
of the threads. Wall time includes the workers' start-up.

    python benchmarks/bench_prepare.py [--networks 4] [--epochs 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from timing import offline_dataset

from ckatools.training import TrainConfig, zoo

ARCHITECTURES = ((38, 0.25), (8, 0.5), (14, 1))  # deep and narrow, shallow, wide


def wall_time(configs: list[TrainConfig], jobs: int) -> float:
    """Seconds to train ``configs`` into an empty cache with ``jobs`` jobs."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CKATOOLS_CACHE"] = folder
        start = time.perf_counter()
        zoo.prepare(configs, device="cpu", jobs=jobs, progress=False)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    dataset = offline_dataset()
    print(f"{args.networks} networks of each architecture, {args.epochs} epochs, {dataset} 1/16, ")
    print(f"{torch.get_num_threads()} CPU threads\n")
    print(f"| architecture | 1 job, s | {args.jobs} jobs, s | speed-up |")
    print("|---|---|---|---|")
    for depth, width in ARCHITECTURES:
        base = TrainConfig(
            dataset=dataset, fraction=1 / 16, depth=depth, width=width, epochs=args.epochs, lr=0.05
        )
        configs = [base.replace(seed=s) for s in range(args.networks)]
        one, many = wall_time(configs, 1), wall_time(configs, args.jobs)
        print(f"| {base.label} | {one:.1f} | {many:.1f} | {one / many:.2f}x |")


if __name__ == "__main__":
    main()
