"""Fashion-MNIST-M: Fashion-MNIST's garments on crops of colour photographs, built offline.

Every Fashion-MNIST image has the same black background. The block structure has been traced
to *dominant datapoints*, examples that share an image statistic such as background colour
(Nguyen, Raghu & Kornblith 2022), so a dataset whose backgrounds are all alike may never show
it. This variant gives each garment a background that varies as CIFAR's do, following the
MNIST-M recipe (Ganin et al. 2016): each pixel is |photo crop - garment|, per colour channel, so
the garment appears as an inverted silhouette over a piece of a real photograph.

The photographs are the three that ship inside packages the project installs: scikit-learn's
two sample images (``china.jpg``, a temple; ``flower.jpg``) and matplotlib's ``grace_hopper.jpg``
(a portrait). Each is used at three scales (full size, 1/2 and 1/4 by block averaging), so a
crop is sometimes a fine texture and sometimes a whole scene: nine sources in all. A seeded
generator picks, for every image, the source and the crop position; training and test images
draw from separate streams. Labels and the train/test split are Fashion-MNIST's own.

The build takes a few seconds and is cached in the data cache, with its checksum verified on
every load (:mod:`ckatools.storage`).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch

from ckatools import storage

__all__ = [
    "PHOTOS",
    "SCALES",
    "photographs",
    "source_names",
    "blend",
    "sources",
    "backgrounds",
    "fashion_mnist_m",
    "VERSION",
]

VERSION = 1  # part of the cache file's name: bump it when the recipe changes
SEED = 20160101  # the recipe's seed (Ganin et al.'s MNIST-M is from 2016)
SCALES = (1, 2, 4)  # each photograph at full size, 1/2 and 1/4
PHOTOS = (  # (package, path inside it)
    ("sklearn", "datasets/images/china.jpg"),
    ("sklearn", "datasets/images/flower.jpg"),
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
)


def _package_file(package: str, relative: str) -> Path:
    """A file shipped inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(
            f"fashion-mnist-m needs the photographs shipped with {package}: pip install "
            f"{'scikit-learn' if package == 'sklearn' else package}"
        )
    return Path(spec.origin).parent / relative


def _downscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Block-average an (H, W, 3) uint8 image by ``factor`` (exact integer arithmetic)."""
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:h, :w].reshape(h // factor, factor, w // factor, factor, 3).astype(np.uint32)
    return ((blocks.sum((1, 3)) + factor * factor // 2) // (factor * factor)).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def photographs() -> list[np.ndarray]:
    """The nine sources: each photograph (H, W, 3) uint8 at each of ``SCALES``."""
    from PIL import Image

    found = []
    for package, relative in PHOTOS:
        with Image.open(_package_file(package, relative)) as image:
            pixels = np.asarray(image.convert("RGB"))
        found.extend(_downscale(pixels, s) if s > 1 else pixels for s in SCALES)
    return found


def source_names() -> list[str]:
    """The nine sources of :func:`photographs`, in order: 'china.jpg at 1/2' and so on."""
    return [
        f"{Path(relative).name} at {'full size' if s == 1 else f'1/{s}'}"
        for _, relative in PHOTOS
        for s in SCALES
    ]


def _which(n: int, seed: int) -> tuple[np.random.Generator, np.ndarray]:
    """The recipe's generator and its first draw: each image's source."""
    rng = np.random.default_rng(seed)
    return rng, rng.integers(len(PHOTOS) * len(SCALES), size=n)


def sources(train: bool) -> np.ndarray:
    """For every image of a split of Fashion-MNIST-M, the index of the source it was cut from
    (into :func:`source_names`): the same draw :func:`blend` makes."""
    from ckatools.data.core import fashion_mnist

    return _which(len(fashion_mnist(train).labels), SEED + (0 if train else 1))[1]


def backgrounds(train: bool) -> np.ndarray:
    """For every image of a split, the mean brightness (0-255, over channels) of its background:
    the pixels where the garment is black, so the photograph shows as it is."""
    from ckatools.data.core import fashion_mnist

    garments = fashion_mnist(train).images[:, 0].numpy()
    pixels = fashion_mnist_m(train).images.numpy().mean(1)  # (N, 28, 28)
    black = garments == 0
    return (pixels * black).sum((1, 2)) / np.maximum(black.sum((1, 2)), 1)


def blend(garments: np.ndarray, seed: int) -> np.ndarray:
    """(N, 28, 28) uint8 garments -> (N, 3, 28, 28) uint8 |crop - garment|, crops drawn from
    ``seed``: for each image, a source photograph and a position inside it."""
    sources = photographs()
    n, size = len(garments), garments.shape[-1]
    rng, which = _which(n, seed)
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for k, source in enumerate(sources):
        members = np.flatnonzero(which == k)
        top = rng.integers(source.shape[0] - size + 1, size=len(members))
        left = rng.integers(source.shape[1] - size + 1, size=len(members))
        rows = top[:, None] + np.arange(size)
        cols = left[:, None] + np.arange(size)
        crops = source[rows[:, :, None], cols[:, None, :]].astype(np.int16)  # (m, 28, 28, 3)
        out[members] = np.abs(crops - garments[members, :, :, None].astype(np.int16))
    return out.transpose(0, 3, 1, 2).copy()


@functools.lru_cache(maxsize=2)
def fashion_mnist_m(train: bool):
    """The training or test split of Fashion-MNIST-M as :class:`~ckatools.data.Images`."""
    from ckatools.data.core import Images, cache_dir, fashion_mnist

    path = cache_dir() / "data" / f"fashion-mnist-m-v{VERSION}-{'train' if train else 'test'}.pt"
    try:
        stored = storage.load(path)
        images, labels = stored["images"], stored["labels"]
    except (FileNotFoundError, storage.CorruptFile):
        source = fashion_mnist(train)
        garments = source.images[:, 0].numpy()
        images = torch.from_numpy(blend(garments, SEED + (0 if train else 1)))
        labels = source.labels.clone()
        storage.save(dict(images=images, labels=labels), path)
    return Images(images, labels, 10, "fashion-mnist-m")
