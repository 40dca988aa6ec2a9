"""prepare() through an existing engine: submitit's local mode, two jobs sharing one cache."""

import pytest
from configs import SMOKE

from ckatools.book import profiles
from ckatools.training import zoo

ONE_EPOCH = SMOKE.replace(epochs=1)  # each job's network: the engine is tested, not learning

submitit = pytest.importorskip("submitit")


@pytest.fixture
def executor(cache, monkeypatch):
    # Each test runs two jobs at once, and each job's PyTorch would start a thread per core:
    # oversubscribed, this machine's 2 cores took 15-50 s for the same two jobs. One thread a
    # job (inherited by the engine's processes) keeps the test's time steady.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    found = submitit.AutoExecutor(folder=cache / "submitit", cluster="local")
    found.update_parameters(timeout_min=10)
    return found


def test_prepare_hands_each_network_to_a_job_of_the_engine(cache, executor, monkeypatch):
    """A smoke experiment (the plain networks: two, of 2 epochs) through the engine: each
    network is a job of its own, trained and stored once."""
    configs = profiles.training_configs(profiles.experiment("plain", "smoke"))
    units = []
    submit = executor.submit

    def counted(fn, unit, *rest):
        units.append(unit)
        return submit(fn, unit, *rest)

    monkeypatch.setattr(executor, "submit", counted)
    done = zoo.prepare(configs, device="cpu", executor=executor, progress=False)
    assert len(configs) == 2 and sorted(len(u) for u in units) == [1, 1]
    assert {u[0] for u in units} == set(configs)
    assert list(done) == configs and all(r["trained"] for r in done.values())
    assert all(zoo.cached(c) for c in configs)
    again = zoo.prepare(configs, executor=executor, progress=False)
    assert not any(r["trained"] for r in again.values())


def test_two_jobs_asking_for_one_network_train_it_once(cache, executor):
    config = ONE_EPOCH.replace(seed=7)
    jobs = [executor.submit(zoo._train_unit, [config], "cpu", 1) for _ in range(2)]
    first, second = (job.result()[config] for job in jobs)
    assert first == second  # one trained it; the other waited on the lock and read it
    assert zoo.cached(config)


def test_a_failed_job_is_named_after_the_others_finish(cache, executor):
    good = ONE_EPOCH.replace(seed=3)
    bad = ONE_EPOCH.replace(seed=4, lr=1e30)  # diverges
    with pytest.raises(RuntimeError, match=r"1 of 2 trainings failed: ResNet-8 ×0.25.*seed 4"):
        zoo.prepare([good, bad], device="cpu", executor=executor, progress=False)
    assert zoo.cached(good) and not zoo.cached(bad)


def test_the_command_line_refuses_options_the_engine_ignores(cache):
    from ckatools.__main__ import main

    for argv in (["--engine", "local", "--jobs", "2"], ["--partition", "gpu"]):
        with pytest.raises(SystemExit):
            main(["prepare", "smoke", "depth_series", *argv])


def test_job_devices_are_round_robin_over_several_gpus():
    assert zoo.job_devices(3, 2) == ["cuda:0", "cuda:1", "cuda:0"]
    assert zoo.job_devices(2, 1) == [None, None]
    assert zoo.job_devices(2, 0) == [None, None]


def test_a_worker_bound_to_a_gpu_trains_every_unit_on_it(monkeypatch):
    import queue

    devices = queue.Queue()
    for device in zoo.job_devices(2, 2):
        devices.put(device)
    seen = []
    monkeypatch.setattr(zoo, "_train_in_worker", lambda c, device, *rest: seen.append(device))
    monkeypatch.setattr(zoo, "_WORKER_DEVICE", None)
    zoo._bind_device(devices)  # the first worker takes cuda:0, the next would take cuda:1
    zoo._train_unit([ONE_EPOCH], None, 1)
    zoo._train_unit([ONE_EPOCH], "cpu", 1)  # a device named by the caller wins
    assert seen == ["cuda:0", "cpu"] and devices.get() == "cuda:1"
