"""The edits of the DEP fixes: remove a requirement (DEP001), move a development tool to
``requirements-dev.txt`` (DEP003), install the lighter distribution (DEP004).

Each edit is made only where the requirement sits as expected: alone on its line in a
requirements file or a pyproject dependency list, or one argument among others of a
``pip install`` (removing the only one would leave pip nothing to install). All are
unsafe: they change what gets installed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dockerlint.checks import fixing
from dockerlint.findings import Edit, Fix
from dockerlint.model import Image
from dockerlint.model.installed_names import Installed
from dockerlint.source import Span, Text

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
DEV_REQUIREMENTS = "requirements-dev.txt"


def _text(image: Image, path: Path) -> Text | None:
    if path == image.dockerfile_path:
        return image.dockerfile.text
    loaded = image.workspace.cached_text(path)
    return loaded[0] if loaded else None


def _line_removal(image: Image, item: Installed) -> Edit | None:
    """Delete the lines of a requirement that stands alone there (a comment after it may
    go with it; a comment line above stays)."""
    text = _text(image, item.path)
    if text is None:
        return None
    first = text.line(item.span.line)
    if item.kind == "requirements":
        alone = (
            first.strip().startswith(item.written.split()[0])
            and item.span.column == len(first) - len(first.lstrip()) + 1
        )
    elif item.kind == "pyproject":
        stripped = re.sub(r"\s*#.*$", "", first.strip()).rstrip(",").strip()
        alone = item.span.line == item.span.end_line and stripped in (f'"{item.written}"', f"'{item.written}'")
    else:
        return None
    if not alone:
        return None
    return Edit(item.path, Span(item.span.line, 1, item.span.end_line + 1, 1), "")


def _argument_removal(image: Image, item: Installed) -> Edit | None:
    """Delete a ``pip install`` argument and the blank before it, when the install keeps
    something else to install."""
    if item.path != image.dockerfile_path or item.span.line != item.span.end_line:
        return None
    for stage in image.stages:
        for step in stage.runs():
            for install in step.installs:
                if not any(argument.span == item.span for argument in install.packages):
                    continue
                if len(install.packages) + len(install.requirements) + len(install.editables) < 2:
                    return None
                line = image.dockerfile.text.line(item.span.line)
                escape = image.dockerfile.escape
                if line.strip() in (f"{item.written} {escape}", f"{item.written}{escape}") and (
                    item.span.line != step.instruction.span.line
                ):
                    return Edit(item.path, Span(item.span.line, 1, item.span.line + 1, 1), "")
                start = item.span.column - 1
                before = len(line[:start]) - len(line[:start].rstrip(" \t"))
                if before == 0:
                    return None
                return Edit(
                    item.path, Span(item.span.line, start + 1 - before, item.span.line, item.span.end_column), ""
                )
    return None


def removal(image: Image, item: Installed) -> Fix | None:
    """DEP001: the requirement goes."""
    edit = _argument_removal(image, item) if item.kind == "argument" else _line_removal(image, item)
    return fixing.unsafe(f"Remove `{item.written}`", edit)


def move_to_dev(image: Image, item: Installed, read_files: set[Path]) -> Fix | None:
    """DEP003: a requirements-file line moves to ``requirements-dev.txt`` beside it
    (created if needed), unless the image installs that file too; an argument of
    ``pip install`` is removed (CI installs it on its own)."""
    if item.kind == "argument":
        return fixing.unsafe(f"Remove `{item.written}` (install it where tests run)", _argument_removal(image, item))
    if item.kind != "requirements" or item.path.name == DEV_REQUIREMENTS:
        return None
    target = item.path.parent / DEV_REQUIREMENTS
    if target in read_files or os.path.islink(target):
        return None
    removed = _line_removal(image, item)
    text = _text(image, item.path)
    if removed is None or text is None:
        return None
    lines = [text.line(number) for number in range(item.span.line, item.span.end_line + 1)]
    moved = "\n".join(lines) + "\n"
    existing = _read_small(image, target)
    if existing is None and os.path.lexists(target):
        return None  # there but unreadable
    if existing is None:
        added = Edit(target, Span(1, 1, 1, 1), f"-r {item.path.name}\n{moved}")
    else:
        if any(line.strip() == lines[0].strip() for line in existing.splitlines()):
            added = None
        else:
            count = existing.count("\n")
            if existing.endswith("\n") or not existing:
                added = Edit(target, Span(count + 1, 1, count + 1, 1), moved)
            else:
                last = existing.rsplit("\n", 1)[-1]
                added = Edit(target, Span(count + 1, len(last) + 1, count + 1, len(last) + 1), "\n" + moved)
    edits = [removed] if added is None else [removed, added]
    return fixing.unsafe(f"Move `{item.written}` to {DEV_REQUIREMENTS}", *edits)


def _read_small(image: Image, path: Path) -> str | None:
    """A development requirements file the image does not read, read through the
    workspace (which keeps reads inside the repository and sees earlier fixes)."""
    data = image.workspace.read_bytes(path, quiet=True)
    if data is None:
        return None
    try:
        return data.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        return None


def swap(image: Image, item: Installed, lighter: str) -> Fix | None:
    """DEP004: the lighter distribution's name in place of the heavy one's, the version
    and extras kept."""
    text = _text(image, item.path)
    if text is None or item.span.line != item.span.end_line:
        return None
    line = text.line(item.span.line)
    start = line.find(item.written, item.span.column - 1)
    if start == -1 or start > item.span.column:
        return None
    name = _NAME.match(item.written)
    if name is None:
        return None
    span = Span(item.span.line, start + 1, item.span.line, start + 1 + len(name.group(0)))
    return fixing.unsafe(f"Install `{lighter}`", Edit(item.path, span, lighter))


def files_read(image: Image) -> set[Path]:
    """Every requirements file an install of the image reads (with its includes)."""
    found: set[Path] = set()
    for stage in image.stages:
        for step in stage.runs():
            for install in step.installs:
                for reference in install.requirements:
                    if reference.context_path is not None and os.path.isfile(reference.context_path):
                        found.update(image.workspace.requirements(reference.context_path).files)
    return found
