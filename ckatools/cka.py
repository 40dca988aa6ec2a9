"""Linear CKA (Kornblith et al., 2019) and its minibatch estimator (Nguyen et al., 2021, Eq. 1-3).

Conventions used throughout:

* Features are shifted *before* a Gram matrix is formed in the input's own precision (at least
  float32): by a reference example for minibatch Grams (:func:`gram`), by their mean in
  :func:`linear_cka`'s feature form. No estimator below changes under such a shift, but it
  removes the large common offset that would otherwise cancel in the HSIC sums and cost digits.
* Every HSIC term is accumulated in float64.
* Nothing is clamped: a negative unbiased estimate is a legitimate value, and a layer with zero
  variance gives NaN with a warning instead of a made-up number.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray]

__all__ = ["linear_cka", "hsic", "gram", "MinibatchCKA", "MIN_EXAMPLES"]

MIN_EXAMPLES = 4  # the unbiased HSIC_1 divides by n(n-3): a minibatch needs at least 4 examples


def _min_examples(unbiased: bool) -> int:
    return MIN_EXAMPLES if unbiased else 2


def _as_features(x: ArrayLike, what: str) -> torch.Tensor:
    """(n, ...) tensor or array -> (n, p) floating tensor on its device, at least float32."""
    t = torch.as_tensor(x)
    if t.dim() < 1:
        raise ValueError(f"{what} must have an example dimension, got a scalar")
    t = t.reshape(t.shape[0], -1)
    if not t.is_floating_point() or t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    return t


def _check_examples(n: int, m: int, unbiased: bool, what: str = "x and y") -> None:
    if n != m:
        raise ValueError(
            f"mismatched example counts: {what} have {n} and {m} examples (dimension 0)"
        )
    need = _min_examples(unbiased)
    if n < need:
        estimator = "the unbiased HSIC estimator" if unbiased else "CKA"
        raise ValueError(f"{estimator} needs at least {need} examples, got {n}")


def _check_finite(t: torch.Tensor, what: str) -> None:
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{what} contains non-finite values (NaN or inf)")


def _self_product(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """x @ x.T as float64 (into ``out`` when given), computing the off-diagonal block once: 3/4 of a
    plain GEMM's work.
    """
    n, p = x.shape
    if out is None:
        out = x.new_empty((n, n), dtype=torch.float64)
    if p < n or n < 64:
        out.copy_(x @ x.T)
        return out
    h = n // 2
    top, bottom = x[:h], x[h:]
    out[:h, :h] = top @ top.T
    out[h:, h:] = bottom @ bottom.T
    out[:h, h:] = top @ bottom.T
    out[h:, :h] = out[:h, h:].T
    return out


def gram(x: ArrayLike, out: torch.Tensor | None = None) -> torch.Tensor:
    """Linear Gram matrix of shifted features, (n, n) float64 on x's device, for the HSIC estimators
    here.

    Each feature is shifted by its value on the first example before the product. Both estimators
    are exactly invariant to such shifts (the unbiased one U-centers, the biased one
    double-centers), so the shift changes nothing but precision: like centering, it removes the
    common offset whose cancellation would cost digits, at the price of one subtraction rather
    than a mean and a subtraction, and a constant layer becomes exactly zero (zero variance:
    NaN plus a warning, never rounding noise). The product runs in x's precision (float32 for
    float16/bfloat16/float32 input); only the n-by-n result is upcast, into ``out`` (an (n, n)
    float64 tensor) when given.
    """
    x = _as_features(x, "x")
    return _self_product(x - x[:1], out)


def _hsic_stats(grams: torch.Tensor, unbiased: bool):
    """Per-layer quantities HSIC needs from a stack of Gram matrices (L, n, n).

    Kernels are symmetric, so tr(KL) only needs each matrix's strict upper triangle (and, for
    the biased estimator, its diagonal): half the memory and half the multiply-adds of using
    whole matrices. Also returned: the row sums and totals of the diagonal-zeroed matrices,
    which the unbiased estimator needs. The biased estimator double-centers first.
    """
    if not unbiased:
        grams = grams - grams.mean(-1, keepdim=True)
        grams = grams - grams.mean(-2, keepdim=True)
    n = grams.shape[-1]
    diag = grams.diagonal(dim1=-2, dim2=-1)
    rows = grams.sum(-1) - diag
    upper = grams.flatten(1).index_select(1, _strict_upper(n, grams.device))
    return upper, (None if unbiased else diag), rows, rows.sum(-1)


@functools.lru_cache(maxsize=8)
def _strict_upper(n: int, device: torch.device) -> torch.Tensor:
    """Flat indices of the strict upper triangle of an n-by-n matrix."""
    i, j = torch.triu_indices(n, n, 1, device=device)
    return i * n + j


def _hsic_combine(trace, total_a, total_b, rowdot, n: int, unbiased: bool) -> torch.Tensor:
    """HSIC from tr(KL), 1'K1, 1'L1 and 1'KL1 (Song et al. 2012 for the unbiased form)."""
    if not unbiased:
        return trace / (n - 1) ** 2
    return (trace + total_a * total_b / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * rowdot) / (
        n * (n - 3)
    )


