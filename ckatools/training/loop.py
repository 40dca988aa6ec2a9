"""Training with the official recipe, resumable from per-epoch checkpoints.

Defaults follow the official code: SGD with momentum 0.9, learning rate 0.01 with cosine decay
over all steps, batch 128, L2 1e-4 on conv and dense kernels (Keras adds 1e-4 * sum(w^2) to the
loss, i.e. weight decay 2e-4 on those weights only), inputs in [0, 1], reflect-pad-4 crops and
flips. On CUDA: channels-last memory format and autocast (bfloat16, or float16 with loss scaling
on GPUs older than Ampere such as Colab's T4), optionally torch.compile. On the CPU, with
``bf16_cpu``: channels-last and bfloat16 autocast (about 2x faster on a CPU with AVX-512 BF16,
accuracy within seed noise: the Fashion-MNIST-M pilot of ``ckatools.study``; about 10x slower on
a CPU without native bfloat16, see :func:`cpu_has_bf16`). An optional
linear warm-up (``warmup_epochs``) precedes the cosine decay.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from ckatools import storage
from ckatools.data import Images, balanced_subset, batches, load, to_unit
from ckatools.models import ResNet, resnet
from ckatools.training.config import TrainConfig

__all__ = [
    "train",
    "evaluate",
    "recalibrate_batchnorm",
    "TrainingDiverged",
    "TRAINED_ACCURACY",
    "TrainResult",
    "Evaluation",
    "train_together",
    "stackable",
    "default_device",
    "build_model",
    "training_data",
    "lr_factor",
]


TRAINED_ACCURACY = 0.5  # a network counts as trained at this training accuracy (5x chance)


@dataclass(frozen=True)
class Evaluation:
    """A network on a dataset of n examples: ``accuracy``, ``correct`` (n,) bool and ``logits``
    (n, classes) float32, both on the CPU."""

    accuracy: float
    correct: torch.Tensor
    logits: torch.Tensor


def trained_on(history: Sequence[dict]) -> str | None:
    """The kinds of device a run's epochs ran on, in order of first use ("cpu", "cpu, cuda");
    None where no record says (histories written before the records kept it)."""
    kinds = dict.fromkeys(r["device"] for r in history if "device" in r)
    return ", ".join(kinds) or None


@dataclass(frozen=True)
class TrainResult:
    """What training a network produced. The cache stores :meth:`to_dict`'s plain data.

    ``history`` holds one record per epoch (epoch, mean loss, augmented training accuracy, and
    the kind of device the epoch ran on); ``train_accuracy`` is measured without augmentation
    after the BatchNorm statistics are recalibrated (has the network fit its data?);
    ``accuracy``, ``correct`` (n_test,) and ``logits`` (n_test, classes) are on the test set. The
    last four are None for a run stopped before its last epoch. ``device`` names the kinds of
    device the run trained on, in order ("cpu", "cuda", or "cpu, cuda" for a run resumed on a
    GPU; None in records written before it was kept): it decides the precision, as CUDA always
    uses mixed precision and the CPU bfloat16 only where ``config.bf16_cpu``.
    """

    config: TrainConfig
    history: tuple[dict, ...]
    seconds: float
    epochs_done: int
    train_size: int
    stack: int = 1  # trained as one member of a stack of this many seeds
    device: str | None = None
    train_accuracy: float | None = None
    accuracy: float | None = None
    correct: torch.Tensor | None = None
    logits: torch.Tensor | None = None

    @property
    def trained(self) -> bool:
        """Whether the network trained: unaugmented training accuracy at least
        ``TRAINED_ACCURACY``. One that did not measures nothing: it is flagged and left out of
        every trend."""
        return (self.train_accuracy or 0.0) >= TRAINED_ACCURACY

    def to_dict(self) -> dict:
        """Plain data (the cache's format: the keys of the dicts earlier versions returned)."""
        found = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        found.update(config=dataclasses.asdict(self.config), history=list(self.history))
        return {k: v for k, v in found.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> TrainResult:
        """The record of :meth:`to_dict`'s plain data."""
        names = {f.name for f in dataclasses.fields(cls)}
        fields = {k: v for k, v in data.items() if k in names}
        fields.update(config=TrainConfig(**data["config"]), history=tuple(data["history"]))
        return cls(**fields)


class TrainingDiverged(RuntimeError):
    """The loss or the weights became non-finite; the network is not cached."""


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def training_data(config: TrainConfig) -> Images:
    """The (class-balanced subset of the) training set a configuration trains on."""
    data = load(config.dataset, train=True)
    if config.fraction < 1:
        data = data.subset(balanced_subset(data.labels, config.fraction, seed=config.subset_seed))
    return data


def build_model(config: TrainConfig, num_classes: int, in_channels: int) -> ResNet:
    """The network of ``config``, initialized from its seed (untrained): the one place networks are
    built.

    The global random state is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return resnet(
            config.depth,
            config.width,
            num_classes=num_classes,
            in_channels=in_channels,
            residual=config.residual,
        )


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    kernels = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    kernel_ids = {id(p) for p in kernels}
    others = [p for p in model.parameters() if id(p) not in kernel_ids]
    groups = [
        dict(params=kernels, weight_decay=config.weight_decay),
        dict(params=others, weight_decay=0.0),
    ]
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)


def _memory_format(device: torch.device) -> torch.memory_format:
    """Channels-last on CUDA (faster convolutions). Contiguous on CPU: channels-last CPU backward
    crashes torch 2.15 for some small channel counts (seen with 4 channels)."""
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format


def _in_format(x: torch.Tensor, memory_format: torch.memory_format) -> torch.Tensor:
    """A copy of the batch ``x`` (B, C, H, W) laid out in ``memory_format``.

    Not ``x.contiguous(memory_format)``: with one channel (Fashion-MNIST) a size-1 dimension's
    stride is ignored, so an augmented batch (strided channels-last, see
    :func:`ckatools.data.core.augment`) counts as contiguous and is kept as it is, and the
    convolutions then carry channels-last through the whole network. On the CPU that layout's
    one-thread backward crashed torch 2.14 (a double free in oneDNN's AVX2 1x1
    weight gradient, ResNet-38 x0.25 on Fashion-MNIST: every ``--jobs 2`` worker).
    """
    return x.clone(memory_format=memory_format)


def _half_dtype(device: torch.device) -> torch.dtype | None:
    """bfloat16 on Ampere and later GPUs, float16 on older ones (a Colab T4), none on the CPU."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.get_device_capability(device) >= (8, 0) else torch.float16


def _autocast(device: torch.device):
    dtype = _half_dtype(device)
    return torch.autocast("cuda", dtype=dtype or torch.bfloat16, enabled=dtype is not None)


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (oneDNN's check: AVX-512 BF16 or AMX).

    Without it bfloat16 autocast is emulated, and slower than float32, not faster. Measured on a
    2-core AMD EPYC with AVX2 only (torch 2.14, batch 128 of 28 x 28 x 3 images, a training step
    of forward, backward and update): ResNet-20 x1 3.3 s in bfloat16 against 0.34 s in float32,
    ResNet-56 x1 9.8 s against 0.97 s, ResNet-20 x4 50 s against 3.1 s.
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def _fast_cpu(config: TrainConfig, device: torch.device) -> bool:
    """Whether the training steps use ``bf16_cpu``: channels-last with bfloat16 autocast on the
    CPU (1.5-1.8x faster on a CPU with AVX-512 BF16; the Fashion-MNIST-M pilot of
    ``ckatools.study``). CUDA always uses its own channels-last and autocast. Asked for on a CPU
    without native bfloat16, it is honoured (the configuration is what the cache stores), and
    :func:`train_together` warns that it is about 10x slower there."""
    return device.type == "cpu" and config.bf16_cpu


def _training_autocast(config: TrainConfig, device: torch.device):
    if _fast_cpu(config, device):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return _autocast(device)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, data: Images, batch_size: int = 500) -> None:
    """Replace BatchNorm running statistics by their average over ``data`` (no augmentation).

    The data is split into equal batches (sizes differ by at most one), so the mean is the exact
    mean over the data and the variance the average within-batch variance.

    With momentum 0.01 the running averages need thousands of steps to forget their
    initialization; a short schedule would otherwise be evaluated with stale statistics.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    was_training = model.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    model.train()
    device = next(model.parameters()).device
    images = data.images.to(device)
    for index in torch.arange(len(images), device=device).tensor_split(
        math.ceil(len(images) / batch_size)
    ):
        with _autocast(device):
            model(_in_format(to_unit(images[index]), _memory_format(device)))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.train(was_training)


@torch.no_grad()
def evaluate(model: nn.Module, data: Images, batch_size: int = 500) -> Evaluation:
    """Accuracy, per-example correctness and logits (float32, on the CPU) on ``data``."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    logits = []
    for x, _ in batches(data.to(device), batch_size, shuffle=False):
        with _autocast(device):
            logits.append(model(_in_format(x, _memory_format(device))).float().cpu())
    model.train(was_training)
    logits = torch.cat(logits)
    correct = logits.argmax(1) == data.labels.cpu()
    return Evaluation(correct.float().mean().item(), correct, logits)


def lr_factor(step: int, *, total: int, warmup: int = 0) -> float:
    """The learning rate at ``step`` as a fraction of its peak: a linear warm-up over ``warmup``
    steps (from 1/warmup to 1), then cosine decay to 0 at step ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    span = total - warmup
    return 0.5 * (1 + math.cos(math.pi * min(step - warmup, span) / span))


def _read_checkpoint(path: Path | None, device: torch.device) -> dict | None:
    """A checkpoint to resume from; None when there is none or it is unreadable (a restart)."""
    if path is None or not Path(path).exists():
        return None
    try:
        return storage.load(path, map_location=device)
    except storage.CorruptFile as error:
        warnings.warn(
            f"discarding unreadable checkpoint {path} ({error}); training restarts",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def _resumes(saved: dict | None, configs: list[TrainConfig]) -> bool:
    """Whether the checkpoint ``saved`` is a run of exactly ``configs`` (one network or a stack)."""
    return saved is not None and saved.get("configs", [saved.get("config")]) == [
        dataclasses.asdict(c) for c in configs
    ]


def resumed_epochs(configs: list[TrainConfig], checkpoint: Path) -> int:
    """The epochs a run of ``configs`` would resume from ``checkpoint`` instead of training:
    0 where there is none, it cannot be read or it is a run of other configurations."""
    try:  # no lock held: another process may finish the run and delete the file meanwhile
        saved = storage.load(checkpoint, map_location="cpu")
    except (OSError, storage.CorruptFile):
        return 0  # a corrupt one: the run itself warns when it restarts
    return saved["state"]["epoch"] if _resumes(saved, configs) else 0


def train(
    config: TrainConfig,
    *,
    device: torch.device | None = None,
    checkpoint: Path | None = None,
    progress: bool = True,
    compile: bool = False,
    stop_after: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> tuple[ResNet, TrainResult]:
    """Train a network for ``config``; returns it (on ``device``) and its :class:`TrainResult`.

    With ``checkpoint``, the state is saved atomically after every epoch and an existing
    checkpoint is resumed; on the CPU a resumed run ends with the same weights as an
    uninterrupted one. ``stop_after`` ends the run after that many epochs in total (to simulate
    an interruption in tests); ``on_epoch(epoch)`` is called after each epoch. A loss or weights
    that become non-finite raise :class:`TrainingDiverged` naming the epoch (nothing is saved for
    that epoch).

    Args:
        config: the network, its data and its recipe.
        device: where to train (default: CUDA if available, else the CPU).
        checkpoint: a file to save to after every epoch and to resume from.
        progress: show a per-epoch progress bar.
        compile: ``torch.compile`` the network (CUDA).

    Returns:
        The trained :class:`~ckatools.models.ResNet` on ``device`` and its :class:`TrainResult`
        (test accuracy, ``correct`` (n_test,), ``logits`` (n_test, classes), training accuracy,
        per-epoch history, wall time).
    """
    ((model, result),) = train_together(
        [config],
        device=device,
        checkpoint=checkpoint,
        progress=progress,
        compile=compile,
        stop_after=stop_after,
        on_epoch=on_epoch,
    )
    return model, result


def stackable(configs: list[TrainConfig]) -> bool:
    """Whether ``configs`` can train as one stack: distinct seeds, everything else equal."""
    seeds = [c.seed for c in configs]
    return len(set(seeds)) == len(seeds) and len({c.replace(seed=0) for c in configs}) == 1


def train_together(
    configs: list[TrainConfig],
    *,
    device: torch.device | None = None,
    checkpoint: Path | None = None,
    progress: bool = True,
    compile: bool = False,
    stop_after: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> list[tuple[ResNet, TrainResult]]:
    """Train K configurations that differ only in their seed as one stacked network
    (:mod:`ckatools.training.stack`); K = 1 is :func:`train`.

    Each member starts from the weights its seed gives alone and draws its own data order and
    augmentation from its own seed, so it is the network :func:`train` would make, up to the
    rounding of grouped instead of separate convolutions. Checkpoints, resuming, ``stop_after``
    and ``on_epoch`` work as in :func:`train`; a member whose loss or weights become non-finite
    stops the stack with :class:`TrainingDiverged` naming it. Each member's ``seconds`` is its
    share (1/K) of the stack's wall time and its ``stack`` is K.

    Returns:
        (model, result) for each configuration, in order; the models are ordinary ResNets.
    """
    from tqdm.auto import tqdm

    from ckatools.training.stack import (
        member_losses,
        nonfinite_members,
        stack_models,
        unstack_into,
    )

    if not configs or not stackable(configs):
        raise ValueError("train_together needs configurations that differ only in their seed")
    config, k = configs[0], len(configs)
    device = torch.device(device) if device is not None else default_device()
    train_data = training_data(config)
    test_data = load(config.dataset, train=False)
    classes, channels = train_data.num_classes, train_data.images.shape[1]
    members = [build_model(c, classes, channels) for c in configs]
    model = members[0] if k == 1 else stack_models(members)
    fast = _fast_cpu(config, device)
    if fast and not cpu_has_bf16():
        warnings.warn(
            "bf16_cpu on a CPU without native bfloat16 (no AVX-512 BF16 or AMX): training is "
            "emulated and about 10x slower than float32 here; the book's profiles train in "
            "float32 on such a CPU (ckatools.book.profiles.training_configs)",
            RuntimeWarning,
            stacklevel=2,
        )
    memory_format = torch.channels_last if fast else _memory_format(device)
    model = model.to(device, memory_format=memory_format)
    optimizer = _optimizer(model, config)
    steps = math.ceil(len(train_data) / config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        functools.partial(
            lr_factor, total=steps * config.epochs, warmup=steps * config.warmup_epochs
        ),
    )
    generators = [torch.Generator().manual_seed(c.seed) for c in configs]
    scaler = torch.amp.GradScaler(device.type, enabled=_half_dtype(device) == torch.float16)
    state = dict(epoch=0, histories=[[] for _ in configs], seconds=0.0)
    saved = _read_checkpoint(checkpoint, device)
    if _resumes(saved, configs):
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        for generator, kept in zip(generators, saved.get("generators", [saved.get("generator")])):
            generator.set_state(kept)
        scaler.load_state_dict(saved["scaler"])
        state = saved["state"]
        if "history" in state:  # a checkpoint of one network, written before stacks
            state = dict(
                epoch=state["epoch"], histories=[state["history"]], seconds=state["seconds"]
            )
    forward = torch.compile(model) if compile else model
    data = train_data.to(device)
    last = config.epochs if stop_after is None else min(config.epochs, stop_after)
    name = config.label + ("" if k == 1 else f" (stack of {k} seeds)")
    bar = tqdm(
        range(state["epoch"], last),
        initial=state["epoch"],
        total=config.epochs,
        disable=not progress,
        desc=f"{name} {config.dataset}",
    )
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        loss_sums = corrects = torch.zeros(k, device=device)  # on the device: no sync a step
        seen = 0
        streams = [
            batches(data, config.batch_size, train_augment=config.augment, generator=g)
            for g in generators
        ]
        for drawn in zip(*streams):
            x = torch.cat([x for x, _ in drawn], dim=1)  # member k's images: channel block k
            ys = [y for _, y in drawn]
            with _training_autocast(config, device):
                out = forward(_in_format(x, memory_format))
                losses = member_losses(out, ys)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(
                losses.sum()
            ).backward()  # float16 needs loss scaling; otherwise the scaler is a no-op
            scaler.step(optimizer)
            scaler.update()
            schedule.step()
            n = len(ys[0])
            loss_sums = loss_sums + losses.detach() * n
            predicted = out.view(n, k, -1).argmax(2)  # (n, K)
            corrects = corrects + (predicted == torch.stack(ys, 1)).sum(0)
            seen += n
        records = [
            dict(
                epoch=epoch + 1,
                loss=(s / seen).item(),
                train_accuracy=(c / seen).item(),
                device=device.type,
            )
            for s, c in zip(loss_sums, corrects)
        ]
        lost = {i for i, r in enumerate(records) if not math.isfinite(r["loss"])}
        bad = sorted(lost.union(nonfinite_members(model, k)))
        if bad:
            raise TrainingDiverged(
                f"{config.label} on {config.dataset}: the loss or the weights became non-finite "
                f"in epoch {epoch + 1} (seeds {[configs[i].seed for i in bad]}, "
                f"lr {config.lr}); nothing was cached"
            )
        state = dict(
            epoch=epoch + 1,
            histories=[h + [r] for h, r in zip(state["histories"], records)],
            seconds=state["seconds"] + time.perf_counter() - start,
        )
        loss, accuracy = (sum(r[key] for r in records) / k for key in ("loss", "train_accuracy"))
        bar.set_postfix(loss=f"{loss:.3f}", acc=f"{accuracy:.3f}")
        if checkpoint is not None:
            storage.save(
                dict(
                    model=model.state_dict(),
                    optimizer=optimizer.state_dict(),
                    schedule=schedule.state_dict(),
                    generators=[g.get_state() for g in generators],
                    scaler=scaler.state_dict(),
                    state=state,
                    configs=[dataclasses.asdict(c) for c in configs],
                ),
                checkpoint,
            )
        if on_epoch is not None:
            on_epoch(epoch + 1)
    if k > 1:
        members = [m.to(device, memory_format=memory_format) for m in members]
        unstack_into(model, members)
    found = []
    for member, c, history in zip(members, configs, state["histories"]):
        done = TrainResult(
            c,
            tuple(history),
            state["seconds"] / k,
            state["epoch"],
            len(train_data),
            stack=k,
            device=trained_on(history),
        )
        if state["epoch"] == config.epochs:  # each member alone: grouped convolutions gain
            recalibrate_batchnorm(member, train_data)  # nothing in float32 inference on a CPU
            fitted = evaluate(member, train_data).accuracy  # unaugmented: has it fit its data?
            test = evaluate(member, test_data)
            done = dataclasses.replace(
                done,
                train_accuracy=fitted,
                accuracy=test.accuracy,
                correct=test.correct,
                logits=test.logits,
            )
        found.append((member, done))
    return found
