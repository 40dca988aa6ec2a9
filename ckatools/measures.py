"""CKA's peers: the other ways to compare two representations of the same n examples.

Each function takes two activation arrays x (n, ...) and y (n, ...), flattens trailing
dimensions and works in float64. Similarities are 1 for identical representations; the
Procrustes *distance* is 0 for them. What each measure is invariant to decides what it can see
(Kornblith et al., 2019, Table 1):

* CCA (mean squared canonical correlation), SVCCA, PWCCA: invariant to any invertible linear map
  of either side. That is too much once a layer has more features than there are examples: every
  such layer can be mapped onto every other, and all canonical correlations are 1. So they
  need n > p (SVCCA first keeps the top singular directions).
* Orthogonal Procrustes distance: invariant to rotations, reflections and isotropic scaling (of
  centred, norm-1 representations), not to other linear maps.
* RSA: compares the examples' dissimilarity matrices (correlation distance by default) by rank
  correlation, so any change that keeps the order of distances leaves it at 1.
* RBF-kernel CKA: CKA with Gaussian kernels whose bandwidth is a multiple of the median distance;
  for a large bandwidth it tends to linear CKA.

Canonical correlations are the singular values of Qx^T Qy, with Qx, Qy orthonormal bases of the
centred representations from thin SVDs (never by inverting covariance matrices).
"""

from __future__ import annotations

import numpy as np

from ckatools.cka import hsic, linear_cka
from ckatools.stats import spearman

__all__ = [
    "canonical_correlations",
    "cca",
    "svcca",
    "pwcca",
    "procrustes",
    "rdm",
    "compare_rdms",
    "rsa",
    "rbf_cka",
    "layer_identification",
    "MEASURES",
    "between_layers",
    "invariances",
]


