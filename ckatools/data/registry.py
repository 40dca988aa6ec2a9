"""Datasets by name: ``LOADERS`` maps each name to a function ``(train, seed, size) -> Images``.

A new dataset is one entry here (and its sizes and shapes in :mod:`ckatools.data.core`).
"""

from __future__ import annotations

from typing import Callable

from ckatools.data.core import DATASETS, Images, cifar, fashion_mnist, synthetic

__all__ = ["LOADERS", "load"]


def _fashion_mnist_m(train: bool, seed: int, size: int | None) -> Images:
    from ckatools.data.photos import fashion_mnist_m  # built (once) from Fashion-MNIST

    return fashion_mnist_m(train)


LOADERS: dict[str, Callable[[bool, int, int | None], Images]] = {
    "synthetic": lambda train, seed, size: synthetic(
        size or 2000, seed=seed + (0 if train else 10_000)
    ),
    "fashion-mnist": lambda train, seed, size: fashion_mnist(train),
    "fashion-mnist-m": _fashion_mnist_m,
    "cifar10": lambda train, seed, size: cifar("cifar10", train),
    "cifar100": lambda train, seed, size: cifar("cifar100", train),
}
assert tuple(LOADERS) == DATASETS, "every dataset needs a loader"


def load(name: str, train: bool = True, *, seed: int = 0, size: int | None = None) -> Images:
    """Load a dataset by name: ``synthetic``, ``fashion-mnist``, ``fashion-mnist-m``,
    ``cifar10`` or ``cifar100``.

    CIFAR comes from torchvision's download; ``cifar100`` labels are the 100 fine classes
    (``CIFAR100_COARSE`` maps them to the 20 superclasses). Fashion-MNIST is read offline from the
    Debian package's files when present and downloaded by torchvision otherwise;
    ``fashion-mnist-m`` is Fashion-MNIST's garments on crops of colour photographs
    (:mod:`ckatools.data.photos`), built from it once and cached. ``synthetic`` is
    made on the fly from ``seed`` (``size`` images; 2,000 by default).

    Returns:
        :class:`Images` with ``images`` (n, channels, height, width) uint8 and ``labels`` (n,).
    """
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return LOADERS[name](train, seed, size)
