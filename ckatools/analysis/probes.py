"""Sec. 5.2, Fig. 4: linear probes on every pre- and post-residual representation.

A probe is multinomial logistic regression on a representation's flattened activations (as the
paper does), standardized with the training features' mean and standard deviation, fitted by
full-batch L-BFGS in float32, each penalty's fit warm-started from the previous (stronger)
one's solution. When a representation has more features than there are training examples
(the early layers: 16 channels x 28 x 28 = 12,544 features), the probe is fitted in the span of
the training examples instead: the optimal weights of an L2-penalized linear model lie in that
span (the representer theorem), so writing the features in an orthonormal basis of it, from the
eigendecomposition of their n x n Gram matrix, gives the same probe at n instead of p features.
Its L2 penalty is chosen on a validation split carved from the *training*
examples (class-balanced, seeded); the probe is then refitted on all training examples with that
penalty and scored once on the test examples. The test split never influences any choice (the
official code picked epochs and hyperparameters on the test set).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ckatools.analysis.blocks import Block
from ckatools.analysis.verdicts import Check, mean_above
from ckatools.capture import activations, representations_of
from ckatools.data import balanced_subset, load
from ckatools.stats import spearman, split_means, split_values

__all__ = [
    "fit_probe",
    "probe_layers",
    "probe_data",
    "block_gains",
    "ProbeNumbers",
    "probe_numbers",
    "fig4_checks",
    "PENALTIES",
]

PENALTIES = (1e-4, 1e-3, 1e-2, 1e-1)  # L2 penalties tried on the validation split


def _fit(
    x: torch.Tensor,
    y: torch.Tensor,
    classes: int,
    penalty: float,
    steps: int,
    start: torch.Tensor | None = None,
) -> torch.Tensor:
    """Weights (p + 1, classes) of L2-penalized multinomial logistic regression (free bias),
    from ``start`` (a warm start) or from zero."""
    x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    w = torch.zeros(x.shape[1], classes, dtype=x.dtype) if start is None else start.clone()
    w.requires_grad_(True)
    optimizer = torch.optim.LBFGS(
        [w],
        max_iter=steps,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-6,
        tolerance_change=1e-9,
    )

    def loss():
        optimizer.zero_grad()
        value = F.cross_entropy(x @ w, y) + penalty * w[:-1].pow(2).sum()
        value.backward()
        return value

    optimizer.step(loss)
    return w.detach()


def _row_space(x: torch.Tensor) -> torch.Tensor | None:
    """An orthonormal basis (p, rank) of the span of x's rows when p > n, else None.

    Inner products with any vector of that span, and hence a linear model's logits and its L2
    penalty, are unchanged when features are written in this basis.
    """
    if x.shape[1] <= x.shape[0]:
        return None
    values, vectors = torch.linalg.eigh(x @ x.T)
    keep = values > values[-1] * x.shape[1] * torch.finfo(x.dtype).eps
    return x.T @ (vectors[:, keep] / values[keep].sqrt())


def _rebase(w: torch.Tensor, old: torch.Tensor | None, new: torch.Tensor | None) -> torch.Tensor:
    """Weights (with their bias row) written in basis ``old`` (None: the features themselves),
    rewritten in basis ``new``: how a warm start crosses from one split's basis to another's."""
    full = w[:-1] if old is None else old @ w[:-1]
    return torch.cat([full if new is None else new.T @ full, w[-1:]])


def _correct(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(n,) bool: whether the probe ``w`` classifies each example right."""
    return (x @ w[:-1] + w[-1]).argmax(1) == y


