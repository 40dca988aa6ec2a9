"""CKA against independent numpy formulas, published reference values and invariances."""

import numpy as np
import pytest
import torch

from ckatools.cka import MinibatchCKA, gram, hsic, linear_cka

# --- independent reference implementations (numpy, float64, written from the papers) -----------


def naive_hsic0(k, l):
    """Biased HSIC: tr(KHLH) / (n-1)^2."""
    n = len(k)
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h) / (n - 1) ** 2


def naive_hsic1(k, l):
    """Unbiased HSIC of Song et al. (2012), Eq. 3 of the paper, term by term."""
    n = len(k)
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l, 0)
    one = np.ones(n)
    return (
        np.trace(k @ l)
        + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
        - 2 / (n - 2) * one @ k @ l @ one
    ) / (n * (n - 3))


def u_centered(k):
    """U-centering (Szekely & Rizzo 2014), as in Kornblith's demo notebook."""
    n = len(k)
    k = k.copy()
    np.fill_diagonal(k, 0)
    means = k.sum(0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    k -= means[:, None] + means[None, :]
    np.fill_diagonal(k, 0)
    return k


def naive_cka(x, y, hsic_fn):
    k, l = x @ x.T, y @ y.T
    return hsic_fn(k, l) / np.sqrt(hsic_fn(k, k) * hsic_fn(l, l))


def naive_minibatch_cka(batches_x, batches_y):
    """Eq. 2: average unbiased HSIC over minibatches, then normalize."""
    sums = np.zeros(3)
    for x, y in zip(batches_x, batches_y):
        k, l = x @ x.T, y @ y.T
        sums += [naive_hsic1(k, l), naive_hsic1(k, k), naive_hsic1(l, l)]
    return sums[0] / np.sqrt(sums[1] * sums[2])


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --- reference values ---------------------------------------------------------------------------


def kornblith_demo_data():
    np.random.seed(1337)
    x = np.random.randn(100, 10)
    y = np.random.randn(100, 10) + x
    return x, y


def test_reference_values_from_kornblith_demo():
    x, y = kornblith_demo_data()
    assert abs(linear_cka(x, y) - 0.5576132566) < 1e-8
    assert abs(linear_cka(x, y, unbiased=True) - 0.5134564895) < 1e-8


@pytest.mark.parametrize("unbiased", [False, True])
def test_torch_and_numpy_inputs_agree(unbiased):
    x, y = kornblith_demo_data()
    assert linear_cka(torch.from_numpy(x), torch.from_numpy(y), unbiased=unbiased) == pytest.approx(
        linear_cka(x, y, unbiased=unbiased), abs=1e-12
    )


# --- forms of the estimator ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(100, 10, 7), (20, 300, 500)], ids=["feature-form", "gram-form"])
@pytest.mark.parametrize("unbiased", [False, True])
def test_linear_cka_matches_naive_gram_formula(rng, shape, unbiased):
    n, p, q = shape
    x = rng.normal(size=(n, p)) + 3.0  # an offset, so centering matters
    y = x @ rng.normal(size=(p, q)) + rng.normal(size=(n, q))
    expected = naive_cka(x, y, naive_hsic1 if unbiased else naive_hsic0)
    assert linear_cka(x, y, unbiased=unbiased) == pytest.approx(expected, abs=1e-10)


def test_unbiased_hsic_equals_u_centering_formula(rng):
    x, y = rng.normal(size=(30, 5)), rng.normal(size=(30, 8))
    k, l = x @ x.T + 1.0, y @ y.T  # an uncentered kernel too
    expected = np.sum(u_centered(k) * u_centered(l)) / (30 * 27)
    assert hsic(k, l, unbiased=True) == pytest.approx(expected, rel=1e-12)
    assert hsic(k, l, unbiased=True) == pytest.approx(naive_hsic1(k, l), rel=1e-12)


def test_biased_hsic_matches_centering_matrix_formula(rng):
    x, y = rng.normal(size=(25, 4)), rng.normal(size=(25, 6))
    k, l = x @ x.T + 2.0, y @ y.T
    assert hsic(k, l) == pytest.approx(naive_hsic0(k, l), rel=1e-12)


def test_gram_is_shifted_float64_and_gives_the_centered_hsic(rng):
    x = rng.normal(size=(12, 3, 2, 2)).astype(np.float32) + 5
    g = gram(x)
    flat = x.reshape(12, -1).astype(np.float64)
    shifted, centered = flat - flat[0], flat - flat.mean(0)
    assert g.dtype == torch.float64
    np.testing.assert_allclose(g.numpy(), shifted @ shifted.T, rtol=1e-5, atol=1e-5)
    for unbiased, reference in ((True, naive_hsic1), (False, naive_hsic0)):
        k = centered @ centered.T
        assert hsic(g, g, unbiased=unbiased) == pytest.approx(reference(k, k), rel=1e-5)


# --- invariances and basic properties -----------------------------------------------------------


@pytest.mark.parametrize("unbiased", [False, True])
def test_invariances(rng, unbiased):
    x = rng.normal(size=(60, 12))
    y = np.tanh(x @ rng.normal(size=(12, 9))) + 0.5 * rng.normal(size=(60, 9))
    base = linear_cka(x, y, unbiased=unbiased)
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    assert linear_cka(x @ q, y, unbiased=unbiased) == pytest.approx(base, abs=1e-10)  # orthogonal
    assert linear_cka(7.5 * x, y, unbiased=unbiased) == pytest.approx(
        base, abs=1e-10
    )  # isotropic scaling
    assert linear_cka(x[:, rng.permutation(12)], y, unbiased=unbiased) == pytest.approx(
        base, abs=1e-10
    )
    assert linear_cka(x + rng.normal(size=12) * 100, y, unbiased=unbiased) == pytest.approx(
        base, abs=1e-9
    )
    invertible = rng.normal(size=(12, 12)) @ np.diag(np.linspace(0.1, 10, 12))
    assert abs(linear_cka(x @ invertible, y, unbiased=unbiased) - base) > 1e-2  # not invariant


@pytest.mark.parametrize("unbiased", [False, True])
def test_self_similarity_and_symmetry(rng, unbiased):
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 50))
    assert linear_cka(x, x, unbiased=unbiased) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, y, unbiased=unbiased) == pytest.approx(
        linear_cka(y, x, unbiased=unbiased), abs=1e-12
    )


