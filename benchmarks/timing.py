"""What the benchmark scripts share: the best-of-N timer and the dataset available offline."""

from __future__ import annotations

import time
from pathlib import Path

from ckatools.data import FASHION_MNIST_DIR


def best_of(repeat: int, fn, *args):
    """(fastest wall time of ``repeat`` calls of fn(*args) in seconds, the last call's result)."""
    seconds, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args)
        seconds.append(time.perf_counter() - start)
    return min(seconds), out


def offline_dataset() -> str:
    """Fashion-MNIST when its Debian package is installed, else the synthetic images."""
    return "fashion-mnist" if Path(FASHION_MNIST_DIR).exists() else "synthetic"
