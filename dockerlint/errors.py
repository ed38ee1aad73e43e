"""Errors that end a run with exit code 2: what went wrong, and in which file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class InternalError(Exception):
    """dockerlint itself failed on a file: a bug to report, never a finding."""

    def __init__(self, path: Path | None, error: BaseException):
        self.path = path
        self.error = error
        super().__init__(f"{type(error).__name__}: {error}")


@contextmanager
def blame(path: Path | None) -> Iterator[None]:
    """Turn an unexpected exception inside the block into an ``InternalError`` that names
    the file being worked on (the innermost ``blame`` wins)."""
    try:
        yield
    except InternalError:
        raise
    except Exception as error:  # noqa: BLE001 - any bug, reported with its file
        raise InternalError(path, error) from error
