"""Reads and parses each file at most once per run, and never raises.

Everything the checks see comes through here, so a file that is unreadable, binary,
too large or a symlink loop becomes a ``Note`` in one place instead of a traceback in many.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from dockerlint.findings import Note
from dockerlint.source import Problem, Span, Text, decode

if TYPE_CHECKING:
    from dockerlint.context import Context
    from dockerlint.parse.dockerfile import Dockerfile
    from dockerlint.parse.dockerignore import IgnoreFile
    from dockerlint.parse.pyproject import Pyproject
    from dockerlint.parse.requirements import RequirementSet

MAX_TEXT_BYTES = 32 * 1024 * 1024  # larger files are skipped with a note
# Real Dockerfiles are kilobytes; a multi-megabyte one is generated or hostile, and
# analysing every RUN of it would make a pre-commit hook hang for a minute.
MAX_DOCKERFILE_BYTES = 2 * 1024 * 1024
BINARY_SNIFF = 8192


class Workspace:
    def __init__(self) -> None:
        self.notes: list[Note] = []
        self._bytes: dict[Path, bytes | None] = {}
        self._texts: dict[Path, tuple[Text, bool] | None] = {}
        self._dockerfiles: dict[Path, Dockerfile | None] = {}
        self._requirements: dict[Path, RequirementSet] = {}
        self._ignores: dict[Path, IgnoreFile | None] = {}
        self._pyprojects: dict[Path, Pyproject | None] = {}
        self._contexts: dict[tuple[Path, Path | None], Context] = {}
        self.problems: dict[Path, list[Problem]] = {}  # parse problems per file, reported once
        self.root: Path | None = None  # the repository being linted (deployment files live there)
        self.derived: dict = {}  # per-run facts the model works out once (repository GPU hints)

    # -- raw files -----------------------------------------------------------------
    def note(self, path: Path, message: str, level: str = "warning") -> None:
        self.notes.append(Note(path, message, level))

    def read_bytes(self, path: Path | str, *, quiet: bool = False, keep: bool = True) -> bytes | None:
        """The file's bytes, or None (with a note unless ``quiet``) when it cannot be read;
        ``keep=False`` for files read once in bulk (a large repository's code)."""
        if path in self._bytes:
            return self._bytes[path]
        data: bytes | None = None
        try:
            size = os.stat(path).st_size
            if size > MAX_TEXT_BYTES:
                if not quiet:
                    self.note(path, f"skipped: {size:,} bytes is larger than the {MAX_TEXT_BYTES:,}-byte limit")
            else:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_TEXT_BYTES + 1)
        except FileNotFoundError:
            pass
        except OSError as error:  # permission denied, a symlink loop, a directory...
            if not quiet:
                self.note(path, f"could not be read: {error.strerror or error}")
        if keep:
            self._bytes[path] = data
        return data

    def text(self, path: Path, *, quiet: bool = False) -> tuple[Text, bool] | None:
        """Decoded text and whether it held invalid UTF-8; None if unreadable or binary."""
        if path in self._texts:
            return self._texts[path]
        data = self.read_bytes(path, quiet=quiet)
        result = None
        if data is not None:
            if b"\0" in data[:BINARY_SNIFF]:
                if not quiet:
                    self.note(path, "skipped: binary file (it holds NUL bytes)")
            else:
                text, bad = decode(data)
                result = (Text.of(text), bad)
        self._texts[path] = result
        return result

    def source_line(self, path: Path, line: int) -> str:
        loaded = self._texts.get(path)
        return loaded[0].line(line) if loaded else ""

    def files_read(self) -> set[Path]:
        """Every file this run read and could decode."""
        return {path for path, loaded in self._texts.items() if loaded is not None}

    def cached_text(self, path: Path) -> tuple[Text, bool] | None:
        """The text if this run already read the file; never reads."""
        return self._texts.get(path)

    def cached_dockerfile(self, path: Path) -> Dockerfile | None:
        """The parsed Dockerfile if this run already parsed it; never reads."""
        return self._dockerfiles.get(path)

    def add_problems(self, path: Path, problems) -> None:
        if problems:
            self.problems.setdefault(path, []).extend(problems)

    # -- parsed files --------------------------------------------------------------
    def dockerfile(self, path: Path) -> Dockerfile | None:
        if path not in self._dockerfiles:
            from dockerlint.parse.dockerfile import parse_dockerfile

            parsed = None
            size = _size(path)
            if size is not None and size > MAX_DOCKERFILE_BYTES:
                self.note(
                    path,
                    f"skipped: {size:,} bytes is larger than the {MAX_DOCKERFILE_BYTES:,}-byte limit for Dockerfiles",
                )
                loaded = None
            else:
                loaded = self.text(path)
            if loaded is not None:
                text, bad = loaded
                parsed = parse_dockerfile(text.text)
                self.add_problems(path, parsed.problems)
                if bad:
                    self.add_problems(path, [_invalid_utf8(text)])
            self._dockerfiles[path] = parsed
        return self._dockerfiles[path]

    def ignore_file(self, path: Path) -> IgnoreFile | None:
        if path not in self._ignores:
            from dockerlint.parse.dockerignore import parse_dockerignore

            loaded = self.text(path, quiet=not path.exists())
            parsed = None
            if loaded is not None:
                parsed = parse_dockerignore(loaded[0].text)
                self.add_problems(path, parsed.problems)
            self._ignores[path] = parsed
        return self._ignores[path]

    def requirements(self, path: Path) -> RequirementSet:
        """A requirements file with its includes; its problems are recorded per file."""
        if path not in self._requirements:
            from dockerlint.parse.requirements import load_requirements

            loaded = load_requirements(path, lambda p: self.read_bytes(p, quiet=True))
            for file_path, problem in loaded.problems:
                self._record_requirement_problem(file_path, problem)
            for file_path in loaded.files:
                data = self._bytes.get(file_path)
                if data is not None and file_path not in self._texts:
                    self._texts[file_path] = (Text.of(_requirements_text(data)), False)
            self._requirements[path] = loaded
        return self._requirements[path]

    def _record_requirement_problem(self, path: Path, problem: Problem) -> None:
        """Once per place: a cycle seen from two entry files is still one problem."""
        existing = self.problems.setdefault(path, [])
        if all((p.code, p.span) != (problem.code, problem.span) for p in existing):
            existing.append(problem)

    def pyproject(self, path: Path) -> Pyproject | None:
        if path not in self._pyprojects:
            from dockerlint.parse.pyproject import parse_pyproject

            loaded = self.text(path, quiet=not path.exists())
            parsed = None
            if loaded is not None:
                parsed = parse_pyproject(loaded[0].text)
                self.add_problems(path, parsed.problems)
            self._pyprojects[path] = parsed
        return self._pyprojects[path]

    def context(self, root: Path, ignore_path: Path | None) -> Context:
        key = (root, ignore_path)
        if key not in self._contexts:
            from dockerlint.context import walk_context

            ignore = self.ignore_file(ignore_path) if ignore_path else None
            context = walk_context(root, ignore)
            for message in context.notes:
                self.note(root, message, "note")
            self._contexts[key] = context
        return self._contexts[key]


def _size(path: Path) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None  # reading it will say why


def _invalid_utf8(text: Text) -> Problem:
    for number in range(1, len(text.line_starts) + 1):
        line = text.line(number)
        column = line.find("\ufffd")
        if column != -1:
            return Problem(
                "SYN002",
                "the file is not valid UTF-8; invalid bytes were read as U+FFFD",
                Span(number, column + 1, number, column + 2),
            )
    return Problem("SYN002", "the file is not valid UTF-8", Span(1, 1, 1, 1))


def _requirements_text(data: bytes) -> str:
    """Requirements files may be UTF-16 (pip honours the BOM); decode for display only."""
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[2:].decode(codec, errors="replace").replace("\r\n", "\n")
    return decode(data)[0]
