"""The study's driver, statistics and rule on small cases."""

import math

import numpy as np
import pandas as pd
import pytest

from ckatools import study
from ckatools.analysis.verdicts import OUTCOMES
from ckatools.stats import spearman
from ckatools.study import records, stages
from ckatools.study.rules import _cost
from ckatools.training import TrainConfig, TrainResult


def record(config, *, train=1.0, test=0.7, score=0.0, cka=None):
    """A study record made up for a test: the given accuracies, stored block score and matrix."""
    cka = np.eye(3) if cka is None else cka
    results = TrainResult(config, (), 10.0, config.epochs, 100, train_accuracy=train, accuracy=test)
    relative, strict = study.Span(0, 0, score, 0.0), study.Span(0, 0, 0.0)
    return study.Measured(config, results, cka, (), np.zeros(len(cka)), relative, strict, "fake")


def test_driver_measures_resumes_and_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("CKATOOLS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(records, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(records, "CKA_IMAGES", 64)
    monkeypatch.setattr(records, "PCA_IMAGES", 32)
    regime = dict(dataset="synthetic", fraction=1.0, epochs=1, lr=0.05)
    monkeypatch.setattr(stages, "STAGES", {1: [(regime, ((8, 0.25),), (0,))]})
    study.run((1,))
    (item,) = study.load_results("synthetic")
    assert item.config == TrainConfig(**regime, depth=8, width=0.25)
    assert item.cka.shape == (30, 30) and item.pc1.shape == (30,) and len(item.results.history) == 1
    assert 0 < item.relative.score <= 1 and 0 <= item.results.train_accuracy <= 1

    def no_measure(config):
        raise AssertionError("measured again")

    monkeypatch.setattr(records, "measure_network", no_measure)
    study.run((1,))  # everything has its file: nothing to do


def fake(regime_epochs, knob, level, score, seed, fraction=1 / 64):
    depth, width = (14, level) if knob == "width" else (level, 0.5)
    config = TrainConfig(
        dataset="fashion-mnist",
        fraction=fraction,
        epochs=regime_epochs,
        depth=depth,
        width=width,
        seed=seed,
    )
    return record(config, score=score)


def test_trends_and_the_rule_on_made_up_scores():
    rising = [
        fake(60, "width", w, 0.1 * i + 0.01 * s, s)
        for i, w in enumerate((0.25, 0.5, 1, 2))
        for s in range(3)
    ]
    rising += [
        fake(60, "depth", d, 0.1 * i + 0.01 * s, s)
        for i, d in enumerate((8, 26, 56))
        for s in range(3)
    ]
    flat = [fake(15, "width", w, 0.3 + 0.01 * s, s) for w in (0.25, 0.5, 1, 2) for s in range(3)]
    table = study.trends(rising + flat)
    row = table[(table.regime == "1/64 data, 60 epochs") & (table.series == "width")].iloc[0]
    assert row.rho > 0.9 and row.rho_low > 0.5 and row.separation > 2 and row.networks == 12
    assert study.choose(table) == "1/64 data, 60 epochs"
    assert study.choose(study.trends(flat)) is None
    assert study.choose(pd.DataFrame()) is None
    assert (
        table[table.regime == "1/64 data, 15 epochs"].rho.iloc[0] == 0
    )  # seeds vary, levels do not


def test_incomplete_regimes_never_choose_and_costs_are_deterministic():
    width = [
        fake(60, "width", w, 0.1 * i + 0.01 * s, s)
        for i, w in enumerate((0.5, 1, 2))
        for s in range(3)
    ]
    depth = [fake(60, "depth", d, 0.5 + 0.01 * s, s) for d in (8, 26, 56) for s in range(3)]
    steep = [
        fake(60, "width", w, 0.3 * i + 0.01 * s, s, fraction=1 / 16)
        for i, w in enumerate((0.5, 1))
        for s in range(3)
    ]
    table = study.trends(width + depth + steep)
    assert set(table.regime) == {"1/64 data, 60 epochs", "1/16 data, 60 epochs"}
    assert study.choose(table) == "1/64 data, 60 epochs"  # the 2-level regime shows more, yet
    assert study.choose(study.trends(steep)) is None
    row = table[table.regime == "1/16 data, 60 epochs"].iloc[0]
    one = fake(60, "width", 0.5, 0, 0, fraction=1 / 16).config
    assert row.cost == round(3 * (_cost(one) + _cost(one.replace(width=1))), 2)
    assert _cost(one.replace(epochs=120)) == 2 * _cost(one)


def test_less_data_compares_the_two_fractions_per_width():
    items = [fake(60, "width", w, 0.6 + 0.01 * s, s) for w in (0.5, 1) for s in range(3)]
    items += [fake(60, "width", 0.5, 0.3 + 0.01 * s, s, fraction=1 / 16) for s in range(3)]
    items += [fake(60, "width", 1, 0.55 + 0.05 * s, s, fraction=1 / 16) for s in range(3)]
    table = study.less_data(items)
    assert list(table.holds) == [True, False]
    assert list(table.difference) == [0.3, 0.01]


def test_stages_1_to_3_left_the_regime_that_stage_6_replaced():
    chosen = study.choose(study.trends(study.of_stages(study.load_results())))
    assert chosen is None  # no series showed its trend: the profile kept 1/16, 15 epochs


def test_stage_5_trains_with_the_recipe_the_pilots_rules_chose():
    pilot = study.of_stages(study.load_results("fashion-mnist-m"), (4,))
    assert len(pilot) == 14
    decided = study.pilot_decisions(pilot)
    for config in study.configs((5,)):
        assert config.warmup_epochs == decided["warmup_epochs"]
        assert config.bf16_cpu == decided["bf16_cpu"]
        assert config.seed not in study.PILOT_SEEDS


def test_pilot_rules_on_made_up_results():
    def item(depth, width, seed, warmup, fast, train, test):
        config = TrainConfig(
            dataset="fashion-mnist-m",
            depth=depth,
            width=width,
            seed=seed,
            warmup_epochs=warmup,
            bf16_cpu=fast,
            epochs=15,
        )
        return record(config, train=train, test=test)

    def results(cold_train, fast_shift):
        found = [
            item(44, 0.5, 100, 0, False, cold_train, 0.5),
            item(44, 0.5, 100, 2, False, 0.7, 0.4),
        ]
        found += [item(56, 1, 100, 0, True, 0.7, 0.6), item(56, 1, 100, 2, True, 0.7, 0.6)]
        for depth in (8, 14):
            for seed, acc in ((100, 0.70), (101, 0.72)):
                found += [item(depth, 1, seed, 2, False, 0.8, acc)]
                found += [item(depth, 1, seed, 2, True, 0.8, acc + fast_shift)]
        return study.pilot_decisions(found)

    assert results(0.3, 0.0)["warmup_epochs"] == 2  # rescued a network that did not train
    assert results(0.9, 0.0)["warmup_epochs"] == 0  # everything trains and no pair gains
    assert results(0.9, 0.01)["bf16_cpu"] and not results(0.9, -0.05)["bf16_cpu"]
    assert results(0.9, -0.05)["seed_noise"] == pytest.approx(0.02)


def test_stage_5_trends_and_the_dataset_rule_on_made_up_heatmaps():
    def heatmap(depth, block):
        n = 9 + 21 * (depth - 2) // 6
        m = np.full((n, n), 0.3)
        if block:
            m[n // 4 :, n // 4 :] = 0.95
        np.fill_diagonal(m, 1)
        return m

    def item(dataset, depth, seed, block, train=0.8):
        config = TrainConfig(dataset=dataset, depth=depth, width=1, seed=seed, **study.STUDY_RECIPE)
        return record(config, cka=heatmap(depth, block), train=train)

    items = []
    for seed in (0, 1, 2):
        items += [item("fashion-mnist-m", d, seed, d >= 26) for d in (8, 14, 26, 44)]
        items += [item("fashion-mnist", d, seed, False) for d in (8, 14, 26, 44)]
    items.append(item("fashion-mnist-m", 56, 0, True, train=0.2))  # did not train: left out
    table = study.stage5_trends(items).set_index(["dataset", "series"])
    assert table.loc[("fashion-mnist-m", "depth"), "outcome"] == "shows"
    assert table.loc[("fashion-mnist-m", "depth"), "untrained"] == 1
    assert table.loc[("fashion-mnist", "depth"), "outcome"] == "inconclusive"  # NaN rho: no "no"
    assert study.choose_dataset(table.reset_index()) == "fashion-mnist-m"
    datasets = study.dataset_table(items)
    assert datasets.loc["fashion-mnist-m", "trained"] == 12  # the untrained one is counted apart
    assert (
        datasets.loc["fashion-mnist-m", "with a block"] == 6
        and datasets.loc["fashion-mnist", "with a block"] == 0
    )
    assert datasets.loc["fashion-mnist", "mean CKA (median)"] == pytest.approx(0.3)
    reading = " ".join(study.dataset_reading(datasets, table.reset_index()).split())
    assert "fashion-mnist-m: layers alike at a median mean CKA of" in reading
    assert "with depth the block's extent rises, as in the paper" in reading
    assert "with depth the block's extent moves too little to tell" in reading
    assert items[-1].title.endswith("did not train")
    title = items[2].title  # a block over 70 of 93 representations
    assert title == "ResNet-26 ×1, fashion-mnist-m\ntest 70%, block 0.75"


def test_of_stages_keeps_stage_5_apart_from_stage_2():
    stage2 = study.configs((2,))[0]
    stage5 = stage2.replace(warmup_epochs=2, bf16_cpu=True)
    items = [record(stage2), record(stage5)]
    assert study.of_stages(items) == [items[0]]


def test_the_cpu_profile_is_the_studys_choice_with_stage_7s_networks(monkeypatch):
    """Stage 5's dataset and recipe, stage 6's regime, stage 7's series, and what derives from
    them as the protocol's amendment "The cpu profile after stage 7" fixed it (on a CPU with
    native bfloat16; elsewhere the same networks train in float32, tested in test_data)."""
    from ckatools import training
    from ckatools.book import profiles

    monkeypatch.setattr(training, "cpu_has_bf16", lambda: True)

    items = study.stage5_items("fashion-mnist-m") + study.stage5_items("fashion-mnist")
    assert len(items) == len(study.configs((5,))), "stage 5 is not complete"
    cpu = profiles.DEFAULTS["cpu"]
    assert cpu["dataset"] == study.choose_dataset(study.stage5_trends(items))
    regime = study.stage6_decisions(study.load_results("fashion-mnist-m"))["regime"]
    assert cpu["fractions"] == (regime["fraction"],) and cpu["epochs"] == regime["epochs"]
    assert all(cpu[k] == v for k, v in regime.items() if k not in ("fraction", "epochs"))
    ((_, architectures, seeds),) = study.stage7_plan()
    experiment = lambda name: profiles.experiment(name, "cpu")
    series = [experiment(n) for n in ("depth_series", "width_series")]
    assert set(sum((e.architectures for e in series), ())) == set(architectures)
    assert all(e.seeds == seeds for e in series)
    assert {c for e in series for c in profiles.training_configs(e)} == set(study.configs((7,)))
    deepest = max(experiment("depth_series").architectures)
    assert experiment("seeds").architectures == (deepest,)  # Fig. D.1
    plain = experiment("plain")  # the width series less its widest, seeds 0 and 1
    assert not plain.residual and plain.seeds == (0, 1)
    assert plain.architectures == experiment("width_series").architectures[:-1]
    for name, series_name in (("data_width", "width_series"), ("data_depth", "depth_series")):
        grid = experiment(name)  # Chapter 4: three narrowest / shallowest, three fractions
        assert grid.architectures == experiment(series_name).architectures[:3]
        assert grid.fractions == (1 / 128, 1 / 64, 1 / 32) and grid.seeds == (0, 1, 2)
    assert experiment("measures").architectures == ((20, 1),)  # the width series' base
    assert experiment("beyond").snapshot_epochs == (1, 4, 13, 43, 128)
    regime = (experiment("width_series").fractions, experiment("width_series").epochs)
    for name in ("mistakes", "mistakes_baseline", "mistakes_deep_baseline"):  # moved too
        assert (experiment(name).fractions, experiment(name).epochs) == regime == ((1 / 32,), 128)


def test_the_colab_profile_is_the_amendments_choice():
    """The amendment "The colab profile after stage 6": stage 6's recipe and epochs on the
    largest fraction 1/2^k of CIFAR-10 within the replaced profile's SGD steps, the width
    series on stage 6's base depth, and the cpu profile's rules for what derives from them."""
    from ckatools.book import profiles
    from ckatools.stats import can_reach_95

    decisions = study.stage6_decisions(study.load_results("fashion-mnist-m"))
    chosen = study.colab_regime(decisions["regime"])
    assert (chosen["fraction"], chosen["epochs"], chosen["steps"]) == (1 / 16, 128, 3200)
    assert chosen["budget"] == 15 * 391  # 15 epochs of 50,000 images at batch 128
    twice = math.ceil(50000 * 2 * chosen["fraction"] / 128) * chosen["epochs"]
    assert twice > chosen["budget"]  # the largest fraction: twice the data exceeds the budget
    larger = study.colab_regime(decisions["regime"] | {"epochs": 64})  # fewer epochs: more data
    assert larger["fraction"] == 1 / 8 and larger["steps"] <= larger["budget"]
    colab = profiles.DEFAULTS["colab"]
    assert colab["dataset"] == "cifar10"
    assert colab["fractions"] == (chosen["fraction"],) and colab["epochs"] == chosen["epochs"]
    for key in ("lr", "warmup_epochs"):
        assert colab[key] == decisions["regime"][key]
    experiment = lambda name: profiles.experiment(name, "colab")
    width, depth = experiment("width_series"), experiment("depth_series")
    assert {d for d, _ in width.architectures} == {decisions["base"]}
    assert [w for _, w in width.architectures] == [1, 2, 4]
    assert experiment("seeds").architectures == (max(depth.architectures),)  # Fig. D.1
    plain = experiment("plain")
    assert not plain.residual and plain.architectures == width.architectures[:-1]
    for name, series in (("data_width", width), ("data_depth", depth)):
        grid = experiment(name)  # three fractions up to the regime's, two seeds: 90 orderings
        assert grid.architectures == series.architectures[:3] and len(grid.seeds) == 2
        assert grid.fractions == tuple(chosen["fraction"] / 2**k for k in (2, 1, 0))
        assert can_reach_95([f for f in grid.fractions for _ in grid.seeds])
    for name, ends in (("data_width_cifar100", (20, 4)), ("data_depth_cifar100", (110, 1))):
        grid = experiment(name)  # Chapter 4's fractions and seeds: each part can reach 95 %
        assert (grid.dataset, grid.fractions) == ("cifar100", experiment("data_width").fractions)
        assert grid.seeds == experiment("data_width").seeds and max(grid.architectures) == ends
    family = set(experiment("family").architectures)  # Chapter 2 shows the series' networks
    assert family == set(width.architectures) | set(depth.architectures)
    assert experiment("first_heatmap").architectures == width.architectures[:1]
    assert experiment("measures").architectures == width.architectures[:1]
    assert experiment("beyond").snapshot_epochs == (1, 4, 13, 43, 128)
    for name in ("mistakes", "mistakes_baseline", "mistakes_deep_baseline"):  # Chapter 9: moved
        assert (experiment(name).fractions, experiment(name).epochs) == ((1 / 16,), 128)


def pilot6(regime, depth, width, seed, accuracy, cka=None):
    config = TrainConfig(**regime, depth=depth, width=width, seed=seed)
    return record(config, train=accuracy, cka=cka)


def test_stage6_picks_the_cheapest_regime_in_which_the_largest_networks_fit():
    regimes = study.stage6_regimes()
    assert [r["epochs"] * study.STAGE6_FRACTIONS[r["fraction"]] for r in regimes] == [
        s for s in study.STAGE6_STEPS for _ in range(3)
    ]
    plain = np.full((20, 20), 0.5) + 0.5 * np.eye(20)  # no block
    items = []
    for index, regime in enumerate(regimes):
        fit = 0.995 if index >= 4 else 0.97  # the fifth regime is the first in which all fit
        for seed in study.PILOT_SEEDS:
            items += [
                pilot6(regime, 56, 1, seed, fit),
                pilot6(regime, 20, 4, seed, fit if seed == 100 or index >= 5 else 0.98),
            ]
            items += [
                pilot6(regime, d, w, seed, 0.995, plain) for d in (20, 26, 32) for w in (1, 4)
            ]
    decisions = study.stage6_decisions(items)
    assert decisions["regime"] == regimes[5] and decisions["complete"]  # both seeds must fit
    assert decisions["base"] == 20
    assert [row["fits"] for row in decisions["searched"]][4] == [True, False]
    # a regime whose deciding networks are missing stops the search: no answer yet
    missing = [i for i in items if i.config.epochs != regimes[2]["epochs"]]
    partial = study.stage6_decisions(missing)
    assert partial["regime"] is None and not partial["complete"]
    # the base rule waits for the networks that can change its answer, and only for those
    chosen = regimes[5]
    drop = lambda depth, width, seeds: [
        i
        for i in items
        if not (i.config.replace(seed=0) == TrainConfig(**chosen, depth=depth, width=width))
        or i.config.seed not in seeds
    ]
    assert study.stage6_decisions(drop(26, 1, (100, 101)))["base"] == 20  # 20 decides alone
    waiting = study.stage6_decisions(drop(20, 1, (101,)))
    assert waiting["regime"] == chosen and waiting["base"] is None
    assert waiting["base_missing"] == ["ResNet-20 ×1"]


def test_stage6_base_rule_reads_its_candidates_in_order():
    block = np.full((40, 40), 0.3)
    block[10:35, 10:35] = 0.95
    np.fill_diagonal(block, 1)
    plain = np.full((40, 40), 0.5) + 0.5 * np.eye(40)
    regime = study.stage6_regimes()[0]
    deciding = [pilot6(regime, 56, 1, s, 0.999) for s in study.PILOT_SEEDS]
    deciding += [pilot6(regime, 20, 4, s, 0.999) for s in study.PILOT_SEEDS]
    base = lambda found: study.stage6_decisions(deciding + found)
    assert record(deciding[0].config, cka=block).block.present  # the made-up block is one
    # every candidate's x1 shows a block in one seed: none is plain, the shallowest x4 that
    # fits is the base, and no other x4 is needed
    shows = [pilot6(regime, 20, 1, s, 0.999, block) for s in study.PILOT_SEEDS]
    shows += [pilot6(regime, d, 1, 100, 0.999, block) for d in (26, 32)]
    assert (base(shows)["base"], base(shows)["base_missing"]) == (20, [])
    # a deeper plain candidate is the base once its x4 fits; until then the rule waits for it
    plain26 = shows[:2] + [pilot6(regime, 26, 1, s, 0.999, plain) for s in study.PILOT_SEEDS]
    assert base(plain26)["base"] is None
    assert base(plain26)["base_missing"] == ["ResNet-26 ×4"]
    fitted = [pilot6(regime, 26, 4, s, 0.999) for s in study.PILOT_SEEDS]
    assert base(plain26 + fitted)["base"] == 26
    # a candidate whose x4 does not fit is out even when its x1 is plain
    unfit = [pilot6(regime, 26, 4, 100, 0.9)]
    assert base(plain26 + unfit)["base_missing"] == ["ResNet-32 ×1", "ResNet-32 ×4"]


def test_stage6_pilot_results_choose_a_regime_in_which_the_largest_networks_fit():
    decisions = study.stage6_decisions(study.load_results("fashion-mnist-m"))  # committed results
    c = decisions["regime"]
    assert decisions["complete"] and (c["fraction"], c["epochs"]) == (1 / 32, 128)
    assert decisions["searched"][-1]["fits"] == [True, True]
    assert decisions["base"] == 20 and decisions["base_missing"] == []  # 20-32 x1: blocks
    assert not any(all(row["fits"]) for row in decisions["searched"][:-1])


def test_stage7_follows_stage6s_choices_and_reports_its_progress(capsys):
    ((regime, architectures, seeds),) = study.stage7_plan()
    assert (regime["fraction"], regime["epochs"]) == (1 / 32, 128) and seeds == study.SEEDS
    assert set(architectures) == {(20, w) for w in (0.5, 1, 2, 4)} | {
        (d, 1) for d in (8, 14, 20, 32, 44, 56)
    }
    progress = study.stage7_progress()
    assert len(progress) == 27 and [c for c, _ in progress] == study.configs((7,))
    assert all(item is None or item.config == c for c, item in progress)
    study.main(["stage7"])
    done = sum(item is not None for _, item in progress)
    printed = capsys.readouterr().out
    assert f"{done} of 27 measured" in printed if done < 27 else "fit" in printed


def test_stage7s_trends_wait_for_every_network_then_follow_the_protocol(stage7_complete):
    progress = study.stage7_progress()
    gap = [(c, None) for c, _ in progress[:1]] + progress[1:]
    assert study.stage7_trends(gap) is None  # the protocol: computed once all are measured
    full = stage7_complete
    table = study.stage7_trends(full)
    assert list(table.index) == ["width", "depth"]
    assert table.loc["width", "networks"] == 12 and table.loc["depth", "networks"] == 18
    width = [m for _, m in full if m.config.depth == 20]
    xs, ys = [m.config.width for m in width], [m.block.extent for m in width]
    assert table.loc["width", "rho"] == round(spearman(xs, ys), 2)  # the protocol's statistic
    assert table.loc["width", "fit"] == sum(m.results.train_accuracy >= 0.99 for m in width)
    assert table.loc["depth", "late"] <= table.loc["depth", "with_block"]
    fig1 = study.stage7_fig1(full)  # Chapter 3's rule on the study's networks
    assert fig1.figure == "Fig. 1" and fig1.outcome in OUTCOMES
    runs = [records.as_run(m) for m in width]  # Chapter 3 counts only the paper's (late) block
    late = [r.block.extent if r.begins_late else 0.0 for r in runs]
    assert f"width {spearman(xs, late):+.2f}" in fig1.evidence
    assert study.stage7_fig1(gap) is None


def test_stage7_lists_every_network_with_its_accuracies_and_training_time(stage7_complete):
    table = study.stage7_networks(stage7_complete)
    assert len(table) == 27 and table.index.names == ["network", "seed"]
    config, item = stage7_complete[-1]
    row = table.loc[(config.label, config.seed)]
    assert row["train acc."] == f"{item.results.train_accuracy:.1%}"
    assert row["test acc."] == f"{item.results.accuracy:.1%}"
    assert row["training (min)"] == round(item.results.seconds / 60)
    waiting = study.stage7_networks([(config, None), stage7_complete[0]])
    assert waiting.iloc[0]["block"] == "not measured yet" and waiting.iloc[0]["train acc."] == ""


def test_a_result_file_serves_as_a_chapters_run_without_training():
    from ckatools.plot import stage_starts

    measured = {
        (m.config.depth, m.config.width, m.config.seed): m
        for m in records.load_results("fashion-mnist-m")
        if m.config.fraction == 1 / 32 and m.config.epochs == 128
    }
    item = measured[(20, 1, 0)]  # stage 7, committed
    run = records.as_run(item)
    assert run.config == item.config and run.results is item.results
    assert [layer.name for layer in run.cka.layers_a] == list(item.layers)
    np.testing.assert_array_equal(run.cka.matrix.numpy(), item.cka)
    assert len(stage_starts(run.cka.layers_a)) == 3  # the heatmap can draw its stages
    assert (run.block.start, run.block.end) == (item.block.start, item.block.end)
    assert run.block.first == item.layers[run.block.start]  # the ends are named
    other = measured[(14, 1, 0)]
    import dataclasses

    with pytest.raises(ValueError, match="not those of ResNet-20 ×1"):
        records.as_run(dataclasses.replace(other, config=item.config))
