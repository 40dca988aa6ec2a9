"""CKA between every pair of intermediate representations of one or two networks.

Forward hooks turn each representation into its Gram matrix the moment it is computed and keep
only that (n x n) matrix: memory does not depend on the network's activation sizes or on the
number of minibatches, and in-place operations later in the network cannot corrupt a capture.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.utils.data import Dataset

from ckatools.cka import MIN_EXAMPLES, MinibatchCKA, gram
from ckatools.data import to_unit
from ckatools.models import Representation

CKA_BATCH_SIZE = 256  # minibatch size n of Eq. 2 in the paper's code

__all__ = [
    "PopulationCKA",
    "population_cka",
    "CKA_BATCH_SIZE",
    "representations_of",
    "capture_grams",
    "activations",
    "minibatches",
    "model_cka",
    "CKAResult",
]


def representations_of(model: nn.Module) -> list[Representation]:
    """The model's own list (ckatools ResNets), else the input and every leaf module."""
    if hasattr(model, "representations"):
        return model.representations()
    leaves = [name for name, m in model.named_modules() if name and not list(m.children())]
    return [Representation(0, "input", "input")] + [
        Representation(i + 1, n, "leaf") for i, n in enumerate(leaves)
    ]


def _select(
    model: nn.Module, layers: Sequence[str | Representation] | None
) -> list[Representation]:
    """Resolve layers (names or Representations) against the model's list, in its order."""
    reps = representations_of(model)
    if layers is None:
        return reps
    wanted = {layer.name if isinstance(layer, Representation) else layer for layer in layers}
    unknown = wanted - {r.name for r in reps}
    if unknown:
        raise ValueError(f"unknown layer name(s) {sorted(unknown)}; see representations_of(model)")
    return [r for r in reps if r.name in wanted]


@contextlib.contextmanager
def capture_grams(model: nn.Module, layers: Sequence[Representation]) -> Iterator[dict]:
    """Hook ``layers`` of ``model``; after a forward pass on n examples, the yielded dict maps n
    to an (L, n, n) float64 tensor holding the layers' Gram matrices in order.

    Each Gram matrix is written into that one preallocated tensor, reused from minibatch to
    minibatch: nothing is allocated per layer that outlives its hook, so memory stays flat (no
    heap fragmentation from small long-lived buffers between freed activations). The hooks are
    removed on exit, also when the body raises.
    """
    grams: dict[int, torch.Tensor] = {}

    def store(i: int, x: torch.Tensor) -> None:
        x = x.detach()
        n = x.shape[0]
        if n not in grams:
            grams[n] = torch.empty(len(layers), n, n, dtype=torch.float64, device=x.device)
        gram(x, out=grams[n][i])

    handles = []
    try:
        for i, layer in enumerate(layers):
            if layer.kind == "input":
                handles.append(
                    model.register_forward_pre_hook(lambda m, inputs, i=i: store(i, inputs[0]))
                )
            else:
                handles.append(
                    model.get_submodule(layer.name).register_forward_hook(
                        lambda m, inputs, out, i=i: store(i, out)
                    )
                )
        yield grams
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()
def activations(
    model: nn.Module,
    images: torch.Tensor,
    names: Sequence[str],
    batch_size: int = 500,
    *,
    pool: bool = False,
) -> list[torch.Tensor]:
    """Whole activations (flattened, float32, on the CPU) of the named representations, in eval
    mode; with ``pool``, each channel of a feature map is averaged over its positions first.

    For analyses that need every example at once (full-data CKA, principal components, probes);
    heatmaps should use :func:`model_cka`, which keeps only Gram matrices.
    """
    reps = _select(model, names)
    device = next(model.parameters()).device
    store: dict[str, list] = {r.name: [] for r in reps}

    def keep(name: str, output: torch.Tensor) -> None:
        if pool and output.dim() == 4:
            output = output.mean((2, 3))
        store[name].append(output.detach().flatten(1).float().cpu())

    handles = [
        model.get_submodule(r.name).register_forward_hook(
            lambda m, i, o, name=r.name: keep(name, o)
        )
        for r in reps
        if r.kind != "input"
    ]
    try:
        with _evaluating(model):
            for start in range(0, len(images), batch_size):
                x = images[start : start + batch_size]
                if "input" in store:
                    keep("input", x)
                model(x.to(device))
    finally:
        for h in handles:
            h.remove()
    return [torch.cat(store[name]) for name in names]


