"""Applying fixes: ``--fix``, ``--unsafe-fixes``, ``--diff``.

A check returns a ``Fix`` with its finding: edits, each replacing a span of one file.
Here they are chosen (applicability, ``fixable``/``unfixable``, never a file outside the
linted paths), applied in rounds — a fix is atomic, fixes whose edits overlap wait for
the next round, and each round lints the result again — and written only when the file
on disk is still what the lint read. Edits keep the file as it was around them: its
byte order mark, its line endings, everything outside the edited spans.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from msgspec import Struct, field

from dockerlint.findings import Applicability, Edit, Finding, Note

MAX_ROUNDS = 10  # a fix that keeps producing new fixes stops here
_BOM = b"\xef\xbb\xbf"


class FixSettings(Struct, frozen=True):
    unsafe: bool = False  # apply unsafe fixes too
    fixable: frozenset[str] = frozenset()  # codes whose fixes may be applied

    def allows(self, finding: Finding) -> bool:
        fix = finding.autofix
        if fix is None or finding.code not in self.fixable:
            return False
        if fix.applicability is Applicability.SAFE:
            return True
        return self.unsafe and fix.applicability is Applicability.UNSAFE


class FixOutcome(Struct):
    fixed: list[Finding] = field(default_factory=list)  # the findings whose fixes were applied
    before: dict[Path, bytes | None] = field(default_factory=dict)  # each changed file as first read
    after: dict[Path, bytes | None] = field(default_factory=dict)  # and as the fixes leave it
    notes: list[Note] = field(default_factory=list)


def choose(findings: Iterable[Finding], settings: FixSettings, writable) -> list[Finding]:
    """The fixes of one round: allowed, writable, and not overlapping an earlier one
    (in file order); two insertions at the same place also wait for the next round."""
    taken: dict[Path, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    chosen = []
    candidates = [f for f in findings if settings.allows(f) and all(writable(e.path) for e in f.autofix.edits)]
    for finding in sorted(candidates, key=Finding.sort_key):
        regions = [(edit.path, _start(edit), _end(edit)) for edit in finding.autofix.edits]
        if any(_overlaps(start, end, taken.get(path, ())) for path, start, end in regions):
            continue
        if _overlaps_itself(regions):
            continue
        for path, start, end in regions:
            taken.setdefault(path, []).append((start, end))
        chosen.append(finding)
    return chosen


def _start(edit: Edit) -> tuple[int, int]:
    return edit.span.line, edit.span.column


def _end(edit: Edit) -> tuple[int, int]:
    return edit.span.end_line, edit.span.end_column


def _overlaps(start, end, regions) -> bool:
    for other_start, other_end in regions:
        if start == other_start or (start < other_end and other_start < end):
            return True
    return False


def _overlaps_itself(regions) -> bool:
    seen: dict[Path, list] = {}
    for path, start, end in regions:
        if _overlaps(start, end, seen.get(path, ())):
            return True
        seen.setdefault(path, []).append((start, end))
    return False


def apply_edits(data: bytes | None, edits: Iterable[Edit]) -> bytes | None:
    """The file's bytes after the edits (``data`` None: a new file), or None when the
    file cannot be edited faithfully (not UTF-8, or lone CR line endings)."""
    raw = data or b""
    bom = raw.startswith(_BOM)
    try:
        text = raw[len(_BOM) if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError:
        return None
    newline = "\r\n" if "\r\n" in text else "\n"
    if "\r" in text.replace("\r\n", ""):
        return None
    starts = [0]
    position = text.find("\n")
    while position != -1:
        starts.append(position + 1)
        position = text.find("\n", position + 1)

    def offset(line: int, column: int) -> int:
        if line > len(starts):
            return len(text)
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(text)
        if end > start and text[end - 1] == "\r":
            end -= 1
        return min(start + column - 1, end)

    spans = sorted(((offset(e.span.line, e.span.column), offset(e.span.end_line, e.span.end_column), e) for e in edits),
                   key=lambda item: (item[0], item[1]))  # fmt: skip
    pieces, position = [], 0
    for start, end, edit in spans:
        pieces.append(text[position:start])
        pieces.append(edit.content.replace("\n", newline) if newline != "\n" else edit.content)
        position = max(position, end)
    pieces.append(text[position:])
    return (_BOM if bom else b"") + "".join(pieces).encode("utf-8")


def edits_by_file(findings: Iterable[Finding]) -> dict[Path, list[Edit]]:
    files: dict[Path, list[Edit]] = {}
    for finding in findings:
        for edit in finding.autofix.edits:
            files.setdefault(edit.path, []).append(edit)
    return files


def write_if_unchanged(path: Path, expected: bytes | None, content: bytes) -> str | None:
    """Write ``content`` unless the file is no longer what the lint read (``expected``
    None: it must still not exist). Returns why it was not written, or None."""
    try:
        with open(path, "rb") as handle:
            current = handle.read()
    except FileNotFoundError:
        current = None
    except OSError as error:
        return f"not fixed: cannot read it again ({error.strerror or error})"
    if current != expected:
        return "not fixed: the file changed on disk while dockerlint read it"
    try:
        import tempfile  # only a run that writes needs it (start-up cost: ~3 ms)

        mode = os.stat(path).st_mode & 0o7777 if current is not None else None
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".dockerlint")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        return f"not fixed: cannot write it ({error.strerror or error})"
    return None


def unified_diff(before: Mapping[Path, bytes | None], after: Mapping[Path, bytes | None], shown) -> str:
    """A unified diff of every changed file; ``shown`` turns a path into its label."""
    import difflib

    chunks = []
    for path in sorted(after):
        old = (before.get(path) or b"").decode("utf-8", "replace").splitlines(keepends=True)
        new = (after[path] or b"").decode("utf-8", "replace").splitlines(keepends=True)
        if old == new:
            continue
        label = shown(path)
        a, b = (label, label) if os.path.isabs(label) else (f"a/{label}", f"b/{label}")
        lines = difflib.unified_diff(old, new, "/dev/null" if before.get(path) is None else a, b)
        chunks.append("".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                              for line in lines))  # fmt: skip
    return "".join(chunks)
