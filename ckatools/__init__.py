"""ckatools: fast minibatch CKA and the CIFAR ResNets of Nguyen, Raghu & Kornblith (ICLR 2021)."""

from . import cka, models
from .capture import CKAResult, model_cka
from .cka import MinibatchCKA, linear_cka
from .models import resnet

__version__ = "0.1.0"
__all__ = ["cka", "models", "model_cka", "CKAResult", "MinibatchCKA", "linear_cka", "resnet"]
