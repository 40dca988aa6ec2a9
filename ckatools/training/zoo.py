"""Two caches on disk, both keyed by a stable hash of a network's configuration.

The model cache: ``get(config)`` returns the cached network if there is a valid entry, resumes a
partial run from its checkpoint, and trains from scratch otherwise, and says which it did.
The CKA cache: ``cka_matrix(config, ...)`` stores each within-model CKA matrix beside its network,
keyed by the CKA settings; a cached matrix is served without loading the network's weights.
Every file carries its SHA-256 and is written atomically (``ckatools.storage``): one whose bytes
do not match (flipped, truncated, another format) is discarded and recomputed, never served; a
permission or I/O error is raised with its path and deletes nothing. A lock file per entry lets
one process train it while others wait for its result; ``clean`` touches only folders ckatools
made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from ckatools import storage
from ckatools.capture import CKA_BATCH_SIZE, CKAResult, model_cka
from ckatools.data import cache_dir, load
from ckatools.models import ResNet
from ckatools.training.config import TrainConfig, fraction_label
from ckatools.training.cost import cpu_seconds, stack_size
from ckatools.training.loop import (
    TrainResult,
    build_model,
    default_device,
    evaluate,
    resumed_epochs,
    train,
    train_together,
    training_data,
)

__all__ = [
    "FORMAT_VERSION",
    "key",
    "entry_dir",
    "describe",
    "cached",
    "holds",
    "claim",
    "get",
    "prepare",
    "stacks",
    "cka_matrix",
    "snapshots",
    "entries",
    "clean",
]

FORMAT_VERSION = 1


# Fields added to TrainConfig after the cache's first format, with the value every earlier network
# had: they enter the key only when set otherwise, so earlier entries keep their keys.
LATER_FIELDS = {"warmup_epochs": 0, "bf16_cpu": False}


def _canonical(name: str, value):
    """One spelling per value, so that equal configurations share a key: integral widths and
    depths as int (as the profiles write them), fractions as float, numpy scalars as Python's."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if name == "fraction":
        return float(value)
    return int(value) if float(value).is_integer() and name in ("width", "depth") else value


