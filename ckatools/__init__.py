"""ckatools: fast minibatch CKA and the CIFAR ResNets of Nguyen, Raghu & Kornblith (ICLR 2021).

The engine's public API. Importing it changes nothing global (no pandas option, no IPython
formatter): a notebook that wants the book's display calls :func:`ckatools.book.setup`.
"""

from ckatools import cka, models
from ckatools.capture import CKAResult, PopulationCKA, model_cka, population_cka
from ckatools.cka import MinibatchCKA, linear_cka
from ckatools.models import resnet

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
