"""Principal components from Gram matrices against SVDs of the activations, and Eq. 4."""

import pytest
import torch

from ckatools.capture import activations
from ckatools.components import centred, pc1_fractions
from ckatools.models import resnet


def test_pc1_fraction_equals_an_svd_of_the_centred_activations():
    torch.manual_seed(0)
    model = resnet(8, 0.25)
    images = torch.rand(48, 3, 16, 16)
    fractions = pc1_fractions(model, images)
    names = [r.name for r in model.representations()]
    assert fractions.shape == (len(names),)
    for name, fraction in zip(names[::5], fractions[::5]):
        x = activations(model, images, [name])[0].double()
        s = torch.linalg.svdvals(x - x.mean(0))
        assert fraction == pytest.approx((s[0] ** 2 / (s**2).sum()).item(), rel=1e-5), name


def test_centring_zeroes_row_and_column_sums():
    k = torch.rand(3, 6, 6, dtype=torch.float64)
    k = k + k.transpose(1, 2)
    c = centred(k)
    assert c.sum(-1).abs().max() < 1e-12 and c.sum(-2).abs().max() < 1e-12


def _pc1_removed(x):
    x = x - x.mean(0)
    _, _, vt = torch.linalg.svd(x, full_matrices=False)
    return x - (x @ vt[0])[:, None] * vt[0][None, :]


def test_components_match_an_svd_and_removing_pc1_matches_projecting_it_out():
    from ckatools.cka import linear_cka
    from ckatools.components import components

    gen = torch.Generator().manual_seed(1)
    base = torch.randn(60, 5, generator=gen, dtype=torch.float64)
    layers = [
        base @ torch.randn(5, p, generator=gen, dtype=torch.float64)
        + 0.3 * torch.randn(60, p, generator=gen, dtype=torch.float64)
        for p in (8, 20, 3)
    ]
    comps = components(torch.stack([x @ x.T for x in layers]))
    for i, x in enumerate(layers):
        xc = x - x.mean(0)
        u, s, _ = torch.linalg.svd(xc, full_matrices=False)
        assert comps.fraction[i] == pytest.approx((s[0] ** 2 / (s**2).sum()).item(), rel=1e-9)
        assert abs(comps.vectors[i] @ u[:, 0]) == pytest.approx(1.0, abs=1e-9)
    cos = comps.cosines()
    assert cos[0, 1] == pytest.approx((comps.vectors[0] @ comps.vectors[1]).item() ** 2)
    removed = comps.cka(without_pc1=True)
    for i, j in ((0, 1), (1, 2)):
        expected = linear_cka(_pc1_removed(layers[i]), _pc1_removed(layers[j]), unbiased=True)
        assert removed[i, j] == pytest.approx(expected, abs=1e-9)
    assert comps.cka()[0, 1] == pytest.approx(
        linear_cka(layers[0], layers[1], unbiased=True), abs=1e-9
    )


def test_eq4_cka_tends_to_the_squared_cosine_of_pc1s_as_pc1_dominates():
    from ckatools.components import components

    gen = torch.Generator().manual_seed(2)
    n = 200
    u = torch.randn(n, 1, generator=gen, dtype=torch.float64)
    v = 0.6 * u + 0.8 * torch.randn(n, 1, generator=gen, dtype=torch.float64)
    gaps = []
    for strength in (1.0, 10.0, 100.0):
        x = strength * u @ torch.randn(1, 30, generator=gen, dtype=torch.float64)
        y = strength * v @ torch.randn(1, 30, generator=gen, dtype=torch.float64)
        x = x + torch.randn(n, 30, generator=gen, dtype=torch.float64)
        y = y + torch.randn(n, 30, generator=gen, dtype=torch.float64)
        comps = components(torch.stack([x @ x.T, y @ y.T]))
        gaps.append(abs(comps.cka()[0, 1] - comps.cosines()[0, 1]))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-2


def test_the_top_eigenpair_equals_a_full_decomposition():
    from ckatools.components import top_eigenpair

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 60, 40, generator=gen, dtype=torch.float64)
    x[0, :, 0] *= 10  # a dominant direction
    x[1] *= torch.linspace(1, 1.05, 40, dtype=torch.float64)  # an almost flat spectrum
    x[4] = 0  # zero variance
    k = x @ x.transpose(1, 2)
    value, vector = top_eigenpair(k)
    values, vectors = torch.linalg.eigh(k)
    torch.testing.assert_close(value, values[:, -1], atol=1e-9, rtol=1e-9)
    cosine = (vector[:4] * vectors[:4, :, -1]).sum(1).abs()
    assert cosine[0] > 1 - 1e-12 and cosine[2:].min() > 1 - 1e-8
    assert value[4] == 0
