"""The small public helpers the chapters lean on, each against what it promises."""

import dataclasses

import numpy as np
import pytest
import torch

from ckatools.analysis.verdicts import OUTCOMES
from ckatools.book.experiments import (
    block_table,
    describe_blocks,
    points,
    presence_of,
    with_and_without_block,
)
from ckatools.capture import capture_grams
from ckatools.cka import gram
from ckatools.components import gram_stack
from ckatools.data import cache_dir, synthetic, to_unit
from ckatools.models import nearest_valid_depths, resnet
from ckatools.training import (
    TrainConfig,
    TrainResult,
    default_device,
    evaluate,
    fraction_label,
    training_data,
    zoo,
)


def test_fraction_labels_read_as_a_person_writes_them():
    assert [fraction_label(f) for f in (1.0, 0.25, 1 / 16, 1 / 64, 0.06)] == [
        "all",
        "1/4",
        "1/16",
        "1/64",
        "6 %",
    ]


def test_config_labels_and_cache_descriptions():
    config = TrainConfig(dataset="synthetic", depth=26, width=0.5, fraction=0.25, seed=2)
    assert (
        config.label == "ResNet-26 ×0.5" and config.replace(residual=False).label == "Plain-26 ×0.5"
    )
    assert zoo.describe(config) == "ResNet-26 ×0.5, synthetic 1/4, seed 2"


def test_capture_grams_and_gram_stack_hold_each_layers_gram_matrix():
    torch.manual_seed(0)
    model = resnet(8, 0.25).eval()
    x = torch.rand(6, 3, 8, 8)
    layers = model.representations()
    with torch.no_grad(), capture_grams(model, layers) as grams:
        model(x)
    stack = gram_stack(model, x)
    torch.testing.assert_close(grams[6], stack, atol=0, rtol=0)  # the same products, twice
    # The input's Gram matrix is a float32 product of p = 192 features, upcast after: each
    # entry's rounding error is of order sqrt(p) * 2^-24 (6e-8) relative to the largest entry,
    # so a float64 reference agrees to a few times that, not to float64's default tolerance.
    reference = gram(x.flatten(1).double())
    scale = reference.abs().max().item() * 192**0.5 * 2**-24
    torch.testing.assert_close(stack[0], reference, atol=8 * scale, rtol=0)
    assert stack.shape == (len(layers), 6, 6)


def test_nearest_valid_depths_bracket_an_invalid_depth():
    assert nearest_valid_depths(50) == [50, 56] and nearest_valid_depths(52) == [50, 56]
    assert nearest_valid_depths(3) == [8]


def test_unit_scaling_training_data_and_evaluation(cache):
    assert to_unit(torch.tensor([0, 255], dtype=torch.uint8)).tolist() == [0.0, 1.0]
    assert cache_dir() == cache
    data = training_data(TrainConfig(dataset="synthetic", fraction=0.25))
    full = synthetic(2000).labels.bincount()  # the synthetic training set (seeded)
    assert data.labels.bincount().tolist() == [max(1, round(0.25 * int(n))) for n in full]
    model = resnet(8, 0.25)
    result = evaluate(model, synthetic(40))
    assert result.logits.shape == (40, 10) and result.correct.float().mean() == pytest.approx(
        result.accuracy
    )
    assert default_device().type in ("cpu", "cuda")


def test_points_and_presence_from_runs():
    from test_plot import run

    runs = [run(width=0.25, value=0.3), run(width=0.5, value=0.95)]
    assert points(runs, lambda c: c.width) == ([0.25, 0.5], [r.block.extent for r in runs])
    verdict = presence_of("Fig. D.1", "a block", runs)
    assert verdict.outcome in OUTCOMES and "of 2 networks" in verdict.evidence
    assert presence_of("Fig. D.1", "a block", []).outcome == "not run in this profile"


