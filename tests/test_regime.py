"""The regime read back from provenance captions, and the verdict gate that uses it."""

from types import SimpleNamespace

import pytest

from ckatools.analysis.verdicts import FIT, LINE, Verdict, in_regime, trend_verdict
from ckatools.book import regime
from ckatools.book.experiments import provenance
from ckatools.book.profiles import Experiment
from ckatools.training import TrainConfig


def _run(depth, width, seed, train, test, fraction=1 / 16, size=3750):
    config = TrainConfig(
        dataset="fashion-mnist-m",
        depth=depth,
        width=width,
        fraction=fraction,
        seed=seed,
        epochs=15,
        lr=0.05,
        warmup_epochs=2,
        bf16_cpu=True,
    )
    results = SimpleNamespace(train_size=size, train_accuracy=train, accuracy=test, device=None)
    return SimpleNamespace(config=config, results=results, trained=train >= 0.2)


EXP = Experiment(dataset="fashion-mnist-m", profile="cpu", images=2048, passes=2)


def test_captions_read_back_as_printed():
    runs = [
        _run(d, w, s, 0.5 + 0.1 * i + 0.01 * s, 0.6 + 0.01 * i)
        for i, (d, w) in enumerate([(8, 1), (14, 1), (56, 1), (14, 4)])
        for s in range(3)
    ]
    text = "chatter before\n" + provenance(EXP, runs) + "\n" + provenance(EXP, runs[:3])
    found = regime.read(text)
    assert len(found) == 2
    first = found[0]
    assert (first.profile, first.dataset, first.images, first.epochs) == (
        "cpu",
        "fashion-mnist-m",
        (3750,),
        15,
    )
    assert [n.label for n in first.networks] == [
        f"{r.config.label} 1/16 s{r.config.seed}" for r in runs
    ]
    for n, r in zip(first.networks, runs):
        # printed to 0.1 %: read back within half of that
        assert n.train_accuracy == pytest.approx(r.results.train_accuracy, abs=0.0005 + 1e-12)
        assert n.accuracy == pytest.approx(r.results.accuracy, abs=0.0005 + 1e-12)
        assert (n.depth, n.width) == (r.config.depth, r.config.width)
    on_gpu = [_run(14, 4, 3, 0.99, 0.7)]  # a caption that names networks of other precisions
    on_gpu[0].results.device = "cpu, cuda"
    caption = provenance(EXP, runs + on_gpu)
    mixed = regime.read(caption)[0]
    assert "mixed precision on a GPU: ResNet-14 ×4 1/16 s3)" in " ".join(caption.split())
    assert [n.label for n in mixed.networks] == [n.label for n in first.networks] + [
        "ResNet-14 ×4 1/16 s3"
    ]
    # the largest architecture by depth x width^2: ResNet-14 x4 (224) beats ResNet-56 x1 (56);
    # one that did not train decides nothing
    untrained = regime.read(provenance(EXP, [_run(14, 8, 0, 0.3, 0.1), *runs[:3]]))[0]
    assert {n.name for n in untrained.largest} == {"ResNet-8 ×1"}
    assert {n.name for n in first.largest} == {"ResNet-14 ×4"}
    assert len(first.largest) == 3
    assert regime.deciding(found[1:]) == {
        f"ResNet-8 ×1 1/16 s{s}": pytest.approx(0.5 + 0.01 * s, abs=6e-4) for s in range(3)
    }


def test_two_fractions_and_plain_networks():
    runs = [_run(14, 0.5, 0, 0.7, 0.6, 1 / 64, 937), _run(14, 0.5, 0, 0.8, 0.7)]
    runs[0].config = runs[0].config.replace(residual=False)
    (found,) = regime.read(provenance(EXP, runs))
    assert found.images == (937, 3750)
    assert [n.name for n in found.networks] == ["Plain-14 ×0.5", "ResNet-14 ×0.5"]


def test_text_without_captions_reads_as_nothing():
    assert regime.read("Provenance: cpu profile; but nothing else\n") == []
    whole = [_run(8, 1, 0, 0.9, 0.8, 1.0, 2000)]
    (found,) = regime.read(provenance(EXP, whole))
    assert found.images == (2000,) and found.networks[0].fraction == "all"
    assert regime.book_box([]) == ["No chapter's stored outputs print a provenance caption yet."]


def test_boxes_put_the_book_beside_the_paper():
    runs = [_run(56, 1, s, 0.77, 0.7) for s in range(3)] + [_run(14, 4, 0, 0.995, 0.8)]
    found = regime.read(provenance(EXP, runs[:3]) + "\n" + provenance(EXP, runs[3:]))
    rows = "\n".join(regime.book_box(found))
    assert "| epochs | 15 | 300 |" in rows
    assert "every seed) | 1 of 4 | all |" in rows and "| data | Fashion-MNIST-M |" in rows
    assert "| training images | 3,750 (1/16) |" in rows
    assert "77%-99.5%" in rows  # tenths near a fit: 99.5 % is not rounded up to 100 %
    line = regime.chapter_line(found)
    assert "1 of the 4 largest fit" in line and "3,750 training images" in line
    assert regime.chapter_line(found, whose="reused").startswith(
        "Regime: this chapter reuses Chapter 3's networks, which (Fashion-MNIST-M"
    )


