"""Training: it learns, it resumes exactly, and the zoo never serves a bad entry."""

import pytest
import torch
from configs import ENTRY, SMOKE

from ckatools import storage, training
from ckatools.data import synthetic
from ckatools.training import recalibrate_batchnorm, train, zoo
from ckatools.training.loop import resumed_epochs, train_together, trained_on


def test_smoke_training_beats_chance_clearly():
    torch.manual_seed(0)
    model, results = train(SMOKE.replace(epochs=4), device="cpu", progress=False)
    assert results.accuracy > 0.5  # 10 classes: chance is 0.1
    assert len(results.history) == 4 and results.history[-1]["loss"] < results.history[0]["loss"]
    assert results.correct.shape == (2000,) and results.logits.shape == (2000, 10)
    assert results.correct.float().mean().item() == pytest.approx(results.accuracy)


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    config = ENTRY.replace(epochs=3)
    straight, _ = train(config, device="cpu", progress=False)
    checkpoint = tmp_path / "ckpt.pt"
    _, partial = train(config, device="cpu", progress=False, checkpoint=checkpoint, stop_after=1)
    assert partial.epochs_done == 1 and partial.accuracy is None
    resumed, results = train(config, device="cpu", progress=False, checkpoint=checkpoint)
    assert results.epochs_done == 3 and [h["epoch"] for h in results.history] == [1, 2, 3]
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, atol=0, rtol=0, msg=name)
    assert results.device == "cpu" and {h["device"] for h in results.history} == {"cpu"}


def test_a_run_resumed_on_another_kind_of_device_names_both(tmp_path):
    """Its caption must not call a network begun on a GPU float32 (or the reverse)."""
    checkpoint = tmp_path / "ckpt.pt"
    train(ENTRY, device="cpu", progress=False, checkpoint=checkpoint, stop_after=1)
    saved = storage.load(checkpoint)
    saved["state"]["histories"][0][0]["device"] = "cuda"  # as if epoch 1 ran on a GPU
    storage.save(saved, checkpoint)
    _, results = train(ENTRY, device="cpu", progress=False, checkpoint=checkpoint)
    assert results.device == "cuda, cpu"
    assert trained_on([{"epoch": 1}]) is None  # records from before the device was kept


def test_bf16_cpu_training_learns_and_resumes_exactly(tmp_path):
    # channels-last with 4 channels (x0.25) once crashed CPU backward in another torch release
    config = SMOKE.replace(epochs=2, bf16_cpu=True, warmup_epochs=1)
    straight, results = train(config, device="cpu", progress=False)
    assert results.accuracy > 0.3  # 10 classes: chance is 0.1 (0.51 after these two epochs)
    # Resuming is exact whatever the data: an eighth of it (emulated bfloat16 is slow here)
    config = config.replace(fraction=1 / 8)
    straight, _ = train(config, device="cpu", progress=False)
    checkpoint = tmp_path / "ckpt.pt"
    train(config, device="cpu", progress=False, checkpoint=checkpoint, stop_after=1)
    resumed, _ = train(config, device="cpu", progress=False, checkpoint=checkpoint)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, atol=0, rtol=0, msg=name)


def test_the_learning_rate_warms_up_then_decays_to_zero():
    factors = [training.lr_factor(s, total=10, warmup=4) for s in range(11)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0] and factors[4] == 1.0 and factors[10] == 0.0
    assert all(a >= b for a, b in zip(factors[4:], factors[5:]))  # cosine decay is monotone
    plain = [training.lr_factor(s, total=10) for s in range(11)]
    assert plain[0] == 1.0 and plain[5] == pytest.approx(0.5) and plain[10] == 0.0


def test_weight_decay_only_on_conv_and_dense_kernels():
    model = training.build_model(SMOKE, 10, 3)
    groups = training.loop._optimizer(model, SMOKE).param_groups
    decayed = {id(p) for p in groups[0]["params"]}
    assert groups[0]["weight_decay"] == 2e-4 and groups[1]["weight_decay"] == 0
    for name, p in model.named_parameters():
        assert (id(p) in decayed) == (name.endswith("weight") and p.dim() > 1), name