def _hsic_all_pairs(a, b, n: int, unbiased: bool) -> torch.Tensor:
    """HSIC for every (layer of a, layer of b): one GEMM plus row sums."""
    (ua, da, ra, ta), (ub, db, rb, tb) = a, b
    trace = 2 * (ua @ ub.T) + (0 if unbiased else da @ db.T)
    return _hsic_combine(trace, ta[:, None], tb[None, :], ra @ rb.T, n, unbiased)


def _hsic_self(a, n: int, unbiased: bool) -> torch.Tensor:
    """HSIC(K_l, K_l) for each layer l, without forming the all-pairs matrix."""
    u, d, r, t = a
    trace = 2 * (u * u).sum(-1) + (0 if unbiased else (d * d).sum(-1))
    return _hsic_combine(trace, t, t, (r * r).sum(-1), n, unbiased)


def _centered(x: torch.Tensor) -> torch.Tensor:
    """Centered features; exactly zero for a layer whose variation is below the rounding error of
    its mean.
    """
    n = x.shape[0]
    mean = x.mean(0)
    xc = x - mean
    varies = (xc * xc).sum() > n * (mean @ mean) * (n * torch.finfo(x.dtype).eps) ** 2
    return xc * varies


def hsic(k: ArrayLike, l: ArrayLike, *, unbiased: bool = False) -> float:
    """HSIC of two (n, n) kernel matrices: biased HSIC_0 (Eq. 1) or unbiased HSIC_1 (Eq. 3)."""
    k, l = (torch.as_tensor(m).double() for m in (k, l))
    if k.dim() != 2 or k.shape[0] != k.shape[1] or k.shape != l.shape:
        raise ValueError(
            f"hsic needs two square kernel matrices of one size, got {tuple(k.shape)} and "
            f"{tuple(l.shape)}"
        )
    n = k.shape[0]
    _check_examples(n, n, unbiased)
    a, b = (_hsic_stats(m[None], unbiased) for m in (k, l.to(k.device)))
    return float(_hsic_all_pairs(a, b, n, unbiased)[0, 0])


def _hsic_features(x: torch.Tensor, y: torch.Tensor, unbiased: bool) -> torch.Tensor:
    """HSIC of the linear kernels of centered features x (n, p) and y (n, q), in feature space.

    With centered features the Gram row sums are known: K1 = 0, so for the diagonal-zeroed
    kernel K~1 = -diag(K). Cost n*p*q instead of n^2*(p+q); no n-by-n matrix is formed.
    """
    n = x.shape[0]
    trace = torch.linalg.matrix_norm(x.T @ y) ** 2
    if not unbiased:
        return trace / (n - 1) ** 2
    dx, dy = (x * x).sum(1), (y * y).sum(1)
    diag_dot = dx @ dy
    return _hsic_combine(trace - diag_dot, -dx.sum(), -dy.sum(), diag_dot, n, unbiased)


