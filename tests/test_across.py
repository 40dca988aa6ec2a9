"""Comparisons across models on hand-made CKA matrices."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ckatools.analysis.across import (
    best_matches,
    block_squares,
    corresponding_layers,
    depth_alignment,
    fig6_checks,
    fig_e1_checks,
)
from ckatools.analysis.blocks import Block
from ckatools.book.figures import pair_panels
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
    blocks = [Block(2, 2, 1 / 6, 0.0, found=True), Block(3, 3, 1 / 6, 0.0, found=True)]
    blocks.append(Block(2, 3, 2 / 6, 0.0, found=True))
    rows = corresponding_layers(population, blocks)
    assert [r["pair"] for r in rows] == [(0, 1), (0, 2), (1, 2)]
    assert all(r["inside"] == pytest.approx(0.25) for r in rows)
    assert all(r["outside"] == pytest.approx(0.9) for r in rows)
    absent = Block(2, 3, 2 / 6, 0.0, found=False)  # the measure's best span, not a block
    rows = corresponding_layers(population, [absent, blocks[1], absent])
    assert rows[0]["inside"] == pytest.approx(0.3)  # only seed 1's block, layer 3
    assert rows[1]["inside"] != rows[1]["inside"]  # neither has a block: NaN
    line, checks = fig6_checks("ResNet-8", population, blocks)
    # blocks of one layer have no square to be bright in: that part cannot tell
    assert [c.state for c in checks.values()] == ["holds", "cannot tell"]
    assert "0.90 outside, 0.25 in" in line
    with pytest.raises(ValueError, match="one architecture"):
        corresponding_layers(PopulationCKA(torch.eye(11), [layers, layers[:5]]), blocks[:2])


def test_best_matches_place_layers_by_relative_depth():
    matrix = torch.zeros(3, 5, dtype=torch.float64)
    matrix[0, 0] = matrix[1, 2] = matrix[2, 4] = 1.0
    matrix[1, 3] = float("nan")  # a zero-variance layer never matches
    own, match = best_matches(CKAResult(matrix, [], []))
    np.testing.assert_allclose(own, [0, 0.5, 1])
    np.testing.assert_allclose(match, [0, 0.5, 1])


def test_block_squares_compare_a_blocks_square_across_models_with_its_own():
    layers = resnet(8, 0.25).representations()[:8]
    n = len(layers)
    starts = (2, 3, 2)  # each model's block: 4 layers from here
    matrix = torch.full((3 * n, 3 * n), 0.3, dtype=torch.float64)
    for i, start in enumerate(starts):
        own = matrix[i * n : (i + 1) * n, i * n : (i + 1) * n]
        own[start : start + 4, start : start + 4] = 0.9
        own.fill_diagonal_(1.0)
    matrix[0:n, n : 2 * n][2:6, 3:7] = 0.85  # models 0 and 1 share their blocks' representations
    matrix[n : 2 * n, 0:n] = matrix[0:n, n : 2 * n].T
    population = PopulationCKA(matrix, [layers] * 3)
    present = Block(2, 5, 0.5, 0.6, found=True)
    shifted = Block(3, 6, 0.5, 0.6, found=True)
    rows = block_squares(population, [present, shifted, present])
    assert [r["pair"] for r in rows] == [(0, 1), (0, 2), (1, 2)]
    assert rows[0]["within"] == pytest.approx(0.9) and rows[0]["across"] == pytest.approx(0.85)
    assert rows[1]["across"] == pytest.approx(0.3) and rows[1]["gap"] == pytest.approx(0.6)
    absent = Block(2, 5, 0.5, 0.6, found=False)
    assert [r["pair"] for r in block_squares(population, [present, absent, present])] == [(0, 2)]
    _, checks = fig6_checks("ResNet-8", population, [present, shifted, present])
    brighter = next(c for name, c in checks.items() if "brighter" in name)
    assert brighter.value == pytest.approx(np.mean([r["gap"] for r in rows]))


def _cross(rows: int, cols: int, peak) -> CKAResult:
    """A cross-model CKA matrix whose rows peak at relative depth ``peak(depth)`` of B."""
    a = np.arange(rows)[:, None] / (rows - 1)
    b = np.arange(cols)[None, :] / (cols - 1)
    return CKAResult(torch.as_tensor(np.exp(-(((peak(a) - b) / 0.1) ** 2))), [], [])


def test_depth_alignment_against_a_shuffled_order():
    offset, part = depth_alignment(_cross(20, 34, lambda d: d))
    assert offset < 0.02 and part.state == "holds"
    # a random matching is about 1/3 apart on average (|U - V| for uniform U, V)
    assert part.value + offset == pytest.approx(1 / 3, abs=0.05)
    _, reversed_part = depth_alignment(_cross(20, 34, lambda d: 1 - d))
    assert reversed_part.state == "against"
    _, flat = depth_alignment(_cross(20, 34, lambda d: 0.5 + 0 * d))  # all match the middle
    assert flat.state == "cannot tell"


def test_fig_e1_asks_for_ordered_matches_closer_than_shuffled_layers():
    rho, offset, checks = fig_e1_checks(_cross(20, 34, lambda d: d))
    assert rho > 0.95 and offset < 0.02
    assert [c.state for c in checks.values()] == ["holds", "holds"]
    rho, _, checks = fig_e1_checks(_cross(20, 34, lambda d: 1 - d))  # matched in reverse
    assert rho < -0.95 and [c.state for c in checks.values()] == ["against", "against"]


def test_pair_panels_draw_both_maps_their_cross_map_and_the_matches():
    layers = resnet(8, 0.25).representations()
    n = len(layers)
    population = PopulationCKA(torch.rand(2 * n, 2 * n, dtype=torch.float64), [layers] * 2)
    runs = [
        SimpleNamespace(config=SimpleNamespace(label=f"ResNet-8 ×{w}"), title=f"net {w}")
        for w in (1, 2)
    ]
    fig = pair_panels(population, *runs)
    assert len(fig.axes) == 5  # four panels and one colour bar
    assert fig.axes[3].get_xlabel() == "relative depth in ResNet-8 ×1"
    assert len(fig.axes[3].lines[0].get_xdata()) == n