def _accuracy(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    return _correct(w, x, y).float().mean().item()


def fit_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    *,
    penalties: Sequence[float] = PENALTIES,
    validation: float = 0.2,
    seed: int = 0,
    steps: int = 200,
    row_space: bool = True,
) -> dict:
    """Fit a linear probe, choosing its penalty on a validation split of the training examples.

    Returns the test accuracy, whether each test example is classified right (``test_correct``,
    (n,) bool: two probes on the same examples compare pairwise), the chosen penalty and the
    validation accuracy of every penalty.
    ``row_space=False`` fits on the features as they are (the same probe, slower when p > n).
    """
    train_x, test_x = train_x.flatten(1).float(), test_x.flatten(1).float()
    classes = int(max(train_y.max(), test_y.max())) + 1
    held = balanced_subset(train_y, validation, seed=seed)
    mask = torch.ones(len(train_y), dtype=torch.bool)
    mask[held] = False

    def prepare(fit_on, other):
        """Standardize with ``fit_on``'s statistics; write both in its row space's basis."""
        mean, std = fit_on.mean(0), fit_on.std(0).clamp(min=1e-6)
        fit_on, other = (fit_on - mean) / std, (other - mean) / std
        basis = _row_space(fit_on) if row_space else None
        return basis, [t if basis is None else t @ basis for t in (fit_on, other)]

    basis, (fit_x, val_x) = prepare(train_x[mask], train_x[held])
    weights, scores, w = {}, {}, None
    for p in sorted(penalties, reverse=True):  # strongest first, each fit warm-starting the next
        w = weights[p] = _fit(fit_x, train_y[mask], classes, p, steps, w)
        scores[p] = _accuracy(w, val_x, train_y[held])
    best = max(penalties, key=lambda p: (scores[p], p))  # ties: the stronger penalty
    all_basis, (all_x, test_std) = prepare(train_x, test_x)
    w = _fit(all_x, train_y, classes, best, steps, _rebase(weights[best], basis, all_basis))
    correct = _correct(w, test_std, test_y)
    return dict(
        test_accuracy=correct.float().mean().item(),
        test_correct=correct,
        penalty=best,
        validation=scores,
    )


