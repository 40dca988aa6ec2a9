"""Every test runs against a private cache: the session's own temporary folder (shared by its
tests, and by its pytest-xdist workers, so a network trained once serves them all), or with the
``cache`` fixture an empty one for a single test. No test reads or writes the user's
``~/.cache/ckatools``."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    if "PYTEST_XDIST_WORKER" not in os.environ:
        folder = tmp_path_factory.mktemp("ckatools-cache")
    else:  # pytest-xdist: one cache for all workers (its per-entry locks train a network once)
        folder = tmp_path_factory.getbasetemp().parent / "ckatools-cache"
        folder.mkdir(exist_ok=True)
    patch.setenv("CKATOOLS_CACHE", str(folder))
    yield folder
    patch.undo()


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """An empty cache for one test: its ``tmp_path``."""
    monkeypatch.setenv("CKATOOLS_CACHE", str(tmp_path))
    return tmp_path


@pytest.fixture
def stage7_complete():
    """Stage 7's plan with a record for every network, as (config, record) pairs: a network not
    measured yet stands in as another seed's record of its architecture, so that tests of the
    complete stage can run at any point of it."""
    import dataclasses

    from ckatools import study

    progress = study.stage7_progress()
    measured = [item for _, item in progress if item is not None]
    full = []
    for config, item in progress:
        twin = item or next(m for m in measured if m.config.replace(seed=config.seed) == config)
        full.append((config, dataclasses.replace(twin, config=config)))
    return full
