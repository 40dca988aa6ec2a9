"""Datasets as uint8 image tensors, class-balanced subsets, and an on-device augmenting batch
iterator.

Images stay uint8 (N, C, H, W) until a batch is drawn; a batch is scaled to [0, 1] with no
further normalization, as in the official code.
"""

from __future__ import annotations

import functools
import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "Images",
    "DATASETS",
    "TRAIN_SIZES",
    "TEST_SIZES",
    "IMAGE_SHAPES",
    "balanced_subset",
    "batches",
    "augment",
    "cache_dir",
    "FASHION_MNIST_DIR",
    "CIFAR100_COARSE",
    "CIFAR100_SUPERCLASSES",
    "class_groups",
    "to_unit",
    "CLASS_NAMES",
    "synthetic",
    "fashion_mnist",
    "cifar",
]

FASHION_MNIST_DIR = Path(
    "/usr/share/datasets/fashion-mnist"
)  # Debian package dataset-fashion-mnist
DATASETS = ("synthetic", "fashion-mnist", "fashion-mnist-m", "cifar10", "cifar100")
TRAIN_SIZES = {
    "synthetic": 2000,
    "fashion-mnist": 60000,
    "fashion-mnist-m": 60000,
    "cifar10": 50000,
    "cifar100": 50000,
}
TEST_SIZES = {name: 2000 if name == "synthetic" else 10000 for name in TRAIN_SIZES}
IMAGE_SHAPES = {  # (channels, height, width)
    "synthetic": (3, 32, 32),
    "fashion-mnist": (1, 28, 28),
    "fashion-mnist-m": (3, 28, 28),
    "cifar10": (3, 32, 32),
    "cifar100": (3, 32, 32),
}
CLASS_NAMES = {
    "fashion-mnist": (
        "T-shirt",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "boot",
    ),
    "cifar10": ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}
CLASS_NAMES["fashion-mnist-m"] = CLASS_NAMES["fashion-mnist"]


@dataclass
class Images:
    """A labelled image set: uint8 images (N, C, H, W) and int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    name: str

    def __len__(self) -> int:
        return len(self.labels)

    def class_name(self, label: int) -> str:
        """The class's name where the dataset has short names for its classes, else its number."""
        names = CLASS_NAMES.get(self.name)
        return names[int(label)] if names else str(int(label))

    def subset(self, index: torch.Tensor) -> Images:
        return Images(self.images[index], self.labels[index], self.num_classes, self.name)

    def to(self, device) -> Images:
        return Images(self.images.to(device), self.labels.to(device), self.num_classes, self.name)

    def unit(self) -> torch.Tensor:
        """The images as a float32 tensor (n, channels, height, width) scaled to [0, 1]."""
        return to_unit(self.images)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 images as float32 in [0, 1], the official code's only input preprocessing."""
    return images.float() / 255