def key(config: TrainConfig) -> str:
    """A stable short hash of the configuration and the cache format."""
    fields = {
        k: _canonical(k, v)
        for k, v in dataclasses.asdict(config).items()
        if LATER_FIELDS.get(k, None) != v
    }
    text = json.dumps({"format": FORMAT_VERSION, **fields}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _root() -> Path:
    return cache_dir() / "models"


def entry_dir(config: TrainConfig) -> Path:
    plain = "" if config.residual else "-plain"
    data = f"{config.dataset}-f{config.fraction:.4g}-s{config.seed}"
    name = f"resnet{config.depth}x{config.width:g}{plain}-{data}"
    return _root() / f"{name}-{key(config)}"


MARKER = "ckatools-entry.json"  # written into every entry folder ckatools makes


def _discard(path: Path, reason: object, what: str = "cache entry") -> None:
    """Remove a corrupt file and say so, by path; a file of an older ckatools (no checksum, so
    unverifiable, but maybe hours of training) is moved aside to ``<name>.legacy`` instead."""
    legacy = getattr(reason, "legacy", False)
    warnings.warn(
        f"discarding unreadable {what} {path} ({reason}); it will be recomputed"
        + (f" (kept as {path.name}.legacy)" if legacy else ""),
        RuntimeWarning,
        stacklevel=3,
    )
    if legacy:
        os.replace(path, path.with_name(f"{path.name}.legacy"))
    else:
        path.unlink(missing_ok=True)


def _read(path: Path, config: TrainConfig) -> dict | None:
    """The entry's contents, or None when it is missing, corrupt or of another configuration.

    A corrupt entry is deleted (it will be retrained); an ``OSError`` such as a permission error
    is raised with the path and deletes nothing.
    """
    try:
        entry = storage.load(path)
    except (FileNotFoundError, NotADirectoryError):  # no entry (yet)
        return None
    except storage.CorruptFile as error:
        _discard(path, error)
        for matrix in path.parent.glob("cka-*.pt"):  # computed from the discarded network
            matrix.unlink()
        return None
    if not holds(entry, config):  # another version's entry: keep it
        warnings.warn(
            f"{path} holds another configuration or format; training a network for this one",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return entry


def holds(entry: dict, config: TrainConfig) -> bool:
    """Whether a stored entry (as read from ``model.pt``) is of this cache format and holds the
    network of ``config`` (fields added in later versions read as their defaults)."""
    stored = {**LATER_FIELDS, **entry.get("config", {})}
    mismatch = any(stored.get(k) != v for k, v in dataclasses.asdict(config).items())
    return entry.get("format") == FORMAT_VERSION and not mismatch


def claim(folder: Path, config: TrainConfig) -> None:
    """Make the entry's folder (checking the cache is writable) and mark it as ckatools'."""
    storage.writable(folder)
    marker = folder / MARKER
    if not marker.exists():
        text = json.dumps({"key": key(config), "config": dataclasses.asdict(config)}, indent=1)
        marker.write_text(text + "\n")


def describe(config: TrainConfig) -> str:
    """'ResNet-14 ×0.5, fashion-mnist 1/16, seed 0': a network of the cache in a few words."""
    return f"{config.label}, {config.dataset} {fraction_label(config.fraction)}, seed {config.seed}"


def cached(config: TrainConfig) -> bool:
    """Whether the network of ``config`` has a complete cache entry (get() will not train it)."""
    return (entry_dir(config) / "model.pt").exists()


def get(
    config: TrainConfig,
    *,
    device: torch.device | None = None,
    progress: bool = True,
    announce: bool = True,
    on_epoch: Callable[[int], None] | None = None,
) -> tuple[ResNet, TrainResult]:
    """The trained network for ``config`` (in eval mode on ``device``) and its
    :class:`~ckatools.training.TrainResult`.

    With ``announce``, prints once whether the network was loaded from the cache or trained.
    One process trains an entry at a time (a lock file per entry): a second process asking for
    the same network waits, then loads what the first stored. ``on_epoch(epoch)`` is called
    after each epoch trained now.

    Args:
        config: the network, its data and recipe; its fields (hashed) are the cache key.
        device: where the returned network lives (and trains, if it must).

    Returns:
        The :class:`~ckatools.models.ResNet` in eval mode and its
        :class:`~ckatools.training.TrainResult` (test ``correct`` (n_test,), ``logits``
        (n_test, classes), accuracies, per-epoch history, wall time).
    """
    device = torch.device(device) if device is not None else default_device()
    folder = entry_dir(config)
    entry = _read(folder / "model.pt", config)
    if entry is None:
        claim(folder, config)
        waiting = lambda: print(f"{describe(config)}: waiting for another process training it")
        with storage.locked(folder, on_wait=waiting if announce else None):
            entry = _read(folder / "model.pt", config)  # the other process may have made it
            if entry is None:
                return _train_entry(config, folder, device, progress, announce, on_epoch)
    if announce:
        print(f"{describe(config)}: loaded from cache")
    model = build_model(config, entry["num_classes"], entry["input_shape"][0])
    model.load_state_dict(entry["model"])
    model = model.to(device).eval()
    if "train_accuracy" not in entry["results"]:  # entries written before it was measured
        entry["results"]["train_accuracy"] = evaluate(model, training_data(config)).accuracy
        storage.save(entry, folder / "model.pt")
    results = entry["results"]
    if "device" not in results and "device" in entry:  # entries written before results kept it
        results = {**results, "device": torch.device(entry["device"]).type}
    return model, TrainResult.from_dict(results)


def _train_entry(
    config: TrainConfig,
    folder: Path,
    device: torch.device,
    progress: bool,
    announce: bool,
    on_epoch: Callable[[int], None] | None,
) -> tuple[ResNet, TrainResult]:
    """Train (or resume) the network of ``config`` and store it; the caller holds the lock."""
    if announce:
        print(f"{describe(config)}: training ({config.epochs} epochs)")
    checkpoint = _checkpoint([config])
    model, results = train(
        config, device=device, checkpoint=checkpoint, progress=progress, on_epoch=on_epoch
    )
    _store(config, folder, model, results, device)
    checkpoint.unlink(missing_ok=True)
    return model.eval(), results


def _store(
    config: TrainConfig, folder: Path, model: ResNet, results: TrainResult, device: torch.device
) -> None:
    """Write a trained network's entry (atomically, with its checksum)."""
    entry = dict(
        format=FORMAT_VERSION,
        config=dataclasses.asdict(config),
        results=results.to_dict(),
        num_classes=model.fc.out_features,
        input_shape=(model.stem.conv.in_channels,),
        model={k: v.cpu() for k, v in model.state_dict().items()},
        device=str(device),
    )
    storage.save(entry, folder / "model.pt")


def _ignore(epoch: int) -> None:
    """No progress to report (a job of an engine, whose epochs this process cannot see)."""


def _set_threads(threads: int | None) -> None:
    if threads is not None:  # None: the job's own machine decides
        torch.set_num_threads(threads)


def _train_stack(
    configs: list[TrainConfig],
    device: str | None,
    threads: int | None,
    on_epoch: Callable[[int], None],
) -> dict[TrainConfig, dict]:
    """Seeds of one configuration trained as one stack into the cache (by a worker process, or
    by this one): every member's entry is claimed and locked (in folder order, so two processes
    cannot deadlock), members another process stored meanwhile are left out, and each member is
    stored as an ordinary entry whose results say ``stack``. ``on_epoch`` once per member-epoch."""
    _set_threads(threads)
    device = torch.device(device) if device is not None else default_device()
    folders = {c: entry_dir(c) for c in configs}
    for config, folder in folders.items():
        claim(folder, config)
    with contextlib.ExitStack() as locks:
        for folder in sorted(folders.values()):
            locks.enter_context(storage.locked(folder))
        todo = [c for c in configs if _read(folders[c] / "model.pt", c) is None]
        if not todo:
            return {}
        checkpoint = _checkpoint(todo)
        tick = lambda epoch: [on_epoch(epoch) for _ in todo]
        trained = train_together(
            todo, device=device, checkpoint=checkpoint, progress=False, on_epoch=tick
        )
        for config, (model, results) in zip(todo, trained):
            _store(config, folders[config], model, results, device)
        checkpoint.unlink(missing_ok=True)
    return {c: dict(accuracy=r.accuracy, seconds=r.seconds) for c, (_, r) in zip(todo, trained)}


def _checkpoint(group: list[TrainConfig]) -> Path:
    """Where a unit of :func:`prepare`'s work (a network alone, or a stack) keeps its checkpoint."""
    if len(group) == 1:
        return entry_dir(group[0]) / "checkpoint.pt"
    return entry_dir(group[0]) / f"stack{len(group)}-checkpoint.pt"


def _train_unit(
    group: list[TrainConfig],
    device: str | None,
    threads: int | None,
    on_epoch: Callable[[int], None] = _ignore,
) -> dict[TrainConfig, dict]:
    """One unit of :func:`prepare`'s work: a network alone, or a stack of seeds. ``device`` None
    in a worker process bound to a GPU (:func:`_bind_device`) means that GPU."""
    device = device if device is not None else _WORKER_DEVICE
    if len(group) == 1:
        return {group[0]: _train_in_worker(group[0], device, threads, on_epoch)}
    return _train_stack(group, device, threads, on_epoch)


def stacks(
    configs: list[TrainConfig], size: int | Callable[[TrainConfig], int]
) -> list[list[TrainConfig]]:
    """``configs`` in groups of at most ``size`` (or ``size(config)``) that differ only in their
    seed, in order."""
    by_kind: dict[TrainConfig, list[TrainConfig]] = {}
    for config in configs:
        by_kind.setdefault(config.replace(seed=0), []).append(config)
    groups = []
    for members in by_kind.values():
        k = size(members[0]) if callable(size) else size
        groups += [members[i : i + k] for i in range(0, len(members), k)]
    return groups


_WORKER_DEVICE: str | None = None  # the GPU a worker process of prepare() was given


def _bind_device(devices, parent: int | None = None) -> None:
    """Initializer of a worker process of :func:`prepare`: end with ``parent`` (the process that
    started it, :func:`_die_with_parent`), then take one device off the shared queue ``devices``
    and train every unit of this worker on it."""
    global _WORKER_DEVICE
    if parent is not None:
        _die_with_parent(parent)
    _WORKER_DEVICE = devices.get()


def _die_with_parent(parent: int) -> None:
    """On Linux, have the kernel stop this process when ``parent`` dies, so that a ``prepare``
    that is killed leaves no worker training on beside the next one (a network's per-epoch
    checkpoint resumes it later). Elsewhere nothing changes."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def job_devices(jobs: int, count: int) -> list[str | None]:
    """The device of each of ``jobs`` worker processes on a machine with ``count`` GPUs: with
    several GPUs, round-robin (job i on ``cuda:{i % count}``); otherwise None (the default
    device, shared)."""
    return [f"cuda:{i % count}" for i in range(jobs)] if count > 1 else [None] * jobs


def _train_in_worker(
    config: TrainConfig, device: str | None, threads: int | None, on_epoch: Callable[[int], None]
) -> dict:
    """One network trained into the cache with ``threads`` CPU threads (by a worker process, or
    by this one); ``on_epoch(epoch)`` after each epoch (a queue's ``put`` from a worker)."""
    _set_threads(threads)
    _, results = get(config, device=device, progress=False, announce=False, on_epoch=on_epoch)
    return dict(accuracy=results.accuracy, seconds=results.seconds)


def prepare(
    configs,
    *,
    device: torch.device | str | None = None,
    jobs: int = 1,
    stack: int | None = None,
    executor=None,
    progress: bool = True,
) -> dict[TrainConfig, dict]:
    """Train every network of ``configs`` that the cache lacks, ``jobs`` at a time.

    Up to ``stack`` seeds of one configuration train together as one stacked network
    (:func:`~ckatools.training.loop.train_together`), each stored as its own ordinary entry;
    ``None`` (the default) lets :func:`ckatools.training.cost.stack_size` choose per
    configuration (stacks of narrow networks trained in bfloat16 on a CPU that has it natively,
    1 elsewhere); with ``jobs`` too, each job trains a stack.

    The progress bar counts epochs, over all networks (with several jobs too); it starts at the
    epochs that the checkpoints of interrupted runs resume, and names those runs. With several jobs
    each network trains in its own process with its share of the CPU threads. Narrow networks use
    two threads poorly (their layers are too small to split): on 2 cores two jobs of one thread
    each trained four ResNet-38 ×0.25 1.55x faster than one job, four ResNet-14 ×1 only 1.09x
    (``benchmarks/bench_prepare.py``). The thread count changes the rounding of CPU arithmetic,
    so a network trained in a job is not bit-identical to one trained with all threads. Jobs
    start with the networks estimated to take longest (:mod:`ckatools.training.cost`). On a
    machine with several GPUs, each job has its own GPU (round-robin, :func:`job_devices`)
    unless ``device`` names one.

    ``executor``: hand the units (networks or stacks) to an engine instead, e.g. a ``submitit``
    executor (SLURM, or its local mode) or any ``concurrent.futures`` executor; anything with
    ``submit(fn, *args)`` returning a job with ``result()``. Its jobs share this cache (a shared
    folder on a cluster): the per-entry locks make a network that two jobs ask for train once.
    Without ``stack``, each network is its own job (stacks are sized for this machine, not the
    jobs'). The bar then counts the epochs of finished units; failed units are all reported
    at the end, by network. Returns
    each config's test accuracy and training seconds, with ``trained`` True where it was trained
    now.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context
    from multiprocessing.managers import SyncManager

    from tqdm.auto import tqdm

    if jobs < 1 or (stack is not None and stack < 1):
        raise ValueError(f"jobs and stack must be at least 1, got {jobs} and {stack}")
    configs = list(dict.fromkeys(configs))
    found = {}
    for config in filter(cached, configs):
        entry = _read(entry_dir(config) / "model.pt", config)  # a corrupt one joins the missing
        if entry is not None:
            results = entry["results"]
            found[config] = dict(
                accuracy=results["accuracy"], seconds=results["seconds"], trained=False
            )
    missing = [c for c in configs if c not in found]
    if missing:
        storage.writable(_root())  # before the first epoch, not after it
    device = None if device is None else str(device)
    threads = max(1, torch.get_num_threads() // jobs)

    def record(done: dict[TrainConfig, dict]) -> None:
        for config, results in done.items():
            found[config] = dict(results, trained=True)
            if progress:
                bar.write(
                    f"  {describe(config)}: accuracy {results['accuracy']:.4f}, "
                    f"{results['seconds']:.0f} s"
                )
        bar.set_postfix_str(f"{len(found)}/{len(configs)} networks")

    failed = {}

    def settle(group: list[TrainConfig], result: Callable[[], dict]) -> None:
        """Record a finished unit, or its failure: the other units go on, and every failure is
        raised at the end, by network."""
        try:
            record(result())
        except Exception as error:
            failed[group[0]] = error
            bar.write(f"  {describe(group[0])} ({len(group)} seeds): failed ({error})")

    if stack is None and executor is not None:
        units = stacks(missing, 1)  # the jobs' machines are not this one: no stacks by default
    elif stack is None:
        units = stacks(missing, lambda config: stack_size(config, device))
    else:
        units = stacks(missing, stack)
    if executor is not None or jobs > 1:
        # Longest first (the LPT rule): a wide network started last would train alone on its
        # share of the threads (or its job) while the others idle.
        units.sort(key=lambda group: sum(map(cpu_seconds, group)), reverse=True)
    # The bar starts at the epochs that checkpoints of interrupted runs resume (an engine's bar
    # counts finished units whole, so it starts at 0).
    counted = progress and executor is None
    resumed = [resumed_epochs(g, _checkpoint(g)) if counted else 0 for g in units]
    bar = tqdm(
        total=sum(c.epochs for c in missing),
        initial=sum(e * len(g) for e, g in zip(resumed, units)),
        desc="training",
        unit="epoch",
        disable=not progress,
    )
    for epochs, group in zip(resumed, units):
        if epochs and progress:
            seeds = f" (stack of {len(group)} seeds)" if len(group) > 1 else ""
            bar.write(f"  {describe(group[0])}{seeds}: resumes at epoch {epochs}")
    if executor is not None:
        submitted = [(executor.submit(_train_unit, g, device, None), g) for g in units]
        for job, group in submitted:
            settle(group, job.result)
            bar.update(sum(c.epochs for c in group))
    elif jobs == 1:
        tick = lambda epoch: bar.update()
        for group in units:
            record(_train_unit(group, device, torch.get_num_threads(), tick))
    else:
        spawn = get_context("spawn")
        count = torch.cuda.device_count() if device is None else 0
        manager = SyncManager(ctx=spawn)
        manager.start(_die_with_parent, (os.getpid(),))  # no helper outlives a killed prepare
        with manager:
            ticks, devices = manager.Queue(), manager.Queue()
            for bound in job_devices(jobs, count):
                devices.put(bound)
            pool = ProcessPoolExecutor(
                jobs, mp_context=spawn, initializer=_bind_device, initargs=(devices, os.getpid())
            )
            with pool:
                submit = lambda g: pool.submit(_train_unit, g, device, threads, ticks.put)
                pending = {submit(g): g for g in units}
                while pending:
                    done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    while not ticks.empty():
                        ticks.get()
                        bar.update()
                    for future in done:
                        settle(pending.pop(future), future.result)
    bar.close()
    if failed:
        names = "; ".join(f"{describe(c)}: {e}" for c, e in failed.items())
        raise RuntimeError(f"{len(failed)} of {len(units)} trainings failed: {names}")
    return {c: found[c] for c in configs}


def begun(config: TrainConfig) -> bool:
    """Whether an unfinished run of ``config`` left a checkpoint that :func:`get` resumes."""
    return not cached(config) and any(entry_dir(config).glob("*checkpoint.pt"))


def has_snapshots(config: TrainConfig, epochs) -> bool:
    """Whether the cache holds every one of ``epochs``' snapshots of ``config`` (:func:`snapshots`
    will not train)."""
    return all((entry_dir(config) / "snapshots" / f"epoch-{e}.pt").exists() for e in epochs)


def snapshots(
    config: TrainConfig, epochs, *, device: torch.device | None = None
) -> dict[int, ResNet]:
    """The network of ``config`` as it was after each of ``epochs`` (in eval mode), from one
    training run that stops at each epoch and resumes; each snapshot is cached beside the entry.

    On the CPU the snapshot at the last epoch equals the network :func:`get` trains with the same
    number of threads; a network :func:`prepare` trained in a job of fewer threads differs by
    floating-point rounding, grown over training.
    """
    device = torch.device(device) if device is not None else default_device()
    folder = entry_dir(config) / "snapshots"
    data = training_data(config)
    found = {}
    for epoch in sorted(set(epochs)):
        if not 1 <= epoch <= config.epochs:
            raise ValueError(f"snapshot epochs must lie in 1..{config.epochs}, got {epoch}")
        path = folder / f"epoch-{epoch}.pt"
        if not path.exists():
            model, _ = train(
                config,
                device=device,
                checkpoint=folder / "checkpoint.pt",
                progress=False,
                stop_after=epoch,
            )
            storage.save({k: v.cpu() for k, v in model.state_dict().items()}, path)
        model = build_model(config, data.num_classes, data.images.shape[1])
        try:
            model.load_state_dict(storage.load(path))
        except storage.CorruptFile as error:
            _discard(path, error, "snapshot")
            return snapshots(config, epochs, device=device)
        found[epoch] = model.to(device).eval()
    (folder / "checkpoint.pt").unlink(missing_ok=True)
    return found


def cka_matrix(
    config: TrainConfig,
    model: ResNet | None = None,
    *,
    images: int | None = None,
    passes: int = 10,
    batch_size: int = CKA_BATCH_SIZE,
    progress: bool = True,
) -> CKAResult:
    """Within-model CKA of the trained network for ``config`` on the first ``images`` test images
    (all if None).

    Cached beside the network, keyed by the CKA settings. A cached matrix is returned without
    touching the weights; otherwise ``model`` (or, when None, the network from :func:`get`) is run.
    """
    test = load(config.dataset, train=False)
    n = len(test) if images is None else min(images, len(test))
    path = entry_dir(config) / f"cka-n{n}-p{passes}-b{batch_size}.pt"
    if path.exists() and (entry_dir(config) / "model.pt").exists():
        try:
            matrix = storage.load(path)
            layers = _architecture(config, test).representations()
            return CKAResult(matrix, layers, layers)
        except storage.CorruptFile as error:
            _discard(path, error, "CKA matrix")
    if model is None:
        model, _ = get(config, progress=progress)
    result = model_cka(
        model, test.unit()[:n], batch_size=batch_size, passes=passes, progress=progress
    )
    storage.save(result.matrix, path)
    return result


def _architecture(config: TrainConfig, data) -> ResNet:
    """The network's structure without weights (its representation list needs no training)."""
    with torch.device("meta"):
        return build_model(config, data.num_classes, data.images.shape[1])


def entries() -> list[dict]:
    """Config, accuracy and training time of every complete entry in the cache (``config`` None
    for an entry that fails its checksum)."""
    found = []
    for path in sorted(_root().glob("*/model.pt")):
        try:
            entry = storage.load(path)
            found.append(
                dict(
                    path=str(path.parent),
                    config=entry["config"],
                    accuracy=entry["results"].get("accuracy"),
                    seconds=entry["results"].get("seconds"),
                )
            )
        except storage.CorruptFile:
            found.append(dict(path=str(path.parent), config=None, accuracy=None, seconds=None))
    return found


def clean(*, partial_only: bool = True, dry_run: bool = False) -> list[Path]:
    """Remove unfinished entries (or, with ``partial_only=False``, every entry) and return their
    folders; with ``dry_run``, only return them.

    Only folders that ckatools made (they hold its marker file) are touched, and none that
    another process is training right now (its lock is held): anything else under the cache's
    ``models`` folder is left alone.
    """
    root = _root()
    folders = sorted(p for p in root.glob("*") if (p / MARKER).is_file()) if root.exists() else []
    doomed = [
        f
        for f in folders
        if (not partial_only or not (f / "model.pt").exists()) and not storage.busy(f)
    ]
    if not dry_run:
        for folder in doomed:
            shutil.rmtree(folder)
    return doomed
