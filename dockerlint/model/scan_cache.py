"""Import scans kept between runs, so that a second ``dockerlint .`` over a large
repository neither scans nor reads unchanged files again (like ruff's cache).

The cache is a directory (by default one per project under the user's cache folder,
outside the project: a cache inside a build context would be sent to every build) holding
``CACHEDIR.TAG``, a ``.gitignore`` of ``*`` and two JSON files:

- ``index.json``: ``{"key": ..., "files": {<path>: [size, mtime_ns, content key]},
  "summaries": {<digest of an image's files>: summary}}``. A warm run reads only this:
  every file's content key from its timestamp, and each image's summary whole.
- ``scans.json``: ``{"key": ..., "scans": {<kind>:<content key>: [scan, exact scan or
  null]}}``, read only when a file changed or a finding needs one file's scan.

A content key is the blake2b of the file's bytes; a record's key adds what the bytes
were read as (python, notebook, text). The records are plain JSON written and read by
``model/code.py``. ``key`` is the dockerlint version plus a digest of the scanner's own
sources and data, so a scan is only reused by the code that made it; any other key
empties the cache.

It never breaks a run: a missing, corrupt, unreadable or unwritable cache is ignored
and the run scans everything. It is JSON of plain data (never pickle: the file sits in
a folder anyone on the machine may write to), written to a temporary file and renamed
into place. Growth is bounded: a save keeps the entries this run used, then older ones
up to ``MAX_SCANS``/``MAX_SUMMARIES``; a run that learned nothing new does not write.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from dockerlint import __version__

INDEX_NAME = "index.json"
SCANS_NAME = "scans.json"
MAX_SCANS = 100_000  # scans of ~500 bytes each: the file stays under ~60 MB
MAX_SUMMARIES = 1_000  # images
SETTLED_NS = 2_000_000_000  # file timestamps may lag by up to a FAT tick (2 s)
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by dockerlint.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def default_cache_dir(project_root: Path) -> Path:
    """``$XDG_CACHE_HOME/dockerlint/<project>`` (``~/.cache`` when unset); the project's
    folder name plus a digest of its path keeps projects apart and readable."""
    import hashlib  # here, not at the top: a run with --no-cache needs no digest

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.blake2b(str(project_root).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    return base / "dockerlint" / f"{project_root.name or 'root'}-{digest}"


def content_key(data: bytes) -> str:
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()


class ScanCache:
    """Records by content key (``record``/``put_record``; slot 0 the plain scan, 1 the
    exact one), image summaries by digest (``summary``/``put_summary``); ``save`` at the
    end of the run.

    ``known_key`` saves reading a file again: it answers a path's content key from the
    size and modification time recorded when the file was last read, as git's index
    does. Like git, it only records a file last changed well before it was read
    (``SETTLED_NS``), so a change within the timestamp's granularity is never missed.

    One object may serve many runs (a language server keeps one per project): ``save``
    starts a new round of changes, and ``decoded`` keeps the records already turned
    into scans, so a later run neither reads the JSON again nor decodes it.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = _scanner_key()
        index = _load(directory / INDEX_NAME, self.key)
        self._old_files = _mapping(index.get("files"))
        self._old_summaries = _mapping(index.get("summaries"))
        self._old_scans: dict | None = None  # scans.json, read on first need
        self._files: dict[str, list] = {}  # path -> [size, mtime_ns, content key], seen in this run
        self._summaries: dict[str, list] = {}  # used in this run
        self._scans: dict[str, list] = {}  # used in this run
        self._changed: set[str] = set()  # which files to write
        self.decoded: dict[tuple[str, int], object] = {}  # (key, slot) -> the record as code.py reads it

    # -- files ---------------------------------------------------------------------------
    def known_files(self) -> int:
        """How many files an earlier run recorded (a warm cache has little left to scan)."""
        return len(self._old_files)

    def known_key(self, path: str, stat: tuple[int, int] | None = None) -> str | None:
        """The content key of an unchanged file read by an earlier run, without reading
        it; ``stat``: its (size, mtime_ns) if already known."""
        entry = self._files.get(path) or self._old_files.get(path)
        if not isinstance(entry, list) or len(entry) != 3:
            return None
        if stat is None:
            try:
                status = os.stat(path)
            except OSError:
                return None
            stat = (status.st_size, status.st_mtime_ns)
        if entry[0] != stat[0] or entry[1] != stat[1]:
            return None
        self._files[path] = entry
        return entry[2]

    def remember(self, path: str, key: str, read_at_ns: int, stat: tuple[int, int] | None = None) -> None:
        """Record the file's content key; ``read_at_ns``: when its reading started;
        ``stat``: its (size, mtime_ns) from before the reading, if known."""
        if stat is None:
            try:
                status = os.stat(path)
            except OSError:
                return
            stat = (status.st_size, status.st_mtime_ns)
        if stat[1] < read_at_ns - SETTLED_NS:
            self._files[path] = [stat[0], stat[1], key]
            self._changed.add(INDEX_NAME)

    # -- scans and summaries -------------------------------------------------------------
    def record(self, key: str, slot: int):
        entry = self._scans.get(key)
        if entry is None:
            entry = self._scans_on_disk().get(key)
            if not isinstance(entry, list) or len(entry) != 2:
                return None
            self._scans[key] = entry
        return entry[slot]

    def put_record(self, key: str, slot: int, record) -> None:
        if key not in self._scans:
            old = self._scans_on_disk().get(key)
            self._scans[key] = list(old) if isinstance(old, list) and len(old) == 2 else [None, None]
        self._scans[key][slot] = record
        self._changed.add(SCANS_NAME)

    def summary(self, key: str):
        found = self._summaries.get(key) or self._old_summaries.get(key)
        if found is not None:
            self._summaries[key] = found
        return found

    def put_summary(self, key: str, record) -> None:
        self._summaries[key] = record
        self._changed.add(INDEX_NAME)

    def _scans_on_disk(self) -> dict:
        if self._old_scans is None:
            self._old_scans = _mapping(_load(self.directory / SCANS_NAME, self.key).get("scans"))
        return self._old_scans

    # -- worker processes ------------------------------------------------------------------
    def changes(self) -> tuple[dict, dict, dict, set[str]]:
        """What a worker process's run used and learned, for the process that saves."""
        return self._files, self._summaries, self._scans, self._changed

    def absorb(self, changes: tuple[dict, dict, dict, set[str]]) -> None:
        """Take in a worker process's ``changes``, as if this process had made them."""
        files, summaries, scans, changed = changes
        self._files.update(files)
        self._summaries.update(summaries)
        self._scans.update(scans)
        self._changed |= changed

    # -- writing -------------------------------------------------------------------------
    def save(self) -> None:
        """Write what this run used (then older entries, up to the bounds); never raises."""
        if not self._changed:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "*\n")):
                if not (self.directory / name).exists():
                    (self.directory / name).write_text(text, encoding="utf-8")
        except OSError:
            return
        if SCANS_NAME in self._changed:
            scans = _bounded(self._scans, self._scans_on_disk(), MAX_SCANS)
            _write(self.directory / SCANS_NAME, {"key": self.key, "scans": scans})
        if INDEX_NAME in self._changed:
            files = _bounded(self._files, self._old_files, MAX_SCANS)
            summaries = _bounded(self._summaries, self._old_summaries, MAX_SUMMARIES)
            _write(self.directory / INDEX_NAME, {"key": self.key, "files": files, "summaries": summaries})
        self._changed = set()


def _bounded(used: dict, old: dict, limit: int) -> dict:
    kept = dict(used)
    for key, entry in old.items():
        if len(kept) >= limit:
            break
        kept.setdefault(key, entry)
    return kept


def _write(path: Path, data: dict) -> None:
    temporary = None
    try:
        import tempfile  # only when writing: not a start-up cost

        handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(json.dumps(data, separators=(",", ":")))
        os.replace(temporary, path)
    except (OSError, ValueError):
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _load(path: Path, key: str) -> dict:
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("key") != key:
        return {}
    return data


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _scanner_key() -> str:
    """The version, and a digest of what a scan depends on (the scanners, the tables they
    read), so an edited checkout never reuses scans of older code."""
    import hashlib

    from dockerlint import knowledge
    from dockerlint.model import code, gpu_signals
    from dockerlint.parse import notebook, pickled, python

    digest = hashlib.blake2b(digest_size=8)
    tables = [
        Path(knowledge.__file__).with_name(name) for name in ("package_overrides.toml", "ml.toml", "build_tools.toml")
    ]
    for path in (code.__file__, python.__file__, notebook.__file__, pickled.__file__, gpu_signals.__file__, *tables):
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            pass
    return f"{__version__}+{digest.hexdigest()}"
