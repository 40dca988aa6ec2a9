"""Training with the official recipe (:mod:`~ckatools.training.loop`), its configuration
(:mod:`~ckatools.training.config`), the cache of trained networks and CKA matrices
(:mod:`~ckatools.training.zoo`) and cost estimates (:mod:`~ckatools.training.cost`)."""

from ckatools.training.config import TrainConfig, fraction_label
from ckatools.training.loop import (
    TRAINED_ACCURACY,
    Evaluation,
    TrainingDiverged,
    TrainResult,
    build_model,
    cpu_has_bf16,
    default_device,
    evaluate,
    lr_factor,
    recalibrate_batchnorm,
    train,
    training_data,
)

__all__ = [
    "TRAINED_ACCURACY",
    "Evaluation",
    "TrainResult",
    "TrainConfig",
    "TrainingDiverged",
    "build_model",
    "cpu_has_bf16",
    "default_device",
    "evaluate",
    "fraction_label",
    "lr_factor",
    "recalibrate_batchnorm",
    "train",
    "training_data",
]
