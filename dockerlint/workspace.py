"""Reads and parses each file at most once per run, and never raises.

Everything the checks see comes through here, so a file that is unreadable, binary,
too large or a symlink loop becomes a ``Note`` in one place instead of a traceback in many.

It is also the one place that keeps reads inside the repository. A file is read only
when its real path (symlinks resolved) stays inside the repository or a path named on
the command line; a file inside a build context must also stay inside that context,
since Docker never follows a link out of the context it sends. Anything else gets a
note and is not opened: a pull request cannot make a CI run print ``/etc/passwd``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

from dockerlint.errors import blame
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
# The same for instructions: 2 MB of `RUN x` lines are 350,000 of them, and the rules
# cost a fraction of a millisecond each (a 5,000-instruction file takes about a second).
MAX_DOCKERFILE_INSTRUCTIONS = 5_000
# And for stages (real Dockerfiles have a handful): the model follows chains of stages
# built FROM one another, so a chain of a thousand would go past Python's recursion limit.
MAX_DOCKERFILE_STAGES = 100
BINARY_SNIFF = 8192
REPARSED_KEPT = 8  # Dockerfiles parsed again after ``forget_parses`` that stay parsed
# Kept in place of a file's bytes when they are exactly its text in UTF-8 (nearly every
# file): a large repository's files are then held once, not twice. ``...`` survives the
# trip from a worker process as itself.
AS_TEXT = ...


class Workspace:
    def __init__(self, roots: Iterable[Path] = (), overlay: Mapping[Path, bytes | None] | None = None) -> None:
        """``roots``: the repository and the paths named on the command line; reads stay
        inside them. No roots: no boundary (a workspace for one file in tests).
        ``overlay``: contents that replace what is on disk (the files ``--diff`` has
        fixed so far, an editor's unsaved buffers); None marks a file as absent."""
        self._roots = tuple(dict.fromkeys(root for path in roots for root in _both_forms(path)))
        # Keyed by the path's text: files are asked for by Path and by str alike.
        self._overlay = {os.fspath(path): data for path, data in (overlay or {}).items()}
        self._context_roots: set[str] = set()
        self._real_folders: dict[str, str] = {}
        self.notes: list[Note] = []
        self._bytes: dict[Path, bytes | None] = {}  # or AS_TEXT
        self._texts: dict[Path, tuple[Text, bool] | None] = {}
        self._dockerfiles: dict[Path, Dockerfile | None] = {}
        self._requirements: dict[Path, RequirementSet] = {}
        self._ignores: dict[Path, IgnoreFile | None] = {}
        self._pyprojects: dict[Path, Pyproject | None] = {}
        self._contexts: dict[tuple[Path, Path | None], Context] = {}
        self.problems: dict[Path, list[Problem]] = {}  # parse problems per file, reported once
        self.root: Path | None = None  # the repository being linted (deployment files live there)
        self.derived: dict = {}  # per-run facts the model works out once (repository GPU hints)
        self._requirement_problems: set[tuple[Path, str, Span]] = set()
        # A run over many images lets parses go (``forget_parses``); what was said about a
        # file when it was first parsed (its problems, notes) is not said again.
        self._recorded: set[Path] = set()  # Dockerfiles, ignore and pyproject files parsed
        self._walked: set[tuple[Path, Path | None]] = set()  # build contexts walked
        self._requirements_parsed: set[Path] = set()  # requirements files parsed as entries
        self._dropped: set[Path] = set()  # Dockerfiles whose (non-empty) parse was let go
        self._reparsed: dict[Path, Dockerfile] = {}  # the last few of those parsed again

    # -- raw files -----------------------------------------------------------------
    def note(self, path: Path, message: str, level: str = "warning") -> None:
        self.notes.append(Note(path, message, level))

    def add_context_root(self, root: Path) -> None:
        """A build context: files inside it are read only if they stay inside it."""
        self._context_roots.add(os.path.abspath(root))

    def outside(self, path: Path | str, *, in_context: bool = True) -> str | None:
        """Why ``path`` may not be read (it leads out of its build context or out of the
        repository), or None. ``in_context=False`` for Dockerfiles, which the build
        reads from the repository, not from the context."""
        if not self._roots:
            return None
        lexical = os.path.abspath(path)
        real = self._real_path(lexical)
        context = self._context_of(lexical) if in_context else None
        if context is not None:
            if _inside(real, self._real_path(context)):
                return None
            return "not read: it is a symlink that leaves the build context, which Docker does not follow"
        if any(_inside(real, root) for root in self._roots):
            return None
        if real != lexical:
            return "not read: it is a symlink that leaves the repository"
        return "not read: it is outside the repository"

    def _context_of(self, lexical: str) -> str | None:
        """The innermost build context holding the path (by its name, not its target)."""
        if not self._context_roots:
            return None
        folder = os.path.dirname(lexical)
        while True:
            if folder in self._context_roots:
                return folder
            parent = os.path.dirname(folder)
            if parent == folder:
                return None
            folder = parent

    def _real_path(self, lexical: str) -> str:
        """``os.path.realpath``, with each folder resolved once per run (a scan reads
        thousands of files from a few hundred folders)."""
        folder, name = os.path.split(lexical)
        real_folder = self._real_folders.get(folder)
        if real_folder is None:
            real_folder = self._real_folders[folder] = os.path.realpath(folder)
        real = os.path.join(real_folder, name)
        return os.path.realpath(real) if os.path.islink(real) else real

    def read_bytes(
        self,
        path: Path | str,
        *,
        quiet: bool = False,
        keep: bool = True,
        in_context: bool = True,
        head: int | None = None,
    ) -> bytes | None:
        """The file's bytes, or None (with a note unless ``quiet``) when it cannot be read;
        ``keep=False`` for files read once in bulk (a large repository's code). A file
        that leads out of its context or the repository is never opened, and always
        gets a note. ``head``: read at most this many bytes, of a file of any size (never
        kept)."""
        if head is not None:
            keep = False
            if path in self._bytes:
                data = self._kept_bytes(path)
                return None if data is None else data[:head]
        elif path in self._bytes:
            return self._kept_bytes(path)
        if os.fspath(path) in self._overlay:
            data = self._overlay[os.fspath(path)]
            if head is not None:
                return None if data is None else data[:head]
            self._bytes[path] = data
            return data
        data: bytes | None = None
        refused = self.outside(path, in_context=in_context)
        if refused is not None:
            if os.path.lexists(path):
                self.note(Path(path), refused)
            if keep:
                self._bytes[path] = None
            return None
        try:
            status = os.stat(path)
            size = status.st_size
            if not stat.S_ISREG(status.st_mode) and not stat.S_ISDIR(status.st_mode):
                # Opening a named pipe waits for a writer, a device may never end: a hang.
                if not quiet:
                    self.note(path, "skipped: not a regular file (a named pipe, socket or device)")
            elif size > MAX_TEXT_BYTES and head is None:
                if not quiet:
                    self.note(path, f"skipped: {size:,} bytes is larger than the {MAX_TEXT_BYTES:,}-byte limit")
            else:
                with open(path, "rb") as handle:
                    # ``read(n)`` allocates n bytes up front: ask for what the file holds.
                    data = handle.read(size + 1 if head is None else min(size + 1, head))
        except FileNotFoundError:
            pass
        except OSError as error:  # permission denied, a symlink loop, a directory...
            if not quiet:
                self.note(path, f"could not be read: {error.strerror or error}")
        if keep:
            self._bytes[path] = data
        return data

    def is_file(self, path: Path) -> bool:
        """Whether the file exists, as this run sees it (the overlay first)."""
        if os.fspath(path) in self._overlay:
            return self._overlay[os.fspath(path)] is not None
        return os.path.isfile(path)

    def overlaid(self, path: Path | str) -> bool:
        """Whether the overlay replaces this file: what is on disk (its size, its
        timestamp) says nothing about the content this run reads."""
        return os.fspath(path) in self._overlay

    def bytes_read(self, path: Path) -> tuple[bool, bytes | None]:
        """(whether this run read the file and kept it, the bytes it read or None)."""
        return path in self._bytes, self._kept_bytes(path)

    def _kept_bytes(self, path: Path) -> bytes | None:
        data = self._bytes.get(path)
        if data is AS_TEXT:
            return self._texts[path][0].text.encode()
        return data

    def _held_once(self, path: Path, text: str, data: bytes) -> None:
        """When the bytes read are exactly the text in UTF-8, only the text is kept."""
        if path in self._bytes and text.encode() == data:
            self._bytes[path] = AS_TEXT

    def text(self, path: Path, *, quiet: bool = False, in_context: bool = True) -> tuple[Text, bool] | None:
        """Decoded text and whether it held invalid UTF-8; None if unreadable or binary."""
        if path in self._texts:
            return self._texts[path]
        data = self.read_bytes(path, quiet=quiet, in_context=in_context)
        result = None
        if data is not None:
            if b"\0" in data[:BINARY_SNIFF]:
                if not quiet:
                    self.note(path, "skipped: binary file (it holds NUL bytes)")
            else:
                text, bad = decode(data)
                result = (Text.of(text), bad)
                if not bad:
                    self._held_once(path, text, data)
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
        """The parsed Dockerfile if this run already parsed it; never reads (a parse let go
        by ``forget_parses`` is made again from the text the run holds)."""
        parsed = self._dockerfiles.get(path)
        if parsed is not None or path not in self._dropped:
            return parsed
        parsed = self._reparsed.pop(path, None)
        if parsed is None:
            loaded = self._texts.get(path)
            if loaded is None:
                return None
            from dockerlint.parse.dockerfile import parse_dockerfile

            with blame(path):
                parsed = parse_dockerfile(loaded[0].text)
        self._reparsed[path] = parsed  # most recent last
        if len(self._reparsed) > REPARSED_KEPT:
            del self._reparsed[next(iter(self._reparsed))]
        return parsed

    def add_problems(self, path: Path, problems) -> None:
        if problems:
            self.problems.setdefault(path, []).extend(problems)

    # -- parsed files --------------------------------------------------------------
    def dockerfile(self, path: Path) -> Dockerfile | None:
        if path not in self._dockerfiles:
            from dockerlint.parse.dockerfile import parse_dockerfile

            parsed = None
            first = path not in self._recorded
            self._recorded.add(path)
            size = len(self._overlay[os.fspath(path)] or b"") if self.overlaid(path) else _size(path)
            if size is not None and size > MAX_DOCKERFILE_BYTES:
                self.note(
                    path,
                    f"skipped: {size:,} bytes is larger than the {MAX_DOCKERFILE_BYTES:,}-byte limit for Dockerfiles",
                )
                loaded = None
            else:
                loaded = self.text(path, in_context=False)
            if loaded is not None:
                text, bad = loaded
                with blame(path):
                    parsed = parse_dockerfile(text.text)
                too_many = _too_many(len(parsed.instructions), MAX_DOCKERFILE_INSTRUCTIONS, "instructions")
                too_many = too_many or _too_many(len(parsed.stages), MAX_DOCKERFILE_STAGES, "stages")
                if too_many:
                    self.note(path, too_many)
                    parsed = None
                elif first:
                    self.add_problems(path, parsed.problems)
                    if bad:
                        self.add_problems(path, [_invalid_utf8(text)])
            self._dockerfiles[path] = parsed
        return self._dockerfiles[path]

    def ignore_file(self, path: Path) -> IgnoreFile | None:
        if path not in self._ignores:
            from dockerlint.parse.dockerignore import parse_dockerignore

            loaded = self.text(path, quiet=not os.path.exists(path))
            parsed = None
            if loaded is not None:
                with blame(path):
                    parsed = parse_dockerignore(loaded[0].text)
                if path not in self._recorded:
                    self.add_problems(path, parsed.problems)
            self._recorded.add(path)
            self._ignores[path] = parsed
        return self._ignores[path]

    def requirements(self, path: Path) -> RequirementSet:
        """A requirements file with its includes; its problems are recorded per file."""
        if path not in self._requirements:
            from dockerlint.parse.requirements import load_requirements

            with blame(path):
                loaded = load_requirements(path, lambda p: self.read_bytes(p, quiet=True))
            for file_path, problem in loaded.problems:
                self._record_requirement_problem(file_path, problem)
            for file_path, line, why in loaded.unfollowed:
                self.note(file_path, f"line {line}: {why}", "info")
            for file_path in loaded.files:
                data = self._bytes.get(file_path)
                if data is not None and file_path not in self._texts:
                    text = _requirements_text(data)
                    self._texts[file_path] = (Text.of(text), False)
                    self._held_once(file_path, text, data)
            self._requirements[path] = loaded
            self._requirements_parsed.add(path)
        return self._requirements[path]

    def requirements_parsed(self, path: Path) -> bool:
        """Whether this run parsed the file as a requirements file of its own (its parse
        may have been let go since)."""
        return path in self._requirements_parsed

    def _record_requirement_problem(self, path: Path, problem: Problem) -> None:
        """Once per place: a cycle seen from two entry files is still one problem."""
        key = (path, problem.code, problem.span)
        if key not in self._requirement_problems:  # a set: a file may hold thousands
            self._requirement_problems.add(key)
            self.problems.setdefault(path, []).append(problem)

    def pyproject(self, path: Path) -> Pyproject | None:
        """A pyproject.toml, or a Pipfile or setup.py (read into the same dependency model; a
        setup.py that computes its requirements gives None)."""
        if path not in self._pyprojects:
            from dockerlint.parse.pyproject import parse_pipfile, parse_pyproject, parse_setup_py

            loaded = self.text(path, quiet=not os.path.exists(path))
            parsed = None
            if loaded is not None:
                parse = {"Pipfile": parse_pipfile, "setup.py": parse_setup_py}.get(path.name, parse_pyproject)
                with blame(path):
                    parsed = parse(loaded[0].text)
                if path not in self._recorded and parsed is not None:
                    self.add_problems(path, parsed.problems)
            self._recorded.add(path)
            self._pyprojects[path] = parsed
        return self._pyprojects[path]

    def context(self, root: Path, ignore_path: Path | None) -> Context:
        key = (root, ignore_path)
        if key not in self._contexts:
            from dockerlint.context import walk_context

            ignore = self.ignore_file(ignore_path) if ignore_path else None
            with blame(root):
                context = walk_context(root, ignore)
            if key not in self._walked:
                for message in context.notes:
                    self.note(root, message, "note")
            self._walked.add(key)
            self._contexts[key] = context
        return self._contexts[key]

    # -- runs over many images ---------------------------------------------------------
    def parsed_dockerfiles(self) -> Iterator[tuple[Path, Dockerfile]]:
        """The Dockerfiles parsed and held now."""
        return ((path, parsed) for path, parsed in self._dockerfiles.items() if parsed is not None)

    def forget_parses(self) -> None:
        """Let go of the parsed files and build-context walks held now, so that a run over
        thousands of images holds a few images' worth at a time. The text of every file
        read stays (reports quote it); a file asked for again is parsed again, and its
        problems and notes are not recorded twice."""
        self._dropped.update(path for path, parsed in self._dockerfiles.items() if parsed is not None)
        for parsed in (self._dockerfiles, self._requirements, self._ignores, self._pyprojects, self._contexts):
            parsed.clear()

    # -- worker processes --------------------------------------------------------------
    def mark(self) -> Mark:
        """Where the workspace stands, for ``changes_since`` in a process forked now."""
        return Mark(
            len(self.notes),
            {path: len(found) for path, found in self.problems.items()},
            len(self._bytes),
            len(self._texts),
        )

    def changes_since(self, mark: Mark) -> Changes:
        """What a worker process learned since ``mark`` that the run's report needs: the
        notes, parse problems, the files read (reports quote them) and what was parsed."""
        self.forget_parses()
        problems = {path: found[mark.problems.get(path, 0) :] for path, found in self.problems.items()}
        return Changes(
            self.notes[mark.notes :],
            {path: found for path, found in problems.items() if found},
            [item for item in list(self._bytes.items())[mark.bytes :] if item[1] is not None],
            list(self._texts.items())[mark.texts :],
            self._recorded,
            self._walked,
            self._requirements_parsed,
            self._requirement_problems,
            self._dropped,
        )

    def absorb(self, changes: Changes) -> None:
        """Take in what a worker process learned (``changes_since``)."""
        self.notes.extend(changes.notes)
        for path, found in changes.problems.items():
            self.add_problems(path, found)
        for path, data in changes.bytes:
            self._bytes.setdefault(path, data)
        for path, loaded in changes.texts:
            self._texts.setdefault(path, loaded)
        self._recorded |= changes.recorded
        self._walked |= changes.walked
        self._requirements_parsed |= changes.requirements_parsed
        self._requirement_problems |= changes.requirement_problems
        self._dropped |= changes.dropped


class Mark(Struct, frozen=True):
    notes: int
    problems: dict[Path, int]
    bytes: int
    texts: int


class Changes(Struct):
    """What a worker process sends back about the files it read (``Workspace.absorb``)."""

    notes: list[Note]
    problems: dict[Path, list[Problem]]
    bytes: list[tuple[Path, bytes]]
    texts: list[tuple[Path, tuple[Text, bool] | None]]
    recorded: set[Path]
    walked: set[tuple[Path, Path | None]]
    requirements_parsed: set[Path]
    requirement_problems: set[tuple[Path, str, Span]]
    dropped: set[Path]


def _both_forms(path: Path) -> tuple[str, ...]:
    """A root as given (absolute) and with its symlinks resolved."""
    return os.path.abspath(path), os.path.realpath(path)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _too_many(count: int, limit: int, what: str) -> str | None:
    if count <= limit:
        return None
    return f"skipped: {count:,} {what} are more than the limit of {limit:,} for Dockerfiles"


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