def _centred(x, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(len(x), -1)
    if not np.isfinite(x).all():
        raise ValueError(f"{what} contains non-finite values (NaN or inf)")
    return x - x.mean(0)


def _pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = _centred(x, "x"), _centred(y, "y")
    if len(x) != len(y):
        raise ValueError(f"mismatched example counts: x has {len(x)}, y has {len(y)} examples")
    return x, y


def _basis(x: np.ndarray, *, keep: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal basis (n, r) of x's columns: the top singular directions holding ``keep`` of
    the variance (all non-negligible ones for keep=1), with their singular values and right
    singular vectors."""
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    rank = int((s > s[0] * max(x.shape) * np.finfo(float).eps).sum()) if s.size and s[0] else 0
    if keep < 1:
        share = np.cumsum(s[:rank] ** 2) / np.sum(s[:rank] ** 2)
        rank = int(np.searchsorted(share, keep) + 1)
    return u[:, :rank], s[:rank], vt[:rank]


def canonical_correlations(x, y) -> np.ndarray:
    """All canonical correlations of x and y, largest first (needs n > p for both)."""
    x, y = _pair(x, y)
    for name, t in (("x", x), ("y", y)):
        if t.shape[1] >= len(t):
            raise ValueError(
                f"CCA needs more examples than features, but {name} has {t.shape[1]} features "
                f"for {len(t)} examples: every correlation would be 1 (use svcca, or more "
                "examples)"
            )
    return np.linalg.svd(_basis(x)[0].T @ _basis(y)[0], compute_uv=False)


def cca(x, y) -> float:
    """Mean squared canonical correlation (R^2_CCA of Kornblith et al., 2019)."""
    return float(np.mean(canonical_correlations(x, y) ** 2))


def svcca(x, y, *, keep: float = 0.99) -> float:
    """SVCCA (Raghu et al., 2017): keep the top singular directions of each side that hold
    ``keep`` of its variance, then the mean canonical correlation."""
    x, y = _pair(x, y)
    (ux, sx, _), (uy, sy, _) = _basis(x, keep=keep), _basis(y, keep=keep)
    return float(np.mean(canonical_correlations(ux * sx, uy * sy)))


def pwcca(x, y) -> float:
    """Projection-weighted CCA (Morcos et al., 2018), weighted by x: each canonical correlation
    counts in proportion to how much of x's neurons its canonical variate accounts for
    (the sum over neurons of the absolute inner product with the variate)."""
    x, y = _pair(x, y)
    qx, qy = _basis(x)[0], _basis(y)[0]
    u, rho, _ = np.linalg.svd(qx.T @ qy, full_matrices=False)
    variates = qx @ u  # (n, r) unit-norm canonical variates of x, in order of rho
    weights = np.abs(variates.T @ x).sum(1)
    return float(np.sum(weights * rho) / np.sum(weights))


def procrustes(x, y) -> float:
    """Orthogonal Procrustes distance between the centred, Frobenius-normalized representations:
    min over orthogonal Q of ||X - Y Q||_F^2 = 2 - 2 ||X^T Y||_* (from 0 to 2)."""
    x, y = _pair(x, y)
    norms = np.linalg.norm(x), np.linalg.norm(y)
    if min(norms) == 0:
        raise ValueError("a representation with zero variance has no Procrustes distance")
    x, y = _narrowed(x / norms[0]), _narrowed(y / norms[1])
    return float(max(0.0, 2 - 2 * np.linalg.svd(x.T @ y, compute_uv=False).sum()))


def _narrowed(x: np.ndarray) -> np.ndarray:
    """x (n, p) itself if p <= n, else R^T (n, n) from x^T = Q R: x = R^T Q^T, and Q^T's
    orthonormal rows leave the singular values of x^T y unchanged, so a flattened layer of
    thousands of features costs an (n, n) SVD instead of a (p, p) one."""
    if x.shape[1] <= x.shape[0]:
        return x
    return np.linalg.qr(x.T, mode="r").T


def rdm(x, distance: str = "correlation") -> np.ndarray:
    """Representational dissimilarity matrix (n, n): 1 - Pearson correlation between examples
    (``correlation``) or Euclidean distance (``euclidean``)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    if distance == "correlation":
        return 1 - np.corrcoef(x)
    if distance == "euclidean":
        return np.sqrt(_squared_distances(x))
    raise ValueError(f"distance must be 'correlation' or 'euclidean', got {distance!r}")


def compare_rdms(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation between the upper triangles of two dissimilarity matrices."""
    i, j = np.triu_indices(len(a), 1)
    return spearman(a[i, j], b[i, j])


def rsa(x, y, distance: str = "correlation") -> float:
    """Representational similarity analysis: :func:`compare_rdms` of the two RDMs."""
    return compare_rdms(rdm(x, distance), rdm(y, distance))


def _squared_distances(x: np.ndarray) -> np.ndarray:
    """(n, n) squared Euclidean distances between the rows of x."""
    squares = (x * x).sum(1)
    return np.maximum(squares[:, None] + squares[None, :] - 2 * x @ x.T, 0)


def _rbf(x: np.ndarray, sigma: float) -> np.ndarray:
    distances = _squared_distances(x)
    median = np.median(distances[np.triu_indices(len(x), 1)])
    return np.exp(-distances / (2 * sigma**2 * median))


def rbf_cka(x, y, *, sigma: float = 0.8) -> float:
    """CKA with Gaussian kernels (biased HSIC) whose bandwidth is ``sigma`` times the median
    Euclidean distance between examples (Kornblith et al., 2019 use 0.8)."""
    x, y = _pair(x, y)
    k, l = _rbf(x, sigma), _rbf(y, sigma)
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


def layer_identification(similarity) -> float:
    """Kornblith et al.'s sanity check on a (layers, layers) similarity matrix between two
    networks that differ only by seed: the fraction of layers whose most similar layer in the
    other network is the corresponding one (for a distance, pass its negative)."""
    matrix = np.asarray(similarity, dtype=float)
    return float(np.mean(np.nanargmax(matrix, axis=1) == np.arange(len(matrix))))


# Every similarity, larger = more alike (Procrustes enters as 2 minus its distance).
MEASURES = {
    "linear CKA": linear_cka,
    "RBF CKA": rbf_cka,
    "CCA": cca,
    "SVCCA": svcca,
    "PWCCA": pwcca,
    "Procrustes (2 - distance)": lambda x, y: 2 - procrustes(x, y),
    "RSA": rsa,
}


def between_layers(layers_a, layers_b, measure) -> np.ndarray:
    """(len(layers_a), len(layers_b)) matrix of ``measure`` between every pair of activations."""
    return np.array([[measure(a, b) for b in layers_b] for a in layers_a])


def invariances(n: int = 300, p: int = 8, seed: int = 0):
    """Which measure keeps its value when one representation is transformed, checked on random
    data: True where measure(x, T(y)) equals measure(x, y) to 1e-6."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    y = np.tanh(x @ rng.normal(size=(p, p))) + 0.5 * rng.normal(size=(n, p))
    rotation, _ = np.linalg.qr(rng.normal(size=(p, p)))
    transforms = {
        "rotation": lambda t: t @ rotation,
        "isotropic scaling": lambda t: 3 * t,
        "invertible linear map": lambda t: t @ (rng.normal(size=(p, p)) + 2 * np.eye(p)),
        "per-example scaling": lambda t: rng.uniform(0.5, 2, size=(n, 1)) * t,
    }
    return pd.DataFrame(
        {
            name: {
                kind: bool(abs(measure(x, change(y)) - measure(x, y)) < 1e-6)
                for kind, change in transforms.items()
            }
            for name, measure in MEASURES.items()
        }
    ).T
