"""The Python code in an image, what it imports, and what else names a package.

The code is the ``.py`` files that COPY/ADD bring into the final stage (and the stages
it is built FROM) from the build context after the ignore file, the files a
``COPY --from`` carries there from another stage, and the source of local projects the
image pip-installs. Each file is read through the workspace and scanned once per run;
several images sharing a file share the scan, and scans are kept between runs by content
hash when the engine opens a cache (``use_scan_cache``, see ``scan_cache.py``).

Besides imports, a scan keeps the *mentions* that make a distribution used without an
import: the first name of every string literal (``"uvicorn.workers.UvicornWorker"``,
``INSTALLED_APPS = ["rest_framework"]``, ``["python", "-m", "celery"]``), connection
URLs (``postgresql+psycopg2://``), framework setting strings and a few calls. Shell
scripts and config files in the image contribute every word they hold.
"""

from __future__ import annotations

import posixpath
import re
import time
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dockerlint.checks.common import final_chain
from dockerlint.model.distributions import setting_strings
from dockerlint.model.image import Image, StageModel
from dockerlint.model.scan_cache import ScanCache, content_key
from dockerlint.parse.python import Import, scan_imports
from dockerlint.source import decode

# Files whose words count as mentions (scripts the image runs, service configs).
TEXT_SUFFIXES = (".sh", ".bash", ".ini", ".cfg", ".conf", ".toml", ".yaml", ".yml", ".env")
TEXT_NAMES = ("Procfile", "entrypoint", "docker-entrypoint", "start", "run")
MAX_MENTION_BYTES = 2_000_000  # a bigger config file is data, not configuration

# The first name inside a string literal (a closing quote followed by a name is rare and
# only makes a package look used).
_STRING_START = re.compile(r"""["']([A-Za-z_]\w*)""")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_URL = re.compile(r"\b([a-z][a-z0-9]*)(?:\+([a-z_][a-z0-9_]*))?(?:\+[a-z]+)?://")
GUI_CALLS = ("imshow", "namedWindow", "waitKey", "createTrackbar", "selectROI", "setMouseCallback")
_CALL = re.compile(rf"\b({'|'.join(GUI_CALLS)})\s*\(")


@dataclass(frozen=True)
class Mentions:
    names: frozenset[str] = frozenset()  # module or command names named outside imports
    drivers: frozenset[str] = frozenset()  # the `driver` of `scheme+driver://`
    schemes: frozenset[str] = frozenset()  # URL schemes
    settings: frozenset[str] = frozenset()  # keys of the setting_strings table found
    calls: frozenset[str] = frozenset()  # GUI calls (DEP004)


@dataclass(frozen=True)
class Scan:
    """What one Python file tells: imports (None when it could not be parsed) and mentions."""

    imports: tuple[Import, ...] | None
    mentions: Mentions
    exact: bool = True  # False: read by the line scan (see scan_python)


_TEST_FOLDERS = frozenset({"tests", "test", "testing", "docs"})


@dataclass(frozen=True)
class CodeFile:
    image_path: str
    path: Path  # the build-context file it came from

    @cached_property  # asked for every file by every rule
    def is_test(self) -> bool:
        """Tests, fixtures and build scripts, which the service never runs."""
        *folders, name = self.image_path.split("/")
        return (
            not _TEST_FOLDERS.isdisjoint(folders)
            or name.startswith("test_")
            or name.endswith("_test.py")
            or name in ("conftest.py", "setup.py", "noxfile.py", "fabfile.py")
        )


@dataclass
class ImageCode:
    python: list[tuple[CodeFile, Scan]] = field(default_factory=list)
    mentions: Mentions = field(default_factory=Mentions)
    first_party: set[str] = field(default_factory=set)
    notebooks: list[CodeFile] = field(default_factory=list)


def mentions_in_text(text: str) -> Mentions:
    """Every word of a script or config file, and its URLs and setting strings."""
    names = set()
    for word in _WORD.findall(text):
        names.add(word)
    for word in re.findall(r"[A-Za-z_][\w.-]*", text):
        names.add(word.split(".", 1)[0])
    return _with_urls(text, Mentions(names=frozenset(names)))


def _mentions_in_python(text: str) -> Mentions:
    names = frozenset(_STRING_START.findall(text))
    # The regex costs a third of a scan; a substring test rules most files out first.
    calls = frozenset(_CALL.findall(text)) if any(name in text for name in GUI_CALLS) else frozenset()
    return _with_urls(text, Mentions(names=names, calls=calls))


def _with_urls(text: str, mentions: Mentions) -> Mentions:
    drivers, schemes = set(), set()
    if "://" in text:
        for scheme, driver in _URL.findall(text):
            schemes.add(scheme)
            if driver:
                drivers.add(driver)
    settings = frozenset(key for key in setting_strings() if key in text)
    return Mentions(mentions.names, frozenset(drivers), frozenset(schemes), settings, mentions.calls)