def test_single_feature_gives_squared_pearson_correlation(rng):
    x = rng.normal(size=50)
    y = 0.3 * x + rng.normal(size=50)
    r = np.corrcoef(x, y)[0, 1]
    assert linear_cka(x[:, None], y[:, None]) == pytest.approx(r**2, abs=1e-12)


def test_trailing_dimensions_are_flattened(rng):
    x, y = rng.normal(size=(20, 3, 4, 4)), rng.normal(size=(20, 5))
    assert linear_cka(x, y) == pytest.approx(linear_cka(x.reshape(20, -1), y), abs=1e-14)


def test_half_precision_is_upcast(rng):
    x, y = rng.normal(size=(64, 32)), rng.normal(size=(64, 32))
    y = y + x
    half = linear_cka(
        torch.tensor(x, dtype=torch.float16), torch.tensor(y, dtype=torch.bfloat16), unbiased=True
    )
    assert half == pytest.approx(linear_cka(x, y, unbiased=True), abs=1e-2)


# --- minibatch CKA ------------------------------------------------------------------------------


def test_one_minibatch_equals_unbiased_linear_cka(rng):
    xs = [rng.normal(size=(32, 8)), rng.normal(size=(32, 2, 3))]
    ys = [xs[0] @ rng.normal(size=(8, 5)), rng.normal(size=(32, 4)), rng.normal(size=(32, 9))]
    acc = MinibatchCKA()
    acc.update(xs, ys)
    m = acc.compute()
    assert m.shape == (2, 3) and m.dtype == torch.float64
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            assert m[i, j].item() == pytest.approx(linear_cka(x, y, unbiased=True), abs=1e-12)


def test_several_minibatches_with_short_last_batch_equal_naive_eq2(rng):
    sizes = [64, 64, 64, 17]  # the last minibatch is short and must count with its own n
    bx = [rng.normal(size=(n, 10)) for n in sizes]
    by = [
        np.tanh(b @ rng.normal(size=(10, 6))) + rng.normal(size=(n, 6)) for b, n in zip(bx, sizes)
    ]
    acc = MinibatchCKA()
    for x, y in zip(bx, by):
        acc.update([x], [y])
    assert acc.batches == 4
    assert acc.compute()[0, 0].item() == pytest.approx(naive_minibatch_cka(bx, by), abs=1e-12)


def test_within_model_is_symmetric_with_unit_diagonal_and_matches_cross(rng):
    batches = [
        [rng.normal(size=(20, 4)), rng.normal(size=(20, 7)), rng.normal(size=(20, 3, 3))]
        for _ in range(3)
    ]
    within, cross = MinibatchCKA(), MinibatchCKA()
    for xs in batches:
        within.update(xs)
        cross.update(xs, xs)
    w = within.compute()
    torch.testing.assert_close(w, w.T, atol=1e-14, rtol=0)
    torch.testing.assert_close(w.diagonal(), torch.ones(3, dtype=torch.float64), atol=1e-14, rtol=0)
    torch.testing.assert_close(w, cross.compute(), atol=1e-13, rtol=0)