def linear_cka(x: ArrayLike, y: ArrayLike, *, unbiased: bool = False) -> float:
    """Linear CKA between representations x (n, ...) and y (n, ...) of the same n examples.

    Trailing dimensions are flattened. ``unbiased=False`` uses HSIC_0 (Kornblith et al., 2019);
    ``unbiased=True`` uses the unbiased HSIC_1 of Song et al. (2012), as in Eq. 3 of the paper.
    Computed in float64, in feature space or with Gram matrices, whichever is cheaper.

    Args:
        x: a num_examples x num_features_x matrix (or (n, ...), flattened), tensor or array.
        y: a num_examples x num_features_y matrix, the same examples in the same order.
        unbiased: use the unbiased HSIC estimator (needs n > 3).

    Returns:
        CKA as a Python float, 1 for representations equal up to rotation and scale.
    """
    x, y = _as_features(x, "x"), _as_features(y, "y")
    _check_examples(x.shape[0], y.shape[0], unbiased)
    _check_finite(x, "x")
    _check_finite(y, "y")
    y = y.to(x.device)
    n, p, q = x.shape[0], x.shape[1], y.shape[1]
    if n * p * q <= n * n * (p + q):
        xc, yc = (_centered(t.double()) for t in (x, y))
        xy, xx, yy = (_hsic_features(a, b, unbiased) for a, b in ((xc, yc), (xc, xc), (yc, yc)))
    else:
        stats = _hsic_stats(torch.stack([gram(x.double()), gram(y.double())]), unbiased)
        pairs = _hsic_all_pairs(stats, stats, n, unbiased)
        xy, xx, yy = pairs[0, 1], pairs[0, 0], pairs[1, 1]
    if xx <= 0 or yy <= 0:
        which = "x" if xx <= 0 else "y"
        warnings.warn(
            f"{which} has zero variance across examples; its CKA is undefined (NaN)",
            RuntimeWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(xy / torch.sqrt(xx * yy))


class MinibatchCKA:
    """Streaming minibatch CKA (Eq. 2): average HSIC over minibatches, then normalize.

    ``update(xs)`` compares every layer of one model with every other; ``update(xs, ys)``
    compares the layers of two models on the same minibatch. Each minibatch contributes its own
    HSIC (normalized by its own n), so a short last minibatch counts correctly. Sums stay on the
    activations' device in float64; nothing is synchronized with the host until ``compute()``
    except one finiteness check per minibatch.
    """

    def __init__(self, *, unbiased: bool = True) -> None:
        self.unbiased = unbiased
        self.reset()

    def reset(self) -> None:
        self.batches = 0
        self._xy = self._xx = self._yy = None
        self._within = None

    def update(self, xs: Sequence[ArrayLike], ys: Sequence[ArrayLike] | None = None) -> None:
        """Add one minibatch of n examples.

        Args:
            xs: one activation tensor per layer of x, each (n, ...) (trailing dims flattened).
            ys: the same for the layers of y, same n and examples; None compares xs with xs.
        """
        if len(xs) == 0 or (ys is not None and len(ys) == 0):
            raise ValueError("update needs at least one layer of activations")
        self.update_grams(self._grams(xs, "xs"), None if ys is None else self._grams(ys, "ys"))

    @staticmethod
    def _grams(layers: Sequence[ArrayLike], what: str) -> torch.Tensor:
        """The layers' Gram matrices, written into one (L, n, n) tensor."""
        layers = [torch.as_tensor(t) for t in layers]
        counts = [len(t) for t in layers]
        if len(set(counts)) > 1:
            raise ValueError(f"mismatched example counts across the layers of {what}: {counts}")
        grams = torch.empty(
            len(layers), counts[0], counts[0], dtype=torch.float64, device=layers[0].device
        )
        for i, t in enumerate(layers):
            gram(t, out=grams[i])
        return grams

    def update_grams(self, grams_x: torch.Tensor, grams_y: torch.Tensor | None = None) -> None:
        """Add one minibatch given its Gram matrices, (L, n, n) each (see :func:`gram`)."""
        n = grams_x.shape[-1]
        if grams_y is not None:
            _check_examples(n, grams_y.shape[-1], self.unbiased, "the two models' minibatches")
        _check_examples(n, n, self.unbiased)
        within = grams_y is None
        if self._within is not None and within != self._within:
            raise ValueError(
                "do not mix within-model updates (ys=None) and two-model updates in one accumulator"
            )
        a = _hsic_stats(grams_x.double(), self.unbiased)
        b = a if within else _hsic_stats(grams_y.double().to(grams_x.device), self.unbiased)
        xy = _hsic_all_pairs(a, b, n, self.unbiased)
        xx = xy.diagonal() if within else _hsic_self(a, n, self.unbiased)
        yy = xx if within else _hsic_self(b, n, self.unbiased)
        self._add(xy, xx, yy, within)

    def _add(self, xy: torch.Tensor, xx: torch.Tensor, yy: torch.Tensor, within: bool) -> None:
        """Check one minibatch's HSIC values and add them to the sums."""
        self._raise_if_nonfinite(xx, "xs")
        self._raise_if_nonfinite(yy, "ys")
        if self._xy is None:
            self._xy, self._xx, self._yy = (
                torch.zeros_like(xy),
                torch.zeros_like(xx),
                torch.zeros_like(yy),
            )
        elif self._xy.shape != xy.shape:
            raise ValueError(
                f"layer count changed between minibatches: {tuple(self._xy.shape)} then "
                f"{tuple(xy.shape)}"
            )
        self._xy += xy
        self._xx += xx
        self._yy += yy
        self._within = within
        self.batches += 1

    def update_gram_blocks(self, blocks: Sequence[torch.Tensor]) -> None:
        """Add one within-population minibatch given each model's Gram matrices, (L_i, n, n) each.

        The same as ``update_grams(torch.cat(blocks))`` without the concatenated copy, and each
        pair of models' block of HSIC values is computed once (the other half is its transpose):
        memory holds the models' Gram matrices and a triangle-packed copy of each.
        """
        n = blocks[0].shape[-1]
        _check_examples(n, n, self.unbiased)
        if self._within is False:
            raise ValueError(
                "do not mix within-model updates (ys=None) and two-model updates in one accumulator"
            )
        stats = [_hsic_stats(g.double(), self.unbiased) for g in blocks]
        ends = torch.tensor([len(g) for g in blocks]).cumsum(0).tolist()
        starts = [0] + ends[:-1]
        total = ends[-1]
        xy = blocks[0].new_empty((total, total), dtype=torch.float64)
        for i, (a, si, ei) in enumerate(zip(stats, starts, ends)):
            for b, sj, ej in list(zip(stats, starts, ends))[i:]:
                xy[si:ei, sj:ej] = block = _hsic_all_pairs(a, b, n, self.unbiased)
                xy[sj:ej, si:ei] = block.T
        self._add(xy, xy.diagonal(), xy.diagonal(), True)

    @staticmethod
    def _raise_if_nonfinite(self_hsic: torch.Tensor, what: str) -> None:
        bad = ~torch.isfinite(self_hsic)
        if bool(bad.any()):
            layers = bad.nonzero().flatten().tolist()
            raise ValueError(
                f"non-finite values (NaN or inf) in the activations of {what} layer(s) {layers}"
            )

    def compute(self) -> torch.Tensor:
        """The CKA matrix over the minibatches added so far (Eq. 2).

        Returns:
            A (layers of x, layers of y) float64 tensor on the CPU; NaN for a layer with zero
            variance across the examples (with a warning naming it).
        """
        if self._xy is None:
            raise ValueError("no minibatches: call update() before compute()")
        xy, xx, yy = (t.cpu() for t in (self._xy, self._xx, self._yy))
        for what, s in (("xs", xx), ("ys", yy)):
            flat = (s <= 0).nonzero().flatten().tolist()
            if flat and not (what == "ys" and self._within):
                warnings.warn(
                    f"{what} layer(s) {flat} have zero variance across examples; their CKA is NaN",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return xy / torch.sqrt(xx[:, None] * yy[None, :])