def probe_data(
    dataset: str, train_images: int, test_images: int, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, labels, test images, labels) for probes: about ``train_images``
    class-balanced images of the training split (seeded) and the first ``test_images`` test
    images, scaled to [0, 1]."""
    train, test = load(dataset, train=True), load(dataset, train=False)
    index = balanced_subset(train.labels, min(1.0, train_images / len(train)), seed=seed)
    test_x, test_y = test.unit()[:test_images], test.labels[:test_images]
    return train.unit()[index], train.labels[index], test_x, test_y


def probe_layers(
    model: nn.Module,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    *,
    layers: Sequence[str] | None = None,
    progress: bool = True,
    group: int = 8,
    **options,
) -> list[dict]:
    """Probe accuracy of every pre- and post-residual representation (or the named ``layers``).

    Features are computed ``group`` representations per forward pass, so memory holds that many
    layers' activations at a time.
    """
    from tqdm.auto import tqdm

    reps = [r for r in representations_of(model) if r.pre_residual or r.post_residual]
    if layers is not None:
        reps = [r for r in representations_of(model) if r.name in set(layers)]
    rows, bar = [], tqdm(total=len(reps), desc="probes", disable=not progress)
    for start in range(0, len(reps), group):
        chunk = reps[start : start + group]
        names = [r.name for r in chunk]
        features = zip(
            activations(model, train_images, names), activations(model, test_images, names)
        )
        for r, (train_x, test_x) in zip(chunk, features):
            result = fit_probe(train_x, train_labels, test_x, test_labels, **options)
            bar.update()
            rows.append(
                dict(
                    name=r.name,
                    index=r.index,
                    post_residual=r.post_residual,
                    pre_residual=r.pre_residual,
                    **result,
                )
            )
    bar.close()
    return rows


def block_gains(rows: list[dict], start: int, end: int) -> dict:
    """Fig. 4's two readings of :func:`probe_layers`' rows around a block (representations
    ``start..end``).

    ``inside`` and ``outside``: the mean change of post-residual probe accuracy from one block's
    output to the next, over the steps with both ends inside the block and over the other
    steps. ``residual_inside`` and ``residual_outside``: the mean accuracy of each block's
    post-residual probe minus its pre-residual one (what the shortcut adds back).
    ``steps_inside``, ``steps_outside`` and ``gaps_inside``: the values behind those means (for
    their uncertainty, :func:`ckatools.analysis.verdicts.mean_difference`).
    """
    post = sorted((r for r in rows if r["post_residual"]), key=lambda r: r["index"])
    steps = [b["test_accuracy"] - a["test_accuracy"] for a, b in zip(post, post[1:])]
    step_inside = [start <= a["index"] and b["index"] <= end for a, b in zip(post, post[1:])]

    def block(row: dict) -> str:  # "stage2.3.relu2" -> "stage2.3"
        return row["name"].rsplit(".", 1)[0]

    pre = {block(r): r["test_accuracy"] for r in rows if r["pre_residual"]}
    paired = [r for r in post if block(r) in pre]
    gaps = [r["test_accuracy"] - pre[block(r)] for r in paired]
    gap_inside = [start <= r["index"] <= end for r in paired]
    (inside, outside), (residual_inside, residual_outside) = (
        split_means(steps, step_inside),
        split_means(gaps, gap_inside),
    )
    (steps_inside, steps_outside), (gaps_inside, _) = (
        split_values(steps, step_inside),
        split_values(gaps, gap_inside),
    )
    return dict(
        inside=inside,
        outside=outside,
        residual_inside=residual_inside,
        residual_outside=residual_outside,
        steps_inside=steps_inside,
        steps_outside=steps_outside,
        gaps_inside=gaps_inside,
    )


@dataclass(frozen=True)
class ProbeNumbers:
    """One network's numbers for Fig. 4's verdict (each part takes one number per network)."""

    name: str
    has_block: bool
    gain_inside: float  # mean post-residual accuracy step inside the block (NaN: no step)
    gain_outside: float  # ... and outside it
    residual_inside: float  # mean post- minus pre-residual accuracy inside the block
    residual_outside: float  # ... and outside it
    rho: float  # Spearman's rho of post-residual accuracy against depth


def probe_numbers(name: str, rows: list[dict], block: Block) -> ProbeNumbers:
    """A network's :class:`ProbeNumbers`.

    Args:
        name: how the chapter names the network, e.g. "ResNet-20 ×1 s0".
        rows: its probes, :func:`probe_layers`' rows.
        block: its measured block; without one (``block.present`` False) the gains are NaN.
    """
    post = sorted((r for r in rows if r["post_residual"]), key=lambda r: r["index"])
    rho = spearman([r["index"] for r in post], [r["test_accuracy"] for r in post])
    if not block.present:
        nan = float("nan")
        return ProbeNumbers(name, False, nan, nan, nan, nan, float(rho))
    gains = block_gains(rows, block.start, block.end)
    return ProbeNumbers(
        name,
        block.present,
        gains["inside"],
        gains["outside"],
        gains["residual_inside"],
        gains["residual_outside"],
        float(rho),
    )


def fig4_checks(numbers: Sequence[ProbeNumbers]) -> dict[str, Check]:
    """Fig. 4's three parts, each a t interval over networks: without a block, accuracy rises
    through the network (mean rho above 0); with a block, the gain per block is smaller inside
    than outside, and inside, the probe after the shortcut beats the one before it. A network
    with a block is left out of a part whose number it lacks (no step on one side of its block,
    or no residual block inside it)."""
    rhos = [n.rho for n in numbers if not n.has_block and np.isfinite(n.rho)]
    found = [n for n in numbers if n.has_block]
    slower = [v for n in found if np.isfinite(v := n.gain_outside - n.gain_inside)]
    shortcut = [n.residual_inside for n in found if np.isfinite(n.residual_inside)]
    return {
        f"without a block, accuracy rises (mean rho, {len(rhos)} networks)": mean_above(rhos),
        f"with a block, the gain per block is smaller inside ({len(slower)} networks)": (
            mean_above(slower)
        ),
        f"with a block, post- beats pre-residual inside ({len(shortcut)} networks)": (
            mean_above(shortcut)
        ),
    }
