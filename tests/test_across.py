"""Comparisons across models on hand-made CKA matrices."""

import numpy as np
import pytest
import torch

from ckatools.analysis.across import best_matches, corresponding_layers
from ckatools.analysis.blocks import Block
from ckatools.capture import CKAResult, PopulationCKA
from ckatools.models import resnet


def test_corresponding_layers_split_the_diagonal_by_either_models_block():
    layers = resnet(8, 0.25).representations()[:6]
    n = len(layers)
    matrix = torch.eye(3 * n, dtype=torch.float64)
    cross = torch.full((n, n), 0.1, dtype=torch.float64)
    cross.diagonal().copy_(torch.tensor([0.9, 0.9, 0.2, 0.3, 0.9, 0.9]))  # unlike at 2 and 3
    for i in range(3):
        for j in range(3):
            if i != j:
                matrix[i * n : (i + 1) * n, j * n : (j + 1) * n] = cross
    population = PopulationCKA(matrix, [layers] * 3)
    blocks = [Block(2, 2, 1 / 6, 0.0), Block(3, 3, 1 / 6, 0.0), Block(2, 3, 2 / 6, 0.0)]
    rows = corresponding_layers(population, blocks)
    assert [r["pair"] for r in rows] == [(0, 1), (0, 2), (1, 2)]
    assert all(r["inside"] == pytest.approx(0.25) for r in rows)
    assert all(r["outside"] == pytest.approx(0.9) for r in rows)
    with pytest.raises(ValueError, match="one architecture"):
        corresponding_layers(PopulationCKA(torch.eye(11), [layers, layers[:5]]), blocks[:2])


def test_best_matches_place_layers_by_relative_depth():
    matrix = torch.zeros(3, 5, dtype=torch.float64)
    matrix[0, 0] = matrix[1, 2] = matrix[2, 4] = 1.0
    matrix[1, 3] = float("nan")  # a zero-variance layer never matches
    own, match = best_matches(CKAResult(matrix, [], []))
    np.testing.assert_allclose(own, [0, 0.5, 1])
    np.testing.assert_allclose(match, [0, 0.5, 1])
