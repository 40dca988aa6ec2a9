"""CKA's peers against closed forms, independent formulas and the invariances each has or lacks."""

import numpy as np
import pytest

from ckatools.cka import linear_cka
from ckatools.measures import (
    canonical_correlations,
    cca,
    compare_rdms,
    layer_identification,
    procrustes,
    pwcca,
    rbf_cka,
    rdm,
    rsa,
    svcca,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(200, 6)) @ RNG.normal(size=(6, 6))  # correlated features, n > p
Y = np.tanh(X @ RNG.normal(size=(6, 5))) + 0.3 * RNG.normal(size=(200, 5))
A = RNG.normal(size=(6, 6)) + 3 * np.eye(6)  # invertible, not orthogonal
Q, _ = np.linalg.qr(RNG.normal(size=(6, 6)))  # orthogonal


def inverse_sqrt(m):
    values, vectors = np.linalg.eigh(m)
    return vectors @ np.diag(values**-0.5) @ vectors.T


def whitened_cross_covariance(x, y):
    """The textbook route: Sxx^(-1/2) Sxy Syy^(-1/2); its singular values are the correlations."""
    x, y = x - x.mean(0), y - y.mean(0)
    return inverse_sqrt(x.T @ x) @ (x.T @ y) @ inverse_sqrt(y.T @ y)


def test_canonical_correlations_equal_the_covariance_formula():
    expected = np.linalg.svd(whitened_cross_covariance(X, Y), compute_uv=False)
    np.testing.assert_allclose(canonical_correlations(X, Y), expected, atol=1e-10)
    assert cca(X, Y) == pytest.approx(np.mean(expected**2))


def test_cca_is_invariant_to_invertible_maps_and_cka_is_not():
    assert cca(X, X @ A) == pytest.approx(1.0)
    assert svcca(X, X @ A, keep=1.0) == pytest.approx(1.0)
    assert pwcca(X, X @ A) == pytest.approx(1.0)
    assert linear_cka(X, X @ A) < 0.99  # CKA sees the change of scale between directions
    with pytest.raises(ValueError, match="more examples than features"):
        cca(X[:5], Y[:5])


def test_pwcca_equals_morcos_weighting_written_out():
    x = X - X.mean(0)
    u, rho, _ = np.linalg.svd(whitened_cross_covariance(X, Y), full_matrices=False)
    directions = inverse_sqrt(x.T @ x) @ u  # canonical directions in x's feature space
    variates = x @ directions
    variates /= np.linalg.norm(variates, axis=0)
    weights = np.abs(variates.T @ x).sum(1)
    assert pwcca(X, Y) == pytest.approx(np.sum(weights * rho) / np.sum(weights), abs=1e-10)


def test_svcca_keeps_the_top_directions():
    noisy = np.hstack([X, 1e-3 * RNG.normal(size=(200, 4))])  # 4 near-empty directions
    assert svcca(noisy, Y) == pytest.approx(svcca(X, Y), abs=1e-3)  # the noise is dropped
    assert cca(noisy, Y) != pytest.approx(cca(X, Y), abs=1e-3)  # CCA lets the noise correlate


def test_procrustes_distance_of_rotations_and_scalings_is_zero():
    assert procrustes(X, 3 * X @ Q + 1) == pytest.approx(0, abs=1e-12)
    assert procrustes(X, X @ A) > 0.01  # not invariant to other linear maps
    assert procrustes(X, Y) == pytest.approx(procrustes(Y, X))
    x, y = X[:, :5] - X[:, :5].mean(0), Y - Y.mean(0)  # the minimizing rotation, written out
    x, y = x / np.linalg.norm(x), y / np.linalg.norm(y)
    u, _, vt = np.linalg.svd(y.T @ x)
    direct = np.linalg.norm(x - y @ (u @ vt)) ** 2
    assert procrustes(X[:, :5], Y) == pytest.approx(direct)


def test_procrustes_of_layers_wider_than_the_examples_matches_the_direct_svd():
    """Wide layers go through an (n, n) factor of each: the same distance as the (p, q) SVD."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 8)) @ rng.normal(size=(8, 200))  # rank 8, p = 200 > n = 30
    y = np.tanh(x[:, :70]) + rng.normal(size=(30, 70))  # q = 70 > n
    for a, b in ((x, y), (x, Y[:30]), (Y[:30], y)):  # wide-wide, wide-narrow, narrow-wide
        a, b = a - a.mean(0), b - b.mean(0)
        a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
        direct = 2 - 2 * np.linalg.svd(a.T @ b, compute_uv=False).sum()
        # singular values summed over at most 30 terms of order 1: float64 rounding, 1e-12
        assert procrustes(a, b) == pytest.approx(direct, abs=1e-12)
    assert procrustes(x, 2 * x) == pytest.approx(0, abs=1e-12)


def test_rsa_is_one_for_monotone_transforms_of_the_dissimilarities():
    d = rdm(X)
    assert compare_rdms(d, d**2 + 1) == pytest.approx(1.0)
    scales, shifts = RNG.uniform(0.5, 2, size=(200, 1)), RNG.normal(size=(200, 1))
    assert rsa(X, scales * X + shifts) == pytest.approx(1.0)  # correlation distance per example
    assert rsa(X, X @ Q, distance="euclidean") == pytest.approx(1.0)
    assert linear_cka(X, scales * X) < 0.99  # CKA is not invariant to per-example scaling
    with pytest.raises(ValueError, match="distance must be"):
        rdm(X, "cosine")


def test_rbf_cka_tends_to_linear_cka_and_keeps_its_invariances():
    assert rbf_cka(X, Y, sigma=200) == pytest.approx(linear_cka(X, Y), abs=1e-4)
    assert rbf_cka(X, Y) == pytest.approx(rbf_cka(2 * X @ Q, Y), abs=1e-10)
    assert rbf_cka(X, X) == pytest.approx(1.0)


def test_layer_identification():
    assert layer_identification(np.eye(4) + 0.1) == 1.0
    assert layer_identification(np.eye(4)[::-1]) == 0.0


def test_the_invariance_table_matches_kornblith_et_al_table_1():
    from ckatools.measures import invariances

    table = invariances()
    expected = {  # rotation, isotropic scaling, invertible linear map, per-example scaling
        "linear CKA": [True, True, False, False],
        "CCA": [True, True, True, False],
        "Procrustes (2 - distance)": [True, True, False, False],
        "RSA": [False, True, False, True],  # correlation distance centres each example
    }
    for name, row in expected.items():
        assert list(table.loc[name]) == row, name