def test_batchnorm_recalibration_gives_exact_statistics():
    model = training.build_model(SMOKE, 10, 3)
    d = synthetic(300, seed=5)
    recalibrate_batchnorm(model, d, batch_size=64)
    bn = model.stem.bn
    with torch.no_grad():
        h = model.stem.conv(d.unit())
    torch.testing.assert_close(bn.running_mean, h.mean((0, 2, 3)), atol=1e-5, rtol=1e-4)
    assert bn.momentum == pytest.approx(0.01)


def test_zoo_trains_once_then_serves_the_cache(cache, monkeypatch, capsys):
    model, results = zoo.get(ENTRY, device="cpu", progress=False)
    assert capsys.readouterr().out == "ResNet-8 ×0.25, synthetic 1/8, seed 0: training (2 epochs)\n"
    assert 0 < results.train_accuracy <= 1
    assert not model.training and (zoo.entry_dir(ENTRY) / "model.pt").exists()
    assert not (zoo.entry_dir(ENTRY) / "checkpoint.pt").exists()

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(zoo, "train", no_training)
    again, cached = zoo.get(ENTRY, device="cpu", progress=False)
    assert capsys.readouterr().out == "ResNet-8 ×0.25, synthetic 1/8, seed 0: loaded from cache\n"
    assert cached.accuracy == results.accuracy
    x = torch.rand(4, 3, 32, 32)
    torch.testing.assert_close(again(x), model(x))
    assert [e["accuracy"] for e in zoo.entries()] == [results.accuracy]
    assert zoo.key(ENTRY) != zoo.key(ENTRY.replace(seed=1))


def test_zoo_discards_a_corrupt_entry_and_retrains(cache):
    _, first = zoo.get(ENTRY, device="cpu", progress=False)
    path = zoo.entry_dir(ENTRY) / "model.pt"
    path.write_bytes(path.read_bytes()[:1000])  # a truncated file
    with pytest.warns(RuntimeWarning, match="discarding unreadable cache entry"):
        _, results = zoo.get(ENTRY, device="cpu", progress=False)
    assert (
        results.accuracy == first.accuracy and path.exists()
    )  # retrained (deterministic on the CPU)


def test_zoo_adds_training_accuracy_to_older_entries(cache):
    _, results = zoo.get(ENTRY, device="cpu", progress=False)
    path = zoo.entry_dir(ENTRY) / "model.pt"
    entry = storage.load(path)
    del entry["results"]["train_accuracy"]
    storage.save(entry, path)
    _, again = zoo.get(ENTRY, device="cpu", progress=False)
    assert again.train_accuracy == pytest.approx(results.train_accuracy)
    assert "train_accuracy" in storage.load(path)["results"]


def test_zoo_resumes_a_partial_run(cache):
    folder = zoo.entry_dir(ENTRY)
    train(ENTRY, device="cpu", progress=False, checkpoint=folder / "checkpoint.pt", stop_after=1)
    _, results = zoo.get(ENTRY, device="cpu", progress=False)
    assert results.epochs_done == 2
    assert zoo.clean() == [] and zoo.clean(partial_only=False) == [folder]


def test_prepare_starts_its_bar_where_interrupted_runs_resume(cache, capsys):
    checkpoint = zoo.entry_dir(ENTRY) / "checkpoint.pt"
    train(ENTRY, device="cpu", progress=False, checkpoint=checkpoint, stop_after=1)
    other = ENTRY.replace(seed=1)
    assert resumed_epochs([ENTRY], checkpoint) == 1
    assert resumed_epochs([other], checkpoint) == 0  # a checkpoint of another run
    zoo.prepare([ENTRY, other], device="cpu", stack=1)
    out, err = capsys.readouterr()
    assert "resumes at epoch 1" in out and out.count("resumes") == 1
    assert "| 1/4 [00:00<?" in err  # 1 of the 4 epochs done, before any rate
    checkpoint.write_bytes(b"torn")
    assert resumed_epochs([ENTRY], checkpoint) == 0
    assert resumed_epochs([ENTRY], checkpoint.with_name("absent.pt")) == 0
    pair = [ENTRY.replace(seed=s) for s in (2, 3)]  # a stack's checkpoint: in its first member's
    zoo.claim(zoo.entry_dir(pair[0]), pair[0])
    stacked = zoo.entry_dir(pair[0]) / "stack2-checkpoint.pt"
    train_together(pair, device="cpu", progress=False, checkpoint=stacked, stop_after=1)
    zoo.prepare(pair, device="cpu", stack=2)
    out, err = capsys.readouterr()
    assert "(stack of 2 seeds): resumes at epoch 1" in out
    assert "| 2/4 [00:00<?" in err  # one epoch of each member


