"""The build context as BuildKit would send it, read from disk once.

The walk never follows a symbolic link (BuildKit sends the link itself), so a link
loop cannot hang it, and it skips nothing on its own: a ``.git`` or ``.venv`` that the
ignore file forgets is sent to the builder, which is exactly what the CTX rules report.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path

from msgspec import Struct

from dockerlint.parse.dockerignore import IgnoreFile, go_clean


class ContextFile(Struct, frozen=True):
    path: str  # context-relative POSIX path
    size: int  # bytes (lstat; a symlink counts its own size)
    is_symlink: bool
    mtime_ns: int = 0  # lstat: the import-scan cache knows unchanged files by it

    # Two walks of the same tree see the same files whenever their times differ.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContextFile):
            return NotImplemented
        return (self.path, self.size, self.is_symlink) == (other.path, other.size, other.is_symlink)

    def __hash__(self) -> int:
        return hash((self.path, self.size, self.is_symlink))


class Context(Struct, frozen=True, dict=True):
    root: Path
    files: tuple[ContextFile, ...]  # files (and symlinks) sent to the build, sorted by path
    excluded_dirs: tuple[str, ...]  # directories pruned by the ignore file (never walked)
    excluded_files: tuple[ContextFile, ...]  # files present but excluded (seen while walking)
    notes: tuple[str, ...]  # e.g. unreadable directory, file limit reached

    def sent(self, path: str) -> bool:
        """Whether this file, or a directory holding at least one sent file, is sent."""
        path = _context_path(path)
        if path == ".":
            return bool(self.files)
        return path in self._sent_paths

    def glob(self, pattern: str) -> list[ContextFile]:
        """The sent files a COPY/ADD source selects.

        Go's filepath.Match on the path (``*`` and ``?`` stop at ``/``), and a match that
        is a directory brings everything below it; ``.`` is the whole context. A source
        Docker would reject as a bad pattern selects nothing.
        """
        source = _context_path(pattern)
        if source == ".":
            return list(self.files)
        regex = _copy_source_regex(source)
        if regex is None:
            return []
        fullmatch = regex.fullmatch
        return [file for file in self.files if fullmatch(file.path)]

    def total_size(self) -> int:
        return sum(file.size for file in self.files)

    @cached_property
    def _sent_paths(self) -> frozenset[str]:
        """Every sent file and every directory above one."""
        paths: set[str] = set()
        for file in self.files:
            path = file.path
            paths.add(path)
            slash = path.rfind("/")
            while slash > 0:
                path = path[:slash]
                if path in paths:
                    break
                paths.add(path)
                slash = path.rfind("/")
        return frozenset(paths)


def walk_context(root: Path, ignore: IgnoreFile | None, *, max_files: int = 500_000) -> Context:
    """Walk ``root`` once with os.scandir, pruning excluded directories early.

    An excluded directory is still entered when an exception pattern could re-include
    something below it. Unreadable directories become notes; this never raises.
    """
    excludes = may_prune = None
    if ignore is not None and ignore.patterns:
        excludes, may_prune = ignore.excludes, ignore.may_prune
    sent: list[ContextFile] = []
    excluded: list[ContextFile] = []
    pruned: list[str] = []
    notes: list[str] = []
    pending: list[tuple[str, str]] = [(os.fspath(root), "")]  # (directory on disk, prefix)
    seen = 0
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    relative = prefix + entry.name
                    try:
                        is_dir = entry.is_dir(follow_symlinks=False)
                        if is_dir:
                            if excludes and excludes(relative) and may_prune(relative):
                                pruned.append(relative)
                            else:
                                pending.append((entry.path, relative + "/"))
                            continue
                        if seen >= max_files:
                            notes.append(f"stopped after {max_files} files; the context is larger")
                            pending.clear()
                            break
                        seen += 1
                        status = entry.stat(follow_symlinks=False)
                        file = ContextFile(relative, status.st_size, entry.is_symlink(), status.st_mtime_ns)
                    except OSError as error:
                        notes.append(f"cannot read {relative}: {error.strerror or error}")
                        continue
                    if excludes and excludes(relative):
                        excluded.append(file)
                    else:
                        sent.append(file)
        except OSError as error:
            where = prefix.rstrip("/") or "."
            notes.append(f"cannot read directory {where}: {error.strerror or error}")
    return Context(
        root=root,
        files=tuple(sorted(sent, key=_by_path)),
        excluded_dirs=tuple(sorted(pruned)),
        excluded_files=tuple(sorted(excluded, key=_by_path)),
        notes=tuple(notes),
    )


def _by_path(file: ContextFile) -> str:
    return file.path


def _context_path(path: str) -> str:
    """A source path as BuildKit resolves it: cleaned, and never above the context root."""
    return go_clean("/" + path).lstrip("/") or "."


def _copy_source_regex(source: str) -> re.Pattern[str] | None:
    """filepath.Match as a regex, plus "or anything below it"; None for a bad pattern."""
    parts: list[str] = []
    i, end = 0, len(source)
    while i < end:
        char = source[i]
        i += 1
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[":
            parsed = _match_class(source, i)
            if parsed is None:
                return None
            regex, i = parsed
            parts.append(regex)
        elif char == "\\":
            if i == end:
                return None
            parts.append(re.escape(source[i]))
            i += 1
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts) + "(?:/.*)?", re.DOTALL)


def _match_class(source: str, i: int) -> tuple[str, int] | None:
    """A filepath.Match '[...]' class starting after '[': (regex, next index) or None."""
    end = len(source)
    negated = i < end and source[i] == "^"
    if negated:
        i += 1
    ranges: list[str] = []
    count = 0
    while not (i < end and source[i] == "]" and count):
        low = _class_char(source, i)
        if low is None:
            return None
        low_char, i = low
        high_char = low_char
        if source[i] == "-":
            high = _class_char(source, i + 1)
            if high is None:
                return None
            high_char, i = high
        count += 1
        if low_char <= high_char:  # Go accepts a reversed range; it matches nothing
            ranges.append(f"{re.escape(low_char)}-{re.escape(high_char)}")
    if not ranges:
        return ("[\\s\\S]" if negated else "(?!)"), i + 1
    return f"[{'^' if negated else ''}{''.join(ranges)}]", i + 1


def _class_char(source: str, i: int) -> tuple[str, int] | None:
    """One class character (maybe escaped) and the index after it, which must exist."""
    end = len(source)
    if i >= end or source[i] in "-]":
        return None
    if source[i] == "\\":
        i += 1
    if i + 1 >= end:
        return None
    return source[i], i + 1
