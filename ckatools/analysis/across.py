"""Comparing networks with each other (Sec. 6 of the paper, Figs. 6 and E.1).

Across seeds: networks of one architecture have the same list of representations, so layer l
of one seed *corresponds* to layer l of another, and the diagonal of their cross-model CKA
matrix says how alike corresponding layers are. The paper's claim is that they are alike
outside the block structure and unlike inside it: the block is unique to each model.

Across architectures: layers cannot correspond by index, so each layer of one network is
matched with its most similar layer in the other (the maximum of its row of CKA), and both are
placed by *relative depth* (index / (L - 1), from 0 at the input to 1 at the logits). Without a
block structure, the paper finds that layers match at about the same relative depth; "about"
is judged against chance (:func:`depth_alignment`): the same matching with the other network's
layers in a shuffled order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ckatools.analysis.blocks import Block
from ckatools.analysis.verdicts import Check, mean_above, rank_check
from ckatools.capture import CKAResult, PopulationCKA
from ckatools.stats import resampled_test, split_means

__all__ = [
    "corresponding_layers",
    "block_squares",
    "fig6_checks",
    "best_matches",
    "depth_alignment",
    "fig_e1_checks",
]


def corresponding_layers(population: PopulationCKA, blocks: Sequence[Block]) -> list[dict]:
    """For every pair i < j of same-architecture models, the mean CKA between corresponding
    layers inside either model's block (``blocks[i]``, ``blocks[j]``, where present) and outside
    both (NaN inside when neither has a block)."""
    sizes = {len(layers) for layers in population.layers}
    if len(sizes) != 1:
        raise ValueError(
            f"corresponding layers need models of one architecture, got {sorted(sizes)} "
            "representations"
        )
    index = np.arange(sizes.pop())
    rows = []
    for i in range(len(population)):
        for j in range(i + 1, len(population)):
            diagonal = population[i, j].matrix.diagonal().numpy()
            inside = np.zeros(len(index), dtype=bool)
            for b in (blocks[i], blocks[j]):
                if b.present:
                    inside |= (b.start <= index) & (index <= b.end)
            mean_in, mean_out = split_means(diagonal, inside)
            rows.append(dict(pair=(i, j), inside=mean_in, outside=mean_out))
    return rows


def _square_mean(matrix: np.ndarray, rows: Block, cols: Block, *, diagonal: bool) -> float:
    """Mean of ``matrix`` over the square rows.start..end x cols.start..end (its diagonal left
    out when ``diagonal`` is False: a model's own layers against themselves, all 1)."""
    square = matrix[rows.start : rows.end + 1, cols.start : cols.end + 1]
    if not diagonal:
        square = square[~np.eye(len(square), dtype=bool)] if len(square) > 1 else square[:0]
    return float(np.mean(square)) if square.size else float("nan")


def block_squares(population: PopulationCKA, blocks: Sequence[Block]) -> list[dict]:
    """Fig. 6 as the paper draws it: for every pair i < j of models that both have a block, the
    mean CKA between model i's block and model j's block (the square of the cross-model map)
    against the mean CKA inside each model's own block (the bright square of its own map, its
    diagonal left out, averaged over the two). The paper's claim: the first is much lower.

    Returns one dict per pair: ``pair``, ``within``, ``across`` and ``gap`` (within - across);
    the pairs are the units of the test (:func:`ckatools.analysis.verdicts.mean_above`)."""
    rows = []
    for i in range(len(population)):
        for j in range(i + 1, len(population)):
            a, b = blocks[i], blocks[j]
            if not (a.present and b.present):
                continue
            own = [
                _square_mean(population[k, k].matrix.numpy(), blk, blk, diagonal=False)
                for k, blk in ((i, a), (j, b))
            ]
            across = _square_mean(population[i, j].matrix.numpy(), a, b, diagonal=True)
            within = float(np.mean(own))
            rows.append(dict(pair=(i, j), within=within, across=across, gap=within - across))
    return rows


def fig6_checks(
    name: str, population: PopulationCKA, blocks: Sequence[Block]
) -> tuple[str, dict[str, Check]]:
    """Fig. 6's parts for one architecture's seeds, each a t interval over its pairs of seeds.
    "The block structure representations are highly dissimilar across models": a seed's block
    is brighter against itself than against another seed's block (pairs that both have a
    block, :func:`block_squares`). "While layers not in the block structure exhibit some
    similarity": corresponding layers are more alike outside the blocks than inside them (pairs
    in which either seed has a block and some layer lies outside, :func:`corresponding_layers`).
    With fewer than two pairs a part cannot tell. The K(K-1)/2 pairs of K seeds share seeds, so
    the interval is narrower than one over independent units would be (the claims table says
    so); and early layers, which agree across seeds anyway, lie outside blocks more often.

    Args:
        name: the architecture, for the parts' names.
        population: CKA between every pair of its seeds (:func:`ckatools.population_cka`).
        blocks: each seed's measured block, in the population's order.

    Returns:
        (line, checks): a sentence of the means, and the parts by name.
    """
    rows = [
        r
        for r in corresponding_layers(population, blocks)
        if np.isfinite(r["inside"]) and np.isfinite(r["outside"])
    ]
    squares = block_squares(population, blocks)
    line = f"{name}: {len(rows)} pairs of seeds with a block in either"
    checks: dict[str, Check] = {}
    if rows:
        outside, inside = ([r[key] for r in rows] for key in ("outside", "inside"))
        line += f"; corresponding layers {np.mean(outside):.2f} outside, {np.mean(inside):.2f} in"
        checks[
            f"{name}: corresponding layers more alike outside the blocks ({len(rows)} pairs)"
        ] = mean_above([o - i for o, i in zip(outside, inside)])
    if squares:
        within, across = (np.mean([s[key] for s in squares]) for key in ("within", "across"))
        line += (
            f"; {len(squares)} pairs that both have one: within a block {within:.2f}, "
            f"between the two blocks {across:.2f}"
        )
        checks[
            f"{name}: a block is brighter within its seed than across ({len(squares)} pairs)"
        ] = mean_above([s["gap"] for s in squares])
    return line, checks


def best_matches(result: CKAResult) -> tuple[np.ndarray, np.ndarray]:
    """Relative depth of each layer of model A and of its most similar layer of model B."""
    matrix = np.nan_to_num(result.matrix.numpy(), nan=-np.inf)
    rows, cols = matrix.shape
    return np.arange(rows) / (rows - 1), matrix.argmax(1) / (cols - 1)


def depth_alignment(
    result: CKAResult, *, resamples: int = 2000, seed: int = 0
) -> tuple[float, Check]:
    """The mean offset in relative depth between each layer of model A and its best match in B
    (:func:`best_matches`), and the part "layers match at the same relative depth, more closely
    than chance": the null shuffles the order of B's layers (its columns) and matches again.

    The part's value is the null's median offset minus the observed one, and its half-width the
    distance from the median to the null's low end (for an offset below the median) or to its
    high end (above it), about its 2.5 % and 97.5 % quantiles
    (:func:`ckatools.stats.resampled_test`, with the permutation p-value): it holds when the
    observed offset is below the low end, goes against when it is above the high end (layers
    match at opposite depths), and cannot tell otherwise, a two-sided test at 5 %.
    """
    own, match = best_matches(result)
    observed = float(np.abs(own - match).mean())
    matrix = np.nan_to_num(result.matrix.numpy(), nan=-np.inf)
    cols = matrix.shape[1]
    rng = np.random.default_rng(seed)
    null = np.empty(resamples)
    for i in range(resamples):
        order = rng.permutation(cols)  # column c of the shuffled matrix is B's layer order[c]
        null[i] = np.abs(own - matrix[:, order].argmax(1) / (cols - 1)).mean()
    low, high, p = resampled_test(null, observed)
    median = float(np.median(null))
    half = median - low if observed <= median else high - median
    return observed, Check(median - observed, float(half), p=p)


def fig_e1_checks(result: CKAResult) -> tuple[float, float, dict[str, Check]]:
    """Fig. E.1's parts on the cross-model CKA ``result`` of a wide network (rows) and a deep one
    (columns), both without a block:
    the best-matching layers keep the order of depth (Spearman's rho against chance,
    :func:`ckatools.analysis.verdicts.rank_check`), and their mean offset in relative depth is
    below what shuffled layer orders give (:func:`depth_alignment`). The units are the layers of
    that one pair.

    Returns:
        (rho, mean offset, checks).
    """
    own, match = best_matches(result)
    rho, ordered = rank_check(own, match)
    offset, aligned = depth_alignment(result)
    return (
        rho,
        offset,
        {
            f"best matches keep the order of depth (Spearman {rho:+.2f})": ordered,
            f"mean offset {offset:.2f}, below the shuffled layers' (two-sided)": aligned,
        },
    )
