"""The regime a chapter's networks were trained in, read back from the captions it printed.

:func:`ckatools.book.experiments.provenance` prints, under each figure, the profile, the data, the
schedule and every network's training and test accuracy. :func:`read` parses those captions
from a notebook's stored outputs, so the book can put its regime beside the paper's, and gate
its verdicts on it (:func:`ckatools.analysis.verdicts.in_regime`), from what the chapters printed,
never from typed numbers. ``tests/test_regime.py`` reads back captions that ``provenance``
writes, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ckatools.analysis.verdicts import FIT
from ckatools.book import paper
from ckatools.training import TRAINED_ACCURACY

__all__ = [
    "Network",
    "Regime",
    "architecture_size",
    "read",
    "deciding",
    "book_box",
    "chapter_line",
]

_HEAD = re.compile(
    r"^Provenance: (?P<profile>\S+) profile; (?P<dataset>[^,]+), class-balanced training "
    r"sets?:? (?P<data>.+)$"
)
_IMAGES = re.compile(r"(?P<fraction>\S+) \((?P<images>[\d,]+) images\)")
_EPOCHS = re.compile(r"^(?P<epochs>\d+) epochs")
_NETWORK = re.compile(
    r"(?P<name>(?P<kind>ResNet|Plain)-(?P<depth>\d+) ×(?P<width>[\d.]+)) (?P<fraction>\S+) "
    r"s(?P<seed>\d+) (?P<train>[\d.]+)%/(?P<test>[\d.]+)%"
)
_GROUP = re.compile(  # a group of seeds, as experiments.group_provenance prints it
    r"(?P<name>(?P<kind>ResNet|Plain)-(?P<depth>\d+) ×(?P<width>[\d.]+)), (?P<seeds>seeds [^(]+) "
    r"\((?P<count>\d+) networks?\): train [\d.]+%(?: ± [\d.]+%)? \(trained: (?P<low>[\d.]+)%-"
    r"(?P<high>[\d.]+)%\), test (?P<test>[\d.]+)%"
)


def architecture_size(depth: int, width: float) -> float:
    """Depth x width²: proportional to a ResNet's multiply-adds, to find a series' largest."""
    return depth * width**2


@dataclass(frozen=True)
class Network:
    """One network as a caption lists it (accuracies as fractions, at the printed precision),
    or a group of seeds of one architecture (Chapter 9's), read as its lowest training accuracy
    among the networks that trained (what decides whether the group fits its data)."""

    name: str  # the architecture: "ResNet-56 ×1"
    fraction: str  # "1/16"
    seed: int | None  # None for a group
    train_accuracy: float  # unaugmented; a group's lowest
    accuracy: float  # test; a group's mean
    depth: int
    width: float
    seeds: str = ""  # a group's seeds as printed: "seeds 0-3, 5, 6"
    count: int = 1  # networks: more than one for a group
    highest: float | None = None  # a group's highest training accuracy

    @property
    def label(self) -> str:
        return f"{self.name} {self.fraction} " + (self.seeds or f"s{self.seed}")

    @property
    def train_accuracies(self) -> tuple[float, ...]:
        """The lowest and highest training accuracy (one network: its own, once)."""
        return (
            (self.train_accuracy,) if self.highest is None else (self.train_accuracy, self.highest)
        )

    @property
    def size(self) -> float:
        return architecture_size(self.depth, self.width)


@dataclass(frozen=True)
class Regime:
    """One caption: the profile, data and schedule of one figure's networks, and the networks."""

    profile: str
    dataset: str
    images: tuple[int, ...]  # training images, one entry per data fraction
    epochs: int
    networks: tuple[Network, ...]
    fractions: tuple[str, ...] = ()  # the data fractions, as printed: "1/16"

    @property
    def largest(self) -> tuple[Network, ...]:
        """The largest architecture of the figure that trained (every seed, every data
        fraction): a network that did not train measures nothing and decides nothing."""
        trained = [n for n in self.networks if n.train_accuracy >= TRAINED_ACCURACY]
        top = max((n.size for n in trained), default=None)
        return tuple(n for n in trained if n.size == top)


def _logical_lines(text: str) -> list[str]:
    """Undo ``textwrap.fill(..., subsequent_indent="  ")``: continuation lines start with two
    spaces; a line broken after a hyphen ("ResNet-" / "14") joins without a space."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("  ") and lines:
            glue = "" if lines[-1].endswith("-") else " "
            lines[-1] += glue + line.strip()
        else:
            lines.append(line)
    return lines


def _networks(line: str) -> tuple[Network, ...]:
    """The networks a caption's accuracy line lists one by one."""
    return tuple(
        Network(
            name=m["name"],
            fraction=m["fraction"],
            seed=int(m["seed"]),
            train_accuracy=float(m["train"]) / 100,
            accuracy=float(m["test"]) / 100,
            depth=int(m["depth"]),
            width=float(m["width"]),
        )
        for m in _NETWORK.finditer(line)
    )


def _groups(line: str, fraction: str) -> tuple[Network, ...]:
    """The groups of seeds a group caption's accuracy line lists (one data ``fraction``); a
    group none of whose networks trained is not listed."""
    return tuple(
        Network(
            name=m["name"],
            fraction=fraction,
            seed=None,
            train_accuracy=float(m["low"]) / 100,
            accuracy=float(m["test"]) / 100,
            depth=int(m["depth"]),
            width=float(m["width"]),
            seeds=m["seeds"].strip(),
            count=int(m["count"]),
            highest=float(m["high"]) / 100,
        )
        for m in _GROUP.finditer(line)
    )


def read(text: str) -> list[Regime]:
    """Every provenance caption in ``text`` (a notebook's printed outputs), in order."""
    lines, found = _logical_lines(text), []
    for i, line in enumerate(lines):
        head = _HEAD.match(line)
        if head is None or i + 2 >= len(lines):
            continue
        epochs = _EPOCHS.match(lines[i + 1])
        networks = _networks(lines[i + 2]) or _groups(lines[i + 2], head["data"].split()[0])
        if epochs is None or not networks:
            continue
        data = list(_IMAGES.finditer(head["data"]))
        images = tuple(int(m["images"].replace(",", "")) for m in data)
        fractions = tuple(m["fraction"] for m in data)
        found.append(
            Regime(
                head["profile"], head["dataset"], images, int(epochs["epochs"]), networks, fractions
            )
        )
    return found


def deciding(regimes: Iterable[Regime]) -> dict[str, float]:
    """Network label -> training accuracy of the networks that decide a claim about capacity:
    the largest architecture of each caption, every seed."""
    return {n.label: n.train_accuracy for r in regimes for n in r.largest}


def _percent(value: float) -> str:
    """A training accuracy in words: whole percent, or tenths near a fit (99.5 % is not 100 %)."""
    return f"{value:.1%}" if value >= FIT else f"{value:.0%}"


def _span(values: Sequence[float]) -> str:
    low, high = _percent(min(values)), _percent(max(values))
    return low if low == high else f"{low}-{high}"


def _accuracies(networks: Sequence[Network]) -> list[float]:
    return [a for n in networks for a in n.train_accuracies]


def _architectures(networks: Sequence[Network]) -> str:
    depths = sorted({n.depth for n in networks})
    widths = sorted({n.width for n in networks})
    plain = " and plain networks" if any(n.name.startswith("Plain") for n in networks) else ""
    return (
        f"ResNet-{depths[0]} to ResNet-{depths[-1]}{plain}, ×{widths[0]:g} to ×{widths[-1]:g} "
        f"({sum({n.label: n.count for n in networks}.values())} networks)"
    )


NAMES = {  # the datasets as the book's prose names them
    "fashion-mnist-m": "Fashion-MNIST-M",
    "fashion-mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "synthetic": "synthetic images",
}


def book_box(regimes: Sequence[Regime]) -> list[str]:
    """Markdown rows: the book's regime (from its captions) beside the paper's."""
    networks = [n for r in regimes for n in r.networks]
    if not networks:
        return ["No chapter's stored outputs print a provenance caption yet."]
    profiles = ", ".join(f"`{p}`" for p in sorted({r.profile for r in regimes}))
    datasets = ", ".join(sorted({NAMES.get(r.dataset, r.dataset) for r in regimes}))
    sizes = {(i, f) for r in regimes for i, f in zip(r.images, r.fractions or r.images)}
    images = ", ".join(f"{i:,} ({f})" for i, f in sorted(sizes))
    epochs = ", ".join(map(str, sorted({r.epochs for r in regimes})))
    largest = deciding(regimes)
    fit = sum(a >= FIT for a in largest.values())
    return [
        f"| | this book ({profiles} profile, read from the chapters' outputs) | the paper |",
        "|---|---|---|",
        f"| data | {datasets} | {paper.DATA} |",
        f"| training images | {images} | {paper.TRAIN_IMAGES:,} (and subsets, Fig. 2) |",
        f"| epochs | {epochs} | {paper.EPOCHS} |",
        f"| networks | {_architectures(networks)} | {paper.ARCHITECTURES} |",
        f"| training accuracy | {_span(_accuracies(networks))}; the largest of "
        f"each figure: {_span(list(largest.values()))} | {paper.TRAIN_ACCURACY} |",
        f"| the largest networks fit (>= {FIT:.0%}; the largest architecture of each figure, "
        f"every seed) | {fit} of {len(largest)} | all |",
    ]


WHOSE = {
    "own": "these networks",
    "reused": "this chapter reuses Chapter 3's networks, which",
    "book": "this page judges no figure on networks of its own; the book's chapters' networks",
}


def chapter_line(regimes: Sequence[Regime], *, whose: str = "own") -> str:
    """One sentence for a chapter's result box: its networks' regime beside the paper's.
    ``whose``: "own" (the chapter's captions), "reused" (Chapter 3's, which it reuses) or
    "book" (every chapter's: the page prints no caption of a figure's networks)."""
    networks = [n for r in regimes for n in r.networks]
    images = "/".join(f"{i:,}" for i in sorted({i for r in regimes for i in r.images}))
    epochs = "/".join(map(str, sorted({r.epochs for r in regimes})))
    largest = deciding(regimes)
    fit = sum(a >= FIT for a in largest.values())
    return (
        f"Regime: {WHOSE[whose]} ({NAMES.get(regimes[0].dataset, regimes[0].dataset)}, "
        + (f"{images} training images, " if images else "")
        + f"{epochs} "
        f"epochs) reach {_span(_accuracies(networks))} training accuracy; "
        f"{fit} of the {len(largest)} largest fit their data (>= {FIT:.0%}). The paper's "
        f"networks ({paper.DATA}, {paper.TRAIN_IMAGES:,} images, {paper.EPOCHS} epochs) reach "
        f"{paper.TRAIN_ACCURACY}."
    )
