"""The study's networks as records: each measured once (:func:`measure_network`) into one small
``.npz`` in ``results/`` and read back as a :class:`Measured` (:func:`load_results`); the
heatmaps labelled by eye (:func:`labels`)."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ckatools.analysis.blocks import Block, relative_block, strict_block
from ckatools.training import TrainConfig, TrainResult

__all__ = [
    "RESULTS",
    "CKA_IMAGES",
    "CKA_PASSES",
    "PCA_IMAGES",
    "result_folder",
    "result_path",
    "as_run",
    "Span",
    "Measured",
    "measure_network",
    "load_results",
    "LABELS",
    "Label",
    "labels",
]


RESULTS = Path(__file__).resolve().parent / "results"

CKA_IMAGES, CKA_PASSES, PCA_IMAGES = 2048, 2, 512


def result_folder(dataset: str) -> Path:
    """Fashion-MNIST's results at the top (as committed by stages 1-3), others in a subfolder."""
    return RESULTS if dataset == "fashion-mnist" else RESULTS / dataset


def result_path(config: TrainConfig) -> Path:
    from ckatools.training.zoo import entry_dir

    return result_folder(config.dataset) / f"{entry_dir(config).name}.npz"


@dataclass(frozen=True)
class Span:
    """A block as a result file stores it: representations ``start``..``end`` (inclusive), its
    score (the fraction of representations it spans, 0 without a block) and its contrast (mean
    CKA inside minus outside; not stored for the strict measure)."""

    start: int
    end: int
    score: float
    contrast: float | None = None


@dataclass(frozen=True)
class Measured:
    """One network of the study as its result file holds it: the same kind of record as a
    chapter's :class:`~ckatools.book.experiments.Run` (``config``, ``results``, ``block``,
    ``trained``, ``title``), with the matrix as an array.

    ``results`` is the network's :class:`~ckatools.training.TrainResult` without per-example
    outputs; ``cka`` is the (layers, layers) within-model CKA matrix, ``pc1`` the (layers,) PC1
    fractions; ``relative`` and ``strict`` are the block measures the study's stages 1-3 used
    (stored when the network was measured); ``block`` is the book's measure
    (:func:`ckatools.analysis.blocks.measure`), computed from ``cka`` when first asked for.
    """

    config: TrainConfig
    results: TrainResult
    cka: np.ndarray
    layers: tuple[str, ...]
    pc1: np.ndarray
    relative: Span
    strict: Span
    file: str  # the result file's name without its suffix

    @functools.cached_property
    def block(self) -> Block:
        from ckatools.analysis.blocks import measure

        return measure(self.cka)

    @property
    def trained(self) -> bool:
        return self.results.trained

    @property
    def title(self) -> str:
        """Two lines for a heatmap panel: architecture and data; test accuracy and block."""
        c = self.config
        if not self.trained:
            found = "did not train"
        else:
            found = f"block {self.block.score:.2f}" if self.block.present else "no block"
        return f"{c.label}, {c.dataset}\ntest {self.results.accuracy:.0%}, {found}"


def as_run(item: Measured):
    """A study network as a chapter's :class:`~ckatools.book.experiments.Run`, from its result
    file alone (no training, no network): its heatmap with its architecture's representations
    (so stage boundaries are drawn and the block's ends are named), the book's block measure, and
    the strict span the file stores. What needs the network itself (activations, probes) does not
    come with it: :func:`ckatools.training.zoo.get` trains or fetches that."""
    import torch

    from ckatools.analysis.blocks import measure
    from ckatools.book.experiments import Run
    from ckatools.capture import CKAResult
    from ckatools.models import resnet

    c = item.config
    layers = resnet(c.depth, c.width, residual=c.residual).representations()
    names = tuple(layer.name for layer in layers)
    if names != item.layers:
        raise ValueError(f"{item.file}: its layers are not those of {c.label} (another version?)")
    cka = CKAResult(torch.as_tensor(item.cka), layers, layers)
    s = item.strict
    strict = Block(s.start, s.end, s.score, float("nan"))
    return Run(c, item.results, cka, measure(cka), strict)


def measure_network(config: TrainConfig) -> Path:
    """Train (or fetch) one network, measure it and write its result file; returns the file."""
    from ckatools.components import pc1_fractions
    from ckatools.data import load
    from ckatools.training import zoo

    model, results = zoo.get(config, progress=False)
    cka = zoo.cka_matrix(config, model, images=CKA_IMAGES, passes=CKA_PASSES, progress=False)
    test = load(config.dataset, train=False)
    pc1 = pc1_fractions(model, test.unit()[:PCA_IMAGES])
    block, strict = relative_block(cka), strict_block(cka)
    summary = dict(  # the file's keys since stage 1 (device: only in later files)
        config=dataclasses.asdict(config),
        train_accuracy=results.train_accuracy,
        test_accuracy=results.accuracy,
        train_size=results.train_size,
        seconds=results.seconds,
        device=results.device,
        block=dict(
            start=int(block.start), end=int(block.end), score=block.score, contrast=block.contrast
        ),
        strict=dict(start=int(strict.start), end=int(strict.end), score=strict.score),
    )
    path = result_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")  # not *.npz: load_results() never sees half a file
    with open(tmp, "wb") as file:
        np.savez_compressed(
            file,
            summary=json.dumps(summary),
            history=json.dumps(list(results.history)),
            layers=np.array([r.name for r in cka.layers_a]),
            cka=cka.matrix.numpy().astype(np.float16),
            pc1=pc1.astype(np.float32),
        )
    tmp.replace(path)  # a reader never sees half a file
    return path


def load_results(dataset: str = "fashion-mnist") -> list[Measured]:
    """Every result file of ``dataset`` as a :class:`Measured` record, in file-name order."""
    found = []
    for path in sorted(result_folder(dataset).glob("*.npz")):
        with np.load(path) as f:
            summary = json.loads(str(f["summary"]))
            history = tuple(json.loads(str(f["history"])))
            layers, cka, pc1 = tuple(f["layers"]), f["cka"].astype(np.float64), f["pc1"]
        config = TrainConfig(**summary["config"])
        results = TrainResult(
            config,
            history,
            summary["seconds"],
            config.epochs,
            summary["train_size"],
            train_accuracy=summary["train_accuracy"],
            accuracy=summary["test_accuracy"],
            device=summary.get("device"),
        )
        relative, strict = Span(**summary["block"]), Span(**summary["strict"])
        found.append(Measured(config, results, cka, layers, pc1, relative, strict, path.stem))
    return found


LABELS = RESULTS / "labels.csv"  # heatmaps labelled by eye, committed before the measure ran


@dataclass(frozen=True)
class Label:
    """One heatmap labelled by eye (``labels.csv``): its dataset and result file, the label
    (block / no block / unsure), the labelled block's first and last representation (None
    without one) and a note."""

    dataset: str
    result: str
    label: str
    start: int | None
    end: int | None
    note: str


def labels() -> list[Label]:
    """The labelled heatmaps, in the file's order."""
    import csv

    with open(LABELS) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    span = lambda value: int(value) if value else None
    return [
        Label(r["dataset"], r["result"], r["label"], span(r["start"]), span(r["end"]), r["note"])
        for r in rows
    ]
