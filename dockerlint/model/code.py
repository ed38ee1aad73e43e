"""The Python code in an image, what it imports, and what else names a package.

The code is the ``.py`` files that COPY/ADD bring into the final stage (and the stages
it is built FROM) from the build context after the ignore file, the files a
``COPY --from`` carries there from another stage, and the source of local projects the
image pip-installs. Each file is read through the workspace and scanned once per run;
several images sharing a file share the scan.

Besides imports, a scan keeps the *mentions* that make a distribution used without an
import: the first name of every string literal (``"uvicorn.workers.UvicornWorker"``,
``INSTALLED_APPS = ["rest_framework"]``, ``["python", "-m", "celery"]``), connection
URLs (``postgresql+psycopg2://``), framework setting strings and a few calls. Shell
scripts and config files in the image contribute every word they hold.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dockerlint.checks.common import final_chain
from dockerlint.model.distributions import setting_strings
from dockerlint.model.image import Image, StageModel
from dockerlint.parse.python import Import, scan_imports

# Files whose words count as mentions (scripts the image runs, service configs).
TEXT_SUFFIXES = (".sh", ".bash", ".ini", ".cfg", ".conf", ".toml", ".yaml", ".yml", ".env")
TEXT_NAMES = ("Procfile", "entrypoint", "docker-entrypoint", "start", "run")
MAX_MENTION_BYTES = 2_000_000  # a bigger config file is data, not configuration

_STRING_START = re.compile(r"""(?:^|[^\w'"])(?:[rbuRBU]{0,2})["']{1,3}\s*([A-Za-z_]\w*)""")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_URL = re.compile(r"\b([a-z][a-z0-9]*)(?:\+([a-z_][a-z0-9_]*))?(?:\+[a-z]+)?://")
_CALL = re.compile(r"\b(imshow|namedWindow|waitKey|createTrackbar|selectROI|setMouseCallback)\s*\(")


@dataclass(frozen=True)
class Mentions:
    names: frozenset[str] = frozenset()  # module or command names named outside imports
    drivers: frozenset[str] = frozenset()  # the `driver` of `scheme+driver://`
    schemes: frozenset[str] = frozenset()  # URL schemes
    settings: frozenset[str] = frozenset()  # keys of the setting_strings table found
    calls: frozenset[str] = frozenset()  # GUI calls (DEP004)

    def merge(self, other: Mentions) -> Mentions:
        return Mentions(
            self.names | other.names,
            self.drivers | other.drivers,
            self.schemes | other.schemes,
            self.settings | other.settings,
            self.calls | other.calls,
        )


@dataclass(frozen=True)
class Scan:
    """What one Python file tells: imports (None when it could not be parsed) and mentions."""

    imports: tuple[Import, ...] | None
    mentions: Mentions


@dataclass(frozen=True)
class CodeFile:
    image_path: str
    path: Path  # the build-context file it came from

    @property
    def is_test(self) -> bool:
        """Tests, fixtures and build scripts, which the service never runs."""
        parts = PurePosixPath(self.image_path).parts
        name = parts[-1]
        return (
            any(part in ("tests", "test", "testing", "docs") for part in parts[:-1])
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

    @property
    def unparsed(self) -> list[CodeFile]:
        return [file for file, scan in self.python if scan.imports is None]


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
    calls = frozenset(_CALL.findall(text)) if "(" in text else frozenset()
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


def scan_python(text: str) -> Scan:
    scanned = scan_imports(text)
    if scanned.parsed_by == "none":
        return Scan(None, mentions_in_text(text))
    return Scan(scanned.imports, _mentions_in_python(text))


# -- which files are in the image -------------------------------------------------------

_SCANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # workspace -> {path: Scan | None}


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
    mentions = Mentions()
    for image_path in sorted(files):
        path = files[image_path]
        file = CodeFile(image_path, path)
        name = posixpath.basename(image_path)
        if name.endswith(".py"):
            if path not in scans:
                loaded = image.workspace.text(path, quiet=True)
                scans[path] = scan_python(loaded[0].text) if loaded is not None else None
            scan = scans[path]
            if scan is None:
                continue
            code.python.append((file, scan))
            mentions = mentions.merge(scan.mentions)
            _add_first_party(code.first_party, image_path)
        elif name.endswith(".ipynb"):
            code.notebooks.append(file)
        elif _is_text(name):
            loaded = image.workspace.text(path, quiet=True)
            if loaded is not None and len(loaded[0].text) <= MAX_MENTION_BYTES:
                mentions = mentions.merge(mentions_in_text(loaded[0].text))
    code.mentions = mentions
    return code


def _is_text(name: str) -> bool:
    return name.endswith(TEXT_SUFFIXES) or name in TEXT_NAMES or name.startswith(".env")


def _wanted(name: str) -> bool:
    return name.endswith((".py", ".ipynb")) or _is_text(name)


def _add_first_party(names: set[str], image_path: str) -> None:
    """Every folder and module name on the file's path may be a top-level import name,
    depending on WORKDIR and PYTHONPATH: all of them count as first-party."""
    for part in PurePosixPath(image_path).parts[1:]:
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
