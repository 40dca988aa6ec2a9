"""Inputs refused at the door: every bad value gets a message naming the field and what it may
be, before anything is printed or trained."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ckatools import model_cka, population_cka
from ckatools.__main__ import main
from ckatools.models import resnet
from ckatools.training import TrainConfig, zoo

BASE = ["train", "--dataset", "synthetic", "--depth", "8", "--width", "0.25"]


@pytest.fixture
def no_training(cache, monkeypatch):
    monkeypatch.setattr(zoo, "get", lambda *a, **k: pytest.fail("trained"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--residual", "maybe"], "expected true/false, yes/no or 1/0, got 'maybe'"),
        (["--epochs", "-3"], "epochs must be an integer >= 1, got -3"),
        (["--epochs", "0"], "epochs must be an integer >= 1, got 0"),
        (["--fraction", "1.5"], r"fraction must be a number in \(0, 1\], got 1.5"),
        (["--fraction", "0"], r"fraction must be a number in \(0, 1\], got 0.0"),
        (["--batch-size", "0"], "batch_size must be an integer >= 1, got 0"),
        (["--lr", "nan"], "lr must be a finite positive number, got nan"),
        (["--lr", "-1"], "lr must be a finite positive number"),
        (["--depth", "10"], "depth must be 6n[+]2 .* got 10; try 8 or 14"),
        (["--dataset", "cifar11"], "dataset must be one of synthetic, fashion-mnist"),
        (["--device", "gpu"], "--device 'gpu' is not a device"),
        (["--device", "meta"], "ckatools trains on cpu or cuda"),
    ],
)
def test_bad_training_options_are_refused_with_the_field_named(args, message, no_training, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(BASE + args)
    captured = capsys.readouterr()
    assert exit_.value.code == 2 and captured.out == ""
    assert re.search(message, captured.err), captured.err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_on_a_machine_without_one_is_refused_before_training(no_training, capsys):
    with pytest.raises(SystemExit):
        main(BASE + ["--device", "cuda"])
    assert "no CUDA GPU" in capsys.readouterr().err


def test_every_problem_of_a_configuration_is_named_at_once():
    with pytest.raises(ValueError, match="epochs must .*; lr must"):
        TrainConfig(epochs="10", lr=float("inf"))


def test_booleans_accept_the_usual_spellings_only():
    from ckatools.__main__ import _boolean

    assert [_boolean(v) for v in ("true", "YES", "1", "False", "no", "0")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="residual must be True or False"):
        TrainConfig(residual="no")  # a string is truthy: refused rather than read as True


def test_help_describes_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, default in [("--epochs", "300"), ("--lr", "0.01"), ("--residual", "True")]:
        assert option in text and f"(default: {default})" in text
    assert text.count("(default:") == len(TrainConfig.__dataclass_fields__) + 1  # and --device


def test_train_trains_one_network_and_reports_it(cache, capsys):
    args = ["--epochs", "1", "--fraction", "0.125", "--device", "cpu"]
    main(BASE + args)
    out = capsys.readouterr().out
    assert re.search(r"test accuracy 0\.\d{4}, \d+ s of training", out)
    main(BASE + args)  # from the cache now, reported alike
    assert "loaded from cache" in capsys.readouterr().out


def test_prepare_dry_run_lists_networks_with_an_estimated_time(cache, monkeypatch, capsys):
    monkeypatch.setattr(zoo, "prepare", lambda *a, **k: pytest.fail("trained"))
    main(["prepare", "smoke", "depth_series", "--dry-run"])
    out = capsys.readouterr().out
    assert "profile smoke: 4 networks" in out and out.count("on 2 CPU cores") == 5
    assert "0 cached, 4 to train: about" in out
    with pytest.raises(SystemExit):
        main(["prepare", "smoke", "no_such_experiment"])
    with pytest.raises(SystemExit):
        main(["prepare", "smoke", "--jobs", "0"])


def test_model_cka_scales_uint8_images_as_training_does():
    torch.manual_seed(0)
    model = resnet(8, 0.25)
    images = torch.randint(0, 256, (32, 3, 8, 8), dtype=torch.uint8)
    as_uint8 = model_cka(model, images, batch_size=16, passes=1, progress=False)
    as_float = model_cka(model, images.float() / 255, batch_size=16, passes=1, progress=False)
    torch.testing.assert_close(as_uint8.matrix, as_float.matrix, atol=0, rtol=0)


def test_model_cka_refuses_bad_arguments_up_front():
    model = resnet(8, 0.25)
    images = torch.rand(32, 3, 8, 8)
    with pytest.raises(ValueError, match="model 0 takes 3-channel images, the images have 1"):
        model_cka(model, torch.rand(32, 1, 8, 8), progress=False)
    with pytest.raises(ValueError, match="batch_size must be at least 4"):
        model_cka(model, images, batch_size=3, progress=False)
    with pytest.raises(ValueError, match="passes must be at least 1"):
        population_cka([model], images, passes=0, progress=False)
    with pytest.raises(TypeError, match="float or uint8"):
        model_cka(model, images.long(), progress=False)
    before = model.stem.conv.weight.clone()
    with pytest.raises(ValueError, match="meta"):
        model_cka(model, images, device="meta", progress=False)
    assert torch.equal(model.stem.conv.weight, before)  # the caller's weights are still there


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_model_cka_on_another_device_leaves_the_models_where_they_were():
    a, b = resnet(8, 0.25), resnet(8, 0.25).cuda()
    model_cka(a, torch.rand(32, 3, 8, 8), b, batch_size=16, passes=1, device="cuda", progress=False)
    assert next(a.parameters()).device.type == "cpu" and next(b.parameters()).is_cuda
    population_cka(
        [a, b], torch.rand(32, 3, 8, 8), batch_size=16, passes=1, device="cpu", progress=False
    )
    assert next(a.parameters()).device.type == "cpu" and next(b.parameters()).is_cuda


def test_the_cold_training_estimate_samples_a_schedule_with_a_warm_up():
    """tools/cold_training_time.py trains a few epochs and scales them: a schedule whose warm-up
    is as long as the sample, and a TrainResult's fields, must both work (both once broke it)."""
    import importlib.util

    from ckatools.training import TrainConfig

    path = Path(__file__).resolve().parents[1] / "tools" / "cold_training_time.py"
    spec = importlib.util.spec_from_file_location("cold_training_time", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    config = TrainConfig(  # its warm-up outlasts the sample: the sample's is shortened
        dataset="synthetic", depth=8, width=0.25, epochs=4, warmup_epochs=3, batch_size=64, lr=0.05
    )
    assert tool.estimate(config) > 0


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_killed_prepare_leaves_no_worker_training_on(tmp_path):
    """Killing `prepare --jobs 2` ends its workers and their queue's manager too: orphans went on
    training (and competing for the cores) until their network was done."""
    script = (
        "from ckatools.training import TrainConfig, zoo\n"
        "configs = [TrainConfig(dataset='synthetic', depth=8, width=0.25, epochs=400,\n"
        "                       batch_size=64, lr=0.05, seed=s) for s in (0, 1)]\n"
        "zoo.prepare(configs, jobs=2, stack=1, progress=False)\n"
    )
    env = {**os.environ, "CKATOOLS_CACHE": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 120
        while len(_children(parent.pid)) < 4 and time.monotonic() < deadline:  # tracker,
            time.sleep(0.5)  # manager and two workers
        helpers = _children(parent.pid)
        assert len(helpers) >= 4, f"prepare started {len(helpers)} processes"
        assert any(Path(tmp_path).rglob("*")), "nothing in the cache yet"
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 30
    while any(map(_alive, helpers)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(map(_alive, helpers)), "a worker outlived the prepare that started it"