def minibatches(
    n: int, batch_size: int, passes: int, seed: int, min_size: int = MIN_EXAMPLES
) -> Iterator[torch.Tensor]:
    """Index minibatches for ``passes`` seeded shuffles of n examples, each pass without
    replacement.

    A pass ends with a short minibatch when batch_size does not divide n; it is used as it is
    (each minibatch's HSIC is normalized by its own size) unless it has fewer than ``min_size``
    examples, in which case those examples join the previous minibatch so none is left out.
    """
    if n < min_size:
        raise ValueError(f"CKA needs at least {min_size} examples, got {n}")
    gen = torch.Generator().manual_seed(seed)
    starts = _starts(n, batch_size, min_size)
    for _ in range(passes):
        order = torch.randperm(n, generator=gen)
        for start, end in zip(starts, starts[1:] + [n]):
            yield order[start:end]


def _starts(n: int, batch_size: int, min_size: int) -> list[int]:
    """Where each minibatch of a pass begins; a tail under ``min_size`` joins the one before."""
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] < min_size:
        starts.pop()
    return starts


def _batch(images: torch.Tensor | Dataset, index: torch.Tensor) -> torch.Tensor:
    """Float images of one minibatch; uint8 images are scaled to [0, 1] as training does."""
    if isinstance(images, torch.Tensor):
        x = images[index]
    else:
        items = [images[int(i)] for i in index]
        x = torch.stack([it[0] if isinstance(it, (tuple, list)) else it for it in items])
    return to_unit(x) if x.dtype == torch.uint8 else x


def _in_channels(model: nn.Module) -> int | None:
    """The channel count of the model's first convolution (None if it has none)."""
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return None if first is None else first.in_channels


def _check_inputs(
    models: Sequence[nn.Module], images: torch.Tensor | Dataset, batch_size: int, passes: int
) -> None:
    """Refuse, in words, what would otherwise fail late or give a wrong number."""
    if batch_size < MIN_EXAMPLES:
        raise ValueError(
            f"batch_size must be at least {MIN_EXAMPLES} (unbiased HSIC), got {batch_size}"
        )
    if passes < 1:
        raise ValueError(f"passes must be at least 1, got {passes}")
    if len(images) < MIN_EXAMPLES:
        raise ValueError(f"CKA needs at least {MIN_EXAMPLES} images, got {len(images)}")
    sample = _batch(images, torch.arange(1))
    if not sample.is_floating_point():
        raise TypeError(f"images must be float or uint8, got {sample.dtype}")
    for i, model in enumerate(models):
        channels = _in_channels(model)
        if channels is not None and sample.dim() == 4 and sample.shape[1] != channels:
            raise ValueError(
                f"model {i} takes {channels}-channel images, the images have {sample.shape[1]} "
                "channels (shape (N, C, H, W) expected)"
            )


@contextlib.contextmanager
def _on_device(models: Sequence[nn.Module], device: torch.device) -> Iterator[None]:
    """Move the models to ``device`` for the duration; each goes back to its own device after."""
    if device.type == "meta":
        raise ValueError("device 'meta' holds no weights; CKA needs a real device")
    homes = [next(m.parameters()).device for m in models]
    try:
        for m in models:
            m.to(device)
        yield
    finally:
        for m, home in zip(models, homes):
            m.to(home)


@dataclass
class CKAResult:
    """A CKA matrix (float64, layers of A by layers of B) with the representations on each axis."""

    matrix: torch.Tensor
    layers_a: list[Representation]
    layers_b: list[Representation]

    def plot(self, ax=None, **kwargs):
        """Heatmap in the paper's style; see :func:`ckatools.plot.heatmap`."""
        from ckatools.plot import heatmap

        return heatmap(self, ax=ax, **kwargs)


@contextlib.contextmanager
def _evaluating(*models: nn.Module) -> Iterator[None]:
    """Eval mode for the duration; each model's previous mode is restored afterwards."""
    modes = [m.training for m in models]
    try:
        for m in models:
            m.eval()
        yield
    finally:
        for m, mode in zip(models, modes):
            m.train(mode)


@contextlib.contextmanager
def _capturing(
    models: Sequence[nn.Module], layers: Sequence[list[Representation]], device: torch.device
) -> Iterator[list[dict]]:
    """For the duration: the models on ``device``, in eval mode, without autograd, each
    capturing the Gram matrices of its ``layers`` (:func:`capture_grams`, one store a model)."""
    with (
        _on_device(models, device),
        _evaluating(*models),
        torch.no_grad(),
        contextlib.ExitStack() as stack,
    ):
        yield [stack.enter_context(capture_grams(m, reps)) for m, reps in zip(models, layers)]


def _minibatches(
    images: torch.Tensor | Dataset,
    batch_size: int,
    passes: int,
    seed: int,
    device: torch.device,
    progress: bool,
) -> Iterator[tuple[int, torch.Tensor]]:
    """Each minibatch of :func:`minibatches` as (its size, its images on ``device``), under a
    progress bar."""
    from tqdm.auto import tqdm

    total = passes * len(_starts(len(images), batch_size, MIN_EXAMPLES))
    batches = minibatches(len(images), batch_size, passes, seed)
    for index in tqdm(batches, total=total, disable=not progress, desc="CKA"):
        yield len(index), _batch(images, index).to(device, non_blocking=True)


