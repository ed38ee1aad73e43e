"""The TOML data files dockerlint ships (``rules/`` and ``knowledge/``), parsed once per
installation instead of once per run.

Parsing them with ``tomllib`` costs more than the rest of a pre-commit run on one small
Dockerfile, so every run after the first reads one ``marshal`` file from the user's
cache folder instead (plain data only: ``marshal`` cannot hold code). The file is
rebuilt when any data file's size or modification time differs from what it recorded,
and ignored when it cannot be read or written: the results never depend on it.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from pathlib import Path

from dockerlint import __version__

_FORMAT = 1
_parsed: dict[str, dict] | None = None


def read_toml(path: Path) -> dict:
    """The parsed content of a shipped TOML data file."""
    global _parsed
    if _parsed is None:
        _parsed = _load_all()
    key = os.fspath(path)
    if key not in _parsed:  # not among the shipped files (a test's own rule file)
        from dockerlint.tomlparser import tomllib

        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return _parsed[key]


def data_files() -> list[Path]:
    from dockerlint.rulebook import rules_dir

    knowledge = os.path.join(os.path.dirname(__file__), "knowledge")
    found = []
    for folder in (knowledge, os.fspath(rules_dir())):  # os.listdir: a glob costs a run ~3 ms
        found += [os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".toml")]
    return [Path(path) for path in sorted(found)]


def cache_file() -> Path:
    """One file per installation: two installs of the same version (a project's virtualenv
    and pre-commit's) would otherwise rewrite each other's file on every run."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    where = zlib.crc32(os.fsencode(os.path.dirname(os.path.abspath(__file__))))
    return base / "dockerlint" / f"data-{__version__}-{sys.implementation.cache_tag}-{where:08x}.marshal"


def _signature(files: list[Path]) -> list[tuple[str, int, int]]:
    signature = []
    for path in files:
        status = os.stat(path)
        signature.append((os.fspath(path), status.st_size, status.st_mtime_ns))
    return signature


def _load_all() -> dict[str, dict]:
    files = data_files()
    signature = _signature(files)
    cached = cache_file()
    try:
        with open(cached, "rb") as handle:
            stored = marshal.loads(handle.read())  # load(handle) reads object by object: ~5x slower
        if stored.get("format") == _FORMAT and stored.get("signature") == signature:
            return stored["parsed"]
    except (OSError, EOFError, ValueError, TypeError, AttributeError):
        pass
    from dockerlint.tomlparser import tomllib

    parsed = {os.fspath(path): tomllib.loads(path.read_text(encoding="utf-8")) for path in files}
    _write(cached, {"format": _FORMAT, "signature": signature, "parsed": parsed})
    return parsed


def _write(path: Path, data: dict) -> None:
    """Atomically (a concurrent run reads the old file or the new one), or not at all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only when writing: not a start-up cost

        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".data-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            marshal.dump(data, out)
        os.replace(temporary, path)
    except (OSError, ValueError):
        try:
            os.unlink(temporary)
        except OSError:
            pass
