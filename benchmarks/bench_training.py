"""Training throughput: ckatools.training vs a plain PyTorch loop with a torchvision DataLoader.

Same network (initialized from the same seed), same images (CIFAR-sized synthetic images, or any
dataset ckatools can load), same augmentation (reflect-pad 4, random crop, flip), optimizer,
schedule and batch size. The plain loop is the usual recipe: PIL images through
torchvision.transforms in a DataLoader. Throughput counts training epochs only (no evaluation).

    python benchmarks/bench_training.py [--dataset synthetic] [--depth 20] [--width 1] [--epochs 2]
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from ckatools import training
from ckatools.data import load
from ckatools.training import TrainConfig


class PILImages(Dataset):
    """uint8 (N, C, H, W) images served as PIL images through torchvision transforms."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform) -> None:
        self.images, self.labels, self.transform = (
            images.permute(0, 2, 3, 1).squeeze(-1).numpy(),
            labels,
            transform,
        )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(Image.fromarray(self.images[i])), self.labels[i]


def plain_loop(config: TrainConfig, workers: int) -> float:
    """Images per second of a textbook training loop."""
    data = load(config.dataset, train=True)
    model = training.build_model(config, data.num_classes, data.images.shape[1])
    optimizer = training._optimizer(model, config)
    steps = math.ceil(len(data) / config.batch_size) * config.epochs
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    size = data.images.shape[-1]
    transform = T.Compose(
        [
            T.RandomCrop(size, padding=4, padding_mode="reflect"),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
        ]
    )
    loader = DataLoader(
        PILImages(data.images, data.labels, transform),
        batch_size=config.batch_size,
        shuffle=True,
        num_workers=workers,
        persistent_workers=workers > 0,
    )
    model.train()
    start = time.perf_counter()
    for _ in range(config.epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    return len(data) * config.epochs / (time.perf_counter() - start)


def ckatools_loop(config: TrainConfig) -> float:
    _, results = training.train(config, device="cpu", progress=False)
    return results["train_size"] * config.epochs / results["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    config = TrainConfig(
        dataset=args.dataset, depth=args.depth, width=args.width, epochs=args.epochs
    )
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
        f"ResNet-{args.depth} x{args.width:g}, "
        f"{args.dataset}, batch {config.batch_size}, {args.epochs} epochs\n"
    )
    ckatools_loop(
        config.replace(epochs=1)
    )  # warm-up: the first run in a process pays for kernel setup
    ours = ckatools_loop(config)
    print("| loop | images/s | ckatools / this |\n|---|---|---|")
    print(f"| ckatools.training (on-device uint8 data, batched augmentation) | {ours:.0f} | 1.00 |")
    for workers in (0, 2):
        theirs = plain_loop(config, workers)
        print(
            f"| plain PyTorch, DataLoader + torchvision transforms, {workers} workers | "
            f"{theirs:.0f} | {ours / theirs:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
