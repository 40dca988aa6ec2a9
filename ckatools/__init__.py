"""ckatools: fast minibatch CKA and the CIFAR ResNets of Nguyen, Raghu & Kornblith (ICLR 2021)."""

from . import cka, models, page
from .capture import CKAResult, PopulationCKA, model_cka, population_cka
from .cka import MinibatchCKA, linear_cka
from .models import resnet

page.install()  # in IPython (a notebook): figures carry their font record, tables show whole

__version__ = "0.1.0"
__all__ = [
    "cka",
    "models",
    "model_cka",
    "population_cka",
    "CKAResult",
    "PopulationCKA",
    "MinibatchCKA",
    "linear_cka",
    "resnet",
]