def scan_python(text: str, exact: bool = False) -> Scan:
    """Imports and mentions of a Python file.

    ``ast`` costs ~1 ms a file, most of a large run. A file that never says
    ``TYPE_CHECKING`` or ``ImportError`` nor names a dynamic import function is read by
    a line scan instead, whose imports all count as plain run-time imports; it may also
    pick up an import written inside a string, which only ever makes a package look
    used. A caller that needs the exact answer (DEP002, an error) asks again with
    ``exact=True``.
    """
    if not exact and not any(word in text for word in _NEEDS_AST):
        return Scan(_line_scan(text), _mentions_in_python(text), exact=False)
    scanned = scan_imports(text)
    if scanned.parsed_by == "none":
        return Scan(None, mentions_in_text(text))
    return Scan(scanned.imports, _mentions_in_python(text))


# Words that make the line scan's answer wrong: imports under TYPE_CHECKING or in a
# ``try: ... except ImportError`` (which DEP002 would otherwise scan again), dynamic imports.
_NEEDS_AST = ("TYPE_CHECKING", "ImportError", "ModuleNotFoundError", "import_module", "__import__", "find_spec")
_IMPORT_LINE = re.compile(
    r"^([ \t]*(?:(?:try|else|finally)[ \t]*:[ \t]*)?)"  # indentation, or `try:` on the same line
    r"(import[ \t]+|from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+)(.*)$",
    re.MULTILINE,
)


def _line_scan(text: str) -> tuple[Import, ...]:
    found = []
    line, counted = 1, 0  # newlines are counted from the previous match on
    for match in _IMPORT_LINE.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        column = len(match.group(1)) + 1
        rest = match.group(5)
        if "(" in rest and ")" not in rest:
            end = text.find(")", match.end())
            rest = text[match.start(5) : end if end != -1 else match.end()]
        rest = rest.split("#", 1)[0].split(";", 1)[0].replace("\\", " ").strip("() \t\n")
        names = [part.split(" as ", 1)[0].strip(" ()\t\n") for part in rest.split(",")]
        names = [name for name in names if name]
        if match.group(2).startswith("import"):
            found += [Import(name, 0, (), line, column, False, False, False) for name in names]
        else:
            level = len(match.group(3) or "")
            found.append(Import(match.group(4), level, tuple(names), line, column, False, False, False))
    return tuple(found)


# -- which files are in the image -------------------------------------------------------

_SCANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # workspace -> {path: Scan | None}
_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # workspace -> ScanCache (between runs)


def image_code(image: Image, local_projects: list[Path] = ()) -> ImageCode:
    code = ImageCode()
    chain = final_chain(image)
    files: dict[str, Path] = {}
    for stage in reversed(chain):  # later stages overwrite earlier paths
        files.update(_stage_files(image, stage, 0))
    for folder in local_projects:
        for path in _project_files(image, folder):
            files.setdefault(f"/site-packages/{path.relative_to(folder).as_posix()}", path)
    scans = _SCANS.setdefault(image.workspace, {})
    _scan_files(image, [path for image_path, path in files.items() if image_path.endswith(".py")], scans)
    found: list[Mentions] = []
    folders: set[str] = set()  # of Python files, for first-party names
    for image_path in sorted(files):
        path = files[image_path]
        file = CodeFile(image_path, path)
        name = posixpath.basename(image_path)
        if name.endswith(".py"):
            scan = scans[path]
            if scan is None:
                continue
            code.python.append((file, scan))
            found.append(scan.mentions)
            folder, _, module = image_path.rpartition("/")
            code.first_party.add(module[:-3])
            folders.add(folder)
        elif name.endswith(".ipynb"):
            code.notebooks.append(file)
        elif _is_text(name):
            text = read_source(image, path)
            if text is not None and len(text) <= MAX_MENTION_BYTES:
                found.append(mentions_in_text(text))
    code.mentions = merge_all(found)
    for folder in folders:
        _add_first_party(code.first_party, folder)
    return code


def exact_scan(image: Image, file: CodeFile, scan: Scan) -> Scan:
    """The ``ast`` scan of a file the line scan read (for answers that must be exact)."""
    if scan.exact:
        return scan
    cache = _CACHES.get(image.workspace)
    key = None
    if cache is not None:
        key = cache.known_key(file.path)
        if key is None:
            data = _source_bytes(image, file.path)
            key = content_key(data) if data is not None else None
    exact = cache.get_exact(key) if key is not None else None
    if exact is None:
        text = read_source(image, file.path)
        exact = scan_python(text, exact=True) if text is not None else Scan(None, scan.mentions)
        if key is not None:
            cache.put_exact(key, exact)
    _SCANS.setdefault(image.workspace, {})[file.path] = exact
    return exact


