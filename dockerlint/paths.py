"""Paths as every module compares them."""

from __future__ import annotations

import os
from pathlib import Path


def real_path(path: Path) -> Path:
    """Absolute, with symlinks resolved where they resolve. Unlike ``Path.resolve`` it
    never raises: a symlink loop stays as it is, and reading it later becomes a note."""
    return Path(os.path.realpath(path))