def _fig1(outcome_parts):
    series = {"depth": ([8, 14, 26, 44, 56] * 3, outcome_parts)}
    return trend_verdict("Fig. 1", "depth", series)


def test_gate_makes_capacity_claims_not_testable_below_fit():
    against = _fig1([5, 4, 3, 2, 1] * 3)
    assert against.outcome == "not reproduced"
    gated = in_regime(against, {"ResNet-56 ×1 s0": 0.77, "ResNet-56 ×1 s1": 0.995})
    assert gated.outcome == "not testable"
    head = "largest networks do not fit their data (>= 99% training accuracy; "
    assert f"1 of 2 {head}ResNet-56 ×1 77%)" in gated.evidence
    seeds = {f"ResNet-56 ×1 1/16 s{s}": a for s, a in enumerate((0.77, 0.73, 0.99))}
    seeds["ResNet-14 ×4 1/16 s0"] = 0.84
    listed = in_regime(against, seeds).evidence
    assert f"3 of 4 {head}ResNet-56 ×1 1/16 73%-77%, ResNet-14" in listed
    assert "its parts alone: not reproduced" in gated.evidence
    assert gated.against == ()
    assert LINE.match(str(gated))["outcome"] == "not testable"
    assert in_regime(gated, {"x": 0.5}) == gated  # idempotent


def test_gate_leaves_fitted_other_and_unrun_claims_alone():
    verdict = _fig1([1, 2, 3, 4, 5] * 3)
    fitted = in_regime(verdict, {"a": FIT, "b": 1.0})
    assert (fitted.outcome, fitted.against) == (verdict.outcome, verdict.against)
    assert (
        fitted.evidence
        == verdict.evidence + "; 2 of 2 largest networks fit their data (lowest 99.0%)"
    )
    assert in_regime(fitted, {"c": 0.5}) == fitted  # the build's coarser gate cannot overrule it
    assert in_regime(verdict, {}) is verdict
    assert in_regime(verdict, {"a": float("nan")}).outcome == "not testable"
    assert "; a 98.6%)" in in_regime(verdict, {"a": 0.986}).evidence  # not rounded up to a fit
    mistakes = Verdict("Fig. 7", "not reproduced", "x")
    assert in_regime(mistakes, {"a": 0.5}) is mistakes  # not a claim about capacity
    unrun = Verdict("Fig. 1", "not run in this profile", "needs a GPU")
    assert in_regime(unrun, {"a": 0.5}) is unrun


def test_a_verdict_not_testable_for_another_reason_does_not_blame_fitting():
    gated = in_regime(_fig1([5, 4, 3, 2, 1] * 3), {"ResNet-56 ×1 s0": 0.77})
    assert "fit their training data, and these do not" in gated.reading
    blockless = Verdict(
        "Fig. D.8", "not testable", "no trained network of this profile has a block"
    )
    assert "fit" not in blockless.reading and "cannot test it" in blockless.reading


def test_group_captions_read_back_with_their_lowest_training_accuracy():
    import dataclasses

    import numpy as np

    from ckatools.analysis.mistakes import Group
    from ckatools.book.experiments import group_provenance

    def group(depth, width, train, seeds):
        configs = tuple(_run(depth, width, s, a, 0.5).config for s, a in zip(seeds, train))
        return Group(
            label=configs[0].label,
            seeds=tuple(seeds),
            correct=np.ones((len(seeds), 4), dtype=bool),
            train_accuracy=np.array(train),
            depth=depth,
            width=width,
            configs=configs,
            train_size=3750,
        )

    wide = group(8, 0.5, [0.61, 0.63, 0.60], [0, 1, 2])
    deep = group(38, 0.25, [0.58, 0.10, 0.995, 0.57], [0, 1, 2, 4])  # seed 1 did not train
    (found,) = regime.read("chatter\n" + group_provenance(EXP, [wide, deep]))
    assert (found.profile, found.images, found.epochs, found.fractions) == (
        "cpu",
        (3750,),
        15,
        ("1/16",),
    )
    assert [n.label for n in found.networks] == [
        "ResNet-8 ×0.5 1/16 seeds 0-2",
        "ResNet-38 ×0.25 1/16 seeds 0-2, 4",
    ]
    # the lowest and highest of the networks that trained, printed to 0.1 %
    assert [n.train_accuracies for n in found.networks] == [
        pytest.approx((0.60, 0.63), abs=6e-4),
        pytest.approx((0.57, 0.995), abs=6e-4),
    ]
    assert [n.count for n in found.networks] == [3, 4]
    assert regime.deciding([found]) == {"ResNet-38 ×0.25 1/16 seeds 0-2, 4": 0.57}
    line = regime.chapter_line([found])
    assert "reach 57%-99.5% training accuracy; 0 of the 1 largest fit" in line
    assert "3,750 training images, 15 epochs" in line
    assert "(7 networks)" in " ".join(regime.book_box([found]))
    # one network: no standard deviation to print (it would be nan), still read back
    alone = dataclasses.replace(group(20, 1, [0.995], [7]), train_size=0)
    caption = group_provenance(EXP, [alone])
    (one,) = regime.read(caption)
    assert "nan%" not in caption and [n.label for n in one.networks] == [
        "ResNet-20 ×1 1/16 seeds 7"
    ]
    assert "training images" not in regime.chapter_line([one])  # the size was not known
