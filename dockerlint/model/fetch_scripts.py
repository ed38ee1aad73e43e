"""Folders the repository's own scripts fill with model weights before the build.

Weights are often kept out of git and fetched by a script the developer runs on the host
(``python download_model.py`` with ``snapshot_download(..., local_dir="models")``); the
Dockerfile then copies the folder. The build context on disk may not hold the weights (a
fresh clone), but the script says what lands there.
"""

from __future__ import annotations

import posixpath
from functools import cached_property
from pathlib import Path

from msgspec import Struct

from dockerlint.model import Image
from dockerlint.source import Span

MAX_SCRIPTS = 2000  # Python files read for one image
MAX_BYTES = 1_000_000


class Filled(Struct, frozen=True):
    """A call in a build-context script that downloads a model into a folder."""

    path: Path  # the script
    span: Span  # the call
    written: str  # the call as written, shortened
    model: str | None
    folder: str  # context-relative folder it writes to


class FetchScripts:
    """The folders the Python files of one build context download models into."""

    def __init__(self, image: Image) -> None:
        self.image = image

    @cached_property
    def filled(self) -> list[Filled]:
        from dockerlint.model.ml import ml

        data = ml()["downloads"]
        rows = [row for row in data["calls"] if row.get("targets")]
        writers = data["writers"]
        words = {name for row in rows for name in row["targets"]} | {w["name"].rsplit(".", 1)[-1] for w in writers}
        context = self.image.context
        found: list[Filled] = []
        scripts = [file for file in (*context.files, *context.excluded_files) if file.path.endswith(".py")]
        for file in scripts[:MAX_SCRIPTS]:
            if file.size > MAX_BYTES or file.is_symlink:
                continue
            loaded = self.image.workspace.text(context.root / file.path, quiet=True)
            if loaded is None or not any(word in loaded[0].text for word in words):
                continue
            found += _fills(context.root / file.path, file.path, loaded[0].text, rows, writers)
        return found

    def filling(self, folder: str) -> Filled | None:
        """A script call that downloads into ``folder`` (or a folder inside it, or the
        folder that holds it), or None."""
        folder = _clean(folder)
        if not folder:
            return None
        for item in self.filled:
            if _meets(item.folder, folder):
                return item
        return None


def _fills(path: Path, relative: str, text: str, rows: list[dict], writers: list[dict]) -> list[Filled]:
    from dockerlint.model.ml import _match_call
    from dockerlint.parse.python import scan_calls
    from dockerlint.regex import glob_match

    parsed = scan_calls(text)
    aliases = dict(parsed.aliases)
    script_dir = posixpath.dirname(relative)
    found = []
    for call in parsed.calls:
        head, _, tail = call.function.partition(".")
        qualified = aliases.get(head, head) + ("." + tail if tail else "")
        keywords = dict(call.keywords)
        targets: list[str] = []
        model = None
        for writer in writers:
            if glob_match(qualified, writer["name"]) and isinstance(call.first, str):
                targets.append(call.first)
        if not targets:
            row = next((row for row in rows if glob_match(qualified, row["name"])), None)
            match = _match_call(qualified, call) if row is not None else None
            if match is None:
                continue
            targets = [keywords[name] for name in row["targets"] if isinstance(keywords.get(name), str)]
            model = match.model
        for target in targets:
            for folder in _folders(target, script_dir):
                shown = f"{call.function}({repr(call.first) if call.first is not None else '...'})"
                span = Span(call.line, call.column, call.end_line, call.end_column)
                found.append(Filled(path, span, shown, model, folder))
    return found


def _folders(target: str, script_dir: str) -> list[str]:
    """Where a relative target lands: beside the script, or from the context root (the
    script may be run from either)."""
    if not target or target.startswith(("/", "~")) or "$" in target or "{" in target:
        return []
    folders = [_clean(target)]
    if script_dir:
        folders.append(_clean(posixpath.join(script_dir, target)))
    return [folder for folder in dict.fromkeys(folders) if folder]


def _clean(path: str) -> str:
    path = posixpath.normpath(path.strip().lstrip("/")) if path.strip() not in ("", ".", "./") else ""
    return "" if path in (".", "..") or path.startswith("../") else path


def _meets(written: str, copied: str) -> bool:
    return written == copied or written.startswith(copied + "/") or copied.startswith(written + "/")
