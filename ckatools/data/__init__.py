"""Datasets as uint8 tensors on the device: :class:`Images`, :func:`load` by name, class-balanced
subsets, augmentation and batches; Fashion-MNIST-M (:mod:`ckatools.data.photos`)."""

from ckatools.data.core import (
    CIFAR100_COARSE,
    CIFAR100_SUPERCLASSES,
    CLASS_NAMES,
    DATASETS,
    FASHION_MNIST_DIR,
    IMAGE_SHAPES,
    TEST_SIZES,
    TRAIN_SIZES,
    Images,
    augment,
    balanced_subset,
    batches,
    cache_dir,
    cifar,
    class_groups,
    fashion_mnist,
    synthetic,
    to_unit,
)
from ckatools.data.registry import LOADERS, load

__all__ = [
    "CIFAR100_COARSE",
    "CIFAR100_SUPERCLASSES",
    "CLASS_NAMES",
    "DATASETS",
    "FASHION_MNIST_DIR",
    "IMAGE_SHAPES",
    "TEST_SIZES",
    "TRAIN_SIZES",
    "Images",
    "LOADERS",
    "augment",
    "balanced_subset",
    "batches",
    "cache_dir",
    "cifar",
    "class_groups",
    "fashion_mnist",
    "load",
    "synthetic",
    "to_unit",
]
