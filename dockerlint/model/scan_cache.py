"""Import scans kept between runs, so that a second ``dockerlint .`` over a large
repository neither scans nor (when their timestamps say so) reads unchanged Python
files again (like ruff's cache).

The cache is a directory (by default one per project under the user's cache folder,
outside the project: a cache inside a build context would be sent to every build) holding
``CACHEDIR.TAG``, a ``.gitignore`` of ``*`` and one file, ``scans.json``:
``{"key": ..., "scans": {<blake2b of the file's bytes>: [scan, exact scan or null]},
"files": {<path>: [size, mtime_ns, blake2b]}}``.
``key`` is the dockerlint version plus a digest of the scanner's own sources and data,
so a scan is only reused by the code that made it; any other key empties the cache.

It never breaks a run: a missing, corrupt, unreadable or unwritable cache is ignored
and the run scans everything. It is JSON of plain data (never pickle: the file sits in
a repository anyone may write to), written to a temporary file and renamed into place.
Growth is bounded: a save keeps the entries this run used, then older ones up to
``MAX_ENTRIES``; a run that scanned nothing new does not write.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from dockerlint import __version__

FILE_NAME = "scans.json"
MAX_ENTRIES = 100_000  # scans of ~500 bytes each: the file stays under ~60 MB
SETTLED_NS = 2_000_000_000  # file timestamps may lag by up to a FAT tick (2 s)
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by dockerlint.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def default_cache_dir(project_root: Path) -> Path:
    """``$XDG_CACHE_HOME/dockerlint/<project>`` (``~/.cache`` when unset); the project's
    folder name plus a digest of its path keeps projects apart and readable."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.blake2b(str(project_root).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    return base / "dockerlint" / f"{project_root.name or 'root'}-{digest}"


def content_key(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class ScanCache:
    """Scans by content hash: ``get``/``put`` the plain scan, ``get_exact``/``put_exact``
    the ``ast`` one; ``save`` at the end of the run.

    ``known_key`` saves reading a file again: it answers a path's content hash from the
    size and modification time recorded when the file was last read, as git's index
    does. Like git, it only records a file last changed well before it was read
    (``SETTLED_NS``), so a change within the timestamp's granularity is never missed.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = _scanner_key()
        self._old_scans, self._old_files = _load(directory / FILE_NAME, self.key)
        self._scans: dict[str, list] = {}  # used in this run
        self._files: dict[str, list] = {}  # path -> [size, mtime_ns, content key], seen in this run
        self._changed = False

    def get(self, key: str):
        return self._decode(key, 0)

    def get_exact(self, key: str):
        return self._decode(key, 1)

    def put(self, key: str, scan) -> None:
        self._entry(key)[0] = _encode(scan)
        self._changed = True

    def put_exact(self, key: str, scan) -> None:
        self._entry(key)[1] = _encode(scan)
        self._changed = True

    def known_key(self, path: Path) -> str | None:
        """The content hash of an unchanged file read by an earlier run, without reading it."""
        name = str(path)
        entry = self._files.get(name) or self._old_files.get(name)
        if not isinstance(entry, list) or len(entry) != 3:
            return None
        try:
            status = os.stat(path)
        except OSError:
            return None
        if [status.st_size, status.st_mtime_ns] != entry[:2]:
            return None
        self._files[name] = entry
        return entry[2]

    def remember(self, path: Path, key: str, read_at_ns: int) -> None:
        """Record the file's content hash; ``read_at_ns``: when its reading started."""
        try:
            status = os.stat(path)
        except OSError:
            return
        if status.st_mtime_ns < read_at_ns - SETTLED_NS:
            self._files[str(path)] = [status.st_size, status.st_mtime_ns, key]
            self._changed = True

    def save(self) -> None:
        """Write what this run used (then older entries, up to the bound); never raises."""
        if not self._changed:
            return
        data = {
            "key": self.key,
            "scans": _bounded(self._scans, self._old_scans),
            "files": _bounded(self._files, self._old_files),
        }
        temporary = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "*\n")):
                if not (self.directory / name).exists():
                    (self.directory / name).write_text(text, encoding="utf-8")
            handle, temporary = tempfile.mkstemp(prefix=FILE_NAME, suffix=".tmp", dir=self.directory)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(json.dumps(data, separators=(",", ":")))
            os.replace(temporary, self.directory / FILE_NAME)
        except (OSError, ValueError):
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)

    def _entry(self, key: str) -> list:
        if key not in self._scans:
            old = self._old_scans.get(key)
            self._scans[key] = list(old) if isinstance(old, list) and len(old) == 2 else [None, None]
        return self._scans[key]

    def _decode(self, key: str, slot: int):
        entry = self._scans.get(key) or self._old_scans.get(key)
        if not isinstance(entry, list) or len(entry) != 2 or entry[slot] is None:
            return None
        try:
            scan = _decode(entry[slot])
        except (TypeError, ValueError):
            return None  # written by other code: scan again
        self._scans.setdefault(key, entry)
        return scan


def _bounded(used: dict, old: dict) -> dict:
    kept = dict(used)
    for key, entry in old.items():
        if len(kept) >= MAX_ENTRIES:
            break
        kept.setdefault(key, entry)
    return kept


def _load(path: Path, key: str) -> tuple[dict[str, list], dict[str, list]]:
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return {}, {}
    if not isinstance(data, dict) or data.get("key") != key:
        return {}, {}
    scans, files = data.get("scans"), data.get("files")
    return (scans if isinstance(scans, dict) else {}), (files if isinstance(files, dict) else {})


def _scanner_key() -> str:
    """The version, and a digest of what a scan depends on (the scanners, the setting
    strings table), so an edited checkout never reuses scans of older code."""
    from dockerlint import knowledge
    from dockerlint.model import code
    from dockerlint.parse import python

    digest = hashlib.blake2b(digest_size=8)
    for path in (code.__file__, python.__file__, Path(knowledge.__file__).with_name("distributions.toml")):
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            pass
    return f"{__version__}+{digest.hexdigest()}"


def _encode(scan) -> list:
    imports = None
    if scan.imports is not None:
        imports = [
            [i.module, i.level, list(i.names), i.line, i.column, i.optional, i.type_checking, i.dynamic]
            for i in scan.imports
        ]
    m = scan.mentions
    mentions = [sorted(m.names), sorted(m.drivers), sorted(m.schemes), sorted(m.settings), sorted(m.calls)]
    return [imports, mentions, scan.exact]


def _decode(data: list):
    from dockerlint.model.code import Mentions, Scan
    from dockerlint.parse.python import Import

    imports, mentions, exact = data
    if imports is not None:
        imports = tuple([Import(m, lv, tuple(n), ln, c, o, t, d) for m, lv, n, ln, c, o, t, d in imports])
    names, drivers, schemes, settings, calls = map(frozenset, mentions)
    return Scan(imports, Mentions(names, drivers, schemes, settings, calls), exact)