def test_only_a_block_in_the_last_two_stages_counts_as_the_papers():
    from test_plot import LAYERS, run

    from ckatools.analysis.blocks import Block

    def placed(seed, first_stage):
        r = run(seed=seed)
        start = next(i for i, layer in enumerate(LAYERS) if layer.stage == first_stage)
        score = (len(LAYERS) - start) / len(LAYERS)
        return dataclasses.replace(r, block=Block(start, len(LAYERS) - 1, score, 0.5, found=True))

    early, late, none = placed(0, 1), placed(1, 2), run(seed=2, value=0.5)
    assert early.block.present and late.block.present and not none.block.present
    assert (early.begins_late, late.begins_late, none.begins_late) == (False, True, False)
    # ResNet-8 has three stages; the block runs to the head, counted in the last stage
    assert (early.block_stages, late.block_stages, none.block_stages) == ("1-3", "2-3", "")
    assert early.stage_of(0) == 0  # the stem comes before stage 1
    stage2 = [i for i, layer in enumerate(LAYERS) if layer.stage == 2]
    stage3 = [i for i, layer in enumerate(LAYERS) if layer.stage == 3]
    middle = dataclasses.replace(none, block=Block(1, stage2[-1], 0.5, 0.5, found=True))
    last = dataclasses.replace(none, block=Block(stage3[0], stage3[-1], 0.2, 0.5, found=True))
    assert (middle.block_stages, last.block_stages) == ("0-2", "3")
    runs = [early, late, none]
    assert list(block_table(runs)["stages"]) == ["1-3", "2-3", ""]
    assert points(runs, lambda c: c.seed)[1] == [r.block.extent for r in runs]
    assert points(runs, lambda c: c.seed, late=True)[1] == [0.0, late.block.extent, 0.0]
    assert presence_of("Fig. D.1", "a block", runs[:2]).outcome == "reproduced"
    verdict = presence_of("Fig. D.1", "a block", runs[:2], late=True)
    assert verdict.outcome == "not reproduced"
    assert verdict.against == ("ResNet-8 ×0.25 s0 (no block in the last two stages)",)


def test_networks_with_and_without_a_block_are_picked_by_their_numbers():
    import dataclasses

    from test_plot import run

    from ckatools.analysis.blocks import Block

    def with_block(seed, score, contrast):
        r = run(seed=seed)
        return dataclasses.replace(r, block=Block(0, 1, score, contrast))

    a, b = with_block(0, 0.5, 0.3), with_block(1, 0.3, 0.5)  # both have a block
    c, d = with_block(2, 0.1, 0.9), with_block(3, 0.05, 0.0)  # neither has one
    assert with_and_without_block([a, b, c, d], k=2) == ([b, a], [d, c])
    assert with_and_without_block([a, b, c, d]) == ([b], [d])
    assert with_and_without_block([c, d]) == ([c], [d])  # no block anywhere: the most contrasted


def test_groups_gather_each_architectures_seeds_from_the_zoo(monkeypatch, capsys):
    from ckatools.book import experiments, profiles

    def fake_get(config, **_):
        correct = torch.tensor([config.seed % 2 == 0, True, config.depth > 8])
        accuracy = 0.5 + config.seed / 100
        return None, TrainResult(
            config,
            (),
            1.0,
            config.epochs,
            3,
            train_accuracy=accuracy,
            accuracy=0.5,
            correct=correct,
        )

    monkeypatch.setattr(zoo, "get", fake_get)
    monkeypatch.setattr(zoo, "cached", lambda config: config.seed > 0)
    exp = profiles.experiment("mistakes", "smoke")
    found = experiments.groups(exp, progress=False)
    assert "2 trained" in capsys.readouterr().out  # seed 0 of each architecture
    assert list(found) == ["ResNet-8 ×0.5, seeds 0-3", "ResNet-14 ×0.25, seeds 0-3"]
    wide, deep = found.values()
    assert (wide.depth, wide.width, deep.depth, deep.width) == (8, 0.5, 14, 0.25)
    assert wide.correct.tolist() == [[s % 2 == 0, True, False] for s in range(4)]
    assert deep.train_accuracy.tolist() == [0.5, 0.51, 0.52, 0.53]
    caption = " ".join(experiments.group_provenance(exp, [wide, deep]).split())
    assert "ResNet-14 ×0.25, seeds 0-3 (4 networks): train 51.5% ± 1.3% (trained: 50.0%-53.0%)" in (
        caption
    )
    assert "Every network trained" in caption  # training accuracy 0.50-0.53: all at the bar
    failed = dataclasses.replace(deep, train_accuracy=np.array([0.5, 0.2, 0.52, 0.1]))
    caption = experiments.group_provenance(exp, [wide, failed])
    assert "Did not train (training accuracy under 50%): ResNet-14 ×0.25 seeds 1, 3" in " ".join(
        caption.split()
    )


