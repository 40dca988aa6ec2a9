"""The block-structure score on matrices with and without blocks, and against brute force."""
import numpy as np
import pytest

from ckatools.blocks import block_structure
from ckatools.models import resnet


def brute_force(matrix, threshold):
    n, best = len(matrix), (0, 0)
    for i in range(n):
        for j in range(i, n):
            if (np.minimum(matrix, matrix.T)[i:j + 1, i:j + 1] >= threshold).all() and j - i > best[1] - best[0]:
                best = (i, j)
    return best


def decay(n, length):
    idx = np.arange(n)
    return np.exp(-np.abs(idx[:, None] - idx[None, :]) / length)


@pytest.mark.parametrize("seed", range(5))
def test_matches_brute_force_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    m = rng.uniform(0.6, 1.0, size=(25, 25))
    m = (m + m.T) / 2
    np.fill_diagonal(m, 1)
    b = block_structure(m, threshold=0.75)
    assert (b.start, b.end) == brute_force(m, 0.75)


def test_finds_a_planted_block():
    m = decay(100, 3.0)
    m[40:90, 40:90] = np.maximum(m[40:90, 40:90], 0.95)
    b = block_structure(m)
    assert (b.start, b.end, b.size) == (40, 89, 50) and b.score == pytest.approx(0.5)


def test_gradual_decay_is_not_a_block():
    assert block_structure(decay(100, 3.0)).size <= 2  # exp(-1/3) = 0.72 < 0.9 already for neighbours
    assert block_structure(decay(100, 30.0)).score < 0.1


def test_residual_checkerboard_is_not_a_block():
    reps = resnet(56).representations()  # 9 blocks per stage
    post = np.array([r.post_residual or r.kind == "add" for r in reps])
    m = np.where(post[:, None] & post[None, :], 0.97, 0.6)  # block outputs alike, insides not
    np.fill_diagonal(m, 1)
    b = block_structure(m, reps)
    assert b.size == 2 and b.first.endswith("add") and b.last.endswith("relu2")


def test_nan_layers_break_runs_and_bad_input():
    m = np.ones((10, 10))
    m[4, :] = m[:, 4] = np.nan
    b = block_structure(m)
    assert (b.start, b.end) == (5, 9)
    with pytest.raises(ValueError, match="square"):
        block_structure(np.ones((3, 4)))


def test_trend_sentence():
    from ckatools.blocks import trend

    assert "rises at every step; Spearman rank correlation +1.00" in trend([4, 1, 2], [0.9, 0.1, 0.5], "width")
    assert "does not rise at every step; Spearman rank correlation -1.00" in trend([1, 2, 3], [0.5, 0.4, 0.1], "depth")
    assert trend([1, 2], [0.3, 0.3], "x").endswith("nan.")


def test_trend_ranks_ties_by_their_average():
    from ckatools.blocks import trend

    # ranks x: 0, 1, 2; scores tied at the top: 0, 1.5, 1.5 -> rho = 0.866
    assert "Spearman rank correlation +0.87" in trend([1, 2, 3], [0.1, 0.4, 0.4], "x")
