"""Errors that end a run with exit code 2: what went wrong, and in which file."""

from __future__ import annotations

from pathlib import Path


class InternalError(Exception):
    """dockerlint itself failed on a file: a bug to report, never a finding."""

    def __init__(self, path: Path | None, error: BaseException | None, message: str | None = None):
        """``message``: what an error in another process said (``error`` is then None)."""
        self.path = path
        self.error = error
        super().__init__(message if message is not None else f"{type(error).__name__}: {error}")


class blame:  # noqa: N801 - used as a function: `with blame(path):`
    """Turn an unexpected exception inside the block into an ``InternalError`` that names
    the file being worked on (the innermost ``blame`` wins). A class rather than a
    generator-based context manager: it wraps the checks of every image, and costs a
    third as much."""

    __slots__ = ("path",)

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if error is None or isinstance(error, InternalError) or not isinstance(error, Exception):
            return False
        raise InternalError(self.path, error) from error
