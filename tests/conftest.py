"""Every test runs against a private cache: the session's own temporary folder (shared by its
tests, so a network trained once serves them all), or with the ``cache`` fixture an empty one for
a single test. No test reads or writes the user's ``~/.cache/ckatools``."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("ckatools-cache")
    patch.setenv("CKATOOLS_CACHE", str(folder))
    yield folder
    patch.undo()


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """An empty cache for one test: its ``tmp_path``."""
    monkeypatch.setenv("CKATOOLS_CACHE", str(tmp_path))
    return tmp_path
