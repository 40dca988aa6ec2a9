"""Within-model CKA heatmaps of real ResNets: ckatools against its peers, the floor, and memory.

Every method compares the same representations (all of the network's, except the raw input,
which the peers cannot hook) on the same CIFAR-sized images in minibatches of 256, one pass.
The floor is a bare forward pass over the same images plus the Gram product of each of those
representations. Each measurement runs in a fresh process, so its peak resident memory (RSS)
is its own; memory is also measured as the number of images grows.

    python benchmarks/bench_model_cka.py [--depths 20 38] [--images 1024] [--skip torch_cka]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import torch
from torch.utils.data import DataLoader, TensorDataset

import ckatools
from ckatools.data import synthetic

BATCH = 256
FIXED_MMAP = 131072


def setup(depth: int, images: int):
    torch.manual_seed(0)
    model = ckatools.resnet(depth).eval()
    x = synthetic(images, seed=1).unit()
    names = [r.name for r in model.representations() if r.kind != "input"]
    return model, x, names


def run_floor(model, x, names):
    def gram_only(module, inputs, output):
        flat = output.flatten(1)
        flat @ flat.T

    handles = [model.get_submodule(n).register_forward_hook(gram_only) for n in names]
    with torch.no_grad():
        for start in range(0, len(x), BATCH):
            model(x[start : start + BATCH])
    for h in handles:
        h.remove()


def run_forward(model, x, names):
    with torch.no_grad():
        for start in range(0, len(x), BATCH):
            model(x[start : start + BATCH])


def run_ckatools(model, x, names):
    return ckatools.model_cka(
        model, x, batch_size=BATCH, passes=1, progress=False, layers_a=names
    ).matrix


def run_pytorch_cka(model, x, names):
    import cka as pytorch_cka

    loader = DataLoader(TensorDataset(x), batch_size=BATCH)
    return pytorch_cka.compute_cka(
        model, model, loader, layers=names, device="cpu", progress=False
    )[0]


def run_torch_cka(model, x, names):
    import torch_cka

    loader = DataLoader(TensorDataset(x), batch_size=BATCH)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cka = torch_cka.CKA(model, model, "a", "b", names, names, device="cpu")
        cka.compare(loader, loader)
    return cka.export()["CKA"]


METHODS = {
    "floor (forward + Gram products)": run_floor,
    "forward pass only": run_forward,
    "ckatools": run_ckatools,
    "pytorch-cka 1.1.3": run_pytorch_cka,
    "torch_cka 0.21": run_torch_cka,
}


def _memory_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (Linux)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))


def measure_one(method: str, depth: int, images: int, repeat: int) -> None:
    """Child process: the best of ``repeat`` timed runs (after building everything) and the peak RSS
    above the start.
    """
    model, x, names = setup(depth, images)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current RSS, forgetting the setup's transients
    base = _memory_kb("VmRSS")
    seconds = []
    for _ in range(1 if "torch_cka" in method else repeat):  # torch_cka takes minutes: once
        start = time.perf_counter()
        METHODS[method](model, x, names)
        seconds.append(time.perf_counter() - start)
    print(
        json.dumps(
            dict(
                seconds=min(seconds),
                extra_mb=(_memory_kb("VmHWM") - base) / 1024,
                layers=len(names),
            )
        )
    )


def child(method: str, depth: int, images: int, repeat: int = 1, env: dict | None = None) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--one",
            method,
            "--depths",
            str(depth),
            "--images",
            str(images),
            "--repeat",
            str(repeat),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=None if env is None else {**os.environ, **env},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 38])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument(
        "--memory-images",
        type=int,
        nargs="*",
        default=[256, 1024, 4096],
        help="none: skip the memory table",
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], help="methods to leave out, e.g. torch_cka"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per method; the best counts"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return measure_one(args.one, args.depths[0], args.images, args.repeat)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.images} images "
        f"3x32x32, batch {BATCH}, one pass; "
        f"best of {args.repeat} runs (torch_cka: one)"
    )
    for depth in args.depths:
        results = {
            m: child(m, depth, args.images, args.repeat)
            for m in METHODS
            if not any(s in m for s in args.skip)
        }
        floor, ours = (
            results["floor (forward + Gram products)"]["seconds"],
            results["ckatools"]["seconds"],
        )
        print(f"\nResNet-{depth}, {results['ckatools']['layers']} representations\n")
        print(
            "| method | seconds | x floor | x ckatools | extra peak RSS (MB) "
            "|\n|---|---|---|---|---|"
        )
        for method, r in results.items():
            print(
                f"| {method} | {r['seconds']:.2f} | {r['seconds'] / floor:.2f} | "
                f"{r['seconds'] / ours:.2f} | {r['extra_mb']:.0f} |"
            )
    if not args.memory_images:
        return
    depth = args.depths[-1]
    # glibc's dynamic mmap threshold lets freed per-minibatch buffers fragment the heap, so RSS
    # drifts
    # up with the number of minibatches even when nothing is kept; a fixed threshold shows what is
    # held.
    print(
        f"\nPeak RSS above the loaded model and images, ResNet-{depth}, as the number of "
        "images grows (MB; "
        f"MALLOC_MMAP_THRESHOLD_={FIXED_MMAP})\n"
    )
    methods = [m for m in ("ckatools", "pytorch-cka 1.1.3") if not any(s in m for s in args.skip)]
    print("| images | " + " | ".join(methods) + " |\n|---|" + "---|" * len(methods))
    for images in args.memory_images:
        row = [
            child(m, depth, images, env={"MALLOC_MMAP_THRESHOLD_": str(FIXED_MMAP)})["extra_mb"]
            for m in methods
        ]
        print(f"| {images} | " + " | ".join(f"{mb:.0f}" for mb in row) + " |", flush=True)


if __name__ == "__main__":
    main()
