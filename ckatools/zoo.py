"""Two caches on disk, both keyed by a stable hash of a network's configuration.

The model cache: ``get(config)`` returns the cached network if there is a valid entry, resumes a
partial run from its checkpoint, and trains from scratch otherwise, and says which it did.
The CKA cache: ``heatmap(config, ...)`` stores each within-model CKA matrix beside its network,
keyed by the CKA settings; a cached matrix is served without loading the network's weights.
Entries are written atomically; one that cannot be read back (truncated, corrupt, or of another
format) is discarded and recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import warnings
from pathlib import Path

import torch

from .capture import CKA_BATCH_SIZE, CKAResult, model_cka
from .data import cache_dir, load
from .models import ResNet
from .train import (
    TrainConfig,
    atomic_save,
    build_model,
    default_device,
    evaluate,
    fraction_label,
    train,
    training_data,
)

__all__ = [
    "FORMAT_VERSION",
    "key",
    "entry_dir",
    "describe",
    "cached",
    "get",
    "prepare",
    "heatmap",
    "snapshots",
    "entries",
    "clean",
]

FORMAT_VERSION = 1


def key(config: TrainConfig) -> str:
    """A stable short hash of the configuration and the cache format."""
    text = json.dumps({"format": FORMAT_VERSION, **dataclasses.asdict(config)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _root() -> Path:
    return cache_dir() / "models"


def entry_dir(config: TrainConfig) -> Path:
    plain = "" if config.residual else "-plain"
    data = f"{config.dataset}-f{config.fraction:.4g}-s{config.seed}"
    name = f"resnet{config.depth}x{config.width:g}{plain}-{data}"
    return _root() / f"{name}-{key(config)}"


def _read(path: Path, config: TrainConfig) -> dict | None:
    """The entry's contents, or None when it is missing or unusable."""
    if not path.exists():
        return None
    try:
        entry = torch.load(path, map_location="cpu", weights_only=False)
        if entry["format"] != FORMAT_VERSION or entry["config"] != dataclasses.asdict(config):
            raise ValueError("entry does not match its configuration")
        return entry
    except Exception as error:
        warnings.warn(
            f"discarding unreadable cache entry {path} ({error}); it will be retrained",
            RuntimeWarning,
            stacklevel=3,
        )
        path.unlink()
        return None


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
) -> tuple[ResNet, dict]:
    """The trained network for ``config`` (in eval mode on ``device``) and its results dict.

    With ``announce``, prints once whether the network was loaded from the cache or trained.
    """
    device = torch.device(device) if device is not None else default_device()
    folder = entry_dir(config)
    entry = _read(folder / "model.pt", config)
    if entry is None:
        if announce:
            print(f"{describe(config)}: training ({config.epochs} epochs)")
        checkpoint = folder / "checkpoint.pt"
        model, results = train(config, device=device, checkpoint=checkpoint, progress=progress)
        entry = dict(
            format=FORMAT_VERSION,
            config=dataclasses.asdict(config),
            results=results,
            num_classes=model.fc.out_features,
            input_shape=(model.stem.conv.in_channels,),
            model={k: v.cpu() for k, v in model.state_dict().items()},
            device=str(device),
        )
        atomic_save(entry, folder / "model.pt")
        checkpoint.unlink(missing_ok=True)
        return model.eval(), results
    if announce:
        print(f"{describe(config)}: loaded from cache")
    model = build_model(config, entry["num_classes"], entry["input_shape"][0])
    model.load_state_dict(entry["model"])
    model = model.to(device).eval()
    if "train_accuracy" not in entry["results"]:  # entries written before it was measured
        entry["results"]["train_accuracy"] = evaluate(model, training_data(config))["accuracy"]
        atomic_save(entry, folder / "model.pt")
    return model, entry["results"]


def _train_in_worker(config: TrainConfig, device: str | None, threads: int) -> dict:
    """One network trained into the cache by a worker process with ``threads`` CPU threads."""
    torch.set_num_threads(threads)
    _, results = get(config, device=device, progress=False, announce=False)
    return dict(accuracy=results["accuracy"], seconds=results["seconds"])