def test_snapshots_come_from_one_resumed_run_and_are_cached(cache, monkeypatch):
    shots = zoo.snapshots(ENTRY, (2, 1), device="cpu")
    assert list(shots) == [1, 2]
    final, _ = zoo.get(ENTRY, device="cpu", progress=False)
    for name, value in final.state_dict().items():  # the last snapshot is the zoo's network
        torch.testing.assert_close(shots[2].state_dict()[name], value, atol=0, rtol=0)
    assert not torch.equal(shots[1].fc.weight, shots[2].fc.weight)
    monkeypatch.setattr(zoo, "train", lambda *a, **k: pytest.fail("trained again"))
    again = zoo.snapshots(ENTRY, (1,), device="cpu")
    torch.testing.assert_close(again[1].fc.weight, shots[1].fc.weight, atol=0, rtol=0)
    with pytest.raises(ValueError, match="1..2"):
        zoo.snapshots(ENTRY, (3,))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_training_path():
    _, results = train(SMOKE.replace(epochs=4), device="cuda", progress=False)
    assert results.accuracy > 0.5  # 10 classes: chance is 0.1


def test_command_line_prepares_a_profile_and_lists_it(cache, capsys):
    from ckatools.__main__ import main
    from ckatools.book import profiles

    main(["prepare", "smoke", "first_heatmap"])
    config = profiles.training_configs(profiles.experiment("first_heatmap", "smoke"))[0]
    assert (zoo.entry_dir(config) / "model.pt").exists()
    main(["list"])
    assert zoo.entry_dir(config).name in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["prepare", "laptop"])


def test_training_configs_expand_an_experiments_grid():
    from ckatools.book.profiles import Experiment, training_configs

    exp = Experiment(
        "synthetic",
        architectures=((8, 0.25), (14, 0.5)),
        fractions=(0.5, 1.0),
        seeds=(0, 1),
        epochs=1,
    )
    configs = training_configs(exp)
    assert (
        len(configs) == 8 and len(set(configs)) == 8 and {c.fraction for c in configs} == {0.5, 1.0}
    )
    assert (
        training_configs(Experiment("synthetic", architectures=((8, 0.25),))) == []
    )  # epochs 0: untrained
    assert (
        training_configs(
            Experiment("synthetic", architectures=((8, 0.25),), epochs=1, skip="no GPU")
        )
        == []
    )