def test_describe_blocks_says_where_the_blocks_begin():
    import dataclasses

    from test_plot import LAYERS, run

    from ckatools.analysis.blocks import Block

    late = next(i for i, r in enumerate(LAYERS) if r.stage == 2)
    early = next(i for i, r in enumerate(LAYERS) if r.stage == 1)

    def at(start, found, seed):
        block = Block(start, start + 2, 0.3, 0.2, found=found)
        return dataclasses.replace(run(seed=seed), block=block)

    runs = [at(late, True, 0), at(early, True, 1), at(0, False, 2)]
    assert " ".join(describe_blocks(runs).split()) == (
        "The measure finds a block in 2 of 3 trained networks; 1 of them begin in the last two "
        "stages, as in the paper, and 1 earlier, unlike the paper's."
    )
    assert " ".join(describe_blocks(runs[:1]).split()).endswith(
        "all of them begin in the last two stages, as in the paper."
    )
    untrained = dataclasses.replace(
        runs[0], results=dataclasses.replace(runs[0].results, train_accuracy=0.1)
    )
    assert "(1 did not train and measure nothing)" in " ".join(
        describe_blocks([untrained, runs[2]]).split()
    )


def test_a_capacity_verdict_is_judged_on_the_largest_network_of_each_series():
    from test_plot import run

    from ckatools.analysis.verdicts import Verdict
    from ckatools.book.experiments import judged, largest

    def fitted(r, accuracy):
        return dataclasses.replace(
            r, results=dataclasses.replace(r.results, train_accuracy=accuracy)
        )

    depth = [fitted(run(depth=d, seed=s), a) for d, a in ((8, 0.5), (14, 0.995)) for s in (0, 1)]
    width = [fitted(run(width=w), a) for w, a in ((0.25, 0.4), (1, 0.98))]
    assert [r.config.depth for r in largest(depth)] == [14, 14]
    failed = fitted(run(depth=26), 0.2)  # larger, but it did not train: it decides nothing
    assert [r.config.depth for r in largest([*depth, failed])] == [14, 14]
    verdict = Verdict("Fig. 1", "reproduced", "block extent rises")
    both = judged(verdict, depth, width)
    assert both.outcome == "not testable" and "1 of 3 largest networks" in both.evidence
    assert "; ResNet-8 ×1 all 98.0%)" in both.evidence  # the widest of the width series
    alone = judged(verdict, depth)
    assert alone.outcome == "reproduced" and "2 of 2 largest networks fit" in alone.evidence


def test_the_e1_pair_is_a_wider_shallower_and_a_deeper_narrower_network_without_a_block():
    import dataclasses

    from test_plot import run

    from ckatools.analysis.blocks import Block
    from ckatools.book.experiments import wide_deep_pairs

    def net(depth, width, accuracy, block=False):
        r = run(depth=depth, width=width)  # a flat heatmap: no block
        found = Block(2, 6, 0.3, 0.2, found=True) if block else r.block
        return dataclasses.replace(
            r, block=found, results=dataclasses.replace(r.results, accuracy=accuracy)
        )

    base = net(8, 1, 0.70)  # in both series: neither wide nor deep
    deep, deeper_with_block = net(20, 1, 0.72), net(32, 1, 0.74, block=True)
    wide, wider = net(8, 2, 0.80), net(8, 4, 0.73)
    narrow = net(14, 0.5, 0.80)  # of the width series only: never the "deep" one
    pairs = wide_deep_pairs([base, deep, deeper_with_block], [base, wide, wider, narrow])
    # closest in accuracy first; the network with a block takes no part
    assert [(a.config.width, b.config.depth) for a, b in pairs] == [(4, 20), (2, 20)]
    # the roles are never inverted: a "wide" network narrower than its partner is no pair
    assert wide_deep_pairs([net(20, 4, 0.7)], [base, net(8, 2, 0.7)]) == []