def model_cka(
    model_a: nn.Module,
    images: torch.Tensor | Dataset,
    model_b: nn.Module | None = None,
    *,
    batch_size: int = CKA_BATCH_SIZE,
    passes: int = 10,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
    layers_a: Sequence[str | Representation] | None = None,
    layers_b: Sequence[str | Representation] | None = None,
) -> CKAResult:
    """Minibatch CKA (Eq. 2, unbiased HSIC) between every pair of representations.

    ``images`` is a tensor (N, C, H, W) or a Dataset of images (or of (image, label) pairs).
    Each of ``passes`` passes shuffles the N images (seeded) and splits them into minibatches of
    ``batch_size``; both models see the same minibatches, in eval mode (their previous mode is
    restored). ``model_b=None`` compares ``model_a`` with itself. ``layers_a``/``layers_b`` pick
    a subset of representations by name. uint8 images are scaled to [0, 1] as in training. The
    models run on ``device`` (default: the first model's) and go back to their own devices
    afterwards.

    Args:
        model_a: a network whose ``representations()`` list what to compare (ResNets do).
        images: (N, C, H, W) uint8 or float tensor, or a Dataset of images.
        model_b: a second network; None compares ``model_a`` with itself.
        batch_size: examples a minibatch (n of Eq. 2; the paper's 256).
        passes: epochs over the N images (the paper's 10).

    Returns:
        A :class:`CKAResult`: ``matrix`` (layers of a, layers of b) float64 and the layers.
    """
    device = torch.device(device) if device is not None else next(model_a.parameters()).device
    within = model_b is None or (model_b is model_a and layers_b is None)
    reps_a = _select(model_a, layers_a)
    reps_b = reps_a if within else _select(model_b if model_b is not None else model_a, layers_b)
    models = [model_a] if within else [model_a, model_b if model_b is not None else model_a]
    _check_inputs(models, images, batch_size, passes)
    acc = MinibatchCKA()
    with _capturing(models, [reps_a] if within else [reps_a, reps_b], device) as captured:
        for size, x in _minibatches(images, batch_size, passes, seed, device, progress):
            for m in models:
                m(x)
            acc.update_grams(*(grams[size] for grams in captured))
    return CKAResult(acc.compute(), reps_a, reps_b)


@dataclass
class PopulationCKA:
    """CKA between every pair of models of a population: ``result[i, j]`` is a :class:`CKAResult`
    of model i's representations (rows) against model j's (columns)."""

    matrix: torch.Tensor  # (sum of L_i, sum of L_i): every representation of every model
    layers: list[list[Representation]]

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, pair: tuple[int, int]) -> CKAResult:
        i, j = pair
        starts = [0]
        for reps in self.layers:
            starts.append(starts[-1] + len(reps))
        block = self.matrix[starts[i] : starts[i + 1], starts[j] : starts[j + 1]]
        return CKAResult(block, self.layers[i], self.layers[j])


def population_cka(
    models: Sequence[nn.Module],
    images: torch.Tensor | Dataset,
    *,
    batch_size: int = CKA_BATCH_SIZE,
    passes: int = 10,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> PopulationCKA:
    """Minibatch CKA (Eq. 2) between every representation of every model, all pairs at once.

    Every model sees the same minibatches; each minibatch runs each model once and compares all
    of their representations in one product, as :class:`~ckatools.cka.MinibatchCKA` does within
    one model, one pair of models at a time (each pair once). Memory: the Gram matrices of one
    minibatch, (sum of L_i) x n x n float64, and their triangle-packed copies.

    Args:
        models: m networks, each with ``representations()`` (L_i layers).
        images: (N, C, H, W) tensor or Dataset; every model sees the same minibatches.

    Returns:
        A :class:`PopulationCKA`: the (sum of L_i, sum of L_i) CKA matrix and each model's
        slice of it.
    """
    if len(models) == 0:
        raise ValueError("population_cka needs at least one model")
    _check_inputs(models, images, batch_size, passes)
    device = torch.device(device) if device is not None else next(models[0].parameters()).device
    layers = [_select(m, None) for m in models]
    acc = MinibatchCKA()
    with _capturing(models, layers, device) as captured:
        for size, x in _minibatches(images, batch_size, passes, seed, device, progress):
            for m in models:
                m(x)
            acc.update_gram_blocks([grams[size] for grams in captured])
    return PopulationCKA(acc.compute(), layers)
