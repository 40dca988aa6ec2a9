"""Training many networks: ``zoo.prepare`` one at a time, with several jobs, and with the seeds of
an architecture stacked into one network (``stack=K``), each into an empty cache.

The same networks (one architecture, several seeds; bf16 autocast and channels-last on a CPU
with native bfloat16, as in the study's recipe, float32 on one without, as the book's profiles
train there) are trained once per way; wall time includes the workers' start-up and each
network's evaluation. Each way is also given as GFLOP/s of training (3 x the forward pass's
multiply-adds x 2 FLOP, per image and epoch) against the machine's matrix-multiply rate in that
precision, measured first: the limit.

    python benchmarks/bench_prepare.py [--networks 8] [--epochs 1] [--fraction 0.0625]
        [--depths 8 38] [--dataset synthetic]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from timing import best_of, offline_dataset

from ckatools.data import TRAIN_SIZES
from ckatools.training import TrainConfig, cpu_has_bf16, zoo
from ckatools.training.cost import forward_macs

ARCHITECTURES = ((8, 0.5), (38, 0.25), (14, 1), (20, 2))  # shallow, deep and narrow, wide, wider
WAYS = (  # (label, jobs, stack)
    ("one at a time", 1, 1),
    ("2 jobs", 2, 1),
    ("stack 4", 1, 4),
    ("stack 8", 1, 8),
    ("2 jobs x stack 4", 2, 4),
)


def matmul_limit(dtype: torch.dtype, n: int = 2048) -> float:
    """GFLOP/s of an n x n matrix multiply in ``dtype`` with every thread: the rate training
    cannot beat."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    seconds, _ = best_of(5, torch.mm, a, b)
    return 2 * n**3 / seconds / 1e9


def wall_time(configs: list[TrainConfig], jobs: int, stack: int) -> float:
    """Seconds to train ``configs`` into an empty cache."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CKATOOLS_CACHE"] = folder
        start = time.perf_counter()
        zoo.prepare(configs, device="cpu", jobs=jobs, stack=stack, progress=False)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--fraction", type=float, default=1 / 16)
    parser.add_argument("--depths", type=int, nargs="*", help="only these architectures' depths")
    parser.add_argument("--dataset", default=offline_dataset())
    args = parser.parse_args()
    dataset = args.dataset
    bf16 = cpu_has_bf16()
    precision = "bf16" if bf16 else "float32"
    limit = matmul_limit(torch.bfloat16 if bf16 else torch.float32)
    print(
        f"{args.networks} seeds of each architecture, {args.epochs} epoch(s) of {dataset} "
        f"{args.fraction:g}, {precision} (native bfloat16: {bf16}); "
        f"{torch.get_num_threads()} CPU threads; "
        f"{precision} matrix-multiply limit {limit:.0f} GFLOP/s\n"
    )
    print("| architecture | " + " | ".join(f"{w[0]}, s (x, GFLOP/s)" for w in WAYS) + " |")
    print("|---" * (len(WAYS) + 1) + "|")
    for depth, width in ARCHITECTURES:
        if args.depths and depth not in args.depths:
            continue
        base = TrainConfig(
            dataset=dataset,
            fraction=args.fraction,
            depth=depth,
            width=width,
            epochs=args.epochs,
            lr=0.05,
            bf16_cpu=bf16,
        )
        configs = [base.replace(seed=s) for s in range(args.networks)]
        images = TRAIN_SIZES[dataset] * args.fraction * args.epochs * args.networks
        flops = 3 * 2 * forward_macs(depth, width, True, dataset) * images
        times = [wall_time(configs, jobs, stack) for _, jobs, stack in WAYS]
        cells = [f"{t:.1f} ({times[0] / t:.2f}x, {flops / t / 1e9:.0f})" for t in times]
        print(f"| {base.label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
