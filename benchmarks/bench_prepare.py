"""Training many networks: ``zoo.prepare`` one at a time, with several jobs, and with the seeds of
an architecture stacked into one network (``stack=K``), each into an empty cache.

The same networks (one architecture, several seeds; bf16 autocast and channels-last on a CPU
with native bfloat16, as in the study's recipe, float32 on one without, as the book's profiles
train there; on a GPU its own autocast) are trained once per way on ``--device``; wall time
includes the workers' start-up and each network's evaluation. Each way is also given as GFLOP/s
of training (3 x the forward pass's multiply-adds x 2 FLOP, per image and epoch) against the
device's matrix-multiply rate in that precision, measured first: the limit. Stacks larger than
``--networks`` are left out (they would repeat a smaller one): stack 16 needs ``--networks 16``.

    python benchmarks/bench_prepare.py [--networks 8] [--epochs 1] [--fraction 0.0625]
        [--depths 8 38] [--dataset synthetic] [--device cpu]
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
from ckatools.training.loop import _half_dtype

ARCHITECTURES = ((8, 0.5), (38, 0.25), (14, 1), (20, 2))  # shallow, deep and narrow, wide, wider
WAYS = (  # (label, jobs, stack)
    ("one at a time", 1, 1),
    ("2 jobs", 2, 1),
    ("stack 4", 1, 4),
    ("stack 8", 1, 8),
    ("stack 16", 1, 16),
    ("2 jobs x stack 4", 2, 4),
)


def training_dtype(device: torch.device) -> torch.dtype:
    """The precision the networks train in on ``device``: a GPU's autocast type, bfloat16 on a
    CPU with native bfloat16 (``bf16_cpu``), float32 on other CPUs."""
    if device.type == "cuda":
        return _half_dtype(device)
    return torch.bfloat16 if cpu_has_bf16() else torch.float32


def matmul_limit(dtype: torch.dtype, device: torch.device) -> float:
    """GFLOP/s of a square matrix multiply in ``dtype`` on ``device`` (every CPU thread): the
    rate training cannot beat. A GPU needs larger matrices than a CPU to reach its rate."""
    n = 8192 if device.type == "cuda" else 2048
    a, b = (torch.randn(n, n, dtype=dtype, device=device) for _ in range(2))

    def multiply() -> None:
        torch.mm(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # GPU calls return before the work is done

    seconds, _ = best_of(5, multiply)
    return 2 * n**3 / seconds / 1e9


def wall_time(configs: list[TrainConfig], jobs: int, stack: int, device: torch.device) -> float:
    """Seconds to train ``configs`` on ``device`` into an empty cache, ``jobs`` at a time in
    stacks of up to ``stack`` seeds."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CKATOOLS_CACHE"] = folder
        start = time.perf_counter()
        zoo.prepare(configs, device=device, jobs=jobs, stack=stack, progress=False)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--fraction", type=float, default=1 / 16)
    parser.add_argument("--depths", type=int, nargs="*", help="only these architectures' depths")
    parser.add_argument("--dataset", default=offline_dataset())
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 ... (default cpu)")
    args = parser.parse_args()
    dataset, device = args.dataset, torch.device(args.device)
    dtype = training_dtype(device)
    bf16 = device.type == "cpu" and dtype == torch.bfloat16
    precision = str(dtype).removeprefix("torch.")
    limit = matmul_limit(dtype, device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    ways = [way for way in WAYS if way[2] <= args.networks]
    print(
        f"{args.networks} seeds of each architecture, {args.epochs} epoch(s) of {dataset} "
        f"{args.fraction:g}, {precision} on {where} (native CPU bfloat16: {cpu_has_bf16()}); "
        f"{torch.get_num_threads()} CPU threads; "
        f"{precision} matrix-multiply limit {limit:.0f} GFLOP/s\n"
    )
    print("| architecture | " + " | ".join(f"{w[0]}, s (x, GFLOP/s)" for w in ways) + " |")
    print("|---" * (len(ways) + 1) + "|")
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
        times = [wall_time(configs, jobs, stack, device) for _, jobs, stack in ways]
        cells = [f"{t:.1f} ({times[0] / t:.2f}x, {flops / t / 1e9:.0f})" for t in times]
        print(f"| {base.label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