def prepare(
    configs, *, device: torch.device | str | None = None, jobs: int = 1, progress: bool = True
) -> dict[TrainConfig, dict]:
    """Train every network of ``configs`` that the cache lacks, ``jobs`` at a time.

    With several jobs each network trains in its own process with its share of the CPU threads.
    Narrow networks use two threads poorly (their layers are too small to split): on 2 cores two
    jobs of one thread each trained four ResNet-38 ×0.25 1.55x faster than one job, four
    ResNet-14 ×1 only 1.09x (``benchmarks/bench_prepare.py``). The thread count changes the
    rounding of CPU arithmetic, so a network trained in a job is not bit-identical to one trained
    with all threads. Returns each config's test accuracy and training seconds, with ``trained``
    True where it was trained now.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from tqdm.auto import tqdm

    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    configs = list(dict.fromkeys(configs))
    found = {}
    for config in filter(cached, configs):
        _, results = get(config, device="cpu", announce=False)
        found[config] = dict(
            accuracy=results["accuracy"], seconds=results["seconds"], trained=False
        )
    missing = [c for c in configs if c not in found]
    device = None if device is None else str(device)
    threads = max(1, torch.get_num_threads() // jobs)
    bar = tqdm(total=len(missing), desc="training", unit="net", disable=not progress)

    def record(config: TrainConfig, results: dict) -> None:
        found[config] = dict(results, trained=True)
        bar.write(
            f"  {describe(config)}: accuracy {results['accuracy']:.4f}, {results['seconds']:.0f} s"
        )
        bar.update()

    if jobs == 1:
        for config in missing:
            record(config, _train_in_worker(config, device, torch.get_num_threads()))
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_train_in_worker, c, device, threads): c for c in missing}
            for future in as_completed(futures):
                record(futures[future], future.result())
    bar.close()
    return {c: found[c] for c in configs}


def snapshots(
    config: TrainConfig, epochs, *, device: torch.device | None = None
) -> dict[int, ResNet]:
    """The network of ``config`` as it was after each of ``epochs`` (in eval mode), from one
    training run that stops at each epoch and resumes; each snapshot is cached beside the entry.

    On the CPU the snapshot at the last epoch equals the network :func:`get` trains.
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
            atomic_save({k: v.cpu() for k, v in model.state_dict().items()}, path)
        model = build_model(config, data.num_classes, data.images.shape[1])
        model.load_state_dict(torch.load(path, map_location="cpu"))
        found[epoch] = model.to(device).eval()
    (folder / "checkpoint.pt").unlink(missing_ok=True)
    return found


def heatmap(
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
            layers = _architecture(config, test).representations()
            return CKAResult(torch.load(path, weights_only=False), layers, layers)
        except Exception as error:
            warnings.warn(
                f"discarding unreadable CKA cache {path} ({error})", RuntimeWarning, stacklevel=2
            )
    if model is None:
        model, _ = get(config, progress=progress)
    result = model_cka(
        model, test.float()[:n], batch_size=batch_size, passes=passes, progress=progress
    )
    atomic_save(result.matrix, path)
    return result


def _architecture(config: TrainConfig, data) -> ResNet:
    """The network's structure without weights (its representation list needs no training)."""
    with torch.device("meta"):
        return build_model(config, data.num_classes, data.images.shape[1])


def entries() -> list[dict]:
    """Config, accuracy and training time of every complete entry in the cache."""
    found = []
    for path in sorted(_root().glob("*/model.pt")):
        try:
            entry = torch.load(path, map_location="cpu", weights_only=False)
            found.append(
                dict(
                    path=str(path.parent),
                    config=entry["config"],
                    accuracy=entry["results"].get("accuracy"),
                    seconds=entry["results"].get("seconds"),
                )
            )
        except Exception:
            found.append(dict(path=str(path.parent), config=None, accuracy=None, seconds=None))
    return found


def clean(*, partial_only: bool = True) -> int:
    """Remove unfinished entries (or, with ``partial_only=False``, everything); returns how many
    folders went.
    """
    removed = 0
    for folder in sorted(_root().glob("*")) if _root().exists() else []:
        if not partial_only or not (folder / "model.pt").exists():
            shutil.rmtree(folder)
            removed += 1
    return removed