def test_zoo_heatmap_is_cached_beside_the_network(cache, monkeypatch):
    first = zoo.cka_matrix(ENTRY, images=64, passes=1, progress=False)
    assert first.matrix.shape == (len(first.layers_a),) * 2

    def no_cka(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(zoo, "model_cka", no_cka)
    again = zoo.cka_matrix(ENTRY, images=64, passes=1, progress=False)
    torch.testing.assert_close(again.matrix, first.matrix, atol=0, rtol=0)
    assert [r.name for r in again.layers_a] == [r.name for r in first.layers_a]


def test_training_on_a_class_balanced_subset():
    # regression: augmented (channels-last strided) batches once crashed CPU backward on 2 threads
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _, results = train(SMOKE.replace(fraction=0.5), device="cpu", progress=False)
    finally:
        torch.set_num_threads(threads)  # the rest of a one-thread test worker stays at one
    assert 990 <= results.train_size <= 1010 and results.correct.shape == (2000,)


def test_experiment_runs_carry_heatmaps_scores_and_provenance(cache, capsys):
    from ckatools.book import profiles
    from ckatools.book.experiments import distinct_runs, heatmaps, provenance

    exp = profiles.experiment("depth_series", "smoke")
    runs = heatmaps(exp, progress=False)
    assert capsys.readouterr().out == "depth_series: 0 networks loaded from the cache, 4 trained\n"
    heatmaps(exp, progress=False)
    assert capsys.readouterr().out == "depth_series: 4 networks loaded from the cache, 0 trained\n"
    assert [(r.config.depth, r.config.seed) for r in runs] == [(8, 0), (8, 1), (14, 0), (14, 1)]
    twice = distinct_runs([exp, exp], progress=False)  # a shared network counts once
    assert [r.config for r in twice] == [r.config for r in runs]
    assert all(
        0 < r.block.score <= 1 and r.cka.matrix.shape[0] == len(r.cka.layers_a) for r in runs
    )
    caption = provenance(exp, runs)
    assert max(map(len, caption.splitlines())) <= 88
    text = " ".join(caption.split())  # wrapped for reading; compare the words
    for fact in (
        "smoke profile",
        "synthetic",
        "all (2,000 images)",
        "2 epochs",
        "seeds 0, 1",
        "128 test images",
        "minibatches of 256",
        f"{runs[0].results.train_accuracy:.1%}/{runs[0].results.accuracy:.1%}",
    ):
        assert fact in text
    import dataclasses

    failed = dataclasses.replace(
        runs[0], results=dataclasses.replace(runs[0].results, train_accuracy=0.2)
    )
    flagged = " ".join(provenance(exp, [failed, *runs[1:]]).split())
    assert "s0 20.0%/" in flagged and "(did not train)" in flagged
    assert "Did not train (training accuracy < 50%; they measure nothing): ResNet-8" in flagged
    fitted = [
        dataclasses.replace(r, results=dataclasses.replace(r.results, train_accuracy=0.9))
        for r in runs
    ]
    assert "did not train" not in provenance(exp, fitted).lower()


def test_an_unreadable_checkpoint_restarts_training(tmp_path):
    checkpoint = tmp_path / "ckpt.pt"
    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.warns(RuntimeWarning, match="discarding unreadable checkpoint"):
        _, results = train(ENTRY, device="cpu", progress=False, checkpoint=checkpoint)
    assert [h["epoch"] for h in results.history] == [1, 2]


def test_prepare_trains_what_is_missing_in_worker_processes(cache):
    configs = [ENTRY.replace(epochs=1, seed=s) for s in (0, 1)]
    zoo.get(configs[0], device="cpu", progress=False)
    done = zoo.prepare(configs + configs[:1], device="cpu", jobs=2, progress=False)
    assert list(done) == configs and [r["trained"] for r in done.values()] == [False, True]
    assert all(zoo.cached(c) for c in configs)
    again = zoo.prepare(configs, jobs=2, progress=False)
    assert not any(r["trained"] for r in again.values())
    assert [r["accuracy"] for r in again.values()] == [r["accuracy"] for r in done.values()]
    with pytest.raises(ValueError, match="jobs and stack must be at least 1, got 0 and 1"):
        zoo.prepare(configs, jobs=0, stack=1)
    with pytest.raises(ValueError, match="jobs and stack must be at least 1, got 1 and 0"):
        zoo.prepare(configs, stack=0)


def test_bf16_cpu_on_a_cpu_without_native_bfloat16_warns_that_it_is_slow(monkeypatch):
    monkeypatch.setattr(training.loop, "cpu_has_bf16", lambda: False)
    with pytest.warns(RuntimeWarning, match="without native bfloat16.*10x slower"):
        train(ENTRY.replace(epochs=1, bf16_cpu=True), device="cpu", progress=False)


def test_one_channel_batches_reach_every_convolution_in_the_cpu_layout(monkeypatch):
    # An augmented one-channel batch has channels-last strides that .contiguous() keeps (a size-1
    # dimension's stride is ignored); the network then ran channels-last on the CPU, whose
    # one-thread backward crashed in oneDNN (ResNet-38 x0.25 on Fashion-MNIST)
    from ckatools.data import Images

    def one_channel(images: Images) -> Images:
        return Images(images.images[:, :1].clone(), images.labels, images.num_classes, "grey")

    real_data, real_load = training.loop.training_data, training.loop.load
    monkeypatch.setattr(training.loop, "training_data", lambda c: one_channel(real_data(c)))
    monkeypatch.setattr(training.loop, "load", lambda *a, **k: one_channel(real_load(*a, **k)))
    layouts = set()

    def record(module, inputs):
        if isinstance(module, torch.nn.Conv2d):
            x = inputs[0]
            layouts.add(x.stride() == x.clone(memory_format=torch.contiguous_format).stride())

    hook = torch.nn.modules.module.register_module_forward_pre_hook(record)
    try:
        train(SMOKE.replace(epochs=1, augment=True), device="cpu", progress=False)
    finally:
        hook.remove()
    assert layouts == {True}