def _scan_files(image: Image, paths: list[Path], scans: dict[Path, Scan | None]) -> None:
    """Scan the files not scanned yet in this run: from the cache when it holds their
    content (known by timestamp, else by reading), else freshly."""
    cache = _CACHES.get(image.workspace)
    for path in paths:
        if path in scans:
            continue
        key = cache.known_key(path) if cache is not None else None
        scan = cache.get(key) if key is not None else None
        if scan is not None:
            scans[path] = scan
            continue
        read_at = time.time_ns()
        data = _source_bytes(image, path)
        if data is None:
            scans[path] = None
            continue
        if cache is None:
            scans[path] = scan_python(decode(data)[0])
            continue
        key = content_key(data)
        scan = cache.get(key)
        if scan is None:
            scan = scan_python(decode(data)[0])
            cache.put(key, scan)
        cache.remember(path, key, read_at)
        scans[path] = scan


def use_scan_cache(workspace, directory: Path | None) -> ScanCache | None:
    """Let this run's scans come from, and go to, the cache in ``directory`` (None: no
    cache). The caller saves it when the run is over."""
    if directory is None:
        return None
    cache = _CACHES[workspace] = ScanCache(directory)
    return cache


def read_source(image: Image, path: Path) -> str | None:
    """The file's text, through the workspace. Bytes, not ``Workspace.text``: a large
    repository's code is read once and not kept twice (text plus its line index)."""
    data = _source_bytes(image, path)
    return decode(data)[0] if data is not None else None


def _source_bytes(image: Image, path: Path) -> bytes | None:
    data = image.workspace.read_bytes(path, quiet=True)
    if data is None or b"\0" in data[:8192]:
        return None
    return data


def merge_all(items: list[Mentions]) -> Mentions:
    names, drivers, schemes, settings, calls = set(), set(), set(), set(), set()
    for item in items:
        names |= item.names
        drivers |= item.drivers
        schemes |= item.schemes
        settings |= item.settings
        calls |= item.calls
    return Mentions(frozenset(names), frozenset(drivers), frozenset(schemes), frozenset(settings), frozenset(calls))


def _is_text(name: str) -> bool:
    return name.endswith(TEXT_SUFFIXES) or name in TEXT_NAMES or name.startswith(".env")


def _wanted(name: str) -> bool:
    return name.endswith((".py", ".ipynb")) or _is_text(name)


def _add_first_party(names: set[str], folder: str) -> None:
    """Every folder name on a Python file's path (and the file's module name) may be a
    top-level import name, depending on WORKDIR and PYTHONPATH: all count as first-party."""
    for part in folder.split("/"):
        if part not in ("", "."):
            names.add(part[:-3] if part.endswith(".py") else part)


def _stage_files(image: Image, stage: StageModel, depth: int) -> dict[str, Path]:
    """In-image path -> context file, for the wanted files COPY/ADD put into ``stage``."""
    files: dict[str, Path] = {}
    if depth > len(image.stages):
        return files
    if stage.parent is not None:
        files.update(_stage_files(image, image.stages[stage.parent], depth + 1))
    for copy in stage.copies:
        if copy.mount_only or copy.heredoc or copy.from_image:
            continue
        for source in copy.sources:
            if copy.from_stage is not None:
                origin = _stage_files(image, image.stages[copy.from_stage], depth + 1)
                files.update(_carried_files(origin, source.value, copy.dest, copy.dest_is_dir))
            else:
                files.update(_context_files(image, source.value, copy.dest, copy.dest_is_dir))
    return files


def _context_files(image: Image, source: str, dest: str, dest_is_dir: bool) -> dict[str, Path]:
    """Docker's COPY: a matched file lands in dest (or dest/<name>); a matched directory's
    contents land under dest."""
    clean = posixpath.normpath(source.lstrip("/")) if source.strip("/.") else "."
    depth = 0 if clean == "." else clean.count("/") + 1
    found = {}
    for file in image.context.glob(source):
        if not _wanted(posixpath.basename(file.path)):
            continue
        parts = file.path.split("/")
        if len(parts) == depth:  # the source matched the file itself
            target = posixpath.join(dest, parts[-1]) if dest_is_dir else dest
        else:
            target = posixpath.join(dest, *parts[depth:])
        found[posixpath.normpath(target)] = image.context_root / file.path
    return found


def _carried_files(origin: dict[str, Path], source: str, dest: str, dest_is_dir: bool) -> dict[str, Path]:
    source = posixpath.normpath("/" + source.lstrip("/"))
    found = {}
    for path, context_file in origin.items():
        if path == source:
            found[posixpath.join(dest, posixpath.basename(path)) if dest_is_dir else dest] = context_file
        elif source == "/" or path.startswith(source + "/"):
            found[posixpath.normpath(posixpath.join(dest, path[len(source) :].lstrip("/")))] = context_file
    return found


def _project_files(image: Image, folder: Path) -> list[Path]:
    """The source files of a local project the image installs (its build puts them into
    site-packages even when no COPY brings them into the final stage)."""
    try:
        relative = folder.relative_to(image.context_root).as_posix()
    except ValueError:
        return []
    prefix = "" if relative == "." else relative + "/"
    return [
        image.context_root / file.path
        for file in image.context.files
        if file.path.startswith(prefix) and file.path.endswith(".py")
    ]
