"""Whether the repository's ``.gitignore`` files keep a path out of git.

A file a Dockerfile copies that git ignores (a lock file, downloaded weights, a compiled
binary, a login folder) is made on the machine that builds: it is there on a developer's
machine and missing from a clean checkout, which is what CI builds from. The committed
``.gitignore`` files say so; ``.git/info/exclude`` and a user's global excludes are not
part of the repository and are not read.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

from msgspec import Struct

from dockerlint.workspace import Workspace


class GitIgnored(Struct, frozen=True):
    ignore_file: Path  # the .gitignore whose pattern decides
    line: int
    pattern: str  # as written


def gitignored(workspace: Workspace, path: Path) -> GitIgnored | None:
    """The ``.gitignore`` pattern that keeps ``path`` (a file or a folder, inside the
    repository) out of git, or None. As git does, a deeper ``.gitignore`` decides before
    the ones above it, and in one file the last matching pattern does."""
    root = workspace.root
    if root is None:
        return None
    relative = os.path.relpath(path, root)
    if relative == "." or relative.startswith(".." + os.sep) or relative == "..":
        return None
    parts = Path(relative).parts
    if parts[0] == ".git":
        return None  # git's own folder: in every clone, whatever a `.gitignore` lists
    for depth in range(len(parts) - 1, -1, -1):  # the .gitignore beside the path first, the root's last
        folder = root.joinpath(*parts[:depth])
        ignore_file = folder / ".gitignore"
        if not os.path.isfile(ignore_file):
            continue
        loaded = workspace.text(ignore_file, quiet=True, in_context=False)
        if loaded is None:
            continue
        lines = loaded[0].text.splitlines()
        below = "/".join(parts[depth:])
        result = _match(tuple(lines), below)
        if result is None:
            continue
        line, ignored = result
        return GitIgnored(ignore_file, line, lines[line - 1].strip()) if ignored else None
    return None


def _match(lines: tuple[str, ...], relative: str) -> tuple[int, bool] | None:
    """(line of the last pattern that matches ``relative`` as a file or as a folder, whether
    it ignores), or None when no pattern of the file matches."""
    spec = _spec(lines)
    for candidate in (relative.rstrip("/"), relative.rstrip("/") + "/"):
        result = spec.check_file(candidate)
        if result.include is not None and result.index is not None:
            return result.index + 1, result.include
    return None


@functools.lru_cache(maxsize=64)
def _spec(lines: tuple[str, ...]):
    import pathspec

    # A blank line would leave no pattern behind; a comment keeps one, so a pattern's
    # index is its line number less one. git skips a pattern it cannot read: so do we.
    # Compiling a pattern costs time with its length (a 1 MB line: 40 s): past the sizes
    # of real ignore files, lines are not read.
    kept, budget = [], MAX_PATTERN_CHARACTERS
    for line in lines[:MAX_PATTERNS]:
        read = bool(line.strip()) and len(line) <= min(MAX_PATTERN_LENGTH, budget)
        budget -= len(line) if read else 0
        kept.append(line if read else "#")
    lines = tuple(kept)
    # A '[' inside a bracket class (`[[a]b`) makes Python's re warn of a "possible nested
    # set": the repository's pattern is no concern of the user's terminal.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return pathspec.GitIgnoreSpec.from_lines(lines)
        except ValueError:
            return pathspec.GitIgnoreSpec.from_lines([line if _readable(line) else "#" for line in lines])


def _readable(line: str) -> bool:
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except ValueError:
        return False
    return True


MAX_PATTERNS = 5_000  # a longer .gitignore is read that far (real ones hold a few hundred)
MAX_PATTERN_LENGTH = 4_096  # characters; real patterns are a few dozen
MAX_PATTERN_CHARACTERS = 256 * 1024  # of all the patterns of one file
