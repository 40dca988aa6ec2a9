"""Running a chapter on Google Colab: a GPU runtime, and a model cache that outlives the session.

Colab deletes ``~/.cache`` with the session, so networks trained by one chapter are gone for the
next; :func:`use_drive` keeps the cache on Google Drive instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["on_colab", "use_drive", "GPU_HINT"]

GPU_HINT = "Runtime -> Change runtime type -> GPU (a T4 is enough), then run the chapter again"


def on_colab() -> bool:
    """Whether this is a Colab runtime."""
    return "google.colab" in sys.modules


def use_drive(folder: str = "ckatools", mount: str = "/content/drive") -> Path:
    """On Colab: mount Google Drive (Colab asks for permission once) and keep the model cache in
    ``MyDrive/<folder>`` (``CKATOOLS_CACHE``), so trained networks serve later chapters and
    sessions. Elsewhere: nothing. Returns the cache folder in use."""
    from ckatools.data import cache_dir

    if not on_colab():
        return cache_dir()
    from google.colab import drive

    drive.mount(mount)
    path = Path(mount) / "MyDrive" / folder
    path.mkdir(parents=True, exist_ok=True)
    os.environ["CKATOOLS_CACHE"] = str(path)
    return path