def cache_dir() -> Path:
    """``CKATOOLS_CACHE`` or the user's cache directory; datasets and trained models live here."""
    root = (
        os.environ.get("CKATOOLS_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ckatools"
    )
    return Path(root)


def synthetic(n: int, *, seed: int = 0, classes: int = 10, size: int = 32) -> Images:
    """Random smooth class prototypes plus per-image noise, shifts and flips: learnable in seconds,
    not trivial.
    """
    gen = torch.Generator().manual_seed(seed)
    proto_gen = torch.Generator().manual_seed(
        1234
    )  # the classes are the same for every seed and split
    coarse = torch.rand(classes, 3, 4, 4, generator=proto_gen)
    prototypes = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    labels = torch.randint(classes, (n,), generator=gen)
    x = prototypes[labels] + 0.35 * torch.randn(n, 3, size, size, generator=gen)
    x = torch.roll(x, shifts=tuple(torch.randint(-3, 4, (2,), generator=gen).tolist()), dims=(2, 3))
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    return Images(images, labels, classes, "synthetic")


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


@functools.lru_cache(
    maxsize=4
)  # decoding is slow and the files never change; callers do not mutate
def fashion_mnist(train: bool) -> Images:
    """Fashion-MNIST's training (60,000) or test (10,000) set, (n, 1, 28, 28) uint8: read from
    the Debian package's files when present, else downloaded by torchvision."""
    prefix = "train" if train else "t10k"
    if (FASHION_MNIST_DIR / f"{prefix}-images-idx3-ubyte.gz").exists():
        images = _read_idx(FASHION_MNIST_DIR / f"{prefix}-images-idx3-ubyte.gz")
        labels = _read_idx(FASHION_MNIST_DIR / f"{prefix}-labels-idx1-ubyte.gz")
    else:
        import torchvision

        ds = torchvision.datasets.FashionMNIST(cache_dir() / "data", train=train, download=True)
        images, labels = ds.data.numpy(), ds.targets.numpy()
    return Images(
        torch.from_numpy(images.copy())[:, None],
        torch.from_numpy(labels.astype(np.int64)),
        10,
        "fashion-mnist",
    )


@functools.lru_cache(maxsize=4)
def cifar(name: str, train: bool) -> Images:
    """CIFAR-10 or CIFAR-100 (``name``), (n, 3, 32, 32) uint8, through torchvision's download
    into the cache; offline, an error that names Fashion-MNIST as the alternative."""
    try:
        import torchvision
    except ImportError as error:
        raise RuntimeError(
            f"{name} is read with torchvision, which is not installed: pip install torchvision "
            "(a build matching your torch), or use dataset 'fashion-mnist' or 'synthetic'"
        ) from error
    cls = torchvision.datasets.CIFAR10 if name == "cifar10" else torchvision.datasets.CIFAR100
    try:
        ds = cls(cache_dir() / "data", train=train, download=True)
    except Exception as error:  # no network: say what to do instead
        raise RuntimeError(
            f"{name} is not cached under {cache_dir() / 'data'} and could not be downloaded "
            f"({error}). "
            "Offline, use dataset 'fashion-mnist' (Debian package dataset-fashion-mnist) or "
            "'synthetic', "
            "for example with CKATOOLS_PROFILE=cpu or smoke."
        ) from error
    images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
    return Images(images, torch.tensor(ds.targets), 10 if name == "cifar10" else 100, name)


# CIFAR-100 fine label -> coarse superclass (the dataset's own 20 superclasses)
CIFAR100_COARSE = torch.tensor(
    [
        4,
        1,
        14,
        8,
        0,
        6,
        7,
        7,
        18,
        3,
        3,
        14,
        9,
        18,
        7,
        11,
        3,
        9,
        7,
        11,
        6,
        11,
        5,
        10,
        7,
        6,
        13,
        15,
        3,
        15,
        0,
        11,
        1,
        10,
        12,
        14,
        16,
        9,
        11,
        5,
        5,
        19,
        8,
        8,
        15,
        13,
        14,
        17,
        18,
        10,
        16,
        4,
        17,
        4,
        2,
        0,
        17,
        4,
        18,
        17,
        10,
        3,
        2,
        12,
        12,
        16,
        12,
        1,
        9,
        19,
        2,
        10,
        0,
        1,
        16,
        12,
        9,
        13,
        15,
        13,
        16,
        19,
        2,
        4,
        6,
        19,
        5,
        5,
        8,
        19,
        18,
        1,
        2,
        15,
        6,
        0,
        17,
        8,
        14,
        13,
    ]
)


CIFAR100_SUPERCLASSES = (
    "aquatic mammals",
    "fish",
    "flowers",
    "food containers",
    "fruit and vegetables",
    "household electrical devices",
    "household furniture",
    "insects",
    "large carnivores",
    "large man-made outdoor things",
    "large natural outdoor scenes",
    "large omnivores and herbivores",
    "medium-sized mammals",
    "non-insect invertebrates",
    "people",
    "reptiles",
    "small mammals",
    "trees",
    "vehicles 1",
    "vehicles 2",
)


def class_groups(name: str) -> dict[str, tuple[int, ...]]:
    """Groups of a dataset's classes, the analogue of the ImageNet synsets of the paper's Table
    F.2; groups may nest, as synsets do. By kind of object, fixed before any comparison:
    Fashion-MNIST's clothing, tops and footwear; CIFAR-10's animals and vehicles; CIFAR-100's 20
    superclasses. Synthetic data (its classes mean nothing) gets two halves, to exercise the
    code."""
    garments = {"clothing": (0, 1, 2, 3, 4, 6), "tops": (0, 2, 4, 6), "footwear": (5, 7, 9)}
    groups = {
        "fashion-mnist": garments,
        "fashion-mnist-m": garments,
        "cifar10": {"animals": (2, 3, 4, 5, 6, 7), "vehicles": (0, 1, 8, 9)},
        "cifar100": {
            superclass: tuple((CIFAR100_COARSE == k).nonzero().flatten().tolist())
            for k, superclass in enumerate(CIFAR100_SUPERCLASSES)
        },
        "synthetic": {"classes 0-4": (0, 1, 2, 3, 4), "classes 5-9": (5, 6, 7, 8, 9)},
    }
    if name not in groups:
        raise ValueError(f"no class groups for dataset {name!r}; known: {', '.join(groups)}")
    return groups[name]


def balanced_subset(labels: torch.Tensor, fraction: float, *, seed: int = 0) -> torch.Tensor:
    """Indices of a class-balanced random subset: round(fraction * count) examples of each class."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    gen = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    picked = []
    for c in labels.unique():
        members = (labels == c).nonzero().flatten()
        keep = max(1, round(fraction * len(members)))
        picked.append(members[torch.randperm(len(members), generator=gen)[:keep]])
    return torch.cat(picked).sort().values


def augment(
    x: torch.Tensor, generator: torch.Generator | None = None, pad: int = 4
) -> torch.Tensor:
    """Reflect-pad ``pad`` pixels, take a random crop of the original size, flip half the images.

    One gather on x's device for the whole batch (float images (B, C, H, W)); the random draws
    come from the CPU ``generator`` so that runs are reproducible on any device.
    """
    b, _, h, w = x.shape
    dy, dx = torch.randint(0, 2 * pad + 1, (2, b), generator=generator).to(x.device)
    flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)
    cols = dx[:, None] + torch.arange(w, device=x.device)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect").permute(0, 2, 3, 1)
    crops = padded[
        torch.arange(b, device=x.device)[:, None, None], rows[:, :, None], cols[:, None, :]
    ]
    return crops.permute(
        0, 3, 1, 2
    )  # strided channels-last; train.py sets the memory format it wants


def batches(
    data: Images,
    batch_size: int,
    *,
    shuffle: bool = True,
    train_augment: bool = False,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Float [0, 1] image batches and labels, drawn on the data's device (optionally augmented)."""
    n = len(data)
    order = (torch.randperm(n, generator=generator) if shuffle else torch.arange(n)).to(
        data.images.device
    )
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        index = order[start : start + batch_size]
        x = to_unit(data.images[index])
        yield (augment(x, generator) if train_augment else x), data.labels[index]