def test_float32_activations_keep_float64_accuracy(rng):
    x = (
        rng.normal(size=(256, 200)) + 10.0
    )  # a large offset: uncentered fp32 Grams would lose digits
    y = x[:, :100] + rng.normal(size=(256, 100))
    acc = MinibatchCKA()
    acc.update([torch.tensor(x, dtype=torch.float32)], [torch.tensor(y, dtype=torch.float32)])
    assert acc.compute()[0, 0].item() == pytest.approx(linear_cka(x, y, unbiased=True), abs=1e-5)


def test_independent_features_unbiased_near_zero_biased_far_from_zero():
    gen = torch.Generator().manual_seed(0)
    unbiased, biased = MinibatchCKA(), MinibatchCKA(unbiased=False)
    for _ in range(40):
        x, y = torch.randn(32, 256, generator=gen), torch.randn(32, 256, generator=gen)
        unbiased.update([x], [y])
        biased.update([x], [y])
    assert abs(unbiased.compute().item()) < 0.02
    assert biased.compute().item() > 0.5


# --- errors -------------------------------------------------------------------------------------


def test_too_few_examples():
    with pytest.raises(ValueError, match="at least 4 examples, got 3"):
        linear_cka(np.ones((3, 2)), np.ones((3, 2)), unbiased=True)
    with pytest.raises(ValueError, match="at least 4 examples"):
        MinibatchCKA().update([torch.randn(3, 5)])


def test_mismatched_example_counts():
    with pytest.raises(ValueError, match="mismatched example counts.*10 and 12"):
        linear_cka(np.zeros((10, 2)), np.zeros((12, 2)))
    with pytest.raises(ValueError, match="mismatched example counts"):
        MinibatchCKA().update([torch.randn(8, 2)], [torch.randn(9, 2)])
    with pytest.raises(ValueError, match="mismatched example counts across the layers of xs"):
        MinibatchCKA().update([torch.randn(8, 2), torch.randn(9, 2)])


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_values(bad):
    x = torch.randn(10, 4)
    x[3, 1] = bad
    with pytest.raises(ValueError, match="x contains non-finite"):
        linear_cka(x, torch.randn(10, 4))
    with pytest.raises(ValueError, match=r"non-finite values .* ys layer\(s\) \[1\]"):
        MinibatchCKA().update([torch.randn(10, 3)], [torch.randn(10, 2), x])


def test_zero_variance_layer_gives_nan_and_names_it():
    x = torch.randn(100, 5)
    const = torch.full((100, 5), 0.1)  # 0.1 is not exact in binary: the mean has rounding error
    with pytest.warns(RuntimeWarning, match="y has zero variance"):
        assert np.isnan(linear_cka(x, const))
    acc = MinibatchCKA()
    acc.update([x, const, torch.zeros(100, 2)])
    with pytest.warns(RuntimeWarning, match=r"xs layer\(s\) \[1, 2\] have zero variance"):
        m = acc.compute()
    assert torch.isnan(m[1]).all() and torch.isnan(m[:, 2]).all() and m[0, 0] == pytest.approx(1.0)


def test_accumulator_misuse():
    acc = MinibatchCKA()
    with pytest.raises(ValueError, match="no minibatches"):
        acc.compute()
    acc.update([torch.randn(8, 2)])
    with pytest.raises(ValueError, match="do not mix"):
        acc.update([torch.randn(8, 2)], [torch.randn(8, 2)])
    with pytest.raises(ValueError, match="layer count changed"):
        acc.update([torch.randn(8, 2), torch.randn(8, 2)])
    with pytest.raises(ValueError, match="square kernel"):
        hsic(np.zeros((4, 3)), np.zeros((4, 3)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(rng):
    xs = [torch.randn(64, 30), torch.randn(64, 8, 4, 4)]
    cpu, gpu = MinibatchCKA(), MinibatchCKA()
    cpu.update(xs)
    gpu.update([x.cuda().half() for x in xs])
    torch.testing.assert_close(gpu.compute(), cpu.compute(), atol=5e-3, rtol=0)


@pytest.mark.parametrize("unbiased", [True, False])
def test_gram_blocks_equal_the_concatenated_update(rng, unbiased):
    def model(widths, seed):
        gen = torch.Generator().manual_seed(seed)
        return [torch.randn(20, w, generator=gen, dtype=torch.float64) for w in widths]

    together, blocks = MinibatchCKA(unbiased=unbiased), MinibatchCKA(unbiased=unbiased)
    for batch in range(3):  # three models of 2, 3 and 1 layers, three minibatches
        grams = [
            MinibatchCKA._grams(model(w, 10 * batch + i), "xs")
            for i, w in enumerate(((5, 8), (3, 4, 9), (7,)))
        ]
        together.update_grams(torch.cat(grams))
        blocks.update_gram_blocks(grams)
    torch.testing.assert_close(blocks.compute(), together.compute(), atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="do not mix"):
        two = MinibatchCKA()
        two.update(model((5,), 0), model((6,), 1))
        two.update_gram_blocks(grams)
